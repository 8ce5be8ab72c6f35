#!/bin/sh
# Installs the Debian packages interloop needs, only those that are missing,
# with apt-get (through sudo when not root). Nothing else is downloaded.
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh bench      also what the benchmarks compare against
set -eu

PKGS="cmake make gcc pkg-config libcmocka-dev libuv1-dev libev-dev libevent-dev valgrind netcat-openbsd socat python3 redis-server"
case "${1:-}" in
  bench) PKGS="$PKGS gnuplot-nox python3 python3-uvloop" ;;
esac

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root or sudo to install:$missing" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || $SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
