// ReadModel end to end: container detection, packages with and without
// weights, compiled models, and every kind of bad input (each a distinct
// StatusCode, a message naming the file and the problem, no crash).
#include "anepilot/model_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/weight_file_builder_for_tests.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;
using ir::WeightsInfo;

std::string Corpus(const std::string& rel) { return anepilot::testing::CorpusDir() + "/" + rel; }

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Copies a corpus model into a fresh writable scratch folder.
fs::path CopyToScratch(const std::string& rel, const std::string& scratch_name) {
  fs::path dst = fs::path(anepilot::testing::ScratchDir(scratch_name)) / fs::path(rel).filename();
  fs::remove_all(dst);
  fs::copy(Corpus(rel), dst, fs::copy_options::recursive);
  for (const auto& entry : fs::recursive_directory_iterator(dst)) {
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add);
  return dst;
}

Status ReadStatus(const std::string& path) {
  auto m = ReadModel(path);
  return m.ok() ? Status::Ok() : m.status();
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ------------------------------------------------------------ bad input ----

TEST(ReadModelBadInput, NonexistentPathIsNotFound) {
  Status s = ReadStatus("/nonexistent/model.mlpackage");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s.message(), "/nonexistent/model.mlpackage")) << s.message();
}

TEST(ReadModelBadInput, EmptyFileIsCorrupt) {
  fs::path f = fs::path(anepilot::testing::ScratchDir("empty")) / "empty.mlmodel";
  WriteFile(f, "");
  Status s = ReadStatus(f.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptModel);
  EXPECT_TRUE(Contains(s.message(), f.string() + ": empty file")) << s.message();
}

TEST(ReadModelBadInput, RandomBytesAreCorrupt) {
  std::mt19937 rng(7);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  fs::path f = fs::path(anepilot::testing::ScratchDir("random")) / "random.mlmodel";
  WriteFile(f, bytes);
  Status s = ReadStatus(f.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptModel) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), f.string())) << s.message();
}

TEST(ReadModelBadInput, TruncatedModelIsTruncated) {
  ANEPILOT_REQUIRE_SHARED();
  auto whole = ReadFileToString(Corpus("swiftbrain-mnist-keras-mlp/mnist_model.mlmodel"));
  ASSERT_TRUE(whole.ok());
  fs::path f = fs::path(anepilot::testing::ScratchDir("truncated")) / "truncated.mlmodel";
  WriteFile(f, whole->substr(0, whole->size() / 2));
  Status s = ReadStatus(f.string());
  EXPECT_EQ(s.code(), StatusCode::kTruncatedModel) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), f.string())) << s.message();
}

TEST(ReadModelBadInput, DirectoryThatIsNoModel) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("nomodel")) / "photos";
  WriteFile(dir / "cat.jpg", "not a model");
  Status s = ReadStatus(dir.string());
  EXPECT_EQ(s.code(), StatusCode::kNotAModel);
  EXPECT_TRUE(Contains(s.message(), dir.string() + ": not a Core ML model: no Manifest.json (mlpackage), "
                                    "model.mil / coremldata.bin")) << s.message();
}

TEST(ReadModelBadInput, ManifestPointingNowhere) {
  fs::path pkg = fs::path(anepilot::testing::ScratchDir("nowhere")) / "x.mlpackage";
  WriteFile(pkg / "Manifest.json", R"({"fileFormatVersion": "1.0.0", "itemInfoEntries": {
    "A": {"author": "com.apple.CoreML", "description": "CoreML Model Specification",
          "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"}},
    "rootModelIdentifier": "A"})");
  Status s = ReadStatus(pkg.string());
  EXPECT_EQ(s.code(), StatusCode::kMissingComponent);
  EXPECT_TRUE(Contains(s.message(), "Manifest.json: rootModelIdentifier \"A\" -> path "
                                    "\"com.apple.CoreML/model.mlmodel\"")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "is absent")) << s.message();

  WriteFile(pkg / "Manifest.json", R"({"itemInfoEntries": {}, "rootModelIdentifier": "B"})");
  s = ReadStatus(pkg.string());
  EXPECT_EQ(s.code(), StatusCode::kMissingComponent);
  EXPECT_TRUE(Contains(s.message(), "rootModelIdentifier \"B\" names no entry")) << s.message();

  WriteFile(pkg / "Manifest.json", R"({"itemInfoEntries": {}})");
  s = ReadStatus(pkg.string());
  EXPECT_EQ(s.code(), StatusCode::kMissingComponent);
  EXPECT_TRUE(Contains(s.message(), "field rootModelIdentifier is missing")) << s.message();
}

