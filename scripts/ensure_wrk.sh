#!/usr/bin/env bash
# Makes sure Debian's `wrk` HTTP load generator is installed (the request-flow benchmark,
# scripts/bench_flow.sh, drives the server with it).
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"
if ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk wrk
  command -v wrk >/dev/null 2>&1 || { echo "wrk still missing after install" >&2; exit 1; }
fi
echo "wrk is installed"
