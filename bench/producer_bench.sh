#!/usr/bin/env bash
# The Producer's throughput target (docs/PERFORMANCE.md, "Producer"): one
# client::Producer with default options, 100-byte values, kafka-lite with
# --flush always; and Redis XADD with appendfsync always, one client, with as
# many commands in flight (-P) as the Producer had records in flight, in the
# same run. Runs alternate (fio, Producer, then Redis) so all see the same
# disk; fio (1 MiB appends + fdatasync, what the broker's group commit does)
# gives the disk's bound in rec/s at the bytes the broker stores per record,
# and the broker's CPU seconds say whether it waited for the disk.
#
# Usage: bench/producer_bench.sh [--build-dir DIR] [--out DIR] [--runs N] [--records N] [--redis-records N]
#   --build-dir      CMake build dir (default build/perf; configured Release + Ninja and
#                    built when kafka-lite or bench/producer-load is missing)
#   --out            results folder (default <build-dir>/producer-bench/<UTC timestamp>)
#   --runs           rounds (default 3); the summary shows medians
#   --records        records per Producer run (default 5,000,000)
#   --redis-records  XADDs per Redis run (default 2,000,000)
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp; not tmpfs).
# Everything listens on 127.0.0.1. Exit status 0 even when the target is missed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/perf"
OUT=""
RUNS=3
RECORDS=5000000
REDIS_RECORDS=2000000
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    --redis-records) REDIS_RECORDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "producer_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/producer-bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA_ROOT="${RUSTLOG_BENCH_DIR:-/var/tmp}"
if [ "$(stat -f -c %T "$DATA_ROOT")" = "tmpfs" ]; then
  echo "producer_bench: $DATA_ROOT is tmpfs; set RUSTLOG_BENCH_DIR to a folder on the real disk" >&2
  exit 2
fi
for tool in python3 fio redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "producer_bench: $tool is not installed (apt-get install redis-server)" >&2; exit 2; }
done
if [ ! -x "$BUILD_DIR/kafka-lite" ] || [ ! -x "$BUILD_DIR/bench/producer-load" ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD_DIR" kafka-lite producer-load
fi

WORK="$(mktemp -d "$DATA_ROOT/rustlog-producer-bench-XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="$OUT/results.txt"
: > "$RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
{
  echo "MACHINE cpus=$(nproc) kernel=$(uname -r) fs=$(stat -f -c %T "$DATA_ROOT") loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  echo "VERSIONS redis=$(redis-server --version | awk '{print $3}' | cut -d= -f2) git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee -a "$RESULTS"

producer_run() {  # run -> prints records_in_flight
  local run="$1" d="$WORK/broker-$1" bpid port
  mkdir -p "$d"
  rm -f "$WORK/port"
  "$BUILD_DIR/kafka-lite" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$d" --flush always \
      --metrics-listen off --log-level warn >> "$OUT/broker.log" 2>&1 &
  bpid=$!
  PIDS+=("$bpid")
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  port="$(cat "$WORK/port")"
  "$BUILD_DIR/bench/producer-load" --broker "127.0.0.1:$port" --topic bench --records "$RECORDS" \
      > "$OUT/producer-$run.txt"
  local cpu
  cpu="$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$bpid/stat")"
  grep '^RESULT' "$OUT/producer-$run.txt" | sed "s/^RESULT /PRODUCER run=$run broker_cpu_s=$cpu /" >> "$RESULTS"
  kill -TERM "$bpid"; wait "$bpid" 2>/dev/null || true
  rm -rf "$d"
  sed -n 's/.*records_in_flight=\([0-9]*\).*/\1/p' "$OUT/producer-$run.txt"
}

redis_run() {  # run pipeline
  local run="$1" pipeline="$2" port dir rpid v
  port="$(free_port)"
  dir="$WORK/redis-$run"
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync always \
      --save '' --daemonize no --logfile "$dir/redis.log" &
  rpid=$!
  PIDS+=("$rpid")
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  v="$(printf 'v%.0s' $(seq 100))"
  redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P "$pipeline" -n "$REDIS_RECORDS" --csv XADD bench '*' f "$v" \
    | tail -1 | awk -F, -v run="$run" -v p="$pipeline" '{gsub(/"/,""); print "REDIS run=" run " pipeline=" p " rps=" $2}' \
    >> "$RESULTS"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  rm -rf "$dir"
}

fio_run() {  # run
  local d="$WORK/fio"
  mkdir -p "$d"
  fio --name=append_1m --directory="$d" --ioengine=sync --rw=write --bs=1m --fdatasync=1 --file_append=1 \
      --fallocate=none --size=2g --runtime=5 --time_based --output-format=json --output="$OUT/fio-$1.json" >/dev/null 2>&1
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["jobs"][0]["write"]["bw_bytes"]/1e6; print(f"FIO run={sys.argv[2]} mb_per_s={b:.1f}")' \
      "$OUT/fio-$1.json" "$1" >> "$RESULTS"
  rm -rf "$d"
}

for run in $(seq "$RUNS"); do
  echo "[$(date -u +%H:%M:%S)] run $run: fio" >&2
  fio_run "$run"
  echo "[$(date -u +%H:%M:%S)] run $run: producer" >&2
  inflight="$(producer_run "$run")"
  echo "[$(date -u +%H:%M:%S)] run $run: redis -P $inflight" >&2
  redis_run "$run" "$inflight"
  tail -3 "$RESULTS" >&2
done

python3 - "$RESULTS" <<'PY' | tee "$OUT/summary.md"
import re, statistics, sys
prod, redis, fio = [], [], []
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if line.startswith("PRODUCER"): prod.append(kv)
    if line.startswith("REDIS"): redis.append(kv)
    if line.startswith("FIO"): fio.append(kv)
# Bytes the broker stores per 100-byte record (docs/STORAGE.md batch format:
# 108-109 per record plus the batch header).
per_rec = 109.0
print("| run | fio 1 MiB append+fdatasync | = rec/s at 109 B | Producer rec/s | of the disk bound | broker CPU s | records in flight | Redis XADD rec/s (-P same) | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
ratios, rates, bounds = [], [], []
for p, r, f in zip(prod, redis, fio):
    rate = float(p["rec_per_s"]); rr = float(r["rps"]); mb = float(f["mb_per_s"]); bound = mb * 1e6 / per_rec
    ratios.append(rate / rr if rr > 0 else 0); rates.append(rate); bounds.append(rate / bound if bound else 0)
    print(f"| {p['run']} | {mb:.0f} MB/s | {bound/1e6:.2f}M | {rate/1e6:.2f}M | {rate/bound:.2f} | {p['broker_cpu_s']} | "
          f"{p['records_in_flight']} | {rr/1e6:.3f}M | {ratios[-1]:.2f}x |")
med = statistics.median(rates); ratio = statistics.median(ratios)
print()
print(f"median: Producer {med/1e6:.2f}M rec/s (target >= 5M: {'pass' if med >= 5e6 else 'FAIL'}), "
      f"{statistics.median(bounds):.2f} of fio's bound; ratio to Redis {ratio:.2f}x (target >= 5x: {'pass' if ratio >= 5 else 'FAIL'})")
PY
echo "results in $OUT" >&2
