// Planner speed (not a test): `anepilot_plan_bench [--benchmark_filter=...]`.
//  - BM_PlanFaceApp: faceapp-problem1 for every device of the catalog (target <= 50 ms);
//  - BM_PlanSynthetic/<ops>/<devices>: a generated program of <ops> ops (a
//    repeated conv / attention / gather block, a third of them constants) for
//    the first <devices> devices, to show time ~ ops x devices (target: 200,000
//    ops for every device <= 3 s).
// Model reading is outside the timed loop (bench/inspect_bench covers it).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "anepilot/model_reader.h"
#include "anepilot/plan.h"

namespace {

using anepilot::ir::DType;

anepilot::ir::TensorType Tensor(DType dtype, std::vector<int64_t> dims) {
  anepilot::ir::TensorType t;
  t.dtype = dtype;
  for (int64_t d : dims) t.shape.push_back(anepilot::ir::Dim::Known(d));
  return t;
}

std::string SourceDir() {
  if (const char* d = std::getenv("ANEPILOT_SOURCE_DIR")) return d;
  return ANEPILOT_SOURCE_DIR;
}

const anepilot::plan::Planner& GetPlanner() {
  static anepilot::plan::Planner* planner = [] {
    std::string data = SourceDir() + "/data/";
    auto p = anepilot::plan::Planner::Load(
        {data + "devices.json", data + "ane_rules.json", data + "cost_model.json"});
    if (!p.ok()) {
      std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
      std::exit(1);
    }
    return new anepilot::plan::Planner(std::move(p).value());
  }();
  return *planner;
}

// A program of about `n` ops: blocks of const, conv, relu, matmul, softmax,
// gather (CPU), add, each block reading the previous one.
anepilot::ir::Model Synthetic(size_t n) {
  anepilot::ir::Model m;
  m.kind = "mlProgram";
  m.path = "synthetic";
  m.container = anepilot::ir::Container::kMlPackage;
  anepilot::ir::Function fn;
  fn.name = "main";
  fn.opset = "CoreML7";
  fn.inputs.push_back({"x0", {anepilot::ir::ValueType::Kind::kTensor, Tensor(DType::kFloat16, {1, 64, 32, 32}), {}}});
  fn.inputs.push_back({"idx", {anepilot::ir::ValueType::Kind::kTensor, Tensor(DType::kInt32, {64}), {}}});
  std::string prev = "x0";
  auto add_op = [&](const std::string& type, const std::string& name,
                    std::vector<std::pair<std::string, std::string>> in, anepilot::ir::TensorType out) {
    anepilot::ir::Op op;
    op.type = type;
    op.name = name;
    for (auto& [p, v] : in) {
      anepilot::ir::Argument a;
      a.param = p;
      anepilot::ir::Binding b;
      b.name = v;
      a.bindings.push_back(b);
      op.inputs.push_back(a);
    }
    op.outputs.push_back({name, {anepilot::ir::ValueType::Kind::kTensor, out, {}}});
    fn.body.ops.push_back(std::move(op));
    return name;
  };
  const auto act = Tensor(DType::kFloat16, {1, 64, 32, 32});
  for (size_t i = 0; fn.body.ops.size() < n; ++i) {
    std::string s = std::to_string(i);
    anepilot::ir::Op w;
    w.type = "const";
    w.name = "w" + s;
    auto wt = Tensor(DType::kFloat16, {64, 64, 3, 3});
    anepilot::ir::Constant c;
    c.type.tensor = wt;
    c.byte_size = 64 * 64 * 9 * 2;
    w.attributes["val"] = c;
    w.outputs.push_back({w.name, {anepilot::ir::ValueType::Kind::kTensor, wt, {}}});
    fn.body.ops.push_back(std::move(w));
    std::string x = add_op("conv", "conv" + s, {{"x", prev}, {"weight", "w" + s}}, act);
    x = add_op("relu", "relu" + s, {{"x", x}}, act);
    x = add_op("reshape", "r" + s, {{"x", x}}, Tensor(DType::kFloat16, {1, 64, 1024}));
    std::string sc = add_op("matmul", "mm" + s, {{"x", x}, {"y", x}}, Tensor(DType::kFloat16, {1, 64, 64}));
    sc = add_op("softmax", "sm" + s, {{"x", sc}}, Tensor(DType::kFloat16, {1, 64, 64}));
    if (i % 8 == 7) sc = add_op("gather", "g" + s, {{"x", sc}, {"indices", "idx"}}, Tensor(DType::kFloat16, {1, 64, 64}));
    x = add_op("matmul", "av" + s, {{"x", sc}, {"y", x}}, Tensor(DType::kFloat16, {1, 64, 1024}));
    x = add_op("reshape", "r2" + s, {{"x", x}}, act);
    prev = add_op("add", "add" + s, {{"x", x}, {"y", prev}}, act);
  }
  fn.body.outputs = {prev};
  m.program.functions.push_back(std::move(fn));
  return m;
}

void BM_PlanFaceApp(benchmark::State& state) {
  std::string path = SourceDir() + "/../shared/corpus/faceapp-problem1/problem1.mlpackage";
  auto model = anepilot::ReadModel(path);
  if (!model.ok()) {
    state.SkipWithError(model.status().ToString().c_str());
    return;
  }
  anepilot::plan::PlanOptions opts;
  opts.devices = "all";
  size_t devices = 0;
  for (auto _ : state) {
    auto plan = GetPlanner().Plan(*model, opts);
    devices = plan->devices.size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["devices"] = static_cast<double>(devices);
}
BENCHMARK(BM_PlanFaceApp)->Unit(benchmark::kMillisecond);

void BM_PlanSynthetic(benchmark::State& state) {
  const size_t ops = static_cast<size_t>(state.range(0));
  const size_t ndev = static_cast<size_t>(state.range(1));
  anepilot::ir::Model model = Synthetic(ops);
  std::string list;
  const auto& devices = GetPlanner().catalog().devices();
  for (size_t i = 0; i < ndev && i < devices.size(); ++i) list += (i ? "," : "") + devices[i].identifier;
  anepilot::plan::PlanOptions opts;
  opts.devices = list;
  for (auto _ : state) {
    auto plan = GetPlanner().Plan(model, opts);
    if (!plan.ok()) {
      state.SkipWithError(plan.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(plan);
  }
  state.counters["ops"] = static_cast<double>(model.program.functions[0].body.ops.size());
  state.counters["devices"] = static_cast<double>(std::min(ndev, devices.size()));
  state.counters["ns_per_op_device"] = benchmark::Counter(
      static_cast<double>(model.program.functions[0].body.ops.size() * std::min(ndev, devices.size())),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PlanSynthetic)
    ->Args({25000, 89})->Args({50000, 89})->Args({100000, 89})->Args({200000, 89})
    ->Args({200000, 10})->Args({200000, 45})
    ->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(1);

}  // namespace

BENCHMARK_MAIN();
