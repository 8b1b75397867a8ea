// Reading telemetry back: every file of a directory in order, each line
// validated, bad lines skipped and reported with file:line.
#include <dirent.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "base/mapped_file.h"
#include "telemetry/telemetry.h"

namespace anepilot {
namespace {

constexpr size_t kMaxProblems = 100;

void Merge(TelemetryReadResult& into, TelemetryReadResult&& from) {
  into.events.insert(into.events.end(), std::make_move_iterator(from.events.begin()),
                     std::make_move_iterator(from.events.end()));
  into.lines_total += from.lines_total;
  into.lines_skipped += from.lines_skipped;
  for (auto& p : from.problems) {
    if (into.problems.size() < kMaxProblems) into.problems.push_back(std::move(p));
  }
}

}  // namespace

std::vector<std::string> TelemetryFilesInOrder(const std::string& dir, const std::string& base_name) {
  std::vector<std::pair<long, std::string>> rotated;
  bool has_current = false;
  if (DIR* d = ::opendir(dir.c_str())) {
    std::string prefix = base_name + ".";
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == base_name + ".jsonl") {
        has_current = true;
        continue;
      }
      if (name.size() <= prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0 ||
          name.compare(name.size() - 6, 6, ".jsonl") != 0) {
        continue;
      }
      std::string number = name.substr(prefix.size(), name.size() - prefix.size() - 6);
      if (number.empty() || !std::all_of(number.begin(), number.end(), ::isdigit)) continue;
      rotated.emplace_back(std::strtol(number.c_str(), nullptr, 10), dir + "/" + name);
    }
    ::closedir(d);
  }
  std::sort(rotated.begin(), rotated.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& [n, path] : rotated) out.push_back(std::move(path));
  if (has_current) out.push_back(dir + "/" + base_name + ".jsonl");
  return out;
}

Result<TelemetryReadResult> ReadTelemetryFile(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  TelemetryReadResult result;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    bool terminated = end != std::string::npos;
    if (!terminated) end = text.size();
    std::string_view line(text.data() + start, end - start);
    ++line_no;
    start = end + 1;
    if (line.empty() || line == "\r") continue;
    ++result.lines_total;
    auto event = ParseTelemetryLine(line);
    if (event.ok()) {
      result.events.push_back(std::move(event).value());
      continue;
    }
    ++result.lines_skipped;
    if (result.problems.size() < kMaxProblems) {
      result.problems.push_back(fmt::format("{}:{}: {}{}", path, line_no, event.status().message(),
                                            terminated ? "" : " (last line, unterminated)"));
    }
  }
  return result;
}

Result<TelemetryReadResult> ReadTelemetryDir(const std::string& dir, const std::string& base_name) {
  TelemetryReadResult all;
  for (const std::string& path : TelemetryFilesInOrder(dir, base_name)) {
    auto one = ReadTelemetryFile(path);
    if (!one.ok()) {
      if (one.status().code() == StatusCode::kNotFound) continue;  // rotated away meanwhile
      return one.status();
    }
    Merge(all, std::move(one).value());
  }
  return all;
}

}  // namespace anepilot
