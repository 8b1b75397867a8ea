// Rule evaluation speed: the planner's budget is a 200,000-op program for the
// whole lineup in <= 3 s, so rules are evaluated once per (op, ANE generation).
//   ninja -C build anepilot_knowledge_bench && build/bench/anepilot_knowledge_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "anepilot/ane_rules.h"
#include "anepilot/device_catalog.h"

namespace {

using namespace anepilot;

ir::Value Tensor(std::string name, ir::DType dtype, std::vector<int64_t> shape) {
  ir::Value v;
  v.name = std::move(name);
  v.type.tensor.dtype = dtype;
  for (int64_t d : shape) v.type.tensor.shape.push_back(ir::Dim::Known(d));
  return v;
}

void Add(ir::Function* fn, std::string type, std::string name, std::vector<std::pair<std::string, std::string>> in,
         ir::Value out) {
  ir::Op op;
  op.type = std::move(type);
  op.name = std::move(name);
  for (auto& [param, value] : in) {
    ir::Binding b;
    b.name = value;
    op.inputs.push_back(ir::Argument{param, {b}});
  }
  op.outputs.push_back(std::move(out));
  fn->body.ops.push_back(std::move(op));
}

// A chain of transformer-ish blocks of 10 ops each (const and constexpr weights,
// a runtime weight transform, conv, attention, gather), `ops` ops in all.
ir::Function Synthetic(size_t ops) {
  ir::Function fn;
  fn.name = "main";
  fn.opset = "CoreML7";
  fn.inputs.push_back(Tensor("x0", ir::DType::kFloat16, {1, 64, 32, 32}));
  std::string x = "x0";
  for (size_t i = 0; fn.body.ops.size() < ops; ++i) {
    std::string s = std::to_string(i);
    Add(&fn, "const", "w" + s, {}, Tensor("w" + s, ir::DType::kFloat16, {64, 64, 1, 1}));
    Add(&fn, "constexpr_affine_dequantize", "q" + s, {}, Tensor("q" + s, ir::DType::kFloat16, {64, 64, 1, 1}));
    Add(&fn, "pow", "p" + s, {{"x", "q" + s}, {"y", "w" + s}}, Tensor("p" + s, ir::DType::kFloat16, {64, 64, 1, 1}));
    Add(&fn, "conv", "c" + s, {{"x", x}, {"weight", i % 2 ? "p" + s : "w" + s}}, Tensor("c" + s, ir::DType::kFloat16, {1, 64, 32, 32}));
    Add(&fn, "relu", "r" + s, {{"x", "c" + s}}, Tensor("r" + s, ir::DType::kFloat16, {1, 64, 32, 32}));
    Add(&fn, "reshape", "h" + s, {{"x", "r" + s}}, Tensor("h" + s, ir::DType::kFloat16, {1, 8, 1024, 8}));
    Add(&fn, "matmul", "m" + s, {{"x", "h" + s}, {"y", "h" + s}}, Tensor("m" + s, ir::DType::kFloat16, {1, 8, 1024, 1024}));
    Add(&fn, "softmax", "s" + s, {{"x", "m" + s}}, Tensor("s" + s, ir::DType::kFloat16, {1, 8, 1024, 1024}));
    Add(&fn, "gather", "g" + s, {{"x", "s" + s}}, Tensor("g" + s, ir::DType::kFloat16, {1, 64, 32, 32}));
    Add(&fn, "add", "a" + s, {{"x", "g" + s}, {"y", "r" + s}}, Tensor("a" + s, ir::DType::kFloat16, {1, 64, 32, 32}));
    x = "a" + s;
  }
  return fn;
}

// What both benchmarks evaluate: the shipped rules and catalog, a synthetic
// function of `ops` ops with its index, and every ANE generation.
struct RuleBench {
  Result<knowledge::AneRuleSet> rules = knowledge::AneRuleSet::LoadDefault();
  Result<knowledge::DeviceCatalog> catalog = knowledge::DeviceCatalog::LoadDefault();
  ir::Function fn;
  std::unique_ptr<ir::GraphIndex> index;
  knowledge::ModelFacts facts;
  std::vector<int> generations;

  // False (and the benchmark skipped) when the data files cannot be loaded.
  bool Prepare(benchmark::State& state) {
    if (!rules.ok() || !catalog.ok()) {
      state.SkipWithError("data files not found");
      return false;
    }
    fn = Synthetic(static_cast<size_t>(state.range(0)));
    index = std::make_unique<ir::GraphIndex>(fn);
    facts.compute_ops = fn.body.ops.size();
    for (const std::string& g : catalog->AneGenerations()) generations.push_back(knowledge::AneGenerationNumber(g));
    return true;
  }
  knowledge::OpContext Context() const { return knowledge::OpContext{index.get(), fn.name, &facts}; }

  void Report(benchmark::State& state, size_t findings) const {
    state.counters["ops"] = static_cast<double>(fn.body.ops.size());
    state.counters["generations"] = static_cast<double>(generations.size());
    state.counters["findings"] = static_cast<double>(findings);
    state.SetItemsProcessed(state.iterations() * fn.body.ops.size() * generations.size());
  }
};

void BM_EvaluateAllGenerations(benchmark::State& state) {
  RuleBench b;
  if (!b.Prepare(state)) return;
  const knowledge::OpContext ctx = b.Context();
  size_t findings = 0;
  std::vector<knowledge::RuleFinding> out;
  for (auto _ : state) {
    findings = 0;
    for (int gen : b.generations) {
      for (const ir::Op* op : b.index->Ops()) {
        out.clear();
        b.rules->EvaluateInto(*op, ctx, gen, &out);
        findings += out.size();
      }
    }
    benchmark::DoNotOptimize(findings);
  }
  b.Report(state, findings);
}
BENCHMARK(BM_EvaluateAllGenerations)->Arg(2000)->Arg(200000)->Unit(benchmark::kMillisecond);

// The same work through EvaluateAllGenerations: conditions evaluated once per
// op, findings filtered per generation by the caller.
void BM_EvaluateOncePerOp(benchmark::State& state) {
  RuleBench b;
  if (!b.Prepare(state)) return;
  const knowledge::OpContext ctx = b.Context();
  size_t findings = 0;
  std::vector<knowledge::RuleFinding> out;
  for (auto _ : state) {
    findings = 0;
    for (const ir::Op* op : b.index->Ops()) {
      out.clear();
      b.rules->EvaluateAllGenerations(*op, ctx, &out);
      for (int gen : b.generations) {
        for (const knowledge::RuleFinding& f : out) findings += f.AppliesTo(gen) ? 1 : 0;
      }
    }
    benchmark::DoNotOptimize(findings);
  }
  b.Report(state, findings);
}
BENCHMARK(BM_EvaluateOncePerOp)->Arg(2000)->Arg(200000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
