// Loading and validating data/devices.json (format: docs/knowledge.md).
#include "anepilot/device_catalog.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "anepilot/data_dir.h"
#include "knowledge/json_fields.h"

namespace anepilot::knowledge {

using nlohmann::json;

namespace {

constexpr std::string_view kSchema = "anepilot.devices";
constexpr int64_t kVersion = 1;

const std::set<std::string, std::less<>> kChipFields = {
    "name", "ane_generation", "year", "ane_cores", "ane_tops", "cpu_performance_cores",
    "cpu_efficiency_cores", "gpu_cores", "gpu_fp16_tflops", "memory_bandwidth_gbps",
    "estimated", "sources", "notes"};
const std::set<std::string, std::less<>> kChipEstimable = {
    "ane_generation", "ane_cores", "ane_tops", "cpu_performance_cores", "cpu_efficiency_cores",
    "gpu_cores", "gpu_fp16_tflops", "memory_bandwidth_gbps", "year"};
const std::set<std::string, std::less<>> kDeviceFields = {
    "identifier", "other_identifiers", "name", "family", "chip", "ram_gb", "gpu_cores",
    "app_memory_limit_mb", "generic", "estimated", "sources", "notes"};
const std::set<std::string, std::less<>> kDeviceEstimable = {
    "identifier", "ram_gb", "gpu_cores", "app_memory_limit_mb", "chip"};

// Rejects members not in `known` (a typo would otherwise be silently ignored).
Status CheckKnownFields(const json& obj, const std::set<std::string, std::less<>>& known,
                        const JsonPlace& place) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known.contains(it.key())) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return place.Field(it.key()).Invalid(fmt::format("unknown field (known: {})", list));
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> GetEstimated(const json& obj, const JsonPlace& place,
                                              const std::set<std::string, std::less<>>& allowed) {
  ANEPILOT_ASSIGN_OR_RETURN(auto list, GetStringList(obj, "estimated", place, 0, false));
  for (size_t i = 0; i < list.size(); ++i) {
    if (!allowed.contains(list[i])) {
      return place.Field("estimated").Index(i).Invalid(
          fmt::format("\"{}\" is not a field that can be estimated", list[i]));
    }
  }
  return list;
}

Result<Chip> ParseChip(const json& j, const JsonPlace& place) {
  ANEPILOT_RETURN_IF_ERROR(RequireObject(j, place));
  ANEPILOT_RETURN_IF_ERROR(CheckKnownFields(j, kChipFields, place));
  Chip c;
  ANEPILOT_ASSIGN_OR_RETURN(c.name, GetString(j, "name", place));
  ANEPILOT_ASSIGN_OR_RETURN(c.ane_generation, GetString(j, "ane_generation", place));
  c.ane_generation_number = AneGenerationNumber(c.ane_generation);
  if (c.ane_generation_number < 11 || c.ane_generation_number > 99) {
    return place.Field("ane_generation").Invalid(fmt::format(
        "\"{}\" is not a Neural Engine generation usable by Core ML (H11 or later)", c.ane_generation));
  }
  ANEPILOT_ASSIGN_OR_RETURN(int64_t year, GetInt(j, "year", place, 2017, 2100));
  c.year = static_cast<int>(year);
  ANEPILOT_ASSIGN_OR_RETURN(int64_t ane_cores, GetInt(j, "ane_cores", place, 1, 1024));
  c.ane_cores = static_cast<int>(ane_cores);
  ANEPILOT_ASSIGN_OR_RETURN(c.ane_tops, GetNumber(j, "ane_tops", place, 0.1, 10000));
  ANEPILOT_ASSIGN_OR_RETURN(int64_t p_cores, GetInt(j, "cpu_performance_cores", place, 1, 256));
  ANEPILOT_ASSIGN_OR_RETURN(int64_t e_cores, GetInt(j, "cpu_efficiency_cores", place, 0, 256));
  c.cpu_performance_cores = static_cast<int>(p_cores);
  c.cpu_efficiency_cores = static_cast<int>(e_cores);
  ANEPILOT_ASSIGN_OR_RETURN(int64_t gpu, GetInt(j, "gpu_cores", place, 1, 1024));
  c.gpu_cores = static_cast<int>(gpu);
  ANEPILOT_ASSIGN_OR_RETURN(c.gpu_fp16_tflops, GetNumber(j, "gpu_fp16_tflops", place, 0.01, 10000));
  ANEPILOT_ASSIGN_OR_RETURN(c.memory_bandwidth_gbps,
                            GetNumber(j, "memory_bandwidth_gbps", place, 1, 100000));
  ANEPILOT_ASSIGN_OR_RETURN(c.estimated, GetEstimated(j, place, kChipEstimable));
  ANEPILOT_ASSIGN_OR_RETURN(c.sources, GetStringList(j, "sources", place, 1, true));
  ANEPILOT_ASSIGN_OR_RETURN(c.notes, GetString(j, "notes", place, false));
  return c;
}

Result<DeviceFamily> ParseFamily(const json& j, const JsonPlace& place) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string name, GetString(j, "family", place));
  for (DeviceFamily f : {DeviceFamily::kIPhone, DeviceFamily::kIPad, DeviceFamily::kMac}) {
    if (name == DeviceFamilyName(f)) return f;
  }
  return place.Field("family").Invalid(
      fmt::format("unknown family \"{}\" (expected \"iPhone\", \"iPad\" or \"Mac\")", name));
}

