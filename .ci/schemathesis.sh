#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis: a server over a
# demo database, then one bounded run per partner token (police, bank, telecom, operator) and
# one without a token. Fails on any server error, any status an operation does not document,
# any answer that does not match its schema, and any wrong content type.
# Usage: .ci/schemathesis.sh PATH-TO-VANGNET [SECONDS-PER-RUN]
set -euo pipefail
bin="$1"
per_run="${2:-45}"
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../.venv-schemathesis"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "4.32.5"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/schemathesis-requirements.txt"
fi
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
export VANGNET_DB="$work/v.db" VANGNET_PNBF_NAW_KEY_FILE="$work/naw.key" VANGNET_METRICS_LISTEN="" VANGNET_LOG_LEVEL=warn
# No rate limits: the fuzzer sends thousands of requests a minute from one address.
export VANGNET_LIMITS_PARTNER_RATE_PER_SECOND=0 VANGNET_PUBLIC_CHECK_RATE_PER_SECOND=0 VANGNET_LIMITS_AUTH_FAILURE_RATE_PER_SECOND=0
"$bin" demo --no-serve --reports 300 > /dev/null
tokens=()
for kind in police bank telecom operator; do
  tokens+=("$("$bin" partner add --name "fuzz-$kind" --kind "$kind" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')")
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" &
server=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/livez" > /dev/null && break; sleep 0.2; done
# One worker: with two, the threads share CPython 3.11's AST state while hypothesis parses
# its lambdas, and it fails now and then with "AST constructor recursion depth mismatch"
# (python/cpython#106905), an error of the tool and not of the API.
run() {
  "$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" "$@" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples 25 --seed 2026 --workers 1 --max-time "$per_run" --no-color --warnings off
}
status=0
for token in "${tokens[@]}"; do
  run -H "Authorization: Bearer $token" || status=1
done
run || status=1
exit $status
