/* anepilot on-device runtime: C API.
 *
 * Loads Core ML models on the fastest compute units that will not crash this
 * device, hides the Neural Engine's first-load time (serve from the unit that
 * loads fastest, swap to the faster one when it is ready and validated), never
 * lets the same configuration crash the app twice, and writes one telemetry
 * line per event. Plain C: callable from Swift (through the AnepilotRuntime
 * package's module map) and Objective-C; no C++ type crosses it.
 *
 * Conventions
 *  - Opaque handles, created by *_create / *_load / *_start and freed by the
 *    matching *_destroy / *_release (NULL is accepted and ignored).
 *  - Every fallible call returns anepilot_status (ANEPILOT_OK = 0). On error,
 *    anepilot_last_error_message() returns a message for people, naming the
 *    file or field at fault; it is per thread and valid until the next call on
 *    that thread.
 *  - Versioned structs: set struct_size = sizeof(the struct) (the *_init
 *    functions do) so that a newer library can read an older caller's struct;
 *    fields past struct_size take their defaults.
 *  - Thread-safety: a runtime may load models from several threads; a model
 *    may predict from several threads at once. Outputs and errors are owned by
 *    the caller's thread of use. Models may be released after the runtime.
 */
#ifndef ANEPILOT_RUNTIME_H_
#define ANEPILOT_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANEPILOT_RUNTIME_ABI_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define ANEPILOT_API __attribute__((visibility("default")))
#else
#define ANEPILOT_API
#endif

/* Same numbers as anepilot::StatusCode (and the CLI's exit codes). */
typedef enum anepilot_status {
  ANEPILOT_OK = 0,
  ANEPILOT_STATUS_INVALID_ARGUMENT = 2,
  ANEPILOT_STATUS_NOT_FOUND = 3,
  ANEPILOT_STATUS_IO_ERROR = 4,
  ANEPILOT_STATUS_NOT_A_MODEL = 5,
  ANEPILOT_STATUS_CORRUPT_MODEL = 6,
  ANEPILOT_STATUS_MISSING_COMPONENT = 7,
  ANEPILOT_STATUS_CORRUPT_WEIGHTS = 8,
  ANEPILOT_STATUS_PARSE_ERROR = 9,
  ANEPILOT_STATUS_UNSUPPORTED = 10,
  ANEPILOT_STATUS_INVALID_DATA = 11,
  ANEPILOT_STATUS_UNAVAILABLE = 12,
  ANEPILOT_STATUS_CANCELLED = 13,
  ANEPILOT_STATUS_TIMEOUT = 14,
  ANEPILOT_STATUS_INTERNAL = 20
} anepilot_status;

/* MLComputeUnits. */
typedef enum anepilot_compute_units {
  ANEPILOT_UNITS_CPU_ONLY = 0,
  ANEPILOT_UNITS_CPU_AND_GPU = 1,
  ANEPILOT_UNITS_CPU_AND_NEURAL_ENGINE = 2,
  ANEPILOT_UNITS_ALL = 3
} anepilot_compute_units;

typedef enum anepilot_backend_kind {
  ANEPILOT_BACKEND_COREML = 0,    /* Apple platforms; UNAVAILABLE elsewhere */
  ANEPILOT_BACKEND_SIMULATED = 1  /* a simulated device (tests, benchmarks) */
} anepilot_backend_kind;

/* How the previous launch ended, if the host knows (MetricKit exit reasons
 * on iOS). UNKNOWN counts as a crash for the crash guard (the safe side). */
typedef enum anepilot_exit_reason {
  ANEPILOT_EXIT_UNKNOWN = 0,
  ANEPILOT_EXIT_CRASH = 1,
  ANEPILOT_EXIT_USER_KILL = 2,
  ANEPILOT_EXIT_MEMORY_LIMIT = 3
} anepilot_exit_reason;

typedef struct anepilot_runtime anepilot_runtime;
typedef struct anepilot_model anepilot_model;
typedef struct anepilot_outputs anepilot_outputs;
typedef struct anepilot_prewarm anepilot_prewarm;

