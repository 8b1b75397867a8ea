#include "format/wire_reader.h"

namespace anepilot::format::wire {

std::string_view WireErrorKindName(WireErrorKind kind) {
  switch (kind) {
    case WireErrorKind::kNone: return "none";
    case WireErrorKind::kTruncated: return "truncated";
    case WireErrorKind::kMalformed: return "malformed";
  }
  return "unknown";
}

bool WireReader::ReadVarintSlow(uint64_t* v) {
  const char* start = p_;
  uint64_t result = 0;
  // A 64-bit varint has at most 10 bytes; bits beyond 64 in the tenth byte
  // are dropped, as protobuf's parser does.
  for (int i = 0; i < 10; ++i) {
    if (p_ == end_) return Fail(WireErrorKind::kTruncated, start, "a varint runs past the end");
    auto b = static_cast<uint8_t>(*p_++);
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return Fail(WireErrorKind::kMalformed, start, "a varint is longer than 10 bytes");
}

bool WireReader::ReadTagSlow(uint32_t* tag) {
  const char* start = p_;
  uint32_t result = 0;
  for (int i = 0; i < 5; ++i) {
    if (p_ == end_) return Fail(WireErrorKind::kTruncated, start, "a field tag runs past the end");
    auto b = static_cast<uint8_t>(*p_++);
    result |= static_cast<uint32_t>(b & 0x7f) << (7 * i);  // the fifth byte's high bits fall off
    if (b < 0x80) {
      *tag = result;
      return true;
    }
  }
  return Fail(WireErrorKind::kMalformed, start, "a field tag is longer than 5 bytes");
}

bool WireReader::SkipValue(const FieldKey& key, int group_depth_left) {
  switch (key.type) {
    case WireType::kVarint: {
      uint64_t v;
      return ReadVarint(&v);
    }
    case WireType::kFixed64: {
      uint64_t v;
      return ReadFixed64(&v);
    }
    case WireType::kFixed32: {
      uint32_t v;
      return ReadFixed32(&v);
    }
    case WireType::kLen: {
      std::string_view v;
      return ReadLen(&v);
    }
    case WireType::kStartGroup: {
      if (group_depth_left <= 0) {
        return Fail(WireErrorKind::kMalformed, p_, "groups nest deeper than the reader allows");
      }
      // Fields up to the end-group marker carrying the same field number.
      while (true) {
        if (p_ == end_) return Fail(WireErrorKind::kTruncated, p_, "a group runs past the end");
        const char* tag_start = p_;
        uint32_t tag;
        if (!ReadTagSlow(&tag)) return false;
        FieldKey inner{tag >> 3, static_cast<WireType>(tag & 7)};
        if (inner.number == 0) return Fail(WireErrorKind::kMalformed, tag_start, "a field has number 0");
        if ((tag & 7) > 5) return Fail(WireErrorKind::kMalformed, tag_start, "a field has wire type 6 or 7");
        if (inner.type == WireType::kEndGroup) {
          if (inner.number != key.number) {
            return Fail(WireErrorKind::kMalformed, tag_start, "an end-group marker does not match its group");
          }
          return true;
        }
        if (!SkipValue(inner, group_depth_left - 1)) return false;
      }
    }
    case WireType::kEndGroup:
      return Fail(WireErrorKind::kMalformed, p_, "an end-group marker outside any group");
  }
  return Fail(WireErrorKind::kMalformed, p_, "a field has an invalid wire type");
}

}  // namespace anepilot::format::wire
