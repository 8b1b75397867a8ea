#!/usr/bin/env bash
# Runs every benchmark and prints its results (benchmarks are not tests: they
# make no pass/fail assertions; the numbers go into the issue notes).
#
#   bench/run.sh [BUILD_DIR]     (default: build; built by scripts/setup.sh)
#
#   1. inspect   anepilot vs coremltools on faceapp-problem1 and a 200k-op program
#   2. plan      planning faceapp-problem1 and 25k..200k-op programs for the lineup
#   3. knowledge rule evaluation over 200k ops x every Neural Engine generation
#   4. runtime   the first users' scenario on simulated iPhone 16 Pro Max / iPhone 14
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
ninja -C "$build" anepilot anepilot_inspect_bench anepilot_plan_bench \
      anepilot_knowledge_bench anepilot_runtime_bench >/dev/null
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "inspect (bench/inspect_bench.sh)"
"$here/bench/inspect_bench.sh" "$build"

say "plan (anepilot_plan_bench)"
"$build/bench/anepilot_plan_bench" --benchmark_min_time=0.5

say "knowledge (anepilot_knowledge_bench)"
"$build/bench/anepilot_knowledge_bench" --benchmark_min_time=0.5

say "runtime scenario (anepilot_runtime_bench)"
state="$(mktemp -d /dev/shm/anepilot-bench.XXXXXX 2>/dev/null || mktemp -d)"
"$build/bench/anepilot_runtime_bench" --state-root "$state"
rm -rf "$state"
