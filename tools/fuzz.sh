#!/bin/sh
# Builds the libFuzzer targets in test/fuzz with clang (ASan + UBSan) and
# runs each for FUZZ_SECONDS (default 60), starting from the seed corpus in
# test/fuzz/corpus/TARGET. New inputs go to build-fuzz/, never into the tree;
# a crash leaves its input in build-fuzz/ and fails the run.
set -eu
. "$(dirname "$0")/lib.sh"
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
command -v clang++ >/dev/null 2>&1 || apt_install clang libclang-rt-dev
command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libsodium || apt_install pkg-config libsodium-dev
mkdir -p "$out"
# What every target links: the codec frames through the framing step,
# which checks MACs (frame-auth.cc, libsodium).
common="src/common/codec.cc src/common/names.cc src/common/frame-step.cc src/common/frame-auth.cc src/common/hash.cc src/common/address.cc src/common/parse-number.cc"
status=0
for src in test/fuzz/*-fuzz.cc; do
	name=$(basename "$src" .cc)
	target=${name%-fuzz}
	# shellcheck disable=SC2086 # word splitting wanted
	clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude $(pkg-config --cflags libsodium) \
		"$src" $common -o "$out/$name" $(pkg-config --libs libsodium)
	mkdir -p "$out/corpus-$target"
	echo "fuzz: $name for ${secs}s"
	if ! "$out/$name" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/$target-" \
		"$out/corpus-$target" "test/fuzz/corpus/$target" 2>"$out/$name.log"; then
		echo "fuzz: $name FAILED; see $out/$name.log and $out/$target-*" >&2
		status=1
	fi
	grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$out/$name.log" | sed "s/^/fuzz: $name /"
done
exit $status
