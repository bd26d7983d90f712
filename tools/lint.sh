#!/bin/sh
# What `make test` checks before any test runs: every man page lints clean
# under groff -ww, and no function in src/ or include/ is longer than 60
# lines (a function's braces stand alone at the start of a line here).
set -u
status=0
for page in man/*.[0-9]; do
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "lint: $page: $out" >&2
		status=1
	fi
done
long=$(find src include -name '*.cc' -o -name '*.h' | sort | xargs awk -v max=60 '
	FNR == 1 { start = 0 }
	/^\{$/ { start = FNR; name = prev }
	/^\}$/ && start { if (FNR - start - 1 > max) printf "%s:%d: %d lines: %s\n", FILENAME, start, FNR - start - 1, name; start = 0 }
	{ prev = $0 }')
if [ -n "$long" ]; then
	echo "lint: functions longer than 60 lines:" >&2
	echo "$long" >&2
	status=1
fi
exit $status
