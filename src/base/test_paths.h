// Where tests find their inputs. Header-only; tests are compiled with
// ANEPILOT_SOURCE_DIR / ANEPILOT_BINARY_DIR (see cmake/AnepilotModule.cmake).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace anepilot::testing {

// ../shared beside the checkout (read-only inputs: corpus, knowledge,
// calibration). ANEPILOT_SHARED_DIR overrides.
inline std::string SharedDir() {
  if (const char* env = std::getenv("ANEPILOT_SHARED_DIR")) return env;
#ifdef ANEPILOT_SOURCE_DIR
  return std::string(ANEPILOT_SOURCE_DIR) + "/../shared";
#else
  return "../shared";
#endif
}

inline std::string CorpusDir() { return SharedDir() + "/corpus"; }

inline bool SharedAvailable() { return std::filesystem::exists(CorpusDir()); }

// True under CI (CI=true): there a missing ../shared is a failure, not a skip.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// A scratch directory unique to this test process.
inline std::string ScratchDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("anepilot-test-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace anepilot::testing

// Use at the top of a test that reads ../shared.
#define ANEPILOT_REQUIRE_SHARED()                                               \
  do {                                                                          \
    if (!::anepilot::testing::SharedAvailable()) {                              \
      if (::anepilot::testing::InCi()) FAIL() << "../shared/corpus missing in CI"; \
      GTEST_SKIP() << "../shared/corpus not found beside the checkout";         \
    }                                                                           \
  } while (0)