TEST(ReadModelBadInput, MalformedManifest) {
  fs::path pkg = fs::path(anepilot::testing::ScratchDir("malformed")) / "x.mlpackage";
  WriteFile(pkg / "Manifest.json", "{\n  \"fileFormatVersion\": \"1.0.0\",\n  \"itemInfoEntries\": {,\n}\n");
  Status s = ReadStatus(pkg.string());
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_TRUE(Contains(s.message(), (pkg / "Manifest.json").string() + ":3:23: malformed JSON"))
      << s.message();
}

TEST(ReadModelBadInput, ManifestPathEscapingThePackage) {
  fs::path pkg = fs::path(anepilot::testing::ScratchDir("escape")) / "x.mlpackage";
  WriteFile(pkg / "Manifest.json", R"({"itemInfoEntries": {"A": {"path": "../../etc/passwd"}},
    "rootModelIdentifier": "A"})");
  Status s = ReadStatus(pkg.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptModel);
  EXPECT_TRUE(Contains(s.message(), "must be relative and stay inside")) << s.message();
}

class ReadModelCorruptWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!anepilot::testing::SharedAvailable()) GTEST_SKIP() << "../shared/corpus not found";
    pkg_ = CopyToScratch("autonerf-superpoint/superpoint.mlpackage", "weights");
    weights_ = pkg_ / "Data/com.apple.CoreML/weights/weight.bin";
    auto bytes = ReadFileToString(weights_.string());
    ASSERT_TRUE(bytes.ok());
    bytes_ = *bytes;
  }
  fs::path pkg_, weights_;
  std::string bytes_;
};

TEST_F(ReadModelCorruptWeights, BlobOffsetPastTheEnd) {
  WriteFile(weights_, bytes_.substr(0, 100000));
  Status s = ReadStatus(pkg_.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s.message(), weights_.string() + ": blob at offset")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "(op main/")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "past the end of the file (100000 bytes)")) << s.message();
}

TEST_F(ReadModelCorruptWeights, BadSentinel) {
  std::string bad = bytes_;
  bad[64] = 0;  // first blob's header
  WriteFile(weights_, bad);
  Status s = ReadStatus(pkg_.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s.message(), weights_.string() + ": blob at offset 64 (op main/")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "bad sentinel 0xdeadbe00")) << s.message();
}

TEST_F(ReadModelCorruptWeights, WrongDataType) {
  std::string bad = bytes_;
  bad[68] = 2;  // fp16 -> fp32
  WriteFile(weights_, bad);
  Status s = ReadStatus(pkg_.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s.message(), "blob holds fp32 data (type code 2) but the program declares fp16"))
      << s.message();
  ReadOptions lenient;
  lenient.verify_weights = false;
  EXPECT_TRUE(ReadModel(pkg_.string(), lenient).ok());
}

TEST_F(ReadModelCorruptWeights, NotAWeightFile) {
  WriteFile(weights_, "platform :ios, '15.0'\n");
  Status s = ReadStatus(pkg_.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s.message(), "too short for the 64-byte blob storage header")) << s.message();
}

