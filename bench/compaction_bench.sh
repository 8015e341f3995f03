#!/usr/bin/env bash
# The cleaner inside a real kafka-lite (docs/PERFORMANCE.md, "Compaction"):
#  1. cleaner throughput: MB/s of one pass over a dirty log of --mb MB (keyed
#     1,000-byte records, 10 % distinct keys), as a ratio to fio's sequential
#     write (fdatasync at the end) plus buffered read of the same size, same
#     disk, same run;
#  2. produce latency on another partition (one 100-byte record per ProduceEx,
#     waiting for each answer, topic with flush=never so the figure is the
#     loop's) while a second such log is compacted, against the cleaner idle
#     before and after: target p99 within 1.5x (the "latency" RESULT line;
#     the "cleaner" line's pass2_over_pass1 is what the probe's load costs
#     the cleaner, which takes --cleaner-busy-share-percent of a busy loop).
# Two topics big1 and big2 are filled while the cleaner rests (backoff of a
# day after its first look at the empty logs); a restart with a 100 ms backoff
# lets it clean big1 (timed alone), then big2 (probed).
#
# Usage: bench/compaction_bench.sh [--mb 256] [--dir /var/tmp] [--build build/release] [--idle-seconds 5]
#                                  [--step-bytes 1048576]
# Prints RESULT lines (key=value).
set -euo pipefail
MB=256
DIR="${RUSTLOG_BENCH_DIR:-/var/tmp}"
BUILD=build/release
IDLE=5
STEP=1048576
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) MB="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --idle-seconds) IDLE="$2"; shift 2 ;;
    --step-bytes) STEP="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "compaction_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v fio >/dev/null || { echo "compaction_bench: fio is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
WORK="$(mktemp -d "$DIR/rustlog-compaction-XXXXXX")"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
LOAD="$BUILD/bench/compaction-load"

start_broker() {  # extra flags
  rm -f "$WORK/port" "$WORK/mport"
  "$BUILD/kafka-lite" --data-dir "$WORK/data" --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --metrics-listen 127.0.0.1:0 --metrics-port-file "$WORK/mport" --min-segment-bytes 4096 "$@" >>"$WORK/broker.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || { echo "compaction_bench: broker did not start" >&2; tail "$WORK/broker.log" >&2; exit 1; }
  BROKER="127.0.0.1:$(cat "$WORK/port")"
  export RUSTLOG_BROKER="$BROKER"
}
stop_broker() { kill "$PID"; wait "$PID" || true; PID=""; }
metric() {  # name [label filter]: the sum of the matching samples
  curl -s "http://127.0.0.1:$(cat "$WORK/mport")/metrics" |
    awk -v n="$1" -v f="${2:-}" '$1 ~ "^"n"($|[{])" && index($1, f) { s += $2 } END { printf "%.0f", s + 0 }'
}
now() { date +%s.%N; }

echo "INFO mb=$MB step_bytes=$STEP dir=$DIR fs=$(stat -f -c %T "$DIR") nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"

# --- fio baseline: sequential write (fdatasync at the end) + buffered read of MB
fio_mbps() {  # rw
  fio --name=base --filename="$WORK/fio.dat" --rw="$1" --bs=1m --size="${MB}m" --end_fsync=1 \
      --ioengine=psync --output-format=json 2>/dev/null |
    python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; k=sys.argv[1]; print("%.1f" % (j[k]["bw_bytes"]/1e6))' "$2"
}
W=$(fio_mbps write write)
R=$(fio_mbps read read)
rm -f "$WORK/fio.dat"
BASE=$(python3 -c "print('%.1f' % (1/(1/$W + 1/$R)))")
echo "RESULT baseline fio_write_mbps=$W fio_read_mbps=$R write_plus_read_mbps=$BASE"

# --- fill two dirty logs with the cleaner resting
start_broker --cleaner-backoff-ms 86400000
# Segments of MB/8 (at most 64 MiB): the active one, never cleaned, is a small part of the log.
SEG=$(python3 -c "print(min(64 << 20, $MB * 1000000 // 8))")
for t in big1 big2; do
  "$BUILD/rustlog" topic create "$t" --config cleanup.policy=compact --config segment.bytes="$SEG" >/dev/null
done
"$BUILD/rustlog" topic create other --config flush=never >/dev/null
sleep 0.5  # the cleaner's first look (empty logs) starts its day of rest
for t in big1 big2; do "$LOAD" fill --broker "$BROKER" --topic "$t" --mb "$MB" | sed "s/^RESULT/RESULT topic=$t/"; done
"$LOAD" probe --broker "$BROKER" --topic other --seconds "$IDLE" | sed 's/^RESULT/RESULT phase=idle_before/' | tee "$WORK/probes"
stop_broker

# --- restart with a short backoff: big1 is cleaned alone, then big2 while probing
start_broker --cleaner-backoff-ms 100 --cleaner-step-bytes "$STEP"
for _ in $(seq 1 3000); do [ "$(metric rustlog_compaction_read_bytes_total)" -gt 0 ] && break; sleep 0.02; done
[ "$(metric rustlog_compaction_read_bytes_total)" -gt 0 ] || { echo "compaction_bench: the cleaner never started" >&2; exit 1; }
T0=$(now)
while [ "$(metric rustlog_compaction_runs_total)" -lt 1 ]; do sleep 0.05; done
T1=$(now)
READ1=$(metric rustlog_compaction_read_bytes_total)
"$LOAD" probe --broker "$BROKER" --topic other --stop-file "$WORK/stop" >"$WORK/probe_during" &
PROBE=$!
while [ "$(metric rustlog_compaction_runs_total)" -lt 2 ]; do sleep 0.05; done
T2=$(now)
touch "$WORK/stop"
wait "$PROBE"
sed 's/^RESULT/RESULT phase=during_compaction/' "$WORK/probe_during" | tee -a "$WORK/probes"
"$LOAD" probe --broker "$BROKER" --topic other --seconds "$IDLE" | sed 's/^RESULT/RESULT phase=idle_after/' | tee -a "$WORK/probes"
python3 - "$T0" "$T1" "$T2" "$MB" "$BASE" "$READ1" <<'PY'
import sys
t0, t1, t2, mb, base, read1 = map(float, sys.argv[1:])
pass1, pass2 = t1 - t0, t2 - t1
print("RESULT cleaner pass1_s=%.2f pass2_s=%.2f pass2_over_pass1=%.2f dirty_mb=%.0f cleaner_mbps=%.1f ratio_to_fio=%.2f read_mb_pass1=%.0f"
      % (pass1, pass2, pass2 / pass1, mb, mb / pass1, (mb / pass1) / base, read1 / 1e6))
PY
# The target: p99 during the second pass within 1.5x of the cleaner idle.
python3 - "$WORK/probes" <<'PY'
import sys, re
p99 = {}
for line in open(sys.argv[1]):
    m = re.search(r"phase=(\S+) .*p99_us=(\d+)", line)
    if m: p99[m.group(1)] = float(m.group(2))
d, b, a = p99["during_compaction"], p99["idle_before"], p99["idle_after"]
print("RESULT latency p99_during_over_idle_before=%.2f p99_during_over_idle_after=%.2f target=1.5" % (d / b, d / a))
PY
curl -s "http://127.0.0.1:$(cat "$WORK/mport")/metrics" | python3 -c '
import sys
b = []
for line in sys.stdin:
    if line.startswith("rustlog_compaction_step_duration_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        b.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
n = b[-1][1] if b else 0
def q(x):
    for le, c in b:
        if c >= x * n: return le * 1e3
    return float("nan")
print("RESULT steps count=%d p50_ms_le=%.2f p99_ms_le=%.2f max_bucket_ms_le=%.2f" % (n, q(0.5), q(0.99), q(1.0)))
'
grep "cleaner: cleaned" "$WORK/broker.log" | sed 's/^/LOG /'
stop_broker
