# SPDX-License-Identifier: ISC
"""FETCH of structures far bigger than an output buffer (RFC 3501 7.4.2
ENVELOPE, BODY, BODYSTRUCTURE): a message any sender can deliver, with
hundreds of attachments with long RFC 2231 names or address fields of
tens of KB, gives texts of 50 to 500 KB. They must come whole and
well-formed (an empty "BODYSTRUCTURE )" breaks a client's sync), the
rest of the FETCH too, and other clients must be served meanwhile.
With Dovecot and root, the structures are compared with Dovecot's.

wren keeps bounded copies of the strings (MIME_HEADER_MAX per header
field, MIME_ARENA_SIZE per message): past them a string is cut or NIL,
and that is the only difference from Dovecot allowed here.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import SLOW, PrivateDovecot, dovecot_available
from imaplib_helpers import (
    ALICE, CAROL, TIMEOUT, Raw, fetch, login, make_pki, need_wren, parse,
    users_text, imap_server)

OLD_LIMIT = 32768       # the structure buffer before texts were streamed
NAME_LEN = 200


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


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


def long_name(i):
    """A 200-character file name, unique per part."""
    stem = f"report-{i:03d}-"
    return (stem + "x" * NAME_LEN)[:NAME_LEN - 4] + ".pdf"


def many_attachments(n=250):
    """multipart/mixed with n attachments whose names come as RFC 2231
    continuations (name*0*, name*1*), as mail clients write them."""
    out = [b"From: Sender <s@remote.example>\n"
           b"To: Alice <alice@example.test>\n"
           b"Subject: many attachments\n"
           b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
           b"Message-ID: <many@remote.example>\n"
           b"MIME-Version: 1.0\n"
           b"Content-Type: multipart/mixed; boundary=\"=_sep\"\n\n"
           b"preamble\n"]
    for i in range(n):
        name = long_name(i)
        a, b = name[:100], name[100:]
        out.append(
            f"--=_sep\n"
            f"Content-Type: application/pdf;\n"
            f" name*0*=utf-8''{a};\n name*1*={b}\n"
            f"Content-Disposition: attachment;\n"
            f" filename*0*=utf-8''{a};\n filename*1*={b}\n"
            f"Content-Transfer-Encoding: base64\n\n"
            f"JVBERi0xLjQK{i:04d}\n".encode())
    out.append(b"--=_sep--\n")
    return b"".join(out)


def huge_headers(size=50000):
    """From, To and Subject of about size octets each (folded)."""
    def addresses(who):
        parts, n, i = [], 0, 0
        while n < size:
            a = f"\"{who} Number {i}\" <{who}{i}@example.net>"
            parts.append(a)
            n += len(a) + 3
            i += 1
        return ",\n ".join(parts)

    words, n, i = [], 0, 0
    while n < size:
        w = f"word{i}"
        words.append(w)
        n += len(w) + 1
        i += 1
    subject = "\n ".join(" ".join(words[k:k + 10])
                         for k in range(0, len(words), 10))
    return (f"From: {addresses('sender')}\n"
            f"To: {addresses('rcpt')}\n"
            f"Subject: {subject}\n"
            f"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
            f"Message-ID: <huge@remote.example>\n\n"
            f"body\n").encode()


def normal(i):
    return (f"From: Friend <friend{i}@example.net>\n"
            f"To: alice@example.test\nSubject: normal {i}\n"
            f"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
            f"Message-ID: <n{i}@example.net>\n\nhello {i}\n").encode()


def slow_reader(s):
    """A logged-in Raw session with a 4 KiB receive window, set before
    connecting so that the server really meets a full socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", s.imap))
    r = Raw.__new__(Raw)
    r.srv, r.sock, r.buf, r.n = s, sock, b"", 0
    r.greeting = r.line()
    r.login()
    r.cmd("SELECT INBOX")
    return r


