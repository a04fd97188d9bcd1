#!/usr/bin/env bash
# Regenerates openapi/openapi.json from the code.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
cargo build -p jitea-api --quiet
"$CARGO_TARGET_DIR/debug/jitea" openapi > openapi/openapi.json
echo "wrote openapi/openapi.json"
