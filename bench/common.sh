# Shared by the benchmark scripts: the release binary and a scratch directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VANGNET="${VANGNET:-$ROOT/target/release/vangnet}"
WORK="${BENCH_DIR:-/tmp/vangnet-bench}"
mkdir -p "$WORK"
[ -x "$VANGNET" ] || (cd "$ROOT" && cargo build --release)

# A registry of about INDICATORS distinct indicators in the SQLite file $1, made once.
seed_registry() {
  local db="$1" indicators="$2" per_report=2
  [ -s "$db" ] && return 0
  local reports=$(( indicators / per_report ))
  "$VANGNET" bench generate --reports "$reports" --unique "$per_report" --out "$WORK/seed-$indicators.jsonl" >/dev/null
  "$VANGNET" partner add --name "Seed" --kind police --db "$db" >/dev/null
  "$VANGNET" import "$WORK/seed-$indicators.jsonl" --partner Seed --db "$db" >/dev/null
  rm -f "$WORK/seed-$indicators.jsonl"
}

# A token of a new bank partner in the database $1, named "$2 <time>"; sets and exports TOKEN
# (wrk's scripts read it from the environment).
bank_token() {
  TOKEN=$("$VANGNET" partner add --name "$2 $(date +%s%N)" --kind bank --json --db "$1" | sed 's/.*"token":"\([^"]*\)".*/\1/')
  export TOKEN
}

# Sets HIT to an IBAN of the seeded registry that the bank of TOKEN sees as reported, asking
# the server on port $1 (the generator makes the seed's IBANs again).
find_reported_iban() {
  "$VANGNET" bench generate --reports 20 --unique 5 --out "$WORK/candidates.jsonl" >/dev/null
  HIT=""
  for iban in $(grep -o '"kind":"iban","role":"payee","value":"[^"]*"' "$WORK/candidates.jsonl" | sed 's/.*"value":"//; s/"$//'); do
    if curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
         -d "{\"indicators\":[{\"value\":\"$iban\"}]}" "http://127.0.0.1:$1/api/v1/checks" | grep -q '"status":"reported"'; then
      HIT="$iban"
      return 0
    fi
  done
  echo "no reported IBAN found among the candidates" >&2
  return 1
}

# wrk's script for POST /api/v1/checks with TOKEN and the body in BODY, written to $WORK/check.lua.
write_check_script() {
  cat >"$WORK/check.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = os.getenv("BODY")
LUA
}

# Starts `vangnet serve` on $1 (database) and port $2, with its metrics on port $2 + 1
# (METRICS_URL); sets SERVER_PID; waits until the index is loaded and /healthz answers.
start_server() {
  METRICS_URL="http://127.0.0.1:$(( $2 + 1 ))/metrics"
  VANGNET_LIMITS_PARTNER_RATE_PER_SECOND=0 VANGNET_LOG_LEVEL=warn VANGNET_METRICS_LISTEN="127.0.0.1:$(( $2 + 1 ))" \
    "$VANGNET" serve --db "$1" --listen "127.0.0.1:$2" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "the server did not start; see $WORK/server.log" >&2
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# One wrk run: name, url, connections, [lua script]; prints requests/s, p50, p99 and the
# number of non-2xx answers. DURATION (seconds) must be set.
wrk_run() {
  local name="$1" url="$2" c="$3" script="${4:-}"
  local out
  if [ -n "$script" ]; then
    out=$(wrk -t1 -c"$c" -d"${DURATION}s" --latency -s "$script" "$url")
  else
    out=$(wrk -t1 -c"$c" -d"${DURATION}s" --latency "$url")
  fi
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-44s c=%-3s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$c" "$rps" "$p50" "$p99" "${errors:-0}"
}
