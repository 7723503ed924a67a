#!/usr/bin/env bash
# Benchmark 2: HTTP single-indicator POST /api/v1/checks under wrk on loopback, with about
# 1,000,000 indicators loaded, beside GET /livez of the same server (the floor).
#   bench/http.sh [duration-seconds] [connections]
source "$(dirname "$0")/common.sh"
DURATION="${1:-20}"
CONNECTIONS="${2:-32}"
DB="$WORK/http-1m.db"
PORT=18181
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
seed_registry "$DB" 1000000
bank_token "$DB" Bank
start_server "$DB" "$PORT"
trap stop_server EXIT
# An IBAN of the seeded registry that this bank may see, and one that is not in the registry.
find_reported_iban "$PORT"
MISS="NL91ABNA0417164300"

run() {  # name, url, [lua script]
  wrk_run "$1" "$2" "$CONNECTIONS" "${3:-}"
}

write_check_script

indicators=$(curl -s "$METRICS_URL" | awk '/^vangnet_index_indicators / {print $2}')
echo "server: $indicators indicators loaded; wrk: 1 thread, $CONNECTIONS connections, ${DURATION}s per run"
run "GET /livez (floor)" "http://127.0.0.1:$PORT/livez"
BODY="{\"indicators\":[{\"value\":\"$MISS\"}]}" run "POST /api/v1/checks, not reported" "http://127.0.0.1:$PORT/api/v1/checks" "$WORK/check.lua"
BODY="{\"indicators\":[{\"value\":\"$HIT\"}]}" run "POST /api/v1/checks, reported (audited)" "http://127.0.0.1:$PORT/api/v1/checks" "$WORK/check.lua"
