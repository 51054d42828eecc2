#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the Debian packages a build or test needs, when missing.
#
#   board/deps.sh host|demo|test|fuzz|armhf|aarch64|mipsel ...
#
# Quick when everything is there (one dpkg-query). As root it installs
# with apt-get; otherwise it prints the exact command and fails.
set -eu

APT="apt-get -o DPkg::Lock::Timeout=900"
need=""
archs=""

debarch() {
	case "$1" in
	armhf) echo armhf ;;
	aarch64) echo arm64 ;;
	mipsel) echo mipsel ;;
	*) echo "board/deps.sh: unknown arch '$1'" >&2; exit 2 ;;
	esac
}

triplet() {
	case "$1" in
	armhf) echo arm-linux-gnueabihf ;;
	aarch64) echo aarch64-linux-gnu ;;
	mipsel) echo mipsel-linux-gnu ;;
	esac
}

for what in "$@"; do
	case "$what" in
	host)
		need="$need build-essential libbearssl-dev libcdb-dev"
		need="$need kconfig-frontends-nox"
		# make lint: the man pages
		need="$need mandoc"
		;;
	demo)
		# make run: the demo certificate, and the clients it shows
		need="$need openssl swaks curl"
		;;
	test)
		need="$need libcmocka-dev python3-pytest shellcheck"
		# packaging: make deb, lintian, systemd-analyze verify
		need="$need dpkg-dev lintian"
		need="$need systemd openssl tinycdb dovecot-core dovecot-imapd dovecot-pop3d swaks postfix"
		need="$need testssl.sh python3-aiosmtpd isync fail2ban fetchmail"
		# outbound: fake DNS (dnslib), smtp-sink (postfix), mail(1),
		# dnsmasq and dig for manual checks
		need="$need python3-dnslib bsd-mailx dnsmasq-base bind9-dnsutils"
		# DKIM: verifiers nobody here wrote
		need="$need python3-dkim opendkim-tools"
		# ACME: Let's Encrypt's test server (pebble, with its fake DNS
		# pebble-challtestsrv)
		need="$need pebble"
		# SPF: pyspf cross-checks the inbound checks' expectations
		need="$need python3-spf"
		# inbound checks: the Authentication-Results parser
		need="$need python3-authres"
		;;
	fuzz)
		need="$need clang libclang-rt-14-dev"
		;;
	armhf|aarch64|mipsel)
		a=$(debarch "$what")
		t=$(triplet "$what")
		archs="$archs $a"
		need="$need gcc-$t musl-tools musl-dev:$a libbearssl-dev:$a"
		need="$need qemu-user-static dpkg-dev libcmocka-dev:$a"
		;;
	*)
		echo "board/deps.sh: unknown purpose '$what'" >&2
		exit 2
		;;
	esac
done

missing=""
for p in $need; do
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$s" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -n "$missing" ] || exit 0

newarch=""
for a in $archs; do
	if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		newarch="$newarch $a"
	fi
done

if [ "$(id -u)" != 0 ]; then
	echo "wren needs these Debian packages:$missing" >&2
	echo "run as root:" >&2
	for a in $newarch; do
		echo "  dpkg --add-architecture $a" >&2
	done
	[ -z "$newarch" ] || echo "  $APT update" >&2
	echo "  $APT install -y$missing" >&2
	exit 1
fi

echo "installing:$missing" >&2
# Packages with a daemon (dovecot) must not start it system-wide: the
# tests run their own private instances on loopback.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=yes
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
for a in $newarch; do
	dpkg --add-architecture "$a"
done
# `apt-get update` may report a mirror in sync for one architecture
# while everything needed is available: install regardless.
# Word splitting of the package list is intended.
# shellcheck disable=SC2086
if [ -n "$newarch" ] || ! $APT install -y $missing >/dev/null 2>&1; then
	$APT update >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $APT install -y $missing
fi
