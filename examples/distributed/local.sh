#!/usr/bin/env bash
# The distributed flow on one machine: N background processes stand for N
# machines. Usage: examples/distributed/local.sh [MODEL_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
modelseal() { node packages/cli/dist/main.js "$@"; }
model=${1:-examples/tiny-model}
n=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--method shards --shard-size 64KiB --quiet)

echo "== hash $n parts in parallel"
pids=()
for i in $(seq 1 "$n"); do
  modelseal hash "$model" "${flags[@]}" --part "$i/$n" --output "$work/part-$i.json" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
echo "== merge"
merged=$(modelseal manifest merge "$work"/part-*.json --output "$work/manifest.json")
echo "merged root digest:  $merged"
echo "one-machine digest:  $(modelseal hash "$model" "${flags[@]}")"
echo "== sign the merged manifest, verify the model against it"
modelseal keygen --out "$work/k" >/dev/null
modelseal sign --manifest "$work/manifest.json" --key "$work/k.key" --signature "$work/model.sig"
modelseal verify "$model" --key "$work/k.pub" --signature "$work/model.sig"
