#include "format/json_util.h"

#include <fmt/format.h>

namespace anepilot::format {

TextPosition PositionOf(std::string_view text, size_t offset) {
  TextPosition pos;
  offset = std::min(offset, text.size());
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

Result<nlohmann::json> ParseJson(std::string_view text, const std::string& file) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the byte at which parsing failed.
    TextPosition pos = PositionOf(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2: ...";
    // keep only the description after the position.
    size_t colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return ParseError(fmt::format("{}:{}:{}: malformed JSON: {}", file, pos.line, pos.column, what));
  } catch (const nlohmann::json::exception& e) {
    return ParseError(fmt::format("{}: malformed JSON: {}", file, e.what()));
  }
}

}  // namespace anepilot::format
