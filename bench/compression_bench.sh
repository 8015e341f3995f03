#!/usr/bin/env bash
# Batch compression on a log-line workload (docs/PERFORMANCE.md,
# "Compression"): `rustlog bench produce --values access-log` (generated web
# access-log lines of about 200 bytes, the same sequence in every run) with
# each codec against none, in one run, kafka-lite with --flush always. Per
# codec: bytes on disk per record (the partition's segment data, size_bytes), produce and
# consume rates, and their ratios to none. Rounds alternate the codecs so all
# see the same disk; the summary shows medians.
#
# Usage: bench/compression_bench.sh [--build-dir DIR] [--out DIR] [--runs N] [--records N] [--codecs "none lz4 zstd"]
#                                   [--compression-threads N]
#   --build-dir  CMake build dir with kafka-lite and rustlog (default build/release)
#   --out        results folder (default <build-dir>/compression-bench/<UTC timestamp>)
#   --runs       rounds (default 3)
#   --records    records per produce run (default 1,000,000)
#   --codecs     codecs to compare; the first is the baseline (default "none lz4 zstd")
#   --compression-threads  the Producer's compressor threads (default: its own, 2)
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp; not tmpfs).
# Everything listens on 127.0.0.1. Exit status 0 even when the target is missed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/release"
OUT=""
RUNS=3
RECORDS=1000000
CODECS="none lz4 zstd"
THREADS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    --codecs) CODECS="$2"; shift 2 ;;
    --compression-threads) THREADS=(--compression-threads "$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "compression_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/compression-bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA_ROOT="${RUSTLOG_BENCH_DIR:-/var/tmp}"
if [ "$(stat -f -c %T "$DATA_ROOT")" = "tmpfs" ]; then
  echo "compression_bench: $DATA_ROOT is tmpfs; set RUSTLOG_BENCH_DIR to a folder on the real disk" >&2
  exit 2
fi
for b in kafka-lite rustlog; do
  [ -x "$BUILD_DIR/$b" ] || { echo "compression_bench: $BUILD_DIR/$b is missing (cmake --build --preset release)" >&2; exit 2; }
done
WORK="$(mktemp -d "$DATA_ROOT/rustlog-compression-bench-XXXXXX")"
BPID=""
cleanup() {
  [ -n "$BPID" ] && kill "$BPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="$OUT/results.txt"
: > "$RESULTS"
echo "MACHINE cpus=$(nproc) kernel=$(uname -r) fs=$(stat -f -c %T "$DATA_ROOT") loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" | tee -a "$RESULTS"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

for run in $(seq "$RUNS"); do
  d="$WORK/broker-$run"
  mkdir -p "$d"
  rm -f "$WORK/port"
  "$BUILD_DIR/kafka-lite" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$d" --flush always \
      --metrics-listen off --log-level warn >> "$OUT/broker.log" 2>&1 &
  BPID=$!
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  export RUSTLOG_BROKER="127.0.0.1:$(cat "$WORK/port")"
  for codec in $CODECS; do
    topic="logs-${codec//:/-}"
    "$BUILD_DIR/rustlog" bench produce --records "$RECORDS" --values access-log --compression "$codec" \
        "${THREADS[@]}" --topic "$topic" --keep --json > "$OUT/produce-$codec-$run.json" 2>/dev/null
    "$BUILD_DIR/rustlog" bench consume --records "$RECORDS" --topic "$topic" --json \
        > "$OUT/consume-$codec-$run.json" 2>/dev/null
    # The segments' data as the broker counts it (size_bytes), not the .log
    # files' sizes: the active segment's file also holds preallocated zeros.
    bytes=$("$BUILD_DIR/rustlog" topic describe "$topic" --json |
            python3 -c 'import json,sys; print(sum(p["size_bytes"] for p in json.load(sys.stdin)["partitions"]))')
    value_bytes=$(json_field mb_per_sec < "$OUT/produce-$codec-$run.json")
    echo "RUN $run codec=$codec records=$RECORDS disk_bytes=$bytes" \
         "produce_rps=$(json_field records_per_sec < "$OUT/produce-$codec-$run.json")" \
         "produce_value_mbps=$value_bytes" \
         "consume_rps=$(json_field records_per_sec < "$OUT/consume-$codec-$run.json")" | tee -a "$RESULTS"
  done
  kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""
  rm -rf "$d"
done

python3 - "$RESULTS" "$CODECS" <<'PY' | tee "$OUT/summary.txt"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RUN "): continue
    f = dict(kv.split("=", 1) for kv in line.split()[2:])
    rows.setdefault(f["codec"], []).append(f)
codecs = sys.argv[2].split()
def med(c, k): return statistics.median(float(r[k]) for r in rows[c])
base = codecs[0]
print(f"{'codec':8} {'bytes/rec':>10} {'vs '+base:>8} {'produce rec/s':>14} {'vs '+base:>8} {'consume rec/s':>14} {'vs '+base:>8}")
for c in codecs:
    bpr = med(c, "disk_bytes") / med(c, "records")
    bpr0 = med(base, "disk_bytes") / med(base, "records")
    print(f"{c:8} {bpr:10.1f} {bpr / bpr0:8.2f} {med(c, 'produce_rps'):14.0f} {med(c, 'produce_rps') / med(base, 'produce_rps'):8.2f}"
          f" {med(c, 'consume_rps'):14.0f} {med(c, 'consume_rps') / med(base, 'consume_rps'):8.2f}")
PY
