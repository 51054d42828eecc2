# SPDX-License-Identifier: ISC
"""CONDSTORE and QRESYNC (RFC 7162) against the real binary, with
imaplib's raw commands: CAPABILITY, ENABLE, SELECT (CONDSTORE) and
(QRESYNC ...) with VANISHED (EARLIER), FETCH MODSEQ and CHANGEDSINCE
(VANISHED), STORE UNCHANGEDSINCE and [MODIFIED], STATUS HIGHESTMODSEQ,
VANISHED instead of EXPUNGE, expunges by another session and by another
process, and the persistence of modseqs in wren-modseq across a
restart and after the file is deleted."""
import os
import re
import shutil
import socket

import pytest

from imaplib_helpers import imap_server, login, mail, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    s = imap_server(wren, pki)
    for i in range(1, 6):
        s.put(mail(f"message {i}"))
    yield s
    s.stop()


def raw(M, cmd):
    """Runs one raw command; returns (status line, untagged lines)."""
    tag = M._new_tag().decode()
    M.send(f"{tag} {cmd}\r\n".encode())
    lines = []
    while True:
        line = M._get_line().decode()
        if line.startswith(tag + " "):
            return line, lines
        lines.append(line)


def highest(lines):
    for line in lines:
        m = re.search(r"HIGHESTMODSEQ (\d+)", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {lines}")


def modseqs(lines):
    """{uid: modseq} of the FETCH lines."""
    out = {}
    for line in lines:
        m = re.search(r"UID (\d+).*MODSEQ \((\d+)\)", line)
        if m and "FETCH" in line:
            out[int(m.group(1))] = int(m.group(2))
    return out


def vanished(lines):
    return [ln for ln in lines if ln.startswith("* VANISHED")]


def start_again(srv):
    mark = len(srv.w.log())
    srv.w.start(ready=None)
    srv.w.wait_log("wren started", start=mark)


def qresync_login(srv):
    M = login(srv)
    st, _ = raw(M, "ENABLE QRESYNC")
    assert st.split()[1] == "OK"
    return M


def test_capability_enable(srv):
    M = login(srv)
    st, lines = raw(M, "CAPABILITY")
    assert "CONDSTORE" in lines[0] and "QRESYNC" in lines[0]
    st, lines = raw(M, "ENABLE CONDSTORE QRESYNC")
    assert "OK" in st
    assert lines == ["* ENABLED CONDSTORE QRESYNC"]
    M.logout()


def test_select_condstore_fetch_store(srv):
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    assert "OK" in st
    h0 = highest(lines)
    assert h0 > 0
    st, lines = raw(M, "UID FETCH 1:* (MODSEQ)")
    ms = modseqs(lines)
    assert len(ms) == 5 and max(ms.values()) <= h0
    # a flag change raises the message's modseq above HIGHESTMODSEQ
    st, lines = raw(M, "UID STORE 2 +FLAGS (\\Seen)")
    assert "OK" in st
    m2 = modseqs(lines)[2]
    assert m2 > h0
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})")
    assert list(modseqs(lines)) == [2], lines
    # conditional STORE: 2 changed since h0, 3 did not
    st, lines = raw(M, f"UID STORE 2:3 (UNCHANGEDSINCE {h0}) "
                       "+FLAGS (\\Flagged)")
    assert "[MODIFIED 2]" in st
    assert list(modseqs(lines)) == [3]
    st, lines = raw(M, "STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
    assert highest(lines) == max(modseqs(raw(M, "UID FETCH 1:* (MODSEQ)")
                                         [1]).values())
    # bad modifiers
    st, _ = raw(M, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE x)")
    assert st.split()[1] == "BAD"
    st, _ = raw(M, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert st.split()[1] == "BAD"       # QRESYNC not enabled
    M.logout()


def test_qresync_other_session_and_process(srv):
    A = qresync_login(srv)
    st, lines = raw(A, "SELECT INBOX")
    h0 = highest(lines)
    uv = int(re.search(r"UIDVALIDITY (\d+)",
                       " ".join(lines)).group(1))
    A.logout()
    # another session expunges 2 and flags 4
    B = login(srv, select="INBOX")
    raw(B, "UID STORE 2 +FLAGS (\\Deleted)")
    raw(B, "UID STORE 4 +FLAGS (\\Answered)")
    st, lines = raw(B, "EXPUNGE")
    assert any("EXPUNGE" in ln for ln in lines)
    B.logout()
    # another process removes 5 behind the server's back
    cur = srv.maildir() / "cur"
    victim = [p for p in cur.iterdir() if p.is_file()]
    victim.sort()
    A = qresync_login(srv)
    st, lines = raw(A, "SELECT INBOX")
    uid5 = 5
    # find message 5's file: the last by name (delivery order)
    victim[-1].unlink()
    st, lines = raw(A, "NOOP")
    assert "* VANISHED 5" in lines, lines   # not EXPUNGE under QRESYNC
    A.logout()
    A = qresync_login(srv)
    st, lines = raw(A, f"SELECT INBOX (QRESYNC ({uv} {h0}))")
    assert "OK" in st
    v = vanished(lines)
    assert v and v[0].startswith("* VANISHED (EARLIER)")
    gone = v[0].split()[-1]
    assert "2" in re.split("[,:]", gone) and str(uid5) in gone.replace(
        ":", ",").split(",") or "2:" in gone or ":5" in gone
    assert set(modseqs(lines)) == {4}
    # UID FETCH ... (CHANGEDSINCE VANISHED)
    st, lines = raw(A, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} "
                       "VANISHED)")
    assert vanished(lines) and set(modseqs(lines)) == {4}
    # known-uids limits VANISHED
    st, lines = raw(A, "UNSELECT")
    st, lines = raw(A, f"SELECT INBOX (QRESYNC ({uv} {h0} 1,3:4))")
    assert vanished(lines) == []
    # a wrong UIDVALIDITY: a plain SELECT
    st, lines = raw(A, f"SELECT INBOX (QRESYNC ({uv + 1} {h0}))")
    assert "OK" in st and vanished(lines) == [] and modseqs(lines) == {}
    A.logout()


def test_restart_only_later_changes(srv):
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    raw(M, "UID STORE 1 +FLAGS (\\Seen)")
    st, lines = raw(M, "STATUS INBOX (HIGHESTMODSEQ)")
    st, lines = raw(M, "NOOP")
    h = highest(raw(M, "SELECT INBOX (CONDSTORE)")[1])
    M.logout()
    srv.restart()
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    assert highest(lines) == h          # nothing changed: same value
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})")
    assert modseqs(lines) == {}
    raw(M, "UID STORE 3 +FLAGS (\\Flagged)")
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})")
    assert list(modseqs(lines)) == [3]
    M.logout()
    srv.restart()
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})")
    assert list(modseqs(lines)) == [3]
    M.logout()
    text = (srv.maildir() / "wren-modseq").read_text()
    assert text.startswith("wren-modseq 1 ") and text.endswith("\n")
    assert text.splitlines()[-1].startswith("E ")


