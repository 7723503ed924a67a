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
TOKEN=$("$VANGNET" partner add --name "Bank $(date +%s%N)" --kind bank --json --db "$DB" | sed 's/.*"token":"\([^"]*\)".*/\1/')
export TOKEN
start_server "$DB" "$PORT"
trap stop_server EXIT
# An IBAN of the seeded registry that this bank may see (the generator makes the same ones
# again), and one that is not in the registry.
"$VANGNET" bench generate --reports 20 --unique 5 --out "$WORK/candidates.jsonl" >/dev/null
HIT=""
for iban in $(grep -o '"kind":"iban","role":"payee","value":"[^"]*"' "$WORK/candidates.jsonl" | sed 's/.*"value":"//; s/"$//'); do
  if curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
       -d "{\"indicators\":[{\"value\":\"$iban\"}]}" "http://127.0.0.1:$PORT/api/v1/checks" | grep -q '"status":"reported"'; then
    HIT="$iban"
    break
  fi
done
[ -n "$HIT" ] || { echo "no reported IBAN found among the candidates" >&2; exit 1; }
MISS="NL91ABNA0417164300"

run() {  # name, url, [lua script]
  wrk_run "$1" "$2" "$CONNECTIONS" "${3:-}"
}

cat >"$WORK/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = os.getenv("BODY")
LUA

indicators=$(curl -s "$METRICS_URL" | awk '/^vangnet_index_indicators / {print $2}')
echo "server: $indicators indicators loaded; wrk: 1 thread, $CONNECTIONS connections, ${DURATION}s per run"
run "GET /livez (floor)" "http://127.0.0.1:$PORT/livez"
BODY="{\"indicators\":[{\"value\":\"$MISS\"}]}" run "POST /api/v1/checks, not reported" "http://127.0.0.1:$PORT/api/v1/checks" "$WORK/check.lua"
BODY="{\"indicators\":[{\"value\":\"$HIT\"}]}" run "POST /api/v1/checks, reported (audited)" "http://127.0.0.1:$PORT/api/v1/checks" "$WORK/check.lua"
