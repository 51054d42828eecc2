# SPDX-License-Identifier: ISC
"""IMAP saving (issue 13): APPEND into a folder that is not selected,
as a client saving sent mail does command after command, while the
folder changes by other hands; RENAME against a save in progress.

wren keeps a few folders open after their last user (store/mbox.h,
MBOX_IDLE_MAX): an APPEND to Sent does not read Sent again each time.
These tests check that such an idle folder never answers for a folder
that changed under it: files brought by another process, DELETE and
CREATE of the same name, RENAME through wren or behind its back, a
dovecot-uidlist written anew. Each test is bounded in time.
"""
import os
import re
import time

import pytest

from imaplib_helpers import ALICE, REFERENCE, Raw, crlf, imap_server, \
    mail, make_pki, put

pytestmark = pytest.mark.skipif(bool(REFERENCE),
                                reason="wren's own folder cache")


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
        if s.w.alive():
            s.w.stop()


def logged(s):
    r = Raw(s)
    r.login()
    return r


def append(r, box, i):
    data = crlf(mail(f"saved {i}"))
    _, t = r.cmd(f"APPEND {box} (\\Seen) {{{len(data)}+}}\r\n".encode() +
                 data)
    got = re.search(rb"APPENDUID (\d+) (\d+)", t)
    assert got, t
    return int(got.group(1)), int(got.group(2))


def messages(r, box):
    got, _ = r.cmd(f"STATUS {box} (MESSAGES UIDNEXT UIDVALIDITY)")
    line = b" ".join(got)
    n = re.search(rb"MESSAGES (\d+)", line)
    nxt = re.search(rb"UIDNEXT (\d+)", line)
    uv = re.search(rb"UIDVALIDITY (\d+)", line)
    return int(n.group(1)), int(nxt.group(1)), int(uv.group(1))


def folder(s, name):
    return s.home(ALICE) / "Maildir" / ("." + name)


def test_append_repeatedly_sees_other_hands(srv):
    """APPENDs to Sent, unselected, with a file dropped into Sent by
    another process between them: UIDs keep growing, none reused, and
    STATUS counts every file."""
    s = srv()
    r = logged(s)
    r.cmd("SELECT INBOX")
    uv, u1 = append(r, "Sent", 1)
    _, u2 = append(r, "Sent", 2)
    assert u2 == u1 + 1
    put(folder(s, "Sent"), b"Subject: by another hand\n\nx\n", sub="new")
    time.sleep(0.3)
    uv3, u3 = append(r, "Sent", 3)
    assert uv3 == uv
    assert u3 > u2 + 1          # the other hand's file got u2 + 1
    n, nxt, _ = messages(r, "Sent")
    assert n == 4 and nxt == u3 + 1
    r.close()


def test_delete_create_same_name(srv):
    """A folder saved into, deleted, created again: the new one is
    empty; the next APPEND is its UID 1 (under its own UIDVALIDITY)."""
    s = srv()
    r = logged(s)
    r.cmd("CREATE X")
    append(r, "X", 1)
    append(r, "X", 2)
    r.cmd("DELETE X")
    r.cmd("CREATE X")
    n, nxt, uv2 = messages(r, "X")
    assert n == 0 and nxt == 1
    uv3, u = append(r, "X", 3)
    assert u == 1 and uv3 == uv2
    r.close()


def test_rename_through_wren_and_behind_its_back(srv):
    """RENAME of a folder just saved into moves it whole (the idle copy
    is let go); a folder renamed by another process and a new one
    made at its old name are each seen as they are now."""
    s = srv()
    r = logged(s)
    r.cmd("CREATE A")
    for i in range(3):
        append(r, "A", i)
    r.cmd("RENAME A B")
    assert messages(r, "B")[0] == 3
    r.cmd("CREATE A")
    assert messages(r, "A")[0] == 0
    append(r, "A", 9)
    assert messages(r, "A")[0] == 1
    # Another process: B moved to C, a folder with 2 files made as B.
    os.rename(folder(s, "B"), folder(s, "C"))
    for sub in ("cur", "new", "tmp"):
        (folder(s, "B") / sub).mkdir(parents=True)
    put(folder(s, "B"), b"Subject: one\n\nx\n")
    put(folder(s, "B"), b"Subject: two\n\nx\n")
    assert messages(r, "B")[0] == 2
    assert messages(r, "C")[0] == 3
    _, u = append(r, "C", 4)
    assert u == 4
    assert messages(r, "C")[0] == 4
    r.close()


def test_uidlist_written_anew_by_other(srv):
    """Another process writes the folder's dovecot-uidlist anew (as
    Dovecot does when it finds it broken) between two APPENDs: the next
    APPEND numbers under the UIDVALIDITY now on disk."""
    s = srv()
    r = logged(s)
    r.cmd("CREATE X")
    append(r, "X", 1)
    ul = folder(s, "X") / "dovecot-uidlist"
    names = [ln.split(b":", 1)[1] for ln in ul.read_bytes().splitlines()[1:]]
    tmp = folder(s, "X") / "uidlist.new"
    tmp.write_bytes(b"3 V4242 N10\n" + b"".join(
        b"%d :%s\n" % (7 + i, n) for i, n in enumerate(names)))
    os.rename(tmp, ul)
    uv, u = append(r, "X", 2)
    assert uv == 4242 and u == 10
    n, nxt, _ = messages(r, "X")
    assert n == 2 and nxt == 11
    r.close()


def test_rename_waits_for_append(srv):
    """RENAME of a folder an APPEND is saving into (its literal half
    sent) answers NO [INUSE]; the APPEND completes in the folder, and
    RENAME then moves it with the message."""
    s = srv()
    a = logged(s)
    a.cmd("CREATE X")
    b = logged(s)
    data = crlf(mail("half")) + b"x" * 20000 + b"\r\n"
    a.send(f"a1 APPEND X {{{len(data)}+}}\r\n".encode() + data[:10000])
    time.sleep(0.2)
    _, t = b.cmd("RENAME X Y", expect=None)
    assert b"NO [INUSE]" in t, t
    a.send(data[10000:] + b"\r\n")
    _, t = a.until("a1")
    assert b"APPENDUID" in t
    b.cmd("RENAME X Y")
    assert messages(b, "Y")[0] == 1
    assert not folder(s, "X").exists()
    a.close()
    b.close()
