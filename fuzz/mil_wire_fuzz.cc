// libFuzzer target for the ML Program wire decoder (mil_wire_decoder.h),
// differential against its oracle, the libprotobuf-based MilProgramToIr:
// any byte string must decode to a program or an error Status without a
// crash, hang or leak, and whenever both readers accept the bytes they must
// produce the same IR and warnings (ir_diff_for_tests.h names the first
// difference). The input is a serialized MILSpec.Program (Model.mlProgram).
//
// Tolerated differences, in acceptance only (the decoder accepts some inputs
// libprotobuf refuses, never the reverse): length varints longer than 5
// bytes are accepted; skipped groups have their own depth limit. Only the
// IRs of inputs both accept are compared, and they must be equal.
// ANEPILOT_FUZZ_STATS=1 prints at exit how many inputs each reader accepted
// and how many were compared, and each acceptance difference.
//
//   CC=clang CXX=clang++ cmake -DANEPILOT_FUZZ=ON -B build-fuzz && ninja -C build-fuzz anepilot_mil_wire_fuzz
//   build-fuzz/fuzz/anepilot_mil_wire_fuzz CORPUS_DIR fuzz/seeds/anepilot_mil_wire_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "format/ir_diff_for_tests.h"
#include "format/mil_wire_decoder.h"
#include "format/mlmodel_program.h"
#include "proto/MIL.pb.h"

namespace {

// With ANEPILOT_FUZZ_STATS set, how many inputs each reader accepted and how
// many were compared is printed at exit (to check that the differential
// check is not vacuous, e.g. with -runs=0 over a corpus directory).
struct Stats {
  size_t inputs = 0, wire_ok = 0, oracle_ok = 0, compared = 0;
  ~Stats() {
    if (std::getenv("ANEPILOT_FUZZ_STATS") != nullptr) {
      std::fprintf(stderr, "inputs %zu, wire decoder accepted %zu, oracle accepted %zu, compared %zu\n",
                   inputs, wire_ok, oracle_ok, compared);
    }
  }
} stats;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++stats.inputs;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> wire_warnings;
  auto wire = anepilot::format::DecodeMilProgram(bytes, 0, "fuzz.mlmodel", &wire_warnings);
  if (wire.ok()) {
    ++stats.wire_ok;
    size_t ops = 0;
    for (const auto& fn : wire->functions) ops += fn.CountOps();
    (void)ops;
  }
  CoreML::Specification::MILSpec::Program message;
  if (!message.ParseFromString(bytes)) return 0;
  std::vector<std::string> oracle_warnings;
  auto oracle = anepilot::format::MilProgramToIr(&message, "fuzz.mlmodel", &oracle_warnings);
  if (oracle.ok()) ++stats.oracle_ok;
  if (oracle.ok() != wire.ok() && std::getenv("ANEPILOT_FUZZ_STATS") != nullptr) {
    std::fprintf(stderr, "acceptance differs: oracle %s, wire %s\n", oracle.status().ToString().c_str(),
                 wire.status().ToString().c_str());
  }
  if (!oracle.ok() || !wire.ok()) return 0;
  ++stats.compared;
  std::string diff = anepilot::format::testing::FirstProgramDifference(*oracle, *wire);
  if (!diff.empty() || oracle_warnings != wire_warnings) {
    std::fprintf(stderr, "wire decoder and oracle disagree: %s\n",
                 diff.empty() ? "warnings differ" : diff.c_str());
    std::abort();
  }
  return 0;
}
