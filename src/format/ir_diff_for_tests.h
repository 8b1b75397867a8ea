// Deep comparison of two ir::Program values for tests and fuzzers: the first
// difference, described by where it is ("function 'main' op 12 ('conv_3')
// input 'x' binding 0: constant numbers differ: ..."), or an empty string
// when the programs are equal. Numbers compare by value, with NaN equal to
// NaN (a decoded NaN constant must not count as a difference).
// Header-only; not part of any product library.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "anepilot/ir.h"

namespace anepilot::format::testing {

namespace ir_diff_detail {

inline bool SameNumber(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

inline std::string Describe(const ir::ValueType& t) { return t.ToString(); }

inline std::string ConstantDifference(const ir::Constant& a, const ir::Constant& b) {
  if (!(a.type == b.type)) return fmt::format("constant types differ: {} vs {}", a.type.ToString(), b.type.ToString());
  if (a.numbers.size() != b.numbers.size()) {
    return fmt::format("constant number counts differ: {} vs {}", a.numbers.size(), b.numbers.size());
  }
  for (size_t i = 0; i < a.numbers.size(); ++i) {
    if (!SameNumber(a.numbers[i], b.numbers[i])) {
      return fmt::format("constant number {} differs: {} vs {}", i, a.numbers[i], b.numbers[i]);
    }
  }
  if (a.strings != b.strings) return fmt::format("constant strings differ ({} vs {} strings)", a.strings.size(), b.strings.size());
  if (a.blob.has_value() != b.blob.has_value()) return "one constant has a blob reference, the other not";
  if (a.blob && (a.blob->file != b.blob->file || a.blob->offset != b.blob->offset)) {
    return fmt::format("blob references differ: {}@{} vs {}@{}", a.blob->file, a.blob->offset, b.blob->file,
                       b.blob->offset);
  }
  if (a.byte_size != b.byte_size) return fmt::format("constant byte sizes differ: {} vs {}", a.byte_size, b.byte_size);
  if (a.values_elided != b.values_elided) return "values_elided differs";
  return {};
}

inline std::string ValuesDifference(const ArenaVector<ir::Value>& a, const ArenaVector<ir::Value>& b,
                                    const std::string& what) {
  if (a.size() != b.size()) return fmt::format("{} counts differ: {} vs {}", what, a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return fmt::format("{} {} names differ: '{}' vs '{}'", what, i, a[i].name, b[i].name);
    if (!(a[i].type == b[i].type)) {
      return fmt::format("{} {} ('{}') types differ: {} vs {}", what, i, a[i].name, a[i].type.ToString(),
                         b[i].type.ToString());
    }
  }
  return {};
}

inline std::string BlockDifference(const ir::Block& a, const ir::Block& b, const std::string& where);

inline std::string OpDifference(const ir::Op& a, const ir::Op& b, const std::string& where) {
  if (a.type != b.type) return fmt::format("{}: types differ: '{}' vs '{}'", where, a.type, b.type);
  if (a.name != b.name) return fmt::format("{}: names differ: '{}' vs '{}'", where, a.name, b.name);
  if (a.inputs.size() != b.inputs.size()) {
    return fmt::format("{}: input counts differ: {} vs {}", where, a.inputs.size(), b.inputs.size());
  }
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const auto& x = a.inputs[i];
    const auto& y = b.inputs[i];
    if (x.param != y.param) return fmt::format("{}: input {} params differ: '{}' vs '{}'", where, i, x.param, y.param);
    if (x.bindings.size() != y.bindings.size()) {
      return fmt::format("{}: input '{}' binding counts differ: {} vs {}", where, x.param, x.bindings.size(),
                         y.bindings.size());
    }
    for (size_t j = 0; j < x.bindings.size(); ++j) {
      const auto& p = x.bindings[j];
      const auto& q = y.bindings[j];
      std::string at = fmt::format("{}: input '{}' binding {}", where, x.param, j);
      if (p.name != q.name) return fmt::format("{}: names differ: '{}' vs '{}'", at, p.name, q.name);
      if (p.constant.has_value() != q.constant.has_value()) return at + ": one is a constant, the other not";
      if (p.constant) {
        std::string d = ConstantDifference(*p.constant, *q.constant);
        if (!d.empty()) return at + ": " + d;
      }
    }
  }
  if (a.attributes.size() != b.attributes.size()) {
    return fmt::format("{}: attribute counts differ: {} vs {}", where, a.attributes.size(), b.attributes.size());
  }
  for (auto i = a.attributes.begin(), j = b.attributes.begin(); i != a.attributes.end(); ++i, ++j) {
    if (i->first != j->first) return fmt::format("{}: attribute keys differ: '{}' vs '{}'", where, i->first, j->first);
    std::string d = ConstantDifference(i->second, j->second);
    if (!d.empty()) return fmt::format("{}: attribute '{}': {}", where, i->first, d);
  }
  std::string d = ValuesDifference(a.outputs, b.outputs, "output");
  if (!d.empty()) return where + ": " + d;
  if (a.blocks.size() != b.blocks.size()) {
    return fmt::format("{}: nested block counts differ: {} vs {}", where, a.blocks.size(), b.blocks.size());
  }
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    d = BlockDifference(a.blocks[i], b.blocks[i], fmt::format("{} block {}", where, i));
    if (!d.empty()) return d;
  }
  return {};
}

inline std::string BlockDifference(const ir::Block& a, const ir::Block& b, const std::string& where) {
  std::string d = ValuesDifference(a.inputs, b.inputs, "block input");
  if (!d.empty()) return where + ": " + d;
  if (a.ops.size() != b.ops.size()) {
    return fmt::format("{}: op counts differ: {} vs {}", where, a.ops.size(), b.ops.size());
  }
  for (size_t i = 0; i < a.ops.size(); ++i) {
    d = OpDifference(a.ops[i], b.ops[i], fmt::format("{} op {} ('{}')", where, i, a.ops[i].name));
    if (!d.empty()) return d;
  }
  if (a.outputs != b.outputs) return where + ": block outputs differ";
  return {};
}

}  // namespace ir_diff_detail