struct MemoryRule {
  double ios_fraction = 0;
  double macos_fraction = 0;
};

Result<MemoryRule> ParseMemoryRule(const json& root, const JsonPlace& root_place) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* rule, Member(root, "app_memory_limit", root_place, true));
  JsonPlace place = root_place.Field("app_memory_limit");
  ANEPILOT_RETURN_IF_ERROR(RequireObject(*rule, place));
  MemoryRule out;
  for (auto [key, target] : {std::pair{"iOS", &out.ios_fraction}, std::pair{"macOS", &out.macos_fraction}}) {
    ANEPILOT_ASSIGN_OR_RETURN(const json* os, Member(*rule, key, place, true));
    JsonPlace os_place = place.Field(key);
    ANEPILOT_RETURN_IF_ERROR(RequireObject(*os, os_place));
    ANEPILOT_ASSIGN_OR_RETURN(*target, GetNumber(*os, "fraction_of_ram", os_place, 0.05, 1.0));
    ANEPILOT_ASSIGN_OR_RETURN(auto sources, GetStringList(*os, "sources", os_place, 1, true));
    ANEPILOT_ASSIGN_OR_RETURN(auto text, GetString(*os, "rule", os_place));
  }
  return out;
}

}  // namespace

std::string_view DeviceFamilyName(DeviceFamily family) {
  switch (family) {
    case DeviceFamily::kIPhone: return "iPhone";
    case DeviceFamily::kIPad: return "iPad";
    case DeviceFamily::kMac: return "Mac";
  }
  return "iPhone";
}

int AneGenerationNumber(std::string_view generation) {
  if (generation.size() < 2 || generation.size() > 4) return 0;
  if (generation[0] != 'H' && generation[0] != 'h') return 0;
  int n = 0;
  for (char ch : generation.substr(1)) {
    if (ch < '0' || ch > '9') return 0;
    n = n * 10 + (ch - '0');
  }
  return n;
}

bool Chip::IsEstimated(std::string_view field) const {
  return std::find(estimated.begin(), estimated.end(), field) != estimated.end();
}

bool Device::IsEstimated(std::string_view field) const {
  return std::find(estimated.begin(), estimated.end(), field) != estimated.end();
}

Result<DeviceCatalog> DeviceCatalog::Load(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadDataFile(path));
  return Parse(text, path);
}

Result<DeviceCatalog> DeviceCatalog::LoadDefault() {
  ANEPILOT_ASSIGN_OR_RETURN(std::string dir, FindDataDir());
  return Load(dir + "/devices.json");
}

