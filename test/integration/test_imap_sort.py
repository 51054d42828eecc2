# SPDX-License-Identifier: ISC
"""SORT, THREAD, ESORT and ESEARCH (RFC 5256, 5957, 5267, 4731) against
the real binary: exact answers on a crafted folder, the same answers as
Dovecot on the same Maildir, the errors, and a large SORT and THREAD
that leave another client served while they run."""
import calendar
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import SLOW, dovecot_available, free_port
from imaplib_helpers import (ALICE, Raw, ReferenceDovecot, login, mail,
                             status)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from imaplib_helpers import make_pki
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    """srv(**keys) -> a started IMAPServer; the tests skip on a build
    without SORT (Kconfig IMAP_SORT off, as board/minimal)."""
    from imaplib_helpers import imap_server

    def make(**keys):
        s = imap_server(wren, pki, **keys)
        r = Raw(s)
        if b" SORT " not in r.greeting:
            pytest.skip("built without IMAP_SORT")
        r.sock.close()
        return s
    return make


def day(d, h=12):
    return calendar.timegm((2024, 1, d, h, 0, 0))


def msg(subject, sender, date, mid, body="x\n", to="alice@example.test",
        headers=()):
    data = mail(subject or "", body, sender=sender, to=to,
                date=date or "Mon, 01 Jan 2024 12:00:00 +0000",
                headers=list(headers))
    # mail() always writes a Date and a Message-ID: replace or drop.
    data = re.sub(rb"Message-ID: .*\n",
                  b"" if mid is None else f"Message-ID: {mid}\n".encode(),
                  data)
    if date is None:
        data = re.sub(rb"Date: .*\n", b"", data)
    if subject is None:
        data = re.sub(rb"Subject: .*\n", b"", data)
    return data


# (message, INTERNALDATE): seq n is row n.
CORPUS = [
    (msg("Re: Lunch plans", "Bob <bob@b.example>",
         "Wed, 03 Jan 2024 09:00:00 +0000", "<m1@x>",
         headers=[("References", "<m0@x>"), ("Cc", "zoe@z.example")]),
     day(10)),
    (msg("Lunch plans", "alice@a.example",
         "Tue, 02 Jan 2024 09:00:00 +0000", "<m0@x>", body="x" * 300 + "\n"),
     day(9)),
    (msg("[list] Fwd: Report (fwd)", '"Zed, Z." <zed@z.example>',
         "Fri, 05 Jan 2024 09:00:00 +0100", "<m3@x>", to="bob@example.test",
         headers=[("Cc", "Amy <amy@a.example>")]),
     day(8)),
    (msg("report", "=?UTF-8?Q?=C3=89mile?= <emile@e.example>",
         "Mon, 01 Jan 2024 09:00:00 -0500", "<m4@x>", body="y" * 50 + "\n",
         to="Carl <carl@example.test>"),
     day(7)),
    (msg("Re: Re: lunch plans", "carol@c.example",
         "Thu, 04 Jan 2024 09:00:00 +0000", "<m5@x>",
         headers=[("In-Reply-To", "<m1@x>")]),
     day(6)),
    (msg(None, "", None, "<m6@x>"), day(5)),
    (msg("[fwd: Budget]", "dave@d.example",
         "Sat, 06 Jan 2024 09:00:00 +0000", "<m7@x>",
         headers=[("References", "<m4@x>")]),
     day(4)),
    (msg("Budget", "Erin <erin@e.example>", "Sun, 07 Jan 2024 09:00:00 +0000",
         "<m8@x>", body="z" * 700 + "\n",
         headers=[("References", "<m7@x> <mX@x>")]),
     day(3)),
    (msg("RE:  [list]   budget", "frank@f.example",
         "Mon, 08 Jan 2024 09:00:00 +0000", "<m0@x>", to="dan@example.test"),
     day(2)),
    (msg("Lunch plans", "Greg <greg@g.example>",
         "Tue, 02 Jan 2024 09:00:00 +0000", "<m10@x>"),
     day(1)),
    (msg("[a][b] x", "Hal <hal@h.example>", "bad date", None,
         headers=[("References", "<m10@x> <m6@x>")]),
     day(11)),
    (msg("Re: [fwd: Fw: Budget]", "ivy@i.example",
         "Tue, 09 Jan 2024 09:00:00 +0000", "<m12@x>",
         headers=[("References", "<m12@x>")]),
     day(12)),
]

