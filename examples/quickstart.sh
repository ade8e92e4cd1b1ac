#!/usr/bin/env bash
# The README quick start's main job, on the bundled example model.
set -euo pipefail
cd "$(dirname "$0")/.."
modelseal() { node packages/cli/dist/main.js "$@"; }

echo "== hash examples/tiny-model (OMS manifest, SHA-256 per file)"
modelseal hash examples/tiny-model --json
echo "== root digest"
modelseal hash examples/tiny-model
