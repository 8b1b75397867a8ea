// `anepilot plan MODEL [--devices LIST|all] [--os VERSION] [--json] [--policy OUT]
//                      [--device ID [--ops]] [--fail-on SEVERITY] [--progress]`
// For each device of the lineup and each compute-unit option: placement,
// predicted latency / load / memory, risks, the recommendation; --policy writes
// the policy file the runtime reads. Exit codes: 0 ok; 1 when --fail-on finds
// a risk at or above the given severity; others per include/anepilot/status.h.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "anepilot/model_reader.h"
#include "anepilot/plan.h"
#include "anepilot/policy.h"
#include "cli/command.h"
#include "cli/error_report.h"

namespace anepilot::cli {
namespace {

struct PlanArgs {
  std::string model;
  std::string devices = "all";
  std::string os;
  bool json = false;
  std::string policy_out;
  std::string device;
  bool ops = false;
  std::string fail_on;
  bool progress = false;
  std::string devices_file, rules_file, cost_model_file;
};

std::optional<knowledge::Severity> ParseSeverity(const std::string& s) {
  for (auto v : {knowledge::Severity::kInfo, knowledge::Severity::kLow, knowledge::Severity::kMedium,
                 knowledge::Severity::kHigh, knowledge::Severity::kCritical}) {
    if (knowledge::SeverityName(v) == s) return v;
  }
  return std::nullopt;
}

int RunPlan(const PlanArgs& args, CommandIo& io) {
  std::optional<knowledge::Severity> gate;
  if (!args.fail_on.empty()) {
    gate = ParseSeverity(args.fail_on);
    if (!gate) {
      return ReportError(InvalidArgument(fmt::format(
                             "--fail-on \"{}\": expected one of info, low, medium, high, critical",
                             args.fail_on)),
                         args.json, io);
    }
  }
  auto planner = plan::Planner::Load({args.devices_file, args.rules_file, args.cost_model_file});
  if (!planner.ok()) return ReportError(planner.status(), args.json, io);

  plan::PlanOptions options;
  options.devices = args.device.empty() ? args.devices : args.device;
  options.os = args.os;
  options.detail_device = args.device;
  if (!args.device.empty()) {
    // Resolve the detail device up front so `--device 14,7` style typos fail clearly
    // and a chip name ("A15") names the device the detail is about.
    auto r = planner->catalog().Resolve(args.device);
    if (!r.ok()) return ReportError(r.status(), args.json, io);
    options.detail_device = r->device->identifier;
  }
  const bool show_progress = args.progress || ::isatty(STDERR_FILENO);
  if (show_progress) {
    options.progress = [&io](double f) {
      io.err << fmt::format("\rplanning: {:3.0f}%", f * 100) << (f >= 1 ? "\n" : "") << std::flush;
    };
  }

  auto model = ReadModel(args.model);
  if (!model.ok()) return ReportError(model.status(), args.json, io);
  auto plan = planner->Plan(*model, options);
  if (!plan.ok()) return ReportError(plan.status(), args.json, io);

  if (!args.policy_out.empty()) {
    auto hash = plan::ModelContentHash(args.model);
    if (!hash.ok()) return ReportError(hash.status(), args.json, io);
    std::string name = std::filesystem::path(args.model).filename().string();
    Policy policy = plan::BuildPolicy(*plan, *hash, name);
    Status st = WritePolicyFile(policy, args.policy_out);
    if (!st.ok()) return ReportError(st, args.json, io);
    if (!args.json) io.err << fmt::format("wrote policy {} (model sha256 {})\n", args.policy_out, *hash);
  }

  if (args.json) {
    io.out << plan::PlanToJson(*plan, args.ops);
  } else {
    io.out << plan::PlanToText(*plan, options.detail_device, args.ops);
  }
  for (const auto& d : plan->devices) {
    if (!d.resolution_warning.empty()) io.err << "warning: " << d.resolution_warning << "\n";
  }
  if (gate) {
    auto worst = plan::HighestRisk(*plan);
    if (worst && *worst >= *gate) {
      io.err << fmt::format("plan: risks at or above \"{}\" found (highest: {})\n", args.fail_on,
                            knowledge::SeverityName(*worst));
      return ExitCodeFor(Status(StatusCode::kFindings, "risks found"));
    }
  }
  return 0;
}

}  // namespace

CommandRunner SetupPlan(CLI::App& sub) {
  auto args = std::make_shared<PlanArgs>();
  sub.add_option("MODEL", args->model, "A .mlmodel file, .mlpackage or .mlmodelc directory")->required();
  sub.add_option("--devices", args->devices,
                 "Comma-separated identifiers (iPhone14,7), chips (A15), families (iPhone, iPad, Mac) or all")
      ->capture_default_str();
  sub.add_option("--os", args->os, "OS version to plan for (17, 18.2); default 18");
  sub.add_flag("--json", args->json, "Machine output (schema anepilot.plan v1, docs/plan.md)");
  sub.add_option("--policy", args->policy_out, "Write the policy file for the runtime here");
  sub.add_option("--device", args->device, "Detail for one device: risks, options, and with --ops each op");
  sub.add_flag("--ops", args->ops, "With --device: each op's unit and why (the rule id)");
  sub.add_option("--fail-on", args->fail_on,
                 "Exit 1 when a risk at or above this severity is found (info, low, medium, high, critical)");
  sub.add_flag("--progress", args->progress, "Show progress on stderr even when it is not a terminal");
  sub.add_option("--devices-file", args->devices_file, "Device catalog to use instead of data/devices.json")
      ->group("Data files");
  sub.add_option("--rules-file", args->rules_file, "Neural Engine rules instead of data/ane_rules.json")
      ->group("Data files");
  sub.add_option("--cost-model", args->cost_model_file, "Cost model instead of data/cost_model.json")
      ->group("Data files");
  return [args](CommandIo& io) { return RunPlan(*args, io); };
}

}  // namespace anepilot::cli
