#!/usr/bin/env bash
# Before/after comparison of the storage benchmarks: storage_bench built from
# a base revision and from this checkout, run in alternating order (ABBA) in
# the same session, so the machine's load and disk drift hit both alike. The
# result is, per benchmark, the median over rounds of the per-round ratio
# new/base of the time per iteration (below 1.00 = faster now), both of the
# wall-clock time the benchmark reports and of its CPU time (which a loaded
# machine disturbs less), as Markdown.
#
# Usage: bench/ab_storage_bench.sh --base-rev REV [--rounds N] [--filter REGEX]
#                                  [--min-time S] [--build-dir DIR] [--out DIR] [--bench NAME]
#   --base-rev   git revision to compare against (built in a temporary tree)
#   --bench      the Google Benchmark program (default storage_bench); when the base
#                revision has no bench/NAME.cpp, this checkout's bench/ directory is
#                used in the base tree: the same benchmark code over the base's library
#   --rounds     ABBA rounds (default 4: each binary runs 2 x rounds times)
#   --filter     benchmark regex (default: every benchmark but flush:always and cold)
#   --min-time   --benchmark_min_time per benchmark (default 0.3)
#   --build-dir  this checkout's Release build (default build/release)
#   --out        where the raw JSON and summary.md go (default <build-dir>/ab-results/<UTC time>)
# Environment: RUSTLOG_AB_TMP (where the base tree is built, default /var/tmp; a
#   directory under the ccache base dir lets the base build hit the cache),
#   RUSTLOG_BENCH_DIR, RUSTLOG_BENCH_LOG_MB (default here 256),
#   RUSTLOG_BENCH_SEGMENT_MB (default here 32) — see bench/storage_bench.cpp.
# Takes about 10 minutes with the defaults on the 2-core VM.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE_REV=""
ROUNDS=4
FILTER='^(Append/.*flush:never|SeqRead/(warm|pass)|RandomRead|Reopen/(clean|rebuild_indexes|full_recovery))(/(real|manual)_time)?$'
MIN_TIME=0.3
BUILD_DIR="$ROOT/build/release"
OUT=""
BENCH=storage_bench
while [ $# -gt 0 ]; do
  case "$1" in
    --base-rev) BASE_REV="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --filter) FILTER="$2"; FILTER_SET=1; shift 2 ;;
    --min-time) MIN_TIME="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    --bench) BENCH="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "ab_storage_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$BASE_REV" ] || { echo "ab_storage_bench: --base-rev is required" >&2; exit 2; }
[ "$BENCH" = storage_bench ] || [ -n "${FILTER_SET:-}" ] || FILTER='.*'  # the default filter is storage_bench's
[ -n "$OUT" ] || OUT="$BUILD_DIR/ab-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
export RUSTLOG_BENCH_LOG_MB="${RUSTLOG_BENCH_LOG_MB:-256}"
export RUSTLOG_BENCH_SEGMENT_MB="${RUSTLOG_BENCH_SEGMENT_MB:-32}"

BASE_SRC="$(mktemp -d "${RUSTLOG_AB_TMP:-/var/tmp}/rustlog-ab-XXXXXX")"
trap 'rm -rf "$BASE_SRC"' EXIT
git -C "$ROOT" archive "$BASE_REV" | tar -x -C "$BASE_SRC"
BENCH_NOTE=""
if [ ! -f "$BASE_SRC/bench/$BENCH.cpp" ]; then
  rm -rf "$BASE_SRC/bench"
  cp -r "$ROOT/bench" "$BASE_SRC/bench"
  BENCH_NOTE=" (bench/ of this checkout in the base tree: $BENCH did not exist there)"
fi
cmake -S "$BASE_SRC" -B "$BASE_SRC/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRUSTLOG_BUILD_TESTS=OFF -DRUSTLOG_BUILD_EXAMPLES=OFF >/dev/null
ninja -C "$BASE_SRC/build" "$BENCH" >/dev/null
ninja -C "$BUILD_DIR" "$BENCH" >/dev/null
BASE_BIN="$BASE_SRC/build/bench/$BENCH"
NEW_BIN="$BUILD_DIR/bench/$BENCH"

{
  echo "# $BENCH, base: $(git -C "$ROOT" rev-parse --short "$BASE_REV"), new: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ' (+ uncommitted changes)')$BENCH_NOTE"
  echo "# host: $(uname -srm), $(nproc) cores; log ${RUSTLOG_BENCH_LOG_MB} MiB in ${RUSTLOG_BENCH_SEGMENT_MB} MiB segments"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/host.txt"

run() {  # run <base|new> <round>
  local bin="$BASE_BIN"
  [ "$1" = new ] && bin="$NEW_BIN"
  "$bin" --benchmark_filter="$FILTER" --benchmark_min_time="$MIN_TIME" \
    --benchmark_out="$OUT/$1-$2.json" --benchmark_out_format=json >/dev/null 2>"$OUT/$1-$2.err"
  echo "round $2: $1 done" >&2
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then run base "$r"; run new "$r"; else run new "$r"; run base "$r"; fi
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/host.txt"

python3 - "$OUT" "$ROUNDS" <<'PY' | tee "$OUT/summary.md"
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
def load(kind, r):
    res = {}
    for b in json.load(open(f"{out}/{kind}-{r}.json"))["benchmarks"]:
        name = re.sub(r"(/iterations:\d+)?/(real|manual)_time$", "", b["name"])
        res[name] = (b["real_time"] * SCALE[b["time_unit"]], b["cpu_time"] * SCALE[b["time_unit"]])
    return res
runs = [(load("base", r), load("new", r)) for r in range(1, rounds + 1)]
print(f"| benchmark | base time (median) | new time (median) | new/base time, median of {rounds} rounds (min..max) | new/base CPU time, median (min..max) |")
print("|---|---|---|---|---|")
def fmt(s):
    return f"{s * 1e6:.2f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"
worst = {0: 0.0, 1: 0.0}
for name in runs[0][0]:
    cells = []
    for k in (0, 1):
        ratios = [n[name][k] / b[name][k] for b, n in runs if name in b and name in n and b[name][k] > 0]
        m = statistics.median(ratios)
        worst[k] = max(worst[k], m)
        cells.append(f"{m:.3f} ({min(ratios):.3f}..{max(ratios):.3f})")
    base = statistics.median(b[name][0] for b, _ in runs)
    new = statistics.median(n[name][0] for _, n in runs)
    print(f"| {name} | {fmt(base)} | {fmt(new)} | {cells[0]} | {cells[1]} |")
print()
for k, what in ((0, "time"), (1, "CPU time")):
    print(f"largest median new/base {what} ratio: {worst[k]:.3f} ({'within' if worst[k] <= 1.05 else 'OUTSIDE'} 5%)")
PY
echo "results in $OUT" >&2
