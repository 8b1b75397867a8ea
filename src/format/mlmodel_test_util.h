// Shared helpers of the .mlmodel reader tests: reading corpus model files.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "anepilot/ir.h"
#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/mlmodel_spec.h"

namespace anepilot::format::testing {

// Path of a file inside ../shared/corpus.
inline std::string CorpusFile(const std::string& relative) {
  return ::anepilot::testing::CorpusDir() + "/" + relative;
}

// Reads and parses a corpus .mlmodel file; fails the test on error.
inline ir::Model ParseCorpusModel(const std::string& relative) {
  std::string path = CorpusFile(relative);
  auto bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  auto model = ParseModelSpec(*bytes, path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  return std::move(model).value();
}

// The first op of `fn`'s top-level block named `name`, or nullptr.
inline const ir::Op* FindOp(const ir::Function& fn, const std::string& name) {
  for (const auto& op : fn.body.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

inline const ir::Op* FindOpOfType(const ir::Function& fn, const std::string& type) {
  for (const auto& op : fn.body.ops) {
    if (op.type == type) return &op;
  }
  return nullptr;
}

}  // namespace anepilot::format::testing
