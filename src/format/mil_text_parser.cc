#include "format/mil_text_parser.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>

#include "format/mil_text_lexer.h"

namespace anepilot::format {

namespace {

using K = MilTokenKind;

constexpr int kMaxDepth = 64;

ir::DType DTypeFromMilText(std::string_view name) {
  if (name == "fp8e4m3fn") return ir::DType::kFloat8E4M3;
  return ir::DTypeFromName(name);
}

bool IsTypeKeyword(std::string_view s) {
  return s == "tensor" || s == "list" || s == "dict" || s == "tuple" || s == "state" ||
         DTypeFromMilText(s) != ir::DType::kUnknown;
}

std::optional<uint64_t> ByteSizeOf(const ir::TensorType& t) {
  if (!t.fully_known()) return std::nullopt;
  int bits = ir::DTypeBits(t.dtype);
  if (bits == 0) return std::nullopt;
  uint64_t n = 1;
  for (const ir::Dim& d : t.shape) {
    uint64_t s = static_cast<uint64_t>(d.size);
    if (s != 0 && n > std::numeric_limits<uint64_t>::max() / 64 / s) return std::nullopt;
    n *= s;
  }
  return (n * static_cast<uint64_t>(bits) + 7) / 8;
}

// Collects the leaves of a literal into a Constant, stopping to keep values
// after kMilTextMaxDecodedElements (the rest are still parsed, and counted).
struct LiteralSink {
  ir::Constant* c;
  size_t leaves = 0;
  uint64_t string_bytes = 0;
  void Number(double v) {
    if (++leaves <= kMilTextMaxDecodedElements) c->numbers.push_back(v);
  }
  void String(std::string s) {
    string_bytes += s.size();
    if (++leaves <= kMilTextMaxDecodedElements) c->strings.push_back(std::move(s));
  }
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : src_(text), lex_(text), file_(file) {
    tok_ = lex_.Next();
  }

