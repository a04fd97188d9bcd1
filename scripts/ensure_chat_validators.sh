#!/usr/bin/env bash
# Installs, idempotently, what tests/chat_validate.mjs needs, from the npm registry at the
# versions pinned (transitive ones too) in scripts/chat-validators/package-lock.json:
# typescript 7.0.2 (tsc), @slack/types 3.2.0 and @slack/webhook 8.0.2 (Block Kit and incoming
# webhook types), @microsoft/teams.cards 2.1.0 (Adaptive Card types) and adaptivecards 3.0.6
# (Microsoft's card parser and validator). Prints the node_modules folder as its last line;
# progress goes to stderr. Use: JITEA_CHAT_VALIDATORS=$(scripts/ensure_chat_validators.sh)
# node tests/chat_validate.mjs FILE.json
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${JITEA_CHAT_VALIDATORS_DIR:-$HOME/.cache/jitea/chat-validators}"
pins=scripts/chat-validators
say() { echo "$*" >&2; }
command -v npm >/dev/null 2>&1 || { say "npm is needed (Node.js 20 or later)"; exit 1; }
mkdir -p "$dir"
want=$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$want" ] || [ ! -x "$dir/node_modules/typescript/bin/tsc" ]; then
  say "installing the chat payload validators (npm ci, pinned by $pins/package-lock.json) into $dir"
  cp "$pins/package.json" "$pins/package-lock.json" "$dir/"
  # @microsoft/teams.cards declares node >= 22.12; only its type declarations are used here.
  (cd "$dir" && npm ci --no-audit --no-fund --silent --engine-strict=false >&2)
  echo "$want" >"$dir/.installed"
else
  say "chat payload validators already installed in $dir"
fi
echo "$dir/node_modules"
