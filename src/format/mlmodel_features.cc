#include "format/mlmodel_features.h"

#include <string>
#include <utility>

namespace anepilot::format {
namespace spec = CoreML::Specification;

ir::DType ArrayDTypeToIr(spec::ArrayFeatureType::ArrayDataType t) {
  switch (t) {
    case spec::ArrayFeatureType::FLOAT32: return ir::DType::kFloat32;
    case spec::ArrayFeatureType::DOUBLE: return ir::DType::kFloat64;
    case spec::ArrayFeatureType::FLOAT16: return ir::DType::kFloat16;
    case spec::ArrayFeatureType::INT32: return ir::DType::kInt32;
    case spec::ArrayFeatureType::INT8: return ir::DType::kInt8;
    default: return ir::DType::kUnknown;
  }
}

namespace {

ir::ShapeRange RangeToIr(const spec::SizeRange& r) {
  // Bounds beyond int64 cannot describe a real size; clamp rather than wrap.
  uint64_t lower = r.lowerbound();
  return ir::ShapeRange{lower > INT64_MAX ? INT64_MAX : static_cast<int64_t>(lower),
                        r.upperbound() < 0 ? -1 : r.upperbound()};
}

std::string_view ColorSpaceName(spec::ImageFeatureType::ColorSpace c) {
  switch (c) {
    case spec::ImageFeatureType::GRAYSCALE: return "GRAYSCALE";
    case spec::ImageFeatureType::RGB: return "RGB";
    case spec::ImageFeatureType::BGR: return "BGR";
    case spec::ImageFeatureType::GRAYSCALE_FLOAT16: return "GRAYSCALE_FLOAT16";
    default: return "";
  }
}

void ImageToIr(const spec::ImageFeatureType& image, ir::FeatureType* out) {
  out->kind = ir::FeatureType::Kind::kImage;
  out->color_space = std::string(ColorSpaceName(image.colorspace()));
  out->array.dtype = image.colorspace() == spec::ImageFeatureType::GRAYSCALE_FLOAT16
                         ? ir::DType::kFloat16
                         : ir::DType::kUnknown;
  out->array.shape = {ir::Dim::Known(image.height()), ir::Dim::Known(image.width())};
  if (image.has_imagesizerange()) {
    out->flexibility.kind = ir::Flexibility::Kind::kRange;
    out->flexibility.ranges = {RangeToIr(image.imagesizerange().heightrange()),
                               RangeToIr(image.imagesizerange().widthrange())};
  } else if (image.has_enumeratedsizes()) {
    out->flexibility.kind = ir::Flexibility::Kind::kEnumerated;
    out->flexibility.enumerated.reserve(image.enumeratedsizes().sizes_size());
    for (const auto& size : image.enumeratedsizes().sizes()) {
      out->flexibility.enumerated.push_back(
          {static_cast<int64_t>(size.height()), static_cast<int64_t>(size.width())});
    }
  }
}

void ArrayToIr(const spec::ArrayFeatureType& array, ir::FeatureType* out) {
  out->array.dtype = ArrayDTypeToIr(array.datatype());
  out->array.shape.reserve(array.shape_size());
  for (int64_t d : array.shape()) out->array.shape.push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim{});
  if (array.has_shaperange()) {
    out->flexibility.kind = ir::Flexibility::Kind::kRange;
    for (const auto& r : array.shaperange().sizeranges()) {
      out->flexibility.ranges.push_back(RangeToIr(r));
    }
  } else if (array.has_enumeratedshapes()) {
    out->flexibility.kind = ir::Flexibility::Kind::kEnumerated;
    out->flexibility.enumerated.reserve(array.enumeratedshapes().shapes_size());
    for (const auto& s : array.enumeratedshapes().shapes()) {
      out->flexibility.enumerated.emplace_back(s.shape().begin(), s.shape().end());
    }
  }
}

}  // namespace

