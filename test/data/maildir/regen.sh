#!/bin/sh
# regen.sh - rebuilds the Dovecot-made Maildir in this folder (used by
# test/unit/test_uidlist.c) with the real Dovecot (tested with 2.3.19.1):
# a private dovecot.conf and base_dir under a temporary folder, a static
# userdb (uid 65534, as Dovecot refuses uid 0), five messages saved with
# doveadm, flags and keywords set, one message expunged, then the Maildir
# files and control files (not the binary dovecot.index*) copied here.
# File names hold the time, pid and host name, so they differ each run;
# the unit test reads whatever names the files have. Run as root:
#   sh test/data/maildir/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
w=$(mktemp -d /tmp/wren-dovecot.XXXXXX)
chmod 0755 "$w"
mkdir -p "$w/m" "$w/home" "$w/run"
chown 65534:65534 "$w/m" "$w/home"
cat >"$w/dovecot.conf" <<CONF
mail_location = maildir:$w/m
first_valid_uid = 1
base_dir = $w/run
log_path = $w/log
ssl = no
protocols =
listen = 127.0.0.1
default_internal_user = root
default_login_user = root
passdb {
  driver = static
  args = password=x
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$w/home
}
CONF
dovecot -c "$w/dovecot.conf"
trap 'kill "$(cat "$w/run/master.pid")"; sleep 1; rm -rf "$w"' EXIT
sleep 1
da() { doveadm -c "$w/dovecot.conf" "$@"; }
for i in 1 2 3 4 5; do
	printf 'From: a@example.org\nSubject: message %s\n\n' "$i" >"$w/msg"
	printf 'body %s\nline two\n' "$i" >>"$w/msg"
	da save -u test <"$w/msg"
done
da flags add -u test '\Seen' uid 1
da flags add -u test '\Seen $Label1 Junk' uid 2
da flags add -u test '\Flagged \Answered \Draft' uid 3
da flags add -u test 'NonJunk $Label1' uid 4
da flags add -u test '\Deleted' uid 5
da expunge -u test mailbox INBOX deleted
da mailbox create -u test Archive
da copy -u test Archive mailbox INBOX uid 2:4
da fetch -u test 'uid flags guid' all
rm -rf "$here/Maildir"
mkdir -p "$here/Maildir"
cp -a "$w/m/cur" "$w/m/new" "$w/m/dovecot-uidlist" "$w/m/dovecot-keywords" \
    "$here/Maildir/"
mkdir -p "$here/Maildir/.Archive"
cp -a "$w/m/.Archive/cur" "$w/m/.Archive/new" "$w/m/.Archive/dovecot-uidlist" \
    "$w/m/.Archive/dovecot-keywords" "$here/Maildir/.Archive/"
# git keeps no empty directory: a dot file (Maildir readers skip them)
# keeps new/ and cur/ in every clone.
for d in "$here/Maildir" "$here/Maildir/.Archive"; do
	touch "$d/new/.gitkeep" "$d/cur/.gitkeep"
done
chown -R --reference="$here" "$here/Maildir"
find "$here/Maildir" -type f | sort
head "$here"/Maildir/dovecot-* "$here"/Maildir/.Archive/dovecot-*
