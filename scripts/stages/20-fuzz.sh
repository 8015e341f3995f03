#!/usr/bin/env bash
# Stage: every libFuzzer target of tests/fuzz (preset `fuzz`: clang,
# ASan + UBSan) for a bounded time each, starting from its seed corpus and
# its regression inputs. Any crash, sanitizer report or broken invariant
# fails the stage; the input is saved under build/fuzz/artifacts/ (add it to
# tests/fuzz/regressions/<target>/ with the fix). Cost: build ~4 min cold (the fuzz targets only),
# then RUSTLOG_FUZZ_SECONDS (default 30) per target x 8 targets = 4 min.
# The long version: ctest --test-dir build/fuzz -L long (10M runs each).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
SECONDS_PER_TARGET="${RUSTLOG_FUZZ_SECONDS:-30}"
cmake --preset fuzz >/dev/null
# Only the fuzz targets (the preset would also build the programs).
targets=()
for t in tests/fuzz/corpus/*/; do targets+=("fuzz_$(basename "$t")"); done
start=$(date +%s)
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]}"
echo "fuzz stage: build $(( $(date +%s) - start )) s"
mkdir -p build/fuzz/artifacts
status=0
for t in tests/fuzz/corpus/*/; do
  name=$(basename "$t")
  work=$(mktemp -d)
  cp "$t"* "$work"/
  log=build/fuzz/artifacts/$name.log
  if build/fuzz/tests/fuzz/fuzz_"$name" -seed=1 -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
       "$work" tests/fuzz/regressions/"$name" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $name: ${SECONDS_PER_TARGET} s, $runs executions, no crash"
  else
    echo "fuzz $name: FAILED (log $log)"; tail -40 "$log"; status=1
  fi
  rm -rf "$work"
done
exit $status
