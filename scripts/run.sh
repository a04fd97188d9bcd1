#!/usr/bin/env bash
# Builds and starts JITEA with an embedded SQLite database in ./data and a demo organisation.
# Extra arguments go to `jitea serve` (e.g. --config jitea.toml). Set JITEA_BIND to change
# the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
echo "==> building jitea (first build takes a few minutes)"
cargo build -p jitea-api --release --locked
exec "$CARGO_TARGET_DIR/release/jitea" serve --demo "$@"
