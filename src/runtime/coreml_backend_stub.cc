// Core ML stand-in for platforms without Core ML (built instead of
// coreml_backend.mm by CMakeLists.txt when not APPLE).
#include "runtime/coreml_backend.h"

namespace anepilot::runtime {
namespace {

#if defined(__linux__)
constexpr const char* kPlatform = "Linux";
#elif defined(_WIN32)
constexpr const char* kPlatform = "Windows";
#else
constexpr const char* kPlatform = "this operating system";
#endif

}  // namespace

bool CoreMLAvailable() { return false; }

Result<std::unique_ptr<Backend>> MakeCoreMLBackend(const CoreMLBackendOptions&) {
  return Unavailable(std::string("Core ML is not available on this platform (") + kPlatform +
                     "): use the simulated backend");
}

}  // namespace anepilot::runtime