ir::FeatureType FeatureTypeToIr(const spec::FeatureType& type) {
  using Kind = ir::FeatureType::Kind;
  ir::FeatureType out;
  out.optional = type.isoptional();
  switch (type.Type_case()) {
    case spec::FeatureType::kInt64Type: out.kind = Kind::kInt64; break;
    case spec::FeatureType::kDoubleType: out.kind = Kind::kDouble; break;
    case spec::FeatureType::kStringType: out.kind = Kind::kString; break;
    case spec::FeatureType::kImageType: ImageToIr(type.imagetype(), &out); break;
    case spec::FeatureType::kMultiArrayType:
      out.kind = Kind::kMultiArray;
      ArrayToIr(type.multiarraytype(), &out);
      break;
    case spec::FeatureType::kDictionaryType:
      out.kind = Kind::kDictionary;
      out.key_or_element = type.dictionarytype().has_stringkeytype() ? Kind::kString
                           : type.dictionarytype().has_int64keytype() ? Kind::kInt64
                                                                       : Kind::kUnknown;
      break;
    case spec::FeatureType::kSequenceType:
      out.kind = Kind::kSequence;
      out.key_or_element = type.sequencetype().has_stringtype() ? Kind::kString
                           : type.sequencetype().has_int64type() ? Kind::kInt64
                                                                  : Kind::kUnknown;
      if (type.sequencetype().has_sizerange()) {
        out.flexibility.kind = ir::Flexibility::Kind::kRange;
        out.flexibility.ranges = {RangeToIr(type.sequencetype().sizerange())};
      }
      break;
    case spec::FeatureType::kStateType:
      out.kind = Kind::kState;
      ArrayToIr(type.statetype().arraytype(), &out);
      break;
    default: out.kind = Kind::kUnknown; break;
  }
  return out;
}

std::vector<ir::Feature> FeaturesToIr(
    const google::protobuf::RepeatedPtrField<spec::FeatureDescription>& features) {
  std::vector<ir::Feature> out;
  out.reserve(features.size());
  for (const auto& f : features) {
    out.push_back(ir::Feature{f.name(), f.shortdescription(), FeatureTypeToIr(f.type())});
  }
  return out;
}

namespace {

void MetadataToIr(spec::Metadata* m, ir::Metadata* out) {
  out->short_description = std::move(*m->mutable_shortdescription());
  out->author = std::move(*m->mutable_author());
  out->license = std::move(*m->mutable_license());
  out->version_string = std::move(*m->mutable_versionstring());
  for (auto& entry : *m->mutable_userdefined()) {
    out->user_defined.insert_or_assign(std::move(*entry.mutable_key()),
                                       std::move(*entry.mutable_value()));
  }
}

}  // namespace

void DescriptionToIr(spec::ModelDescription* d, ir::Model* out) {
  out->inputs = FeaturesToIr(d->input());
  out->outputs = FeaturesToIr(d->output());
  out->states = FeaturesToIr(d->state());
  out->training_inputs = FeaturesToIr(d->traininginput());
  out->predicted_feature_name = std::move(*d->mutable_predictedfeaturename());
  out->predicted_probabilities_name = std::move(*d->mutable_predictedprobabilitiesname());
  // Multifunction ML Programs describe their IO per function; the top-level
  // lists are then empty and the default function's IO stands for the model.
  if (out->inputs.empty() && out->outputs.empty() && d->functions_size() > 0) {
    const spec::FunctionDescription* chosen = &d->functions(0);
    for (const auto& f : d->functions()) {
      if (f.name() == d->defaultfunctionname()) chosen = &f;
    }
    out->inputs = FeaturesToIr(chosen->input());
    out->outputs = FeaturesToIr(chosen->output());
    out->states = FeaturesToIr(chosen->state());
    if (out->predicted_feature_name.empty()) out->predicted_feature_name = chosen->predictedfeaturename();
    if (out->predicted_probabilities_name.empty()) {
      out->predicted_probabilities_name = chosen->predictedprobabilitiesname();
    }
  }
  MetadataToIr(d->mutable_metadata(), &out->metadata);
}

}  // namespace anepilot::format
