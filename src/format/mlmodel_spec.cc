#include "format/mlmodel_spec.h"

namespace anepilot::format {

Result<ir::Model> ParseModelSpec(std::string_view bytes, const std::string& file) {
  return Unsupported(file + ": .mlmodel protobuf reading is not implemented yet");
}

}  // namespace anepilot::format
