#!/usr/bin/env bash
# Installs, idempotently, what the browser tests need: Debian's Chromium and npm
# playwright-core (driving that Chromium; Playwright's own browser download is never used).
# Prints the node_modules folder as its last line; progress goes to stderr.
set -euo pipefail
tools="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
mkdir -p "$tools"
say() { echo "$*" >&2; }
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Chromium (Debian package)"
  if [ "$(id -u)" = 0 ]; then sudo_cmd=""; else sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >&2
fi
if [ ! -d "$tools/node_modules/playwright-core" ]; then
  say "installing playwright-core (npm) into $tools"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$tools" --no-audit --no-fund --silent playwright-core@1 >&2
fi
if [ ! -f "$tools/node_modules/axe-core/axe.min.js" ]; then
  say "installing axe-core (npm) into $tools: the browser tests check every page they visit for WCAG 2 A/AA violations"
  npm install --prefix "$tools" --no-audit --no-fund --silent axe-core@4.14.1 >&2
fi
echo "$tools/node_modules"
