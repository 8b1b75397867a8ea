#include <gtest/gtest.h>

#include "telemetry/telemetry.h"

namespace anepilot {
namespace {

TelemetryEvent FullEvent() {
  TelemetryEvent e;
  e.ts_ms = 1795610688811;
  e.session = "3f2a";
  e.device = "iPhone17,2";
  e.os_version = "18.2";
  e.os_build = "22C152";
  e.app_version = "3.1 (77)";
  e.model_hash = std::string(64, 'e');
  e.model_name = "MobileNetV2";
  e.units = ComputeUnits::kAll;
  e.from_units = ComputeUnits::kCpuAndGpu;
  e.phase = TelemetryPhase::kSwap;
  e.outcome = TelemetryOutcome::kOk;
  e.duration_ms = 4123.5;
  e.durations_ms = {{"compile", 3900.25}, {"p95", 2.5}};
  e.count = 40;
  e.crash_recovered = true;
  e.error = "";
  e.policy_rule = "a18pro-swap";
  e.strategy = "fast_first_then_swap";
  return e;
}

TEST(TelemetryJson, RoundTripKeepsEveryField) {
  TelemetryEvent e = FullEvent();
  std::string line = SerializeTelemetryEvent(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = ParseTelemetryLine(line + "\n");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, e);
}

TEST(TelemetryJson, MinimalEventHasTheRequiredFieldsOnly) {
  TelemetryEvent e;
  e.ts_ms = 5;
  e.phase = TelemetryPhase::kPolicy;
  e.outcome = TelemetryOutcome::kError;
  e.error = "policy.json: version: version 2 is not supported";
  std::string line = SerializeTelemetryEvent(e);
  EXPECT_EQ(line,
            R"({"schema":"anepilot.telemetry","version":1,"ts":5,"phase":"policy","outcome":"error",)"
            R"("error":"policy.json: version: version 2 is not supported"})");
  EXPECT_EQ(*ParseTelemetryLine(line), e);
}

TEST(TelemetryJson, EveryPhaseAndOutcomeNameRoundTrips) {
  for (int p = 0; p <= static_cast<int>(TelemetryPhase::kPolicy); ++p) {
    auto phase = static_cast<TelemetryPhase>(p);
    EXPECT_EQ(ParseTelemetryPhase(TelemetryPhaseName(phase)), phase);
  }
  for (auto o : {TelemetryOutcome::kOk, TelemetryOutcome::kError, TelemetryOutcome::kCrash}) {
    EXPECT_EQ(ParseTelemetryOutcome(TelemetryOutcomeName(o)), o);
  }
}

TEST(TelemetryJson, InvalidLinesNameTheField) {
  const std::string head = R"({"schema":"anepilot.telemetry","version":1,"ts":5,)";
  struct Bad {
    std::string line;
    StatusCode code;
    const char* expected;
  } cases[] = {
      {R"({"schema":"anepilot.telemetry","version":1,"ts":5,"phase":"swap","outc)",
       StatusCode::kParseError, "not valid JSON"},
      {"[1,2]", StatusCode::kInvalidData, "must be a JSON object"},
      {R"({"version":1,"ts":5,"phase":"swap","outcome":"ok"})", StatusCode::kInvalidData, "schema"},
      {R"({"schema":"anepilot.policy","version":1,"ts":5,"phase":"swap","outcome":"ok"})",
       StatusCode::kInvalidData, "schema: must be \"anepilot.telemetry\""},
      {R"({"schema":"anepilot.telemetry","ts":5,"phase":"swap","outcome":"ok"})",
       StatusCode::kInvalidData, "version: required"},
      {R"({"schema":"anepilot.telemetry","version":2,"ts":5,"phase":"swap","outcome":"ok"})",
       StatusCode::kInvalidData, "version: version 2 is not supported"},
      {R"({"schema":"anepilot.telemetry","version":1,"phase":"swap","outcome":"ok"})",
       StatusCode::kInvalidData, "ts: required"},
      {R"({"schema":"anepilot.telemetry","version":1,"ts":-4,"phase":"swap","outcome":"ok"})",
       StatusCode::kInvalidData, "ts: required"},
      {head + R"("outcome":"ok"})", StatusCode::kInvalidData, "phase: required"},
      {head + R"("phase":"warmup","outcome":"ok"})", StatusCode::kInvalidData,
       "phase: \"warmup\" is not a known phase"},
      {head + R"("phase":"swap"})", StatusCode::kInvalidData, "outcome: required"},
      {head + R"("phase":"swap","outcome":"fine"})", StatusCode::kInvalidData,
       "outcome: \"fine\" is not ok, error or crash"},
      {head + R"("phase":"swap","outcome":"ok","device":7})", StatusCode::kInvalidData,
       "device: expected a string"},
      {head + R"("phase":"swap","outcome":"ok","units":"ane"})", StatusCode::kInvalidData,
       "units: \"ane\" is not a compute-unit option"},
      {head + R"("phase":"swap","outcome":"ok","from_units":3})", StatusCode::kInvalidData,
       "from_units: 3 is not a compute-unit option"},
      {head + R"("phase":"swap","outcome":"ok","duration_ms":-1})", StatusCode::kInvalidData,
       "duration_ms: -1 is not a duration"},
      {head + R"("phase":"swap","outcome":"ok","duration_ms":"5"})", StatusCode::kInvalidData,
       "duration_ms: expected a number"},
      {head + R"("phase":"swap","outcome":"ok","durations_ms":[1]})", StatusCode::kInvalidData,
       "durations_ms: expected an object"},
      {head + R"("phase":"swap","outcome":"ok","durations_ms":{"p50":null}})",
       StatusCode::kInvalidData, "durations_ms.p50: expected a number"},
      {head + R"("phase":"swap","outcome":"ok","count":1.5})", StatusCode::kInvalidData,
       "count: expected an integer"},
      {head + R"("phase":"swap","outcome":"ok","crash_recovered":"yes"})", StatusCode::kInvalidData,
       "crash_recovered: expected true or false"},
      {head + R"("phase":"swap",)" + "\n" + R"("outcome":"ok"})", StatusCode::kParseError,
       "single line"},
  };
  for (const Bad& b : cases) {
    auto e = ParseTelemetryLine(b.line);
    ASSERT_FALSE(e.ok()) << b.line;
    EXPECT_EQ(e.status().code(), b.code) << b.line << " -> " << e.status().ToString();
    EXPECT_NE(e.status().message().find(b.expected), std::string::npos)
        << b.line << " -> " << e.status().message();
  }
}

TEST(TelemetryJson, UnknownFieldsAreIgnored) {
  auto e = ParseTelemetryLine(
      R"({"schema":"anepilot.telemetry","version":1,"ts":5,"phase":"swap","outcome":"ok","thermal":"fair"})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
}

}  // namespace
}  // namespace anepilot
