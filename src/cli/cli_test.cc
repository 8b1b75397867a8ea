// Runs the real `anepilot` binary as a subprocess, as a user or a CI would,
// and checks exit codes, messages and the --json documents.
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/test_paths.h"

namespace anepilot::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RunResult RunAnepilot(const std::vector<std::string>& args) {
  static const std::string scratch = testing::ScratchDir("cli");
  std::string out_path = scratch + "/stdout", err_path = scratch + "/stderr";
  std::string cmd = ShellQuote(ANEPILOT_CLI_PATH);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " >" + ShellQuote(out_path) + " 2>" + ShellQuote(err_path);
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

std::string Corpus(const std::string& rel) { return testing::CorpusDir() + "/" + rel; }

const char* const kProblem1 = "faceapp-problem1/problem1.mlpackage";

// ------------------------------------------------------------- usage ------

TEST(CliUsage, HelpListsInspect) {
  RunResult r = RunAnepilot({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("inspect"), std::string::npos) << r.out;
}

TEST(CliUsage, InspectHelpListsItsOptions) {
  RunResult r = RunAnepilot({"inspect", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--top"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MODEL"), std::string::npos) << r.out;
}

TEST(CliUsage, VersionPrintsProjectVersion) {
  RunResult r = RunAnepilot({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("anepilot 0."), std::string::npos) << r.out;
}

TEST(CliUsage, UsageErrorsExitTwo) {
  EXPECT_EQ(RunAnepilot({}).exit_code, 2);
  EXPECT_EQ(RunAnepilot({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunAnepilot({"inspect"}).exit_code, 2);
  EXPECT_EQ(RunAnepilot({"inspect", "x.mlmodel", "--top", "many"}).exit_code, 2);
  EXPECT_EQ(RunAnepilot({"inspect", "x.mlmodel", "--no-such-flag"}).exit_code, 2);
}

// --------------------------------------------------------- bad inputs -----

// Every failure: a message on stderr starting "anepilot: " that names the
// path, and with --json an anepilot.error document on stdout.
void ExpectError(const std::string& path, int exit_code, const std::string& code_name) {
  RunResult text = RunAnepilot({"inspect", path});
  EXPECT_EQ(text.exit_code, exit_code) << text.err;
  EXPECT_EQ(text.err.rfind("anepilot: ", 0), 0u) << text.err;
  EXPECT_NE(text.err.find(fs::path(path).filename().string()), std::string::npos) << text.err;
  EXPECT_TRUE(text.out.empty()) << text.out;

  RunResult json = RunAnepilot({"inspect", path, "--json"});
  EXPECT_EQ(json.exit_code, exit_code);
  Json doc = Json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.out;
  EXPECT_EQ(doc["schema"], "anepilot.error");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["code"], code_name);
  EXPECT_FALSE(doc["message"].get<std::string>().empty());
}

TEST(CliErrors, MissingPathIsNotFound) {
  ExpectError(testing::ScratchDir("cli-missing") + "/absent.mlpackage", 3, "not_found");
}

TEST(CliErrors, EmptyDirectoryIsNotAModel) {
  std::string dir = testing::ScratchDir("cli-empty") + "/empty.mlpackage";
  fs::create_directories(dir);
  // An .mlpackage without Manifest.json: either "not a model" or a missing
  // component, never success.
  RunResult r = RunAnepilot({"inspect", dir});
  EXPECT_TRUE(r.exit_code == 5 || r.exit_code == 7) << r.exit_code << " " << r.err;
  std::string plain = testing::ScratchDir("cli-empty") + "/plain_dir";
  fs::create_directories(plain);
  ExpectError(plain, 5, "not_a_model");
}

TEST(CliErrors, RandomBytesAreCorrupt) {
  std::string path = testing::ScratchDir("cli-random") + "/random.mlmodel";
  std::mt19937 rng(42);
  std::ofstream f(path, std::ios::binary);
  for (int i = 0; i < 4096; ++i) f.put(static_cast<char>(rng() & 0xff));
  f.close();
  ExpectError(path, 6, "corrupt_model");
}

TEST(CliErrors, TruncatedCorpusModelIsTruncated) {
  ANEPILOT_REQUIRE_SHARED();
  std::string whole = Slurp(Corpus("cardscan-fourrecognize/FourRecognize.mlmodel"));
  ASSERT_GT(whole.size(), 1000u);
  std::string path = testing::ScratchDir("cli-truncated") + "/FourRecognize.mlmodel";
  std::ofstream(path, std::ios::binary).write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  ExpectError(path, 15, "truncated_model");
}

// ------------------------------------------------------ real models -------

Json InspectJson(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"inspect", "--json"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  RunResult r = RunAnepilot(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << r.out.substr(0, 500);
  return doc;
}

TEST(CliInspect, Problem1JsonHasTheDocumentedFields) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus(kProblem1)});
  EXPECT_EQ(doc["schema"], "anepilot.inspect");
  EXPECT_EQ(doc["version"], 1);
  for (const char* field :
       {"tool_version", "path", "container", "model_file", "kind", "spec_version", "deployment_target",
        "updatable", "inputs", "outputs", "states", "functions", "op_count", "op_histogram",
        "precision", "compression", "weights", "largest_intermediates", "metadata",
        "custom_layers", "stages", "warnings"}) {
    EXPECT_TRUE(doc.contains(field)) << field;
  }
  // Facts from the corpus index (INDEX.csv): ML Program, spec 7, CoreML6,
  // 2,385 ops, image in and out, fp16, weight file absent.
  EXPECT_EQ(doc["kind"], "mlProgram");
  EXPECT_EQ(doc["container"], "mlpackage");
  EXPECT_EQ(doc["spec_version"], 7);
  EXPECT_EQ(doc["op_count"], 2385);
  ASSERT_EQ(doc["functions"].size(), 1u);
  EXPECT_EQ(doc["functions"][0]["opset"], "CoreML6");
  EXPECT_EQ(doc["deployment_target"]["ios"], "iOS 16");
  ASSERT_EQ(doc["inputs"].size(), 1u);
  EXPECT_EQ(doc["inputs"][0]["type"], "image");
  EXPECT_EQ(doc["inputs"][0]["shape"], Json::array({1024, 1024}));
  EXPECT_EQ(doc["outputs"][0]["type"], "image");
  EXPECT_EQ(doc["weights"]["state"], "missing");
  EXPECT_NE(doc["precision"]["verdict"], "fp32");
  EXPECT_EQ(doc["metadata"]["user_defined"]["com.github.apple.coremltools.version"], "8.3.0");

  size_t total = 0;
  int64_t previous = INT64_MAX;
  for (const auto& h : doc["op_histogram"]) {
    EXPECT_LE(h["count"].get<int64_t>(), previous);
    previous = h["count"].get<int64_t>();
    total += h["count"].get<size_t>();
  }
  EXPECT_EQ(total, 2385u);

  ASSERT_EQ(doc["largest_intermediates"].size(), 10u);
  int64_t prev_bytes = INT64_MAX;
  for (const auto& t : doc["largest_intermediates"]) {
    EXPECT_LE(t["bytes"].get<int64_t>(), prev_bytes);
    prev_bytes = t["bytes"].get<int64_t>();
    EXPECT_FALSE(t["op"].get<std::string>().empty());
    EXPECT_TRUE(t["shape"].is_array());
  }
}

TEST(CliInspect, TopLimitsTheLargestTensors) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus(kProblem1), "--top", "3"});
  EXPECT_EQ(doc["largest_intermediates"].size(), 3u);
}

