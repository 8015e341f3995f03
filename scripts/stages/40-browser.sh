#!/usr/bin/env bash
# Stage 40: the live status page in a real browser (tests/browser/).
#
# Debian's chromium, driven by playwright-core (npm, pinned by
# tests/browser/package-lock.json), loads the page of a real kafka-lite from
# build/release while records are produced and a group commits, and checks
# that the page follows without a reload. Needs what scripts/setup.sh
# installs from scripts/packages/browser.txt (chromium, nodejs, npm) and the
# release build (scripts/test.sh builds it first); installs nothing itself
# but `npm ci`. Cost on 2 cores: npm ci ~10 s (one package, ~8 MB, no
# browser download), the test ~20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

die() { echo "40-browser: $*" >&2; exit 1; }
for bin in kafka-lite rustlog; do
  [ -x "build/release/$bin" ] || die "build/release/$bin is missing: run 'bash scripts/build.sh release' first"
done
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing: run 'bash scripts/setup.sh' (scripts/packages/browser.txt)"
command -v node >/dev/null || die "node is missing: run 'bash scripts/setup.sh' (scripts/packages/browser.txt)"
command -v npm >/dev/null || die "npm is missing: run 'bash scripts/setup.sh' (scripts/packages/browser.txt)"

cd tests/browser
npm ci --no-audit --no-fund
RUSTLOG_BIN_DIR="$root/build/release" CHROMIUM=/usr/bin/chromium npm test
