// libFuzzer entry point for the telemetry line parser: any bytes give a
// Status or an event that serialises back to a line parsing to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "telemetry/telemetry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto event = anepilot::ParseTelemetryLine(line);
  if (!event.ok()) return 0;
  std::string again = anepilot::SerializeTelemetryEvent(*event);
  if (again.find('\n') != std::string::npos) std::abort();
  auto back = anepilot::ParseTelemetryLine(again);
  if (!back.ok()) std::abort();
  if (anepilot::SerializeTelemetryEvent(*back) != again) std::abort();
  return 0;
}
