#!/usr/bin/env bash
# Make sure the tools virtualenv has schemathesis (OpenAPI fuzzer, PyPI) at the pinned
# version, creating or completing the venv if needed, and print the path of its `st` program
# as the last line on stdout. Every other message goes to stderr. The venv is the same one
# scripts/ensure_sqlglot.sh uses: "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/venv".
# Running it again when all is in place changes nothing.
set -euo pipefail

version="${JITEA_SCHEMATHESIS_VERSION:-4.32.5}"
tools_dir="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
venv="$tools_dir/venv"
py="$venv/bin/python"

log() { printf '%s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "ensure_schemathesis: python3 is not on PATH"
    exit 1
fi

if [ ! -x "$py" ]; then
    log "creating virtualenv at $venv"
    mkdir -p "$tools_dir"
    python3 -m venv "$venv" >&2
fi

installed=$("$py" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
    log "installing schemathesis $version (OpenAPI fuzzer) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet "schemathesis==$version" >&2
    if [ ! -x "$venv/bin/st" ]; then
        log "ensure_schemathesis: $venv/bin/st is missing after the install"
        exit 1
    fi
fi

log "schemathesis $version ready in $venv"
printf '%s\n' "$venv/bin/st"