TEST(CliInspect, Problem1TableHasEverySection) {
  ANEPILOT_REQUIRE_SHARED();
  RunResult r = RunAnepilot({"inspect", Corpus(kProblem1)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* section : {"kind", "target", "iOS 16", "Inputs", "Outputs", "Functions",
                              "Op histogram", "more type", "Largest intermediate tensors",
                              "MISSING"}) {
    EXPECT_NE(r.out.find(section), std::string::npos) << section << "\n" << r.out;
  }
}

TEST(CliInspect, QuantizedPackageListsDequantizeOps) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus("faceapp-p3-ct83-quant/problem3_quant.mlpackage")});
  bool found = false;
  for (const auto& c : doc["compression"]) {
    if (c["type"] == "constexpr_affine_dequantize") {
      found = true;
      EXPECT_GT(c["count"].get<int>(), 0);
      EXPECT_EQ(c["method"], "quantization");
    }
  }
  EXPECT_TRUE(found) << doc["compression"].dump();
}

TEST(CliInspect, NeuralNetworkSpec1TargetsIos11) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus("cardscan-fourrecognize/FourRecognize.mlmodel")});
  EXPECT_EQ(doc["kind"], "neuralNetwork");
  EXPECT_EQ(doc["spec_version"], 1);
  EXPECT_EQ(doc["deployment_target"]["ios"], "iOS 11");
  // nn_layers=110 in INDEX.csv, plus the image scaler the reader turns into a
  // leading "preprocessing.scaler" op.
  EXPECT_EQ(doc["op_count"], 111);
}

