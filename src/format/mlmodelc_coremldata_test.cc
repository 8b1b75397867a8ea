// The model description embedded in compiled models' coremldata.bin, checked
// against independent sources of the same facts: the source .mlmodel the
// app compiled (same repository commit), and metadata.json where the
// compiler wrote one.
#include "format/mlmodelc_coremldata.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>

#include "proto/Model.pb.h"
#include "anepilot/model_reader.h"
#include "base/mapped_file.h"
#include "base/test_paths.h"

namespace anepilot::format {
namespace {

namespace fs = std::filesystem;
namespace spec = CoreML::Specification;

std::string Corpus(const std::string& rel) { return anepilot::testing::CorpusDir() + "/" + rel; }

std::string ReadBytes(const std::string& path) {
  Result<std::string> bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void ExpectSameFeatures(const std::vector<ir::Feature>& got, const std::vector<ir::Feature>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name) << what << " " << i;
    EXPECT_EQ(got[i].description, want[i].description) << what << " " << i;
    EXPECT_EQ(got[i].type.ToString(), want[i].type.ToString()) << what << " " << got[i].name;
  }
}

// FindFour.mlmodelc ships in cardscan-ios at the commit whose
// OriginalModels/FindFour.mlmodel is corpus model cardscan-findfour-fp16:
// the compiled model's description must be the source's, image type and
// fp64 output included (neither is in the espresso files).
TEST(CoremlData, CompiledFindFourDescribesItsSourceModel) {
  ANEPILOT_REQUIRE_SHARED();
  auto compiled = ReadModel(Corpus("cardscan-findfour-mlmodelc/FindFour.mlmodelc"));
  auto source = ReadModel(Corpus("cardscan-findfour-fp16/FindFour.mlmodel"));
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ExpectSameFeatures(compiled->inputs, source->inputs, "inputs");
  ExpectSameFeatures(compiled->outputs, source->outputs, "outputs");
  ASSERT_EQ(compiled->inputs.size(), 1u);
  EXPECT_EQ(compiled->inputs[0].type.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(compiled->inputs[0].type.color_space, "RGB");
  EXPECT_EQ(compiled->kind, source->kind);
  EXPECT_EQ(compiled->metadata.user_defined, source->metadata.user_defined);
}

// Where the compiler also wrote metadata.json, both describe the same IO.
TEST(CoremlData, AgreesWithMetadataJson) {
  ANEPILOT_REQUIRE_SHARED();
  struct Case { const char* dir; const char* kind; };
  for (const Case& c : {Case{"chiron-compiled-nn/Chiron.mlmodelc", "neuralNetwork"},
                        Case{"coremltools-add-mlmodelc/add_model.mlmodelc", "mlProgram"}}) {
    SCOPED_TRACE(c.dir);
    auto from_json = ReadModel(Corpus(c.dir));
    ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
    auto found = ReadCoremlDataDescription(ReadBytes(Corpus(c.dir) + "/coremldata.bin"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->kind, c.kind);
    const ir::Model& d = found->description;
    ASSERT_EQ(d.inputs.size(), from_json->inputs.size());
    ASSERT_EQ(d.outputs.size(), from_json->outputs.size());
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      EXPECT_EQ(d.inputs[i].name, from_json->inputs[i].name);
      EXPECT_EQ(d.inputs[i].type.kind, from_json->inputs[i].type.kind);
      EXPECT_EQ(d.inputs[i].type.array.dtype, from_json->inputs[i].type.array.dtype);
      EXPECT_EQ(d.inputs[i].type.flexibility.kind, from_json->inputs[i].type.flexibility.kind);
    }
    for (size_t i = 0; i < d.outputs.size(); ++i) {
      EXPECT_EQ(d.outputs[i].name, from_json->outputs[i].name);
      EXPECT_EQ(d.outputs[i].type.array.dtype, from_json->outputs[i].type.array.dtype);
    }
    EXPECT_EQ(d.metadata.user_defined.count("com.github.apple.coremltools.source"), 1u);
  }
}

// Every cut of a real file and seeded random bytes: no crash; a cut inside
// the description never yields a description.
TEST(CoremlData, TruncatedAndRandomBytesAreNotTrusted) {
  ANEPILOT_REQUIRE_SHARED();
  const std::string bytes = ReadBytes(Corpus("cardscan-uxmodel-mlmodelc/uxmodel.mlmodelc/coremldata.bin"));
  auto whole = ReadCoremlDataDescription(bytes);
  ASSERT_TRUE(whole.has_value());
  const size_t description_end = whole->offset + 75;  // the uxmodel description is 75 bytes (its length prefix)
  ASSERT_EQ(static_cast<unsigned char>(bytes[whole->offset - 8]), 75u);
  for (size_t n = 0; n < description_end; ++n) {
    EXPECT_FALSE(ReadCoremlDataDescription(std::string_view(bytes).substr(0, n)).has_value()) << n;
  }
  for (size_t n = description_end; n <= bytes.size(); ++n) {
    EXPECT_TRUE(ReadCoremlDataDescription(std::string_view(bytes).substr(0, n)).has_value()) << n;
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string random(64 + rng() % 512, '\0');
    for (char& ch : random) ch = static_cast<char>(rng());
    EXPECT_FALSE(ReadCoremlDataDescription(random).has_value()) << i;
  }
}

// Without coremldata.bin (or with one that holds no description) the
// espresso reader falls back to inputs inferred from the layer graph.
TEST(CoremlData, EspressoWithoutDescriptionFallsBackToTheLayerGraph) {
  ANEPILOT_REQUIRE_SHARED();
  fs::path dst = fs::path(anepilot::testing::ScratchDir("coremldata_fallback")) / "FindFour.mlmodelc";
  fs::remove_all(dst);
  fs::copy(Corpus("cardscan-findfour-mlmodelc/FindFour.mlmodelc"), dst, fs::copy_options::recursive);
  fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dst / "coremldata.bin", fs::perms::owner_write, fs::perm_options::add);
  fs::remove(dst / "coremldata.bin");
  auto model = ReadModel(dst.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_NE(model->description_note.find("input/output descriptions unavailable without metadata.json"),
            std::string::npos);
  ASSERT_EQ(model->inputs.size(), 1u);  // inferred: the one blob no layer writes
  EXPECT_EQ(model->inputs[0].type.kind, ir::FeatureType::Kind::kMultiArray);
}

// A compiled pipeline (no model.mil, no espresso files) whose coremldata.bin
// carries a description: its kind and IO are read, its structure is not.
TEST(CoremlData, CompiledPipelineReadsItsDescriptionOnly) {
  spec::ModelDescription d;
  auto* in = d.add_input();
  in->set_name("text");
  in->mutable_type()->mutable_stringtype();
  auto* out = d.add_output();
  out->set_name("label");
  out->mutable_type()->mutable_stringtype();
  auto* entry = d.mutable_metadata()->add_userdefined();
  entry->set_key("com.github.apple.coremltools.version");
  entry->set_value("8.1");
  const std::string body = d.SerializeAsString();
  const int type_number = spec::Model::descriptor()->FindFieldByName("pipelineClassifier")->number();

  std::string file(0x4b, '\0');
  for (int i = 0; i < 4; ++i) file[i] = static_cast<char>((type_number >> (8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>((body.size() >> (8 * i)) & 0xff));
  file += body;
  file += std::string(32, '\0');
  fs::path dir = fs::path(anepilot::testing::ScratchDir("coremldata_pipeline")) / "Pipe.mlmodelc";
  fs::remove_all(dir);
  WriteFile(dir / "coremldata.bin", file);

  auto model = ReadModel(dir.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->kind, "pipelineClassifier");
  ASSERT_EQ(model->inputs.size(), 1u);
  EXPECT_EQ(model->inputs[0].name, "text");
  EXPECT_EQ(model->inputs[0].type.kind, ir::FeatureType::Kind::kString);
  ASSERT_EQ(model->outputs.size(), 1u);
  EXPECT_EQ(model->metadata.user_defined.at("com.github.apple.coremltools.version"), "8.1");
  EXPECT_FALSE(model->has_program());
  EXPECT_NE(model->description_note.find("its structure (pipeline stages, classic model parameters)"),
            std::string::npos);
}

}  // namespace
}  // namespace anepilot::format
