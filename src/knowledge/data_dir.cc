#include "anepilot/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

namespace anepilot {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMarkerFile = "devices.json";

// Directory of the running executable, or empty when the OS will not say.
fs::path ExecutableDir() {
  std::error_code ec;
#if defined(__APPLE__)
  char buf[4096];
  uint32_t size = sizeof(buf);
  if (_NSGetExecutablePath(buf, &size) != 0) return {};
  fs::path exe = fs::weakly_canonical(buf, ec);
#else
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
#endif
  if (ec || exe.empty()) return {};
  return exe.parent_path();
}

bool HasMarker(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kMarkerFile, ec);
}

}  // namespace

Result<std::string> FindDataDir() {
  if (const char* env = std::getenv("ANEPILOT_DATA_DIR"); env != nullptr && *env != '\0') {
    if (HasMarker(env)) return std::string(env);
    return NotFound(fmt::format(
        "ANEPILOT_DATA_DIR={}: no {} there; point it at anepilot's data/ folder or unset it",
        env, kMarkerFile));
  }
  std::vector<fs::path> tried;
  if (fs::path exe_dir = ExecutableDir(); !exe_dir.empty()) {
    for (const char* rel : {"data", "../data", "../share/anepilot/data", "../../data"}) {
      fs::path candidate = (exe_dir / rel).lexically_normal();
      if (HasMarker(candidate)) return candidate.string();
      tried.push_back(candidate);
    }
  }
#ifdef ANEPILOT_DATA_DIR
  if (HasMarker(ANEPILOT_DATA_DIR)) return std::string(ANEPILOT_DATA_DIR);
  tried.emplace_back(ANEPILOT_DATA_DIR);
#endif
  std::string list;
  for (const fs::path& p : tried) list += (list.empty() ? "" : ", ") + p.string();
  return NotFound(fmt::format("anepilot data files ({}) not found; tried {}; set ANEPILOT_DATA_DIR",
                              kMarkerFile, list.empty() ? "nothing" : list));
}

}  // namespace anepilot
