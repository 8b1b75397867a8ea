// JSON parsing with the project's error convention (no exceptions escape).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "anepilot/result.h"

namespace anepilot::format {

// Parses `text` as JSON. Errors: kParseError "<file>:<line>:<col>: <what>"
// at the last byte the JSON parser read (the offending character, or the
// last character of an offending string / number token).
Result<nlohmann::json> ParseJson(std::string_view text, const std::string& file);

// 1-based line and column of byte `offset` in `text`.
struct TextPosition { int line = 1; int column = 1; };
TextPosition PositionOf(std::string_view text, size_t offset);

}  // namespace anepilot::format
