#!/usr/bin/env bash
# Segment preallocation A/B (docs/STORAGE.md, section 8), beside the disk and
# Redis in the same run. Each round, on the same disk, one after another:
#   fio 4 KiB overwrite + fdatasync  (blocks already written: no size change to commit)
#   fio 4 KiB append + fdatasync     (the file grows: a size change every time)
#   Redis XADD appendfsync always, -P 100, 1 client
#   kafka-lite --flush always --segment-preallocate-bytes 0        ("off", every append grows the file)
#   kafka-lite --flush always (default --segment-preallocate-bytes) ("on")
# and against each broker: single-record produce latency (rustlog-load latency:
# one record per request, one in flight) and one connection producing batches of
# 100 x 100 B, waiting for each answer. Rounds alternate so both settings see
# the same disk (its fdatasync moves between 0.1 and 4 ms within minutes); the
# summary gives medians over rounds and the ratios the issue's targets use.
#
# Usage: bench/prealloc_bench.sh [--build-dir DIR] [--rounds N] [--seconds S] [--records N] [--out DIR]
#   --build-dir  CMake build dir with kafka-lite and bench/rustlog-load (default build/release)
#   --rounds     rounds (default 3)
#   --seconds    seconds per throughput run and per fio job (default 5)
#   --records    records of the latency run (default 2000)
#   --out        results folder (default <build-dir>/prealloc-bench/<UTC timestamp>)
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp; not tmpfs).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/release"
ROUNDS=3
SECS=5
RECORDS=2000
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "prealloc_bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/prealloc-bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA_ROOT="${RUSTLOG_BENCH_DIR:-/var/tmp}"
if [ "$(stat -f -c %T "$DATA_ROOT")" = "tmpfs" ]; then
  echo "prealloc_bench: $DATA_ROOT is tmpfs; set RUSTLOG_BENCH_DIR to a folder on the real disk" >&2
  exit 2
fi
for tool in python3 fio redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "prealloc_bench: $tool is not installed (bash scripts/setup.sh)" >&2; exit 2; }
done
BROKER="$BUILD_DIR/kafka-lite"
LOAD="$BUILD_DIR/bench/rustlog-load"
for b in "$BROKER" "$LOAD"; do
  [ -x "$b" ] || { echo "prealloc_bench: $b is missing (cmake --build $BUILD_DIR --target kafka-lite rustlog-load)" >&2; exit 2; }
done

WORK="$(mktemp -d "$DATA_ROOT/rustlog-prealloc-bench-XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="$OUT/results.txt"
: > "$RESULTS"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
echo "MACHINE cpus=$(nproc) kernel=$(uname -r) fs=$(stat -f -c %T "$DATA_ROOT") dir=$DATA_ROOT" \
     "loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
     | tee -a "$RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

fio_run() {  # name round extra-args...
  local name="$1" round="$2"; shift 2
  local d="$WORK/fio"
  rm -rf "$d"; mkdir -p "$d"
  fio --name="$name" --directory="$d" --ioengine=sync --rw=write --fdatasync=1 --bs=4096 --runtime="$SECS" \
      --time_based --size=64m --output-format=json --output="$OUT/fio-$name-$round.json" "$@" > /dev/null 2>&1
  python3 - "$OUT/fio-$name-$round.json" "$name" "$round" <<'EOF' | tee -a "$RESULTS"
import json, sys
d = json.load(open(sys.argv[1]))["jobs"][0]
p = d["sync"]["lat_ns"].get("percentile", {})
w = d["write"]["clat_ns"].get("percentile", {})
# One operation = the write + its fdatasync, as one produce pays both.
print(f"FIO job={sys.argv[2]} round={sys.argv[3]} iops={d['write']['iops']:.1f} "
      f"sync_p50_us={p.get('50.000000',0)/1000:.1f} sync_p99_us={p.get('99.000000',0)/1000:.1f} "
      f"write_p50_us={w.get('50.000000',0)/1000:.1f}")
EOF
  rm -rf "$d"
}

redis_run() {  # round
  local port dir v
  port="$(free_port)"
  dir="$WORK/redis"
  rm -rf "$dir"; mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync always \
      --save '' --daemonize no --logfile "$dir/redis.log" &
  local rpid=$!
  PIDS+=("$rpid")
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  v="$(printf 'v%.0s' $(seq 100))"
  redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P 100 -n 40000 --csv XADD bench '*' f "$v" \
    | tail -1 | awk -F, -v r="$1" '{gsub(/"/,""); print "REDIS job=xadd_p100 clients=1 round=" r " rps=" $2}' \
    | tee -a "$RESULTS"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  rm -rf "$dir"
}