def raw_item(resp, name):
    """The octets of item `name` in one raw FETCH response (literals
    inline), checked to be one balanced IMAP value."""
    v = parse(resp)
    assert len(v) == 4 and v[0] == "*" and v[2].upper() == "FETCH", \
        resp[:200]
    items = v[3]
    assert isinstance(items, list), resp[:200]
    for k in range(0, len(items), 2):
        if items[k].upper() == name:
            return items[k + 1]
    raise AssertionError(f"no {name} in {resp[:300]!r}")


def check_envelope(env):
    assert isinstance(env, list) and len(env) == 10, env
    for f in (2, 3, 4, 5, 6, 7):        # address lists
        assert env[f] is None or (
            isinstance(env[f], list) and
            all(isinstance(a, list) and len(a) == 4 for a in env[f])), env[f]


def check_multipart(bs, nparts):
    assert isinstance(bs, list), bs
    k = 0
    while k < len(bs) and isinstance(bs[k], list):
        k += 1
    assert k == nparts, k
    assert bs[nparts].lower() == b"mixed"
    return bs[:k]


def test_bodystructure_of_250_attachments(srv):
    """(a) every part, and every name the arena held, in BODYSTRUCTURE
    and BODY; the text is far over the old 32 KiB buffer."""
    s = srv()
    s.put(many_attachments())
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    got, _ = r.cmd("FETCH 1 (UID BODYSTRUCTURE BODY RFC822.SIZE)")
    assert len(got) == 1, got
    resp = got[0]
    assert len(resp) > 2 * OLD_LIMIT, len(resp)
    bs = raw_item(resp, "BODYSTRUCTURE")
    parts = check_multipart(bs, 250)
    named = 0
    for i, p in enumerate(parts):
        assert p[0].lower() == b"application" and p[1].lower() == b"pdf"
        assert p[5].lower() == b"base64"
        assert int(p[6]) == len(f"JVBERi0xLjQK{i:04d}")   # CRLF: boundary
        if p[2] is not None:
            want = ("utf-8''" + long_name(i)).encode()
            assert p[2] == [b"name*", want], p[2]
            named += 1
    assert named >= 50, named      # what fits MIME_ARENA_SIZE
    body = raw_item(resp, "BODY")
    check_multipart(body, 250)
    assert int(raw_item(resp, "RFC822.SIZE")) > 100000
    # imaplib too.
    M = login(s, select="INBOX")
    items = fetch(M, "1", "(BODYSTRUCTURE)")[1]
    check_multipart(items["BODYSTRUCTURE"], 250)
    M.logout()
    s.stop()


def test_envelope_of_huge_headers(srv):
    """(b) From, To, Subject of 50 KB each: the ENVELOPE is whole and
    parses; the BODYSTRUCTURE after it too."""
    s = srv()
    s.put(huge_headers())
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    got, _ = r.cmd("FETCH 1 (ENVELOPE BODYSTRUCTURE FLAGS)")
    assert len(got) == 1, got
    resp = got[0]
    assert len(resp) > OLD_LIMIT, len(resp)
    env = raw_item(resp, "ENVELOPE")
    check_envelope(env)
    assert env[1].startswith(b"word0 word1 word2"), env[1][:50]
    assert len(env[2]) > 50, len(env[2])             # From
    assert env[2][0] == [b"sender Number 0", None, b"sender0",
                         b"example.net"]
    assert env[3] == env[2] and env[4] == env[2]    # Sender, Reply-To
    assert len(env[5]) > 50                          # To
    assert env[9] == b"<huge@remote.example>"
    bs = raw_item(resp, "BODYSTRUCTURE")
    assert bs[:2] == [b"text", b"plain"], bs
    assert raw_item(resp, "FLAGS") is not None
    s.stop()


