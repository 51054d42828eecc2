#!/bin/sh
# SPDX-License-Identifier: ISC
#
# board/spdx.sh - the license line of every source file (LICENSE: ISC).
#
#   board/spdx.sh [--fix] [PATH ...]
#
# Lists the files under PATH (default: src test board Makefile) whose
# first five lines carry no `SPDX-License-Identifier:`, and exits 1 when
# there are any; `make lint` runs it on src/. With --fix it adds the
# line instead: `/* SPDX-License-Identifier: ISC */` as the first line
# of a C file, `# SPDX-License-Identifier: ISC` after the #! line of a
# script (or first, without one). Files it does not know (data, test
# corpora, configuration) are left alone. Rerun it after merging
# branches that add files.
set -eu

LINE="SPDX-License-Identifier: ISC"
fix=""
if [ "${1:-}" = "--fix" ]; then
	fix=yes
	shift
fi
[ $# -gt 0 ] || set -- src test board Makefile
cd "$(dirname "$0")/.."

# kind FILE: c, script or nothing (not ours to mark).
kind() {
	case "$1" in
	test/data/*|test/fuzz/corpus/*|*/corpus/*) return 0 ;;
	*.c|*.h) echo c ;;
	*.sh|*.py|Makefile|*/Makefile) echo script ;;
	*)
		if head -c 2 "$1" 2>/dev/null | grep -q '^#!'; then
			echo script
		fi ;;
	esac
}

missing=0
for f in $(find "$@" \( -name build -o -name .git -o -name __pycache__ \) \
    -prune -o -type f -print | LC_ALL=C sort); do
	k=$(kind "$f")
	[ -n "$k" ] || continue
	head -n 5 "$f" | grep -q 'SPDX-License-Identifier:' && continue
	if [ -z "$fix" ]; then
		echo "$f"
		missing=1
		continue
	fi
	t="$f.spdx.$$"
	if [ "$k" = c ]; then
		{ echo "/* $LINE */"; cat "$f"; } > "$t"
	elif head -n 1 "$f" | grep -q '^#!'; then
		{ head -n 1 "$f"; echo "# $LINE"; tail -n +2 "$f"; } > "$t"
	else
		{ echo "# $LINE"; cat "$f"; } > "$t"
	fi
	# Keep the mode (scripts stay executable).
	chmod "$(stat -c %a "$f")" "$t"
	mv "$t" "$f"
	echo "added: $f"
done
if [ "$missing" = 1 ]; then
	echo "board/spdx.sh: the files above lack '$LINE';" \
		"board/spdx.sh --fix adds it" >&2
	exit 1
fi
