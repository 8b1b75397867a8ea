#!/usr/bin/env bash
# Installs everything anepilot needs to build and test, then configures and
# builds it. Idempotent: packages already present are not fetched again.
#
#   scripts/setup.sh [BUILD_DIR]      (default: build)
#
# Debian/Ubuntu: apt packages (uses sudo when not root). macOS: Homebrew.
# Python tooling (coremltools, the reference reader/writer used by tests,
# benchmarks and the example-model script) goes into .venv/ in the checkout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-build}"
cd "$here"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [[ "$(uname -s)" == "Darwin" ]]; then
  command -v brew >/dev/null || { echo "Homebrew is required on macOS (https://brew.sh)" >&2; exit 2; }
  say "installing build dependencies with Homebrew"
  brew install --quiet cmake ninja protobuf nlohmann-json cli11 fmt googletest google-benchmark mimalloc python@3.11
  PY=python3.11
else
  # Debian 12 package names. Each is a deliberate choice, see README.md.
  pkgs=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
        libprotobuf-dev protobuf-compiler nlohmann-json3-dev libcli11-dev libfmt-dev
        libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libmimalloc-dev
        python3 python3-venv python3-pip hyperfine time)
  missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  PY=python3
fi

if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with coremltools (tests and tooling only)"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import coremltools, numpy" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "coremltools==9.0" numpy
fi

say "configuring and building ($build)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DPython3_EXECUTABLE="$here/.venv/bin/python" >/dev/null
ninja -C "$build"
