// The Apple device catalog: identifier -> chip -> Neural Engine generation,
// with the compute, memory and memory-limit figures the planner needs. The
// knowledge lives in data/devices.json (schema "anepilot.devices", version 1,
// documented in docs/knowledge.md); this header is the typed, validated view.
//
//   ANEPILOT_ASSIGN_OR_RETURN(auto catalog, anepilot::knowledge::DeviceCatalog::LoadDefault());
//   ANEPILOT_ASSIGN_OR_RETURN(auto r, catalog.Resolve("iPhone14,7"));
//   const Chip& chip = catalog.ChipOf(*r.device);   // A15, H14
//
// Every numeric figure is present (the planner never has to guess): a figure
// that no source confirms is an estimate and its field name is listed in
// `estimated` (the "†" of shared/knowledge/DEVICES.md). Every chip and device
// carries at least one source.
//
// Ownership / lifetime: a DeviceCatalog owns its chips and devices. Pointers
// and references it returns (Device*, Chip&) stay valid while that catalog
// object lives, including after it is moved from a Result (vectors keep their
// buffers when moved); a copy has its own elements.
// Thread-safety: immutable after Load; any number of concurrent readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/ane_generation.h"
#include "anepilot/result.h"

namespace anepilot::knowledge {

enum class DeviceFamily : uint8_t { kIPhone, kIPad, kMac };

// "iPhone", "iPad", "Mac" (the spelling of the data file).
std::string_view DeviceFamilyName(DeviceFamily family);

// The operating system a family runs; iPad and iPhone share iOS's per-app
// memory limits and model-size limits.
inline bool RunsIos(DeviceFamily family) { return family != DeviceFamily::kMac; }

// One system-on-chip.
struct Chip {
  std::string name;             // "A15", "A17 Pro", "M2 Max" (unique, matched case-insensitively)
  std::string ane_generation;   // "H11".."H18"
  int ane_generation_number = 0;  // 11..18, for comparisons
  int year = 0;                 // year of introduction
  int ane_cores = 0;
  double ane_tops = 0;          // Apple's marketing figure (fp16 except M4/A17 Pro+ which quote int8)
  int cpu_performance_cores = 0;
  int cpu_efficiency_cores = 0;
  int gpu_cores = 0;            // the chip's full GPU configuration
  double gpu_fp16_tflops = 0;   // at gpu_cores; mostly estimates (see `estimated`)
  double memory_bandwidth_gbps = 0;  // unified memory bandwidth, GB/s
  std::vector<std::string> estimated;  // field names whose value is an estimate / unconfirmed
  std::vector<std::string> sources;    // URLs or "shared/knowledge/DEVICES.md: <row>"
  std::string notes;

  bool IsEstimated(std::string_view field) const;
};

// One device model (or, for Macs, one chip-level "any Mac with this chip"
// entry with a generic identifier such as "Mac-M2-Max").
struct Device {
  std::string identifier;       // hw.machine: "iPhone14,7", "iPad13,4", "Mac14,2", or generic "Mac-M2"
  std::vector<std::string> other_identifiers;  // same model, other variants ("iPad13,5" cellular ...)
  std::string name;             // marketing name: "iPhone 14"
  DeviceFamily family = DeviceFamily::kIPhone;
  std::string chip;             // Chip::name
  size_t chip_index = 0;        // index into DeviceCatalog::chips()
  bool generic = false;         // chip-level entry (Macs), not a real hw.machine value
  double ram_gb = 0;
  int gpu_cores = 0;            // this device's GPU (binned parts have fewer than the chip)
  double gpu_fp16_tflops = 0;   // chip figure scaled by gpu_cores / chip.gpu_cores
  double app_memory_limit_mb = 0;  // estimated per-app limit (jetsam on iOS); see docs/knowledge.md
  std::vector<std::string> estimated;  // field names that are estimates (always "app_memory_limit_mb")
  std::vector<std::string> sources;
  std::string notes;

  bool IsEstimated(std::string_view field) const;
};

// The outcome of resolving one user-supplied device string.
struct DeviceResolution {
  const Device* device = nullptr;  // never null in an OK result
  bool exact = false;              // the query named this device (identifier, case-insensitive)
  // Non-empty when the device was chosen for the query rather than named by
  // it: an unknown identifier mapped to the nearest family member, or a chip
  // name mapped to a representative device. Show it to the user.
  std::string warning;
};

class DeviceCatalog {
 public:
  // Reads and validates a devices file. Errors:
  //   kNotFound / kIoError   the file cannot be read;
  //   kParseError            not JSON ("<path>: JSON syntax error at byte N: ...");
  //   kInvalidData           schema/version mismatch or an invalid entry; the
  //                          message names the file and the JSON path, e.g.
  //                          `data/devices.json: devices[12].chip: unknown chip "A19X"`.
  static Result<DeviceCatalog> Load(const std::string& path);

  // Load(DataDir() + "/devices.json"); see anepilot/knowledge_data.h.
  static Result<DeviceCatalog> LoadDefault();

  // Same validation on text already in memory; `label` names it in errors.
  static Result<DeviceCatalog> Parse(std::string_view json_text, std::string_view label);

  int version() const { return version_; }
  const std::vector<Chip>& chips() const { return chips_; }
  const std::vector<Device>& devices() const { return devices_; }  // in file order

  // Exact (case-insensitive) lookups; nullptr when absent.
  const Chip* FindChip(std::string_view name) const;
  const Device* FindDevice(std::string_view identifier) const;
  const Chip& ChipOf(const Device& device) const { return chips_[device.chip_index]; }

  // Resolves one device string, in this order:
  //   1. a known identifier ("iPhone14,7", "Mac-M2-Max") or marketing name
  //      ("iPhone 14 Pro"), case-insensitive: exact;
  //   2. a chip name ("A15", "M2 Max"), or a description naming the chip in
  //      parentheses ("MacBook Pro (M1 Pro 32GB)", as calibration rows do): a
  //      representative device with that chip (the first in file order, iPhones
  //      before iPads before Macs), warning set;
  //   3. an unknown identifier of a known family ("iPhone17,9", "iPad99,1",
  //      "Mac99,1"): the nearest known member of that family - the highest
  //      minor number of the same major, else the newest device of the highest
  //      lower major (so "iPhone99,1" -> the newest iPhone) - warning set.
  // Errors: kInvalidArgument for anything else ("Pixel8", ""), naming the
  // accepted forms.
  Result<DeviceResolution> Resolve(std::string_view query) const;

  // Resolves a list separated by commas or semicolons.
  // A comma followed by digits continues an identifier, so
  // "iPhone14,7,iPhone17,2,M2 Max" is three items. Each item is as for Resolve, or one of
  // the keywords "all" (every device), "iPhone" / "iPad" / "Mac" (every device
  // of that family). Duplicates are removed, order kept. kInvalidArgument
  // names the first bad item.
  Result<std::vector<DeviceResolution>> ResolveList(std::string_view list) const;

  // Distinct ANE generations of the catalog's chips, ascending ("H11".."H18").
  // The planner evaluates rules once per generation, not once per device.
  std::vector<std::string> AneGenerations() const;

 private:
  int version_ = 0;
  std::vector<Chip> chips_;
  std::vector<Device> devices_;
};

}  // namespace anepilot::knowledge
