#include "runtime/device_profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "runtime/tensor.h"

namespace anepilot::runtime {
namespace {

TEST(DeviceProfileTest, BuiltinsHaveTheShapeTheBenchmarkNeeds) {
  auto pro_max = BuiltinDeviceProfile("iPhone17,2");
  ASSERT_TRUE(pro_max.has_value());
  const UnitProfile* gpu = pro_max->Find(ComputeUnits::kCpuAndGpu);
  const UnitProfile* ane = pro_max->Find(ComputeUnits::kCpuAndNeuralEngine);
  ASSERT_NE(gpu, nullptr);
  ASSERT_NE(ane, nullptr);
  EXPECT_GE(ane->cold_load_ms, 9 * gpu->cold_load_ms);  // "about 10x the GPU's"
  EXPECT_LT(ane->predict_ms, gpu->predict_ms);
  EXPECT_TRUE(pro_max->faults.empty());

  auto iphone14 = BuiltinDeviceProfile("iPhone14,7");
  ASSERT_TRUE(iphone14.has_value());
  for (ComputeUnits u : kAllComputeUnits) {
    const Fault* f = iphone14->FindFault(u, FaultStep::kLoad);
    EXPECT_EQ(f != nullptr, UsesNeuralEngine(u)) << ComputeUnitsName(u);
    if (f) EXPECT_EQ(f->kind, FaultKind::kCrash);
  }
  EXPECT_FALSE(BuiltinDeviceProfile("iPhone1,1").has_value());
}

TEST(DeviceProfileTest, JsonRoundTrip) {
  DeviceProfile p = *BuiltinDeviceProfile("iPhone14,7");
  p.faults.push_back({ComputeUnits::kCpuAndGpu, FaultStep::kPredict, FaultKind::kNan, 7});
  auto back = ParseDeviceProfile(DeviceProfileToJson(p), "roundtrip.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->identifier, p.identifier);
  EXPECT_EQ(back->os_build, p.os_build);
  ASSERT_EQ(back->units.size(), p.units.size());
  EXPECT_EQ(back->Find(ComputeUnits::kAll)->cold_load_ms, p.Find(ComputeUnits::kAll)->cold_load_ms);
  ASSERT_EQ(back->faults.size(), 3u);
  const Fault* f = back->FindFault(ComputeUnits::kCpuAndGpu, FaultStep::kPredict, 7);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->kind, FaultKind::kNan);
  EXPECT_EQ(back->FindFault(ComputeUnits::kCpuAndGpu, FaultStep::kPredict, 6), nullptr);
}

TEST(DeviceProfileTest, ErrorsNameTheField) {
  auto not_json = ParseDeviceProfile("{", "p.json");
  EXPECT_EQ(not_json.status().code(), StatusCode::kParseError);

  auto wrong_schema = ParseDeviceProfile(R"({"schema":"x","version":1})", "p.json");
  EXPECT_EQ(wrong_schema.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(wrong_schema.status().message().find("schema"), std::string::npos);

  const std::string head = R"({"schema":"anepilot.device_profile","version":1,"identifier":"X",)";
  auto bad_unit = ParseDeviceProfile(head + R"("units":{"cpuAndANE":{}}})", "p.json");
  EXPECT_EQ(bad_unit.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(bad_unit.status().message().find("units.cpuAndANE"), std::string::npos);

  auto negative = ParseDeviceProfile(head + R"("units":{"all":{"cold_load_ms":-1}}})", "p.json");
  EXPECT_NE(negative.status().message().find("cold_load_ms"), std::string::npos);

  auto bad_kind = ParseDeviceProfile(
      head + R"("units":{},"faults":[{"units":"all","step":"load","kind":"explode"}]})", "p.json");
  EXPECT_EQ(bad_kind.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(bad_kind.status().message().find("faults[0].kind"), std::string::npos);
}

TEST(TensorTest, FiniteAndAgreement) {
  Tensors a = {Tensor{"y", {2}, {1.0f, 100.0f}}};
  Tensors b = {Tensor{"y", {2}, {1.001f, 101.0f}}};
  EXPECT_TRUE(AllFinite(a));
  EXPECT_NEAR(MaxRelativeDifference(a, b), 0.01, 1e-4);
  Tensors renamed = {Tensor{"z", {2}, {1.0f, 100.0f}}};
  EXPECT_TRUE(std::isinf(MaxRelativeDifference(a, renamed)));
  Tensors reshaped = {Tensor{"y", {1, 2}, {1.0f, 100.0f}}};
  EXPECT_TRUE(std::isinf(MaxRelativeDifference(a, reshaped)));
  Tensors nan = {Tensor{"y", {2}, {1.0f, std::nanf("")}}};
  EXPECT_FALSE(AllFinite(nan));
  EXPECT_TRUE(std::isinf(MaxRelativeDifference(a, nan)));
}

}  // namespace
}  // namespace anepilot::runtime
