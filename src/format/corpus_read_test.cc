// Every model of ../shared/corpus reads, or is refused with kUnsupported
// naming what is unsupported. Facts recorded in corpus/INDEX.csv (model type,
// ML Program op counts, weights present or not) are checked against what
// ReadModel returns.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "anepilot/model_reader.h"
#include "base/mapped_file.h"
#include "base/test_paths.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;

// The model inside a corpus folder: the one .mlmodel file or .mlpackage /
// .mlmodelc folder it holds.
std::vector<fs::path> ModelsIn(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(folder)) {
    std::string ext = e.path().extension().string();
    if ((e.is_regular_file() && ext == ".mlmodel") ||
        (e.is_directory() && (ext == ".mlpackage" || ext == ".mlmodelc"))) {
      out.push_back(e.path());
    }
  }
  return out;
}

// INDEX.csv rows: id -> {column name -> value}. Handles quoted fields.
std::map<std::string, std::map<std::string, std::string>> ReadIndex(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> rows;
  auto text = ReadFileToString(path);
  if (!text.ok()) return rows;
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record(1);
  bool quoted = false;
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    if (quoted) {
      if (c == '"' && i + 1 < text->size() && (*text)[i + 1] == '"') {
        record.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        record.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.emplace_back();
    } else if (c == '\n') {
      records.push_back(std::move(record));
      record.assign(1, "");
    } else if (c != '\r') {
      record.back() += c;
    }
  }
  if (records.empty()) return rows;
  const std::vector<std::string>& header = records[0];
  for (size_t r = 1; r < records.size(); ++r) {
    auto& row = rows[records[r][0]];
    for (size_t c = 0; c < header.size() && c < records[r].size(); ++c) row[header[c]] = records[r][c];
  }
  return rows;
}

TEST(CorpusRead, EveryCorpusModelReads) {
  ANEPILOT_REQUIRE_SHARED();
  auto index = ReadIndex(anepilot::testing::CorpusDir() + "/INDEX.csv");
  ASSERT_FALSE(index.empty());
  size_t folders = 0, read = 0, refused = 0;
  for (const auto& entry : fs::directory_iterator(anepilot::testing::CorpusDir())) {
    if (!entry.is_directory()) continue;
    ++folders;
    std::string id = entry.path().filename().string();
    SCOPED_TRACE(id);
    std::vector<fs::path> models = ModelsIn(entry.path());
    ASSERT_EQ(models.size(), 1u) << "expected one model in " << entry.path();
    auto model = ReadModel(models[0].string());
    if (!model.ok()) {
      // The only acceptable refusal says what is unsupported.
      EXPECT_EQ(model.status().code(), StatusCode::kUnsupported) << model.status().ToString();
      EXPECT_NE(model.status().message().find(models[0].string()), std::string::npos);
      ++refused;
      continue;
    }
    ++read;
    EXPECT_FALSE(model->kind.empty());
    EXPECT_FALSE(model->inputs.empty() && model->outputs.empty()) << "no IO read";

    ASSERT_TRUE(index.count(id)) << "folder missing from INDEX.csv";
    const auto& row = index.at(id);
    const std::string& notes = row.at("notes");
    std::smatch match;
    if (notes.find("compiled type=") != std::string::npos) {
      EXPECT_NE(notes.find("compiled type=MLModelType_" + model->kind), std::string::npos) << model->kind;
    } else if (notes.find("type=") != std::string::npos) {
      EXPECT_NE(notes.find("type=" + model->kind + ";"), std::string::npos) << model->kind;
    }
    if (row.at("kind") == "mlprogram" && std::regex_search(notes, match, std::regex("ops=([0-9]+)"))) {
      size_t ops = 0;
      for (const auto& fn : model->program.functions) ops += fn.CountOps();
      EXPECT_EQ(ops, std::stoul(match[1].str()));
      if (row.at("has_weights") == "no") {
        EXPECT_EQ(model->weights.state, ir::WeightsInfo::State::kMissing);
      } else {
        EXPECT_EQ(model->weights.state, ir::WeightsInfo::State::kPresent);
      }
    }
    const std::string& spec = row.at("spec_version_if_known");
    if (!spec.empty()) {
      EXPECT_EQ(model->spec_version, std::stoi(spec));
    }
  }
  EXPECT_EQ(read + refused, folders);
  EXPECT_EQ(refused, 0u) << "every corpus model is expected to read";
  RecordProperty("read", static_cast<int>(read));
}

}  // namespace
}  // namespace anepilot
