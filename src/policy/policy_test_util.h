// Builders shared by the policy tests.
#pragma once

#include <string>

#include "anepilot/policy.h"

namespace anepilot::testing {

inline std::string HashOf(char c) { return std::string(64, c); }

inline PolicyRule RuleFor(std::string device, std::vector<ComputeUnits> units) {
  PolicyRule r;
  r.match.device = std::move(device);
  for (ComputeUnits u : units) r.choices.push_back(ChoiceOf(u));
  return r;
}

// One model (hash "aaaa...") with the given rules, safe default.
inline Policy PolicyWithRules(std::vector<PolicyRule> rules) {
  Policy p;
  p.generated_by = "test";
  ModelPolicy m;
  m.model_hash = HashOf('a');
  m.model_name = "TestModel";
  m.rules = std::move(rules);
  p.models.push_back(std::move(m));
  p.default_policy = SafeDefaultPolicy();
  return p;
}

}  // namespace anepilot::testing
