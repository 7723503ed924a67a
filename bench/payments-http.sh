#!/usr/bin/env bash
# Interventions benchmark 2: HTTP POST /api/v1/payments/score under wrk on loopback, with about
# 1,000,000 registry indicators loaded, beside GET /livez of the same server (the floor). Every
# request is a new payment (a new id), so each one is decided and stored (group commit).
#   bench/payments-http.sh [duration-seconds] [connections...]
source "$(dirname "$0")/common.sh"
DURATION="${1:-20}"
shift || true
CONNECTIONS="${*:-4 32}"
DB="$WORK/http-1m.db"
PORT=18183
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
seed_registry "$DB" 1000000
bank_token "$DB" "Payments bank"
start_server "$DB" "$PORT"
trap stop_server EXIT
cat >"$WORK/payment.lua" <<'LUA'
-- A new payment per request: ids are unique per thread and run; payers and payees rotate
-- through valid Dutch IBANs (check digits computed here).
local counter = 0
local run = tostring(os.time()) .. tostring(math.random(1000000))
local function iban(n)
  local bban = string.format("INGB%010d", n)
  local digits = ""
  for c in (bban .. "NL00"):gmatch(".") do
    local b = c:byte()
    if b >= 65 then digits = digits .. tostring(b - 55) else digits = digits .. c end
  end
  local rem = 0
  for d in digits:gmatch(".") do rem = (rem * 10 + tonumber(d)) % 97 end
  return string.format("NL%02d%s", 98 - rem, bban)
end
local payers, payees = {}, {}
for i = 1, 2000 do payers[i] = iban(1000000 + i); payees[i] = iban(5000000 + i) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  counter = counter + 1
  local body = string.format(
    '{"id":"w-%s-%d","payer":{"iban":"%s"},"payee":{"iban":"%s"},"amount":{"value":"%d.00","currency":"EUR"},"instant":%s}',
    run, counter, payers[(counter % 2000) + 1], payees[((counter * 7) % 2000) + 1], 10 + counter % 400,
    (counter % 4 == 0) and "true" or "false")
  return wrk.format(nil, nil, nil, body)
end
LUA
run() {  # name, url, connections, [lua script]
  wrk_run "$@"
}
indicators=$(curl -s "$METRICS_URL" | awk '/^vangnet_index_indicators / {print $2}')
echo "server: $indicators indicators loaded; wrk: 1 thread, ${DURATION}s per run"
for c in $CONNECTIONS; do
  run "GET /livez (floor)" "http://127.0.0.1:$PORT/livez" "$c"
  run "POST /api/v1/payments/score (new payments)" "http://127.0.0.1:$PORT/api/v1/payments/score" "$c" "$WORK/payment.lua"
done
