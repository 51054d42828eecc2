#!/bin/sh
# SPDX-License-Identifier: ISC
#
# board/demo.sh - sets up and starts the demo server of `make run`.
#
#   board/demo.sh WREN DIR [PORT_BASE]
#
# DIR holds the demo's data and the configuration made from
# conf/demo.conf, with its `var` paths pointing at DIR. Without
# PORT_BASE the ports are those of conf/demo.conf (SMTP 2525); with it,
# each port is PORT_BASE plus the standard one (SMTP PORT_BASE+25,
# submission +587, IMAPS +993, ...), so a second demo can run beside
# the first.
#
# Every file made here is written under a temporary name and renamed,
# so an interrupted run leaves the old file or the new one, never half
# of one, and the next run carries on.
set -eu

[ $# -ge 2 ] || { echo "usage: board/demo.sh WREN DIR [PORT_BASE]" >&2; exit 2; }
wren=$1
dir=$2
base=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
conf_in=$top/conf/demo.conf

# DIR goes into sed replacements and the configuration as it is.
case "$dir" in
''|*[!A-Za-z0-9_./+-]*)
	echo "board/demo.sh: RUN_DIR '$dir': letters, digits and _ . / + - only" >&2
	exit 2 ;;
esac

if [ -z "$base" ]; then
	smtp=2525 sub=5870 subs=4650 imap=1430 imaps=9930 pop3=1100 pop3s=9950
else
	case "$base" in
	''|*[!0-9]*) base=-1 ;;
	esac
	if [ "$base" -lt 1024 ] || [ "$base" -gt 64540 ]; then
		echo "board/demo.sh: PORT_BASE must be a number from 1024" \
			"to 64540 (the ports are PORT_BASE+25 ... +995)" >&2
		exit 2
	fi
	smtp=$((base + 25)) sub=$((base + 587)) subs=$((base + 465))
	imap=$((base + 143)) imaps=$((base + 993))
	pop3=$((base + 110)) pop3s=$((base + 995))
fi

mkdir -p "$dir"
tmp=".tmp.$$"
trap 'rm -f "$dir"/*"$tmp"' EXIT

# put FILE MODE: standard input into FILE, whole or not at all.
put() {
	(umask 077; cat > "$dir/$1$tmp")
	chmod "$2" "$dir/$1$tmp"
	mv -f "$dir/$1$tmp" "$dir/$1"
}

if [ ! -s "$dir/users" ]; then
	# wren's own hasher: no openssl needed for the account.
	hash=$(echo demo | "$wren" passwd)
	# shellcheck disable=SC2016
	case "$hash" in
	'{SHA512-CRYPT}$6$'*) ;;
	*) echo "board/demo.sh: wren passwd failed" >&2; exit 1 ;;
	esac
	printf 'demo@example.test:%s\n' "$hash" | put users 600
fi
chmod 600 "$dir/users"
[ -s "$dir/aliases" ] || printf 'postmaster: demo@example.test\n' | put aliases 644
[ -s "$dir/virtual" ] || printf '@example.test demo@example.test\n' | put virtual 644

if [ ! -s "$dir/demo-cert.pem" ] || [ ! -s "$dir/demo-key.pem" ]; then
	command -v openssl >/dev/null || {
		echo "board/demo.sh: openssl is needed: board/deps.sh host demo" >&2
		exit 1; }
	rm -f "$dir/demo-cert.pem"
	(umask 077; openssl req -x509 -newkey ec -pkeyopt \
		ec_paramgen_curve:P-256 -nodes -keyout "$dir/demo-key.pem$tmp" \
		-out "$dir/demo-cert.pem$tmp" -days 365 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null)
	if [ ! -s "$dir/demo-key.pem$tmp" ] ||
	    [ ! -s "$dir/demo-cert.pem$tmp" ]; then
		echo "board/demo.sh: openssl made no certificate" >&2
		exit 1
	fi
	chmod 644 "$dir/demo-cert.pem$tmp"
	# The key first: the certificate's presence says the pair is whole.
	mv -f "$dir/demo-key.pem$tmp" "$dir/demo-key.pem"
	mv -f "$dir/demo-cert.pem$tmp" "$dir/demo-cert.pem"
fi

for t in users aliases virtual; do
	"$wren" map -t "$t" "$dir/$t" >/dev/null
done

{ echo "# $dir/demo.conf: made by board/demo.sh from conf/demo.conf"
sed -e "s#^data_dir = var\$#data_dir = $dir#" \
	-e "s#= var/#= $dir/#" \
	-e "s#:2525\\b#:$smtp#g" -e "s#:5870\\b#:$sub#" -e "s#:4650\\b#:$subs#" \
	-e "s#:1430\\b#:$imap#" -e "s#:9930\\b#:$imaps#" \
	-e "s#:1100\\b#:$pop3#" -e "s#:9950\\b#:$pop3s#" \
	"$conf_in"; } | put demo.conf 644
conf=$dir/demo.conf

cat <<MSG
wren demo: config $conf, data under $dir/, Ctrl-C stops.
ports: smtp $smtp, submission $sub, submissions $subs, imap $imap,
  imaps $imaps, pop3 $pop3, pop3s $pop3s (another set: make run PORT_BASE=30000)
account demo@example.test (password: demo); every other
@example.test address is a catch-all alias for it. Send a message:
  swaks --server 127.0.0.1:$smtp --to demo@example.test --from you@example.net
It lands in $dir/mail/example.test/demo/Maildir/new/. Over TLS:
  swaks --server 127.0.0.1:$smtp --tls --to demo@example.test
Submission (587-style, STARTTLS + AUTH) as the demo account:
  swaks --server 127.0.0.1:$sub --tls --auth PLAIN --auth-user demo@example.test --auth-password demo --from demo@example.test --to demo@example.test
Read it over IMAP (993-style, implicit TLS) or POP3:
  curl --cacert $dir/demo-cert.pem --user demo@example.test:demo 'imaps://localhost:$imaps/INBOX;UID=1'
  curl --cacert $dir/demo-cert.pem --user demo@example.test:demo pop3s://localhost:$pop3s/1
The certificate is self-signed ($dir/demo-cert.pem): trust it with
  openssl s_client -starttls smtp -connect 127.0.0.1:$smtp -CAfile $dir/demo-cert.pem
MSG

# Not exec: when a port is taken, say how to pick others.
rc=0
"$wren" serve -c "$conf" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "wren demo: wren serve exited with status $rc; if a port is" \
		"taken, run another set: make run PORT_BASE=30000" >&2
fi
exit "$rc"
