# SPDX-License-Identifier: ISC
"""The header cache (store/hcache.h): ENVELOPE and BODYSTRUCTURE texts
of each folder kept in <Maildir>/wren-cache.

What is checked, always through the octets a client gets:
  - answers from the cache are byte-identical to those made from the
    message (first FETCH), before and after a restart, for plain,
    multipart, 8-bit and quoted headers, and for a structure too long
    to be cached (streamed from the message every time);
  - a second run answers from the file (it does not grow);
  - a UID given to another file (dovecot-uidlist rewritten between
    runs, same UIDVALIDITY) is answered from the new file, never from
    the old record;
  - the file deleted, truncated or overwritten with garbage while the
    server runs, and between runs (cut records, garbage, another
    UIDVALIDITY, not ours at all): the answers stay right;
  - after an expunge of most of the folder, the file is compacted when
    the folder closes and holds only the messages left.

The file's layout (8-octet header, 24-octet record headers) is read
here only to count records: hcache_fmt.h describes it.
"""
import os
import random
import re
import struct
import time

import pytest

from imaplib_helpers import (ALICE, Raw, imap_server, mail, make_pki,
                             need_wren, random_message)

ITEMS = "(UID ENVELOPE BODYSTRUCTURE)"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    def make(start=True, **keys):
        return imap_server(wren, pki, start=start, **keys)
    return make


def multipart(i, nparts):
    parts = []
    for k in range(nparts):
        parts.append(f"--=_b{i}\nContent-Type: text/plain; charset=utf-8; "
                     f"name=\"part {k}.txt\"\nContent-Transfer-Encoding: "
                     f"quoted-printable\n\nPart {k} of {i}.\n")
    return (f"From: \"Quote \\\"Me\\\"\" <q{i}@remote.example>\n"
            f"To: a@example.test, \"B, C\" <bc@example.test>\n"
            f"Subject: multipart {i}\nDate: Mon, 01 Jan 2024 12:00:00 +0000\n"
            f"Message-ID: <mp{i}@remote.example>\nMIME-Version: 1.0\n"
            f"Content-Type: multipart/mixed; boundary=\"=_b{i}\"\n\n"
            + "".join(parts) + f"--=_b{i}--\n").encode()


def corpus(n):
    """n messages: mostly generated text, every 7th multipart, one with
    an 8-bit Subject, one whose structure is too long to be cached."""
    rng = random.Random(14)
    out = []
    for i in range(n):
        if i == 3:
            out.append(b"From: =?utf-8?q?J=C3=BCrgen?= <j@x.example>\n"
                       b"Subject: caf\xc3\xa9 \"quoted\" \\ back\n"
                       b"Message-ID: <8bit@x.example>\n\nBody.\n")
        elif i == 5:
            out.append(multipart(i, 120))   # BODYSTRUCTURE > 8 KB
        elif i % 7 == 0:
            out.append(multipart(i, 1 + i % 4))
        else:
            out.append(random_message(rng, i))
    return out


def cache_path(s):
    return s.maildir(ALICE) / "wren-cache"


def records(path):
    """[(uid, env_len, bs_len)] of a cache file, walked by header
    (records of sort keys only, imap_sort.c's, are left out)."""
    data = path.read_bytes()
    assert data[:4] == b"WHC2", data[:16]
    out, pos = [], 8
    while pos + 24 <= len(data):
        uid, _, _, el, bl, _, kl = struct.unpack_from("<IIIHHII", data, pos)
        if el + bl > 0:
            out.append((uid, el, bl))
        pos += 24 + el + bl + kl
    assert pos == len(data), (pos, len(data))
    return out


def answers(s, items=ITEMS, box="INBOX", raw=None):
    """{uid: whole FETCH response line} of UID FETCH 1:* items."""
    c = raw or Raw(s)
    if raw is None:
        c.login()
        c.cmd(f"EXAMINE {box}")
    got, _ = c.cmd(f"UID FETCH 1:* {items}")
    out = {}
    for r in got:
        m = re.match(rb"\* \d+ FETCH \(.*?UID (\d+)", r, re.S)
        if m:
            out[int(m.group(1))] = r
    if raw is None:
        c.cmd("LOGOUT")
    return out


def settle(s, path):
    """The folder is closed (every session logged out): its batch is on
    disk. Waits until the file stops changing."""
    last = None
    for _ in range(100):
        size = path.stat().st_size if path.exists() else -1
        if size == last and size > 8:
            return size
        last = size
        time.sleep(0.05)
    return last


def start_again(s):
    """Starts the stopped server; returns once it is listening."""
    mark = len(s.w.log())
    s.w.start(ready=None)
    s.w.wait_log("wren started", start=mark)


