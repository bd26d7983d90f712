#!/bin/bash
# make bench-index: indexd against redis-server on this machine, in one run.
# Registers PEERS x FILES in a fresh ./indexd, runs CLIENTS lookup clients
# one request at a time and 16 in flight (build/tools/index-load), then the
# same two ways with redis-benchmark GET against our own redis-server
# (1M keys, random), and prints one table. Both servers run on free
# loopback ports and are stopped by PID. Builds nothing: `make all` did.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PEERS=${PEERS:-1000}
FILES=${FILES:-1000}
CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-1000000}
KEYS=${KEYS:-1000000}
INDEXD=${INDEXD:-./indexd}
LOADGEN=${LOADGEN:-build/tools/index-load}

for f in "$INDEXD" "$LOADGEN"; do
	[ -x "$f" ] || { echo "bench-index: $f missing; run make first" >&2; exit 1; }
done
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
	apt_install redis-server redis-tools

# wait_port_pid PORT PID: until something listens, or PID is gone (then fail).
wait_port_pid() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_on_free_port LOG CMD...: runs CMD in the background, stderr to LOG,
# with @PORT@ in its words replaced by a free loopback port. A port can be
# taken between the probe and the bind: it tries a few. Sets port and pid
# (pid empty when nothing would start).
start_on_free_port() {
	local log=$1
	shift
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		"${@//@PORT@/$port}" 2>"$log" &
		pid=$!
		wait_port_pid "$port" "$pid" && return 0
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	done
	pid=""
	return 1
}

