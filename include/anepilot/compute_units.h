// The four MLComputeUnits options, shared by the planner, the policy file and
// the runtime. Spelled as Swift spells them ("cpuOnly", "cpuAndGPU",
// "cpuAndNeuralEngine", "all") in every file format and CLI flag.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace anepilot {

enum class ComputeUnits : uint8_t { kCpuOnly, kCpuAndGpu, kCpuAndNeuralEngine, kAll };

inline constexpr std::array<ComputeUnits, 4> kAllComputeUnits = {
    ComputeUnits::kCpuOnly, ComputeUnits::kCpuAndGpu, ComputeUnits::kCpuAndNeuralEngine,
    ComputeUnits::kAll};

constexpr std::string_view ComputeUnitsName(ComputeUnits u) {
  switch (u) {
    case ComputeUnits::kCpuOnly: return "cpuOnly";
    case ComputeUnits::kCpuAndGpu: return "cpuAndGPU";
    case ComputeUnits::kCpuAndNeuralEngine: return "cpuAndNeuralEngine";
    case ComputeUnits::kAll: return "all";
  }
  return "cpuOnly";
}

// Accepts the Swift spelling, case-insensitively, and coremltools' spelling
// (CPU_ONLY, CPU_AND_GPU, CPU_AND_NE, ALL). nullopt for anything else.
std::optional<ComputeUnits> ParseComputeUnits(std::string_view text);

// True when the option may place work on the Neural Engine.
constexpr bool UsesNeuralEngine(ComputeUnits u) {
  return u == ComputeUnits::kCpuAndNeuralEngine || u == ComputeUnits::kAll;
}
constexpr bool UsesGpu(ComputeUnits u) {
  return u == ComputeUnits::kCpuAndGpu || u == ComputeUnits::kAll;
}

}  // namespace anepilot