@pytest.fixture
def filled(srv):
    need_wren("the header cache is wren's")
    s = srv(start=False)
    msgs = corpus(40)
    for m in msgs:
        s.put(m)
    s.start()
    return s, msgs


def test_cached_answers_identical_across_restart(filled):
    s, msgs = filled
    path = cache_path(s)
    first = answers(s)                  # made from the messages
    assert len(first) == len(msgs)
    size = settle(s, path)
    recs = records(path)
    # Every message but the one with the long structure has a record
    # holding both texts; that one has its ENVELOPE only.
    assert len(recs) == len(msgs), recs
    assert sum(1 for r in recs if r[2] == 0) == 1, recs
    assert answers(s) == first          # from the file, same session
    s.restart()
    again = answers(s)                  # read from the file
    assert again == first
    # ENVELOPE alone and BODYSTRUCTURE alone: the same texts.
    env = answers(s, "(UID ENVELOPE)")
    for uid, line in env.items():
        m = re.search(rb"ENVELOPE (\(.*\))\)$", line, re.S)
        assert m and m.group(1) in first[uid], uid
    assert settle(s, path) == size, "a warm run added records"
    assert s.stop() == 0
    assert "hcache" not in s.log() and "wren-cache" not in s.log()


def test_envelope_only_then_bodystructure(filled):
    """A record with ENVELOPE only is replaced when BODYSTRUCTURE is
    asked for; the answers do not change."""
    s, msgs = filled
    path = cache_path(s)
    env = answers(s, "(UID ENVELOPE)")
    settle(s, path)
    assert all(r[2] == 0 for r in records(path))
    both = answers(s)
    for uid, line in env.items():
        assert re.search(rb"ENVELOPE (\(.*\))\)$", line,
                         re.S).group(1) in both[uid]
    settle(s, path)
    s.restart()
    assert answers(s) == both


def test_uid_given_to_another_file(filled):
    """dovecot-uidlist rewritten between runs with UIDs 1 and 2
    swapped (same UIDVALIDITY): each UID is answered from its file now,
    not from the record made for the other."""
    s, msgs = filled
    before = answers(s)
    settle(s, cache_path(s))
    assert s.stop() == 0
    ul = s.maildir(ALICE) / "dovecot-uidlist"
    lines = ul.read_bytes().split(b"\n")
    one = next(i for i, x in enumerate(lines) if x.startswith(b"1 "))
    two = next(i for i, x in enumerate(lines) if x.startswith(b"2 "))
    lines[one], lines[two] = (b"1 " + lines[two][2:], b"2 " + lines[one][2:])
    ul.write_bytes(b"\n".join(lines))
    start_again(s)
    after = answers(s)

    def body(line):
        return line.split(b"ENVELOPE", 1)[1]
    assert body(after[1]) == body(before[2])
    assert body(after[2]) == body(before[1])
    for uid in range(3, len(msgs) + 1):
        assert after[uid] == before[uid]


