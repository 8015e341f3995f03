#!/usr/bin/env bash
# Stage: every libFuzzer target of tests/fuzz (preset `fuzz`: clang,
# ASan + UBSan) for a bounded time each, starting from its seed corpus and
# its regression inputs. Any crash, sanitizer report or broken invariant
# fails the stage; the input is saved under build/fuzz/artifacts/ (add it to
# tests/fuzz/regressions/<target>/ with the fix).
# Cost: build ~2.5 min cold (the fuzz targets only), then
# RUSTLOG_FUZZ_SECONDS (default 60) per target, RUSTLOG_FUZZ_JOBS (default
# nproc) targets at a time: 10 targets x 60 s / 2 cores = 5 min.
# The long version: ctest --test-dir build/fuzz -L long (10M runs each).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
SECONDS_PER_TARGET="${RUSTLOG_FUZZ_SECONDS:-60}"
JOBS="${RUSTLOG_FUZZ_JOBS:-$(nproc)}"
cmake --preset fuzz >/dev/null
# Only the fuzz targets (the preset would also build the programs).
targets=()
for t in tests/fuzz/corpus/*/; do targets+=("$(basename "$t")"); done
start=$(date +%s)
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
echo "fuzz stage: build $(( $(date +%s) - start )) s"
mkdir -p build/fuzz/artifacts

# One target, its own copy of the seed corpus (libFuzzer adds to the first
# directory); writes its verdict to build/fuzz/artifacts/<name>.verdict.
fuzz_one() {
  local name=$1 work log
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$name"/* "$work"/
  log=build/fuzz/artifacts/$name.log
  if build/fuzz/tests/fuzz/fuzz_"$name" -seed=1 -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
       "$work" tests/fuzz/regressions/"$name" >"$log" 2>&1; then
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $name: ${SECONDS_PER_TARGET} s, $runs executions, no crash" >build/fuzz/artifacts/"$name".verdict
  else
    echo "FAILED" >build/fuzz/artifacts/"$name".verdict
  fi
  rm -rf "$work"
}

start=$(date +%s)
for name in "${targets[@]}"; do
  rm -f build/fuzz/artifacts/"$name".verdict
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_one "$name" &
done
wait
status=0
for name in "${targets[@]}"; do
  verdict=$(cat build/fuzz/artifacts/"$name".verdict 2>/dev/null || echo FAILED)
  if [ "$verdict" = FAILED ]; then
    echo "fuzz $name: FAILED (log build/fuzz/artifacts/$name.log)"; tail -40 build/fuzz/artifacts/"$name".log; status=1
  else
    echo "$verdict"
  fi
done
echo "fuzz stage: ${#targets[@]} targets, $JOBS at a time, $(( $(date +%s) - start )) s"
exit $status