  Result<ir::Program> ParseProgram() {
    ir::Program program;
    ANEPILOT_RETURN_IF_ERROR(ExpectKeyword("program", "at the start of the file"));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "after 'program'"));
    if (tok_.kind != K::kNumber) return Error("a version number", "in program(...)");
    program.text_version = std::string(tok_.text);
    program.version = std::strtoll(std::string(tok_.text).c_str(), nullptr, 10);
    Advance();
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kRParen, "after the program version"));
    if (tok_.kind == K::kLBracket) {
      ANEPILOT_RETURN_IF_ERROR(ParseProgramAttributes(&program));
    }
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLBrace, "before the program's functions"));
    while (tok_.kind == K::kIdentifier && tok_.text == "func") {
      ir::Function fn;
      ANEPILOT_RETURN_IF_ERROR(ParseFunction(&fn, &program));
      program.functions.push_back(std::move(fn));
    }
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kRBrace, "after the last function (or 'func')"));
    if (tok_.kind != K::kEnd) return Error("end of file", "after the program");
    return program;
  }

 private:
  // ------------------------------------------------------------ tokens ----
  void Advance() {
    last_end_ = tok_.text.data() + tok_.text.size();
    if (peek_) {
      tok_ = *peek_;
      peek_.reset();
    } else {
      tok_ = lex_.Next();
    }
  }
  const MilToken& Peek() {
    if (!peek_) peek_ = lex_.Next();
    return *peek_;
  }

  Status Error(std::string_view expected, std::string_view where) const {
    std::string found;
    if (tok_.kind == K::kEnd) {
      found = "end of file";
    } else {
      std::string_view t = tok_.text.substr(0, 40);
      found = fmt::format("'{}'", t);
    }
    return ErrorAt(tok_.line, tok_.column, fmt::format("expected {} {}, found {}", expected, where, found));
  }

  // A parse error "file:line:column: what" (the one message prefix of this parser).
  Status ErrorAt(uint32_t line, uint32_t column, std::string_view what) const {
    return ParseError(fmt::format("{}:{}:{}: {}", file_, line, column, what));
  }

  Status Expect(K kind, std::string_view where) {
    if (tok_.kind != kind) return Error(MilTokenKindName(kind), where);
    Advance();
    return Status::Ok();
  }

  Status ExpectKeyword(std::string_view word, std::string_view where) {
    if (tok_.kind != K::kIdentifier || tok_.text != word) {
      return Error(fmt::format("'{}'", word), where);
    }
    Advance();
    return Status::Ok();
  }

  template <typename Text>  // std::string or InlineString
  Status ExpectIdentifier(std::string_view what, std::string_view where, Text* out) {
    if (tok_.kind != K::kIdentifier) return Error(what, where);
    out->assign(tok_.text);
    Advance();
    return Status::Ok();
  }

  // Guards recursion against hostile nesting.
  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* parser) : p(parser) { ++p->depth_; }
    ~DepthGuard() { --p->depth_; }
  };
  Status CheckDepth() const {
    if (depth_ > kMaxDepth) {
      return ErrorAt(tok_.line, tok_.column, fmt::format("nesting deeper than {} levels", kMaxDepth));
    }
    return Status::Ok();
  }

  // ------------------------------------------------------------- types ----
  Status ParseType(ir::ValueType* type) {
    DepthGuard guard(this);
    ANEPILOT_RETURN_IF_ERROR(CheckDepth());
    if (tok_.kind != K::kIdentifier) return Error("a type", "");
    std::string_view word = tok_.text;
    if (word == "tensor") {
      Advance();
      type->kind = ir::ValueType::Kind::kTensor;
      return ParseTensorType(&type->tensor);
    }
    if (word == "state") {
      Advance();
      type->kind = ir::ValueType::Kind::kState;
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kLAngle, "after 'state'"));
      ir::ValueType wrapped;
      ANEPILOT_RETURN_IF_ERROR(ParseType(&wrapped));
      type->tensor = std::move(wrapped.tensor);
      return Expect(K::kRAngle, "to close state<...>");
    }
    if (word == "list") {
      Advance();
      type->kind = ir::ValueType::Kind::kList;
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kLAngle, "after 'list'"));
      ir::ValueType element;
      ANEPILOT_RETURN_IF_ERROR(ParseType(&element));
      type->tensor = std::move(element.tensor);
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kComma, "after the list element type"));
      if (tok_.kind != K::kNumber && tok_.kind != K::kQuestion && tok_.kind != K::kIdentifier) {
        return Error("a list length (number, symbol or '?')", "in list<...>");
      }
      Advance();
      return Expect(K::kRAngle, "to close list<...>");
    }
    if (word == "dict" || word == "tuple") {
      bool dict = word == "dict";
      Advance();
      type->kind = dict ? ir::ValueType::Kind::kDictionary : ir::ValueType::Kind::kTuple;
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kLAngle, dict ? "after 'dict'" : "after 'tuple'"));
      if (tok_.kind != K::kRAngle) {
        while (true) {
          ir::ValueType member;
          ANEPILOT_RETURN_IF_ERROR(ParseType(&member));
          type->members.push_back(std::move(member));
          if (tok_.kind != K::kComma) break;
          Advance();
        }
      }
      if (dict && type->members.size() != 2) {
        return Error("'>' after the key and value types", "of dict<key, value>");
      }
      return Expect(K::kRAngle, dict ? "to close dict<...>" : "to close tuple<...>");
    }
    ir::DType dtype = DTypeFromMilText(word);
    if (dtype == ir::DType::kUnknown) return Error("a type", "(tensor<...>, list, dict, tuple, state or a dtype)");
    Advance();
    type->kind = ir::ValueType::Kind::kTensor;
    type->tensor = ir::TensorType();  // a bare dtype is a scalar: rank 0, rank known
    type->tensor.dtype = dtype;
    return Status::Ok();
  }

  Status ParseTensorType(ir::TensorType* t) {
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLAngle, "after 'tensor'"));
    if (tok_.kind != K::kIdentifier) return Error("an element type", "in tensor<...>");
    t->dtype = DTypeFromMilText(tok_.text);
    if (t->dtype == ir::DType::kUnknown) return Error("an element type (fp16, int32, ...)", "in tensor<...>");
    Advance();
    if (tok_.kind == K::kComma) {
      Advance();
      if (tok_.kind == K::kQuestion) {
        t->rank_known = false;
        Advance();
      } else {
        ANEPILOT_RETURN_IF_ERROR(Expect(K::kLBracket, "before the tensor shape"));
        while (tok_.kind != K::kRBracket) {
          ANEPILOT_RETURN_IF_ERROR(ParseDim(t));
          if (tok_.kind == K::kComma) {
            Advance();
          } else if (tok_.kind != K::kRBracket) {
            return Error("',' or ']'", "in the tensor shape");
          }
        }
        Advance();
      }
    } else {
      t->rank_known = false;
    }
    return Expect(K::kRAngle, "to close tensor<...>");
  }

  Status ParseDim(ir::TensorType* t) {
    if (tok_.kind == K::kNumber) {
      int64_t v = -1;
      const char* end = tok_.text.data() + tok_.text.size();
      auto [ptr, ec] = std::from_chars(tok_.text.data(), end, v);
      if (ec != std::errc() || ptr != end || v < 0) {
        return Error("a non-negative integer dimension", "in the tensor shape");
      }
      t->shape.push_back(ir::Dim::Known(v));
    } else if (tok_.kind == K::kIdentifier) {
      t->shape.push_back(ir::Dim::Symbol(std::string(tok_.text)));
    } else if (tok_.kind == K::kQuestion) {
      t->shape.push_back(ir::Dim{});
    } else {
      return Error("a dimension (integer, symbol or '?')", "in the tensor shape");
    }
    Advance();
    return Status::Ok();
  }

  // ---------------------------------------------------------- literals ----
  Status ParseNumber(LiteralSink* sink) {
    char buf[80];
    size_t n = std::min(tok_.text.size(), sizeof(buf) - 1);
    tok_.text.copy(buf, n);
    buf[n] = '\0';
    sink->Number(std::strtod(buf, nullptr));
    Advance();
    return Status::Ok();
  }

  // Untyped literal: numbers, strings, bools, and [..] / {..} / (..) groups.
  Status ParseLiteral(LiteralSink* sink) {
    DepthGuard guard(this);
    ANEPILOT_RETURN_IF_ERROR(CheckDepth());
    switch (tok_.kind) {
      case K::kNumber:
        return ParseNumber(sink);
      case K::kString:
        sink->String(DecodeMilString(tok_.text));
        Advance();
        return Status::Ok();
      case K::kIdentifier:
        if (tok_.text == "true" || tok_.text == "false") {
          sink->Number(tok_.text == "true" ? 1 : 0);
          Advance();
          return Status::Ok();
        }
        return Error("a value", "");
      case K::kLBracket:
      case K::kLBrace:
      case K::kLParen: {
        K close = tok_.kind == K::kLBracket ? K::kRBracket
                  : tok_.kind == K::kLBrace  ? K::kRBrace
                                             : K::kRParen;
        Advance();
        while (tok_.kind != close) {
          ANEPILOT_RETURN_IF_ERROR(ParseLiteral(sink));
          if (tok_.kind == K::kComma) {
            Advance();
          } else if (tok_.kind != close) {
            return Error(fmt::format("',' or {}", MilTokenKindName(close)), "in a value");
          }
        }
        Advance();
        return Status::Ok();
      }
      default:
        return Error("a value", "");
    }
  }

  // typed := type '(' literal | BLOBFILE(...) ')'
  Status ParseTypedValue(ir::Constant* c) {
    ANEPILOT_RETURN_IF_ERROR(ParseType(&c->type));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "before a value"));
    if (tok_.kind == K::kIdentifier && tok_.text == "BLOBFILE") {
      Advance();
      ANEPILOT_RETURN_IF_ERROR(ParseBlobFile(c));
    } else if (tok_.kind != K::kRParen) {
      LiteralSink sink{c};
      ANEPILOT_RETURN_IF_ERROR(ParseLiteral(&sink));
      while (tok_.kind == K::kComma) {  // tuple<...>(a, b) written without inner parens
        Advance();
        ANEPILOT_RETURN_IF_ERROR(ParseLiteral(&sink));
      }
      if (sink.leaves > kMilTextMaxDecodedElements) {
        c->values_elided = true;
        c->numbers.clear();
        c->strings.clear();
      }
      if (c->type.kind == ir::ValueType::Kind::kTensor) {
        if (c->type.tensor.dtype == ir::DType::kString) {
          c->byte_size = sink.string_bytes;
        } else if (auto bytes = ByteSizeOf(c->type.tensor)) {
          c->byte_size = *bytes;
        }
      }
    }
    return Expect(K::kRParen, "after a value");
  }

  Status ParseBlobFile(ir::Constant* c) {
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "after BLOBFILE"));
    ir::BlobRef ref;
    bool has_path = false, has_offset = false;
    while (tok_.kind != K::kRParen) {
      std::string key;
      ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("'path' or 'offset'", "in BLOBFILE(...)", &key));
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kEquals, "after a BLOBFILE argument name"));
      const uint32_t value_line = tok_.line, value_column = tok_.column;
      ir::Constant v;
      ANEPILOT_RETURN_IF_ERROR(ParseTypedValue(&v));
      if (key == "path" && v.strings.size() == 1) {
        ref.file = std::move(v.strings[0]);
        has_path = true;
      } else if (key == "offset" && v.numbers.size() == 1) {
        // A byte position in the weight file: whole, not negative, and exact
        // as the double the value was read into (below 2^53, 8 PiB).
        const double x = v.numbers[0];
        if (!(x >= 0 && x < 0x1p53 && x == std::floor(x))) {
          return ErrorAt(value_line, value_column,
                         fmt::format("BLOBFILE offset {} is not a byte offset (a whole number from 0 to 2^53); "
                                     "the model.mil is corrupt",
                                     x));
        }
        ref.offset = static_cast<uint64_t>(x);
        has_offset = true;
      }
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRParen) {
        return Error("',' or ')'", "in BLOBFILE(...)");
      }
    }
    if (!has_path || !has_offset) {
      return Error("a string 'path' and an integer 'offset'", "in BLOBFILE(...) before");
    }
    Advance();
    c->blob = std::move(ref);
    c->values_elided = true;
    if (c->type.kind == ir::ValueType::Kind::kTensor) {
      if (auto bytes = ByteSizeOf(c->type.tensor)) c->byte_size = *bytes;
    }
    return Status::Ok();
  }

  // attrs := '[' (KEY '=' typed),* ']'; calls on_attr(key, constant, source text).
  template <typename OnAttr>
  Status ParseAttributes(std::string_view where, OnAttr on_attr) {
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLBracket, where));
    while (tok_.kind != K::kRBracket) {
      std::string key;
      ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("an attribute name", where, &key));
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kEquals, "after an attribute name"));
      const char* begin = tok_.text.data();
      ir::Constant c;
      ANEPILOT_RETURN_IF_ERROR(ParseTypedValue(&c));
      const char* end = last_end_;
      on_attr(std::move(key), std::move(c), std::string_view(begin, end - begin));
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRBracket) {
        return Error("',' or ']'", "after an attribute");
      }
    }
    Advance();
    return Status::Ok();
  }

  Status ParseProgramAttributes(ir::Program* program) {
    return ParseAttributes("in the program attributes", [&](std::string key, ir::Constant c,
                                                            std::string_view) {
      if (c.type.kind == ir::ValueType::Kind::kDictionary && c.strings.size() % 2 == 0) {
        for (size_t i = 0; i + 1 < c.strings.size(); i += 2) {
          program->attributes.insert_or_assign(key + "." + c.strings[i], c.strings[i + 1]);
        }
      } else {
        program->attributes.insert_or_assign(
            std::move(key), c.strings.size() == 1 ? c.strings[0] : c.ToString());
      }
    });
  }

  // ------------------------------------------------------------- graph ----
  Status ParseTypedName(ir::Value* v, std::string_view where) {
    ANEPILOT_RETURN_IF_ERROR(ParseType(&v->type));
    return ExpectIdentifier("a name", where, &v->name);
  }

  Status ParseFunction(ir::Function* fn, ir::Program* program) {
    Advance();  // 'func'
    ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("a function name", "after 'func'", &fn->name));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLAngle, "before the function's opset"));
    ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("an opset (ios16, ...)", "in func<...>", &fn->opset));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kRAngle, "after the opset"));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "before the function inputs"));
    while (tok_.kind != K::kRParen) {
      ir::Value input;
      ANEPILOT_RETURN_IF_ERROR(ParseTypedName(&input, "for a function input"));
      fn->inputs.push_back(std::move(input));
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRParen) {
        return Error("')'", "after the function inputs");
      }
    }
    Advance();
    if (tok_.kind == K::kLBracket) {
      ANEPILOT_RETURN_IF_ERROR(ParseAttributes(
          "in the function attributes", [&](std::string key, ir::Constant, std::string_view text) {
            program->attributes.insert_or_assign(fn->name + "." + key, std::string(text));
          }));
    }
    ANEPILOT_RETURN_IF_ERROR(ParseBlock(&fn->body, "of function"));
    if (tok_.kind == K::kSemicolon) Advance();
    return Status::Ok();
  }

  // block := ('(' inputs ')')? '{' op* '}' '->' '(' names ')'
  Status ParseBlock(ir::Block* block, std::string_view what) {
    DepthGuard guard(this);
    ANEPILOT_RETURN_IF_ERROR(CheckDepth());
    if (tok_.kind == K::kLParen) {
      Advance();
      while (tok_.kind != K::kRParen) {
        ir::Value input;
        ANEPILOT_RETURN_IF_ERROR(ParseTypedName(&input, "for a block input"));
        block->inputs.push_back(std::move(input));
        if (tok_.kind == K::kComma) {
          Advance();
        } else if (tok_.kind != K::kRParen) {
          return Error("')'", "after the block inputs");
        }
      }
      Advance();
    }
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLBrace, fmt::format("to open the body {}", what)));
    while (tok_.kind != K::kRBrace) {
      if (tok_.kind == K::kEnd) return Error("'}'", fmt::format("to close the body {}", what));
      ir::Op op;
      ANEPILOT_RETURN_IF_ERROR(ParseOp(&op));
      block->ops.push_back(std::move(op));
    }
    Advance();
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kArrow, fmt::format("after the body {}", what)));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "before the returned values"));
    while (tok_.kind != K::kRParen) {
      std::string name;
      ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("a returned value name", "in -> (...)", &name));
      block->outputs.push_back(std::move(name));
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRParen) {
        return Error("')'", "after the returned values");
      }
    }
    Advance();
    return Status::Ok();
  }

  Status ParseOp(ir::Op* op) {
    bool parenthesized = tok_.kind == K::kLParen;
    if (parenthesized) Advance();
    while (true) {
      ir::Value out;
      ANEPILOT_RETURN_IF_ERROR(ParseTypedName(&out, "for an op output"));
      op->outputs.push_back(std::move(out));
      if (tok_.kind != K::kComma) break;
      Advance();
    }
    if (parenthesized) ANEPILOT_RETURN_IF_ERROR(Expect(K::kRParen, "after the op outputs"));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kEquals, "after the op outputs"));
    ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("an op type", "after '='", &op->type));
    ANEPILOT_RETURN_IF_ERROR(Expect(K::kLParen, "after the op type"));
    while (tok_.kind != K::kRParen) {
      ir::Argument arg;
      ANEPILOT_RETURN_IF_ERROR(ExpectIdentifier("a parameter name", "in the argument list", &arg.param));
      ANEPILOT_RETURN_IF_ERROR(Expect(K::kEquals, "after a parameter name"));
      ANEPILOT_RETURN_IF_ERROR(ParseArgumentValue(&arg));
      op->inputs.push_back(std::move(arg));
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRParen) {
        return Error("')'", "after argument list");
      }
    }
    Advance();
    if (tok_.kind == K::kLBracket) {
      ANEPILOT_RETURN_IF_ERROR(ParseAttributes(
          "in the op attributes", [&](std::string key, ir::Constant c, std::string_view) {
            if (key == "name" && c.strings.size() == 1) {
              op->name = std::move(c.strings[0]);
            } else {
              op->attributes.insert_or_assign(std::move(key), std::move(c));
            }
          }));
    }
    while (tok_.kind == K::kLBrace || tok_.kind == K::kLParen) {
      ir::Block nested;
      ANEPILOT_RETURN_IF_ERROR(ParseBlock(&nested, fmt::format("of a nested block of {}", op->type)));
      op->blocks.push_back(std::move(nested));
    }
    if (op->name.empty()) op->name = op->outputs.front().name;
    return Expect(K::kSemicolon, "after an op");
  }

  Status ParseBinding(ir::Binding* b) {
    if (tok_.kind == K::kIdentifier && IsTypeKeyword(tok_.text)) {
      K next = Peek().kind;
      if (next == K::kLAngle || next == K::kLParen) {
        b->constant.emplace();
        return ParseTypedValue(&*b->constant);
      }
    }
    return ExpectIdentifier("a value name or a typed value", "as an argument", &b->name);
  }

  Status ParseArgumentValue(ir::Argument* arg) {
    if (tok_.kind != K::kLParen) {
      arg->bindings.emplace_back();
      return ParseBinding(&arg->bindings.back());
    }
    Advance();  // variadic: (a, b, ...)
    while (tok_.kind != K::kRParen) {
      arg->bindings.emplace_back();
      ANEPILOT_RETURN_IF_ERROR(ParseBinding(&arg->bindings.back()));
      if (tok_.kind == K::kComma) {
        Advance();
      } else if (tok_.kind != K::kRParen) {
        return Error("',' or ')'", "in a list of arguments");
      }
    }
    Advance();
    return Status::Ok();
  }

  std::string_view src_;
  MilLexer lex_;
  MilToken tok_;
  std::optional<MilToken> peek_;
  const char* last_end_ = nullptr;
  const std::string& file_;
  int depth_ = 0;
};

}  // namespace

Result<ir::Program> ParseMilText(std::string_view text, const std::string& file) {
  Parser parser(text, file);
  return parser.ParseProgram();
}

}  // namespace anepilot::format
