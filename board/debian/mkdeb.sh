#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds wren's .deb with dpkg-deb alone (no debhelper, no source
# package): the binary, its sendmail/mailq/newaliases links as
# Debian's postfix ships them, the systemd unit, the sysusers.d entry
# and /etc/wren as conffiles.
#
#   board/debian/mkdeb.sh BINARY DEBARCH VERSION OUTDIR
#
# BINARY is a stripped static wren (host glibc or cross musl); DEBARCH
# a Debian architecture (amd64, armhf, arm64, mipsel). Prints the path
# of the .deb. Run from the top of the tree.
set -eu

[ $# -eq 4 ] || {
	echo "usage: $0 BINARY DEBARCH VERSION OUTDIR" >&2
	exit 2
}
bin=$1
arch=$2
outdir=$4
here=board/debian

# Debian versions start with a digit and have no '-' in a native
# package: 0.1.0-3-gabc becomes 0.1.0+3+gabc, a bare hash 0~gitabc.
version=$(echo "${3#v}" | tr -- '-' '+')
case "$version" in
[0-9]*.[0-9]*) ;;
*) version="0~git$version" ;;
esac

maint=${DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null ||
	true)}
[ -n "$maint" ] || maint="wren maintainers <wren@example.org>"
# Reproducible: every date is the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct \
	2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

root=$(mktemp -d "${TMPDIR:-/tmp}/wren-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
umask 022

install -d "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" \
	"$root/usr/lib/sysusers.d" "$root/lib/systemd/system" \
	"$root/etc/wren" "$root/usr/share/doc/wren" \
	"$root/usr/share/lintian/overrides"
install -m 0755 "$bin" "$root/usr/sbin/wren"
# As postfix: sendmail in /usr/sbin, the others point at it.
ln -s wren "$root/usr/sbin/sendmail"
ln -s ../sbin/sendmail "$root/usr/bin/mailq"
ln -s ../sbin/sendmail "$root/usr/bin/newaliases"
ln -s ../sbin/sendmail "$root/usr/lib/sendmail"
install -m 0644 "$here/wren.service" "$root/lib/systemd/system/"
install -m 0644 "$here/sysusers.conf" "$root/usr/lib/sysusers.d/wren.conf"

# The documented example with the package's paths and user.
sed -e 's|^data_dir = .*|data_dir = /var/lib/wren|' \
	-e 's|^mail_home = .*|mail_home = /var/lib/wren/%d/%n|' \
	-e 's|^user = .*|user = wren|' \
	conf/wren.conf > "$root/etc/wren/wren.conf"
grep -q '^data_dir = /var/lib/wren$' "$root/etc/wren/wren.conf"
grep -q '^user = wren$' "$root/etc/wren/wren.conf"
for t in users aliases virtual senders; do
	install -m 0644 "$here/etc/$t" "$root/etc/wren/$t"
done
(cd "$root" && find etc -type f | sort | sed 's|^|/|') \
	> "$root/DEBIAN/conffiles"

# Manual pages (mdoc sources, wren.8 and its siblings) wherever the
# tree keeps them; the MTA names share wren(8), as lintian asks for a
# page per program.
page=$(find . -path ./build -prune -o -path ./.git -prune -o \
	-name wren.8 -type f -print | head -n 1)
if [ -n "$page" ]; then
	for src in "$(dirname "$page")"/*.[1-8]; do
		name=$(basename "$src")
		sec=${name##*.}
		install -d "$root/usr/share/man/man$sec"
		gzip -9n < "$src" > "$root/usr/share/man/man$sec/$name.gz"
		chmod 0644 "$root/usr/share/man/man$sec/$name.gz"
	done
	ln -s wren.8.gz "$root/usr/share/man/man8/sendmail.8.gz"
	install -d "$root/usr/share/man/man1"
	for n in mailq newaliases; do
		[ -e "$root/usr/share/man/man1/$n.1.gz" ] ||
			ln -s ../man8/wren.8.gz "$root/usr/share/man/man1/$n.1.gz"
	done
fi

install -m 0644 "$here/copyright" "$root/usr/share/doc/wren/copyright"
{
	echo "wren ($version) unstable; urgency=medium"
	echo
	echo "  * Built from the wren tree at $3 (see NEWS there)."
	echo
	echo " -- $maint  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$root/usr/share/doc/wren/changelog.gz"
install -m 0644 "$here/lintian-overrides" \
	"$root/usr/share/lintian/overrides/wren"

for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print |
	sed 's|^\./||' | sort | xargs md5sum) > "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" \
	-e "s|@SIZE@|$size|" -e "s|@MAINTAINER@|$maint|" \
	"$here/control.in" > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" \
	"$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$outdir"
# One package per build directory: the last one made.
rm -f "$outdir"/wren_*_"$arch".deb
deb="$outdir/wren_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "$deb"
