// `anepilot inspect MODEL [--json] [--top N]`: what is inside a model.
#include <memory>
#include <string>

#include "analysis/model_summary.h"
#include "anepilot/model_reader.h"
#include "cli/command.h"
#include "cli/error_report.h"
#include "cli/inspect_json.h"
#include "cli/inspect_report.h"

namespace anepilot::cli {

namespace {

struct InspectArgs {
  std::string model;
  bool json = false;
  bool ops = false;
  size_t top = 10;
};

// The IR of the model inspected last, kept until the process exits. A CLI run
// inspects one model and ends: freeing a 200k-op IR node by node costs about a
// fifth of the run, while the OS reclaims it at once. Reachable from here, so
// leak checkers do not report it.
const ir::Model* g_kept_model = nullptr;

void KeepUntilExit(ir::Model model) {
  delete g_kept_model;
  g_kept_model = new ir::Model(std::move(model));
}

int RunInspect(const InspectArgs& args, CommandIo& io) {
  Result<ir::Model> model = ReadModel(args.model);
  if (!model.ok()) return ReportError(model.status(), args.json, io);

  analysis::SummaryOptions options;
  options.top_intermediates = args.top;
  analysis::ModelSummary summary = analysis::Summarize(*model, options);

  if (args.json) {
    io.out << InspectToJson(summary, *model, args.ops)
                  .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
           << "\n";
  } else {
    PrintInspectReport(summary, ReportOptions{}, io.out);
  }
  KeepUntilExit(std::move(*model));
  return 0;
}

}  // namespace

CommandRunner SetupInspect(CLI::App& sub) {
  auto args = std::make_shared<InspectArgs>();
  sub.add_option("MODEL", args->model, "A .mlmodel file, .mlpackage or .mlmodelc directory")->required();
  sub.add_flag("--json", args->json, "Print the summary as JSON (schema: docs/inspect-json.md)");
  sub.add_option("--top", args->top, "Number of largest intermediate tensors to list")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  // Every op with its output types, for the coremltools cross-check; hidden
  // (empty group) because the output is as large as the program.
  sub.add_flag("--ops", args->ops, "With --json: list every op with output dtypes and shapes")
      ->group("");
  return [args](CommandIo& io) { return RunInspect(*args, io); };
}

}  // namespace anepilot::cli