// A compiled model with `n` consts, each a blob of fp16[4] in weights/weight.bin
// (every tenth const shares the previous one's blob). Returns each const's offset.
std::vector<uint64_t> WriteManyBlobModel(const fs::path& dir, int n) {
  format::testing::WeightFileBuilder weights;
  std::vector<uint64_t> offsets;
  std::string mil = "program(1.0)\n{\n  func main<ios16>(tensor<fp16, [4]> x) {\n";
  for (int i = 0; i < n; ++i) {
    offsets.push_back(i % 10 == 9 ? offsets.back() : weights.AddBlob(/*fp16*/ 1, 8));
    mil += "    tensor<fp16, [4]> w" + std::to_string(i) + " = const()[name = tensor<string, []>(\"w" +
           std::to_string(i) + "\"), val = tensor<fp16, [4]>(BLOBFILE(path = tensor<string, []>(" +
           "\"@model_path/weights/weight.bin\"), offset = tensor<uint64, []>(" + std::to_string(offsets.back()) +
           ")))];\n";
  }
  mil += "  } -> (w0);\n}\n";
  WriteFile(dir / "model.mil", mil);
  WriteFile(dir / "weights/weight.bin", weights.bytes());
  return offsets;
}

TEST(ReadModelWeights, ManyReferencesReadAndFailTheSameOnOneOrManyThreads) {
  // 12,000 references: over the count at which they are collected and checked
  // on several threads.
  fs::path dir = fs::path(anepilot::testing::ScratchDir("many-blobs")) / "many.mlmodelc";
  const std::vector<uint64_t> offsets = WriteManyBlobModel(dir, 12000);
  ReadOptions serial, parallel;
  serial.decode_threads = 1;
  parallel.decode_threads = 4;
  auto a = ReadModel(dir.string(), serial);
  auto b = ReadModel(dir.string(), parallel);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->weights.state, WeightsInfo::State::kPresent);
  EXPECT_EQ(a->weights.blob_count, 10800u);  // distinct offsets
  EXPECT_EQ(a->weights.referenced_bytes, 10800u * 8);
  EXPECT_EQ(b->weights.blob_count, a->weights.blob_count);
  EXPECT_EQ(b->weights.referenced_bytes, a->weights.referenced_bytes);

  // Two bad headers: the error names the earlier reference, however many threads.
  auto bytes = ReadFileToString((dir / "weights/weight.bin").string());
  ASSERT_TRUE(bytes.ok());
  std::string bad = *bytes;
  bad[offsets[7001]] = 0;
  bad[offsets[11003]] = 0;
  WriteFile(dir / "weights/weight.bin", bad);
  Status s1 = ReadModel(dir.string(), serial).status();
  Status s4 = ReadModel(dir.string(), parallel).status();
  EXPECT_EQ(s1.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s1.message(), "blob at offset " + std::to_string(offsets[7001]) + " (op main/w7001)"))
      << s1.message();
  EXPECT_EQ(s4.message(), s1.message());
  fs::remove_all(dir);
}

TEST(ReadModelBadInput, MilSyntaxError) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("milerror")) / "bad.mlmodelc";
  WriteFile(dir / "model.mil",
            "program(1.0)\n{\n  func main<ios16>(tensor<fp16, [1]> x) {\n"
            "    tensor<fp16, [1]> y = relu(x = x;\n  } -> (y);\n}\n");
  Status s = ReadStatus(dir.string());
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.message(), (dir / "model.mil").string() +
                             ":4:37: expected ')' after argument list, found ';'");
}

TEST(ReadModelBadInput, CompiledModelWithOnlyCoremldata) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("coremldata")) / "pipe.mlmodelc";
  WriteFile(dir / "coremldata.bin", std::string(160, '\x01'));
  Status s = ReadStatus(dir.string());
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(Contains(s.message(), "without model.mil or model.espresso.net (it holds: coremldata.bin)"))
      << s.message();
}

