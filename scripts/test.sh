#!/usr/bin/env bash
# README's second command, and what CI runs: set up, build, and pass every test:
#   1. the full build's GoogleTest suites and the coremltools cross-check (ctest)
#   2. the on-device runtime core under AddressSanitizer+UBSan and under ThreadSanitizer
#   3. every parser's libFuzzer target for a short run (FUZZ_SECONDS, default 20)
# Set ANEPILOT_QUICK=1 to run only step 1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh build
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

say "unit, integration and cross-check tests"
ctest --test-dir build --output-on-failure -j2 --timeout 900

if [[ "${ANEPILOT_QUICK:-0}" == "1" ]]; then exit 0; fi

for san in "address,undefined" "thread"; do
  dir="build-san-${san%%,*}"
  say "runtime core under -fsanitize=$san ($dir)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DANEPILOT_RUNTIME_ONLY=ON \
        -DANEPILOT_BUILD_BENCH=OFF -DANEPILOT_SANITIZE="$san" >/dev/null
  ninja -C "$dir"
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 900
done

say "fuzzers, ${FUZZ_SECONDS:-20} s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DANEPILOT_FUZZ=ON -DANEPILOT_BUILD_TESTS=OFF -DANEPILOT_BUILD_BENCH=OFF >/dev/null
ninja -C build-fuzz
scripts/fuzz.sh build-fuzz "${FUZZ_SECONDS:-20}"
