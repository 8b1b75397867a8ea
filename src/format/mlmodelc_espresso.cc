#include "format/mlmodelc_espresso.h"

#include <fmt/format.h>

#include <unordered_set>

#include "format/json_util.h"

namespace anepilot::format {

namespace {

using nlohmann::json;

std::vector<std::string> SplitBlobs(const json& v) {
  std::vector<std::string> out;
  if (!v.is_string()) return out;
  std::string_view s = v.get_ref<const std::string&>();
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

ir::TensorType ShapeOf(const json& dims) {
  ir::TensorType t;  // espresso does not record element types: dtype stays unknown
  auto get = [&](const char* key) -> std::optional<int64_t> {
    auto it = dims.find(key);
    if (it == dims.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  if (auto seq = get("seq")) t.shape.push_back(ir::Dim::Known(*seq));
  for (const char* key : {"n", "k", "h", "w"}) {
    auto v = get(key);
    t.shape.push_back(v && *v >= 0 ? ir::Dim::Known(*v) : ir::Dim{});
  }
  return t;
}

ir::Constant ScalarConstant(const json& v) {
  ir::Constant c;
  c.type.kind = ir::ValueType::Kind::kTensor;
  c.type.tensor.rank_known = true;
  if (v.is_string()) {
    c.type.tensor.dtype = ir::DType::kString;
    c.strings.push_back(v.get<std::string>());
    c.byte_size = c.strings.back().size();
  } else if (v.is_boolean()) {
    c.type.tensor.dtype = ir::DType::kBool;
    c.numbers.push_back(v.get<bool>() ? 1 : 0);
    c.byte_size = 1;
  } else if (v.is_number_integer()) {
    c.type.tensor.dtype = ir::DType::kInt64;
    c.numbers.push_back(static_cast<double>(v.get<int64_t>()));
    c.byte_size = 8;
  } else {
    c.type.tensor.dtype = ir::DType::kFloat64;
    c.numbers.push_back(v.get<double>());
    c.byte_size = 8;
  }
  return c;
}

// Function inputs: blobs read by some layer and written by none; outputs:
// blobs written and read by none. Both in first-seen order.
void SetGraphBoundary(const json& shapes, ir::Function* fn) {
  std::unordered_set<std::string_view> produced, consumed;  // views into fn's ops
  for (const ir::Op& op : fn->body.ops) {
    for (const ir::Argument& arg : op.inputs) {
      for (const ir::Binding& b : arg.bindings) {
        if (!produced.count(b.name) && consumed.insert(b.name).second) {
          ir::Value in;
          in.name = b.name;
          auto shape = shapes.find(b.name);
          if (shape != shapes.end() && shape->is_object()) {
            in.type.tensor = ShapeOf(*shape);
          } else {
            in.type.tensor.rank_known = false;
          }
          fn->inputs.push_back(std::move(in));
        }
        consumed.insert(b.name);
      }
    }
    for (const ir::Value& v : op.outputs) produced.insert(v.name);
  }
  for (const ir::Op& op : fn->body.ops) {
    for (const ir::Value& v : op.outputs) {
      if (!consumed.count(v.name)) fn->body.outputs.push_back(v.name);
    }
  }
}

}  // namespace

Status ReadEspressoNet(std::string_view net_json, const std::string& net_file,
                       std::string_view shape_json, const std::string& shape_file,
                       ir::Model* model) {
  ANEPILOT_ASSIGN_OR_RETURN(json net, ParseJson(net_json, net_file));
  auto layers = net.is_object() ? net.find("layers") : net.end();
  if (!net.is_object() || layers == net.end() || !layers->is_array()) {
    return CorruptModel(fmt::format("{}: no \"layers\" array; not an espresso network", net_file));
  }
  json shapes = json::object();
  if (!shape_json.empty()) {
    ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseJson(shape_json, shape_file));
    if (doc.is_object() && doc.contains("layer_shapes") && doc["layer_shapes"].is_object()) {
      shapes = std::move(doc["layer_shapes"]);
    }
  }

  ir::Function fn;
  fn.name = "main";
  fn.body.ops.reserve(layers->size());
  for (const json& layer : *layers) {
    if (!layer.is_object()) continue;
    ir::Op op;
    auto type = layer.find("type");
    op.type = type != layer.end() && type->is_string() ? type->get<std::string>() : "unknown";
    auto name = layer.find("name");
    if (name != layer.end() && name->is_string()) op.name = name->get<std::string>();
    auto bottom = layer.find("bottom");
    if (bottom != layer.end()) {
      ir::Argument arg;
      arg.param = "bottom";
      for (std::string& blob : SplitBlobs(*bottom)) {
        arg.bindings.push_back(ir::Binding{std::move(blob), std::nullopt});
      }
      if (!arg.bindings.empty()) op.inputs.push_back(std::move(arg));
    }
    auto top = layer.find("top");
    if (top != layer.end()) {
      for (std::string& blob : SplitBlobs(*top)) {
        ir::Value out;
        out.type.kind = ir::ValueType::Kind::kTensor;
        auto shape = shapes.find(blob);
        if (shape != shapes.end() && shape->is_object()) {
          out.type.tensor = ShapeOf(*shape);
        } else {
          out.type.tensor.rank_known = false;
        }
        out.name = std::move(blob);
        op.outputs.push_back(std::move(out));
      }
    }
    for (const auto& [key, value] : layer.items()) {
      if (key == "type" || key == "name" || key == "bottom" || key == "top" ||
          key == "debug_info" || key == "weights") {
        continue;
      }
      if (value.is_primitive() && !value.is_null()) {
        op.attributes.emplace(key, ScalarConstant(value));
      }
    }
    if (op.name.empty() && !op.outputs.empty()) op.name = op.outputs.front().name;
    fn.body.ops.push_back(std::move(op));
  }
  SetGraphBoundary(shapes, &fn);
  model->program.functions.clear();
  model->program.functions.push_back(std::move(fn));
  return Status::Ok();
}

}  // namespace anepilot::format
