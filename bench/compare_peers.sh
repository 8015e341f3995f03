#!/usr/bin/env bash
# kafka-lite beside its peers, the same load against each in one run:
# kafka-lite (--flush always and never), Redis Streams (XADD with
# appendfsync always, everysec and no) and NATS JetStream (file storage),
# each on 127.0.0.1 with its data on the real disk, one client, values of
# --value-bytes, --depth records in flight:
#   kafka-lite  rustlog bench produce --in-flight 1 --batch-bytes <depth records> --linger 1
#               (one batch of `depth` records awaiting its acknowledgement)
#   Redis       redis-benchmark -c 1 -P <depth> XADD (a compiled C client)
#   JetStream   bench/nats-load --depth <depth> (the NATS C client: js_PublishAsync,
#               at most <depth> publishes awaiting their acknowledgement)
# Rounds alternate the systems, so all see the same disk (this VM's fdatasync
# moves between 0.1 and 4 ms from one minute to the next); the table shows
# medians, and kafka-lite's rate (--flush always, and --flush never) as a
# multiple of each system's.
#
# Usage: bench/compare_peers.sh [--build-dir DIR] [--records N] [--value-bytes V] [--depth D] [--runs N] [--out DIR]
#   --build-dir    CMake build dir with kafka-lite, rustlog and bench/nats-load (default build/release;
#                  built when missing)
#   --records      records per system per round (default 1,000,000)
#   --value-bytes  bytes of each value (default 100)
#   --depth        records in flight (default 100)
#   --runs         rounds (default 3)
#   --out          results folder (default <build-dir>/compare-peers/<UTC timestamp>)
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp; not tmpfs).
# Note: nats-server 2.9 (Debian 12) has no fsync-per-write option for file
# storage; it writes through the page cache and syncs on its own schedule.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/release"
RECORDS=1000000
VALUE=100
DEPTH=100
RUNS=3
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    --value-bytes) VALUE="$2"; shift 2 ;;
    --depth) DEPTH="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "compare_peers: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/compare-peers/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA_ROOT="${RUSTLOG_BENCH_DIR:-/var/tmp}"
if [ "$(stat -f -c %T "$DATA_ROOT")" = "tmpfs" ]; then
  echo "compare_peers: $DATA_ROOT is tmpfs; set RUSTLOG_BENCH_DIR to a folder on the real disk" >&2
  exit 2
fi
for tool in python3 redis-server redis-benchmark redis-cli nats-server; do
  command -v "$tool" >/dev/null ||
    { echo "compare_peers: $tool is not installed (bash scripts/setup.sh installs redis-server and nats-server)" >&2; exit 2; }
done
if [ ! -x "$BUILD_DIR/kafka-lite" ] || [ ! -x "$BUILD_DIR/rustlog" ] || [ ! -x "$BUILD_DIR/bench/nats-load" ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD_DIR" kafka-lite rustlog nats-load
fi

WORK="$(mktemp -d "$DATA_ROOT/rustlog-compare-peers-XXXXXX")"
SERVER=""
cleanup() {
  [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
wait_for() {  # command...: poll until it succeeds (10 s)
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "compare_peers: the server did not come up" >&2; return 1
}
record() { echo "$1 $2 $3" >>"$OUT/rates.txt"; echo "round $1: $2 $3 rec/s"; }

kafka_lite() {  # round flush
  local dir="$WORK/kafka-lite-$2" port; rm -rf "$dir"; mkdir -p "$dir"
  "$BUILD_DIR/kafka-lite" --data-dir "$dir/data" --listen 127.0.0.1:0 --port-file "$dir/port" \
      --metrics-listen off --flush "$2" >"$dir/broker.log" 2>&1 &
  SERVER=$!
  wait_for test -s "$dir/port"; port=$(cat "$dir/port")
  # A batch holds `depth` records: a value plus about 10 bytes of record framing each.
  local rate
  rate=$("$BUILD_DIR/rustlog" bench produce --broker "127.0.0.1:$port" --records "$RECORDS" --value-bytes "$VALUE" \
      --in-flight 1 --batch-bytes $(( DEPTH * (VALUE + 10) + 64 )) --linger 1 --json 2>/dev/null |
      python3 -c 'import json,sys; print(round(json.load(sys.stdin)["records_per_sec"]))')
  stop_server
  record "$1" "kafka-lite/flush-$2" "$rate"
}

redis() {  # round appendfsync
  local dir="$WORK/redis-$2" port; rm -rf "$dir"; mkdir -p "$dir"; port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync "$2" \
      --save '' --daemonize no --logfile "$dir/redis.log" &
  SERVER=$!
  wait_for redis-cli -h 127.0.0.1 -p "$port" ping
  local v; v=$(head -c "$VALUE" /dev/zero | tr '\0' x)
  local rate
  rate=$(redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P "$DEPTH" -n "$RECORDS" --csv XADD bench '*' f "$v" |
      python3 -c 'import csv,sys; rows=list(csv.reader(sys.stdin)); print(round(float(rows[-1][1])))')
  stop_server
  record "$1" "redis/appendfsync-$2" "$rate"
}

jetstream() {  # round
  local dir="$WORK/nats" port; rm -rf "$dir"; mkdir -p "$dir"; port=$(free_port)
  nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir" >"$dir/../nats.log" 2>&1 &
  SERVER=$!
  wait_for python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
  local rate
  rate=$("$BUILD_DIR/bench/nats-load" --url "nats://127.0.0.1:$port" --records "$RECORDS" --value-bytes "$VALUE" \
      --depth "$DEPTH" | sed -n 's/.*records_per_sec=\([0-9]*\).*/\1/p')
  stop_server
  record "$1" "nats-jetstream/file" "$rate"
}

echo "compare_peers: $RECORDS records of $VALUE bytes, $DEPTH in flight, $RUNS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee "$OUT/summary.txt"
: >"$OUT/rates.txt"
for r in $(seq "$RUNS"); do
  kafka_lite "$r" always; redis "$r" always; jetstream "$r"
  kafka_lite "$r" never; redis "$r" everysec; redis "$r" no
done
python3 - "$OUT/rates.txt" <<'PY' | tee -a "$OUT/summary.txt"
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    _, system, rate = line.split()
    rates.setdefault(system, []).append(float(rate))
always = statistics.median(rates["kafka-lite/flush-always"])
never = statistics.median(rates["kafka-lite/flush-never"])
print(f"{'system':28} {'records/s (median)':>20} {'kafka-lite always / it':>24} {'kafka-lite never / it':>23}")
for system, rs in rates.items():
    m = statistics.median(rs)
    print(f"{system:28} {m:>20,.0f} {always / m:>23.2f}x {never / m:>22.2f}x")
PY
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg); raw rates in $OUT/rates.txt" | tee -a "$OUT/summary.txt"
