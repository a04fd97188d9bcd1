# Sourced by scripts that check the running server from outside (schemathesis.sh,
# scim_conformance.sh): the debug `jitea serve` on a free port with a fresh SQLite database and
# a bootstrap admin, stopped (and its files removed) when the script exits.
#
#   jitea_start TAG LOGIN PASSWORD [SERVE_ARGS...]
#       starts it (extra settings: export them before), waits until /readyz answers; sets
#       `base`, `work` (temporary folder, the log is $work/server.log) and `server_pid`.
#   api METHOD PATH [TOKEN] [JSON]
#       prints the response body; fails on a transport error or a status of 400 or more
#       (python3's urllib, so the scripts need no curl).
#   jitea_login LOGIN PASSWORD
#       prints a token for that user.

work=$(mktemp -d)
server_pid=""
jitea_cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap jitea_cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

api() {
    python3 - "$base$2" "$1" "${3:-}" "${4:-}" <<'PY'
import sys, urllib.request
url, method, token, body = sys.argv[1:5]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None)
if body:
    req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", "Bearer " + token)
with urllib.request.urlopen(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
PY
}

jitea_login() {
    api POST /api/v1/auth/login "" "{\"login_name\": \"$1\", \"password\": \"$2\"}" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

jitea_start() {
    local tag=$1 login=$2 password=$3
    shift 3
    local bin="${JITEA_BIN:-$CARGO_TARGET_DIR/debug/jitea}"
    if [ ! -x "$bin" ]; then
        echo "$tag: $bin not found; run \`cargo build -p jitea-api\` first" >&2
        exit 1
    fi
    echo "starting jitea serve $* on $base (fresh SQLite database in $work)"
    JITEA_BIND="127.0.0.1:$port" \
    JITEA_DATA_DIR="$work/data" \
    JITEA_DATABASE_URL="sqlite://$work/data/jitea.db" \
    JITEA_BOOTSTRAP_ADMIN="$login:$password" \
    JITEA_LOG="${JITEA_LOG:-warn}" \
        "$bin" serve "$@" > "$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        if api GET /readyz > /dev/null 2>&1; then break; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$tag: jitea serve exited; its log:" >&2
            cat "$work/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    api GET /readyz > /dev/null
}
