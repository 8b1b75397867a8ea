// A small, bounds-checked reader of the protobuf wire format, for decoders
// that turn serialized messages straight into the IR without building
// libprotobuf message objects (see mil_wire_decoder.h).
//
// The reader walks one message's bytes (a string_view it does not own; the
// bytes must outlive the reader and every view it returns). Length-delimited
// values are returned as views into those bytes, so nested messages are read
// by constructing another WireReader over the returned view.
//
// Errors: every read returns false on failure and the reader remembers the
// first error: kTruncated when a varint, fixed-width value or length-delimited
// value runs past the end of the reader's bytes (a file cut short), and
// kMalformed for bytes no encoder produces (wire type 6 or 7, a stray
// end-group, field number 0, a varint longer than 10 bytes, a tag longer than
// 5 bytes, groups nested deeper than the caller allows). As in libprotobuf,
// bits of a 5-byte tag beyond 32 are dropped. Offsets are absolute:
// `base_offset` is the offset of the reader's first byte in the enclosing
// input, so nested readers report positions in the whole file.
//
// Thread-safety: a reader is a cursor; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

// The hot reads are forced inline: they run once per field of every
// operation, and out-of-line calls cost a measurable share of decoding.
#if defined(__GNUC__) || defined(__clang__)
#define ANEPILOT_WIRE_INLINE inline __attribute__((always_inline))
#else
#define ANEPILOT_WIRE_INLINE inline
#endif

namespace anepilot::format::wire {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

enum class WireErrorKind : uint8_t { kNone, kTruncated, kMalformed };

struct WireError {
  WireErrorKind kind = WireErrorKind::kNone;
  size_t offset = 0;        // absolute offset of the value or tag at fault
  const char* what = "";    // static text: "a length-delimited field runs past the end", ...
};

// Stable text for an error kind ("truncated", "malformed").
std::string_view WireErrorKindName(WireErrorKind kind);

// One field's key.
struct FieldKey {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
};

// Groups (deprecated, wire types 3/4) nested deeper than this are refused
// when skipped; protobuf's own parser refuses at its recursion limit of 100.
inline constexpr int kMaxSkippedGroupDepth = 100;

class WireReader {
 public:
  WireReader(std::string_view bytes, size_t base_offset)
      : begin_(bytes.data()), p_(bytes.data()), end_(bytes.data() + bytes.size()), base_(base_offset) {}

  // True when every byte was consumed (and no error occurred).
  bool at_end() const { return p_ == end_; }
  bool failed() const { return error_.kind != WireErrorKind::kNone; }
  const WireError& error() const { return error_; }
  // Absolute offset of the next unread byte.
  size_t offset() const { return base_ + static_cast<size_t>(p_ - begin_); }

  // Reads the next field key. False at the end of the bytes (no error) or on
  // an error (failed() tells which).
  ANEPILOT_WIRE_INLINE bool NextField(FieldKey* key) {
    if (p_ == end_) return false;
    const char* start = p_;
    uint32_t tag;
    // Fast path: one-byte tags (field numbers 1..15) are most of every message.
    auto b = static_cast<uint8_t>(*p_);
    if (b < 0x80) {
      tag = b;
      ++p_;
    } else if (!ReadTagSlow(&tag)) {
      return false;
    }
    return CheckTag(tag, start, key);
  }

  ANEPILOT_WIRE_INLINE bool ReadVarint(uint64_t* v) {
    if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {
      *v = static_cast<uint8_t>(*p_++);
      return true;
    }
    return ReadVarintSlow(v);
  }

  bool ReadFixed32(uint32_t* v) {
    if (end_ - p_ < 4) return Fail(WireErrorKind::kTruncated, p_, "a 32-bit value runs past the end");
    std::memcpy(v, p_, 4);  // little-endian host assumed (x86-64, arm64)
    p_ += 4;
    return true;
  }

  bool ReadFixed64(uint64_t* v) {
    if (end_ - p_ < 8) return Fail(WireErrorKind::kTruncated, p_, "a 64-bit value runs past the end");
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }

  // Reads a length-delimited value; `*offset` (optional) receives the
  // absolute offset of its first byte.
  ANEPILOT_WIRE_INLINE bool ReadLen(std::string_view* v, size_t* value_offset = nullptr) {
    const char* start = p_;
    uint64_t n;
    if (!ReadVarint(&n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) {
      return Fail(WireErrorKind::kTruncated, start, "a length-delimited field runs past the end");
    }
    if (value_offset != nullptr) *value_offset = offset();
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  // Skips the value of a field whose key was just read (any wire type;
  // groups are skipped with everything nested in them).
  bool Skip(const FieldKey& key) { return SkipValue(key, kMaxSkippedGroupDepth); }

  // Records an error found by the caller (e.g. a packed field whose length
  // is not a multiple of its element size). Always returns false.
  bool FailAt(WireErrorKind kind, size_t absolute_offset, const char* what) {
    if (error_.kind == WireErrorKind::kNone) error_ = WireError{kind, absolute_offset, what};
    p_ = end_;
    return false;
  }

 private:
  bool Fail(WireErrorKind kind, const char* at, const char* what) {
    return FailAt(kind, base_ + static_cast<size_t>(at - begin_), what);
  }
  bool ReadVarintSlow(uint64_t* v);
  // A tag is a varint of at most 5 bytes whose bits beyond 32 are dropped,
  // as protobuf's parser reads it.
  bool ReadTagSlow(uint32_t* tag);
  ANEPILOT_WIRE_INLINE bool CheckTag(uint32_t tag, const char* start, FieldKey* key) {
    uint32_t wt = tag & 7;
    key->number = tag >> 3;
    if (key->number == 0) return Fail(WireErrorKind::kMalformed, start, "a field has number 0");
    if (wt > 5) return Fail(WireErrorKind::kMalformed, start, "a field has wire type 6 or 7");
    if (wt == 4) return Fail(WireErrorKind::kMalformed, start, "an end-group marker outside any group");
    key->type = static_cast<WireType>(wt);
    return true;
  }
  bool SkipValue(const FieldKey& key, int group_depth_left);

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t base_;
  WireError error_;
};

// Iterates the elements of a repeated scalar field given one occurrence,
// packed (a length-delimited run) or not (one element). ElementType is read
// as the wire type the field's scalar uses: kVarint, kFixed32 or kFixed64.
// Calls `add(uint64_t raw)` per element; false (with the reader's error set)
// when the packed run is malformed. A key of any other wire type is skipped,
// as protobuf treats it as an unknown field.
template <WireType ElementType, typename Add>
bool ReadRepeatedScalar(WireReader& r, const FieldKey& key, Add&& add) {
  if (key.type == WireType::kLen) {
    std::string_view run;
    size_t run_offset = 0;
    if (!r.ReadLen(&run, &run_offset)) return false;
    if constexpr (ElementType == WireType::kVarint) {
      WireReader packed(run, run_offset);
      uint64_t v;
      while (!packed.at_end()) {
        if (!packed.ReadVarint(&v)) {
          return r.FailAt(WireErrorKind::kMalformed, packed.error().offset,
                          "a packed varint runs past the end of its field");
        }
        add(v);
      }
    } else {
      constexpr size_t kWidth = ElementType == WireType::kFixed32 ? 4 : 8;
      if (run.size() % kWidth != 0) {
        return r.FailAt(WireErrorKind::kMalformed, run_offset,
                        "a packed fixed-width field's length is not a multiple of its element size");
      }
      for (size_t i = 0; i < run.size(); i += kWidth) {
        uint64_t v = 0;
        std::memcpy(&v, run.data() + i, kWidth);
        add(v);
      }
    }
    return true;
  }
  if (key.type != ElementType) return r.Skip(key);
  uint64_t v = 0;
  if constexpr (ElementType == WireType::kVarint) {
    if (!r.ReadVarint(&v)) return false;
  } else if constexpr (ElementType == WireType::kFixed32) {
    uint32_t w;
    if (!r.ReadFixed32(&w)) return false;
    v = w;
  } else {
    if (!r.ReadFixed64(&v)) return false;
  }
  add(v);
  return true;
}

}  // namespace anepilot::format::wire