# Dovecot 2.3 gives the same on this folder (test_sort_thread_as_dovecot).
SORTS = {
    "SUBJECT": "6 7 8 9 12 1 2 5 10 3 4 11",
    "REVERSE SUBJECT": "11 3 4 1 2 5 10 7 8 9 12 6",
    "FROM": "6 2 1 5 7 4 8 9 10 11 12 3",
    "TO": "1 2 5 6 7 8 10 11 12 3 4 9",
    "CC": "2 4 5 6 7 8 9 10 11 12 3 1",
    "DATE": "4 2 10 1 5 3 6 7 8 9 12 11",
    "REVERSE DATE": "11 12 9 8 7 6 3 5 1 2 10 4",
    "ARRIVAL": "10 9 8 7 6 5 4 3 2 1 11 12",
    "SIZE": "6 11 9 10 7 5 12 3 1 4 2 8",
    "REVERSE SIZE": "8 2 4 1 3 12 5 7 9 10 11 6",
    "SUBJECT REVERSE DATE": "6 12 9 8 7 5 1 2 10 3 4 11",
    "DISPLAYFROM": "6 2 1 5 7 8 4 9 10 11 12 3",
    "DISPLAYTO": "1 2 5 6 7 8 10 11 12 3 4 9",
}
THREADS = {
    "ORDEREDSUBJECT": "(4 3)(2 (10)(1)(5))(6)(7 (8)(9)(12))(11)",
    "REFERENCES": "(4 (3)(7 8))((2 1 5)(10 6 11))((9)(12))",
}


def corpus(s):
    for data, mtime in CORPUS:
        s.put(data, mtime=mtime)
    return s.maildir()


def answer(r, text, name):
    got, _ = r.cmd(text)
    lines = [g for g in got if g.startswith(b"* " + name.encode())]
    assert len(lines) == 1, got
    return lines[0][len(name) + 3:].decode()


@pytest.fixture
def dovecot_copy(pki):
    """dovecot_copy(maildir) -> a Raw-compatible port of a private
    Dovecot serving a copy of that Maildir as alice's INBOX."""
    made = []

    def make(mdir):
        root = Path(tempfile.mkdtemp(prefix="wren-sortref-", dir="/tmp"))
        os.chmod(root, 0o755)

        class Where:
            pass
        w = Where()
        w.imap, w.imaps, w.pki, w.mail_root = free_port(), free_port(), \
            Path(pki), root
        w.home = lambda u: root / u.split("@")[1] / u.split("@")[0]
        dst = w.home(ALICE) / "Maildir"
        shutil.copytree(mdir, dst, ignore=shutil.ignore_patterns(
            "dovecot*", "wren*"))
        ref = ReferenceDovecot(w)
        ref.start()
        made.append(ref)
        return w

    yield make
    for ref in made:
        ref.stop()


def esearch(r, text, expect="OK"):
    """The ESEARCH line of a command, its tag replaced by T."""
    got, _ = r.cmd(text, expect)
    lines = [g.decode() for g in got if g.startswith(b"* ESEARCH")]
    assert len(lines) == 1, got
    return lines[0].replace(f'"r{r.n}"', '"T"')