// The first difference between `a` and `b`, or "" when they are equal.
inline std::string FirstProgramDifference(const ir::Program& a, const ir::Program& b) {
  using namespace ir_diff_detail;
  if (a.version != b.version) return fmt::format("program versions differ: {} vs {}", a.version, b.version);
  if (a.text_version != b.text_version) return "program text versions differ";
  if (a.attributes != b.attributes) {
    for (const auto& [k, v] : a.attributes) {
      auto it = b.attributes.find(k);
      if (it == b.attributes.end()) return fmt::format("program attribute '{}' missing from the second", k);
      if (it->second != v) return fmt::format("program attribute '{}' differs: '{}' vs '{}'", k, v, it->second);
    }
    return "the second program has extra attributes";
  }
  if (a.functions.size() != b.functions.size()) {
    return fmt::format("function counts differ: {} vs {}", a.functions.size(), b.functions.size());
  }
  for (size_t i = 0; i < a.functions.size(); ++i) {
    const auto& f = a.functions[i];
    const auto& g = b.functions[i];
    std::string where = fmt::format("function {} ('{}')", i, f.name);
    if (f.name != g.name) return fmt::format("{}: names differ: '{}' vs '{}'", where, f.name, g.name);
    if (f.opset != g.opset) return fmt::format("{}: opsets differ: '{}' vs '{}'", where, f.opset, g.opset);
    std::string d = ValuesDifference(f.inputs, g.inputs, "function input");
    if (!d.empty()) return where + ": " + d;
    d = BlockDifference(f.body, g.body, where);
    if (!d.empty()) return d;
  }
  return {};
}

}  // namespace anepilot::format::testing
