#!/usr/bin/env bash
# Makes sure Debian's `wrk` HTTP load generator is installed (the request-flow benchmark,
# scripts/bench_flow.sh, drives the server with it).
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  echo "wrk is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "wrk is missing and apt-get is not available: install the wrk HTTP benchmarking tool" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing wrk (apt-get install)"
if ! apt-get install -y --no-install-recommends wrk; then
  echo "package lists may be stale: running apt-get update once, then installing again"
  apt-get update
  apt-get install -y --no-install-recommends wrk
fi
command -v wrk >/dev/null 2>&1 || { echo "wrk still missing after install" >&2; exit 1; }
echo "wrk is installed"
