#!/usr/bin/env bash
# Installs every Debian package RustLog needs to build, test and benchmark.
# The package names are listed in scripts/packages/*.txt (one file per part
# of the project; '#' starts a comment). Idempotent; run as root (or with
# sudo available) on Debian 12.
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t PKGS < <(sed -e 's/#.*//' packages/*.txt | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
# Names that installed packages provide count as present: a nodejs that
# bundles npm provides (and conflicts with) Debian's npm package.
mapfile -t PROVIDED < <(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
  awk -F'|' '$1 ~ /^ii/ { n = split($2, a, /, */); for (i = 1; i <= n; i++) { split(a[i], w, " "); if (w[1] != "") print w[1] } }' |
  sort -u)
provided() { printf '%s\n' "${PROVIDED[@]}" | grep -qxF "$1"; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || provided "$p" || missing+=("$p")
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
