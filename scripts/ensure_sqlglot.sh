#!/usr/bin/env bash
# Make sure a virtualenv with the two T-SQL parsers scripts/check_mssql_sql.py uses exists
# (sqlglot and sqlfluff, both from PyPI at pinned versions), creating or completing it if
# needed, and print the path of its python as the last line on stdout. Every other message
# goes to stderr, so callers can do:
#   PY="$(scripts/ensure_sqlglot.sh | tail -n 1)"
#   "$PY" scripts/check_mssql_sql.py
# The venv lives in "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/venv" so repeated runs
# (and CI on the same machine) reuse it. Running it again when all is in place changes nothing;
# a venv holding other versions is brought to the pinned ones.
set -euo pipefail

SQLGLOT_VERSION=30.31.0
SQLFLUFF_VERSION=4.5.0

tools_dir="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
venv="$tools_dir/venv"
py="$venv/bin/python"

log() { printf '%s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "ensure_sqlglot: python3 is not on PATH"
    exit 1
fi

if [ ! -x "$py" ]; then
    log "creating virtualenv at $venv"
    mkdir -p "$tools_dir"
    # Also completes a directory left behind by an interrupted run.
    python3 -m venv "$venv" >&2
fi

# Prints the installed version of a distribution, or nothing.
installed() {
    "$py" -c 'import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass' "$1" 2>/dev/null || true
}

ensure() { # name version import-name what
    if [ "$(installed "$1")" != "$2" ] || ! "$py" -c "import $3" >/dev/null 2>&1; then
        log "installing $1==$2 ($4) into $venv"
        "$py" -m pip install --disable-pip-version-check --quiet "$1==$2" >&2
        if [ "$(installed "$1")" != "$2" ] || ! "$py" -c "import $3" >/dev/null 2>&1; then
            log "ensure_sqlglot: $1 $2 still cannot be imported from $py"
            exit 1
        fi
    fi
}

ensure sqlglot "$SQLGLOT_VERSION" sqlglot "T-SQL parser"
ensure sqlfluff "$SQLFLUFF_VERSION" sqlfluff "second, independent T-SQL parser"

log "sqlglot $(installed sqlglot) and sqlfluff $(installed sqlfluff) ready in $venv"
printf '%s\n' "$py"