def damage_cases(path, size):
    """(description, function) pairs that damage the file in place."""
    def garbage_middle():
        with open(path, "r+b") as f:
            f.seek(size // 2)
            f.write(b"\x5a" * 700)

    def truncate():
        os.truncate(path, size // 3)

    def torn_tail():
        os.truncate(path, size - 5)

    def delete():
        os.unlink(path)

    def not_ours():
        path.write_bytes(b"garbage\n" * 100)

    def other_uidvalidity():
        with open(path, "r+b") as f:
            f.seek(4)
            f.write(b"\x01\x02\x03\x04")

    def lying_length():
        with open(path, "r+b") as f:
            f.seek(8 + 12)
            f.write(b"\xff\x1f")

    def version_1():
        # A file of the first version (no sort keys; 20-octet record
        # headers): not read as version 2, started again.
        data = path.read_bytes()
        path.write_bytes(b"WHC1" + data[4:])

    return [("garbage in the middle", garbage_middle),
            ("truncated to a third", truncate),
            ("a torn last record", torn_tail),
            ("deleted", delete),
            ("not a cache file", not_ours),
            ("another UIDVALIDITY", other_uidvalidity),
            ("the first record's length lies", lying_length),
            ("a version 1 file", version_1)]


def test_damaged_while_running(filled):
    """Each damage done while a session has the folder open and its
    file loaded; then new mail, whose batch goes out when the folder
    closes, into a file that changed under the server: started again,
    never written into blindly."""
    s, msgs = filled
    path = cache_path(s)
    want = answers(s)
    size = settle(s, path)
    for desc, damage in damage_cases(path, size):
        c = Raw(s)
        c.login()
        c.cmd("EXAMINE INBOX")
        assert answers(s, raw=c) == want, desc  # the file is loaded
        damage()
        assert answers(s, raw=c) == want, desc
        s.put(mail(f"after {desc}"))
        c.cmd("NOOP")
        got = answers(s, raw=c)
        assert {u: got[u] for u in want} == want, desc
        assert len(got) == len(want) + 1, desc
        want = got
        c.cmd("LOGOUT")
        size = settle(s, path)
        assert answers(s) == want, desc
        size = settle(s, path)
    s.restart()
    assert answers(s) == want
    settle(s, path)
    records(path)                           # well formed again
    assert s.stop() == 0


@pytest.mark.parametrize("case", range(8))
def test_damaged_between_runs(filled, case):
    s, msgs = filled
    path = cache_path(s)
    want = answers(s)
    size = settle(s, path)
    assert s.stop() == 0
    desc, damage = damage_cases(path, size)[case]
    damage()
    start_again(s)
    assert answers(s) == want, desc
    assert answers(s) == want, desc         # and once more, warm
    settle(s, path)
    records(path)                           # well formed again
    assert s.stop() == 0


def test_expunge_then_compaction(srv):
    need_wren("the header cache is wren's")
    s = srv(start=False)
    rng = random.Random(7)
    n = 240
    for i in range(n):
        s.put(random_message(rng, i))
    s.start()
    path = cache_path(s)
    want = answers(s)
    full = settle(s, path)
    assert len(records(path)) == n
    c = Raw(s)
    c.login()
    c.cmd("SELECT INBOX")
    c.cmd(f"UID STORE 1:{n - 40} +FLAGS.SILENT (\\Deleted)")
    c.cmd("EXPUNGE")
    c.cmd("LOGOUT")
    # The file is walked when the next FETCH opens it, and rewritten
    # when the folder closes with most of it dead.
    got = answers(s)
    for _ in range(100):
        if path.stat().st_size < full:
            break
        time.sleep(0.05)
    recs = records(path)
    assert sorted(r[0] for r in recs) == list(range(n - 39, n + 1))
    assert path.stat().st_size < full // 4
    assert not (s.maildir(ALICE) / "wren-cache.tmp").exists()
    assert answers(s) == got
    assert set(got) == set(range(n - 39, n + 1))
    for uid, line in got.items():
        # Sequence numbers moved; the rest is the same.
        assert line.split(b" FETCH ", 1)[1] == \
            want[uid].split(b" FETCH ", 1)[1]
    assert s.stop() == 0


def test_big_file_loads_in_slices(filled):
    """A cache file of 2.5 million tiny records (none for a message
    here: 50 MB to walk) is read in slices: a client asking NOOP while
    another's FETCH waits for it is answered before that FETCH is."""
    s, msgs = filled
    want = answers(s)
    settle(s, cache_path(s))
    assert s.stop() == 0
    path = cache_path(s)
    data = path.read_bytes()
    tiny = struct.pack("<IIIHHII", 4000000000, 0, 0, 1, 0, 0, 0) + b"x"
    with open(path, "ab") as f:
        block = tiny * 100000
        for _ in range(25):
            f.write(block)
    start_again(s)
    a = Raw(s)
    a.login()
    a.cmd("EXAMINE INBOX")
    b = Raw(s)
    b.login()
    a.send(f"big UID FETCH 1:* {ITEMS}\r\n")
    b.cmd("NOOP")
    # b was answered; a's FETCH is still walking the file.
    a.sock.setblocking(False)
    try:
        early = a.sock.recv(65536)
    except BlockingIOError:
        early = b""
    a.sock.setblocking(True)
    a.buf += early
    assert b"big OK" not in a.buf
    got, _ = a.until("big")
    assert len(got) == len(msgs)
    a.cmd("LOGOUT")
    b.cmd("LOGOUT")
    # Closed with all of it dead: compacted back to the live records.
    for _ in range(100):
        if path.stat().st_size <= len(data):
            break
        time.sleep(0.05)
    assert path.stat().st_size == len(data)
    assert answers(s) == want
    assert s.stop() == 0


@pytest.mark.parametrize("kind", ["directory", "hard link", "symlink"])
def test_unusable_file_is_left_alone(filled, kind):
    """A wren-cache that is a directory, a second name of another file
    or a symbolic link is neither read nor written: every FETCH is
    answered from the messages, and the other file is untouched."""
    s, msgs = filled
    path = cache_path(s)
    want = answers(s)
    settle(s, path)
    assert s.stop() == 0
    other = s.maildir(ALICE).parent / "precious"
    other.write_bytes(b"keep me\n" * 10)
    path.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "hard link":
        os.link(other, path)
    else:
        path.symlink_to(other)
    start_again(s)
    assert answers(s) == want
    assert answers(s) == want
    assert other.read_bytes() == b"keep me\n" * 10
    assert s.stop() == 0