def test_changed_while_stopped_and_file_deleted(srv):
    M = login(srv)
    h = highest(raw(M, "SELECT INBOX (CONDSTORE)")[1])
    M.logout()
    assert srv.stop() == 0
    # a flag change behind wren's back while it is away (as Dovecot
    # or mv would do): the file name gains S
    cur = srv.maildir() / "cur"
    f = sorted(p for p in cur.iterdir() if ":2," in p.name)[0]
    f.rename(f.with_name(f.name + "S"))
    start_again(srv)
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    h1 = highest(lines)
    assert h1 > h
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})")
    assert len(modseqs(lines)) == 1
    M.logout()
    # the file lost: a new sequence, above the old one
    assert srv.stop() == 0
    (srv.maildir() / "wren-modseq").unlink()
    start_again(srv)
    M = qresync_login(srv)
    st, lines = raw(M, "SELECT INBOX")
    assert highest(lines) > h1
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h1})")
    assert len(modseqs(lines)) == 5     # everything, to be safe
    M.logout()


def test_crash_keeps_going_up(srv):
    M = login(srv)
    raw(M, "SELECT INBOX (CONDSTORE)")
    raw(M, "UID STORE 1 +FLAGS (\\Seen)")
    h = highest(raw(M, "STATUS INBOX (HIGHESTMODSEQ)")[1])
    srv.w.send(9)       # SIGKILL: the batch is lost
    srv.w.wait()
    start_again(srv)
    M = login(srv)
    st, lines = raw(M, "SELECT INBOX (CONDSTORE)")
    assert highest(lines) > h
    st, lines = raw(M, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})")
    assert len(modseqs(lines)) == 5
    M.logout()