def test_fetch_all_mixed_while_others_are_served(srv):
    """(c) FETCH 1:* (ENVELOPE BODYSTRUCTURE) over normal messages and
    monsters: every response well-formed and complete, one per message;
    a client that does not read holds nobody else up."""
    need_wren("the output bound of wren")
    s = srv()
    kinds = []
    for i in range(12):
        if i % 4 == 1:
            s.put(many_attachments(250 - i))
            kinds.append(("many", 250 - i))
        elif i % 4 == 3:
            s.put(huge_headers(40000 + i))
            kinds.append(("huge", 0))
        else:
            s.put(normal(i))
            kinds.append(("normal", i))
    # A small receive window, and nothing read for a while: the server
    # must wait on this socket without blocking anyone else.
    slow = slow_reader(s)
    slow.send("big FETCH 1:* (UID ENVELOPE BODYSTRUCTURE BODY)\r\n")
    time.sleep(0.5 * SLOW)
    for n in range(3):
        M = login(s, select="INBOX")
        items = fetch(M, "1:*", "(UID ENVELOPE)")
        assert len(items) == 12
        for seq, it in items.items():
            check_envelope(it["ENVELOPE"])
        typ, _ = M.noop()
        assert typ == "OK"
        M.logout()
    got, tagged = slow.until("big")
    assert len(got) == 12, [g[:80] for g in got]
    for seq, (resp, (kind, arg)) in enumerate(zip(got, kinds), 1):
        assert resp.startswith(f"* {seq} FETCH (".encode()), resp[:80]
        check_envelope(raw_item(resp, "ENVELOPE"))
        bs = raw_item(resp, "BODYSTRUCTURE")
        body = raw_item(resp, "BODY")
        if kind == "many":
            check_multipart(bs, arg)
            check_multipart(body, arg)
        else:
            assert bs[:2] == [b"text", b"plain"], bs
        if kind == "normal":
            env = raw_item(resp, "ENVELOPE")
            assert env[1] == f"normal {arg}".encode()
    assert b"OK" in tagged
    assert "output overflow" not in s.log()
    s.stop()


def commas(n=8000):
    """From and To of commas only: each comma is one empty address,
    (NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"): an ENVELOPE of MBs."""
    return (b"From: " + b"," * n + b"\nTo: " + b"," * n +
            b"\nSubject: commas\n\nbody\n")


TOKEN = re.compile(rb'[()]|"(?:[^"\\\r\n\x80-\xff]|\\["\\])*"|'
                   rb'\{(\d+)\}\r\n|[A-Za-z0-9.*\\]+| ')


def well_formed(resp):
    """One response line (literals inline) is IMAP tokens with balanced
    parentheses; fast enough for MBs (parse() is not)."""
    pos, depth = 0, 0
    while pos < len(resp):
        m = TOKEN.match(resp, pos)
        assert m, (pos, resp[pos:pos + 80])
        t = m.group(0)
        if t == b"(":
            depth += 1
        elif t == b")":
            depth -= 1
            assert depth >= 0, pos
        pos = m.end()
        if m.group(1) is not None:
            pos += int(m.group(1))
    assert depth == 0 and pos == len(resp), (depth, pos, len(resp))


def test_expunged_meanwhile_stays_in_step(srv):
    """Messages expunged by another session while their ENVELOPE (MBs of
    it) waits for a client that does not read: the text is finished
    from the open file, every response stays well-formed, the FETCH
    ends in NO."""
    need_wren("the output bound of wren")
    s = srv()
    paths = [s.put(commas()) for _ in range(6)]
    slow = slow_reader(s)
    slow.send("x FETCH 1:* (UID ENVELOPE)\r\n")
    time.sleep(0.5 * SLOW)
    M = login(s, select="INBOX")
    typ, _ = M.store("1:6", "+FLAGS", "\\Deleted")
    assert typ == "OK"
    typ, _ = M.expunge()
    assert typ == "OK"
    M.logout()
    for p in paths:
        assert not Path(p).exists()
    got, tagged = slow.until("x", expect=None)
    fetches = [g for g in got if b" FETCH (" in g]
    for g in fetches:
        well_formed(g)
    # Those begun are whole; those not begun come without ENVELOPE.
    whole = [g for g in fetches if b"ENVELOPE" in g]
    assert 0 < len(whole) < 6, len(whole)
    for g in whole:
        assert len(g) > 1000000 and g.endswith(b"NIL NIL NIL NIL))"), \
            (len(g), g[-80:])
    assert tagged.split(b" ")[1] == b"NO", tagged
    assert "closing" not in s.log()
    s.stop()


