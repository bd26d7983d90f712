#!/bin/sh
# Installs the Debian packages the build and tests need, only those missing.
set -e
. "$(dirname "$0")/lib.sh"
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v g++ >/dev/null 2>&1 || need="$need g++"
pkg-config --exists libevent libevent_pthreads 2>/dev/null || need="$need libevent-dev"
pkg-config --exists libsodium 2>/dev/null || need="$need libsodium-dev"
pkg-config --exists hiredis 2>/dev/null || need="$need libhiredis-dev" # indexd --store redis://
command -v redis-server >/dev/null 2>&1 || need="$need redis-server" # its tests and bench-index
[ -f /usr/include/catch2/catch.hpp ] || need="$need catch2"
command -v groff >/dev/null 2>&1 || need="$need groff-base" # lints the man pages
command -v python3 >/dev/null 2>&1 || need="$need python3" # the second implementation (test/interop)
[ -z "$need" ] && exit 0
# shellcheck disable=SC2086 # one word per package
apt_install $need
