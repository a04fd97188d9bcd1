#!/usr/bin/env bash
# Revocation lag benchmark (see tests/benches/revocation_lag.rs). Usage: bench_revocation.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
scripts/ensure_postgres.sh
echo "==> building the release binary"
cargo build --release -p jitea-api --locked
echo "==> running the benchmark"
cargo bench -p jitea-tests --bench revocation_lag --locked -- "${1:-1000}"
