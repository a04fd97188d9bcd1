#!/usr/bin/env bash
# Make sure a virtualenv with aiosmtpd (PyPI, pinned: an asyncio SMTP server) and
# standardwebhooks (PyPI, pinned: the Standard Webhooks reference library) exists, creating or
# completing it if needed, and print the path of its python as the last line on stdout.
# The notification tests (tests/tests/notifications.rs) start tests/smtp_sink.py with it: a
# real SMTP server that stores each message as a file and can refuse the first N with a 451;
# the webhook tests (tests/tests/webhooks.rs) start tests/webhook_sink.py, an HTTP receiver
# that checks every webhook signature with the reference library.
# Every other message goes to stderr, so callers can do:
#   export JITEA_AIOSMTPD_PYTHON="$(scripts/ensure_aiosmtpd.sh | tail -n 1)"
# The venv lives in "${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}/aiosmtpd-venv" so repeated
# runs reuse it. Running it again when all is in place changes nothing; a venv holding
# another version is brought to the pinned one.
set -euo pipefail

AIOSMTPD_VERSION=1.4.6
STANDARDWEBHOOKS_VERSION=1.1.0

tools_dir="${JITEA_TOOLS_DIR:-$HOME/.cache/jitea/tools}"
venv="$tools_dir/aiosmtpd-venv"
py="$venv/bin/python"

log() { printf '%s\n' "$*" >&2; }

if ! command -v python3 >/dev/null 2>&1; then
    log "ensure_aiosmtpd: python3 is not on PATH"
    exit 1
fi

if [ ! -x "$py" ]; then
    log "creating virtualenv at $venv"
    mkdir -p "$tools_dir"
    python3 -m venv "$venv" >&2
fi

installed() {
    "$py" -c 'import importlib.metadata as m
try:
    print(m.version("aiosmtpd"))
except m.PackageNotFoundError:
    pass' 2>/dev/null || true
}

if [ "$(installed)" != "$AIOSMTPD_VERSION" ] || ! "$py" -c "import aiosmtpd.smtp" >/dev/null 2>&1; then
    log "installing aiosmtpd==$AIOSMTPD_VERSION (SMTP server for the notification tests) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet "aiosmtpd==$AIOSMTPD_VERSION" >&2
    if [ "$(installed)" != "$AIOSMTPD_VERSION" ] || ! "$py" -c "import aiosmtpd.smtp" >/dev/null 2>&1; then
        log "ensure_aiosmtpd: aiosmtpd $AIOSMTPD_VERSION still cannot be imported from $py"
        exit 1
    fi
fi

sw_installed() {
    "$py" -c 'import importlib.metadata as m
try:
    print(m.version("standardwebhooks"))
except m.PackageNotFoundError:
    pass' 2>/dev/null || true
}

if [ "$(sw_installed)" != "$STANDARDWEBHOOKS_VERSION" ] || ! "$py" -c "import standardwebhooks.webhooks" >/dev/null 2>&1; then
    log "installing standardwebhooks==$STANDARDWEBHOOKS_VERSION (reference webhook signature checks for the webhook tests) into $venv"
    "$py" -m pip install --disable-pip-version-check --quiet "standardwebhooks==$STANDARDWEBHOOKS_VERSION" >&2
    if ! "$py" -c "import standardwebhooks.webhooks" >/dev/null 2>&1; then
        log "ensure_aiosmtpd: standardwebhooks $STANDARDWEBHOOKS_VERSION still cannot be imported from $py"
        exit 1
    fi
fi

log "aiosmtpd $(installed) and standardwebhooks $(sw_installed) ready in $venv"
printf '%s\n' "$py"
