#!/usr/bin/env bash
# Builds the web app into dist/ with Trunk (release, offline) and prints its size budget:
# the .wasm must stay at or under 430 KB gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
bin_dir=$(scripts/ensure_frontend_tools.sh)
export PATH="$bin_dir:$HOME/.cargo/bin:$PATH"
# Leptos' `erase_components` erases the view types of each component: about 100 KB less wasm
# (gzip 484 → 382 KiB) at no cost at run time.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components"
echo "==> building the web app (trunk build --release)"
trunk build --release
wasm=$(ls dist/*.wasm | head -n1)
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
budget_kb=430
printf 'web app size: %s %d KB raw, %d KB gzip = %d bytes (budget %d KB gzip = %d bytes)\n' \
  "$(basename "$wasm")" $((raw / 1024)) $((gz / 1024)) "$gz" "$budget_kb" $((budget_kb * 1024))
if [ "$gz" -gt $((budget_kb * 1024)) ]; then
  echo "the web app is over its $budget_kb KB gzip size budget (see BENCHMARKS.md)" >&2
  exit 1
fi