Result<DeviceCatalog> DeviceCatalog::Parse(std::string_view json_text, std::string_view label) {
  ANEPILOT_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text, label));
  JsonPlace root_place(label, "");
  ANEPILOT_RETURN_IF_ERROR(CheckSchemaHeader(root, root_place, kSchema, kVersion, "a device catalog"));
  const int64_t version = kVersion;
  ANEPILOT_ASSIGN_OR_RETURN(MemoryRule memory, ParseMemoryRule(root, root_place));

  DeviceCatalog catalog;
  catalog.version_ = static_cast<int>(version);

  ANEPILOT_ASSIGN_OR_RETURN(const json* chips, Member(root, "chips", root_place, true));
  JsonPlace chips_place = root_place.Field("chips");
  if (!chips->is_array() || chips->empty()) return chips_place.Invalid("expected a non-empty array");
  for (size_t i = 0; i < chips->size(); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(Chip chip, ParseChip((*chips)[i], chips_place.Index(i)));
    if (catalog.FindChip(chip.name) != nullptr) {
      return chips_place.Index(i).Field("name").Invalid(fmt::format("duplicate chip \"{}\"", chip.name));
    }
    catalog.chips_.push_back(std::move(chip));
  }

  ANEPILOT_ASSIGN_OR_RETURN(const json* devices, Member(root, "devices", root_place, true));
  JsonPlace devices_place = root_place.Field("devices");
  if (!devices->is_array() || devices->empty()) return devices_place.Invalid("expected a non-empty array");
  for (size_t i = 0; i < devices->size(); ++i) {
    const json& j = (*devices)[i];
    JsonPlace place = devices_place.Index(i);
    ANEPILOT_RETURN_IF_ERROR(RequireObject(j, place));
    ANEPILOT_RETURN_IF_ERROR(CheckKnownFields(j, kDeviceFields, place));
    Device d;
    ANEPILOT_ASSIGN_OR_RETURN(d.identifier, GetString(j, "identifier", place));
    ANEPILOT_ASSIGN_OR_RETURN(d.other_identifiers, GetStringList(j, "other_identifiers", place, 0, false));
    std::vector<std::string> all_ids = d.other_identifiers;
    all_ids.insert(all_ids.begin(), d.identifier);
    for (size_t k = 0; k < all_ids.size(); ++k) {
      if (catalog.FindDevice(all_ids[k]) != nullptr) {
        JsonPlace at = k == 0 ? place.Field("identifier") : place.Field("other_identifiers").Index(k - 1);
        return at.Invalid(fmt::format("duplicate identifier \"{}\"", all_ids[k]));
      }
    }
    ANEPILOT_ASSIGN_OR_RETURN(d.name, GetString(j, "name", place));
    ANEPILOT_ASSIGN_OR_RETURN(d.family, ParseFamily(j, place));
    ANEPILOT_ASSIGN_OR_RETURN(d.chip, GetString(j, "chip", place));
    const Chip* chip = catalog.FindChip(d.chip);
    if (chip == nullptr) {
      return place.Field("chip").Invalid(fmt::format("unknown chip \"{}\" (not in chips[])", d.chip));
    }
    d.chip = chip->name;
    d.chip_index = static_cast<size_t>(chip - catalog.chips_.data());
    ANEPILOT_ASSIGN_OR_RETURN(d.ram_gb, GetNumber(j, "ram_gb", place, 0.5, 4096));
    if (j.contains("gpu_cores")) {
      ANEPILOT_ASSIGN_OR_RETURN(int64_t gpu, GetInt(j, "gpu_cores", place, 1, chip->gpu_cores));
      d.gpu_cores = static_cast<int>(gpu);
    } else {
      d.gpu_cores = chip->gpu_cores;
    }
    d.gpu_fp16_tflops = chip->gpu_fp16_tflops * d.gpu_cores / chip->gpu_cores;
    if (j.contains("generic")) {
      if (!j["generic"].is_boolean()) return place.Field("generic").Invalid("expected true or false");
      d.generic = j["generic"].get<bool>();
    }
    ANEPILOT_ASSIGN_OR_RETURN(d.estimated, GetEstimated(j, place, kDeviceEstimable));
    if (j.contains("app_memory_limit_mb")) {
      ANEPILOT_ASSIGN_OR_RETURN(d.app_memory_limit_mb,
                                GetNumber(j, "app_memory_limit_mb", place, 16, d.ram_gb * 1024));
    } else {
      double fraction = RunsIos(d.family) ? memory.ios_fraction : memory.macos_fraction;
      d.app_memory_limit_mb = d.ram_gb * 1024 * fraction;
      if (!d.IsEstimated("app_memory_limit_mb")) d.estimated.push_back("app_memory_limit_mb");
    }
    if (chip->IsEstimated("gpu_fp16_tflops") && !d.IsEstimated("gpu_fp16_tflops")) {
      d.estimated.push_back("gpu_fp16_tflops");
    }
    ANEPILOT_ASSIGN_OR_RETURN(d.sources, GetStringList(j, "sources", place, 1, true));
    ANEPILOT_ASSIGN_OR_RETURN(d.notes, GetString(j, "notes", place, false));
    catalog.devices_.push_back(std::move(d));
  }
  return catalog;
}

const Chip* DeviceCatalog::FindChip(std::string_view name) const {
  for (const Chip& c : chips_) {
    if (EqualsIgnoreCase(c.name, name)) return &c;
  }
  return nullptr;
}

const Device* DeviceCatalog::FindDevice(std::string_view identifier) const {
  for (const Device& d : devices_) {
    if (EqualsIgnoreCase(d.identifier, identifier)) return &d;
    for (const std::string& other : d.other_identifiers) {
      if (EqualsIgnoreCase(other, identifier)) return &d;
    }
  }
  return nullptr;
}

std::vector<std::string> DeviceCatalog::AneGenerations() const {
  std::vector<std::pair<int, std::string>> gens;
  for (const Chip& c : chips_) gens.emplace_back(c.ane_generation_number, "H" + std::to_string(c.ane_generation_number));
  std::sort(gens.begin(), gens.end());
  gens.erase(std::unique(gens.begin(), gens.end()), gens.end());
  std::vector<std::string> out;
  for (auto& g : gens) out.push_back(std::move(g.second));
  return out;
}

}  // namespace anepilot::knowledge
