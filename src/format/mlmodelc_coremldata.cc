#include "format/mlmodelc_coremldata.h"

#include <algorithm>
#include <cstdint>

#include "proto/Model.pb.h"
#include "format/mlmodel_features.h"

namespace anepilot::format {
namespace spec = CoreML::Specification;

namespace {

// The header is small (a few hundred bytes in every sample); the scan stops
// well past it so that a hostile multi-GB file costs bounded work.
constexpr size_t kScanLimit = 64 * 1024;
// Candidate blocks parsed at most, and their largest size: descriptions are
// kilobytes; the caps keep hostile input from costing more than milliseconds.
constexpr int kMaxAttempts = 64;
constexpr uint64_t kMaxDescriptionBytes = 16 * 1024 * 1024;

uint64_t LoadLe(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// The first byte of a serialized description: the tag of field 1 (input) or
// field 10 (output), both length-delimited. Every model has one of them.
bool StartsLikeDescription(unsigned char first) { return first == 0x0a || first == 0x52; }

bool FeaturesNamed(const google::protobuf::RepeatedPtrField<spec::FeatureDescription>& features) {
  return std::all_of(features.begin(), features.end(), [](const spec::FeatureDescription& f) {
    return !f.name().empty() && f.type().Type_case() != spec::FeatureType::TYPE_NOT_SET;
  });
}

// A block is taken as the description only when it parses completely and
// every feature has a name and a type: random bytes almost never pass.
bool Plausible(const spec::ModelDescription& d) {
  if (d.input_size() + d.output_size() == 0) return false;
  return FeaturesNamed(d.input()) && FeaturesNamed(d.output()) && FeaturesNamed(d.state()) &&
         FeaturesNamed(d.traininginput());
}

std::string KindForTypeNumber(uint32_t number) {
  const auto* field = spec::Model::descriptor()->FindFieldByNumber(static_cast<int>(number));
  if (field == nullptr || field->containing_oneof() == nullptr) return {};
  return field->name();
}

}  // namespace

std::optional<CoremlDataDescription> ReadCoremlDataDescription(std::string_view bytes) {
  if (bytes.size() < 4 + 8 + 2) return std::nullopt;
  const size_t end = std::min(bytes.size() - 8, kScanLimit);
  int attempts = 0;
  for (size_t p = 4; p < end && attempts < kMaxAttempts; ++p) {
    uint64_t length = LoadLe(bytes.data() + p, 8);
    size_t body = p + 8;
    if (length < 2 || length > kMaxDescriptionBytes || length > bytes.size() - body) continue;
    if (!StartsLikeDescription(static_cast<unsigned char>(bytes[body]))) continue;
    ++attempts;
    spec::ModelDescription d;
    if (!d.ParseFromArray(bytes.data() + body, static_cast<int>(length)) || !Plausible(d)) continue;
    CoremlDataDescription out;
    DescriptionToIr(&d, &out.description);
    out.kind = KindForTypeNumber(static_cast<uint32_t>(LoadLe(bytes.data(), 4)));
    out.offset = body;
    return out;
  }
  return std::nullopt;
}

}  // namespace anepilot::format
