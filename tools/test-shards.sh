#!/bin/bash
# test-shards.sh BINARY [SPEC]: runs a Catch2 binary's test cases (those
# SPEC selects, default all) in SHARDS processes at once (default 3). The
# integration tests mostly wait on rate limits and timeouts, so running
# them side by side cuts the wall time without adding CPU. Each shard's
# output goes to its own log; a failed shard's log is printed whole. Every
# test case runs in exactly one shard; the exit status fails if any shard
# fails or if the shards together ran fewer cases than the list holds.
set -euo pipefail

bin=$1
spec=${2:-}
shards=${SHARDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/p2p-shards-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# Round robin, so that the slow cases of one file spread over the shards.
# Catch2 2.x exits with the number of cases it listed.
"$bin" --list-test-names-only ${spec:+"$spec"} > "$work/listed" || true
# A name read from -f is a test spec: its commas, brackets, stars and
# backslashes need a backslash to stand for themselves.
sed -e '/^$/d' -e 's/[],[\\*]/\\&/g' "$work/listed" > "$work/all"
total=$(wc -l < "$work/all")
if [ "$total" -eq 0 ]; then
	echo "${0##*/}: $bin lists no test cases${spec:+ for $spec}" >&2
	exit 1
fi
for ((i = 0; i < shards; i++)); do
	awk -v n="$shards" -v i="$i" 'NR % n == i' "$work/all" > "$work/names.$i"
done

pids=()
for ((i = 0; i < shards; i++)); do
	[ -s "$work/names.$i" ] || continue
	"$bin" -f "$work/names.$i" > "$work/log.$i" 2>&1 &
	pids[i]=$!
done

failed=0 ran=0
for i in "${!pids[@]}"; do
	if wait "${pids[i]}"; then
		sed "/^$/d" "$work/log.$i" | tail -n 1 | sed "s/^/shard $i: /"
	else
		echo "shard $i failed; its whole log:" >&2
		cat "$work/log.$i" >&2
		failed=1
	fi
	n=$(grep -Eo '[0-9]+ test cases?' "$work/log.$i" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0)
	ran=$((ran + n))
done
if [ "$failed" -eq 0 ] && [ "$ran" -ne "$total" ]; then
	echo "${0##*/}: the shards ran $ran test cases of $total" >&2
	failed=1
fi
exit "$failed"