TEST(ReadModelBadInput, EachCaseHasItsOwnCode) {
  // The codes asserted above are pairwise distinct, so a CI can tell them apart.
  std::set<StatusCode> codes = {StatusCode::kNotFound,         StatusCode::kCorruptModel,
                                StatusCode::kNotAModel,        StatusCode::kMissingComponent,
                                StatusCode::kParseError,       StatusCode::kCorruptWeights,
                                StatusCode::kUnsupported};
  std::set<int> exits;
  for (StatusCode c : codes) exits.insert(ExitCodeFor(Status(c, "")));
  EXPECT_EQ(exits.size(), codes.size());
}

// ---------------------------------------------------- packages, compiled ----

TEST(ReadModelPackage, EveryBlobOfCorpusPackagesWithWeightsValidates) {
  ANEPILOT_REQUIRE_SHARED();
  for (const char* rel : {"autonerf-superpoint/superpoint.mlpackage", "mlperf-mosaic-seg/Mosaic.mlpackage",
                          "dtln-aec128-part1/DTLN_AEC_128_Part1.mlpackage"}) {
    SCOPED_TRACE(rel);
    auto m = ReadModel(Corpus(rel));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->container, ir::Container::kMlPackage);
    EXPECT_EQ(m->weights.state, WeightsInfo::State::kPresent);
    EXPECT_GT(m->weights.blob_count, 0u);
    EXPECT_EQ(m->weights.file_bytes, fs::file_size(m->weights.path));
    // Blobs plus their 64-byte headers and the storage header fit in the file.
    EXPECT_LE(m->weights.referenced_bytes + 64 * (m->weights.blob_count + 1), m->weights.file_bytes);
    EXPECT_GT(m->weights.referenced_bytes, m->weights.file_bytes / 2);
  }
}

TEST(ReadModelPackage, MissingWeightsReadTheProgramInFull) {
  ANEPILOT_REQUIRE_SHARED();
  auto m = ReadModel(Corpus("faceapp-problem1/problem1.mlpackage"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->weights.state, WeightsInfo::State::kMissing);
  EXPECT_GT(m->weights.blob_count, 0u);
  EXPECT_TRUE(Contains(m->weights.note, "weights/weight.bin absent: program read in full")) << m->weights.note;
  EXPECT_EQ(m->program.functions.at(0).CountOps(), 2385u);  // INDEX.csv: ops=2385

  auto junk = ReadModel(Corpus("coremltesting-new-junkweights/new.mlpackage"));
  ASSERT_TRUE(junk.ok()) << junk.status().ToString();
  EXPECT_EQ(junk->weights.state, WeightsInfo::State::kMissing);
  EXPECT_TRUE(Contains(junk->weights.note, "holds only: .gitignore, Podfile, Podfile.lock"))
      << junk->weights.note;
}

TEST(ReadModelPackage, OverlaysApply) {
  ANEPILOT_REQUIRE_SHARED();
  auto m = ReadModel(Corpus("rulesapple-textclassifier-pkg/sample.mlpackage"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->metadata.author, "Bazel Rules Authors");
  EXPECT_EQ(m->metadata.short_description, "Numberwang!");
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->inputs[0].description, "Input text");
  EXPECT_TRUE(Contains(m->model_file, "sample.mlmodel"));

  auto wrapped = ReadModel(Corpus("shenfu-3m-mlpackage-wrapped/3m.mlpackage"));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_TRUE(Contains(wrapped->model_file, "3m.mlmodel"));
  EXPECT_EQ(wrapped->metadata.author, "xuanyuan");
  EXPECT_EQ(wrapped->metadata.user_defined.at("com.apple.createml.version"), "13.3.1");
}

TEST(ReadModelPackage, DetectedByContentsNotName) {
  ANEPILOT_REQUIRE_SHARED();
  fs::path renamed = CopyToScratch("coremltools-add-mlmodelc/add_model.mlmodelc", "renamed");
  fs::path plain = renamed.parent_path() / "just_a_folder";
  fs::remove_all(plain);
  fs::rename(renamed, plain);
  auto m = ReadModel(plain.string());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->container, ir::Container::kMlModelc);
}

