#!/usr/bin/env bash
# The README quick start's main job, on the bundled example model:
# hash it, make a key, sign it, verify it, then show a tampered copy failing.
set -euo pipefail
cd "$(dirname "$0")/.."
modelseal() { node packages/cli/dist/main.js "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/tiny-model "$work/tiny-model"

echo "== modelseal hash (root digest of examples/tiny-model)"
modelseal hash "$work/tiny-model"
echo "== modelseal keygen"
# an empty MODELSEAL_KEY_PASSWORD: an unencrypted throwaway key, no passphrase prompt on a terminal
MODELSEAL_KEY_PASSWORD= modelseal keygen --out "$work/release"
echo "== modelseal sign"
modelseal sign "$work/tiny-model" --key "$work/release.key"
echo "== modelseal verify"
modelseal verify "$work/tiny-model" --key "$work/release.pub"
echo "== tamper with config.json, verify again (must fail with exit 1)"
echo '{"tampered": true}' > "$work/tiny-model/config.json"
if modelseal verify "$work/tiny-model" --key "$work/release.pub"; then
  echo "tampered model verified: this is a bug" >&2
  exit 1
else
  echo "(exit $? as expected)"
fi
