#include "cli/inspect_json.h"

#include "ir/op_walk.h"

#include <string>
#include <vector>

namespace anepilot::cli {

namespace {

using Json = nlohmann::ordered_json;

std::string FeatureKindName(ir::FeatureType::Kind k) {
  switch (k) {
    case ir::FeatureType::Kind::kInt64: return "int64";
    case ir::FeatureType::Kind::kDouble: return "double";
    case ir::FeatureType::Kind::kString: return "string";
    case ir::FeatureType::Kind::kImage: return "image";
    case ir::FeatureType::Kind::kMultiArray: return "multiarray";
    case ir::FeatureType::Kind::kDictionary: return "dictionary";
    case ir::FeatureType::Kind::kSequence: return "sequence";
    case ir::FeatureType::Kind::kState: return "state";
    case ir::FeatureType::Kind::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string ValueKindName(ir::ValueType::Kind k) {
  switch (k) {
    case ir::ValueType::Kind::kTensor: return "tensor";
    case ir::ValueType::Kind::kList: return "list";
    case ir::ValueType::Kind::kDictionary: return "dictionary";
    case ir::ValueType::Kind::kTuple: return "tuple";
    case ir::ValueType::Kind::kState: return "state";
    case ir::ValueType::Kind::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string WeightsStateName(ir::WeightsInfo::State s) {
  switch (s) {
    case ir::WeightsInfo::State::kNone: return "none";
    case ir::WeightsInfo::State::kPresent: return "present";
    case ir::WeightsInfo::State::kMissing: return "missing";
    case ir::WeightsInfo::State::kPartial: return "partial";
  }
  return "none";
}

Json FlexibilityToJson(const ir::Flexibility& f) {
  Json j;
  switch (f.kind) {
    case ir::Flexibility::Kind::kNone: j["kind"] = "none"; break;
    case ir::Flexibility::Kind::kRange: j["kind"] = "range"; break;
    case ir::Flexibility::Kind::kEnumerated: j["kind"] = "enumerated"; break;
  }
  if (f.kind == ir::Flexibility::Kind::kRange) {
    Json ranges = Json::array();
    for (const auto& r : f.ranges) {
      ranges.push_back({{"lower", r.lower}, {"upper", r.upper < 0 ? Json(nullptr) : Json(r.upper)}});
    }
    j["ranges"] = std::move(ranges);
  }
  if (f.kind == ir::Flexibility::Kind::kEnumerated) j["shapes"] = f.enumerated;
  return j;
}

Json FeatureToJson(const ir::Feature& f) {
  const ir::FeatureType& t = f.type;
  Json j;
  j["name"] = f.name;
  j["description"] = f.description;
  j["type"] = FeatureKindName(t.kind);
  bool has_array = t.kind == ir::FeatureType::Kind::kMultiArray ||
                   t.kind == ir::FeatureType::Kind::kState ||
                   t.kind == ir::FeatureType::Kind::kImage;
  j["dtype"] = has_array && t.kind != ir::FeatureType::Kind::kImage
                   ? Json(std::string(ir::DTypeName(t.array.dtype)))
                   : Json(nullptr);
  j["shape"] = has_array ? ShapeToJson(t.array) : Json(nullptr);
  j["color_space"] = t.kind == ir::FeatureType::Kind::kImage ? Json(t.color_space) : Json(nullptr);
  if (t.kind == ir::FeatureType::Kind::kDictionary || t.kind == ir::FeatureType::Kind::kSequence) {
    j["element_type"] = FeatureKindName(t.key_or_element);
  } else {
    j["element_type"] = nullptr;
  }
  j["optional"] = t.optional;
  j["flexibility"] = FlexibilityToJson(t.flexibility);
  j["display"] = t.ToString();
  return j;
}

Json FeaturesToJson(const std::vector<ir::Feature>& features) {
  Json a = Json::array();
  for (const auto& f : features) a.push_back(FeatureToJson(f));
  return a;
}

Json OutputToJson(const ir::Value& v) {
  Json j;
  j["name"] = v.name;
  j["kind"] = ValueKindName(v.type.kind);
  bool tensorish = v.type.kind == ir::ValueType::Kind::kTensor ||
                   v.type.kind == ir::ValueType::Kind::kState ||
                   v.type.kind == ir::ValueType::Kind::kList;
  j["dtype"] = tensorish ? Json(std::string(ir::DTypeName(v.type.tensor.dtype))) : Json(nullptr);
  j["shape"] = tensorish ? ShapeToJson(v.type.tensor) : Json(nullptr);
  return j;
}

Json OpsToJson(const ir::Model& model) {
  Json ops = Json::array();
  for (const auto& fn : model.program.functions) {
    ir::ForEachOpInProgramOrder(fn, [&](const ir::Op& op) {
      Json outputs = Json::array();
      for (const auto& out : op.outputs) outputs.push_back(OutputToJson(out));
      ops.push_back({{"function", fn.name}, {"type", op.type}, {"name", op.name},
                     {"outputs", std::move(outputs)}});
    });
  }
  return ops;
}

Json ModelToJson(const analysis::ModelSummary& s, const ir::Model* model, bool with_ops) {
  Json j;
  j["path"] = s.path;
  j["container"] = s.container;
  j["model_file"] = s.model_file;
  j["kind"] = s.kind;
  j["spec_version"] = s.spec_version == 0 ? Json(nullptr) : Json(s.spec_version);
  j["deployment_target"] = {
      {"ios", s.deployment.ios.empty() ? Json(nullptr) : Json(s.deployment.ios)},
      {"macos", s.deployment.macos.empty() ? Json(nullptr) : Json(s.deployment.macos)},
      {"basis", s.deployment.basis.empty() ? Json(nullptr) : Json(s.deployment.basis)}};
  j["updatable"] = s.is_updatable;
  j["inputs"] = FeaturesToJson(s.inputs);
  j["outputs"] = FeaturesToJson(s.outputs);
  j["states"] = FeaturesToJson(s.states);

  Json functions = Json::array();
  for (const auto& f : s.functions) {
    functions.push_back({{"name", f.name}, {"opset", f.opset}, {"op_count", f.op_count}});
  }
  j["functions"] = std::move(functions);
  j["op_count"] = s.op_count;
  Json histogram = Json::array();
  for (const auto& h : s.op_histogram) histogram.push_back({{"type", h.type}, {"count", h.count}});
  j["op_histogram"] = std::move(histogram);
  j["precision"] = {{"verdict", s.precision.verdict}, {"fp16_ops", s.precision.fp16},
                    {"fp32_ops", s.precision.fp32}, {"integer_ops", s.precision.integer},
                    {"unknown_ops", s.precision.unknown}};
  Json compression = Json::array();
  for (const auto& c : s.compression) {
    compression.push_back({{"type", c.type}, {"method", c.method}, {"count", c.count}});
  }
  j["compression"] = std::move(compression);

  const ir::WeightsInfo& w = s.weights;
  j["weights"] = {{"state", WeightsStateName(w.state)},
                  {"path", w.path.empty() ? Json(nullptr) : Json(w.path)},
                  {"file_bytes", w.file_bytes},
                  {"referenced_bytes", w.referenced_bytes},
                  {"inline_bytes", w.inline_bytes},
                  {"blob_count", w.blob_count},
                  {"note", w.note}};

  Json largest = Json::array();
  for (const auto& t : s.largest_intermediates) {
    largest.push_back({{"function", t.function}, {"op", t.op_name}, {"op_type", t.op_type},
                       {"value", t.value}, {"dtype", std::string(ir::DTypeName(t.type.dtype))},
                       {"shape", ShapeToJson(t.type)}, {"bytes", t.bytes}});
  }
  j["largest_intermediates"] = std::move(largest);

  const ir::Metadata& m = s.metadata;
  j["metadata"] = {{"short_description", m.short_description}, {"author", m.author},
                   {"license", m.license}, {"version", m.version_string},
                   {"user_defined", m.user_defined}};
  j["custom_layers"] = s.custom_layers;

  Json stages = Json::array();
  for (size_t i = 0; i < s.stages.size(); ++i) {
    const ir::Model* stage_model =
        model && i < model->stages.size() ? &model->stages[i] : nullptr;
    stages.push_back(ModelToJson(s.stages[i], stage_model, with_ops));
  }
  j["stages"] = std::move(stages);
  j["warnings"] = s.warnings;
  if (with_ops && model) j["ops"] = OpsToJson(*model);
  return j;
}

}  // namespace

Json ShapeToJson(const ir::TensorType& t) {
  if (!t.rank_known) return nullptr;
  Json a = Json::array();
  for (const auto& d : t.shape) {
    if (d.known()) a.push_back(d.size);
    else if (!d.symbol.empty()) a.push_back(d.symbol);
    else a.push_back(nullptr);
  }
  return a;
}

Json InspectToJson(const analysis::ModelSummary& summary, const ir::Model& model, bool with_ops) {
  Json j;
  j["schema"] = "anepilot.inspect";
  j["version"] = kInspectSchemaVersion;
  j["tool_version"] = ANEPILOT_VERSION;
  Json body = ModelToJson(summary, &model, with_ops);
  for (auto& [key, value] : body.items()) j[key] = std::move(value);
  return j;
}

}  // namespace anepilot::cli
