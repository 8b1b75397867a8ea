#include "format/mil_text_lexer.h"

#include <string>

namespace anepilot::format {

namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string_view MilTokenKindName(MilTokenKind kind) {
  switch (kind) {
    case MilTokenKind::kEnd: return "end of file";
    case MilTokenKind::kIdentifier: return "identifier";
    case MilTokenKind::kNumber: return "number";
    case MilTokenKind::kString: return "string";
    case MilTokenKind::kLParen: return "'('";
    case MilTokenKind::kRParen: return "')'";
    case MilTokenKind::kLBracket: return "'['";
    case MilTokenKind::kRBracket: return "']'";
    case MilTokenKind::kLBrace: return "'{'";
    case MilTokenKind::kRBrace: return "'}'";
    case MilTokenKind::kLAngle: return "'<'";
    case MilTokenKind::kRAngle: return "'>'";
    case MilTokenKind::kComma: return "','";
    case MilTokenKind::kEquals: return "'='";
    case MilTokenKind::kSemicolon: return "';'";
    case MilTokenKind::kArrow: return "'->'";
    case MilTokenKind::kQuestion: return "'?'";
    case MilTokenKind::kColon: return "':'";
    case MilTokenKind::kInvalid: return "invalid character";
  }
  return "token";
}

void MilLexer::SkipSpaceAndComments() {
  while (pos_ < src_.size()) {
    char c = src_[pos_];
    if (c == '\n') {
      ++pos_;
      ++line_;
      line_start_ = pos_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++pos_;
    } else if (c == '#' || (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/')) {
      while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
    } else {
      return;
    }
  }
}

MilToken MilLexer::Make(MilTokenKind kind, size_t start, uint32_t line, uint32_t column) {
  return MilToken{kind, src_.substr(start, pos_ - start), line, column};
}

size_t MilLexer::ScanNumber(size_t i) const {
  const size_t n = src_.size();
  const size_t orig = i;
  if (i < n && (src_[i] == '-' || src_[i] == '+')) ++i;
  // inf / nan (signed or not) are numbers when not part of a longer identifier.
  for (std::string_view word : {"inf", "nan"}) {
    if (src_.substr(i, word.size()) == word &&
        (i + word.size() >= n || !IsIdentChar(src_[i + word.size()]))) {
      return i + word.size();
    }
  }
  if (i + 1 < n && src_[i] == '0' && (src_[i + 1] == 'x' || src_[i + 1] == 'X')) {
    i += 2;
    size_t digits = i;
    while (i < n && (IsHexDigit(src_[i]) || src_[i] == '.')) ++i;
    if (i == digits) return orig;
    if (i < n && (src_[i] == 'p' || src_[i] == 'P')) {
      size_t e = i + 1;
      if (e < n && (src_[e] == '-' || src_[e] == '+')) ++e;
      if (e < n && IsDigit(src_[e])) {
        while (e < n && IsDigit(src_[e])) ++e;
        i = e;
      }
    }
    return i;
  }
  size_t digits = 0;
  while (i < n && IsDigit(src_[i])) { ++i; ++digits; }
  if (i < n && src_[i] == '.') {
    ++i;
    while (i < n && IsDigit(src_[i])) { ++i; ++digits; }
  }
  if (digits == 0) return orig;
  if (i < n && (src_[i] == 'e' || src_[i] == 'E')) {
    size_t e = i + 1;
    if (e < n && (src_[e] == '-' || src_[e] == '+')) ++e;
    if (e < n && IsDigit(src_[e])) {
      while (e < n && IsDigit(src_[e])) ++e;
      i = e;
    }
  }
  return i;
}

MilToken MilLexer::Next() {
  SkipSpaceAndComments();
  const size_t start = pos_;
  const uint32_t line = line_;
  const uint32_t column = static_cast<uint32_t>(pos_ - line_start_ + 1);
  if (pos_ >= src_.size()) return Make(MilTokenKind::kEnd, start, line, column);
  const char c = src_[pos_];

  if (IsIdentStart(c)) {
    if (c == 'i' || c == 'n') {  // bare inf / nan are numbers
      size_t end = ScanNumber(pos_);
      if (end > pos_) {
        pos_ = end;
        return Make(MilTokenKind::kNumber, start, line, column);
      }
    }
    while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
    return Make(MilTokenKind::kIdentifier, start, line, column);
  }
  if (IsDigit(c) || c == '-' || c == '+' || c == '.') {
    if (c == '-' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '>') {
      pos_ += 2;
      return Make(MilTokenKind::kArrow, start, line, column);
    }
    size_t end = ScanNumber(pos_);
    if (end > pos_) {
      pos_ = end;
      return Make(MilTokenKind::kNumber, start, line, column);
    }
    ++pos_;
    return Make(MilTokenKind::kInvalid, start, line, column);
  }
  if (c == '"') {
    ++pos_;
    while (pos_ < src_.size() && src_[pos_] != '"') {
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) ++pos_;
      if (src_[pos_] == '\n') {  // strings may span lines (escaped or not)
        ++line_;
        line_start_ = pos_ + 1;
      }
      ++pos_;
    }
    if (pos_ >= src_.size()) return Make(MilTokenKind::kInvalid, start, line, column);
    ++pos_;  // closing quote
    return Make(MilTokenKind::kString, start, line, column);
  }
  ++pos_;
  MilTokenKind kind = MilTokenKind::kInvalid;
  switch (c) {
    case '(': kind = MilTokenKind::kLParen; break;
    case ')': kind = MilTokenKind::kRParen; break;
    case '[': kind = MilTokenKind::kLBracket; break;
    case ']': kind = MilTokenKind::kRBracket; break;
    case '{': kind = MilTokenKind::kLBrace; break;
    case '}': kind = MilTokenKind::kRBrace; break;
    case '<': kind = MilTokenKind::kLAngle; break;
    case '>': kind = MilTokenKind::kRAngle; break;
    case ',': kind = MilTokenKind::kComma; break;
    case '=': kind = MilTokenKind::kEquals; break;
    case ';': kind = MilTokenKind::kSemicolon; break;
    case '?': kind = MilTokenKind::kQuestion; break;
    case ':': kind = MilTokenKind::kColon; break;
    default: break;
  }
  return Make(kind, start, line, column);
}

std::string DecodeMilString(std::string_view quoted) {
  if (quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"') {
    quoted = quoted.substr(1, quoted.size() - 2);
  }
  std::string out;
  out.reserve(quoted.size());
  for (size_t i = 0; i < quoted.size(); ++i) {
    char c = quoted[i];
    if (c != '\\' || i + 1 >= quoted.size()) {
      out.push_back(c);
      continue;
    }
    char e = quoted[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case '0': out.push_back('\0'); break;
      case 'x': {
        int value = 0, digits = 0;
        while (digits < 2 && i + 1 < quoted.size() && IsHexDigit(quoted[i + 1])) {
          char h = quoted[++i];
          value = value * 16 + (IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
          ++digits;
        }
        out.push_back(static_cast<char>(value));
        break;
      }
      default: out.push_back(e); break;
    }
  }
  return out;
}

}  // namespace anepilot::format