pid="" ipid="" ipid2="" rpid="" spid=""
work=$(mktemp -d)
cleanup() {
	for p in $pid $ipid $ipid2 $rpid $spid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# --- indexd ---------------------------------------------------------------
# run_indexd OUT [SPLIT] [INDEXD-ARGS...]: registers and looks up through a
# fresh indexd; SPLIT=split starts a second indexd with the same args and
# gives it every second lookup client (two indexd on one Redis).
run_indexd() {
	local out=$1 split=$2
	shift 2
	start_on_free_port "$work/indexd.log" "$INDEXD" -p @PORT@ -l 127.0.0.1 -t 600 "$@" ||
		{ echo "bench-index: cannot start indexd" >&2; cat "$work/indexd.log" >&2; exit 1; }
	iport=$port ipid=$pid pid=""
	local more=()
	if [ "$split" = split ]; then
		start_on_free_port "$work/indexd2.log" "$INDEXD" -p @PORT@ -l 127.0.0.1 -t 600 "$@" ||
			{ echo "bench-index: cannot start indexd" >&2; exit 1; }
		ipid2=$pid pid=""
		more=(--split-port "$port")
	fi
	sleep 0.3 # a Redis store connects in the background
	echo "bench-index: indexd $* on port $iport: $PEERS peers x $FILES files, then $CLIENTS clients x $REQUESTS lookups" >&2
	"$LOADGEN" -p "$iport" --peers "$PEERS" --files "$FILES" --clients "$CLIENTS" --requests "$REQUESTS" \
		--depth 1,16 --pid "$ipid" --timeout 300 "${more[@]}" | tee "$out" >&2
	for p in $ipid ${ipid2:-}; do
		kill "$p"; wait "$p" || { echo "bench-index: indexd did not exit 0" >&2; exit 1; }
	done
	ipid="" ipid2=""
}
ipid2=""
run_indexd "$work/load.txt" one

# STORE=redis: the same through one indexd on Redis, then two on one Redis.
if [ "${STORE:-memory}" = redis ]; then
	start_on_free_port "$work/store.err" redis-server --port @PORT@ --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --logfile "$work/store.log" ||
		{ echo "bench-index: cannot start redis-server" >&2; exit 1; }
	sport=$port spid=$pid pid=""
	run_indexd "$work/load-redis.txt" one --store "redis://127.0.0.1:$sport"
	redis-cli -p "$sport" flushall >/dev/null
	run_indexd "$work/load-redis2.txt" split --store "redis://127.0.0.1:$sport"
	kill "$spid"; wait "$spid" || true
	spid=""
fi

field() { # field FILE LINE-PATTERN KEY
	grep -E "$2" "$1" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# --- redis ----------------------------------------------------------------
start_on_free_port "$work/redis.err" redis-server --port @PORT@ --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --logfile "$work/redis.log" ||
	{ echo "bench-index: cannot start redis-server" >&2; cat "$work/redis.log" "$work/redis.err" >&2; exit 1; }
rport=$port rpid=$pid pid=""
echo "bench-index: redis-server on port $rport: $KEYS keys, then GET with $CLIENTS clients x $REQUESTS" >&2
redis-benchmark -h 127.0.0.1 -p "$rport" -t set -c "$CLIENTS" -n "$KEYS" -r "$KEYS" -P 16 -q >/dev/null
for depth in 1 16; do
	redis-benchmark -h 127.0.0.1 -p "$rport" -t get -c "$CLIENTS" -n "$REQUESTS" -r "$KEYS" -P "$depth" --csv \
		| grep '^"GET' >"$work/redis-$depth.csv"
	cat "$work/redis-$depth.csv" >&2
done
kill "$rpid"; wait "$rpid" || true
rpid=""

# redis-benchmark --csv: "GET","rps","avg","min","p50","p95","p99","max" (ms)
rcol() { awk -F'"' -v c="$2" '{print $(2*c)}' "$work/redis-$1.csv"; }

printf '\n%-28s %14s %14s %8s\n' "$PEERS peers x $FILES files" indexd redis ratio
if [ "${STORE:-memory}" = redis ]; then
	printf '%-28s %14s %14s %14s %14s\n' "" memory "on Redis" "2 on Redis" "redis GET"
	for depth in 1 16; do
		printf '%-28s' "req/s, depth $depth"
		for f in load load-redis load-redis2; do
			printf ' %14.0f' "$(field "$work/$f.txt" "^RESULT depth=$depth " lookups_per_s)"
		done
		printf ' %14.0f\n' "$(rcol "$depth" 2)"
		for q in p50 p99; do
			printf '%-28s' "  $q ms"
			for f in load load-redis load-redis2; do
				printf ' %14.3f' "$(awk -v x="$(field "$work/$f.txt" "^RESULT depth=$depth " ${q}_us)" 'BEGIN{print x/1000}')"
			done
			printf ' %14s\n' "$(rcol "$depth" $([ $q = p50 ] && echo 5 || echo 7))"
		done
	done
	printf '%-28s %11.1f MiB (on Redis: %.1f MiB)\n' "indexd RSS after register" \
		"$(awk -v k="$(field "$work/load.txt" '^REGISTER ' rss_kib)" 'BEGIN{print k/1024}')" \
		"$(awk -v k="$(field "$work/load-redis.txt" '^REGISTER ' rss_kib)" 'BEGIN{print k/1024}')"
fi
for depth in 1 16; do
	ours=$(field "$work/load.txt" "^RESULT depth=$depth " lookups_per_s)
	theirs=$(rcol "$depth" 2)
	printf '%-28s %14.0f %14.0f %8.2f\n' "req/s, $CLIENTS clients, depth $depth" "$ours" "$theirs" \
		"$(awk -v a="$ours" -v b="$theirs" 'BEGIN{print (b > 0 ? a / b : 0)}')"
	p50=$(field "$work/load.txt" "^RESULT depth=$depth " p50_us)
	p99=$(field "$work/load.txt" "^RESULT depth=$depth " p99_us)
	rp50=$(rcol "$depth" 5); rp99=$(rcol "$depth" 7)
	printf '%-28s %14.3f %14s\n' "  p50 ms" "$(awk -v x="$p50" 'BEGIN{print x/1000}')" "${rp50:-n/a}"
	printf '%-28s %14.3f %14s\n' "  p99 ms" "$(awk -v x="$p99" 'BEGIN{print x/1000}')" "${rp99:-n/a}"
done
rss=$(field "$work/load.txt" '^REGISTER ' rss_kib)
per=$(field "$work/load.txt" '^REGISTER ' rss_bytes_per_file)
printf '%-28s %11.1f MiB\n' "indexd RSS after register" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
printf '%-28s %14s\n' "  bytes per registered file" "$per"
