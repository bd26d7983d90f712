#!/bin/bash
# make bench: p2pget against aria2c and curl on the same file, same machine.
#
# A SIZE_MIB (default 1024) file, page-cached, shared by 4 local peerd and
# served by 4 local nginx instances (sendfile on). Each round downloads it
#   p2pget                       from the 4 peers (verifies every chunk)
#   aria2c -x4 -s4 -k2M          from the 4 nginx (verifies nothing)
#   curl -o FILE                 one stream from one nginx
# into one folder (the same for all three), in an order that rotates each
# round. That folder is made under BENCH_DIR, by default this work tree's
# build/ folder: on the work tree's disk, where downloads land (a file
# system that syncs, unlike tmpfs); BENCH_DIR=/dev/shm asks for tmpfs.
# The first line says which file system it is. ROUNDS (default 3)
# rounds; medians; the p2pget/aria2c ratio; peak RSS from /usr/bin/time.
# Every process it starts runs on a free loopback port and is stopped by
# PID. Builds nothing: `make all` did. BIN=dir picks other binaries.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BIN=${BIN:-.}
SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-3}
for p in indexd peerd p2pget; do
	[ -x "$BIN/$p" ] || { echo "bench: $BIN/$p missing; run make first" >&2; exit 1; }
done
BIN=$(cd "$BIN" && pwd)

need=""
command -v aria2c >/dev/null || need="$need aria2"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
command -v curl >/dev/null || need="$need curl"
[ -x /usr/bin/time ] || need="$need time"
# shellcheck disable=SC2086 # one word per package
[ -z "$need" ] || apt_install $need
NGINX=$(command -v nginx || echo /usr/sbin/nginx)


pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/p2p-bench-XXXXXX")
# DEST is the older name of BENCH_DIR.
asked=${BENCH_DIR:-${DEST:-}}
BENCH_DIR=${BENCH_DIR:-${DEST:-$(cd "$(dirname "$0")/.." && pwd)/build}}
mkdir -p "$BENCH_DIR"
DEST=$(mktemp -d "$BENCH_DIR/p2p-bench-XXXXXX")
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work" "$DEST"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fstype=$(df -T "$DEST" | awk 'NR == 2 {print $2}')
echo "bench: $SIZE_MIB MiB file, 4 peers / 4 nginx on loopback, downloads into $DEST ($fstype$(
	[ -n "$asked" ] && echo ", as BENCH_DIR asked" || echo ", the work tree's disk; BENCH_DIR=/dev/shm for tmpfs"))" >&2
"$(dirname "$0")/make-sample-data.sh" "$work" 4 "$SIZE_MIB" bench.bin
cat "$work/peers/1/bench.bin" > /dev/null # page-cache it

iport=$(free_port)
"$BIN/indexd" -p "$iport" -l 127.0.0.1 2> "$work/indexd.log" &
pids+=($!)
wait_port "$iport" "$work/indexd.log"
export P2P_INDEX=127.0.0.1:$iport
urls=()
for i in 1 2 3 4; do
	port=$(free_port)
	"$BIN/peerd" -d "$work/peers/$i" -p "$port" 2> "$work/peerd-$i.log" &
	pids+=($!)
	wait_port "$port" "$work/peerd-$i.log"

	nport=$(free_port)
	mkdir -p "$work/nginx-$i"
	cat > "$work/nginx-$i/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx-$i/nginx.pid;
error_log $work/nginx-$i/error.log;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $work/nginx-$i/body;
	proxy_temp_path $work/nginx-$i/proxy;
	fastcgi_temp_path $work/nginx-$i/fastcgi;
	uwsgi_temp_path $work/nginx-$i/uwsgi;
	scgi_temp_path $work/nginx-$i/scgi;
	server {
		listen 127.0.0.1:$nport;
		root $work/peers/$i;
	}
}
CONF
	"$NGINX" -p "$work/nginx-$i" -c "$work/nginx-$i/nginx.conf" 2>> "$work/nginx-$i/error.log" &
	pids+=($!)
	wait_port "$nport" "$work/nginx-$i/error.log"
	urls+=("http://127.0.0.1:$nport/bench.bin")
done
for _ in $(seq 600); do
	n=$("$BIN/p2pget" --lookup bench.bin 2>/dev/null | wc -l || true)
	[ "$n" -ge 4 ] && break
	sleep 0.1
done
[ "$n" -ge 4 ] || { echo "bench: the peers did not register; see $work/*.log" >&2; exit 1; }

bytes=$((SIZE_MIB * 1024 * 1024))
now() { date +%s.%N; }
# run NAME CMD...: times CMD, records MB/s and peak RSS (KiB) per round.
run() {
	local name=$1; shift
	rm -f "$DEST/bench.bin"
	# Untimed: the last writer's dirty pages and freed blocks are settled
	# before the next one starts, so no client pays for another's.
	sync
	local t0 t1
	t0=$(now)
	/usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/$name.out" 2> "$work/$name.err" ||
		{ echo "bench: $name failed:"; cat "$work/$name.err"; exit 1; } >&2
	t1=$(now)
	[ "$(stat -c %s "$DEST/bench.bin")" -eq "$bytes" ] || { echo "bench: $name wrote a short file" >&2; exit 1; }
	awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f\n", b / (z - a) / 1e6 }' >> "$work/$name.rates"
	cat "$work/rss" >> "$work/$name.rss"
	printf '  %-7s %8.1f MB/s  %6d KiB peak RSS\n' "$name" "$(tail -1 "$work/$name.rates")" "$(cat "$work/rss")" >&2
}
p2p() { run p2pget "$BIN/p2pget" -q -o "$DEST" bench.bin; }
aria() {
	run aria2c aria2c -x4 -s4 -k2M -q --file-allocation=none --allow-overwrite=true --auto-file-renaming=false \
		-d "$DEST" -o bench.bin "${urls[@]}"
}
curl1() { run curl curl -s -o "$DEST/bench.bin" "${urls[0]}"; }

# Once, untimed: the result really is the file.
"$BIN/p2pget" -q -o "$DEST" bench.bin
cmp "$work/peers/1/bench.bin" "$DEST/bench.bin"

order=(p2p aria curl1)
for r in $(seq "$ROUNDS"); do
	echo "round $r" >&2
	for k in 0 1 2; do
		"${order[$(((k + r - 1) % 3))]}"
	done
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxrss() { sort -n "$1" | tail -1; }
mp=$(median "$work/p2pget.rates")
ma=$(median "$work/aria2c.rates")
mc=$(median "$work/curl.rates")
echo
printf '%s MiB file, %s rounds, downloads into %s (%s)\n' "$SIZE_MIB" "$ROUNDS" "$DEST" "$fstype"
printf '%-34s %12s %14s\n' "client" "median MB/s" "peak RSS KiB"
printf '%-34s %12s %14s\n' "p2pget (4 peers, verified)" "$mp" "$(maxrss "$work/p2pget.rss")"
printf '%-34s %12s %14s\n' "aria2c -x4 -s4 -k2M (4 nginx)" "$ma" "$(maxrss "$work/aria2c.rss")"
printf '%-34s %12s %14s\n' "curl -o (1 nginx, 1 stream)" "$mc" "$(maxrss "$work/curl.rss")"
awk -v p="$mp" -v a="$ma" -v c="$mc" 'BEGIN {
	printf "ratio p2pget/aria2c: %.2f (target >= 1.5)   p2pget/curl: %.2f (target >= 1.0)\n", p / a, p / c }'
