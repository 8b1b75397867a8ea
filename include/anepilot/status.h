// anepilot's one error convention: every fallible function returns a Status or
// a Result<T>. A Status is OK (cheap: no allocation) or carries a code and a
// message that names the file, field or op at fault and what to do about it.
//
// The code is what a program (a CI, the CLI's exit code, the C API) branches
// on; the message is for people. Exceptions are not used across module
// boundaries; the CLI catches the few a dependency may throw once, at main.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace anepilot {

// Each code maps 1:1 to a process exit code of the CLI (see ExitCodeFor), so a
// CI can tell "your model is corrupt" from "you typed a wrong path".
enum class StatusCode : int {
  kOk = 0,
  kFindings = 1,          // work completed; it found something a gate should fail on
  kInvalidArgument = 2,   // bad command-line usage, unknown device / OS string
  kNotFound = 3,          // a path that does not exist
  kIoError = 4,           // the OS refused a read / write / map
  kNotAModel = 5,         // exists, but is not a Core ML model of any known format
  kCorruptModel = 6,      // a model file that does not parse (truncated, random bytes)
  kMissingComponent = 7,  // a package / compiled model refers to a file that is absent
  kCorruptWeights = 8,    // weight blob header or offset does not match its reference
  kParseError = 9,        // a text format (model.mil, JSON) with a syntax error
  kUnsupported = 10,      // valid input that anepilot cannot handle (says exactly what)
  kInvalidData = 11,      // a data file (devices, rules, policy, telemetry) fails validation
  kUnavailable = 12,      // a facility absent on this platform (Core ML on Linux)
  kCancelled = 13,        // work stopped by request
  kTimeout = 14,          // a step did not finish in time
  kTruncatedModel = 15,   // a model file that ends inside a field (cut short: incomplete
                          // download or copy); random or damaged bytes stay kCorruptModel
  kInternal = 20,         // a bug in anepilot
};

// Stable lowercase name of a code ("corrupt_model"), used in --json output.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "corrupt_model: <message>"; "ok" when OK.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: ` (e.g. a file
  // path), keeping the code. Used when an error crosses a layer that knows
  // more about where it happened.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Process exit code for a status (0 for OK). Identical to the numeric code.
inline int ExitCodeFor(const Status& s) { return static_cast<int>(s.code()); }

// Convenience constructors: Corrupt("model.mlmodel: truncated at byte 120").
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status NotAModel(std::string m) { return {StatusCode::kNotAModel, std::move(m)}; }
inline Status CorruptModel(std::string m) { return {StatusCode::kCorruptModel, std::move(m)}; }
inline Status TruncatedModel(std::string m) { return {StatusCode::kTruncatedModel, std::move(m)}; }
inline Status MissingComponent(std::string m) { return {StatusCode::kMissingComponent, std::move(m)}; }
inline Status CorruptWeights(std::string m) { return {StatusCode::kCorruptWeights, std::move(m)}; }
inline Status ParseError(std::string m) { return {StatusCode::kParseError, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status InvalidData(std::string m) { return {StatusCode::kInvalidData, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

}  // namespace anepilot

#define ANEPILOT_RETURN_IF_ERROR(expr)              \
  do {                                              \
    ::anepilot::Status _anepilot_st = (expr);       \
    if (!_anepilot_st.ok()) return _anepilot_st;    \
  } while (0)
