#!/bin/sh
# regen.sh - regenerate the expected IMAP output of every fixture here
# (NAME.eml -> NAME.expect) with the real Dovecot, so that anyone can
# audit test/unit/test_mime.c against it.
#
# Needs dovecot-imapd (Debian: apt-get install dovecot-core
# dovecot-imapd; written against 2.3.19) and root, because Dovecot
# refuses to serve mail as root: each fixture is put alone in a fresh
# Maildir owned by nobody, and /usr/lib/dovecot/imap runs pre-
# authenticated on stdin/stdout as nobody with a minimal config.
#
# NAME.expect holds one item per line, "KEY VALUE", where VALUE is the
# exact octets Dovecot sent after "KEY " in its FETCH response, with
# "\" written as "\\", CR as "\r" and LF as "\n" (literals carry CRLF).
# Keys: RFC822.SIZE, BODYSTRUCTURE, BODY, ENVELOPE, and BODY[sec] for a
# fixed list of sections (a part that does not exist gives "").
set -eu
cd "$(dirname "$0")"
IMAP=${IMAP:-/usr/lib/dovecot/imap}
[ -x "$IMAP" ] || { echo "regen.sh: $IMAP missing (dovecot-imapd)" >&2; exit 1; }
T=$(mktemp -d /tmp/wren-mime-regen.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat > "$T/dovecot.conf" <<EOF
protocols = imap
mail_location = maildir:$T/Maildir
base_dir = $T/run
state_dir = $T/state
log_path = /dev/null
ssl = no
EOF

SECTIONS="HEADER TEXT 1 1.MIME 2 2.MIME 3 3.MIME 1.1 1.2 2.1 2.2 1.HEADER 1.TEXT 2.HEADER 2.TEXT 3.HEADER 3.TEXT 3.1 1.2.1 1.2.2 2.1.MIME 3.2"
ITEMS="RFC822.SIZE BODYSTRUCTURE BODY ENVELOPE"
for s in $SECTIONS; do ITEMS="$ITEMS BODY.PEEK[$s]"; done

for eml in *.eml; do
	name=${eml%.eml}
	rm -rf "$T/Maildir" "$T/run" "$T/state"
	mkdir -p "$T/Maildir/cur" "$T/Maildir/new" "$T/Maildir/tmp"
	cp "$eml" "$T/Maildir/cur/1.fixture:2,S"
	chown -R 65534:65534 "$T"
	printf 'a SELECT INBOX\r\nb FETCH 1 (%s)\r\nc LOGOUT\r\n' "$ITEMS" |
	    setpriv --reuid 65534 --regid 65534 --clear-groups \
	    env USER=nobody HOME="$T" "$IMAP" -c "$T/dovecot.conf" \
	    > "$T/out" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
	python3 - "$T/out" "$name.expect" <<'EOF'
import sys
raw = open(sys.argv[1], 'rb').read()
start = raw.index(b'* 1 FETCH (') + len(b'* 1 FETCH (')

def value(i):
    """End of the IMAP value starting at raw[i]."""
    c = raw[i:i + 1]
    if c == b'(':
        i += 1
        while raw[i:i + 1] != b')':
            if raw[i:i + 1] == b' ':
                i += 1
                continue
            i = value(i)
        return i + 1
    if c == b'"':
        i += 1
        while raw[i:i + 1] != b'"':
            i += 2 if raw[i:i + 1] == b'\\' else 1
        return i + 1
    if c == b'{':
        j = raw.index(b'}', i)
        n = int(raw[i + 1:j])
        return j + 3 + n
    while raw[i:i + 1] not in (b' ', b')'):
        i += 1
    return i

def esc(b):
    return (b.replace(b'\\', b'\\\\').replace(b'\r', b'\\r')
            .replace(b'\n', b'\\n'))

out = []
i = start
while raw[i:i + 1] != b')':
    j = raw.index(b' ', i)
    key = raw[i:j]
    if key.startswith(b'BODY['):
        # "BODY[1.2]" or "BODY[1.2]<0>": the key ends at "]"
        k = raw.index(b']', i) + 1
        j = raw.index(b' ', k)
        key = raw[i:k]
    e = value(j + 1)
    out.append(key + b' ' + esc(raw[j + 1:e]) + b'\n')
    i = e
    if raw[i:i + 1] == b' ':
        i += 1
open(sys.argv[2], 'wb').write(b''.join(out))
EOF
	echo "  $name.expect"
done
