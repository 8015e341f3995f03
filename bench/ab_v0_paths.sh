#!/usr/bin/env bash
# Before/after of the v0 fast paths end to end: two kafka-lite binaries (A =
# before, B = after) run in alternating order (ABBA) in one session with
# flush never, each round a v0 produce of --records records (batches of 100 x
# 100 B, one connection, 16 requests in flight) and a v0 fetch drain of them
# (1 MiB fetches), through bench/rustlog-load. Prints per round the rec/s of
# both and, at the end, the median ratio B/A of each (above 1.00 = B faster).
#
# Usage: bench/ab_v0_paths.sh --before KAFKA_LITE_A --after KAFKA_LITE_B
#                             [--load RUSTLOG_LOAD] [--rounds N] [--records N]
# Environment: RUSTLOG_BENCH_DIR (data directories; default /var/tmp).
# Listens on 127.0.0.1 only; takes about a minute with the defaults.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
A="" B="" LOAD="$ROOT/build/release/bench/rustlog-load" ROUNDS=3 RECORDS=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --before) A="$2"; shift 2 ;;
    --after) B="$2"; shift 2 ;;
    --load) LOAD="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --records) RECORDS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "ab_v0_paths: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$A" ] && [ -x "$B" ] && [ -x "$LOAD" ] || { echo "ab_v0_paths: need --before, --after and rustlog-load" >&2; exit 2; }
WORK="$(mktemp -d "${RUSTLOG_BENCH_DIR:-/var/tmp}/ab-v0.XXXXXX")"
BPID=""
cleanup() { [ -n "$BPID" ] && kill -TERM "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

one() {  # binary label -> "produce_rec_s fetch_rec_s"
  local bin="$1" d="$WORK/data-$2"
  rm -rf "$d" "$WORK/port"
  "$bin" --listen 127.0.0.1:0 --port-file "$WORK/port" --data-dir "$d" --flush never --log-level warn \
      >> "$WORK/broker.log" 2>&1 &
  BPID=$!
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  local port; port="$(cat "$WORK/port")"
  local p f
  p="$("$LOAD" produce --port "$port" --topic t --connections 1 --partitions 1 --batch 100 --value-bytes 100 \
        --records "$RECORDS" --pipeline 16 | grep '^RESULT' | tr ' ' '\n' | grep '^rec_per_s=' | cut -d= -f2)"
  f="$("$LOAD" fetch --port "$port" --topic t --partition 0 --from 0 --max-bytes 1048576 \
        | grep '^RESULT' | tr ' ' '\n' | grep '^rec_per_s=' | cut -d= -f2)"
  kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""
  echo "$p $f"
}

: > "$WORK/rounds"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for w in $order; do
    bin="$A"; [ "$w" = B ] && bin="$B"
    res="$(one "$bin" "$w$r")"
    echo "round $r $w produce_rec_s=${res% *} fetch_rec_s=${res#* }"
    echo "$r $w $res" >> "$WORK/rounds"
  done
done
python3 - "$WORK/rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, w, p, f in rows:
    by.setdefault(r, {})[w] = (float(p), float(f))
for i, name in enumerate(("produce", "fetch")):
    ratios = [v["B"][i] / v["A"][i] for v in by.values() if "A" in v and "B" in v]
    a = statistics.median(v["A"][i] for v in by.values())
    b = statistics.median(v["B"][i] for v in by.values())
    print(f"{name}: before {a:,.0f} rec/s, after {b:,.0f} rec/s, median ratio after/before {statistics.median(ratios):.2f} over {len(ratios)} rounds")
PY