def test_sort_thread_exact(srv):
    s = srv()
    corpus(s)
    r = Raw(s)
    r.login()
    caps = r.cmd("CAPABILITY")[0][0].decode().split()
    for c in ("ESEARCH", "SORT", "SORT=DISPLAY", "ESORT",
              "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"):
        assert c in caps
    r.cmd("SELECT INBOX")
    for crit, want in SORTS.items():
        assert answer(r, f"SORT ({crit}) UTF-8 ALL", "SORT") == want, crit
    for alg, want in THREADS.items():
        assert answer(r, f"THREAD {alg} US-ASCII ALL", "THREAD") == want
    # A program narrows: the same order, fewer messages.
    hits = answer(r, "SEARCH FROM example 1:9", "SEARCH").split()
    assert hits == "1 2 3 4 5 7 8 9".split()
    assert answer(r, "SORT (SUBJECT) US-ASCII FROM example 1:9",
                  "SORT").split() == [
        x for x in SORTS["SUBJECT"].split() if x in hits]
    assert answer(r, "THREAD ORDEREDSUBJECT UTF-8 1:3", "THREAD") == \
        "(2 1)(3)"
    assert answer(r, "SORT (SIZE) UTF-8 SUBJECT nothing-has-this",
                  "SORT") == ""
    assert answer(r, "THREAD REFERENCES UTF-8 SUBJECT nothing",
                  "THREAD") == ""
    # UID SORT and UID THREAD answer UIDs: with message 1 expunged,
    # sequence n is UID n + 1.
    r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
    date = [x for x in SORTS["DATE"].split() if x != "1"]
    assert answer(r, "UID SORT (DATE) UTF-8 ALL", "SORT").split() == date
    assert answer(r, "SORT (DATE) UTF-8 ALL", "SORT").split() == [
        str(int(x) - 1) for x in date]
    assert answer(r, "UID THREAD REFERENCES UTF-8 UID 2:5",
                  "THREAD") == "(4 3)(2 5)"
    assert answer(r, "THREAD REFERENCES UTF-8 1:4", "THREAD") == \
        "(3 2)(1 4)"


