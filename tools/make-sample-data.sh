#!/bin/bash
# Sample data for the demo and the benchmark: DIR/peers/1..N, each holding
# the same big file (hard links when possible, so N peers cost one copy of
# disk and page cache) plus a few small files, one in a subfolder and one
# with a UTF-8 name.
#   tools/make-sample-data.sh DIR [PEERS [BIG_MIB [BIG_NAME]]]
set -euo pipefail

dir=${1:?usage: make-sample-data.sh DIR [PEERS [BIG_MIB [BIG_NAME]]]}
peers=${2:-3}
mib=${3:-128}
big=${4:-sample.bin}

mkdir -p "$dir/peers/1/docs"
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$dir/peers/1/$big"
printf 'A small file every peer shares.\n' > "$dir/peers/1/docs/readme.txt"
printf 'Grüße aus dem Netz – こんにちは\n' > "$dir/peers/1/grüße.txt"
for i in $(seq 2 "$peers"); do
	mkdir -p "$dir/peers/$i/docs"
	for f in "$big" docs/readme.txt grüße.txt; do
		ln "$dir/peers/1/$f" "$dir/peers/$i/$f" 2>/dev/null || cp "$dir/peers/1/$f" "$dir/peers/$i/$f"
	done
done
# One file only the last peer has.
printf 'Only peer %s has this one.\n' "$peers" > "$dir/peers/$peers/only-here.txt"
