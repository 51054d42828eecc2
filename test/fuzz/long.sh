#!/bin/bash
# SPDX-License-Identifier: ISC
#
# long.sh - the long fuzzing run behind test/fuzz/README.md: every
# libFuzzer harness (or those named) built as `make fuzz` builds it,
# run to RUNS executions under `nice -n 19`, J at a time, then its
# corpus minimised with -set_cover_merge=1 on top of the kept seeds.
#
#   test/fuzz/long.sh [-r RUNS] [-j J] [-t SECS] [-o DIR] [harness ...]
#
# -r  executions per harness (default 10000000)
# -j  harnesses at once (default 1; the CI machine has 2 cores)
# -t  stop a harness after SECS seconds even short of RUNS (default 0:
#     no limit)
# -o  work directory (default build/fuzz-long)
#
# Results: DIR/<harness>.log (libFuzzer's output; the last "#N DONE"
# or "stat::number_of_executed_units" line gives the executions),
# DIR/<harness>.meta (start, end, exit status) and DIR/<harness>.min,
# the minimised corpus: copy it over test/fuzz/corpus/<harness>/ to
# keep it. A crash leaves DIR/<harness>-crash-* and a non-zero status.
set -eu

runs=10000000
jobs=1
secs=0
dir=build/fuzz-long
while getopts r:j:t:o: o; do
	case $o in
	r) runs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	t) secs=$OPTARG ;;
	o) dir=$OPTARG ;;
	*) sed -n '5,9p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
cd "$(dirname "$0")/../.."
mkdir -p "$dir/obj"

# The largest input worth trying: a bit over the parser's bound, so
# the refusal is reached, and no more (longer inputs only run slower).
max_len() {
	case $1 in
	fuzz_imap_pattern) echo 1100 ;;	# IMAP_PATTERN_MAX 512 + a name
	fuzz_dns_conf) echo 512 ;;
	*) echo 4096 ;;			# what `make fuzz` uses
	esac
}

# FUZZ_LIB as the Makefile lists it, each file compiled once.
lib=$(printf 'print-fuzz-lib:\n\t@echo $(FUZZ_LIB)\n' |
    make -s --no-print-directory B="$dir" -f Makefile -f - print-fuzz-lib)
make -s --no-print-directory B="$dir" "$dir/config.h"
objs=
for f in $lib; do
	o=$dir/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')
	if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then
		nice -n 19 clang -g -O1 \
		    -fsanitize=fuzzer-no-link,address,undefined \
		    -D_GNU_SOURCE -I"$dir" -Isrc -c -o "$o" "$f"
	fi
	objs="$objs $o"
done

one() {
	n=$1
	nice -n 19 clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -D_GNU_SOURCE -I"$dir" -Isrc -o "$dir/$n" "test/fuzz/$n.c" $objs
	mkdir -p "$dir/$n.run" "test/fuzz/corpus/$n"
	echo "start $(date -u +%FT%TZ) runs=$runs max_len=$(max_len "$n")" \
	    > "$dir/$n.meta"
	rc=0
	nice -n 19 "$dir/$n" -runs="$runs" -max_len="$(max_len "$n")" \
	    -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$dir/$n-" "$dir/$n.run" "test/fuzz/corpus/$n" \
	    > "$dir/$n.log" 2>&1 || rc=$?
	echo "end $(date -u +%FT%TZ) rc=$rc" >> "$dir/$n.meta"
	# The kept seeds stay; of the run's files, the fewest that add
	# every new feature join them.
	rm -rf "$dir/$n.min"
	cp -r "test/fuzz/corpus/$n" "$dir/$n.min"
	nice -n 19 "$dir/$n" -set_cover_merge=1 -max_len="$(max_len "$n")" \
	    "$dir/$n.min" "$dir/$n.run" > "$dir/$n.merge.log" 2>&1
	echo "$n: rc=$rc $(grep -E '^#[0-9]+' "$dir/$n.log" | tail -n 1)"
	return "$rc"
}

if [ $# -eq 0 ]; then
	set -- $(ls test/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
fi
fail=0
for n in "$@"; do
	one "$n" &
	while [ "$(jobs -p | wc -l)" -ge "$jobs" ]; do
		wait -n 2>/dev/null || fail=1
	done
done
while [ "$(jobs -p | wc -l)" -gt 0 ]; do
	wait -n 2>/dev/null || fail=1
done
exit "$fail"