broker_run() {  # label round prealloc-bytes
  local label="$1" round="$2" pre="$3" d="$WORK/broker-$1"
  rm -rf "$d"; rm -f "$WORK/port"
  "$BROKER" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$d" --flush always \
      --segment-preallocate-bytes "$pre" --log-level warn >> "$OUT/broker.log" 2>&1 &
  local bpid=$!
  PIDS+=("$bpid")
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  [ -s "$WORK/port" ] || { echo "prealloc_bench: kafka-lite did not start (see $OUT/broker.log)" >&2; exit 1; }
  local port; port="$(cat "$WORK/port")"
  "$LOAD" latency --port "$port" --topic lat --value-bytes 100 --records "$RECORDS" --warmup 20 --label "lat_$label" \
    > "$OUT/load-lat-$label-$round.txt"
  grep '^RESULT' "$OUT/load-lat-$label-$round.txt" | sed "s/^RESULT /RESULT round=$round /" | tee -a "$RESULTS"
  "$LOAD" produce --port "$port" --topic p1 --connections 1 --partitions 1 --batch 100 --value-bytes 100 \
      --seconds "$SECS" --warmup 5 --label "p100_$label" > "$OUT/load-p100-$label-$round.txt"
  grep '^RESULT' "$OUT/load-p100-$label-$round.txt" | sed "s/^RESULT /RESULT round=$round /" | tee -a "$RESULTS"
  echo "FILES label=$label round=$round lat_log_bytes=$( (stat -c %s "$d"/lat-0/*.log 2>/dev/null || true) | paste -sd, -)" \
    | tee -a "$RESULTS"
  kill -TERM "$bpid"; wait "$bpid" 2>/dev/null || true
  rm -rf "$d"
}

PRE_ON="$("$BROKER" --help | grep -A1 -- '--segment-preallocate-bytes' | grep -o 'default: [0-9]*' | grep -o '[0-9]*' || true)"
[ -n "$PRE_ON" ] || PRE_ON=4194304
for round in $(seq "$ROUNDS"); do
  log "round $round: fio"
  fio_run overwrite_4k "$round" --overwrite=1
  fio_run append_4k "$round" --file_append=1 --fallocate=none
  log "round $round: redis"
  redis_run "$round"
  # Alternate which setting goes first.
  if [ $((round % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for s in $order; do
    log "round $round: kafka-lite preallocation $s"
    broker_run "$s" "$round" "$([ "$s" = on ] && echo "$PRE_ON" || echo 0)"
  done
done
echo "END loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" | tee -a "$RESULTS"

python3 - "$RESULTS" <<'EOF' | tee "$OUT/summary.md"
import re, statistics, sys
rows = [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', l)) | {"_kind": l.split()[0]} for l in open(sys.argv[1])]
def med(kind, key, **match):
    v = [float(r[key]) for r in rows if r["_kind"] == kind and all(r.get(k) == m for k, m in match.items())]
    return statistics.median(v) if v else float("nan"), v
ow, ow_all = med("FIO", "sync_p50_us", job="overwrite_4k")
ap, ap_all = med("FIO", "sync_p50_us", job="append_4k")
owp50w, _ = med("FIO", "write_p50_us", job="overwrite_4k")
rd, rd_all = med("REDIS", "rps", job="xadd_p100")
print("| figure (median over rounds; per-round values in brackets) | preallocation off | preallocation on |")
print("|---|---|---|")
for label, key in (("single-record produce p50 (µs)", "p50_us"), ("single-record produce p99 (µs)", "p99_us")):
    off, off_all = med("RESULT", key, label="lat_off"); on, on_all = med("RESULT", key, label="lat_on")
    print(f"| {label} | {off:,.0f} ({', '.join(f'{x:,.0f}' for x in off_all)}) | {on:,.0f} ({', '.join(f'{x:,.0f}' for x in on_all)}) |")
off, off_all = med("RESULT", "rec_per_s", label="p100_off"); on, on_all = med("RESULT", "rec_per_s", label="p100_on")
print(f"| 1 connection, 100 x 100 B per request, flush always (rec/s) | {off:,.0f} ({', '.join(f'{x:,.0f}' for x in off_all)}) | {on:,.0f} ({', '.join(f'{x:,.0f}' for x in on_all)}) |")
print()
print(f"fio 4 KiB overwrite + fdatasync: fdatasync p50 {ow:,.1f} µs ({', '.join(f'{x:,.1f}' for x in ow_all)}), write p50 {owp50w:,.1f} µs; "
      f"4 KiB append + fdatasync p50 {ap:,.1f} µs ({', '.join(f'{x:,.1f}' for x in ap_all)}); "
      f"Redis XADD -P 100, 1 client: {rd:,.0f} /s ({', '.join(f'{x:,.0f}' for x in rd_all)})")
print()
for s in ("off", "on"):
    p50, _ = med("RESULT", "p50_us", label=f"lat_{s}")
    rate, _ = med("RESULT", "rec_per_s", label=f"p100_{s}")
    print(f"- preallocation {s}: single-record p50 = {p50 / ow:.2f}x fio overwrite p50 (target <= 1.2x), "
          f"{p50 / ap:.2f}x fio append p50; 100 x 100 B = {rate / rd:.2f}x Redis -P 100 (target >= 3x)")
EOF
log "results in $OUT"
