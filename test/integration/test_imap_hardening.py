# SPDX-License-Identifier: ISC
"""IMAP against one hostile or unlucky client (issue 17 items 1, 2 and
6; issue 13, first login): no command of one session may freeze the
others, no reply may carry bytes the server did not mean to send, and
an account that never received mail can SELECT its INBOX.

Freezes are shown by order of events, not by wall-clock figures: a
second client's NOOPs must complete while the first client's command
is outstanding, each within a generous bound (scaled for QEMU through
WREN_RUN, as conftest's SLOW does), and their round trips must be much
shorter than the long command's total time.
"""
import imaplib
import os
import re
import select
import shutil
import socket
import stat
import time

import pytest

from conftest import SLOW
from imaplib_helpers import (
    ALICE, BOB, BOB_PW, TIMEOUT, Raw, imap_server, mail, make_pki)

NOOP_BOUND = 5 * SLOW       # one NOOP round trip, while another works


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    made = []

    def make(**keys):
        s = imap_server(wren, pki, **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.ref:
            s.ref.stop()


def noops_while(other, tag, r, limit=120 * SLOW):
    """NOOPs on r until `other` answers `tag`; returns (the round trips
    of the NOOPs sent while the tag was outstanding, the tagged line,
    the time from the first NOOP to the tagged line)."""
    rtts = []
    t0 = time.monotonic()
    r.sock.settimeout(NOOP_BOUND)
    done = None
    while done is None:
        assert time.monotonic() - t0 < limit, "never answered"
        t = time.monotonic()
        try:
            r.cmd("NOOP")
        except (socket.timeout, TimeoutError):
            pytest.fail(f"a NOOP waited over {NOOP_BOUND} s while "
                        f"{tag} was outstanding ({len(rtts)} before)")
        rtts.append(time.monotonic() - t)
        # The tagged reply of the other, if it is there yet.
        while done is None:
            if b"\r\n" not in other.buf:
                ready, _, _ = select.select([other.sock], [], [], 0)
                if not ready:
                    break
                other._fill()
                continue
            line = other.line()
            if line.startswith(tag.encode() + b" "):
                done = line
    total = time.monotonic() - t0
    r.sock.settimeout(TIMEOUT)
    # The last NOOP may have been answered after the tag: not counted.
    return rtts[:-1] if len(rtts) > 1 else rtts, done, total


# --- 1. LIST patterns in linear time -------------------------------------


def test_list_many_stars_does_not_freeze_others(srv):
    s = srv()
    for name in ("Archive", "Archive.2024", "Archive.2024.Q1", "Sent"):
        s.maildir(ALICE, name)
    a = Raw(s)
    a.login()
    b = Raw(s)
    b.login()
    b.cmd("NOOP")
    # 200 stars and a tail that never matches: exponential for a
    # backtracking matcher over "Archive.2024.Q1".
    pat = "*" * 200 + "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
    a.send(f'L1 LIST "" "{pat}"\r\n')
    rtts, tagged, _ = noops_while(a, "L1", b)
    assert rtts, "no NOOP answered"
    assert tagged.split()[1] == b"OK", tagged
    # Nothing matched: only the tagged line came.
    assert a.buf == b"", a.buf
    # The same with '%' and '*' mixed, and a pattern that matches.
    got, _ = a.cmd('LIST "" "' + "*%" * 100 + 'Q1"')
    assert got == [b'* LIST (\\HasNoChildren) "." "Archive.2024.Q1"'], got
    b.cmd("NOOP")
    a.close()
    b.close()
    s.stop()


def test_list_patterns(srv):
    s = srv()
    for name in ("Archive", "Archive.2024", "Sent"):
        s.maildir(ALICE, name)
    r = Raw(s)
    r.login()

    def names(pattern, ref=""):
        got, _ = r.cmd(f'LIST "{ref}" "{pattern}"')
        out = set()
        for line in got:
            m = re.match(rb'\* LIST \([^)]*\) "\." (.*)$', line)
            assert m, line
            out.add(m.group(1).strip(b'"').decode())
        return out

    # The first login made Drafts, Junk and Trash too (SPECIAL-USE).
    made = {"Drafts", "Junk", "Trash"}
    assert names("*") == {"INBOX", "Archive", "Archive.2024", "Sent"} | made
    assert names("%") == {"INBOX", "Archive", "Sent"} | made
    assert names("Arch%") == {"Archive"}
    assert names("Archive.%") == {"Archive.2024"}
    assert names("%", ref="Archive.") == {"Archive.2024"}
    # RFC 3501 5.1: INBOX in any case; other names exactly.
    assert names("inbox") == {"INBOX"}
    assert names("iNbO%") == {"INBOX"}
    assert names("archive") == set()
    # The longest pattern is taken; a longer one is BAD, not a freeze.
    _, tagged = r.cmd('LIST "" {300+}\r\n' + "*" * 300, expect=None)
    assert tagged.split()[1] in (b"OK", b"BAD"), tagged
    r.close()
    s.stop()


# --- 2. SEARCH BODY over large messages yields ---------------------------


def big_mail(i, size, extra=b""):
    """A text/plain message of about size octets whose lines never hold
    the word searched (built directly: the email package is slow at
    megabytes)."""
    line = (f"line of filler text {i:04d} for the search test, "
            "quite ordinary words only\n").encode()
    body = (line * (size // len(line) + 1))[:size] + extra
    head = (f"From: Sender <s@remote.example>\n"
            f"To: Alice <alice@example.test>\n"
            f"Subject: big {i}\n"
            f"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
            f"Message-ID: <big{i}@remote.example>\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=us-ascii\n\n").encode()
    return head + body


def test_search_body_large_messages_does_not_stall(srv):
    s = srv()
    sizes = [3, 4, 5]
    n = 34                   # more than one 32-message stride
    for i in range(n):
        size = sizes[i % 3] << 20
        s.put(big_mail(i, size))
    a = Raw(s)
    a.login()
    got, _ = a.cmd("SELECT INBOX")
    assert f"* {n} EXISTS".encode() in got, got
    b = Raw(s)
    b.login()
    b.cmd("NOOP")
    a.send('S1 SEARCH BODY "nomatch"\r\n')
    rtts, tagged, total = noops_while(a, "S1", b)
    assert tagged.split()[1] == b"OK", tagged
    # NOOPs went on during the search, each far shorter than it.
    assert len(rtts) >= 3, (rtts, total)
    assert max(rtts) < total / 4, (max(rtts), total, len(rtts))
    # And the search itself found what it should: nothing, then all.
    got, _ = a.cmd('SEARCH BODY "ordinary"')
    found = [x for x in got if x.startswith(b"* SEARCH")]
    assert found == [b"* SEARCH " + " ".join(
        str(i) for i in range(1, n + 1)).encode()], found[:1]
    a.close()
    b.close()
    s.stop()


def test_two_searches_at_once_both_finish(srv):
    """Two sessions searching large messages share the engine in turn:
    both finish, and both answers are right."""
    s = srv()
    n = 6
    for i in range(n):
        s.put(big_mail(i, 2 << 20, b"needle here\n" if i % 2 else b""))
    a = Raw(s)
    a.login()
    a.cmd("SELECT INBOX")
    b = Raw(s)
    b.login()
    b.cmd("EXAMINE INBOX")
    a.send('A1 SEARCH BODY "needle"\r\n')
    b.send('B1 SEARCH TEXT "needle"\r\n')
    want = b"* SEARCH 2 4 6"
    for r, tag in ((a, "A1"), (b, "B1")):
        got, tagged = r.until(tag)
        assert got == [want], (tag, got)
    # A third client is still served.
    c = Raw(s)
    c.login()
    c.cmd("NOOP")
    for r in (a, b, c):
        r.close()
    s.stop()


def multipart(i, size):
    """Three text parts of size octets each: plain, base64 and
    quoted-printable; the second part's body holds "bodyneedle" near
    its end on odd i, the third part's header "hdrneedle" on i % 3 ==
    0."""
    import base64
    filler = big_mail(i, size).split(b"\n\n", 1)[1]
    second = filler + (b"bodyneedle\n" if i % 2 else b"")
    third_hdr = (b"Content-Type: text/plain\n"
                 + (b"X-Note: hdrneedle\n" if i % 3 == 0 else b""))
    return (f"From: s@remote.example\nTo: alice@example.test\n"
            f"Subject: multi {i}\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/mixed; boundary=BB\n\n").encode() + \
        b"--BB\nContent-Type: text/plain\n\n" + filler + \
        b"\n--BB\nContent-Type: text/plain; charset=utf-8\n" \
        b"Content-Transfer-Encoding: base64\n\n" + \
        base64.encodebytes(second) + \
        b"\n--BB\n" + third_hdr + \
        b"Content-Transfer-Encoding: quoted-printable\n\n" + filler + \
        b"\n--BB--\n"


def test_search_multipart_split_across_steps(srv):
    """Large multipart messages, decided over many steps while another
    session searches too: the answers are those of whole passes."""
    s = srv()
    n = 6
    for i in range(n):
        s.put(multipart(i, 2 << 20))
    a = Raw(s)
    a.login()
    a.cmd("SELECT INBOX")
    b = Raw(s)
    b.login()
    b.cmd("EXAMINE INBOX")
    a.send('A1 SEARCH BODY "bodyneedle"\r\n')
    b.send('B1 SEARCH TEXT "hdrneedle"\r\n')
    got, _ = a.until("A1")
    assert got == [b"* SEARCH 2 4 6"], got
    got, _ = b.until("B1")
    assert got == [b"* SEARCH 1 4"], got
    # OR and NOT over the same walk; a miss reads every part.
    got, _ = a.cmd('SEARCH OR BODY "bodyneedle" TEXT "hdrneedle"')
    assert got == [b"* SEARCH 1 2 4 6"], got
    got, _ = a.cmd('SEARCH NOT BODY "bodyneedle"')
    assert got == [b"* SEARCH 1 3 5"], got
    got, _ = a.cmd('SEARCH BODY "hdrneedle"')
    assert got == [b"* SEARCH"], got
    a.close()
    b.close()
    s.stop()


def test_search_client_gone_mid_message(srv):
    """A session that leaves in the middle of a large message lets the
    next one search."""
    s = srv()
    for i in range(4):
        s.put(big_mail(i, 4 << 20))
    a = Raw(s)
    a.login()
    a.cmd("SELECT INBOX")
    a.send('A1 SEARCH BODY "nomatch"\r\n')
    a.sock.shutdown(socket.SHUT_RDWR)
    a.close()
    b = Raw(s)
    b.login()
    b.cmd("SELECT INBOX")
    got, _ = b.cmd('SEARCH BODY "ordinary"')
    assert got == [b"* SEARCH 1 2 3 4"], got
    b.close()
    s.stop()


# --- 3. STATUS of long names: clean answers ------------------------------


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_status_long_quoted_name(srv):
    s = srv()
    # 160 octets that each need a backslash when quoted: 322 octets
    # quoted, more than the 300-octet buffer STATUS had.
    name = "\\" * 80 + '"' * 80
    s.maildir(ALICE, name)
    r = Raw(s)
    r.login()
    got, _ = r.cmd(f"STATUS {quoted(name)} (MESSAGES UIDNEXT)")
    assert len(got) == 1, got
    want = f"* STATUS {quoted(name)} (MESSAGES 0 UIDNEXT 1)".encode()
    assert got[0] == want, got
    # LIST shows it the same way.
    got, _ = r.cmd('LIST "" "\\\\*"')
    assert got == [b'* LIST (\\HasNoChildren) "." ' +
                   quoted(name).encode()], got
    r.close()
    s.stop()


def test_status_long_names_that_do_not_exist(srv):
    s = srv()
    r = Raw(s)
    r.login()
    for name in ("x" * 160, "\\" * 160, '"' * 200, "y" * 255, "z" * 300,
                 "w" * 1000):
        got, tagged = r.cmd(f"STATUS {quoted(name)} (MESSAGES)",
                            expect="NO")
        assert got == [], got
        assert tagged.split(b" ", 1)[1] == \
            b"NO [NONEXISTENT] No such mailbox", tagged
    # An unknown item is BAD, whether or not the mailbox exists.
    for name in ("INBOX", "Nowhere"):
        got, tagged = r.cmd(f"STATUS {name} (MESSAGES BOGUS)",
                            expect="BAD")
        assert got == [], got
    # A mailbox that is no string at all.
    r.cmd("STATUS (INBOX) (MESSAGES)", expect="BAD")
    got, _ = r.cmd("STATUS INBOX (MESSAGES UNSEEN)")
    assert got == [b"* STATUS \"INBOX\" (MESSAGES 0 UNSEEN 0)"], got
    r.close()
    s.stop()


# --- 4. first login --------------------------------------------------------


def test_first_login_creates_the_maildir(srv):
    s = srv()
    home = s.home(BOB)
    shutil.rmtree(home)             # an account that never got mail
    assert not home.exists()
    M = imaplib.IMAP4("127.0.0.1", s.imap, timeout=TIMEOUT)
    M.login(BOB, BOB_PW)
    typ, data = M.select("INBOX")
    assert typ == "OK", data
    assert data == [b"0"], data
    typ, data = M.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)")
    assert typ == "OK", data
    assert re.search(rb"MESSAGES 0", data[0]), data
    typ, data = M.list()
    assert typ == "OK" and any(b"INBOX" in x for x in data), data
    M.logout()
    for sub in ("", "cur", "new", "tmp"):
        d = home / "Maildir" / sub
        assert d.is_dir(), d
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, (d, oct(
            os.stat(d).st_mode))
    # Mail delivered after that is seen.
    s.put(mail("first"), user=BOB)
    M = imaplib.IMAP4("127.0.0.1", s.imap, timeout=TIMEOUT)
    M.login(BOB, BOB_PW)
    typ, data = M.select("INBOX")
    assert typ == "OK" and data == [b"1"], data
    M.logout()
    s.stop()
