#!/usr/bin/env bash
# Installs, idempotently, what building the web app needs: the wasm32 target, Trunk 0.21.14,
# wasm-bindgen-cli matching Cargo.lock exactly, and wasm-opt from npm binaryen@132 (Debian's
# binaryen 108 produces wasm that fails in Chromium). Prints the PATH entries to add as its
# last line; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
mkdir -p "$tools"
say() { echo "$*" >&2; }

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown >&2
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
  say "installing trunk 0.21.14 (cargo install; about 12 minutes on 2 cores, once)"
  cargo install --locked trunk --version 0.21.14 >&2
fi

wb=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
wb=${wb:-0.2.130}
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb" ]; then
  say "installing wasm-bindgen-cli $wb (must equal the wasm-bindgen crate in Cargo.lock)"
  cargo install wasm-bindgen-cli --version "$wb" --force >&2
fi

if [ ! -x "$tools/node_modules/.bin/wasm-opt" ] || ! "$tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q 'version 132'; then
  say "installing wasm-opt (npm binaryen@132.0.0) into $tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent binaryen@132.0.0 >&2
fi

echo "$tools/node_modules/.bin"
