#!/usr/bin/env bash
# Revocation lag benchmark. Usage: bench_revocation.sh [N]          (PostgreSQL target,
#                                                                    tests/benches/revocation_lag.rs)
#                                  bench_revocation.sh aws_sso [N]  (aws_sso target on moto,
#                                                                    tests/benches/revocation_lag_aws.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
scripts/ensure_postgres.sh
bench=revocation_lag
if [ "${1:-}" = aws_sso ]; then
  shift
  bench=revocation_lag_aws
  JITEA_MOTO_BIN=$(scripts/ensure_moto.sh | tail -n 1)
  export JITEA_MOTO_BIN
fi
echo "==> building the release binary"
cargo build --release -p jitea-api --locked
echo "==> running the benchmark"
cargo bench -p jitea-tests --bench "$bench" --locked -- "${1:-$([ "$bench" = revocation_lag ] && echo 1000 || echo 100)}"
