// The whole `anepilot` tool as one library call (ToolMain), so that main.cc stays a few
// lines and tests can run the tool in-process.
#pragma once

#include <ostream>

namespace anepilot::cli {

// Parses argv, runs the chosen subcommand, writes to `out` / `err` and returns
// the process exit code: 0 on success, 2 on usage errors, otherwise the
// ExitCodeFor() of the failing Status (include/anepilot/status.h). Exceptions
// thrown by dependencies (CLI11, nlohmann, protobuf, allocation) are caught
// here, once, and reported as internal errors (exit 20).
int ToolMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace anepilot::cli
