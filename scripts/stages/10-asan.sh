#!/usr/bin/env bash
# Stage: the whole default test suite (labels unit + integration) under the
# `asan` preset (Debug, AddressSanitizer + UBSan; a UBSan report fails the
# test: halt_on_error). Cost on the 2-core CI machine: build ~6 min cold
# (less with ccache), suite ~6 min (measured figures: docs/FAILURE_MODES.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# A 16 MiB quarantine (ASan's default is 256 MiB of freed memory held back):
# the resource-bound tests assert the broker's peak RSS, which the default
# quarantine alone would exceed; use-after-free detection keeps working.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
start=$(date +%s)
bash scripts/build.sh asan
built=$(date +%s)
ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -LE long
echo "asan stage: build $((built - start)) s, suite $(( $(date +%s) - built )) s"
