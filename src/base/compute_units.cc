#include "anepilot/compute_units.h"

#include <cctype>
#include <string>

namespace anepilot {

std::optional<ComputeUnits> ParseComputeUnits(std::string_view text) {
  std::string t;
  for (char c : text) {
    if (c != '_' && c != '.' && c != '-') t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (t == "cpuonly") return ComputeUnits::kCpuOnly;
  if (t == "cpuandgpu") return ComputeUnits::kCpuAndGpu;
  if (t == "cpuandneuralengine" || t == "cpuandne") return ComputeUnits::kCpuAndNeuralEngine;
  if (t == "all") return ComputeUnits::kAll;
  return std::nullopt;
}

}  // namespace anepilot