typedef struct anepilot_runtime_config {
  uint32_t struct_size;  /* sizeof(anepilot_runtime_config) */
  uint32_t abi_version;  /* ANEPILOT_RUNTIME_ABI_VERSION */

  /* Where we run. device_identifier ("iPhone14,7") and os_build ("22C152")
   * are required; chip ("A15") and os_version ("18.2") refine policy rules. */
  const char* device_identifier;
  const char* chip;
  const char* os_version;
  const char* os_build;
  const char* app_version; /* required: part of the crash guard's key */

  /* Required. The runtime keeps its crash-guard state, compiled-model store
   * and telemetry under it (Application Support on iOS). */
  const char* state_dir;
  const char* policy_path;     /* NULL: the safe default (cpuAndGPU, then cpuOnly) */
  const char* policy_override; /* NULL, or e.g. "units=cpuOnly" (testing) */

  anepilot_backend_kind backend;
  /* Simulated backend only: a built-in profile ("iPhone17,2", "iPhone14,7",
   * "zero-latency") or the path of a device-profile JSON file. */
  const char* simulated_profile;
  double simulated_time_scale;     /* real seconds per simulated second; default 1 */
  const char* simulated_cache_dir; /* persists its specialization cache; NULL: memory only */

  int32_t swap_enabled;      /* 0: never swap; default 1 */
  double swap_tolerance;     /* max relative output difference; default 0.01 */
  uint64_t store_byte_budget;  /* compiled-model store size; default 2 GiB */
  int32_t telemetry_enabled;   /* default 1: <state_dir>/telemetry/telemetry.jsonl */
  anepilot_exit_reason last_exit_reason;
  const char* session_id;      /* tags this launch's telemetry; may be NULL */

  /* Added after the first release (older callers' struct_size leaves them at
   * their defaults). */
  /* 0 (default): fsyncs of crash-guard markers and compiled-model installs
   * run on a background queue, off the way to the first result; the
   * background Neural Engine steps still wait for theirs (docs/runtime.md,
   * "Durability off the way to the first result"). 1: every fsync is waited
   * for where it is issued. */
  int32_t fsync_on_path;
  /* How long anepilot_model_release waits for a background load before
   * abandoning it; default 250 ms. */
  uint32_t release_wait_ms;
} anepilot_runtime_config;

/* Fills defaults, struct_size and abi_version. Call before setting fields. */
ANEPILOT_API void anepilot_runtime_config_init(anepilot_runtime_config* config);

/* Errors: INVALID_ARGUMENT (NULL config, wrong abi_version or struct_size,
 * missing required field, unknown simulated profile), UNAVAILABLE (Core ML
 * backend off Apple platforms), IO_ERROR (state_dir). A malformed policy file
 * is not an error: see anepilot_runtime_policy_problem. */
ANEPILOT_API anepilot_status anepilot_runtime_create(const anepilot_runtime_config* config,
                                                     anepilot_runtime** out_runtime);
ANEPILOT_API void anepilot_runtime_destroy(anepilot_runtime* runtime);
/* NULL when the policy loaded fine; else why the safe default is in use. The
 * string lives as long as the runtime. */
ANEPILOT_API const char* anepilot_runtime_policy_problem(const anepilot_runtime* runtime);

/* Loads a model (.mlmodel, .mlpackage or .mlmodelc). Returns once the first
 * configuration can serve; a faster one may be loading in the background.
 * Errors: NOT_FOUND, CORRUPT_MODEL, IO_ERROR, UNAVAILABLE (every
 * configuration failed), ... with the model path in the message. */
ANEPILOT_API anepilot_status anepilot_model_load(anepilot_runtime* runtime, const char* model_path,
                                                 anepilot_model** out_model);
/* Waits for the model's background load to finish (or be discarded). */
ANEPILOT_API void anepilot_model_release(anepilot_model* model);

ANEPILOT_API anepilot_compute_units anepilot_model_current_units(const anepilot_model* model);
/* SHA-256 hex of the model's content; lives as long as the model. */
ANEPILOT_API const char* anepilot_model_hash(const anepilot_model* model);
/* Number of crashes of earlier launches recovered from when this model loaded. */
ANEPILOT_API size_t anepilot_model_recovered_crashes(const anepilot_model* model);

