#!/usr/bin/env bash
# Rebuilds the web app and writes screenshots of the main pages (desktop and phone width) to
# docs/screenshots/, using a throwaway server with the demo organisation.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
scripts/build_web.sh
export JITEA_TOOLS_NODE_MODULES=$(scripts/ensure_browser.sh)
cargo build -p jitea-api --locked
node tests/e2e/screenshots.mjs
