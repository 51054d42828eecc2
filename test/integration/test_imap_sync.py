# SPDX-License-Identifier: ISC
"""IMAP interoperability (SPEC section 5: "a Maildir written by Dovecot
is served as is, and mail delivered by wren is readable by Dovecot"):
a private Dovecot (conftest's PrivateDovecot, driven with doveadm)
populating and flagging a Maildir that wren then serves, Dovecot reading
what wren's IMAP changed, and mbsync (isync) synchronising a 500-message
INBOX over IMAPS.

Dovecot's processes run as nobody, so the mail of those tests lives in a
world-traversable directory under /tmp and is handed to nobody before
Dovecot runs; wren (as root) never runs at the same time as Dovecot on
the same Maildir here.
"""
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import SLOW, PrivateDovecot, dovecot_available
from imaplib_helpers import (
    ALICE, ALICE_PW, TIMEOUT, crlf, fetch, files_in, flag_letters,
    imap_server, login, mail, make_pki, need_wren, random_message,
    read_uidlist, with_flags)

needs_dovecot = pytest.mark.skipif(not dovecot_available(),
                                   reason="needs dovecot-core and root")
needs_mbsync = pytest.mark.skipif(not shutil.which("mbsync"),
                                  reason="needs isync (mbsync)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # mbsync 1.4 matches the host name against DNS names only.
    return make_pki(tmp_path_factory.mktemp("pki"),
                    extra_san="DNS:127.0.0.1")


@pytest.fixture
def srv(wren, pki):
    made = []

    def make(start=True, mail_root=None, **keys):
        s = imap_server(wren, pki, mail_root=mail_root, start=start, **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.ref:
            s.ref.stop()


@pytest.fixture
def shared_tmp():
    """A directory Dovecot's unprivileged processes can reach."""
    tmp = Path(tempfile.mkdtemp(prefix="wren-imap-sync-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def give_to_nobody(path):
    subprocess.run(["chown", "-R", "nobody:nogroup", str(path)], check=True,
                   timeout=30)


def dovecot_for(s, tmp):
    """A PrivateDovecot over s's Maildirs (mail_home %d/%n as in wren)."""
    users = tmp / "users"
    # Dovecot's passdb wants the same file; homes come from the userdb.
    users.write_text(f"{ALICE}:{{PLAIN}}{ALICE_PW}\n")
    os.chmod(users, 0o644)
    give_to_nobody(s.mail_root)
    return PrivateDovecot(tmp, users, f"{s.mail_root}/%d/%n",
                          mail_location="maildir:~/Maildir")


def doveadm_in(dc, data, *args):
    """doveadm with data on stdin (retried while auth starts)."""
    for _ in range(50):
        p = subprocess.run(["doveadm", "-c", str(dc.conf), *args],
                           input=data, capture_output=True, timeout=30)
        if p.returncode == 0:
            return p
        time.sleep(0.1)
    raise AssertionError(p.stdout + p.stderr)


def dovecot_view(dc, box="INBOX"):
    """({uid: (flags set, text bytes)}, uidvalidity, uidnext) as Dovecot
    sees the mailbox."""
    p = dc.doveadm("-f", "json", "fetch", "-u", ALICE, "uid flags text",
                   "mailbox", box, "all")
    msgs = {int(m["uid"]): ({f for f in m["flags"].split()
                             if f.upper() != "\\RECENT"}, m["text"])
            for m in json.loads(p.stdout)}
    p = dc.doveadm("-f", "flow", "mailbox", "status", "-u", ALICE,
                   "uidvalidity uidnext messages", box)
    st = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    assert int(st["messages"]) == len(msgs), (p.stdout, msgs.keys())
    return msgs, int(st["uidvalidity"]), int(st["uidnext"])


def wren_view(M, box="INBOX"):
    """The same through wren's IMAP: ({uid: (flags, BODY[])}, uidvalidity,
    uidnext)."""
    typ, data = M.select(box)
    assert typ == "OK", data
    validity = int(M.response("UIDVALIDITY")[1][0])
    uidnext = int(M.response("UIDNEXT")[1][0])
    msgs = {}
    if int(data[0]):
        for v in fetch(M, "1:*", "(UID FLAGS BODY.PEEK[])").values():
            flags = {f for f in v["FLAGS"] if f.upper() != "\\RECENT"}
            msgs[int(v["UID"])] = (flags, v["BODY[]"])
    return msgs, validity, uidnext


def check_dovecot_log(tmp):
    log = (tmp / "dovecot.log").read_text(errors="replace")
    bad = [x for x in log.splitlines()
           if re.search(r"\b(Error|Panic|Fatal|Warning)\b", x)
           and "Killed with signal 15" not in x]
    assert not bad, "\n".join(bad)


# --- 1. Dovecot writes, wren serves ------------------------------------


@needs_dovecot
def test_maildir_written_by_dovecot_served_by_wren(srv, shared_tmp):
    need_wren("Dovecot against itself")
    s = srv(start=False, mail_root=shared_tmp / "mail")
    rng = random.Random(1001)
    msgs = [random_message(rng, i) for i in range(6)]
    with dovecot_for(s, shared_tmp) as dc:
        for m in msgs:
            doveadm_in(dc, m, "save", "-u", ALICE)
        dc.doveadm("mailbox", "create", "-u", ALICE, "Sent")
        doveadm_in(dc, mail("in sent"), "save", "-u", ALICE, "-m", "Sent")
        for flags, uid in (("\\Seen", 1), ("\\Flagged $Work", 2),
                           ("Todo \\Answered \\Seen", 3), ("\\Draft", 5),
                           ("$Work Todo", 6)):
            dc.doveadm("flags", "add", "-u", ALICE, flags, "mailbox",
                       "INBOX", "uid", str(uid))
        dc.doveadm("expunge", "-u", ALICE, "mailbox", "INBOX", "uid", "4")
        theirs, validity, uidnext = dovecot_view(dc)
        sent, sent_validity, _ = dovecot_view(dc, "Sent")
    check_dovecot_log(shared_tmp)
    assert sorted(theirs) == [1, 2, 3, 5, 6] and uidnext == 7
    s.start()
    M = login(s)
    ours, our_validity, our_next = wren_view(M)
    assert (our_validity, our_next) == (validity, uidnext)
    assert sorted(ours) == sorted(theirs)
    for uid, (flags, text) in theirs.items():
        assert {f.upper() for f in ours[uid][0]} == \
            {f.upper() for f in flags}, uid
        assert ours[uid][1] == crlf(text.encode()), uid
    ours_sent, v, _ = wren_view(M, "Sent")
    assert v == sent_validity and sorted(ours_sent) == sorted(sent)
    # Keywords Dovecot assigned are listed for the mailbox.
    M.select("INBOX")
    flags_line = M.response("FLAGS")[1][0].decode().upper()
    assert "$WORK" in flags_line and "TODO" in flags_line, flags_line
    M.logout()
    s.stop()


# --- 2. wren writes, Dovecot reads --------------------------------------


@needs_dovecot
def test_changes_made_through_wren_seen_by_dovecot(srv, shared_tmp):
    need_wren("Dovecot against itself")
    import smtplib
    s = srv(mail_root=shared_tmp / "mail")
    rng = random.Random(2002)
    for i in range(6):
        s.put(random_message(rng, i), sub="new" if i >= 4 else "cur",
              flags="S" if i == 0 else "")
    with smtplib.SMTP("127.0.0.1", s.smtp, local_hostname="client.example",
                      timeout=TIMEOUT) as c:
        c.sendmail("s@remote.example", [ALICE],
                   b"From: s@remote.example\r\nSubject: by smtp\r\n\r\n"
                   b"Delivered by wren.\r\n")
    M = login(s, select="INBOX")
    for msgset, op, flags in (("1", "-FLAGS", r"(\Seen)"),
                              ("2", "+FLAGS", r"(\Flagged $Work)"),
                              ("3", "+FLAGS", r"(\Answered Todo \Seen)"),
                              ("5", "+FLAGS", r"(\Draft $Work)"),
                              ("4", "+FLAGS", r"(\Deleted)")):
        assert M.store(msgset, op, flags)[0] == "OK"
    assert M.expunge()[0] == "OK"
    ours, validity, uidnext = wren_view(M)
    M.logout()
    s.stop()
    assert len(ours) == 6
    with dovecot_for(s, shared_tmp) as dc:
        theirs, their_validity, their_next = dovecot_view(dc)
    check_dovecot_log(shared_tmp)
    assert (their_validity, their_next) == (validity, uidnext)
    assert sorted(theirs) == sorted(ours)
    for uid, (flags, text) in theirs.items():
        assert {f.upper() for f in flags} == \
            {f.upper() for f in ours[uid][0]}, uid
        assert crlf(text.encode()) == ours[uid][1], uid
    # The uidlist Dovecot found was wren's: the same UIDs on record.
    hdr, uids = read_uidlist(s.maildir())
    assert int(hdr["V"]) == validity
    assert set(uids) >= set(ours)


# --- 3. mbsync -----------------------------------------------------------


def mbsyncrc(tmp, s, local):
    rc = tmp / "mbsyncrc"
    rc.write_text(f"""
IMAPAccount wren
Host 127.0.0.1
Port {s.imaps}
User {ALICE}
Pass {ALICE_PW}
SSLType IMAPS
CertificateFile {s.pki / "cert.pem"}
Timeout {int(30 * SLOW)}

IMAPStore remote
Account wren

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Near
Sync All
Expunge None
SyncState *
""")
    return rc


def mbsync(rc, timeout=300):
    p = subprocess.run(["mbsync", "-c", str(rc), "-V", "inbox"],
                       capture_output=True, text=True,
                       timeout=timeout * SLOW)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    return out


def local_messages(local):
    """{uid (from ,U=): (flag letters, content)} of mbsync's Maildir."""
    out = {}
    for sub in ("cur", "new"):
        for p in (local / "INBOX" / sub).iterdir():
            m = re.search(r",U=(\d+)", p.name)
            assert m, p.name
            flags = p.name.split(":2,", 1)[1] if ":2," in p.name else ""
            out[int(m.group(1))] = (flags, p.read_bytes(), p)
    return out


def strip_tuid(data):
    return re.sub(rb"(?m)^X-TUID: .*\n", b"", data)


@needs_mbsync
def test_mbsync_full_sync_of_500_messages(srv, tmp_path):
    s = srv()
    rng = random.Random(500)
    sent = {}
    for i in range(500):
        size = rng.choice([1, 5, 20, 60, 400]) if i % 50 else 3000
        data = random_message(rng, i, size=size)
        flags = rng.choice(["", "", "S", "FS", "RS"])
        sub = "new" if i >= 450 else "cur"
        s.put(data, sub=sub, flags=flags if sub == "cur" else "")
        sent[hashlib.sha256(data).hexdigest()] = data
    local = tmp_path / "local"
    local.mkdir()
    rc = mbsyncrc(tmp_path, s, local)
    t0 = time.monotonic()
    out = mbsync(rc)
    took = time.monotonic() - t0
    msgs = local_messages(local)
    assert sorted(msgs) == list(range(1, 501)), out
    got = {hashlib.sha256(strip_tuid(c.replace(b"\r\n", b"\n")))
           .hexdigest() for _, c, _ in msgs.values()}
    assert got == set(sent), "content differs"
    # Flags came along: what the server says per UID.
    M = login(s, select="INBOX")
    server_flags = {int(v["UID"]): {f.upper() for f in v["FLAGS"]}
                    for v in fetch(M, "1:*", "(UID FLAGS)").values()}
    M.logout()
    for uid, (letters, _, _) in msgs.items():
        assert ("S" in letters) == ("\\SEEN" in server_flags[uid]), uid
        assert ("F" in letters) == ("\\FLAGGED" in server_flags[uid]), uid
    # A second run transfers nothing.
    names = {p.name for _, _, p in msgs.values()}
    out = mbsync(rc)
    assert {p.name for _, _, p in local_messages(local).values()} == names
    m = re.search(r"[Pp]ulled (\d+) new message", out)
    if m:
        assert m.group(1) == "0", out
    print(f"mbsync: 500 messages in {took:.1f} s")
    s.stop()


@needs_mbsync
def test_mbsync_flag_changes_both_ways(srv, tmp_path):
    s = srv()
    rng = random.Random(77)
    for i in range(5):
        s.put(random_message(rng, i))
    local = tmp_path / "local"
    local.mkdir()
    rc = mbsyncrc(tmp_path, s, local)
    mbsync(rc)
    msgs = local_messages(local)
    assert sorted(msgs) == [1, 2, 3, 4, 5]
    # Local changes: \Seen on 2, \Flagged on 3 (renames, as a MUA does).
    for uid, letter in ((2, "S"), (3, "F")):
        p = msgs[uid][2]
        if p.parent.name == "new":
            dst = p.parent.parent / "cur" / (p.name.split(":2,")[0] + ":2,")
            os.rename(p, dst)
            p = dst
        with_flags(p, flag_letters(p) + letter)
    # A server-side change: \Answered on 4 through IMAP.
    M = login(s, select="INBOX")
    assert M.store("4", "+FLAGS", r"(\Answered)")[0] == "OK"
    M.logout()
    mbsync(rc)
    M = login(s, select="INBOX")
    flags = {int(v["UID"]): {f.upper() for f in v["FLAGS"]} - {"\\RECENT"}
             for v in fetch(M, "1:*", "(UID FLAGS)").values()}
    M.logout()
    assert "\\SEEN" in flags[2] and "\\FLAGGED" in flags[3], flags
    assert flags[1] == set() and flags[5] == set(), flags
    assert "R" in local_messages(local)[4][0]
    # On disk at the server too.
    disk = {}
    for p in files_in(s.maildir()):
        m = re.search(rb"\nSubject: message (\d+) ", b"\n" + p.read_bytes())
        disk[int(m.group(1)) + 1] = flag_letters(p)
    assert "S" in disk[2] and "F" in disk[3] and "R" in disk[4], disk
    s.stop()