TEST(ReadModelCompiled, MlProgramWithMetadata) {
  ANEPILOT_REQUIRE_SHARED();
  auto m = ReadModel(Corpus("coremltools-add-mlmodelc/add_model.mlmodelc"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->container, ir::Container::kMlModelc);
  EXPECT_EQ(m->kind, "mlProgram");
  EXPECT_EQ(m->spec_version, 7);
  ASSERT_EQ(m->inputs.size(), 2u);
  EXPECT_EQ(m->inputs[0].type.kind, ir::FeatureType::Kind::kMultiArray);
  EXPECT_EQ(m->inputs[0].type.array.ToString(), "fp16[1, 10]");
  EXPECT_EQ(m->outputs.at(0).name, "var_3");
  EXPECT_EQ(m->metadata.user_defined.at("com.github.apple.coremltools.version"), "8.1");
  EXPECT_EQ(m->weights.state, WeightsInfo::State::kNone);
  EXPECT_EQ(m->program.functions.at(0).opset, "ios16");
}

TEST(ReadModelCompiled, MultifunctionFlexibleRanges) {
  ANEPILOT_REQUIRE_SHARED();
  auto m = ReadModel(Corpus("mlmodelcexport-multifunction-textonly/expected-macos.mlmodelc"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->spec_version, 9);
  EXPECT_EQ(m->program.functions.size(), 2u);
  const ir::FeatureType& in = m->inputs.at(0).type;
  EXPECT_EQ(in.flexibility.kind, ir::Flexibility::Kind::kRange);
  ASSERT_EQ(in.flexibility.ranges.size(), 1u);
  EXPECT_EQ(in.flexibility.ranges[0].upper, 4);
  EXPECT_TRUE(Contains(m->description_note, "default function 'second'")) << m->description_note;
}

TEST(ReadModelCompiled, MlProgramWithGeneratedWeights) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("mlc-weights")) / "w.mlmodelc";
  format::testing::WeightFileBuilder weights;
  uint64_t at = weights.AddBlob(/*fp16*/ 1, 2 * 8 * 4);
  WriteFile(dir / "weights/weight.bin", weights.bytes());
  WriteFile(dir / "model.mil",
            "program(1.3)\n{\n  func main<ios18>(tensor<fp16, [1, 4]> x) {\n"
            "    tensor<fp16, [8, 4]> w = const()[name = string(\"w\"), val = tensor<fp16, [8, 4]>("
            "BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(" +
                std::to_string(at) + ")))];\n"
            "    tensor<fp16, [1, 8]> y = linear(x = x, weight = w)[name = string(\"lin\")];\n"
            "  } -> (y);\n}\n");
  auto m = ReadModel(dir.string());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->weights.state, WeightsInfo::State::kPresent);
  EXPECT_EQ(m->weights.blob_count, 1u);
  EXPECT_EQ(m->weights.referenced_bytes, 64u);
  // No metadata.json: IO comes from the function signature, and a warning says so.
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->outputs.at(0).type.array.ToString(), "fp16[1, 8]");
  ASSERT_FALSE(m->warnings.empty());
  EXPECT_TRUE(Contains(m->warnings[0], "no metadata.json"));

  // The same program declaring a shape the blob does not hold.
  auto text = ReadFileToString((dir / "model.mil").string());
  ASSERT_TRUE(text.ok());
  std::string wrong = *text;
  for (size_t p; (p = wrong.find("[8, 4]")) != std::string::npos;) wrong.replace(p, 6, "[8, 8]");
  WriteFile(dir / "model.mil", wrong);
  Status s = ReadStatus(dir.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptWeights);
  EXPECT_TRUE(Contains(s.message(), "(op main/w): blob size 64 bytes, but the declared tensor needs 128"))
      << s.message();
}