def dovecot_fetch(tmp, s):
    """doveadm fetch of every message of alice's INBOX in mail_root
    tmp/mail: {uid: {field: value}}."""
    subprocess.run(["chown", "-R", "nobody:nogroup", str(tmp / "mail")],
                   check=True, timeout=30)
    users = tmp / "users"
    users.write_text(users_text(s.pki, s.home(CAROL)))
    os.chmod(users, 0o644)
    with PrivateDovecot(tmp, users, f"{tmp}/mail/%d/%n",
                        mail_location="maildir:~/Maildir") as dc:
        p = dc.doveadm("-f", "json", "fetch", "-u", ALICE,
                       "uid imap.bodystructure imap.body imap.envelope",
                       "mailbox", "INBOX", "all")
        return {int(m["uid"]): m for m in json.loads(p.stdout)}


def lower(v):
    if isinstance(v, list):
        return [lower(x) for x in v]
    if isinstance(v, (bytes, str)):
        return v.lower() if isinstance(v, str) else bytes(v).lower()
    return v


def same_or_lost(ours, theirs, path="") -> None:
    """ours equals theirs, except strings wren could not keep: NIL (in
    place of a string or a list of them) or a cut prefix."""
    if ours == theirs:
        return
    if ours is None:
        return                                   # lost to the arena
    if isinstance(ours, bytes) and isinstance(theirs, bytes):
        assert theirs.startswith(ours) or theirs.replace(
            b" ", b"").startswith(ours.replace(b" ", b"")), \
            (path, ours[:80], theirs[:80])
        return
    assert isinstance(ours, list) and isinstance(theirs, list), \
        (path, ours, theirs)
    if len(ours) < len(theirs):                  # an address list cut
        theirs = theirs[:len(ours)]
        if ours:
            same_or_lost(ours[:-1], theirs[:-1], path)
            return
    assert len(ours) == len(theirs), (path, len(ours), len(theirs))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        same_or_lost(a, b, f"{path}/{k}")


@pytest.mark.skipif(not dovecot_available(),
                    reason="needs dovecot-core and root")
def test_big_structures_as_dovecot(srv):
    """The same message through wren and Dovecot: the same tree, sizes,
    types and every string wren kept; Dovecot also gives the full text
    (it has no 32 KiB bound either)."""
    tmp = Path(tempfile.mkdtemp(prefix="wren-imap-big-", dir="/tmp"))
    try:
        os.chmod(tmp, 0o755)
        s = srv(mail_root=tmp / "mail")
        s.put(many_attachments())
        s.put(huge_headers())
        s.put(normal(1))
        M = login(s, select="INBOX")
        ours = fetch(M, "1:*", "(UID BODYSTRUCTURE BODY ENVELOPE)")
        M.logout()
        s.stop()
        theirs = dovecot_fetch(tmp, s)
        assert len(ours) == len(theirs) == 3
        for seq, got in ours.items():
            ref = theirs[int(got["UID"])]
            for key, ref_key in (("BODYSTRUCTURE", "imap.bodystructure"),
                                 ("BODY", "imap.body"),
                                 ("ENVELOPE", "imap.envelope")):
                want = parse(b"(" + ref[ref_key].encode("latin-1") +
                             b")")[0]
                same_or_lost(lower(got[key]), lower(want), f"{seq}/{key}")
        # The attachments: all 250 parts on both sides.
        bs = ours[1]["BODYSTRUCTURE"]
        want = parse(b"(" + theirs[int(ours[1]["UID"])][
            "imap.bodystructure"].encode("latin-1") + b")")[0]
        check_multipart(bs, 250)
        check_multipart(want, 250)
        # The normal message: exactly Dovecot's.
        ref = theirs[int(ours[3]["UID"])]
        for key, ref_key in (("BODYSTRUCTURE", "imap.bodystructure"),
                             ("ENVELOPE", "imap.envelope")):
            want = parse(b"(" + ref[ref_key].encode("latin-1") + b")")[0]
            assert lower(ours[3][key]) == lower(want)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
