// A left-aligned text table for terminal output: columns sized to their widest
// cell, two spaces apart, an optional header row. Cells are plain UTF-8 bytes;
// width is counted in bytes, which is exact for the ASCII anepilot prints.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace anepilot::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header = {}) : header_(std::move(header)) {}

  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }

  // Writes every row, each line starting with `indent`. Numeric-looking
  // columns are not right-aligned: tables stay greppable and diffable.
  void Print(std::ostream& out, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "512 B", "3.4 KiB", "32.0 MiB", "1.25 GiB".
std::string HumanBytes(uint64_t bytes);

}  // namespace anepilot::cli
