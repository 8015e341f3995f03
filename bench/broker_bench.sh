#!/usr/bin/env bash
# End-to-end broker benchmark: fio and Redis baselines measured in the same run
# on the same disk, then the rustlog-load scenarios against kafka-lite, and a
# Markdown table of medians with ratios to the baselines and pass/fail per
# target (docs/PERFORMANCE.md, "Broker end to end").
#
# Usage: bench/broker_bench.sh [--build-dir DIR] [--out DIR] [--runs N] [--seconds S]
#                              [--rss-mb MB] [--rss-partitions N] [--skip-baselines]
#   --build-dir  CMake build dir holding kafka-lite and bench/rustlog-load
#                (default build/perf; configured Release + Ninja and built when needed)
#   --out        results folder (default <build-dir>/broker-bench/<UTC timestamp>)
#   --runs       repetitions of every scenario; the table shows medians (default 3)
#   --seconds    length of each timed produce scenario (default 8)
#   --rss-mb     data written for the RSS scenario (default 5000 = the issue's 5 GB)
#   --rss-partitions  partitions it is spread over (default 100)
#   --skip-baselines  no fio/Redis (the table then has no ratios)
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp, must be
# a real disk, not tmpfs); RUSTLOG_GIT_REV (revision to print when the
# sources are not a git checkout). Everything listens on 127.0.0.1 only.
#
# Per run: fio (one 100 x 100 B batch per write + fdatasync, file grown by
# appends; 4 KiB overwrite + fdatasync), Redis (XADD, appendfsync always,
# -P 100 with 1 and 4 clients, -P 1 latency), then kafka-lite with flush
# always (1 and 4 producers; fio 4 KiB fdatasync and Redis -P 1 latency right
# before the single-record latency run; producer beside a consumer), with flush never
# (2,000,000 records on one connection, fetched back; producer beside a
# consumer) and the RSS run (--rss-mb over --rss-partitions, flush never).
# Exit status 0 even when a target is missed: this is a report, not a gate.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/perf"
OUT=""
RUNS=3
SECONDS_PER=8
RSS_MB=5000
RSS_PARTS=100
BASELINES=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --rss-mb) RSS_MB="$2"; shift 2 ;;
    --rss-partitions) RSS_PARTS="$2"; shift 2 ;;
    --skip-baselines) BASELINES=0; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "broker_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/broker-bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA_ROOT="${RUSTLOG_BENCH_DIR:-/var/tmp}"
if [ "$(stat -f -c %T "$DATA_ROOT")" = "tmpfs" ]; then
  echo "broker_bench: $DATA_ROOT is tmpfs; set RUSTLOG_BENCH_DIR to a folder on the real disk" >&2
  exit 2
fi
for tool in python3 fio redis-server redis-benchmark; do
  if [ "$tool" != python3 ] && [ "$BASELINES" = 0 ]; then continue; fi
  command -v "$tool" >/dev/null || { echo "broker_bench: $tool is not installed (apt-get install fio redis-server)" >&2; exit 2; }
done

