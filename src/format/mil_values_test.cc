#include "format/mil_values.h"

#include <cmath>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace anepilot::format {
namespace {

// The IEEE 754 binary16 definition, written the slow way.
double HalfByDefinition(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(mant, -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(1024 + mant, exp - 25);
  }
  return sign ? -v : v;
}

TEST(HalfBitsToDouble, AgreesWithTheDefinitionOnAll65536Values) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const double got = HalfBitsToDouble(static_cast<uint16_t>(h));
    const double want = HalfByDefinition(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << std::hex << h;
    } else {
      EXPECT_EQ(got, want) << std::hex << h;
      EXPECT_EQ(std::signbit(got), std::signbit(want)) << std::hex << h;  // -0.0 stays negative
    }
  }
}

TEST(HalfBitsToDouble, KnownValues) {
  EXPECT_EQ(HalfBitsToDouble(0x3c00), 1.0);
  EXPECT_EQ(HalfBitsToDouble(0xc000), -2.0);
  EXPECT_EQ(HalfBitsToDouble(0x7bff), 65504.0);        // largest finite
  EXPECT_EQ(HalfBitsToDouble(0x0001), std::ldexp(1, -24));  // smallest subnormal
  EXPECT_EQ(HalfBitsToDouble(0x0400), std::ldexp(1, -14));  // smallest normal
  EXPECT_EQ(HalfBitsToDouble(0x3555), 0.333251953125);
  EXPECT_EQ(HalfBitsToDouble(0xfc00), -INFINITY);
}

TEST(DecodePackedBytes, ReadsLittleEndianHalvesAndRefusesShortInput) {
  const std::string bytes("\x00\x3c\x00\xc0\xff\x7b", 6);
  ArenaVector<double> out;
  ASSERT_TRUE(DecodePackedBytes(bytes, ir::DType::kFloat16, 3, &out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], 1.0);
  EXPECT_EQ(out[1], -2.0);
  EXPECT_EQ(out[2], 65504.0);
  ArenaVector<double> short_out;
  EXPECT_FALSE(DecodePackedBytes(bytes, ir::DType::kFloat16, 4, &short_out));
}

}  // namespace
}  // namespace anepilot::format
