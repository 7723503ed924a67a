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
rm -f "$DB" "$DB-wal" "$DB-shm" "$WORK/audit-growth-naw.key"
cp "$WORK/http-1m.db" "$DB"
# The copy's NAW key beside it, as for the original (the server checks its fingerprint).
[ ! -f "$WORK/http-1m-naw.key" ] || cp -p "$WORK/http-1m-naw.key" "$WORK/audit-growth-naw.key"
bank_token "$DB" Bank
start_server "$DB" "$PORT"
trap stop_server EXIT
find_reported_iban "$PORT"
sleep 2
# The database's size as a reader sees it (WAL frames included, free pages not), in bytes.
size() { python3 -c "import sqlite3; c=sqlite3.connect('file:$DB?mode=ro', uri=True); p=lambda n: c.execute('pragma '+n).fetchone()[0]; print((p('page_count')-p('freelist_count'))*p('page_size'))"; }
hits() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:$DB?mode=ro', uri=True); print(c.execute(\"select count(*), coalesce(sum(length(details)+length(subject)+length(actor)+length(hash)*2),0) from audit_log where action='check.hits'\").fetchone()[0])"; }
before_size=$(size); before_hits=$(hits)
write_check_script
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