if [ ! -x "$BUILD_DIR/kafka-lite" ] || [ ! -x "$BUILD_DIR/bench/rustlog-load" ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD_DIR" kafka-lite rustlog-load
fi
BROKER="$BUILD_DIR/kafka-lite"
LOAD="$BUILD_DIR/bench/rustlog-load"

WORK="$(mktemp -d "$DATA_ROOT/rustlog-broker-bench-XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="$OUT/results.txt"
: > "$RESULTS"
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/progress.log" >&2; }

{
  echo "MACHINE cpus=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\"" \
       "mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) kernel=$(uname -r)" \
       "fs=$(stat -f -c %T "$DATA_ROOT") dir=$DATA_ROOT loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  echo "VERSIONS fio=$(fio --version 2>/dev/null || echo none) redis=$(redis-server --version 2>/dev/null | awk '{print $3}' | cut -d= -f2)" \
       "git=${RUSTLOG_GIT_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
} | tee -a "$RESULTS"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ------------------------------------------------------------------ baselines
# Batch of 100 records of 100 bytes as the broker stores it (43-byte header,
# 108-109 bytes per record): fio writes that many bytes per write + fdatasync.
BATCH_BYTES=10879
fio_run() {  # name rep extra-args...
  local name="$1" rep="$2"; shift 2
  local d="$WORK/fio"
  rm -rf "$d"; mkdir -p "$d"
  fio --name="$name" --directory="$d" --ioengine=sync --rw=write --fdatasync=1 --runtime=5 --time_based \
      --size=256m --output-format=json --output="$OUT/fio-$name-$rep.json" "$@" > /dev/null 2>&1
  python3 - "$OUT/fio-$name-$rep.json" "$name" "$rep" <<'EOF' | tee -a "$RESULTS"
import json, sys
d = json.load(open(sys.argv[1]))["jobs"][0]
w = d["write"]; s = d["sync"]["lat_ns"]
p = s.get("percentile", {})
print(f"FIO job={sys.argv[2]} rep={sys.argv[3]} bs={d['job options'].get('bs','?')} iops={w['iops']:.1f} "
      f"bw_MBps={w['bw_bytes']/1e6:.2f} op_us={1e6/max(w['iops'],1e-9):.0f} "
      f"sync_p50_us={p.get('50.000000',0)/1000:.0f} sync_p99_us={p.get('99.000000',0)/1000:.0f} "
      f"write_p50_us={w['clat_ns'].get('percentile',{}).get('50.000000',0)/1000:.0f}")
EOF
  rm -rf "$d"
}

redis_run() {  # rep [latency-only]
  local rep="$1" only_latency="${2:-}" port dir v
  port="$(free_port)"
  dir="$WORK/redis"
  rm -rf "$dir"; mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync always \
      --save '' --daemonize no --logfile "$dir/redis.log" &
  local rpid=$!
  PIDS+=("$rpid")
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  v="$(printf 'v%.0s' $(seq 100))"
  local c n
  for c in 1 4; do
    [ -n "$only_latency" ] && break
    n=$(( c == 1 ? 40000 : 100000 ))
    redis-benchmark -h 127.0.0.1 -p "$port" -c "$c" -P 100 -n "$n" --csv XADD "bench$c" '*' f "$v" \
      | tail -1 | awk -F, -v c="$c" -v rep="$rep" '{gsub(/"/,""); print "REDIS job=xadd_p100 clients=" c " rep=" rep " rps=" $2 " p50_ms=" $5 " p99_ms=" $7}' \
      | tee -a "$RESULTS"
  done
  [ -z "$only_latency" ] || redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -P 1 -n 1000 --csv XADD lat '*' f "$v" \
    | tail -1 | awk -F, -v rep="$rep" '{gsub(/"/,""); print "REDIS job=xadd_p1 clients=1 rep=" rep " rps=" $2 " p50_ms=" $5 " p99_ms=" $7}' \
    | tee -a "$RESULTS"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  rm -rf "$dir"
}

# ------------------------------------------------------------------ broker
BPID=""
PORT=""
start_broker() {  # data-dir flush
  local dir="$1" flush="$2"
  rm -f "$WORK/port"
  "$BROKER" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$dir" --flush "$flush" \
      --log-level warn >> "$OUT/broker.log" 2>&1 &
  BPID=$!
  PIDS+=("$BPID")
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  [ -s "$WORK/port" ] || { echo "broker_bench: kafka-lite did not start (see $OUT/broker.log)" >&2; exit 1; }
  PORT="$(cat "$WORK/port")"
}
stop_broker() {
  kill -TERM "$BPID" 2>/dev/null || true
  wait "$BPID" 2>/dev/null || true
  BPID=""
}
load() {  # label run mode args...
  local label="$1" run="$2"; shift 2
  "$LOAD" "$@" --port "$PORT" --label "$label" > "$OUT/load-$label-$run.txt"
  grep '^RESULT' "$OUT/load-$label-$run.txt" | sed "s/^RESULT /RESULT run=$run /" | tee -a "$RESULTS"
}
rss_line() {  # label run
  awk -v l="$1" -v r="$2" '/^(VmRSS|VmHWM|RssAnon|RssFile):/ {printf "%s%s_kib=%s", sep, $1, $2; sep=" "} END {print ""}' \
      "/proc/$BPID/status" | sed 's/://g' | sed "s/^/RSS run=$2 label=$1 /" | tee -a "$RESULTS"
}

scenarios() {  # run
  local run="$1" d
  # 1. flush always: 1 and 4 producers waiting for each answer, single-record latency.
  d="$WORK/always-$run"
  start_broker "$d" always
  load always_1c "$run" produce --topic p1 --connections 1 --partitions 1 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER" --warmup 5
  load always_4c "$run" produce --topic p4 --connections 4 --partitions 4 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER" --warmup 5
  # The disk's fdatasync latency right before the latency run (it drifts).
  if [ "$BASELINES" = 1 ]; then
    fio_run fdatasync_4k "$run" --bs=4096
    fio_run fdatasync_4k_append "$run" --bs=4096 --file_append=1 --fallocate=none
    redis_run "$run" latency-only
  fi
  load always_lat "$run" latency --topic lat --value-bytes 100 --records 1500 --warmup 20
  # Consumer vs producers: partition 0 of "mixed" filled, then a producer on
  # partition 1 without and with a consumer draining partition 0.
  load mixed_fill "$run" produce --topic mixed --partitions 1 --create-partitions 2 --connections 1 --batch 1000 --value-bytes 100 --records 1000000 --pipeline 16
  load mixed_always_alone "$run" mixed --topic mixed --producers 1 --consumer 0 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER"
  load mixed_always_consumer "$run" mixed --topic mixed --producers 1 --consumer 1 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER"
  stop_broker
  rm -rf "$d"

  # 2. flush never: 2,000,000 records in batches of 100 on one connection, then fetch them;
  # then the consumer-vs-producer test again (a topic's flush policy is fixed when it is created).
  d="$WORK/never-$run"
  start_broker "$d" never
  load never_1c "$run" produce --topic f --connections 1 --partitions 1 --batch 100 --value-bytes 100 --records 2000000
  load fetch_drain "$run" fetch --topic f --partition 0 --from 0 --max-bytes 1048576
  load fetch_at "$run" fetch --topic f --partition 0 --at 0,1000000,1999000 --repeat 20 --max-bytes 1048576
  load mixed_fill_never "$run" produce --topic mixedn --partitions 1 --create-partitions 2 --connections 1 --batch 1000 --value-bytes 100 --records 1000000 --pipeline 16
  load mixed_never_alone "$run" mixed --topic mixedn --producers 1 --consumer 0 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER"
  load mixed_never_consumer "$run" mixed --topic mixedn --producers 1 --consumer 1 --batch 100 --value-bytes 100 --seconds "$SECONDS_PER"
  stop_broker
  rm -rf "$d"

  # 3. RSS with RSS_MB spread over RSS_PARTS partitions (1 KiB values, flush never).
  d="$WORK/rss-$run"
  start_broker "$d" never
  local recs=$(( RSS_MB * 1000000 / 1024 ))
  load rss_fill "$run" produce --topic big --connections 4 --partitions "$RSS_PARTS" --batch 100 --value-bytes 1024 --records "$recs"
  rss_line after_write "$run"
  load rss_fetch "$run" fetch --topic big --partition 0 --from 0 --max-bytes 1048576
  rss_line after_fetch "$run"
  echo "DISK run=$run data_mb=$(du -sm "$d" | cut -f1)" | tee -a "$RESULTS"
  stop_broker
  rm -rf "$d"
}

for run in $(seq "$RUNS"); do
  if [ "$BASELINES" = 1 ]; then
    log "run $run: fio"
    fio_run fdatasync_batch "$run" --bs=$BATCH_BYTES --file_append=1 --fallocate=none
    fio_run fdatasync_4k_overwrite "$run" --bs=4096 --overwrite=1
    log "run $run: redis"
    redis_run "$run"
  fi
  log "run $run: kafka-lite scenarios"
  scenarios "$run"
done

echo "END loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" | tee -a "$RESULTS"
python3 "$ROOT/bench/broker_bench_report.py" "$RESULTS" > "$OUT/summary.md"
cat "$OUT/summary.md"
log "results in $OUT"
