#include "cli/inspect_report.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli/text_table.h"

namespace anepilot::cli {

namespace {

std::string WeightsLine(const ir::WeightsInfo& w) {
  std::string line;
  switch (w.state) {
    case ir::WeightsInfo::State::kNone:
      line = w.inline_bytes ? fmt::format("{} inline in the model file", HumanBytes(w.inline_bytes))
                            : "none";
      break;
    case ir::WeightsInfo::State::kPresent:
      line = fmt::format("present, {} referenced in {} blobs ({} file)", HumanBytes(w.referenced_bytes),
                         w.blob_count, HumanBytes(w.file_bytes));
      break;
    case ir::WeightsInfo::State::kMissing:
      line = fmt::format("MISSING, {} blob references{}", w.blob_count,
                         w.referenced_bytes ? fmt::format(" ({} expected)", HumanBytes(w.referenced_bytes)) : "");
      break;
    case ir::WeightsInfo::State::kPartial:
      line = fmt::format("PARTIAL, {} referenced in {} blobs", HumanBytes(w.referenced_bytes), w.blob_count);
      break;
  }
  if (w.state != ir::WeightsInfo::State::kNone && w.inline_bytes) {
    line += fmt::format(", {} inline", HumanBytes(w.inline_bytes));
  }
  if (!w.note.empty()) line += " - " + w.note;
  return line;
}

std::string MetadataLine(const ir::Metadata& m) {
  std::vector<std::string> parts;
  if (!m.author.empty()) parts.push_back("author: " + m.author);
  if (!m.license.empty()) parts.push_back("license: " + m.license);
  if (!m.version_string.empty()) parts.push_back("version: " + m.version_string);
  auto user = [&](const char* key) -> std::string {
    auto it = m.user_defined.find(key);
    return it == m.user_defined.end() ? "" : it->second;
  };
  if (auto v = user("com.github.apple.coremltools.version"); !v.empty()) parts.push_back("coremltools " + v);
  if (auto v = user("com.github.apple.coremltools.source"); !v.empty()) parts.push_back("from " + v);
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out.empty() ? "none" : out;
}

void PrintFeatures(const char* title, const std::vector<ir::Feature>& features, std::ostream& out,
                   const std::string& indent) {
  if (features.empty()) return;
  out << "\n" << indent << title << "\n";
  TextTable t({"name", "type", "description"});
  for (const auto& f : features) t.AddRow({f.name, f.type.ToString(), f.description});
  t.Print(out, indent + "  ");
}

void PrintModel(const analysis::ModelSummary& s, const ReportOptions& options, std::ostream& out,
                const std::string& indent) {
  TextTable head;
  head.AddRow({"kind", s.spec_version ? fmt::format("{} (spec {})", s.kind, s.spec_version) : s.kind});
  if (!s.model_file.empty()) head.AddRow({"file", fmt::format("{} ({})", s.model_file, s.container)});
  if (!s.deployment.ios.empty()) {
    head.AddRow({"target", fmt::format("{} / {} (from {})", s.deployment.ios, s.deployment.macos,
                                       s.deployment.basis)});
  }
  if (!s.functions.empty()) {
    head.AddRow({"ops", fmt::format("{} in {} function{}", s.op_count, s.functions.size(),
                                    s.functions.size() == 1 ? "" : "s")});
    const auto& p = s.precision;
    head.AddRow({"precision", fmt::format("{} ({} fp16, {} fp32, {} integer, {} other compute ops)",
                                          p.verdict, p.fp16, p.fp32, p.integer, p.unknown)});
  }
  head.AddRow({"weights", WeightsLine(s.weights)});
  head.AddRow({"metadata", MetadataLine(s.metadata)});
  if (s.is_updatable) head.AddRow({"updatable", "yes (on-device training)"});
  if (!s.custom_layers.empty()) {
    std::string names;
    for (const auto& c : s.custom_layers) names += (names.empty() ? "" : ", ") + c;
    head.AddRow({"custom layers", names + " (the app must provide them)"});
  }
  head.Print(out, indent + "  ");

  PrintFeatures("Inputs", s.inputs, out, indent);
  PrintFeatures("Outputs", s.outputs, out, indent);
  PrintFeatures("States", s.states, out, indent);

  if (!s.functions.empty()) {
    out << "\n" << indent << "Functions\n";
    TextTable t({"name", "opset", "ops"});
    for (const auto& f : s.functions) t.AddRow({f.name, f.opset.empty() ? "-" : f.opset, std::to_string(f.op_count)});
    t.Print(out, indent + "  ");
  }

  if (!s.op_histogram.empty()) {
    out << "\n" << indent << fmt::format("Op histogram ({} types)\n", s.op_histogram.size());
    TextTable t({"op type", "count"});
    size_t shown = std::min(options.histogram_rows, s.op_histogram.size());
    for (size_t i = 0; i < shown; ++i) {
      t.AddRow({s.op_histogram[i].type, std::to_string(s.op_histogram[i].count)});
    }
    if (shown < s.op_histogram.size()) {
      size_t rest = 0;
      for (size_t i = shown; i < s.op_histogram.size(); ++i) rest += s.op_histogram[i].count;
      t.AddRow({fmt::format("... {} more type{}", s.op_histogram.size() - shown,
                              s.op_histogram.size() - shown == 1 ? "" : "s"), std::to_string(rest)});
    }
    t.Print(out, indent + "  ");
  }

  if (!s.compression.empty()) {
    out << "\n" << indent << "Quantization / palettization\n";
    TextTable t({"op type", "method", "count"});
    for (const auto& c : s.compression) t.AddRow({c.type, c.method, std::to_string(c.count)});
    t.Print(out, indent + "  ");
  }

  if (!s.largest_intermediates.empty()) {
    out << "\n" << indent << fmt::format("Largest intermediate tensors (top {})\n", s.largest_intermediates.size());
    TextTable t({"op", "op type", "shape", "bytes"});
    bool several_functions = s.functions.size() > 1;
    for (const auto& x : s.largest_intermediates) {
      std::string op = several_functions ? x.function + "/" + x.op_name : x.op_name;
      t.AddRow({op, x.op_type, x.type.ToString(), HumanBytes(static_cast<uint64_t>(x.bytes))});
    }
    t.Print(out, indent + "  ");
  }

  if (!s.warnings.empty()) {
    out << "\n" << indent << "Warnings\n";
    for (const auto& w : s.warnings) out << indent << "  - " << w << "\n";
  }

  for (size_t i = 0; i < s.stages.size(); ++i) {
    out << "\n" << indent << fmt::format("Stage {} of {}: {}\n", i + 1, s.stages.size(), s.stages[i].kind);
    PrintModel(s.stages[i], options, out, indent + "    ");
  }
}

}  // namespace

void PrintInspectReport(const analysis::ModelSummary& summary, const ReportOptions& options,
                        std::ostream& out) {
  out << summary.path << "\n";
  PrintModel(summary, options, out, "");
}

}  // namespace anepilot::cli
