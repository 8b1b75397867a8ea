#!/usr/bin/env bash
# README's first command: set up, build, then run anepilot's main job on a real
# example model that this script builds with coremltools (a small image model
# with attention and int8 weights), and on the first users' model when the
# shared corpus is beside the checkout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh build
mkdir -p examples/generated
example=examples/generated/example.mlpackage
if [[ ! -d "$example" ]]; then
  .venv/bin/python scripts/make_example_model.py "$example"
fi
bin=build/src/cli/anepilot
echo; echo "\$ anepilot inspect $example"; "$bin" inspect "$example"
echo; echo "\$ anepilot plan $example --devices iPhone14,7,iPhone17,2,iPhone15,2 --policy examples/generated/policy.json"
"$bin" plan "$example" --devices iPhone14,7,iPhone17,2,iPhone15,2 --policy examples/generated/policy.json
faceapp=../shared/corpus/faceapp-problem1/problem1.mlpackage
if [[ -d "$faceapp" ]]; then
  echo; echo "\$ anepilot plan $faceapp --devices all"; "$bin" plan "$faceapp" --devices all
fi
