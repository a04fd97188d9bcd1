#!/usr/bin/env bash
# Checks JITEA's SCIM 2.0 service provider (/scim/v2) from outside with scim2-tester (PyPI,
# the python-scim project's RFC 7643/7644 conformance checker): starts `jitea serve` from the
# debug build on a free port with a fresh SQLite database and a bootstrap admin, signs in as
# that admin, creates a SCIM token through `POST /api/v1/scim/tokens`, and runs every check
# of scim2-tester (discovery: ServiceProviderConfig, ResourceTypes, Schemas and their
# methods; for Users and Groups: create, get, list, attribute selection, replace, delete,
# PATCH add/replace/remove of every writable attribute; an unknown URL) against
# http://127.0.0.1:PORT/scim/v2 with that token. Prints each finding that is not a success
# and the summary; fails on any ERROR or CRITICAL result. Stops the server at the end.
#
# Usage: scripts/scim_conformance.sh        (after `cargo build -p jitea-api`)
# Env:   JITEA_BIN (default $CARGO_TARGET_DIR/debug/jitea); SCIM_TESTER_VERBOSE=1 prints
#        every result, successes included.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"

py=$(scripts/ensure_scim_tester.sh | tail -n 1)
# shellcheck source=scripts/lib/serve.sh
. scripts/lib/serve.sh
admin_login="scim-check-admin"
admin_password="scim-check-password-$RANDOM$RANDOM"
jitea_start scim_conformance "$admin_login" "$admin_password"
admin_token=$(jitea_login "$admin_login" "$admin_password")
scim_token=$(api POST /api/v1/scim/tokens "$admin_token" '{"name": "scim2-tester"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

echo "running scim2-tester against $base/scim/v2"
status=0
SCIM_BASE="$base/scim/v2" SCIM_TOKEN="$scim_token" "$py" - <<'PY' || status=$?
import os, sys
from collections import Counter

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

client = Client(
    base_url=os.environ["SCIM_BASE"],
    headers={"Authorization": "Bearer " + os.environ["SCIM_TOKEN"]},
    timeout=60,
)
scim = SyncSCIMClient(client)
# The JITEA extension's seniorityLevel is a whole number from 1 to 1000. A SCIM schema cannot
# state a range, so the checker would send random 31-bit integers, which the server rightly
# refuses (400 invalidValue). Tell the client the values it may use, as any client configured
# for this server would be: the discovered model's examples are what the checker picks from.
scim.discover()
from scim2_models import Extension
pending = list(Extension.__subclasses__())
hinted = False
while pending:
    cls = pending.pop()
    pending.extend(cls.__subclasses__())
    field = cls.model_fields.get("seniority_level")
    if str(getattr(cls, "__schema__", "")).endswith(":jitea:2.0:User") and field is not None:
        field.examples = [1, 2, 3, 5, 8, 13, 100, 1000]
        hinted = True
if not hinted:
    sys.exit("scim_conformance: the JITEA extension's seniorityLevel was not discovered")
results = check_server(scim)
verbose = os.environ.get("SCIM_TESTER_VERBOSE") == "1"
counts = Counter(r.status.name for r in results)
for r in results:
    if verbose or r.status not in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE):
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{r.status.name:<10} {r.title}{where}: {r.reason}")
failed = counts.get("ERROR", 0) + counts.get("CRITICAL", 0)
summary = ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items()))
print(f"scim2-tester summary: {len(results)} checks: {summary}")
sys.exit(1 if failed or not results else 0)
PY
if grep -qE 'request failed|panicked' "$work/server.log"; then
    echo "scim_conformance: the server logged failures:" >&2
    grep -E 'request failed|panicked' "$work/server.log" | head -20 >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "scim_conformance: scim2-tester found problems (exit $status)" >&2
    exit "$status"
fi
echo "scim_conformance: no failures"
