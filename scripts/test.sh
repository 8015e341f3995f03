#!/usr/bin/env bash
# Sets up, builds and runs the whole default test suite (what CI runs):
#   1. the release build and its CTest suite (labels unit + integration);
#   2. every stage in scripts/stages/*.sh, in name order (each one states
#      what it runs: sanitizer suite, bounded fuzzing, Python, browser, ...).
# Arguments are passed to the release ctest run. The long soak/crash loops:
#   ctest --test-dir build/release -L long
# RUSTLOG_STAGES=none skips step 2 (a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
ctest --test-dir build/release --output-on-failure -j "$(nproc)" -LE long "$@"
if [ "${RUSTLOG_STAGES:-all}" != none ]; then
  for stage in scripts/stages/*.sh; do
    [ -e "$stage" ] || continue
    echo "== stage $(basename "$stage")"
    bash "$stage"
  done
fi
