// The recommendation for one device: which options to try in which order,
// which to block, and how to load.
//
//  - Blocked: every option with a high or critical risk that stops it working:
//    a crash, a compile failure or memory over the app limit (cpuOnly is never
//    blocked: it is the runtime's last resort). Fallbacks and slowness are
//    already in the predicted latency, so they order options but block none.
//  - Order: the remaining options by predicted latency, fastest first; cpuOnly
//    is always present (last if nothing else is slower).
//  - Strategy: fast_first_then_swap when the first choice uses the ANE and its
//    cold load is at least CostModel::swap_cold_ratio times the cold load of the
//    fastest (steady-state) unblocked non-ANE option and at least swap_min_cold_s
//    (serve from that option, specialize the ANE in the background, swap when
//    faster); else prewarm when the first choice's cold load exceeds
//    prewarm_cold_s; else single.
#pragma once

#include <array>

#include "anepilot/plan.h"
#include "plan/cost_model.h"

namespace anepilot::plan {

// True for a risk that blocks the options it names (see above).
bool BlocksOption(const Risk& risk);

Recommendation Recommend(const std::array<OptionPlan, 4>& options, const std::vector<Risk>& risks,
                         const CostModel& model);

}  // namespace anepilot::plan
