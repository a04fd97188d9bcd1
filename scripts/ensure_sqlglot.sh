#!/usr/bin/env bash
# Make sure a virtualenv with sqlglot (a T-SQL parser, used by scripts/check_mssql_sql.py)
# exists, creating or completing it if needed, and print the path of its python as the last
# line on stdout. Every other message goes to stderr, so callers can do:
#   PY="$(scripts/ensure_sqlglot.sh | tail -n 1)"
#   "$PY" scripts/check_mssql_sql.py
# The venv lives in "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/venv" so repeated runs
# (and CI on the same machine) reuse it. Running it again when all is in place changes nothing.
set -euo pipefail

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

if ! "$py" -c 'import sqlglot' >/dev/null 2>&1; then
    log "installing sqlglot (T-SQL parser) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet sqlglot >&2
    if ! "$py" -c 'import sqlglot' >/dev/null 2>&1; then
        log "ensure_sqlglot: sqlglot still cannot be imported from $py"
        exit 1
    fi
fi

log "sqlglot $("$py" -c 'import sqlglot; print(sqlglot.__version__)' 2>/dev/null || echo '(version unknown)') ready in $venv"
printf '%s\n' "$py"
