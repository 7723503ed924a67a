#!/usr/bin/env bash
# Benchmark 4: resident memory of `vangnet serve` with 1M and with 10M indicators loaded.
#   bench/memory.sh [indicator counts...]
source "$(dirname "$0")/common.sh"
PORT=18182
for n in "${@:-1000000 10000000}"; do
  for count in $n; do
    DB="$WORK/memory-$count.db"
    seed_registry "$DB" "$count"
    started=$(date +%s.%N)
    start_server "$DB" "$PORT"
    loaded=$(date +%s.%N)
    metrics=$(curl -s "$METRICS_URL")
    indicators=$(echo "$metrics" | awk '/^vangnet_index_indicators / {print $2}')
    links=$(echo "$metrics" | awk '/^vangnet_index_links / {print $2}')
    heap=$(echo "$metrics" | awk '/^vangnet_index_heap_bytes / {print $2}')
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    printf '%12s indicators (%s links): RSS %7.1f MiB, peak %7.1f MiB, index %7.1f MiB, loaded in %.1f s\n' \
      "$indicators" "$links" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" "$(echo "$heap/1048576" | bc -l)" \
      "$(echo "$loaded - $started" | bc -l)"
    stop_server
  done
done
