#include "cli/error_report.h"

#include <nlohmann/json.hpp>

namespace anepilot::cli {

int ReportError(const Status& status, bool json, CommandIo& io) {
  io.err << "anepilot: " << status.message() << "\n";
  if (json) {
    nlohmann::ordered_json j;
    j["schema"] = "anepilot.error";
    j["version"] = 1;
    j["code"] = StatusCodeName(status.code());
    j["message"] = status.message();
    // Model files may carry arbitrary bytes in names; never throw on them.
    io.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return ExitCodeFor(status);
}

}  // namespace anepilot::cli