TEST(CliInspect, PipelineStagesAreNested) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus("createmlpg-dogcat/DogCatClassifier.mlmodel")});
  EXPECT_EQ(doc["kind"], "pipelineClassifier");
  ASSERT_GE(doc["stages"].size(), 2u);
  for (const auto& stage : doc["stages"]) {
    EXPECT_FALSE(stage["kind"].get<std::string>().empty());
    EXPECT_TRUE(stage.contains("op_histogram"));
  }
}

TEST(CliInspect, OpsFlagListsEveryOpWithOutputTypes) {
  ANEPILOT_REQUIRE_SHARED();
  Json doc = InspectJson({Corpus(kProblem1), "--ops"});
  ASSERT_TRUE(doc["ops"].is_array());
  EXPECT_EQ(doc["ops"].size(), 2385u);
  const Json& op = doc["ops"][0];
  EXPECT_EQ(op["function"], "main");
  EXPECT_TRUE(op["type"].is_string());
  EXPECT_TRUE(op["name"].is_string());
  ASSERT_FALSE(op["outputs"].empty());
  EXPECT_TRUE(op["outputs"][0]["dtype"].is_string());
  EXPECT_FALSE(InspectJson({Corpus(kProblem1)}).contains("ops"));
}

// Every corpus model is read, or refused as unsupported with a JSON error;
// never a crash or an unexpected exit code.
TEST(CliInspect, EveryCorpusModelIsReadOrRefusedClearly) {
  ANEPILOT_REQUIRE_SHARED();
  size_t models = 0;
  for (const auto& folder : fs::directory_iterator(testing::CorpusDir())) {
    if (!folder.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(folder.path())) {
      std::string ext = entry.path().extension().string();
      if (ext != ".mlmodel" && ext != ".mlpackage" && ext != ".mlmodelc") continue;
      ++models;
      RunResult r = RunAnepilot({"inspect", entry.path().string(), "--json"});
      Json doc = Json::parse(r.out, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << entry.path() << ": " << r.err;
      if (r.exit_code == 0) {
        EXPECT_EQ(doc["schema"], "anepilot.inspect") << entry.path();
      } else {
        EXPECT_EQ(r.exit_code, 10) << entry.path() << ": " << r.err;
        EXPECT_EQ(doc["code"], "unsupported") << entry.path();
      }
    }
  }
  EXPECT_GE(models, 40u);
}

}  // namespace
}  // namespace anepilot::cli
