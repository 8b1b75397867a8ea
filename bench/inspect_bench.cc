// In-process timing of what `anepilot inspect` does: ReadModel + Summarize,
// repeated, on one model. Prints one JSON line so bench/inspect_bench.sh can
// put it in a table next to coremltools' numbers:
//
//   anepilot_inspect_bench MODEL [ITERATIONS [DECODE_THREADS]]
//   {"model": "...", "ops": 2385, "iterations": 50, "median_ms": 4.1, "min_ms": 3.9, ...}
//
// The median covers read + summarize + freeing the IR; cpu_median_ms is the
// process CPU time of the same (steadier than wall time on a busy machine). A plain timing loop rather than Google Benchmark: the comparison partner is
// a Python loop doing the same work, and both report the median of N runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "analysis/model_summary.h"
#include "anepilot/model_reader.h"

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [ITERATIONS]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const int iterations = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
  anepilot::ReadOptions options;  // decode_threads 0 (automatic) unless given
  if (argc > 3) options.decode_threads = static_cast<unsigned>(std::max(0, std::atoi(argv[3])));

  std::vector<double> total_ms, cpu_ms, read_ms, summary_ms, destroy_ms;
  size_t ops = 0;
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  for (int i = 0; i < iterations; ++i) {
    std::clock_t c0 = std::clock();
    auto t0 = std::chrono::steady_clock::now();
    auto model = std::make_unique<anepilot::Result<anepilot::ir::Model>>(anepilot::ReadModel(path, options));
    auto t1 = std::chrono::steady_clock::now();
    if (!model->ok()) {
      std::fprintf(stderr, "anepilot_inspect_bench: %s\n", model->status().ToString().c_str());
      return anepilot::ExitCodeFor(model->status());
    }
    anepilot::analysis::ModelSummary summary = anepilot::analysis::Summarize(**model);
    auto t2 = std::chrono::steady_clock::now();
    model.reset();  // freeing the IR is part of the cost (Python frees its objects too)
    auto t3 = std::chrono::steady_clock::now();
    cpu_ms.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    ops = summary.op_count;
    read_ms.push_back(ms(t1 - t0));
    summary_ms.push_back(ms(t2 - t1));
    destroy_ms.push_back(ms(t3 - t2));
    total_ms.push_back(ms(t3 - t0));
  }
  std::printf(
      "{\"model\": \"%s\", \"ops\": %zu, \"iterations\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"cpu_median_ms\": %.3f, "
      "\"read_median_ms\": %.3f, \"summarize_median_ms\": %.3f, \"free_median_ms\": %.3f}\n",
      path.c_str(), ops, iterations, Median(total_ms), *std::min_element(total_ms.begin(), total_ms.end()), Median(cpu_ms),
      Median(read_ms), Median(summary_ms), Median(destroy_ms));
  return 0;
}
