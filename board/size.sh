#!/bin/sh
# SPDX-License-Identifier: ISC
# Size report for `make size`, and the budget check for CI.
#
#   board/size.sh BUILD_DIR [BINARY...]
#       stripped size of each BINARY, then the biggest contributors of
#       BUILD_DIR/wren per object and per library (from its link map)
#   board/size.sh --budget BINARY LIMIT [BINARY LIMIT ...]
#       fails when a stripped BINARY is larger than LIMIT bytes
set -eu

if [ "${1:-}" = "--budget" ]; then
	shift
	rc=0
	while [ $# -ge 2 ]; do
		size=$(wc -c < "$1")
		if [ "$size" -gt "$2" ]; then
			echo "size: $1 is $size bytes, over the budget of $2"
			rc=1
		else
			echo "size: $1 is $size bytes (budget $2)"
		fi
		shift 2
	done
	exit $rc
fi

dir=$1
shift
echo "stripped size of each built binary:"
for bin in "$@"; do
	d=$(dirname "$bin")
	if [ -e "$d/wren.stripped" ]; then
		printf '  %-28s %8d bytes\n' "$d" "$(wc -c < "$d/wren.stripped")"
	else
		printf '  %-28s %8d bytes (unstripped)\n' "$d" "$(wc -c < "$bin")"
	fi
done

map=$dir/wren.map
[ -f "$map" ] || exit 0
# Sum the kept input sections of the link map by object file, then by
# library (archive) or "wren" for our own objects.
awk '
/^Discarded input sections/ { skip = 1 }
/^Memory map|^Linker script and memory map/ { skip = 0 }
skip { next }
/^ \.(text|rodata|data|sdata|tdata|init_array|fini_array)/ {
	if (NF >= 4 && $2 ~ /^0x/) { add($3, $4) } else { pending = 1 }
	next
}
pending && $1 ~ /^0x/ && NF >= 3 { add($2, $3); pending = 0; next }
{ pending = 0 }
function hex(s,   i, n) {
	n = 0
	s = tolower(substr(s, 3))
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
function add(size, file,   lib, n) {
	n = hex(size)
	if (n == 0) return
	if (file ~ /\(/) { lib = file; sub(/\(.*/, "", lib); sub(/.*\//, "", lib) }
	else if (file ~ /\/obj\//) { lib = "wren"; sub(/.*\/obj\//, "", file) }
	else { lib = "other"; sub(/.*\//, "", file) }
	byobj[file] += n; bylib[lib] += n
}
END {
	print "by library (code and initialised data; RAM-only .bss left out):"
	for (l in bylib) printf "  %-28s %8d\n", l, bylib[l] | "sort -k2 -nr"
	close("sort -k2 -nr")
	print "biggest objects:"
	for (o in byobj) printf "  %-40s %8d\n", o, byobj[o] | "sort -k2 -nr | head -n 25"
	close("sort -k2 -nr | head -n 25")
}' "$map"
