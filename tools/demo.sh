#!/bin/bash
# make demo: an index and three peers on sample data, on loopback ports that
# are checked free, then a download across all three with the progress
# display, checked byte for byte. Stops everything it started, by PID.
# Run after `make all` (the Makefile does); BIN=dir picks other binaries.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BIN=${BIN:-.}
MIB=${MIB:-128}
for p in indexd peerd p2pget; do
	[ -x "$BIN/$p" ] || { echo "demo: $BIN/$p missing; run make first" >&2; exit 1; }
done
BIN=$(cd "$BIN" && pwd)


pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/p2p-demo-XXXXXX")
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

# The sample data stays in ./peers after the demo, so the README's next
# lines (./peerd -d ./peers/1 ...) run as written.
data=${DATA:-$PWD}
if [ ! -f "$data/peers/3/only-here.txt" ]; then
	say "sample data: $data/peers/1..3 (a $MIB MiB file on all three, small files; kept after the demo)"
	"$(dirname "$0")/make-sample-data.sh" "$data" 3 "$MIB" sample.bin
else
	say "sample data: $data/peers/1..3 (from an earlier run; remove ./peers to make it anew)"
fi
find "$data/peers" -type f -not -path '*/.*' -printf '%P  %s bytes\n' | sort

iport=$(free_port)
say "indexd on 127.0.0.1:$iport"
"$BIN/indexd" -p "$iport" -l 127.0.0.1 2> "$work/indexd.log" &
pids+=($!)
wait_port "$iport" "$work/indexd.log"
export P2P_INDEX=127.0.0.1:$iport

for i in 1 2 3; do
	port=$(free_port)
	say "peerd $i sharing peers/$i on 127.0.0.1:$port"
	"$BIN/peerd" -d "$data/peers/$i" -p "$port" 2> "$work/peerd-$i.log" &
	pids+=($!)
	wait_port "$port" "$work/peerd-$i.log"
done

say "waiting until the index lists sample.bin at 3 peers"
for _ in $(seq 300); do
	n=$("$BIN/p2pget" --lookup sample.bin 2>/dev/null | wc -l || true)
	[ "$n" -ge 3 ] && break
	sleep 0.1
done
[ "$n" -ge 3 ] || { echo "demo: the peers did not register; see $work/*.log" >&2; exit 1; }
"$BIN/p2pget" --list

say "p2pget sample.bin docs/readme.txt grüße.txt only-here.txt"
mkdir -p "$work/downloads"
"$BIN/p2pget" -o "$work/downloads" sample.bin docs/readme.txt grüße.txt only-here.txt

say "verify"
for f in sample.bin docs/readme.txt grüße.txt; do
	cmp "$data/peers/1/$f" "$work/downloads/$f"
done
cmp "$data/peers/3/only-here.txt" "$work/downloads/only-here.txt"
if command -v b2sum >/dev/null; then
	b2sum "$data/peers/1/sample.bin" "$work/downloads/sample.bin"
fi
echo "every file is byte-identical to its source"

say "the same with --json, as a script would use it"
rm -f "$work/downloads/sample.bin"
"$BIN/p2pget" -q --json -o "$work/downloads" sample.bin
say "done; stopping the index and the peers"
echo "The sample data is kept in $data/peers: try the README's walkthrough,"
echo "  ./indexd & ./peerd -d ./peers/1 & ./p2pget --list"
