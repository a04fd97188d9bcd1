#!/usr/bin/env bash
# Runs everything CI runs: formatting, lints, OpenAPI drift, the whole test suite (unit,
# property and black-box tests against the real binary on SQLite and PostgreSQL), a T-SQL
# check (two parsers) of the SQL Server migrations and of every statement the store ran
# during the tests, schemathesis against the running server, the SCIM
# conformance checker (scim2-tester) against /scim/v2, the notification tests against a
# real SMTP server (aiosmtpd) and a webhook receiver checking signatures with the reference
# Standard Webhooks library, the aws_sso target against moto's server (checked with the AWS CLI),
# Slack and Teams messages against the vendors' npm packages, the web app
# build and the browser test. Installs what it needs, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitea/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "checking formatting (cargo fmt --check)"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || { echo "installing rustfmt"; rustup component add rustfmt; }
cargo fmt --all -- --check

step "installing the web app's build tools if missing (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt)"
tools_bin=$(scripts/ensure_frontend_tools.sh)

step "linting (cargo clippy -D warnings; the web app for wasm32)"
rustup component list --installed 2>/dev/null | grep -q '^clippy' || { echo "installing clippy"; rustup component add clippy; }
cargo clippy --workspace --exclude jitea-frontend --all-targets --locked -- -D warnings
cargo clippy -p jitea-frontend --target wasm32-unknown-unknown --locked -- -D warnings

step "making sure PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) answer"
scripts/ensure_postgres.sh
scripts/ensure_mariadb.sh

step "installing the OpenID provider the OIDC tests start (npm oidc-provider, pinned)"
scripts/ensure_oidc_provider.sh > /dev/null
step "making sure OpenLDAP (slapd, ldap-utils) and Samba AD are installed for the directory sync tests"
scripts/ensure_slapd.sh
scripts/ensure_samba.sh

step "installing the SMTP server the notification tests start (PyPI aiosmtpd, pinned, in its own venv)"
# The tests find its python here (tests/src/smtp.rs), else run the script themselves.
JITEA_AIOSMTPD_PYTHON=$(scripts/ensure_aiosmtpd.sh | tail -n 1)
export JITEA_AIOSMTPD_PYTHON

step "installing moto's server and the AWS CLI the aws_sso tests start (PyPI moto[server], awscli, pinned, in their own venv)"
JITEA_MOTO_BIN=$(scripts/ensure_moto.sh | tail -n 1)
export JITEA_MOTO_BIN

step "installing the chat message validators (npm, pinned: typescript, @slack/types, @slack/webhook, @microsoft/teams.cards, adaptivecards)"
JITEA_CHAT_VALIDATORS=$(scripts/ensure_chat_validators.sh | tail -n 1)
export JITEA_CHAT_VALIDATORS

step "building the jitea binary the black-box tests start"
cargo build -p jitea-api --locked

step "checking openapi/openapi.json matches the code (regenerate: scripts/openapi.sh)"
generated=$(mktemp)
"$CARGO_TARGET_DIR/debug/jitea" openapi > "$generated"
if ! diff -u openapi/openapi.json "$generated" > /dev/null; then
  diff -u openapi/openapi.json "$generated" | head -40 || true
  echo "openapi/openapi.json is out of date: run scripts/openapi.sh and commit the result" >&2
  exit 1
fi
rm -f "$generated"

step "running the test suite (unit, live targets, black-box on SQLite and PostgreSQL), capturing every store statement as T-SQL"
mssql_dump=$(mktemp -d)
# Every jitea process (and the connector's unit test) writes the SQL Server text of what it
# runs into $mssql_dump (api/src/store/query.rs, provision/mssql.rs).
chat_samples=$(mktemp)
# notify::chat's unit test writes every Slack and Teams message it builds into $chat_samples.
JITEA_MSSQL_SQL_DUMP="$mssql_dump" JITEA_CHAT_SAMPLES="$chat_samples" cargo test --workspace --exclude jitea-frontend --locked

step "checking every Slack and Teams message the unit tests built against the vendors' packages (tsc with @slack/types, @microsoft/teams.cards; Microsoft's adaptivecards parser)"
node tests/chat_validate.mjs "$chat_samples"
rm -f "$chat_samples"

step "parsing every captured store statement, the connector's statements and the SQL Server migrations with two T-SQL parsers (sqlglot, sqlfluff)"
py=$(scripts/ensure_sqlglot.sh)
# --require-store: no captured store statement means the recorder broke, which fails too.
"$py" scripts/check_mssql_sql.py --require-store "$mssql_dump"
rm -rf "$mssql_dump"

step "fuzzing the running API from outside against its OpenAPI document (schemathesis, all checks, positive and negative data)"
scripts/schemathesis.sh

step "checking the SCIM 2.0 service provider against the scim2-tester conformance checker"
scripts/scim_conformance.sh

step "unit tests of the web app's own code (native: formatting, JSON readers against serde's)"
cargo test -p jitea-frontend --locked

step "building the web app and checking its size budget"
PATH="$tools_bin:$PATH" scripts/build_web.sh

step "browser end-to-end tests (headless Chromium via playwright-core; the identity test starts the OpenID provider and a slapd, the targets test moto)"
JITEA_TOOLS_NODE_MODULES=$(scripts/ensure_browser.sh) node --test --test-concurrency=1 --test-reporter=spec tests/e2e/workflow.test.mjs tests/e2e/lifecycle.test.mjs tests/e2e/identity.test.mjs tests/e2e/notifications.test.mjs tests/e2e/targets.test.mjs

echo
echo "all checks passed in $(( $(date +%s) - started ))s"
