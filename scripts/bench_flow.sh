#!/usr/bin/env bash
# The request path (see tests/benches/request_flow.rs): auto-approved request → active grant
# on a noop target under wrk, with the raw durable commit rate of the same store beside it.
# Usage: bench_flow.sh [sqlite|postgres] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
backend="${1:-sqlite}"
scripts/ensure_wrk.sh
if [ "$backend" = postgres ]; then scripts/ensure_postgres.sh; fi
echo "==> building the release binary"
cargo build --release -p jitea-api --locked
echo "==> running the benchmark"
cargo bench -p jitea-tests --bench request_flow --locked -- "$backend" "${2:-10}" "${3:-32}"
