#include "format/mlmodel_spec.h"

#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>

#include "proto/Model.pb.h"
#include "format/mlmodel_features.h"
#include "format/mil_wire_decoder.h"
#include "format/nn_layers.h"
#include "format/wire_reader.h"

namespace anepilot::format {
namespace spec = CoreML::Specification;

namespace {

// Classifiers can list tens of thousands of labels; the IR keeps the first
// ones (enough to show and to compare) and the count goes to a warning.
constexpr int kMaxClassLabels = 1000;

template <typename Classifier>
void ClassLabelsToIr(const Classifier& c, ir::Model* out) {
  int total = 0;
  if (c.has_stringclasslabels()) {
    const auto& labels = c.stringclasslabels().vector();
    total = labels.size();
    for (int i = 0; i < total && i < kMaxClassLabels; ++i) out->class_labels.push_back(labels[i]);
  } else if (c.has_int64classlabels()) {
    const auto& labels = c.int64classlabels().vector();
    total = labels.size();
    for (int i = 0; i < total && i < kMaxClassLabels; ++i) {
      out->class_labels.push_back(std::to_string(labels[i]));
    }
  }
  if (total > kMaxClassLabels) {
    out->warnings.push_back(
        fmt::format("{} class labels; the first {} are kept", total, kMaxClassLabels));
  }
}

// Whether bytes that libprotobuf refused are a Core ML model cut short (an
// incomplete download or copy) rather than damaged or foreign bytes: the
// file starts with specificationVersion (field 1, which every encoder writes
// first) holding a plausible version, every top-level field before the cut
// is a field of Model with its declared wire type, and a field runs past the
// end of the file. Returns the offset of the field the file ends in.
// Random bytes practically never pass the first two tests.
std::optional<size_t> TruncationOffset(std::string_view bytes) {
  constexpr uint64_t kMaxPlausibleSpecVersion = 1000;
  wire::WireReader r(bytes, 0);
  wire::FieldKey k;
  bool first = true;
  while (true) {
    size_t field_start = r.offset();
    if (!r.NextField(&k)) break;
    const auto* field = spec::Model::descriptor()->FindFieldByNumber(static_cast<int>(k.number));
    if (field == nullptr) return std::nullopt;
    bool len = field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
               field->type() == google::protobuf::FieldDescriptor::TYPE_BYTES;
    if ((len ? wire::WireType::kLen : wire::WireType::kVarint) != k.type) return std::nullopt;
    if (first) {
      uint64_t version = 0;
      if (k.number != 1) return std::nullopt;
      if (!r.ReadVarint(&version)) break;
      if (version == 0 || version > kMaxPlausibleSpecVersion) return std::nullopt;
      first = false;
      continue;
    }
    if (!r.Skip(k)) {
      if (r.error().kind == wire::WireErrorKind::kTruncated) return field_start;
      return std::nullopt;
    }
  }
  if (r.error().kind == wire::WireErrorKind::kTruncated) return r.error().offset;
  return std::nullopt;
}

// The name of the Type oneof member that is set ("mlProgram", ...), empty
// when none (or one this schema does not know) is set.
std::string ModelKindName(const spec::Model& m) {
  if (m.Type_case() == spec::Model::TYPE_NOT_SET) return {};
  const auto* field = spec::Model::descriptor()->FindFieldByNumber(m.Type_case());
  return field ? field->name() : std::string();
}

// Where the top-level model's ML Program is in the file, when it was taken
// out before libprotobuf parsed the rest (WithoutProgram).
struct ProgramSlice {
  std::string_view bytes;
  size_t offset = 0;  // in the file
  bool found = false;
};

// Model.mlProgram's tag with wire type 2 ((502 << 3) | 2 = 4018), as a varint.
static_assert(spec::Model::kMlProgramFieldNumber == 502);
constexpr char kProgramTag[] = {static_cast<char>(0xb2), 0x1f};

// `bytes` with the value of every Model.mlProgram field emptied, and the last
// one (the one libprotobuf keeps for a bytes field) in `program`. libprotobuf
// then parses the model without copying the program, which is decoded from
// the file's own bytes, so its error offsets are file offsets. nullopt (and
// nothing found) when the model has no program or its top-level fields do
// not scan: libprotobuf then parses the original bytes and reports.
std::optional<std::string> WithoutProgram(std::string_view bytes, ProgramSlice* program) {
  wire::WireReader r(bytes, 0);
  wire::FieldKey k;
  std::string rest;
  size_t copied = 0;
  ProgramSlice last;
  while (true) {
    const size_t field_start = r.offset();
    if (!r.NextField(&k)) break;
    if (k.number != spec::Model::kMlProgramFieldNumber || k.type != wire::WireType::kLen) {
      if (!r.Skip(k)) break;
      continue;
    }
    std::string_view value;
    size_t value_offset = 0;
    if (!r.ReadLen(&value, &value_offset)) break;
    if (rest.empty()) rest.reserve(bytes.size() - value.size());
    rest.append(bytes.substr(copied, field_start - copied));
    rest.append(kProgramTag, sizeof kProgramTag);
    rest.push_back('\0');  // length 0
    copied = value_offset + value.size();
    last = ProgramSlice{value, value_offset, true};
  }
  if (r.failed() || !last.found) return std::nullopt;
  rest.append(bytes.substr(copied));
  *program = last;
  return rest;
}

// `top_level` is false for pipeline stages, which are converted recursively
// (protobuf's parser bounds the nesting depth at 100 messages).
// `program`: the top-level program taken out of the parsed bytes, or nullptr.
Status ModelToIr(spec::Model* m, const std::string& file, bool top_level, unsigned decode_threads,
                 const ProgramSlice* program, ir::Model* out);

void PipelineToIr(spec::Pipeline* p, const std::string& file, unsigned decode_threads, ir::Model* out) {
  out->stages.reserve(p->models_size());
  for (int i = 0; i < p->models_size(); ++i) {
    ir::Model stage;
    stage.model_file = out->model_file;
    // Stages never fail: an unknown stage type becomes a warning.
    (void)ModelToIr(p->mutable_models(i), file, /*top_level=*/false, decode_threads, nullptr, &stage);
    if (stage.kind.empty()) {
      std::string name = i < p->names_size() ? p->names(i) : std::to_string(i);
      out->warnings.push_back(fmt::format(
          "pipeline stage {} sets no model type that anepilot knows; read its description only", name));
    }
    out->stages.push_back(std::move(stage));
  }
  // A pipeline classifier's labels are those of its classifying stage.
  for (auto it = out->stages.rbegin(); it != out->stages.rend() && out->class_labels.empty(); ++it) {
    out->class_labels = it->class_labels;
  }
}

Status ModelToIr(spec::Model* m, const std::string& file, bool top_level, unsigned decode_threads,
                 const ProgramSlice* program, ir::Model* out) {
  out->spec_version = m->specificationversion();
  out->is_updatable = m->isupdatable();
  out->kind = ModelKindName(*m);
  DescriptionToIr(m->mutable_description(), out);
  switch (m->Type_case()) {
    case spec::Model::kMlProgram: {
      if (program != nullptr && program->found) {
        ANEPILOT_ASSIGN_OR_RETURN(out->program, DecodeMilProgram(program->bytes, program->offset, file,
                                                                 &out->warnings, decode_threads));
        break;
      }
      // A pipeline stage's program: offsets in errors count from its start.
      ANEPILOT_ASSIGN_OR_RETURN(out->program,
                                DecodeMilProgram(m->mlprogram(), 0, file, &out->warnings, decode_threads));
      std::string().swap(*m->mutable_mlprogram());  // the serialized program is no longer needed
      break;
    }
    case spec::Model::kNeuralNetwork: {
      auto* nn = m->mutable_neuralnetwork();
      NeuralNetworkToIr(nn->mutable_layers(), nn->preprocessing(), nn->arrayinputshapemapping(),
                        nn->imageinputshapemapping(), out);
      break;
    }
    case spec::Model::kNeuralNetworkClassifier: {
      auto* nn = m->mutable_neuralnetworkclassifier();
      NeuralNetworkToIr(nn->mutable_layers(), nn->preprocessing(), nn->arrayinputshapemapping(),
                        nn->imageinputshapemapping(), out);
      ClassLabelsToIr(*nn, out);
      break;
    }
    case spec::Model::kNeuralNetworkRegressor: {
      auto* nn = m->mutable_neuralnetworkregressor();
      NeuralNetworkToIr(nn->mutable_layers(), nn->preprocessing(), nn->arrayinputshapemapping(),
                        nn->imageinputshapemapping(), out);
      break;
    }
    case spec::Model::kPipeline: PipelineToIr(m->mutable_pipeline(), file, decode_threads, out); break;
    case spec::Model::kPipelineClassifier:
      PipelineToIr(m->mutable_pipelineclassifier()->mutable_pipeline(), file, decode_threads, out);
      break;
    case spec::Model::kPipelineRegressor:
      PipelineToIr(m->mutable_pipelineregressor()->mutable_pipeline(), file, decode_threads, out);
      break;
    case spec::Model::kGlmClassifier: ClassLabelsToIr(m->glmclassifier(), out); break;
    case spec::Model::kSupportVectorClassifier: ClassLabelsToIr(m->supportvectorclassifier(), out); break;
    case spec::Model::kTreeEnsembleClassifier: ClassLabelsToIr(m->treeensembleclassifier(), out); break;
    case spec::Model::kKNearestNeighborsClassifier:
      ClassLabelsToIr(m->knearestneighborsclassifier(), out);
      break;
    case spec::Model::kNonMaximumSuppression: ClassLabelsToIr(m->nonmaximumsuppression(), out); break;
    case spec::Model::kTextClassifier:
      for (const auto& label : m->textclassifier().stringclasslabels().vector()) {
        if (out->class_labels.size() >= kMaxClassLabels) break;
        out->class_labels.push_back(label);
      }
      break;
    case spec::Model::kCustomModel:
      out->custom_layers.push_back(m->custommodel().classname());
      break;
    case spec::Model::TYPE_NOT_SET:
      if (!top_level) return Status::Ok();
      return Unsupported(fmt::format(
          "{}: the model (specification version {}) sets no model type that anepilot knows "
          "(Model.Type is empty or a newer kind); nothing to read beyond its description",
          file, m->specificationversion()));
    default:
      // Classic model types: kind and IO are all anepilot reads of them.
      break;
  }
  return Status::Ok();
}

}  // namespace

Result<ir::Model> ParseModelSpec(std::string_view bytes, const std::string& file, unsigned decode_threads) {
  if (bytes.empty()) {
    return CorruptModel(file + ": empty file; not a Core ML model protobuf");
  }
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return Unsupported(fmt::format("{}: {} bytes is beyond protobuf's 2 GB message limit", file,
                                   bytes.size()));
  }
  // Heap-allocated (no arena) on purpose: the serialized ML Programs of
  // pipeline stages (kept as bytes by the schema) are freed once decoded.
  auto message = std::make_unique<spec::Model>();
  auto parse = [&message](std::string_view b, int* position) {
    google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(b.data()),
                                                 static_cast<int>(b.size()));
    bool ok = message->MergePartialFromCodedStream(&input) && input.ConsumedEntireMessage();
    *position = input.CurrentPosition();
    return ok;
  };
  ProgramSlice program;
  std::optional<std::string> rest = WithoutProgram(bytes, &program);
  int position = 0;
  bool parsed = parse(rest ? std::string_view(*rest) : bytes, &position);
  if (!parsed && rest) {
    // Emptying a valid field cannot break a parse: the rest is at fault, and
    // the original bytes give the positions to report.
    message = std::make_unique<spec::Model>();
    parsed = parse(bytes, &position);
    program = ProgramSlice{};
  }
  if (!parsed) {
    if (auto cut = TruncationOffset(bytes)) {
      return TruncatedModel(fmt::format(
          "{}: the model file is truncated: it ends inside a field that starts at byte {} "
          "(the file has {} bytes); an incomplete download or copy? Copy or export the model again",
          file, *cut, bytes.size()));
    }
    return CorruptModel(fmt::format(
        "{}: not a Core ML model protobuf (parse failed after {} of {} bytes); the file is "
        "damaged or not a .mlmodel",
        file, position, bytes.size()));
  }
  if (message->Type_case() == spec::Model::TYPE_NOT_SET && message->specificationversion() == 0 &&
      !message->has_description()) {
    return CorruptModel(fmt::format(
        "{}: not a Core ML model protobuf ({} bytes parse, but hold no specification version, "
        "description or model type)",
        file, bytes.size()));
  }
  ir::Model model;
  model.model_file = file;
  ANEPILOT_RETURN_IF_ERROR(ModelToIr(message.get(), file, /*top_level=*/true, decode_threads, &program, &model));
  return model;
}

}  // namespace anepilot::format
