#!/usr/bin/env bash
# Benchmark 3: import of 1,000,000 realistic synthetic reports from JSON Lines into SQLite
# and into PostgreSQL.
#   bench/import.sh [reports] [postgres-url]
source "$(dirname "$0")/common.sh"
REPORTS="${1:-1000000}"
PG="${2:-postgres://postgres@127.0.0.1:5432/vangnet_bench}"
FILE="$WORK/reports-$REPORTS.jsonl"
[ -s "$FILE" ] || "$VANGNET" bench generate --reports "$REPORTS" --out "$FILE" >/dev/null

measure() {  # label, database url
  "$VANGNET" partner add --name Importer --kind police --db "$2" >/dev/null
  local start end
  start=$(date +%s.%N)
  "$VANGNET" import "$FILE" --partner Importer --db "$2" >/dev/null
  end=$(date +%s.%N)
  printf '%-12s %9d reports in %7.1f s: %8.0f reports/s\n' "$1" "$REPORTS" "$(echo "$end - $start" | bc -l)" "$(echo "$REPORTS / ($end - $start)" | bc -l)"
  start=$(date +%s.%N)
  "$VANGNET" import "$FILE" --partner Importer --db "$2" >/dev/null
  end=$(date +%s.%N)
  printf '%-12s %9d reports again (all already there) in %7.1f s\n' "$1" "$REPORTS" "$(echo "$end - $start" | bc -l)"
}

rm -f "$WORK/import.db" "$WORK/import.db-wal" "$WORK/import.db-shm"
measure SQLite "$WORK/import.db"
if pg_isready -q -h 127.0.0.1 -p 5432; then
  dbname="${PG##*/}"
  dropdb -h 127.0.0.1 -U postgres --if-exists "$dbname" 2>/dev/null
  createdb -h 127.0.0.1 -U postgres "$dbname"
  measure PostgreSQL "$PG"
fi
