#!/usr/bin/env bash
# Runs the storage-engine benchmarks and their fio disk baselines at the same
# write sizes (bench/fio_baseline.sh), then prints a Markdown table of medians,
# each figure beside its fio baseline as a ratio, and the targets of
# docs/PERFORMANCE.md with pass/fail. Takes about 10 minutes on the 2-core VM.
#
#   1. storage_bench, every benchmark but flush:always, 5 repetitions (medians)
#   2. fio buffered_write at the batch sizes (+4 KiB) + seq_read_cold, and
#      fdatasync_append at 4 KiB (no benchmark writes 4 KiB), 3 repetitions
#   3. 7 rounds of, for each of the 4 batch sizes, [fio fdatasync_append at
#      that size for 1 s, then that Append flush:always benchmark for ~1 s]:
#      fdatasync latency on a shared VM disk drifts by 10x within a minute,
#      so each pair is measured back to back and compared round by round.
#
# Usage: bench/run_storage_bench.sh [--build-dir DIR] [--out DIR] [--rounds N] [--fio-args "..."]
#                                   [-- extra storage_bench args for step 1]
#   --build-dir  CMake build directory (default build/bench; configured and
#                built as Release with Ninja when needed)
#   --out        where the raw results and summary.md go
#                (default <build-dir>/bench-results/<UTC timestamp>)
#   --rounds     paired flush:always rounds (default 7)
#   --fio-args   extra arguments for step 2's bench/fio_baseline.sh (e.g. "--reps 1")
# Environment: RUSTLOG_BENCH_DIR (default /var/tmp; must not be tmpfs),
#   RUSTLOG_BENCH_LOG_MB, RUSTLOG_BENCH_SEGMENT_MB (see bench/storage_bench.cpp).
# Exit status 0 even when a target is missed: this is a report, not a gate.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build/bench"
OUT=""
FIO_ARGS=""
ROUNDS=7
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --out) OUT="$(realpath -m "$2")"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --fio-args) FIO_ARGS="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "run_storage_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || OUT="$BUILD_DIR/bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT/paired"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$BUILD_DIR" storage_bench >/dev/null
BENCH="$BUILD_DIR/bench/storage_bench"
BDIR="${RUSTLOG_BENCH_DIR:-/var/tmp}"

{
  echo "# host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "# bench dir: $BDIR ($(stat -f -c %T "$BDIR"), $(df -h --output=source "$BDIR" | tail -1))"
  echo "# commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/host.txt"

echo "== 1. storage_bench (all but flush:always)" >&2
"$BENCH" --benchmark_filter=-flush:always --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$OUT/bench.json" --benchmark_out_format=json "${EXTRA[@]}" | tee "$OUT/bench.txt"

# The exact batch sizes the Append benchmarks wrote (their batch_bytes counters).
SIZES="$(python3 -c '
import json, sys
s = {4096}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") == "median" and "batch_bytes" in b:
        s.add(int(round(b["batch_bytes"])))
print(" ".join(str(x) for x in sorted(s)))
' "$OUT/bench.json")"

echo "== 2. fio buffered_write + seq_read_cold (sizes: $SIZES), fdatasync_append at 4 KiB" >&2
# shellcheck disable=SC2086
{
  "$ROOT/bench/fio_baseline.sh" --jobs "buffered_write seq_read_cold" --sizes "$SIZES" $FIO_ARGS
  "$ROOT/bench/fio_baseline.sh" --jobs fdatasync_append --sizes 4096 $FIO_ARGS
} | tee "$OUT/fio.txt"

echo "== 3. $ROUNDS paired rounds: per batch size, fio fdatasync_append then Append flush:always" >&2
# (value, records, batch bytes) of each Append benchmark, from step 1.
PAIRS="$(python3 -c '
import json, re, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    m = re.match(r"Append/value:(\d+)/records:(\d+)/flush:never/manual_time$", b["run_name"])
    if m and b.get("aggregate_name") == "median":
        print(m.group(1), m.group(2), int(round(b["batch_bytes"])))
' "$OUT/bench.json")"
for r in $(seq 1 "$ROUNDS"); do
  while read -r v n bs; do
    "$ROOT/bench/fio_baseline.sh" --jobs fdatasync_append --sizes "$bs" --reps 1 --runtime 1 </dev/null |
      grep '^FIO_MEDIAN' | tee -a "$OUT/paired/fio-$r.txt"
    "$BENCH" --benchmark_filter="^Append/value:$v/records:$n/flush:always" --benchmark_min_time=1 \
      --benchmark_out="$OUT/paired/bench-$r-$v-$n.json" --benchmark_out_format=json </dev/null 2>/dev/null |
      grep '^Append' || true
  done <<<"$PAIRS"
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/host.txt"

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import glob, json, os, re, statistics, sys

out = sys.argv[1]
def kvs(path, prefix):
    for line in open(path):
        if line.startswith(prefix + " "):
            yield dict(f.split("=", 1) for f in line.split()[1:])

fio = {(kv["job"], int(kv["bs"])): kv for kv in kvs(f"{out}/fio.txt", "FIO_MEDIAN")}

def clean(name):
    return re.sub(r"(/iterations:\d+)?/(real|manual)_time$", "", name)

med = {}
for b in json.load(open(f"{out}/bench.json"))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        med[clean(b["run_name"])] = b

# Paired rounds: per benchmark, the list of (bench B/s, fio B/s, fio op_us, bench s/batch).
paired = {}
for bj in sorted(glob.glob(f"{out}/paired/bench-*.json")):
    r = re.search(r"bench-(\d+)-\d+-\d+\.json$", bj).group(1)
    rfio = {int(kv["bs"]): kv for kv in kvs(f"{out}/paired/fio-{r}.txt", "FIO_MEDIAN")}
    for b in json.load(open(bj))["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        bs = int(round(b["batch_bytes"]))
        if bs in rfio:
            paired.setdefault(clean(b["name"]), []).append(
                (b["bytes_per_second"], float(rfio[bs]["bw_MBps"]) * 1e6, float(rfio[bs]["op_us"]),
                 b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]], bs,
                 b["items_per_second"]))

SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
def secs(b):
    return b["real_time"] * SCALE[b["time_unit"]]
def fmt_time(s):
    return f"{s * 1e6:.2f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"
def mbps(b):
    return b.get("bytes_per_second", 0) / 1e6
def fmt_mb(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"

rows, targets = [], []
def row(name, figure, baseline="", ratio=""):
    rows.append(f"| {name} | {figure} | {baseline} | {ratio} |")

def cpu(b):
    if "cpu_user_ms" not in b:
        return ""
    return f"; CPU {b['cpu_user_ms'] + b['cpu_sys_ms']:.1f} ms (sys {b['cpu_sys_ms']:.1f})"

for name, b in med.items():
    time_s = secs(b)
    if name.startswith("BatchBuild"):
        row(name, f"{mbps(b):,.0f} MB/s, {b['items_per_second'] / 1e6:.2f} M rec/s ({fmt_time(time_s)}/batch)")
    elif name.startswith("Append"):
        bs = int(round(b["batch_bytes"]))
        base = fio.get(("buffered_write", bs))
        fig = (f"{fmt_mb(mbps(b))} MB/s, {b['items_per_second'] / 1e3:,.1f} k rec/s "
               f"({fmt_time(time_s)}/batch of {bs} B)")
        if base:
            bmb = float(base["bw_MBps"])
            row(name, fig, f"fio buffered_write bs={bs}: {fmt_mb(bmb)} MB/s", f"{mbps(b) / bmb:.2f}")
        else:
            row(name, fig, f"(no fio buffered_write bs={bs})")
        if name == "Append/value:1024/records:100/flush:never":
            targets.append((f"{name} >= 1 GB/s", f"{mbps(b) / 1e3:.2f} GB/s", mbps(b) >= 1000))
    elif name.startswith("SeqRead"):
        fig = f"{mbps(b) / 1e3:.2f} GB/s"
        if name != "SeqRead/warm":
            fig += f" ({fmt_time(time_s)} per pass{cpu(b)})"
        base = fio.get(("seq_read_cold", 1048576)) if name.endswith("cold") else None
        if base:
            row(name, fig, f"fio seq_read_cold 1 MiB: {float(base['bw_MBps']):,.0f} MB/s",
                f"{mbps(b) / float(base['bw_MBps']):.2f}")
        else:
            row(name, fig)
        if name in ("SeqRead/warm", "SeqRead/pass"):
            targets.append((f"{name} (mmap sequential read) >= 2 GB/s", f"{mbps(b) / 1e3:.2f} GB/s",
                            mbps(b) >= 2000))
    elif name == "RandomRead":
        row(name, f"{fmt_time(time_s)} per lookup ({b['items_per_second'] / 1e3:,.0f} k/s)")
    elif name.startswith("Reopen"):
        fig = f"{fmt_time(time_s)} per open"
        if b.get("scanned_per_open", 0) > 1e6:
            fig += f", {mbps(b):,.0f} MB/s of log scanned"
        fig += f" ({b.get('log_MiB', 0):,.0f} MiB, {b.get('segments', 0):.0f} segments{cpu(b)})"
        base = fio.get(("seq_read_cold", 1048576)) if name.endswith("cold") else None
        if base:
            row(name, fig, f"fio seq_read_cold 1 MiB: {float(base['bw_MBps']):,.0f} MB/s",
                f"{mbps(b) / float(base['bw_MBps']):.2f}")
        else:
            row(name, fig)
        if name == "Reopen/clean":
            targets.append(("Reopen/clean of a 1 GiB partition < 50 ms", fmt_time(time_s), time_s < 0.050))
        if name == "Reopen/rebuild_indexes":
            targets.append(("Reopen/rebuild_indexes >= 500 MB/s", f"{mbps(b):,.0f} MB/s", mbps(b) >= 500))
    else:
        row(name, fmt_time(time_s))

for name, runs in paired.items():
    m = statistics.median
    bw, fbw = m(r[0] for r in runs) / 1e6, m(r[1] for r in runs) / 1e6
    fop, t, bs, ips = m(r[2] for r in runs), m(r[3] for r in runs), runs[0][4], m(r[5] for r in runs)
    per_round = m(r[0] / r[1] for r in runs if r[1] > 0)
    row(f"{name} (median of {len(runs)} paired rounds)",
        f"{fmt_mb(bw)} MB/s, {ips / 1e3:,.2f} k rec/s ({fmt_time(t)}/batch of {bs} B)",
        f"fio fdatasync_append bs={bs}: {fmt_mb(fbw)} MB/s, {fop / 1e3:.2f} ms/write+sync",
        f"{bw / fbw:.2f} (per round: {per_round:.2f})")
    if "records:100" in name:
        targets.append((f"{name} >= 80% of fio fdatasync_append bs={bs} (median of per-round ratios)",
                        f"{per_round * 100:.0f}%", per_round >= 0.8))

print("| benchmark (median of 5) | result | fio baseline (median) | ratio |")
print("|---|---|---|---|")
print("\n".join(rows))
print()
print("| target | measured | result |")
print("|---|---|---|")
for t, mval, ok in targets:
    print(f"| {t} | {mval} | {'PASS' if ok else 'FAIL'} |")
PY
echo "results in $OUT" >&2
