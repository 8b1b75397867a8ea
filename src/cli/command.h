// One subcommand of the `anepilot` tool. The tool's commands live in one table
// (tool.cc), each implemented in its own cmd_<name>.cc:
//
//   {"inspect", "what is inside a model ...", SetupInspect},
//
// `setup` declares the subcommand's options on the CLI11 sub-app and returns
// the function that runs it once the command line has parsed. The runner
// returns the process exit code (0, or ExitCodeFor(status)).
#pragma once

#include <functional>
#include <ostream>

#include <CLI/CLI.hpp>

namespace anepilot::cli {

// Where a command writes. Tests substitute string streams.
struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

using CommandRunner = std::function<int(CommandIo&)>;

struct Command {
  const char* name;
  const char* help;
  CommandRunner (*setup)(CLI::App& sub);
};

// The commands (one cmd_<name>.cc each).
CommandRunner SetupInspect(CLI::App& sub);
CommandRunner SetupPlan(CLI::App& sub);

}  // namespace anepilot::cli