def test_imaplib_sort_thread(srv):
    s = srv()
    corpus(s)
    M = login(s, select="INBOX")
    typ, data = M.sort("(REVERSE DATE)", "UTF-8", "ALL")
    assert typ == "OK" and data[0].decode() == SORTS["REVERSE DATE"]
    typ, data = M.uid("SORT", "(SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and data[0].decode() == SORTS["SUBJECT"]
    typ, data = M.thread("REFERENCES", "UTF-8", "ALL")
    assert typ == "OK" and data[0].decode() == THREADS["REFERENCES"]
    typ, data = M.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK" and data[0].decode() == THREADS["ORDEREDSUBJECT"]
    M.logout()


def test_esearch_esort(srv):
    s = srv()
    corpus(s)
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    cases = [
        ("SEARCH RETURN (MIN MAX COUNT ALL) 2:5,7,9:12",
         '* ESEARCH (TAG "T") ALL 2:5,7,9:12 MIN 2 MAX 12 COUNT 9'),
        ("SEARCH RETURN (ALL) 12,1,3:2", '* ESEARCH (TAG "T") ALL 1:3,12'),
        ("UID SEARCH RETURN () ALL", '* ESEARCH (TAG "T") UID ALL 1:12'),
        ("SEARCH RETURN (COUNT) SUBJECT nothing",
         '* ESEARCH (TAG "T") COUNT 0'),
        ("SEARCH RETURN (MIN MAX ALL) SUBJECT nothing",
         '* ESEARCH (TAG "T")'),
        ("SEARCH RETURN (MAX) CHARSET UTF-8 SUBJECT lunch",
         '* ESEARCH (TAG "T") MAX 10'),
        ("SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL",
         '* ESEARCH (TAG "T") MIN 4 MAX 11 COUNT 12 '
         'ALL 4,2,10,1,5,3,6:9,12,11'),
        ("UID SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL",
         '* ESEARCH (TAG "T") UID ALL 12,11,1:10'),
        ("SORT RETURN (COUNT) (SUBJECT) UTF-8 SUBJECT nothing",
         '* ESEARCH (TAG "T") COUNT 0'),
        ("SORT RETURN () (SIZE) UTF-8 1:3", '* ESEARCH (TAG "T") ALL 3,1:2'),
    ]
    for cmd, want in cases:
        assert esearch(r, cmd) == want, cmd
    # imaplib passes it through as an untagged ESEARCH.
    M = login(s, select="INBOX")
    typ, _ = M._simple_command("SEARCH", "RETURN", "(COUNT)", "ALL")
    assert typ == "OK"
    assert M.untagged_responses["ESEARCH"][0].endswith(b"COUNT 12")
    M.logout()


def test_sort_thread_errors(srv):
    s = srv()
    corpus(s)
    r = Raw(s)
    r.login()
    assert r.cmd("SORT (SUBJECT) UTF-8 ALL", None)[1].split()[1] in (
        b"BAD", b"NO")      # no folder selected
    r.cmd("SELECT INBOX")
    bad = [
        "SORT () UTF-8 ALL",
        "SORT (BOGUS) UTF-8 ALL",
        "SORT (SUBJECT REVERSE) UTF-8 ALL",
        "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
        "SORT SUBJECT UTF-8 ALL",
        "SORT (SUBJECT)",
        "SORT (SUBJECT) UTF-8",
        "SORT (SUBJECT) UTF-8 BOGUSKEY",
        "SORT ((SUBJECT)) UTF-8 ALL",
        "SORT (" + "DATE " * 8 + ") UTF-8 ALL",
        "SORT RETURN (SAVE) (DATE) UTF-8 ALL",
        "SORT RETURN MIN (DATE) UTF-8 ALL",
        "THREAD BOGUS UTF-8 ALL",
        "THREAD REFERENCES UTF-8",
        "THREAD (REFERENCES) UTF-8 ALL",
        "SEARCH RETURN (MIN",
        "SEARCH RETURN ALL",
        "SEARCH RETURN (BOGUS) ALL",
        "SEARCH RETURN (MIN)",
    ]
    for cmd in bad:
        r.cmd(cmd, "BAD")
    for cmd in ("SORT (SUBJECT) KOI8-R ALL", "THREAD REFERENCES X ALL"):
        _, tagged = r.cmd(cmd, "NO")
        assert b"[BADCHARSET" in tagged
    # The session goes on, and so does the arena.
    assert answer(r, "SORT (ARRIVAL) UTF-8 ALL", "SORT") == SORTS["ARRIVAL"]


@pytest.mark.skipif(not dovecot_available(), reason="no Dovecot")
def test_sort_thread_as_dovecot(srv, dovecot_copy):
    s = srv()
    mdir = corpus(s)
    d = dovecot_copy(mdir)
    ours, theirs = Raw(s), Raw(d, port=d.imap)
    for r in (ours, theirs):
        r.login()
        r.cmd("SELECT INBOX")
    diff = []
    for crit in SORTS:
        a = answer(ours, f"SORT ({crit}) UTF-8 ALL", "SORT")
        b = answer(theirs, f"SORT ({crit}) UTF-8 ALL", "SORT")
        if a != b:
            diff.append((crit, a, b))
    for alg in ("ORDEREDSUBJECT", "REFERENCES"):
        a = answer(ours, f"THREAD {alg} UTF-8 ALL", "THREAD")
        b = answer(theirs, f"THREAD {alg} UTF-8 ALL", "THREAD")
        if a != b:
            diff.append((alg, a, b))
    assert diff == []
def pending(r, tag):
    """Reads what r's socket has now, without waiting: 1 when the
    tagged reply of tag is in."""
    import select
    while select.select([r.sock], [], [], 0)[0]:
        chunk = r.sock.recv(1 << 20)
        if not chunk:
            break
        r.buf += chunk
    return f"\r\n{tag} ".encode() in b"\r\n" + r.buf


def test_large_sort_and_thread_leave_others_served(srv):
    """A SORT and a THREAD of a large folder run in slices: another
    session is answered while both are still working, they wait for
    each other's arena without harm, and both answers are whole."""
    n = 20000 if SLOW == 1 else 3000
    s = srv()
    mdir = s.maildir()
    perm = [(i * 7919) % n for i in range(n)]
    for i in range(n):
        refs = f"References: <{(i - 1) // 2}@big>\n" if i else ""
        data = (f"From: u{i % 97}@example.org\nTo: alice@example.test\n"
                f"Subject: Re: item {perm[i]:06d}\n"
                f"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
                f"Message-ID: <{i}@big>\n{refs}\nbody {i}\n").encode()
        name = f"{1600000000 + i}.M{i}P1.big,S={len(data)}:2,"
        (mdir / "cur" / name).write_bytes(data)
    other = Raw(s)
    other.login()
    other.cmd("SELECT INBOX")       # the index is built here
    a, c = Raw(s), Raw(s)
    for r in (a, c):
        r.login()
        r.cmd("EXAMINE INBOX")
    # A client that leaves in the middle lets go of the arena.
    gone = Raw(s)
    gone.login()
    gone.cmd("EXAMINE INBOX")
    gone.send("g1 THREAD REFERENCES UTF-8 ALL\r\n")
    gone.sock.close()
    a.send("a1 SORT (SUBJECT) UTF-8 ALL\r\n")
    c.send("c1 THREAD REFERENCES UTF-8 ALL\r\n")
    served = 0
    for _ in range(3):
        other.cmd("NOOP")
        other.cmd("FETCH 1 (FLAGS)")
        if pending(a, "a1") or pending(c, "c1"):
            break
        served += 1
    assert served >= 1, "another session waited for the whole SORT"
    got, tagged = a.until("a1")
    assert tagged.startswith(b"a1 OK")
    order = [int(x) for x in got[-1].split()[2:]]
    assert order == sorted(range(1, n + 1), key=lambda q: perm[q - 1])
    got, tagged = c.until("c1")
    assert tagged.startswith(b"c1 OK")
    nums = [int(x) for x in re.findall(rb"\d+", got[-1])]
    assert sorted(nums) == list(range(1, n + 1))
    assert got[-1].startswith(b"* THREAD ((1 ") or \
        got[-1].startswith(b"* THREAD (1 ")


def fetched(got):
    return [int(g.split()[1]) for g in got if b" FETCH " in g]


def test_searchres(srv):
    """RFC 5182: SEARCH RETURN (SAVE) and $ in later commands."""
    s = srv()
    corpus(s)
    r = Raw(s)
    r.login()
    assert b"SEARCHRES" in r.cmd("CAPABILITY")[0][0]
    r.cmd("SELECT INBOX")
    lunch = "1 2 5 10"
    # SAVE alone answers nothing but the tagged OK.
    got, _ = r.cmd("SEARCH RETURN (SAVE) SUBJECT lunch")
    assert got == []
    assert fetched(r.cmd("FETCH $ (FLAGS)")[0]) == [1, 2, 5, 10]
    assert fetched(r.cmd("UID FETCH $ (FLAGS)")[0]) == [1, 2, 5, 10]
    assert answer(r, "SEARCH $", "SEARCH") == lunch
    assert answer(r, "UID SEARCH $", "SEARCH") == lunch
    assert answer(r, "SEARCH UID $ NOT 2", "SEARCH") == "1 5 10"
    assert answer(r, "SEARCH OR $ 3", "SEARCH") == "1 2 3 5 10"
    assert answer(r, "SORT (DATE) UTF-8 $", "SORT") == "2 10 1 5"
    assert answer(r, "THREAD ORDEREDSUBJECT UTF-8 $", "THREAD") == \
        "(2 (10)(1)(5))"
    r.cmd("STORE $ +FLAGS.SILENT (\\Flagged)")
    assert answer(r, "SEARCH FLAGGED", "SEARCH") == lunch
    r.cmd("CREATE Kept")
    r.cmd("COPY $ Kept")
    assert b"MESSAGES 4" in r.cmd("STATUS Kept (MESSAGES)")[0][0]
    # With MIN and MAX alone, only those are saved; with ALL, all.
    assert esearch(r, "SEARCH RETURN (SAVE MIN MAX) SUBJECT lunch") == \
        '* ESEARCH (TAG "T") MIN 1 MAX 10'
    assert answer(r, "SEARCH $", "SEARCH") == "1 10"
    assert esearch(r, "UID SEARCH RETURN (SAVE MIN) SUBJECT lunch") == \
        '* ESEARCH (TAG "T") UID MIN 1'
    assert answer(r, "SEARCH $", "SEARCH") == "1"
    assert esearch(r, "SEARCH RETURN (SAVE COUNT) 3:4") == \
        '* ESEARCH (TAG "T") COUNT 2'
    assert answer(r, "SEARCH $", "SEARCH") == "3 4"
    # $ in the search that saves is refused; a failed search empties $.
    r.cmd("SEARCH RETURN (SAVE) $", "BAD")
    assert answer(r, "SEARCH $", "SEARCH") == ""
    r.cmd("SEARCH RETURN (SAVE) 3:4")
    r.cmd("SEARCH RETURN (SAVE) BOGUS", "BAD")
    assert answer(r, "SEARCH $", "SEARCH") == ""
    assert fetched(r.cmd("FETCH $ (FLAGS)")[0]) == []
    r.cmd("SEARCH RETURN (SAVE) SUBJECT nothing")
    assert fetched(r.cmd("FETCH $ FLAGS")[0]) == []
    # Expunged messages leave $; SELECT forgets it.
    r.cmd("SEARCH RETURN (SAVE) SUBJECT lunch")
    r.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
    assert answer(r, "SEARCH $", "SEARCH") == "1 4 9"
    r.cmd("UID EXPUNGE $")
    r.cmd("SELECT INBOX")
    assert answer(r, "SEARCH $", "SEARCH") == ""


def test_searchres_too_large(srv):
    """A result whose UID set does not fit IMAP_SEARCHRES_MAX is not
    saved: NO [LIMIT], and $ is empty."""
    s = srv()
    mdir = s.maildir()
    for i in range(1200):
        data = f"Subject: m{i}\n\nx\n".encode()
        (mdir / "cur" / f"{1600000000 + i}.M{i}P1.h:2,").write_bytes(data)
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    odd = ",".join(str(i) for i in range(1, 1201, 2))
    _, tagged = r.cmd(f"SEARCH RETURN (SAVE) {odd}", "NO")
    assert b"[LIMIT]" in tagged
    assert answer(r, "SEARCH $", "SEARCH") == ""
    r.cmd("SEARCH RETURN (SAVE) 1:1200")
    assert answer(r, "SEARCH RETURN (COUNT) $", "ESEARCH").endswith(
        "COUNT 1200")


LONG = "Quarterly report of the northern region office, "     # 49 octets


def test_sort_long_equal_prefixes(srv, request):
    """Texts equal past the key's prefix are still told apart (keys
    refined), in SUBJECT, FROM and DISPLAYFROM, alone and combined;
    the same as Dovecot when there is one."""
    s = srv()
    tails = ["zeta", "alpha", "", "alpha beta", "ALPHA", "Alpha (fwd)",
             "a" * 3000 + "y", "a" * 3000 + "x", "m" * 40, "m" * 39]
    # Display names: no comma (the email package drops the quotes),
    # and shorter than SORTKEY_PHRASE_MAX.
    name = LONG.replace(",", "")
    names = [t[:300] + t[-1:] if len(t) > 300 else t for t in tails]
    rows = []
    for i, t in enumerate(tails):
        subj = ("Re: " if i % 3 == 0 else "") + LONG + t
        who = f'"{name}{names[-1 - i]}" <{LONG.split()[0].lower()}' \
              f'{"x" * 30}{i % 4}@example.org>'
        rows.append((msg(subj, who, "Mon, 01 Jan 2024 12:00:00 +0000",
                         f"<l{i}@x>"), day(1 + i)))
    for data, mtime in rows:
        s.put(data, mtime=mtime)
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")

    def base(t):
        t = t.upper().removesuffix(" (FWD)")
        return t
    seqs = range(1, len(tails) + 1)
    want = sorted(seqs, key=lambda q: (base(LONG + tails[q - 1]), q))
    assert answer(r, "SORT (SUBJECT) UTF-8 ALL", "SORT") == \
        " ".join(map(str, want))
    want = sorted(seqs, key=lambda q: ((name + names[-q]).upper(), q))
    assert answer(r, "SORT (DISPLAYFROM) UTF-8 ALL", "SORT") == \
        " ".join(map(str, want))
    rev = answer(r, "SORT (REVERSE SUBJECT) UTF-8 ALL", "SORT").split()
    fwd = sorted(seqs, key=lambda q: (base(LONG + tails[q - 1]), -q))
    assert rev == [str(q) for q in reversed(fwd)]
    combo = answer(r, "SORT (FROM SUBJECT) UTF-8 ALL", "SORT")
    want = sorted(seqs, key=lambda q: (
        (LONG.split()[0] + "x" * 30 + str((q - 1) % 4)).upper(),
        base(LONG + tails[q - 1]), q))
    assert combo == " ".join(map(str, want))
    if dovecot_available():
        d = request.getfixturevalue("dovecot_copy")(s.maildir())
        theirs = Raw(d, port=d.imap)
        theirs.login()
        theirs.cmd("SELECT INBOX")
        for crit in ("SUBJECT", "DISPLAYFROM", "REVERSE SUBJECT",
                     "FROM SUBJECT"):
            assert answer(theirs, f"SORT ({crit}) UTF-8 ALL", "SORT") == \
                answer(r, f"SORT ({crit}) UTF-8 ALL", "SORT"), crit


def key_records(path):
    """The UIDs of the sort keys records in a header cache file
    (store/hcache_fmt.h: 24-octet record headers, sk_len last)."""
    import struct
    data = path.read_bytes()
    assert data[:4] == b"WHC2", data[:16]
    uids, pos = set(), 8
    while pos + 24 <= len(data):
        uid, _, _, el, bl, _, kl = struct.unpack_from("<IIIHHII", data, pos)
        if kl > 0:
            uids.add(uid)
        pos += 24 + el + bl + kl
    assert pos == len(data)
    return uids


def all_answers(r):
    out = {}
    for crit in SORTS:
        for uid in ("", "UID "):
            out[uid + crit] = answer(r, f"{uid}SORT ({crit}) UTF-8 ALL",
                                     "SORT")
    for alg in THREADS:
        for uid in ("", "UID "):
            out[uid + alg] = answer(r, f"{uid}THREAD {alg} UTF-8 ALL",
                                    "THREAD")
    return out


def more_mail(s, n, seed):
    """n messages of a few threads, subjects and senders, with
    References, In-Reply-To and Cc, distinct INTERNALDATEs."""
    import random
    rng = random.Random(seed)
    subjects = ["Lunch plans", "Budget", "[list] Report", "Trip",
                "=?UTF-8?Q?=C3=89t=C3=A9?= notes"]
    for i in range(n):
        subj = rng.choice(["", "Re: ", "Fwd: ", "RE: Re: "]) + \
            rng.choice(subjects)
        hdrs = [("Cc", f"c{rng.randrange(5)}@c.example")]
        if i > 0 and rng.random() < 0.6:
            parent = rng.randrange(i)
            hdrs.append(("References", f"<s{seed}-{parent}@x>"))
            hdrs.append(("In-Reply-To", f"<s{seed}-{parent}@x>"))
        date = (f"{['Mon', 'Tue', 'Wed'][i % 3]}, "
                f"{1 + rng.randrange(28):02d} Feb 2024 "
                f"{rng.randrange(24):02d}:00:00 +0000")
        s.put(msg(subj, f"U{rng.randrange(7)} <u{rng.randrange(7)}@"
                  f"u.example>", date, f"<s{seed}-{i}@x>",
                  body="b" * rng.randrange(1, 900) + "\n",
                  to=f"t{rng.randrange(4)}@example.test", headers=hdrs),
              mtime=day(13, 0) + seed * 1000 + i)


def test_sort_keys_cached_equal_uncached(srv):
    """SORT and THREAD keys kept in the header cache (wren-cache) give
    the same answers as keys read from the messages: read back from
    the file after a restart, and after flag changes (files renamed),
    expunges and new mail, compared with a server whose cache file was
    removed."""
    s = srv()
    corpus(s)
    more_mail(s, 40, 1)
    path = s.maildir() / "wren-cache"
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    first = all_answers(r)              # keys read from the files
    assert first["SUBJECT"] != first["DATE"]
    r.cmd("LOGOUT")
    s.restart()                         # the batch is on disk
    # No file: built without the cache (Kconfig IMAP_HCACHE off, as
    # board/minimal); the answers must still agree.
    if path.exists():
        assert len(key_records(path)) == len(CORPUS) + 40
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    assert all_answers(r) == first      # keys read from the cache
    # Flag changes rename files; expunges; new mail.
    r.cmd("STORE 2:9 +FLAGS.SILENT (\\Seen \\Flagged)")
    r.cmd("STORE 11,20:23 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
    r.cmd("STORE 1,30 -FLAGS.SILENT (\\Seen)")
    more_mail(s, 15, 2)
    r.cmd("NOOP")
    cached = all_answers(r)
    r.cmd("LOGOUT")
    s.restart()
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    assert all_answers(r) == cached     # cache after the changes, read back
    r.cmd("LOGOUT")
    assert s.stop() == 0
    if path.exists():
        path.unlink()
    mark = len(s.w.log())
    s.w.start(ready=None)
    s.w.wait_log("wren started", start=mark)
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    uncached = all_answers(r)
    assert uncached == cached
    assert len(uncached["DATE"].split()) == len(CORPUS) + 40 - 5 + 15
