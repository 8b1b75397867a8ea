#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, with a
# corpus directory per target under BUILD_DIR/fuzz-corpus (seeded from the
# shared corpus where the target has seeds). Fails on the first crash.
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
dir="${1:?build dir}"
secs="${2:-20}"
found=0
for bin in "$dir"/fuzz/*_fuzz; do
  [[ -x "$bin" ]] || continue
  found=$((found + 1))
  name="$(basename "$bin")"
  corpus="$dir/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds="$(dirname "$0")/../fuzz/seeds/$name"
  extra=()
  [[ -d "$seeds" ]] && extra+=("$seeds")
  printf '%-22s ' "$name"
  log="$dir/fuzz-corpus/$name.log"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
        "$corpus" "${extra[@]}" >"$log" 2>&1; then
    echo "FAILED (see $log)"; tail -40 "$log"; exit 1
  fi
  grep -E "stat::number_of_executed_units" "$log" | awk '{printf "%s execs, ", $2}'
  echo "no findings"
done
[[ $found -gt 0 ]] || { echo "no fuzz targets were built in $dir/fuzz" >&2; exit 1; }
