#!/usr/bin/env bash
# Sets up, builds and starts the broker on its defaults (data in ./data, 127.0.0.1:9092).
# Extra arguments go to kafka-lite (see: build/release/kafka-lite --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
exec build/release/kafka-lite "$@"
