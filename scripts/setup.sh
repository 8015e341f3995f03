#!/usr/bin/env bash
# Installs every Debian package RustLog needs to build, test and benchmark.
# Idempotent; run as root (or with sudo available) on Debian 12.
set -euo pipefail
PKGS=(
  cmake ninja-build g++ git pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev
  libasio-dev libcpp-httplib-dev libxxhash-dev libzstd-dev liblz4-dev
  fio redis-server python3 procps util-linux
  prometheus  # /usr/bin/prometheus and promtool: the metrics tests scrape with them
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
