#include "format/mlmodelc_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "base/mapped_file.h"
#include "format/blob_references.h"
#include "format/mil_text_parser.h"
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

ir::Feature FeatureFromValue(const std::string& name, const ir::ValueType& type) {
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
  for (const std::string& out : fn.body.outputs) {
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

Result<ir::Model> ReadCompiledProgram(const fs::path& dir, const ReadOptions& options) {
  ir::Model model;
  model.kind = "mlProgram";
  fs::path mil = dir / "model.mil";
  model.model_file = mil.string();
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile text, MappedFile::Open(mil.string()));
  ANEPILOT_ASSIGN_OR_RETURN(model.program, ParseMilText(text.view(), mil.string()));
  bool has_metadata = false;
  ANEPILOT_RETURN_IF_ERROR(ReadMetadataIfPresent(dir, &model, &has_metadata));
  if (!has_metadata) {
    FeaturesFromProgram(&model);
    model.warnings.push_back(
        "no metadata.json: inputs and outputs taken from model.mil's first function (no "
        "descriptions, image types or flexible-shape ranges); spec version unknown");
  }
  ANEPILOT_RETURN_IF_ERROR(VerifyBlobReferences(&model, dir.string(), options));
  return model;
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
  } else {
    FeaturesFromProgram(&model);
    note += "; input/output descriptions unavailable without metadata.json (inputs and outputs "
            "shown are inferred from the layer graph)";
    model.warnings.push_back(
        "no metadata.json: spec version, feature types (image or array), descriptions and "
        "metadata unknown; inputs/outputs inferred from the espresso layer graph");
  }
  note += "; coremldata.bin is a private binary format and is not read";
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
