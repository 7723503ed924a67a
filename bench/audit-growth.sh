#!/usr/bin/env bash
# Benchmark 8: how fast the audit log grows under check load. One bank checks one reported
# IBAN as fast as wrk can send (every answer is a hit) for DURATION seconds, against a SQLite
# registry of about 1,000,000 indicators; printed: checks answered, check.hits entries written,
# bytes the database grew (its pages in use, as a reader sees them), and that growth per day at the measured rate.
#   bench/audit-growth.sh [duration-seconds] [connections]
# VANGNET=path/to/vangnet measures another build (for the same run with an older version).
source "$(dirname "$0")/common.sh"
DURATION="${1:-60}"
CONNECTIONS="${2:-32}"
PORT=18183
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
seed_registry "$WORK/http-1m.db" 1000000
DB="$WORK/audit-growth.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$WORK/http-1m.db" "$DB"
TOKEN=$("$VANGNET" partner add --name "Bank $(date +%s%N)" --kind bank --json --db "$DB" | sed 's/.*"token":"\([^"]*\)".*/\1/')
export TOKEN
start_server "$DB" "$PORT"
trap stop_server EXIT
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
sleep 2
# The database's size as a reader sees it (WAL frames included, free pages not), in bytes.
size() { python3 -c "import sqlite3; c=sqlite3.connect('file:$DB?mode=ro', uri=True); p=lambda n: c.execute('pragma '+n).fetchone()[0]; print((p('page_count')-p('freelist_count'))*p('page_size'))"; }
hits() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:$DB?mode=ro', uri=True); print(c.execute(\"select count(*), coalesce(sum(length(details)+length(subject)+length(actor)+length(hash)*2),0) from audit_log where action='check.hits'\").fetchone()[0])"; }
before_size=$(size); before_hits=$(hits)
cat >"$WORK/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = os.getenv("BODY")
LUA
out=$(BODY="{\"indicators\":[{\"value\":\"$HIT\"}]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/check.lua" "http://127.0.0.1:$PORT/api/v1/checks")
checks=$(echo "$out" | awk '/requests in/ {print $1}')
stop_server
trap - EXIT
after_size=$(size); after_hits=$(hits)
grown=$(( after_size - before_size ))
per_day=$(python3 -c "print(f'{$grown / $DURATION * 86400 / 1e9:.2f}')")
grown_mb=$(python3 -c "print(f'{$grown / 1e6:.1f}')")
printf '%s: %s checks in %ss; %s check.hits entries written; database grew %s bytes (%s MB); %s GB a day at this rate\n' \
  "$("$VANGNET" --version 2>/dev/null || echo vangnet)" "$checks" "$DURATION" "$(( after_hits - before_hits ))" "$grown" "$grown_mb" "$per_day"
