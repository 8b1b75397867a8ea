// Parser of Core ML's MIL text format (model.mil inside a compiled ML
// Program .mlmodelc) into ir::Program. Hand-written recursive descent over
// MilLexer; linear in the input, no regular expressions.
//
// Grammar (as coremlc writes it; whitespace and '#' / '//' comments free):
//   program   := 'program' '(' VERSION ')' attrs? '{' function* '}'
//   function  := 'func' NAME '<' OPSET '>' '(' (type NAME),* ')' attrs? block ';'?
//   block     := ('(' (type NAME),* ')')? '{' op* '}' '->' '(' NAME,* ')'
//   op        := outputs '=' OPTYPE '(' (PARAM '=' binding),* ')' attrs? block* ';'
//   outputs   := (type NAME),+  |  '(' (type NAME),+ ')'
//   binding   := NAME | typed | '(' (NAME | typed),* ')'
//   attrs     := '[' (KEY '=' typed),* ']'           ("name" becomes Op::name)
//   typed     := type '(' literal | BLOBFILE(path = typed, offset = typed) ')'
//   type      := DTYPE | 'tensor' '<' DTYPE (',' ('[' dim,* ']' | '?'))? '>'
//              | 'list' '<' type ',' (INT | '?') '>' | 'dict' '<' type ',' type '>'
//              | 'tuple' '<' type,* '>' | 'state' '<' type '>'
//   dim       := INT | SYMBOL | '?'
//   literal   := NUMBER | STRING | true | false | '[' literal,* ']'
//              | '{' literal,* '}' | '(' literal,* ')'
#pragma once

#include <string>
#include <string_view>

#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Immediate values with at most this many elements keep their values decoded
// (the same limit as the protobuf reader); larger ones keep only their size.
inline constexpr size_t kMilTextMaxDecodedElements = 64;

// Parses the whole text. Program::text_version is the written version
// ("1.3"), Program::version its major number. Program attributes
// (buildInfo) are flattened to "buildInfo.<key>" entries; a function's own
// attributes (e.g. FlexibleShapeInformation) are kept as their source text
// under "<function>.<key>".
// Errors: kParseError "<file>:<line>:<col>: expected <what> <where>, found
// '<token>'" at the first syntax error, or when nesting exceeds 64 levels.
// Thread-safe: no shared state.
Result<ir::Program> ParseMilText(std::string_view text, const std::string& file);

}  // namespace anepilot::format