typedef enum anepilot_swap_state {
  ANEPILOT_SWAP_PENDING = 0,
  ANEPILOT_SWAP_NOT_ATTEMPTED = 1,
  ANEPILOT_SWAP_SWAPPED = 2,
  ANEPILOT_SWAP_LOAD_FAILED = 3,
  ANEPILOT_SWAP_PREDICT_FAILED = 4,
  ANEPILOT_SWAP_NON_FINITE = 5,
  ANEPILOT_SWAP_DISAGREES = 6,
  ANEPILOT_SWAP_NOT_FASTER = 7,
  ANEPILOT_SWAP_CANCELLED = 8
} anepilot_swap_state;

typedef struct anepilot_swap_info {
  uint32_t struct_size;  /* sizeof(anepilot_swap_info) */
  anepilot_swap_state state;
  int32_t candidate_units;  /* anepilot_compute_units, or -1 when none */
  double candidate_ms;      /* fastest of the timed runs, ms (0 when not measured) */
  double current_ms;
  double max_difference;
} anepilot_swap_info;

/* The swap decision. wait != 0 blocks until it is made (the candidate is
 * validated on the first input predicted, so predict at least once first). */
ANEPILOT_API anepilot_status anepilot_model_swap_info(anepilot_model* model, int wait,
                                                      anepilot_swap_info* out_info);

/* A tensor: float32, row-major. In inputs the caller owns every pointer for
 * the duration of the call; in outputs the anepilot_outputs owns them. */
typedef struct anepilot_tensor {
  const char* name;
  const int64_t* shape;
  size_t rank;
  const float* data;
  size_t count;  /* number of floats in data */
} anepilot_tensor;

/* Runs one prediction. Thread-safe. Errors: INVALID_ARGUMENT (NULL pointers,
 * count not matching shape), INTERNAL / UNAVAILABLE from the backend. */
ANEPILOT_API anepilot_status anepilot_model_predict(anepilot_model* model, const anepilot_tensor* inputs,
                                                    size_t input_count, anepilot_outputs** out_outputs);
ANEPILOT_API size_t anepilot_outputs_count(const anepilot_outputs* outputs);
/* INVALID_ARGUMENT when index >= count. */
ANEPILOT_API anepilot_status anepilot_outputs_get(const anepilot_outputs* outputs, size_t index,
                                                  anepilot_tensor* out_tensor);
ANEPILOT_API void anepilot_outputs_release(anepilot_outputs* outputs);

/* Prewarm: specialize models ahead of use, one at a time, in the background.
 * The callback runs on the prewarm thread after each model. */
typedef void (*anepilot_prewarm_progress_fn)(void* user_data, size_t index, size_t done, size_t total,
                                             const char* model_path, anepilot_status status);
ANEPILOT_API anepilot_status anepilot_prewarm_start(anepilot_runtime* runtime, const char* const* model_paths,
                                                    size_t count, anepilot_prewarm_progress_fn progress,
                                                    void* user_data, anepilot_prewarm** out_prewarm);
/* Stops before the next model (the one in progress finishes). */
ANEPILOT_API void anepilot_prewarm_cancel(anepilot_prewarm* prewarm);
/* Blocks until done; any out pointer may be NULL. CANCELLED if cancelled. */
ANEPILOT_API anepilot_status anepilot_prewarm_wait(anepilot_prewarm* prewarm, size_t* warmed, size_t* failed,
                                                   size_t* skipped);
/* Cancels, waits, frees. The runtime must still be alive. */
ANEPILOT_API void anepilot_prewarm_release(anepilot_prewarm* prewarm);

/* The calling thread's last error message ("" when none). */
ANEPILOT_API const char* anepilot_last_error_message(void);
/* "ok", "not_found", ... */
ANEPILOT_API const char* anepilot_status_name(anepilot_status status);
/* "cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all". */
ANEPILOT_API const char* anepilot_compute_units_name(anepilot_compute_units units);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* ANEPILOT_RUNTIME_H_ */
