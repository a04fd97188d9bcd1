#!/usr/bin/env bash
# Eligibility at scale (see tests/benches/requestable_roles.rs): GET /me/requestable-roles in a
# generated 100k-user organisation. Usage: bench_eligibility.sh [sqlite|postgres] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
backend="${1:-sqlite}"
if [ "$backend" = postgres ]; then scripts/ensure_postgres.sh; fi
echo "==> building the release binary"
cargo build --release -p jitea-api --locked
echo "==> running the benchmark"
cargo bench -p jitea-tests --bench requestable_roles --locked -- "$backend" "${2:-500}"
