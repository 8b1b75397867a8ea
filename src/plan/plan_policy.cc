// BuildPolicy and ModelContentHash (declared in anepilot/plan.h).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "anepilot/plan.h"
#include "base/mapped_file.h"
#include "base/sha256.h"

namespace anepilot::plan {
namespace fs = std::filesystem;

Policy BuildPolicy(const ModelPlan& plan, const std::string& model_hash, const std::string& model_name) {
  Policy policy;
  policy.generated_by = "anepilot plan";
  ModelPolicy mp;
  mp.model_hash = model_hash;
  mp.model_name = model_name;
  const auto os = ParseOsVersion(plan.os);
  for (const DevicePlan& d : plan.devices) {
    PolicyRule rule;
    rule.id = fmt::format("plan:{}", d.device->identifier);
    rule.match.device = d.device->identifier;
    // The planned OS applies to iPhone / iPad (iOS numbering); Macs match any macOS.
    if (os && plan.os_given && knowledge::RunsIos(d.device->family)) rule.match.os_min = *os;
    for (ComputeUnits u : d.recommendation.order) {
      const OptionPlan& o = d.option(u);
      UnitChoice c;
      c.units = u;
      c.expected_latency_ms = o.latency_ms;
      c.expected_cold_load_ms = o.cold_load_ms;
      c.expected_warm_load_ms = o.warm_load_ms;
      c.expected_peak_memory_mb = o.peak_memory_mb;
      rule.choices.push_back(c);
    }
    rule.loading.strategy = d.recommendation.strategy;
    rule.loading.serve_first = d.recommendation.serve_first;
    rule.loading.swap_to = d.recommendation.swap_to;
    for (const BlockedOption& b : d.recommendation.blocked) {
      rule.blocked.push_back({b.units, b.reason, b.rule});
    }
    mp.rules.push_back(std::move(rule));
  }
  policy.models.push_back(std::move(mp));
  policy.default_policy = SafeDefaultPolicy();
  return policy;
}

Result<std::string> ModelContentHash(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(fmt::format("{}: no such file or directory", path));
  if (!fs::is_directory(path, ec)) return Sha256OfFile(path);
  // A package or compiled model: every file except the package manifest (its
  // item identifiers are random per save), by sorted relative path.
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), path, ec).generic_string();
    if (rel == "Manifest.json") continue;
    files.push_back(rel);
  }
  if (ec) return IoError(fmt::format("{}: cannot list: {}", path, ec.message()));
  std::sort(files.begin(), files.end());
  Sha256 hasher;
  for (const std::string& rel : files) {
    ANEPILOT_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open((fs::path(path) / rel).string()));
    hasher.Update(rel);
    hasher.Update(std::string_view("\0", 1));
    hasher.Update(fmt::format("{}", f.size()));
    hasher.Update(std::string_view("\0", 1));
    hasher.Update(f.view());
  }
  return hasher.FinishHex();
}

}  // namespace anepilot::plan
