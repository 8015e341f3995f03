#!/usr/bin/env bash
# Does scraping /metrics slow down produce? Produce p99 under load, without
# and with a scraper, runs interleaved (A B A B ...) on one broker; prints the
# median p99 of each and their ratio. The issue's bar: scraping changes
# produce p99 by no more than 5%.
#
# Usage: bench/metrics_scrape_bench.sh [--build-dir DIR] [--runs N] [--seconds S]
#          [--scrape-interval SEC] [--connections C] [--partitions P] [--batch B]
#          [--flush POLICY]
#   --build-dir        CMake build dir with kafka-lite and bench/rustlog-load
#                      (default build/perf; configured Release + Ninja and built when needed)
#   --runs             runs per condition (default 5)
#   --seconds          length of each run (default 5)
#   --scrape-interval  seconds between scrapes (default 1, a fast Prometheus
#                      setting; 0 = back to back, the worst case)
#   --connections, --partitions, --batch   the rustlog-load produce load
#                      (default 4 connections, 64 partitions, 10 records)
#   --flush            the broker's flush policy (default always)
# Environment: RUSTLOG_BENCH_DIR (data directory root; default /var/tmp).
# Exit status 0 whatever the ratio: this is a measurement, not a gate.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/perf"
RUNS=5
SECS=5
INTERVAL=1
CONNS=4
PARTS=64
BATCH=10
FLUSH=always
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --scrape-interval) INTERVAL="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --partitions) PARTS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --flush) FLUSH="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "metrics_scrape_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$BUILD_DIR/kafka-lite" ] || [ ! -x "$BUILD_DIR/bench/rustlog-load" ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD_DIR" kafka-lite rustlog-load
fi

WORK="$(mktemp -d "${RUSTLOG_BENCH_DIR:-/var/tmp}/metrics-scrape-bench-XXXXXX")"
BROKER_PID=""
SCRAPER_PID=""
cleanup() {
  [ -n "$SCRAPER_PID" ] && kill "$SCRAPER_PID" 2>/dev/null && wait "$SCRAPER_PID" 2>/dev/null || true
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD_DIR/kafka-lite" --data-dir "$WORK/data" --listen 127.0.0.1:0 --port-file "$WORK/port" \
  --metrics-listen 127.0.0.1:0 --metrics-port-file "$WORK/mport" --flush "$FLUSH" --log-level warn \
  >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 300); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "kafka-lite did not start:"; cat "$WORK/broker.log"; exit 1; }
PORT="$(cat "$WORK/port")"
MPORT="$(cat "$WORK/mport")"
URL="http://127.0.0.1:$MPORT/metrics"

load() {  # $1 = label; prints the run's p99 in µs
  local created="--no-create"
  [ -f "$WORK/created" ] || { created=""; touch "$WORK/created"; }
  "$BUILD_DIR/bench/rustlog-load" produce --port "$PORT" --topic scrape-bench $created \
    --connections "$CONNS" --partitions "$PARTS" --batch "$BATCH" --seconds "$SECS" --warmup 200 \
    --label "$1" >"$WORK/run.out"
  grep '^RESULT' "$WORK/run.out" | tr ' ' '\n' | sed -n 's/^p99_us=//p'
}
scraper() {  # one process scraping like Prometheus: GET, read it all, wait
  exec python3 -c '
import sys, time, urllib.request
url, interval, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with open(out, "a") as f:
    while True:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
        f.write("x\n"); f.flush()
        if interval > 0:
            time.sleep(interval)
' "$URL" "$INTERVAL" "$WORK/scrapes"
}
scrape_size() {
  python3 -c 'import sys, urllib.request; print(len(urllib.request.urlopen(sys.argv[1]).read()))' "$URL"
}

echo "produce load: $CONNS connections, $PARTS partitions, batch $BATCH, flush $FLUSH, ${SECS}s runs;" \
     "scrape interval ${INTERVAL}s"
load warmup >/dev/null
A=()
B=()
for i in $(seq 1 "$RUNS"); do
  a="$(load no-scrape)"
  : >"$WORK/scrapes"
  scraper & SCRAPER_PID=$!
  b="$(load scrape)"
  kill "$SCRAPER_PID"; wait "$SCRAPER_PID" 2>/dev/null || true; SCRAPER_PID=""
  n="$(wc -l <"$WORK/scrapes")"
  printf 'run %d: p99 without scraping %8s us, with scraping %8s us (%s scrapes)\n' "$i" "$a" "$b" "$n"
  A+=("$a")
  B+=("$b")
done
echo "scrape size at the end: $(scrape_size) bytes"
python3 - "${A[*]}" "${B[*]}" <<'EOF'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"median produce p99: without scraping {ma:.1f} us, with scraping {mb:.1f} us, "
      f"change {100 * (mb - ma) / ma:+.1f}% ({'within' if abs(mb - ma) <= 0.05 * ma else 'OUTSIDE'} the 5% bar)")
print(f"RESULT mode=metrics_scrape p99_no_scrape_us={ma:.1f} p99_scrape_us={mb:.1f} change_pct={100 * (mb - ma) / ma:.2f}")
EOF
