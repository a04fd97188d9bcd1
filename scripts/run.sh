#!/usr/bin/env bash
# Builds and starts JITEA: the web app (Trunk, installed on first use) and the service, with
# an embedded SQLite database in ./data and a demo organisation, UI and API on one port.
# Extra arguments go to `jitea serve` (e.g. --config jitea.toml). Set JITEA_BIND to change
# the address (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
echo "==> building the web app (first run installs trunk and friends: ~15 minutes, once)"
scripts/build_web.sh
echo "==> building jitea (first build takes a few minutes)"
cargo build -p jitea-api --release --locked
export JITEA_WEB_DIR="${JITEA_WEB_DIR:-$PWD/dist}"
exec "$CARGO_TARGET_DIR/release/jitea" serve --demo "$@"
