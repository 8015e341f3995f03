#!/usr/bin/env bash
# Disk baselines for the storage benchmarks, measured with fio on the same
# filesystem the benchmarks use. Every job writes like PartitionLog does:
# one sequential file grown by appends (file_append=1, no preallocation), one
# write() per batch, so the numbers compare 1:1 with storage_bench.
#
#   buffered_write    write() of bs bytes, no fsync (page cache only)   vs Append flush:never
#   fdatasync_append  write() of bs bytes + fdatasync() after each one  vs Append flush:always
#   seq_read_cold     1 MiB read()s of a 1 GiB file after dropping its cache  vs the cold read/recovery
#
# The write sizes default to the exact batch sizes of the benchmarks (a batch
# of 1 or 100 records of 100 B or 1 KiB values: 151, 1076, 10879, 103379
# bytes) plus 4 KiB. Each job runs --reps times; one line per run and one
# line with the median, all as `key=value` fields:
#
#   FIO   job=fdatasync_append bs=10879 rep=1 bw_MBps=3.18 iops=293.4 op_us=3408.0 sync_p50_us=3948 sync_p99_us=7963
#   FIO_MEDIAN job=fdatasync_append bs=10879 bw_MBps=3.18 iops=293.4 op_us=3408.0 sync_p50_us=3948 sync_p99_us=7963
#
# MB = 10^6 bytes. op_us = 1e6 / iops (one write + its fdatasync).
#
# Usage: bench/fio_baseline.sh [--dir DIR] [--runtime SECONDS] [--reps N] [--sizes "151 1076 ..."]
#                              [--write-mb MB] [--jobs "buffered_write fdatasync_append seq_read_cold"]
set -euo pipefail

DIR="${RUSTLOG_BENCH_DIR:-/var/tmp}"
RUNTIME=3
REPS=3
SIZES="151 1076 4096 10879 103379"
WRITE_MB=1024
JOBS="buffered_write fdatasync_append seq_read_cold"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --runtime) RUNTIME="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --write-mb) WRITE_MB="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "fio_baseline: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v fio >/dev/null || { echo "fio_baseline: fio is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "fio_baseline: python3 is needed to parse fio's JSON" >&2; exit 2; }
if [ "$(stat -f -c %T "$DIR")" = "tmpfs" ]; then
  echo "fio_baseline: $DIR is tmpfs; pass --dir on the real disk" >&2
  exit 2
fi
WORK="$(mktemp -d "$DIR/rustlog-fio-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "FIO_INFO fio=$(fio --version) dir=$DIR fs=$(stat -f -c %T "$DIR") runtime_s=$RUNTIME reps=$REPS"

# Prints the per-run line from fio's JSON on stdin.
parse() {  # job bs rep
  python3 -c '
import json, sys
job, bs, rep = sys.argv[1:4]
d = json.load(sys.stdin)["jobs"][0]
io = d["read"] if job.startswith("seq_read") else d["write"]
bw = io["bw_bytes"] / 1e6
iops = io["iops"]
f = [f"job={job}", f"bs={bs}", f"rep={rep}", f"bw_MBps={bw:.2f}", f"iops={iops:.1f}",
     f"op_us={1e6 / iops if iops else 0:.1f}"]
sync = d.get("sync", {}).get("lat_ns", {})
if job == "fdatasync_append" and sync.get("N", 0):
    p = sync["percentile"]
    p50, p99 = p["50.000000"] / 1e3, p["99.000000"] / 1e3
    f += [f"sync_p50_us={p50:.0f}", f"sync_p99_us={p99:.0f}"]
print("FIO " + " ".join(f))
' "$@"
}

run_job() {  # job bs rep fio-args...
  local job="$1" bs="$2" rep="$3"
  shift 3
  rm -f "$WORK"/*
  local out
  out="$(fio --name="$job" --directory="$WORK" --filename="$job.dat" --bs="$bs" --ioengine=sync \
    --output-format=json "$@")" || { echo "fio_baseline: fio failed for $job bs=$bs" >&2; return 1; }
  rm -f "$WORK"/*
  parse "$job" "$bs" "$rep" <<<"$out"
}

want() { [[ " $JOBS " == *" $1 "* ]]; }

lines=()
for rep in $(seq 1 "$REPS"); do
  for bs in $SIZES; do
    if want buffered_write; then
      # Stops at WRITE_MB or after RUNTIME seconds, whichever is first.
      lines+=("$(run_job buffered_write "$bs" "$rep" --rw=write --size="${WRITE_MB}M" \
        --runtime="$RUNTIME" --file_append=1 --fallocate=none --end_fsync=0)")
      echo "${lines[-1]}"
    fi
    if want fdatasync_append; then
      lines+=("$(run_job fdatasync_append "$bs" "$rep" --rw=write --size="${WRITE_MB}M" \
        --runtime="$RUNTIME" --time_based --file_append=1 --fallocate=none --fdatasync=1)")
      echo "${lines[-1]}"
    fi
  done
  if want seq_read_cold; then
    # Cold sequential read: lay out a file, then read it after fio drops its
    # cache (invalidate=1). A VM's host may still cache it.
    lines+=("$(run_job seq_read_cold 1048576 "$rep" --rw=read --size=1G --invalidate=1 \
      --runtime="$RUNTIME")")
    echo "${lines[-1]}"
  fi
done

# Medians per (job, bs).
printf '%s\n' "${lines[@]}" | python3 -c '
import sys, statistics
runs = {}
for line in sys.stdin:
    kv = dict(f.split("=", 1) for f in line.split()[1:])
    runs.setdefault((kv["job"], kv["bs"]), []).append(kv)
for (job, bs), rs in runs.items():
    out = [f"job={job}", f"bs={bs}"]
    for k in rs[0]:
        if k in ("job", "bs", "rep"):
            continue
        out.append(f"{k}={statistics.median(float(r[k]) for r in rs):g}")
    print("FIO_MEDIAN " + " ".join(out))
'
