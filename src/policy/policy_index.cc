// Matching a (device, OS, model) to a Decision. Rules are pre-sorted by
// precedence per model at construction, so Decide walks candidates best
// first and stops at the first match.
#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "anepilot/policy.h"

namespace anepilot {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsPrefixPattern(const std::string& device) { return !device.empty() && device.back() == '*'; }

// Larger sorts first. (device level, prefix length, has chip, OS level).
using Precedence = std::tuple<int, size_t, int, int>;

Precedence PrecedenceOf(const PolicyMatch& m) {
  int device_level;
  size_t prefix_len = 0;
  if (m.device == "*") {
    device_level = m.chip ? 2 : 1;
  } else if (IsPrefixPattern(m.device)) {
    device_level = 3;
    prefix_len = m.device.size() - 1;
  } else {
    device_level = 4;
  }
  int os_level = m.os_build ? 2 : (m.os_min || m.os_max) ? 1 : 0;
  return {device_level, prefix_len, m.chip ? 1 : 0, os_level};
}

struct RuleRef {
  const PolicyRule* rule;
  size_t model_index;
  size_t rule_index;
};

struct ModelRules {
  // Exact-device rules by device, each list best first.
  std::map<std::string, std::vector<RuleRef>, std::less<>> exact;
  // Prefix, chip and "*" rules, best first.
  std::vector<RuleRef> others;
};

bool Matches(const PolicyMatch& m, const DeviceContext& ctx, const std::optional<OsVersion>& os) {
  if (m.device != "*") {
    if (IsPrefixPattern(m.device)) {
      std::string_view prefix(m.device.data(), m.device.size() - 1);
      if (ctx.device.compare(0, prefix.size(), prefix) != 0) return false;
    } else if (m.device != ctx.device) {
      return false;
    }
  }
  if (m.chip && (ctx.chip.empty() || !EqualsIgnoreCase(*m.chip, ctx.chip))) return false;
  if (m.os_build && *m.os_build != ctx.os_build) return false;
  if (m.os_min || m.os_max) {
    if (!os) return false;
    if (m.os_min && *os < *m.os_min) return false;
    if (m.os_max && *os > *m.os_max) return false;
  }
  return true;
}

bool Contains(const std::vector<UnitChoice>& choices, ComputeUnits u) {
  return std::any_of(choices.begin(), choices.end(), [u](const UnitChoice& c) { return c.units == u; });
}

bool IsBlocked(const std::vector<BlockedUnits>& blocked, ComputeUnits u) {
  return std::any_of(blocked.begin(), blocked.end(),
                     [u](const BlockedUnits& b) { return b.units == u; });
}

// Removes blocked units, guarantees a safe tail, and drops a swap plan whose
// ends are gone.
Decision Finish(std::vector<UnitChoice> choices, LoadingPlan loading,
                std::vector<BlockedUnits> blocked, std::string matched_rule, bool from_default) {
  Decision d;
  for (auto& c : choices) {
    if (c.units == ComputeUnits::kCpuOnly || !IsBlocked(blocked, c.units)) d.choices.push_back(c);
  }
  if (!Contains(d.choices, ComputeUnits::kCpuAndGpu) && !Contains(d.choices, ComputeUnits::kCpuOnly)) {
    if (!IsBlocked(blocked, ComputeUnits::kCpuAndGpu)) {
      d.choices.push_back(ChoiceOf(ComputeUnits::kCpuAndGpu));
    }
    d.choices.push_back(ChoiceOf(ComputeUnits::kCpuOnly));
  }
  if ((loading.serve_first && !Contains(d.choices, *loading.serve_first)) ||
      (loading.swap_to && !Contains(d.choices, *loading.swap_to))) {
    loading.strategy = LoadingStrategy::kSingle;
    loading.serve_first.reset();
    loading.swap_to.reset();
  }
  d.loading = loading;
  d.blocked = std::move(blocked);
  d.matched_rule = std::move(matched_rule);
  d.from_default = from_default;
  return d;
}

}  // namespace

struct PolicyIndex::Impl {
  Policy policy;
  std::map<std::string, ModelRules, std::less<>> by_hash;
};

PolicyIndex::PolicyIndex() : PolicyIndex(SafeDefaultOnlyPolicy()) {}

PolicyIndex::PolicyIndex(Policy policy) : impl_(std::make_unique<Impl>()) {
  impl_->policy = std::move(policy);
  for (size_t mi = 0; mi < impl_->policy.models.size(); ++mi) {
    const ModelPolicy& m = impl_->policy.models[mi];
    ModelRules& rules = impl_->by_hash[m.model_hash];
    for (size_t ri = 0; ri < m.rules.size(); ++ri) {
      RuleRef ref{&m.rules[ri], mi, ri};
      const std::string& device = m.rules[ri].match.device;
      if (device == "*" || IsPrefixPattern(device)) {
        rules.others.push_back(ref);
      } else {
        rules.exact[device].push_back(ref);
      }
    }
    // Stable: equal precedence keeps file order.
    auto by_precedence = [](const RuleRef& a, const RuleRef& b) {
      return PrecedenceOf(a.rule->match) > PrecedenceOf(b.rule->match);
    };
    for (auto& [device, list] : rules.exact) {
      std::stable_sort(list.begin(), list.end(), by_precedence);
    }
    std::stable_sort(rules.others.begin(), rules.others.end(), by_precedence);
  }
}

PolicyIndex::PolicyIndex(PolicyIndex&&) noexcept = default;
PolicyIndex& PolicyIndex::operator=(PolicyIndex&&) noexcept = default;
PolicyIndex::~PolicyIndex() = default;

const Policy& PolicyIndex::policy() const { return impl_->policy; }

Decision PolicyIndex::Decide(const DeviceContext& device, std::string_view model_hash) const {
  const Policy& p = impl_->policy;
  auto model = impl_->by_hash.find(model_hash);
  if (model != impl_->by_hash.end()) {
    std::optional<OsVersion> os = ParseOsVersion(device.os_version);
    const RuleRef* found = nullptr;
    auto exact = model->second.exact.find(device.device);
    if (exact != model->second.exact.end()) {
      for (const RuleRef& r : exact->second) {
        if (Matches(r.rule->match, device, os)) {
          found = &r;
          break;
        }
      }
    }
    if (found == nullptr) {
      for (const RuleRef& r : model->second.others) {
        if (Matches(r.rule->match, device, os)) {
          found = &r;
          break;
        }
      }
    }
    if (found != nullptr) {
      const PolicyRule& rule = *found->rule;
      std::string name = !rule.id.empty()
                             ? rule.id
                             : fmt::format("models[{}].rules[{}]", found->model_index, found->rule_index);
      return Finish(rule.choices, rule.loading, rule.blocked, std::move(name), false);
    }
  }
  return Finish(p.default_policy.choices, p.default_policy.loading, {}, "default", true);
}

PolicyLoad LoadPolicyOrSafeDefault(const std::string& path) {
  auto policy = LoadPolicyFile(path);
  if (!policy.ok()) {
    return PolicyLoad{PolicyIndex(), policy.status()};
  }
  return PolicyLoad{PolicyIndex(std::move(policy).value()), Status::Ok()};
}

}  // namespace anepilot
