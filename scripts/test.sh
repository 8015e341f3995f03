#!/usr/bin/env bash
# Sets up, builds and runs the whole default test suite (labels unit + integration).
# The long soak/crash loops: ctest --test-dir build/release -L long
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
ctest --test-dir build/release --output-on-failure -j "$(nproc)" -LE long "$@"
