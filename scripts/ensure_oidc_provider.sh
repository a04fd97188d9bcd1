#!/usr/bin/env bash
# Installs, idempotently, the OpenID provider the OIDC tests start: npm `oidc-provider`
# (panva), pinned, into its own folder under ~/.cache/jitea/tools (from the npm registry;
# nothing is downloaded from GitHub). Checks Node.js is there. Prints the node_modules folder
# as its last line; progress goes to stderr.
set -euo pipefail
version=9.13.3
tools="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/oidc-provider"
mkdir -p "$tools"
say() { echo "$*" >&2; }
command -v node >/dev/null 2>&1 || { say "Node.js (node) is required for the OIDC tests"; exit 1; }
installed=$(node -p "require('$tools/node_modules/oidc-provider/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
  say "installing oidc-provider@$version (npm) into $tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "oidc-provider@$version" >&2
else
  say "oidc-provider@$version already installed in $tools"
fi
echo "$tools/node_modules"