def test_search_modseq_idle_expunge_move(srv):
    A = qresync_login(srv)
    st, lines = raw(A, "SELECT INBOX")
    h0 = highest(lines)
    raw(A, "UID STORE 3 +FLAGS (\\Flagged)")
    st, lines = raw(A, f"UID SEARCH MODSEQ {h0 + 1}")
    assert lines == [f"* SEARCH 3 (MODSEQ {h0 + 1})"], lines
    st, lines = raw(A, f'SEARCH MODSEQ "/flags/\\\\flagged" all {h0 + 1}')
    assert lines == [f"* SEARCH 3 (MODSEQ {h0 + 1})"], lines
    st, lines = raw(A, f"SEARCH MODSEQ {h0 + 5}")
    assert lines == ["* SEARCH"], lines
    # another session's change reaches A with its MODSEQ (unsolicited)
    B = login(srv, select="INBOX")
    raw(B, "UID STORE 4 +FLAGS (\\Seen)")
    st, lines = raw(A, "NOOP")
    assert any(re.match(r"\* 4 FETCH \(UID 4 FLAGS \(\\Seen\) "
                        r"MODSEQ \(\d+\)\)", ln) for ln in lines), lines
    # UID EXPUNGE and MOVE: VANISHED, and HIGHESTMODSEQ in EXPUNGE's OK
    raw(A, "UID STORE 1 +FLAGS (\\Deleted)")
    st, lines = raw(A, "UID EXPUNGE 1")
    assert lines == ["* VANISHED 1"], lines
    assert "[HIGHESTMODSEQ " in st
    st, lines = raw(A, "UID MOVE 2 Trash")
    assert "* VANISHED 2" in lines, lines
    st, lines = raw(B, "NOOP")
    assert "* 1 EXPUNGE" in lines, lines     # B never enabled QRESYNC
    B.logout()
    A.logout()


def test_resync_runs_in_slices(srv):
    """A QRESYNC SELECT that resends every message to a client that
    does not read: the server waits on that socket and serves others."""
    import socket
    import time
    for i in range(6, 2401):
        srv.put(mail(f"message {i}", body="x\n"))
    M = login(srv)
    uv = int(re.search(r"UIDVALIDITY (\d+)", " ".join(
        raw(M, "EXAMINE INBOX")[1])).group(1))
    M.logout()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", srv.imap))
    sock.sendall(b"a LOGIN alice@example.test Looking-Glass-4471\r\n"
                 b"b ENABLE QRESYNC\r\n"
                 + f"c SELECT INBOX (QRESYNC ({uv} 1))\r\n".encode())
    time.sleep(0.5)
    for _ in range(3):      # others are served meanwhile
        O = login(srv, select="INBOX")
        assert O.noop()[0] == "OK"
        O.logout()
    data = b""
    while not re.search(rb"\r\nc (OK|NO|BAD)[^\r\n]*\r\n", data):
        chunk = sock.recv(65536)
        assert chunk, data[-200:]
        data += chunk
    sock.close()
    assert b"c OK [READ-WRITE]" in data
    assert len(re.findall(rb"\* \d+ FETCH \(UID", data)) == 2400
    assert "output overflow" not in srv.log()


def test_esearch_modseq(srv):
    """RFC 7162 3.1.5 with RFC 4731 3.2: SEARCH RETURN with a MODSEQ
    criterion answers MODSEQ in ESEARCH: the highest of the messages
    returned (only MIN and MAX when neither ALL nor COUNT is asked);
    none when nothing matched; none without a MODSEQ criterion."""
    M = qresync_login(srv)
    h0 = highest(raw(M, "SELECT INBOX")[1])
    raw(M, "UID STORE 2 +FLAGS (\\Flagged)")
    raw(M, "UID STORE 4 +FLAGS (\\Flagged)")
    raw(M, "UID STORE 3 +FLAGS (\\Seen)")
    ms = modseqs(raw(M, "UID FETCH 1:* (MODSEQ)")[1])
    assert ms[2] < ms[4] < ms[3]
    tag = M._new_tag().decode()
    M.send(f"{tag} UID SEARCH RETURN (ALL) MODSEQ {h0 + 1}\r\n".encode())
    line = M._get_line().decode()
    assert line == (f'* ESEARCH (TAG "{tag}") UID ALL 2:4 '
                    f'MODSEQ {ms[3]}'), line
    assert M._get_line().decode().startswith(tag + " OK")
    st, lines = raw(M, f"SEARCH RETURN (COUNT) MODSEQ {h0 + 1}")
    assert lines[0].endswith(f" COUNT 3 MODSEQ {ms[3]}"), lines
    # MIN and MAX only: of those two (2 and 4), not of 3 between them
    st, lines = raw(M, f"UID SEARCH RETURN (MIN MAX) MODSEQ {h0 + 1}")
    assert lines[0].endswith(f" UID MIN 2 MAX 4 MODSEQ {ms[4]}"), lines
    st, lines = raw(M, f"UID SEARCH RETURN (MIN) FLAGGED MODSEQ {h0 + 1}")
    assert lines[0].endswith(f" UID MIN 2 MODSEQ {ms[2]}"), lines
    st, lines = raw(M, f"UID SEARCH RETURN (MAX) MODSEQ {h0 + 1}")
    assert lines[0].endswith(f" UID MAX 4 MODSEQ {ms[4]}"), lines
    # nothing matched: no MODSEQ; no MODSEQ criterion: none either
    st, lines = raw(M, f"SEARCH RETURN (ALL COUNT) MODSEQ {ms[3] + 1}")
    assert lines[0].endswith(" COUNT 0"), lines
    st, lines = raw(M, "UID SEARCH RETURN (ALL) FLAGGED")
    assert lines[0].endswith(" UID ALL 2,4"), lines
    # SAVE alone answers no ESEARCH (RFC 5182 2.1), MODSEQ or not
    st, lines = raw(M, f"SEARCH RETURN (SAVE) MODSEQ {h0 + 1}")
    assert "OK" in st and lines == [], lines
    M.logout()


