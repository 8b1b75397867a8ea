#!/usr/bin/env bash
# The inspect benchmark (issue 2 item 10): anepilot vs coremltools reading the
# same model files to the same summary, in the same run.
#
#   bench/inspect_bench.sh [BUILD_DIR]        (default: build; needs anepilot + anepilot_inspect_bench built)
#
# Before timing a model, inspect_same_summary.py checks that both sides
# computed the same summary (op histogram, precision, weights, largest
# tensors, IO, ...).
# Models: faceapp-problem1 from the shared corpus (2,385 ops) and a generated
# ML Program of 200,000 ops (bench/inspect_make_large_model.py, written once
# into BUILD_DIR/bench/, not committed).
# Columns:
#   in-process   median of N runs inside one process, wall and CPU time: C++
#                ReadModel+Summarize+free (anepilot_inspect_bench) vs Python
#                read+ParseFromString+walk (inspect_reference_summary.py --loop)
#   process      whole runs (hyperfine, mean wall and user+system CPU):
#                `anepilot inspect --json` vs `python3 inspect_reference_summary.py`
#                (interpreter start and coremltools import included)
#   peak RSS     maximum resident set size of one whole run (/usr/bin/time)
# "ratio" is coremltools' time over anepilot's (how many times faster anepilot is).
# Targets: problem1 <= 10 ms whole process; 200k ops <= 1.5 s and <= 1 GB;
# >= 30x faster than coremltools in-process.
# Env: PYTHON (default: BUILD_DIR's configured venv, .venv/bin/python, python3),
#      ANEPILOT_SHARED_DIR (default ../shared beside the checkout).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
shared="${ANEPILOT_SHARED_DIR:-$here/../shared}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$here/.venv/bin/python" ]]; then PYTHON="$here/.venv/bin/python"; else PYTHON=python3; fi
fi
anepilot="$build/src/cli/anepilot"
inproc="$build/bench/anepilot_inspect_bench"
ref="$here/bench/inspect_reference_summary.py"
for tool in "$anepilot" "$inproc"; do
  [[ -x "$tool" ]] || { echo "inspect_bench: $tool not built (ninja -C $build anepilot anepilot_inspect_bench)" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "inspect_bench: hyperfine missing (apt-get install hyperfine)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "inspect_bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
export PYTHONWARNINGS=ignore

problem1="$shared/corpus/faceapp-problem1/problem1.mlpackage"
large="$build/bench/inspect-large-200k.mlpackage"
if [[ ! -d "$large" ]]; then
  mkdir -p "$build/bench"
  echo "generating $large (once)..." >&2
  "$PYTHON" "$here/bench/inspect_make_large_model.py" "$large" --ops 200000 >/dev/null 2>&1
fi
models=()
[[ -d "$problem1" ]] && models+=("$problem1") || echo "inspect_bench: $problem1 absent, skipped" >&2
models+=("$large")

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
json_field() { "$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
hf_cpu() { "$PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print((r['user']+r['system'])*1000)" "$1" "$2"; }
peak_mb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

rows=()
for model in "${models[@]}"; do
  name="$(basename "$model")"
  if [[ "$model" == "$large" ]]; then n_cpp=5; n_py=3; runs=5; else n_cpp=200; n_py=20; runs=50; fi
  # Both sides must have computed the same summary, or the ratio means nothing.
  "$anepilot" inspect --json "$model" >"$tmp/a.json"
  "$PYTHON" "$ref" "$model" 2>/dev/null >"$tmp/r.json"
  "$PYTHON" "$here/bench/inspect_same_summary.py" "$tmp/a.json" "$tmp/r.json" ||
    { echo "inspect_bench: $name: the two summaries differ (above); no timing" >&2; exit 1; }
  "$inproc" "$model" "$n_cpp" >"$tmp/cpp.json"
  "$PYTHON" "$ref" "$model" --loop "$n_py" 2>/dev/null >"$tmp/py.json"
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$tmp/hf.json" \
    "$anepilot inspect --json $model" "$PYTHON $ref $model" >/dev/null 2>&1
  ops=$(json_field "$tmp/cpp.json" '["ops"]')
  cpp=$(json_field "$tmp/cpp.json" '["median_ms"]')
  cpp_cpu=$(json_field "$tmp/cpp.json" '["cpu_median_ms"]')
  py=$(json_field "$tmp/py.json" '["median_ms"]')
  py_cpu=$(json_field "$tmp/py.json" '["cpu_median_ms"]')
  proc_a=$(json_field "$tmp/hf.json" '["results"][0]["mean"]*1000')
  proc_p=$(json_field "$tmp/hf.json" '["results"][1]["mean"]*1000')
  cpu_a=$(hf_cpu "$tmp/hf.json" 0)
  cpu_p=$(hf_cpu "$tmp/hf.json" 1)
  rss_a=$(peak_mb "$anepilot" inspect --json "$model")
  rss_p=$(peak_mb "$PYTHON" "$ref" "$model")
  ratio() { awk "BEGIN{printf \"%.1fx\", $1 / $2}"; }
  rows+=("$(printf '%-26s %7s | %9.2f %9.2f %6s | %8.2f %8.2f %6s | %9.2f %9.2f %6s | %8.2f %8.2f | %5s %5s' \
    "$name" "$ops" "$cpp" "$py" "$(ratio "$py" "$cpp")" "$cpp_cpu" "$py_cpu" "$(ratio "$py_cpu" "$cpp_cpu")" \
    "$proc_a" "$proc_p" "$(ratio "$proc_p" "$proc_a")" "$cpu_a" "$cpu_p" "$rss_a" "$rss_p")")
done

echo "inspect: anepilot vs coremltools $("$PYTHON" -c 'import coremltools,google.protobuf as p; from google.protobuf.internal import api_implementation as a; print(coremltools.__version__, "(protobuf", p.__version__, a.Type() + ")")' 2>/dev/null)"
echo "host: $(nproc) cores, $(uname -sr); times in ms"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (wall times inflate on a busy machine; CPU times much less)"
printf '%-26s %7s | %-26s | %-24s | %-26s | %-17s | %-11s\n' "" "" "in-process wall (median)" "in-process CPU (median)" \
  "whole process wall (mean)" "process CPU (mean)" "peak RSS MB"
printf '%-26s %7s | %9s %9s %6s | %8s %8s %6s | %9s %9s %6s | %8s %8s | %5s %5s\n' model ops \
  anepilot coremltls ratio anepilot coremltls ratio anepilot python ratio anepilot python anep py
for r in "${rows[@]}"; do echo "$r"; done
