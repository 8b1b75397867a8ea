#include "format/mlmodelc_reader.h"

namespace anepilot::format {

Result<ir::Model> ReadCompiledModel(const std::string& dir, const ReadOptions& options) {
  return Unsupported(dir + ": compiled models (.mlmodelc) are not read yet");
}

}  // namespace anepilot::format
