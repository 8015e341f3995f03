#!/usr/bin/env bash
# Stage: the Python client (clients/python). Installs the package with pip
# from the repository into a fresh virtual environment, as a user would (no
# download: the package's build backend is in the tree and needs nothing),
# then runs its pytest suite against the release build: a real kafka-lite per
# session, interop with the rustlog CLI and the C++ client library, and the
# examples in examples/python.
# Cost: about 1 minute on 2 cores once the release build exists (the
# interop helper is one small C++ file).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
# scripts/test.sh has configured and built the release tree already; configure
# only when run alone on a fresh checkout (re-running the preset would switch
# RUSTLOG_WERROR to this shell's value and rebuild everything).
[ -f build/release/CMakeCache.txt ] || cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target kafka-lite rustlog interop_client

PY=/usr/bin/python3
VENV=build/python-venv
rm -rf "$VENV"
# --system-site-packages: the suite uses Debian's pytest (python3-pytest).
"$PY" -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check --quiet ./clients/python

cd clients/python
set +e
# Each test has its own deadline (conftest.py, RUSTLOG_PY_TEST_TIMEOUT); the
# whole run has this one on top.
RUSTLOG_BIN_DIR="$PWD/../../build/release" RUSTLOG_PY_EXPECT_INSTALLED=1 \
  timeout --kill-after=30 1200 "../../$VENV/bin/python" -m pytest -p no:cacheprovider -ra tests
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "30-python: pytest collected no tests: failing the stage" >&2
  exit 1
fi
exit "$rc"