def sparse_folder(srv, folder, n, first, step):
    """n one-line messages in folder with UIDs first, first + step, ...
    (as a Dovecot-written dovecot-uidlist gives them): n gaps of
    step - 1 UIDs, and 1:first-1. Returns (uidvalidity, top UID)."""
    mdir = srv.maildir(folder=folder)
    uv = 1234567
    data = b"Subject: x\n\nx\n"
    recs = []
    for i in range(n):
        base = f"{1700000000 + i}.M{i}P1.gaps"
        fd = os.open(mdir / "cur" / f"{base}:2,",
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, data)
        os.close(fd)
        recs.append(f"{first + step * i} :{base}\n")
    top = first + step * (n - 1)
    (mdir / "dovecot-uidlist").write_text(
        f"3 V{uv} N{top + 1}\n" + "".join(recs))
    return uv, top


def ranges_of(text):
    """The (lo, hi) ranges of "* VANISHED (EARLIER) a:b,c,..." lines."""
    out = []
    for line in text.split("\r\n"):
        if line.startswith("* VANISHED (EARLIER) "):
            for r in line.split()[-1].split(","):
                lo, _, hi = r.partition(":")
                out.append((int(lo), int(hi or lo)))
    return out


def test_vanished_earlier_in_slices(srv):
    """VANISHED (EARLIER) for a folder with 50,000 gaps (RFC 7162
    3.2.5.1): 1.1 MB of it, more than a session's 256 KB output spill,
    to a client that does not read. It goes out in slices bounded by the
    socket: another client's NOOPs are answered meanwhile, and then
    every gap is there, in order, followed by the resync's FETCHes."""
    n, first, step = 50000, 4000000000, 3
    uv, top = sparse_folder(srv, "Gaps", n, first, step)
    want = [(1, first - 1)] + [(first + step * i + 1, first + step * i + 2)
                               for i in range(n - 1)]
    A = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    A.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    A.settimeout(30)
    A.connect(("127.0.0.1", srv.imap))
    # modseq 1: older than anything; with the FETCH of every message
    # that follows, 4.5 MB in all, more than the kernel's buffers take
    A.sendall(b"a LOGIN alice@example.test Looking-Glass-4471\r\n"
              b"b ENABLE QRESYNC\r\n"
              + f"c SELECT Gaps (QRESYNC ({uv} 1))\r\n".encode())
    data = b""
    while b"* VANISHED (EARLIER) 1:" not in data:   # it has begun
        chunk = A.recv(4096)
        assert chunk, data[-300:]
        data += chunk
    B = login(srv, select="INBOX")
    for _ in range(3):
        assert B.noop()[0] == "OK"
    # A's SELECT is still going: its end is not in A's socket yet
    pending = A.recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    assert not re.search(rb"\r\nc (OK|NO|BAD)", data + pending)
    while not re.search(rb"\r\nc (OK|NO|BAD)[^\r\n]*\r\n", data):
        chunk = A.recv(1 << 16)
        assert chunk, data[-300:]
        data += chunk
    assert B.noop()[0] == "OK"
    B.logout()
    A.close()
    text = data.decode()
    assert "c OK [READ-WRITE]" in text
    got = ranges_of(text)
    assert got == want, (got[:3], len(got), len(want))
    assert text.rindex("* VANISHED") < text.index(" FETCH (UID ")
    assert len(re.findall(r"\* \d+ FETCH \(UID", text)) == n
    assert all(len(ln) < 1024 for ln in text.split("\r\n"))
    assert "output overflow" not in srv.log()
    # UID FETCH (CHANGEDSINCE VANISHED), RFC 7162 3.2.6: the set's
    # UIDs only, up to the last message
    M = qresync_login(srv)
    raw(M, "EXAMINE Gaps")
    st, lines = raw(M, f"UID FETCH 1:{first + step},{top}:* (FLAGS) "
                       "(CHANGEDSINCE 1 VANISHED)")
    assert "OK" in st
    assert ranges_of("\r\n".join(lines)) == want[:2], vanished(lines)
    assert set(modseqs(lines)) == {first, first + step, top}
    st, lines = raw(M, f"UID FETCH {top + 1}:* (FLAGS) (CHANGEDSINCE 1 "
                       "VANISHED)")
    assert vanished(lines) == [], lines
    M.logout()
    shutil.rmtree(srv.maildir(folder="Gaps") / "cur")   # 200 MB
