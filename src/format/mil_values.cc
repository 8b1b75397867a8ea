#include "format/mil_values.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace anepilot::format {

double HalfBitsToDouble(uint16_t h) {
  // Exact: every fp16 value is a double. Built from bits rather than with
  // ldexp, which was 3% of reading a program of small fp16 constants.
  const uint64_t sign = static_cast<uint64_t>(h >> 15) << 63;
  const uint64_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = static_cast<double>(mant) * 0x1p-24;  // zero and subnormals; a power-of-two scale is exact
    return sign ? -v : v;
  }
  uint64_t bits;
  if (exp == 31) {
    bits = sign | (uint64_t{0x7ff} << 52) | (mant << 42) | (mant ? uint64_t{1} << 51 : 0);  // inf, quiet NaN
  } else {
    bits = sign | ((exp - 15 + 1023) << 52) | (mant << 42);
  }
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

ir::DType MilDataTypeToIr(int64_t value) {
  // MILSpec.DataType numbers (src/format/proto/MIL.proto).
  switch (value) {
    case 1: return ir::DType::kBool;
    case 2: return ir::DType::kString;
    case 10: return ir::DType::kFloat16;
    case 11: return ir::DType::kFloat32;
    case 12: return ir::DType::kFloat64;
    case 13: return ir::DType::kBFloat16;
    case 21: return ir::DType::kInt8;
    case 22: return ir::DType::kInt16;
    case 23: return ir::DType::kInt32;
    case 24: return ir::DType::kInt64;
    case 25: return ir::DType::kInt4;
    case 31: return ir::DType::kUInt8;
    case 32: return ir::DType::kUInt16;
    case 33: return ir::DType::kUInt32;
    case 34: return ir::DType::kUInt64;
    case 35: return ir::DType::kUInt4;
    case 36: return ir::DType::kUInt2;
    case 37: return ir::DType::kUInt1;
    case 38: return ir::DType::kUInt6;
    case 39: return ir::DType::kUInt3;
    case 40: return ir::DType::kFloat8E4M3;
    case 41: return ir::DType::kFloat8E5M2;
    default: return ir::DType::kUnknown;
  }
}

std::optional<int64_t> SafeElementCount(const ir::TensorType& t) {
  if (!t.fully_known()) return std::nullopt;
  int64_t n = 1;
  for (const auto& d : t.shape) {
    if (d.size != 0 && n > std::numeric_limits<int64_t>::max() / d.size) return std::nullopt;
    n *= d.size;
  }
  return n;
}

std::optional<uint64_t> SafeByteSize(const ir::TensorType& t) {
  auto n = SafeElementCount(t);
  int bits = ir::DTypeBits(t.dtype);
  if (!n || bits == 0 || *n > std::numeric_limits<int64_t>::max() / 64) return std::nullopt;
  return static_cast<uint64_t>((*n * bits + 7) / 8);
}

namespace {

double BFloat16ToDouble(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

bool DecodePackedBytes(std::string_view bytes, ir::DType dtype, int64_t count,
                       ArenaVector<double>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  int bits = ir::DTypeBits(dtype);
  if (bits != 8 && bits != 16) return false;
  if (dtype == ir::DType::kFloat8E4M3 || dtype == ir::DType::kFloat8E5M2) return false;
  if (static_cast<uint64_t>(count) * (bits / 8) > bytes.size()) return false;
  out->reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    if (bits == 8) {
      out->push_back(dtype == ir::DType::kInt8 ? static_cast<double>(static_cast<int8_t>(p[i]))
                                               : static_cast<double>(p[i]));
      continue;
    }
    uint16_t v = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
    switch (dtype) {
      case ir::DType::kFloat16: out->push_back(HalfBitsToDouble(v)); break;
      case ir::DType::kBFloat16: out->push_back(BFloat16ToDouble(v)); break;
      case ir::DType::kInt16: out->push_back(static_cast<int16_t>(v)); break;
      default: out->push_back(v); break;
    }
  }
  return true;
}

}  // namespace anepilot::format
