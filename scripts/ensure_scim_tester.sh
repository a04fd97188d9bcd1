#!/usr/bin/env bash
# Make sure the tools virtualenv has scim2-tester (SCIM 2.0 conformance checker, PyPI) at the
# pinned version, creating or completing the venv if needed, and print the path of the venv's
# python as the last line on stdout. Every other message goes to stderr. The venv is the same
# one scripts/ensure_schemathesis.sh uses: "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/venv".
# Running it again when all is in place changes nothing.
set -euo pipefail

version="${JITEA_SCIM_TESTER_VERSION:-0.5.2}"
tools_dir="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
venv="$tools_dir/venv"
py="$venv/bin/python"

log() { printf '%s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "ensure_scim_tester: python3 is not on PATH"
    exit 1
fi

if [ ! -x "$py" ]; then
    log "creating virtualenv at $venv"
    mkdir -p "$tools_dir"
    python3 -m venv "$venv" >&2
fi

# The HTTP engine (httpx2) is an extra: a venv with scim2-tester but without it is incomplete.
installed=$("$py" -c 'import importlib.metadata as m, httpx2; print(m.version("scim2-tester"))' 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
    log "installing scim2-tester $version (SCIM 2.0 conformance checker) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet "scim2-tester[httpx2]==$version" >&2
    if ! "$py" -c "import scim2_tester, httpx2" 2>/dev/null; then
        log "ensure_scim_tester: scim2_tester cannot be imported after the install"
        exit 1
    fi
fi

log "scim2-tester $version ready in $venv"
printf '%s\n' "$py"
