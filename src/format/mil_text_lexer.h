// Tokens of Core ML's MIL text format (the model.mil file of a compiled ML
// Program), produced on demand over a string_view: no allocation per token,
// no regular expressions. Token texts are views into the source, which must
// outlive the lexer and its tokens.
#pragma once

#include <cstdint>
#include <string_view>

namespace anepilot::format {

enum class MilTokenKind : uint8_t {
  kEnd,         // end of input
  kIdentifier,  // [A-Za-z_][A-Za-z0-9_]*  (keywords are identifiers too)
  kNumber,      // 12, -3, 1.5e-3, 0x1.8p-2, -inf, nan
  kString,      // "..." with C escapes; text keeps the quotes and escapes
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace, kLAngle, kRAngle,
  kComma, kEquals, kSemicolon, kArrow, kQuestion, kColon,
  kInvalid,     // a byte that starts no token, or an unterminated string
};

// Short printable name of a kind, for messages ("identifier", "')'").
std::string_view MilTokenKindName(MilTokenKind kind);

struct MilToken {
  MilTokenKind kind = MilTokenKind::kEnd;
  std::string_view text;
  uint32_t line = 1;    // 1-based position of the token's first byte
  uint32_t column = 1;
};

// Skips spaces and comments ('#' or '//' to the end of the line).
// Not thread-safe; cheap to copy (a lookahead is a copy).
class MilLexer {
 public:
  explicit MilLexer(std::string_view source) : src_(source) {}
  MilToken Next();

 private:
  void SkipSpaceAndComments();
  MilToken Make(MilTokenKind kind, size_t start, uint32_t line, uint32_t column);
  size_t ScanNumber(size_t i) const;  // end of a number starting at i, or i when none

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;  // offset of the current line's first byte
};

// Decodes a kString token's text (with quotes) into its value. Handles the
// escapes \" \\ \n \t \r \0 and \xHH; others keep the escaped character.
std::string DecodeMilString(std::string_view quoted);

}  // namespace anepilot::format
