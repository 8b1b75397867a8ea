#include "cli/tool.h"

#include <exception>
#include <string>
#include <vector>

#include "anepilot/status.h"
#include "cli/command.h"

namespace anepilot::cli {

namespace {

// Every subcommand, in the order `anepilot --help` lists them. A new command
// is one line here plus its cmd_<name>.cc (the planner adds `plan` below).
const Command kCommands[] = {
    {"inspect", "Show what is inside a Core ML model: IO, functions, ops, precision, weights",
     SetupInspect},
    {"plan", "Plan compute units for every device: placement, latency, load time, risks, policy",
     SetupPlan},
};

constexpr int kUsageExit = static_cast<int>(StatusCode::kInvalidArgument);

std::string VersionString() { return std::string("anepilot ") + ANEPILOT_VERSION; }

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"anepilot: put every Core ML model on the fastest compute unit that will not crash",
               "anepilot"};
  app.set_version_flag("--version", VersionString());
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 findings, 2 usage, 3 not found, 5 not a model, 6 corrupt model,\n"
             "7 missing component, 8 corrupt weights, 9 parse error, 10 unsupported (see status.h).");

  std::vector<std::pair<CLI::App*, CommandRunner>> runners;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runners.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    int code = app.exit(e, out, err);
    return code == 0 ? 0 : kUsageExit;
  }

  CommandIo io{out, err};
  for (auto& [sub, runner] : runners) {
    if (sub->parsed()) return runner(io);
  }
  err << "anepilot: no command given; see anepilot --help\n";
  return kUsageExit;
}

}  // namespace

int ToolMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  try {
    return Run(argc, argv, out, err);
  } catch (const std::exception& e) {
    err << "anepilot: internal error: " << e.what() << "\n";
  } catch (...) {
    err << "anepilot: internal error: unknown exception\n";
  }
  return static_cast<int>(StatusCode::kInternal);
}

}  // namespace anepilot::cli
