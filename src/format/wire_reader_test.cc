#include "format/wire_reader.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "proto/MIL.pb.h"
#include "proto/Model.pb.h"

namespace anepilot::format::wire {
namespace {

// Hand encoding of wire bytes.
void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
std::string PutVarintForTest(uint64_t v) {
  std::string out;
  PutVarint(&out, v);
  return out;
}
void PutTag(std::string* out, uint32_t number, WireType type) {
  PutVarint(out, (static_cast<uint64_t>(number) << 3) | static_cast<uint32_t>(type));
}
void PutLen(std::string* out, uint32_t number, const std::string& bytes) {
  PutTag(out, number, WireType::kLen);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

// Walks every field of `bytes` (not descending into nested messages).
WireError WalkAll(std::string_view bytes, size_t* fields = nullptr) {
  WireReader r(bytes, 0);
  FieldKey k;
  size_t n = 0;
  while (r.NextField(&k)) {
    if (!r.Skip(k)) break;
    ++n;
  }
  if (fields != nullptr) *fields = n;
  return r.error();
}

// The serialized operations of the first function of problem1 (a real
// coremltools export).
std::vector<std::string> RealOperations() {
  auto bytes = ReadFileToString(::anepilot::testing::CorpusDir() +
                                "/faceapp-problem1/problem1.mlpackage/Data/com.apple.CoreML/model.mlmodel");
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  CoreML::Specification::Model model;
  EXPECT_TRUE(model.ParseFromString(*bytes));
  CoreML::Specification::MILSpec::Program program;
  EXPECT_TRUE(program.ParseFromString(model.mlprogram()));
  std::vector<std::string> ops;
  for (const auto& block : program.functions(0).value().block_specializations()) {
    for (const auto& op : block.value().operations()) ops.push_back(op);
  }
  return ops;
}

TEST(WireReader, ReadsEveryScalarKind) {
  std::string b;
  PutTag(&b, 1, WireType::kVarint);
  PutVarint(&b, 300);
  PutTag(&b, 2, WireType::kFixed32);
  b.append("\x01\x02\x03\x04", 4);
  PutTag(&b, 3, WireType::kFixed64);
  b.append("\x01\x00\x00\x00\x00\x00\x00\x80", 8);
  PutLen(&b, 4, "abc");
  PutTag(&b, 5, WireType::kVarint);
  PutVarint(&b, UINT64_MAX);  // ten bytes
  WireReader r(b, 100);
  FieldKey k;
  uint64_t v;
  uint32_t w;
  std::string_view s;
  size_t off = 0;
  ASSERT_TRUE(r.NextField(&k));
  EXPECT_EQ(k.number, 1u);
  ASSERT_TRUE(r.ReadVarint(&v));
  EXPECT_EQ(v, 300u);
  ASSERT_TRUE(r.NextField(&k));
  EXPECT_EQ(k.type, WireType::kFixed32);
  ASSERT_TRUE(r.ReadFixed32(&w));
  EXPECT_EQ(w, 0x04030201u);
  ASSERT_TRUE(r.NextField(&k));
  ASSERT_TRUE(r.ReadFixed64(&v));
  EXPECT_EQ(v, 0x8000000000000001u);
  ASSERT_TRUE(r.NextField(&k));
  ASSERT_TRUE(r.ReadLen(&s, &off));
  EXPECT_EQ(s, "abc");
  EXPECT_EQ(off, 100u + b.find("abc"));
  ASSERT_TRUE(r.NextField(&k));
  ASSERT_TRUE(r.ReadVarint(&v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(r.NextField(&k));
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.at_end());
}

TEST(WireReader, UnknownFieldsOfEveryWireTypeAreSkippedIncludingGroups) {
  std::string b;
  PutTag(&b, 7, WireType::kVarint);
  PutVarint(&b, 123456789);
  PutTag(&b, 8, WireType::kFixed64);
  b.append(8, '\x11');
  PutTag(&b, 9, WireType::kFixed32);
  b.append(4, '\x22');
  PutLen(&b, 10, "nested bytes");
  // A group holding a varint, a nested group and a length-delimited field.
  PutTag(&b, 11, WireType::kStartGroup);
  PutTag(&b, 1, WireType::kVarint);
  PutVarint(&b, 5);
  PutTag(&b, 2, WireType::kStartGroup);
  PutLen(&b, 3, "x");
  PutTag(&b, 2, WireType::kEndGroup);
  PutTag(&b, 11, WireType::kEndGroup);
  PutLen(&b, 1, "after");
  WireReader r(b, 0);
  FieldKey k;
  std::string_view s;
  int skipped = 0;
  while (r.NextField(&k)) {
    if (k.number == 1) {
      ASSERT_TRUE(r.ReadLen(&s));
      continue;
    }
    ASSERT_TRUE(r.Skip(k)) << "field " << k.number;
    ++skipped;
  }
  EXPECT_FALSE(r.failed()) << r.error().what;
  EXPECT_EQ(skipped, 5);
  EXPECT_EQ(s, "after");
}

TEST(WireReader, MalformedInputsAreMalformedWithTheirOffset) {
  struct Case {
    std::string bytes;
    const char* why;
  };
  std::string prefix;
  PutLen(&prefix, 1, "ok");  // 4 bytes of a valid field before the fault
  std::string mismatched_group;
  PutTag(&mismatched_group, 3, WireType::kStartGroup);
  PutTag(&mismatched_group, 4, WireType::kEndGroup);
  std::vector<Case> cases = {
      {std::string("\x0e", 1), "wire type 6"},
      {std::string("\x0f", 1), "wire type 7"},
      {std::string("\x0c", 1), "stray end-group"},
      {std::string("\x02\x00", 2), "field number 0"},
      {std::string("\x08") + std::string(10, '\xff') + "\x01", "varint of 11 bytes"},
      {std::string("\x8a\x80\x80\x80\x80\x00", 6), "tag longer than 5 bytes"},
      {mismatched_group, "end-group of another field"},
  };
  for (const auto& c : cases) {
    WireError e = WalkAll(prefix + c.bytes);
    EXPECT_EQ(e.kind, WireErrorKind::kMalformed) << c.why;
    EXPECT_GE(e.offset, prefix.size()) << c.why;
  }
}

TEST(WireReader, TruncationAtEveryPrefixOfARealOperationIsTruncatedNeverMalformed) {
  ANEPILOT_REQUIRE_SHARED();
  auto ops = RealOperations();
  ASSERT_GT(ops.size(), 100u);
  // The longest operation of the program and a few others.
  const std::string* longest = &ops[0];
  for (const auto& op : ops) {
    if (op.size() > longest->size()) longest = &op;
  }
  for (const std::string* op : std::vector<const std::string*>{longest, &ops[0], &ops[ops.size() / 2]}) {
    // Field boundaries of the whole operation: cuts there read cleanly.
    std::vector<size_t> boundaries = {0};
    WireReader whole(*op, 0);
    FieldKey k;
    while (whole.NextField(&k)) {
      ASSERT_TRUE(whole.Skip(k));
      boundaries.push_back(whole.offset());
    }
    ASSERT_FALSE(whole.failed());
    size_t truncated = 0;
    for (size_t len = 0; len < op->size(); ++len) {
      WireError e = WalkAll(std::string_view(*op).substr(0, len));
      bool at_boundary = std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
      if (at_boundary) {
        EXPECT_EQ(e.kind, WireErrorKind::kNone) << "cut at " << len;
      } else {
        EXPECT_EQ(e.kind, WireErrorKind::kTruncated) << "cut at " << len << " of " << op->size();
        EXPECT_LE(e.offset, len);
        ++truncated;
      }
    }
    EXPECT_GT(truncated, 0u);
  }
}

TEST(WireReader, PackedAndUnpackedRepeatedScalarsReadTheSame) {
  const std::vector<uint64_t> values = {0, 1, 300, 1ull << 40, UINT64_MAX};
  std::string unpacked, packed_run;
  for (uint64_t v : values) {
    PutTag(&unpacked, 1, WireType::kVarint);
    PutVarint(&unpacked, v);
    PutVarint(&packed_run, v);
  }
  std::string packed;
  PutLen(&packed, 1, packed_run);
  // Both forms, and a mix of them, as protobuf accepts.
  const std::vector<std::pair<std::string, int>> forms = {{unpacked, 1}, {packed, 1}, {packed + unpacked, 2}};
  for (const auto& [bytes, repeats] : forms) {
    std::vector<uint64_t> got;
    WireReader r(bytes, 0);
    FieldKey k;
    while (r.NextField(&k)) {
      ASSERT_TRUE(ReadRepeatedScalar<WireType::kVarint>(r, k, [&](uint64_t v) { got.push_back(v); }));
    }
    EXPECT_FALSE(r.failed());
    std::vector<uint64_t> expected = values;
    if (repeats == 2) expected.insert(expected.end(), values.begin(), values.end());
    EXPECT_EQ(got, expected);
  }

  // fixed32: packed run and single elements.
  std::string f32;
  PutLen(&f32, 1, std::string("\x01\x00\x00\x00\x02\x00\x00\x00", 8));
  PutTag(&f32, 1, WireType::kFixed32);
  f32.append("\x03\x00\x00\x00", 4);
  std::vector<uint64_t> got;
  WireReader r(f32, 0);
  FieldKey k;
  while (r.NextField(&k)) {
    ASSERT_TRUE(ReadRepeatedScalar<WireType::kFixed32>(r, k, [&](uint64_t v) { got.push_back(v); }));
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(WireReader, BadPackedRunsAreMalformed) {
  std::string odd;
  PutLen(&odd, 1, std::string("\x01\x00\x00\x00\x02", 5));  // 5 bytes of fixed32
  WireReader r(odd, 0);
  FieldKey k;
  ASSERT_TRUE(r.NextField(&k));
  EXPECT_FALSE(ReadRepeatedScalar<WireType::kFixed32>(r, k, [](uint64_t) {}));
  EXPECT_EQ(r.error().kind, WireErrorKind::kMalformed);

  std::string cut;
  PutLen(&cut, 1, std::string("\x05\x80", 2));  // the second varint never ends
  WireReader c(cut, 0);
  ASSERT_TRUE(c.NextField(&k));
  EXPECT_FALSE(ReadRepeatedScalar<WireType::kVarint>(c, k, [](uint64_t) {}));
  EXPECT_EQ(c.error().kind, WireErrorKind::kMalformed);
}

TEST(WireReader, AFieldOfAnotherWireTypeIsSkippedByRepeatedScalarReads) {
  std::string b;
  PutTag(&b, 1, WireType::kFixed64);  // wrong wire type for a varint field: unknown
  b.append(8, '\x7f');
  PutTag(&b, 1, WireType::kVarint);
  PutVarint(&b, 9);
  std::vector<uint64_t> got;
  WireReader r(b, 0);
  FieldKey k;
  while (r.NextField(&k)) {
    ASSERT_TRUE(ReadRepeatedScalar<WireType::kVarint>(r, k, [&](uint64_t v) { got.push_back(v); }));
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{9}));
}

TEST(WireReader, AFiveByteTagDropsItsBitsBeyond32LikeLibprotobuf) {
  // Field 1, wire type 2, spelled in 5 bytes with high bits set in the last.
  std::string b = std::string("\x8a\x80\x80\x80\x70", 5) + PutVarintForTest(1) + "z";
  WireReader r(b, 0);
  FieldKey k;
  ASSERT_TRUE(r.NextField(&k)) << r.error().what;
  EXPECT_EQ(k.number, 1u);
  EXPECT_EQ(k.type, WireType::kLen);
}

TEST(WireReader, DeeplyNestedGroupsAreRefusedNotRecursedWithoutBound) {
  std::string b;
  for (int i = 0; i < 1000; ++i) PutTag(&b, 1, WireType::kStartGroup);
  for (int i = 0; i < 1000; ++i) PutTag(&b, 1, WireType::kEndGroup);
  EXPECT_EQ(WalkAll(b).kind, WireErrorKind::kMalformed);
  std::string shallow;
  for (int i = 0; i < 10; ++i) PutTag(&shallow, 1, WireType::kStartGroup);
  for (int i = 0; i < 10; ++i) PutTag(&shallow, 1, WireType::kEndGroup);
  EXPECT_EQ(WalkAll(shallow).kind, WireErrorKind::kNone);
}

}  // namespace
}  // namespace anepilot::format::wire
