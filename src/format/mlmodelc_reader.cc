#include "format/mlmodelc_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include "base/mapped_file.h"
#include "format/blob_references.h"
#include "format/mil_text_parser.h"
#include "format/mlmodelc_coremldata.h"
#include "format/mlmodelc_espresso.h"
#include "format/mlmodelc_metadata.h"

namespace anepilot::format {

namespace {

namespace fs = std::filesystem;

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

void AppendNote(ir::Model* model, const std::string& note) {
  if (!model->description_note.empty()) model->description_note += "; ";
  model->description_note += note;
}

ir::Feature FeatureFromValue(std::string_view name, const ir::ValueType& type) {
  ir::Feature f;
  f.name = name;
  f.type.kind = type.kind == ir::ValueType::Kind::kState ? ir::FeatureType::Kind::kState
                : type.kind == ir::ValueType::Kind::kTensor ? ir::FeatureType::Kind::kMultiArray
                                                             : ir::FeatureType::Kind::kUnknown;
  f.type.array = type.tensor;
  return f;
}

// IO of the default (first) function, for compiled models without metadata.json.
void FeaturesFromProgram(ir::Model* model) {
  if (model->program.functions.empty()) return;
  const ir::Function& fn = model->program.functions.front();
  for (const ir::Value& in : fn.inputs) {
    ir::Feature f = FeatureFromValue(in.name, in.type);
    (f.type.kind == ir::FeatureType::Kind::kState ? model->states : model->inputs).push_back(f);
  }
  // Returned values are usually produced last: scan backwards, no index needed.
  for (const InlineString& out : fn.body.outputs) {
    const ir::ValueType* type = nullptr;
    for (auto op = fn.body.ops.rbegin(); op != fn.body.ops.rend() && !type; ++op) {
      for (const ir::Value& v : op->outputs) {
        if (v.name == out) type = &v.type;
      }
    }
    for (const ir::Value& in : fn.inputs) {
      if (!type && in.name == out) type = &in.type;
    }
    model->outputs.push_back(FeatureFromValue(out, type ? *type : ir::ValueType{}));
  }
}

// Reads metadata.json when present; says so when absent.
Status ReadMetadataIfPresent(const fs::path& dir, ir::Model* model, bool* found) {
  fs::path path = dir / "metadata.json";
  *found = IsFile(path);
  if (!*found) return Status::Ok();
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  return ApplyCompiledMetadata(text, path.string(), model);
}

// The model description embedded in coremldata.bin (see
// mlmodelc_coremldata.h), when the file is there and holds one it recognises.
std::optional<CoremlDataDescription> ReadCoremlData(const fs::path& dir) {
  fs::path path = dir / "coremldata.bin";
  if (!IsFile(path)) return std::nullopt;
  Result<std::string> bytes = ReadFileToString(path.string());
  if (!bytes.ok()) return std::nullopt;
  return ReadCoremlDataDescription(*bytes);
}

// Takes the IO, predicted names and metadata of `found` into `model`.
void ApplyDescription(CoremlDataDescription found, ir::Model* model) {
  ir::Model& d = found.description;
  model->inputs = std::move(d.inputs);
  model->outputs = std::move(d.outputs);
  model->states = std::move(d.states);
  model->training_inputs = std::move(d.training_inputs);
  model->predicted_feature_name = std::move(d.predicted_feature_name);
  model->predicted_probabilities_name = std::move(d.predicted_probabilities_name);
  model->metadata = std::move(d.metadata);
}

constexpr const char* kFromCoremlData =
    "inputs, outputs and metadata from the model description embedded in coremldata.bin";

Result<ir::Model> ReadCompiledProgram(const fs::path& dir, const ReadOptions& options) {
  ir::Model model;
  model.kind = "mlProgram";
  fs::path mil = dir / "model.mil";
  model.model_file = mil.string();
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile text, MappedFile::Open(mil.string(), MappedFile::Paging::kWhole));
  ANEPILOT_ASSIGN_OR_RETURN(model.program, ParseMilText(text.view(), mil.string()));
  bool has_metadata = false;
  ANEPILOT_RETURN_IF_ERROR(ReadMetadataIfPresent(dir, &model, &has_metadata));
  if (!has_metadata) {
    if (auto found = ReadCoremlData(dir)) {
      ApplyDescription(std::move(*found), &model);
      model.warnings.push_back(std::string("no metadata.json: ") + kFromCoremlData +
                               "; spec version unknown");
    } else {
      FeaturesFromProgram(&model);
      model.warnings.push_back(
          "no metadata.json: inputs and outputs taken from model.mil's first function (no "
          "descriptions, image types or flexible-shape ranges); spec version unknown");
    }
  }
  ANEPILOT_RETURN_IF_ERROR(VerifyBlobReferences(&model, dir.string(), options));
  return model;
}

bool IsNeuralNetworkKind(const std::string& kind) {
  return kind == "neuralNetwork" || kind == "neuralNetworkClassifier" ||
         kind == "neuralNetworkRegressor";
}

Result<ir::Model> ReadCompiledNeuralNetwork(const fs::path& dir) {
  ir::Model model;
  model.kind = "neuralNetwork";
  fs::path net = dir / "model.espresso.net";
  fs::path shape = dir / "model.espresso.shape";
  model.model_file = net.string();
  ANEPILOT_ASSIGN_OR_RETURN(std::string net_text, ReadFileToString(net.string()));
  std::string shape_text;
  if (IsFile(shape)) {
    ANEPILOT_ASSIGN_OR_RETURN(shape_text, ReadFileToString(shape.string()));
  } else {
    model.warnings.push_back("no model.espresso.shape: layer output shapes unknown");
  }
  ANEPILOT_RETURN_IF_ERROR(
      ReadEspressoNet(net_text, net.string(), shape_text, shape.string(), &model));
  bool has_metadata = false;
  ANEPILOT_RETURN_IF_ERROR(ReadMetadataIfPresent(dir, &model, &has_metadata));
  std::string note = "compiled NeuralNetwork (espresso): layer types and blob shapes read from "
                     "model.espresso.net / .shape (espresso layer names, element types unknown)";
  if (has_metadata) {
    note += "; inputs and outputs from metadata.json";
  } else if (auto found = ReadCoremlData(dir)) {
    if (IsNeuralNetworkKind(found->kind)) model.kind = found->kind;
    ApplyDescription(std::move(*found), &model);
    note += std::string("; ") + kFromCoremlData;
    model.warnings.push_back(std::string("no metadata.json: ") + kFromCoremlData +
                             "; spec version unknown");
  } else {
    FeaturesFromProgram(&model);
    note += "; input/output descriptions unavailable without metadata.json (inputs and outputs "
            "shown are inferred from the layer graph)";
    model.warnings.push_back(
        "no metadata.json: spec version, feature types (image or array), descriptions and "
        "metadata unknown; inputs/outputs inferred from the espresso layer graph");
  }
  note += "; the rest of coremldata.bin (a private binary format) is not read";
  AppendNote(&model, note);
  fs::path weights = dir / "model.espresso.weights";
  if (IsFile(weights)) {
    std::error_code ec;
    model.weights.state = ir::WeightsInfo::State::kPresent;
    model.weights.path = weights.string();
    model.weights.file_bytes = fs::file_size(weights, ec);
    model.weights.note = "espresso weight file: size known, blob layout not read";
  } else {
    model.weights.state = ir::WeightsInfo::State::kMissing;
    model.weights.note = "model.espresso.weights absent: layer structure read, weights not checked";
  }
  return model;
}

// A compiled pipeline or classic model: no program to read, only the
// description coremldata.bin embeds.
ir::Model ReadCompiledDescriptionOnly(const fs::path& dir, CoremlDataDescription found) {
  ir::Model model;
  model.kind = found.kind;
  model.model_file = (dir / "coremldata.bin").string();
  model.container = ir::Container::kMlModelc;
  model.path = dir.string();
  std::string kind = found.kind.empty() ? std::string("model of an unknown type") : found.kind;
  ApplyDescription(std::move(found), &model);
  model.description_note = fmt::format(
      "compiled {} without model.mil or model.espresso.net: {}; its structure (pipeline stages, "
      "classic model parameters) stays in coremldata.bin's private binary format and is not read",
      kind, kFromCoremlData);
  model.warnings.push_back(fmt::format(
      "only the description of this compiled {} is read; inspect the source .mlmodel / "
      ".mlpackage for its structure",
      kind));
  return model;
}

std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<ir::Model> ReadCompiledModel(const std::string& dir_path, const ReadOptions& options) {
  fs::path dir(dir_path);
  bool program = IsFile(dir / "model.mil");
  if (!program && !IsFile(dir / "model.espresso.net")) {
    if (auto found = ReadCoremlData(dir)) return ReadCompiledDescriptionOnly(dir, std::move(*found));
    return Unsupported(fmt::format(
        "{}: compiled model without model.mil or model.espresso.net (it holds: {}); compiled "
        "pipelines and classic models keep their structure in coremldata.bin, a private binary "
        "format anepilot does not read; inspect the source .mlmodel / .mlpackage instead",
        dir_path, fmt::join(ListFiles(dir), ", ")));
  }
  Result<ir::Model> model =
      program ? ReadCompiledProgram(dir, options) : ReadCompiledNeuralNetwork(dir);
  if (!model.ok()) return model;
  model->container = ir::Container::kMlModelc;
  model->path = dir_path;
  return model;
}

}  // namespace anepilot::format