TEST(ReadModelCompiled, MlProgramWithoutItsWeightFile) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("mlc-noweights")) / "n.mlmodelc";
  WriteFile(dir / "model.mil",
            "program(1.0)\n{\n  func main<ios16>(tensor<fp16, [1, 4]> x) {\n"
            "    tensor<fp16, [4, 4]> w = const()[name = tensor<string, []>(\"w\"), val = tensor<fp16, [4, 4]>("
            "BLOBFILE(path = tensor<string, []>(\"@model_path/weights/weight.bin\"), offset = tensor<uint64, []>(64)))];\n"
            "    tensor<fp16, [1, 4]> y = linear(x = x, weight = w)[name = tensor<string, []>(\"y\")];\n"
            "  } -> (y);\n}\n");
  auto m = ReadModel(dir.string());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->weights.state, WeightsInfo::State::kMissing);
  EXPECT_EQ(m->weights.blob_count, 1u);
  EXPECT_TRUE(Contains(m->weights.note, "n.mlmodelc/weights/weight.bin absent: program read in full, 1 blob"))
      << m->weights.note;
  EXPECT_EQ(m->program.functions.at(0).CountOps(), 2u);
}

TEST(ReadModelBadInput, BlobPathOutsideTheModel) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("mlc-escape")) / "e.mlmodelc";
  WriteFile(dir / "model.mil",
            "program(1.0)\n{\n  func main<ios16>() {\n"
            "    tensor<fp16, [4]> w = const()[name = tensor<string, []>(\"w\"), val = tensor<fp16, [4]>("
            "BLOBFILE(path = tensor<string, []>(\"@model_path/../../../etc/passwd\"), offset = tensor<uint64, []>(64)))];\n"
            "  } -> (w);\n}\n");
  Status s = ReadStatus(dir.string());
  EXPECT_EQ(s.code(), StatusCode::kCorruptModel);
  EXPECT_TRUE(Contains(s.message(), "op main/w refers to blob file \"@model_path/../../../etc/passwd\", outside the model folder"))
      << s.message();
}

TEST(ReadModelCompiled, EspressoWithAndWithoutMetadata) {
  ANEPILOT_REQUIRE_SHARED();
  auto chiron = ReadModel(Corpus("chiron-compiled-nn/Chiron.mlmodelc"));
  ASSERT_TRUE(chiron.ok()) << chiron.status().ToString();
  EXPECT_EQ(chiron->kind, "neuralNetwork");
  EXPECT_EQ(chiron->spec_version, 4);
  ASSERT_EQ(chiron->inputs.size(), 1u);
  EXPECT_EQ(chiron->inputs[0].name, "input_1");
  EXPECT_EQ(chiron->inputs[0].type.flexibility.ranges.at(0).upper, -1);  // [[1, -1], ...]
  EXPECT_EQ(chiron->program.functions.at(0).body.ops.size(), 14u);
  EXPECT_EQ(chiron->program.functions[0].body.ops[1].type, "convolution");
  EXPECT_TRUE(Contains(chiron->description_note, "inputs and outputs from metadata.json"));
  EXPECT_TRUE(Contains(chiron->description_note, "the rest of coremldata.bin (a private binary format) is not read"));

  auto cardscan = ReadModel(Corpus("cardscan-findfour-mlmodelc/FindFour.mlmodelc"));
  ASSERT_TRUE(cardscan.ok()) << cardscan.status().ToString();
  EXPECT_EQ(cardscan->spec_version, 0);
  EXPECT_TRUE(Contains(cardscan->description_note,
                       "inputs, outputs and metadata from the model description embedded in coremldata.bin"));
  ASSERT_EQ(cardscan->inputs.size(), 1u);
  EXPECT_EQ(cardscan->inputs[0].type.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(cardscan->weights.state, WeightsInfo::State::kPresent);
}

}  // namespace
}  // namespace anepilot
