// `anepilot inspect` for people: a header block and aligned tables (IO,
// functions, op histogram, precision, compression, weights, largest
// intermediate tensors, warnings), pipeline stages indented below.
#pragma once

#include <cstddef>
#include <ostream>

#include "analysis/model_summary.h"

namespace anepilot::cli {

struct ReportOptions {
  size_t histogram_rows = 15;   // op types shown before "N more types"
};

void PrintInspectReport(const analysis::ModelSummary& summary, const ReportOptions& options,
                        std::ostream& out);

}  // namespace anepilot::cli
