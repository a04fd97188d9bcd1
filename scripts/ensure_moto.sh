#!/usr/bin/env bash
# Make sure a virtualenv with moto's server (PyPI `moto[server]`, pinned: a local AWS API that
# speaks IAM Identity Center, Identity Store and Organizations) and the AWS CLI (PyPI `awscli`,
# pinned: AWS's own client, which the tests use to look at and change what moto holds) exists,
# creating or completing it if needed, and print the venv's bin directory as the last line.
# The aws_sso tests (tests/tests/aws_sso.rs) start `moto_server` from there and run `aws`
# from there; nothing installed on the machine by hand is used.
#   export JITEA_MOTO_BIN="$(scripts/ensure_moto.sh | tail -n 1)"
# The venv lives in "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/moto-venv". Running it again
# when all is in place changes nothing; a venv holding other versions is brought to the pins.
set -euo pipefail

MOTO_VERSION=5.2.5
AWSCLI_VERSION=1.46.3

tools_dir="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
venv="$tools_dir/moto-venv"
py="$venv/bin/python"

log() { printf '%s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "ensure_moto: python3 is not on PATH"
    exit 1
fi
if [ ! -x "$py" ]; then
    log "creating virtualenv at $venv"
    mkdir -p "$tools_dir"
    python3 -m venv "$venv" >&2
fi

version_of() {
    "$py" -c 'import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass' "$1" 2>/dev/null || true
}

if [ "$(version_of moto)" != "$MOTO_VERSION" ] || [ "$(version_of awscli)" != "$AWSCLI_VERSION" ] \
    || [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
    log "installing moto[server]==$MOTO_VERSION and awscli==$AWSCLI_VERSION (local AWS API and AWS's CLI for the aws_sso tests) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet \
        "moto[server]==$MOTO_VERSION" "awscli==$AWSCLI_VERSION" >&2
    if [ "$(version_of moto)" != "$MOTO_VERSION" ] || [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
        log "ensure_moto: moto $MOTO_VERSION or awscli $AWSCLI_VERSION is still missing from $venv"
        exit 1
    fi
fi

log "moto $(version_of moto) and awscli $(version_of awscli) ready in $venv"
printf '%s\n' "$venv/bin"
