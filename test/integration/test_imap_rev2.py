# SPDX-License-Identifier: ISC
"""BINARY (RFC 3516) against the real binary, with imaplib's raw
commands: FETCH BINARY[part]<partial>, BINARY.PEEK and BINARY.SIZE of
base64, quoted-printable, 8bit and unencoded parts; literal8 (~{n})
when the decoded data holds a NUL; NO [UNKNOWN-CTE] for an encoding
wren cannot undo; \\Seen set by BINARY and not by BINARY.PEEK; a large
base64 part decoded in slices while another client is served."""
import base64
import quopri
import re
import threading

import pytest

from imaplib_helpers import imap_server, login, make_pki

BLOB = bytes(range(256)) * 40           # NULs: a literal8
TEXT = ("Caf\u00e9 cr\u00e8me " * 30 + "\n").encode() * 3
CRLF_TEXT = TEXT.replace(b"\n", b"\r\n")
EIGHT = "h\u00e9llo 8bit\n".encode()


def multipart():
    b64 = base64.encodebytes(BLOB).decode()
    qp = quopri.encodestring(TEXT).decode()
    return (
        "From: s@remote.example\nTo: alice@example.test\n"
        "Subject: binary\nDate: Mon, 01 Jan 2024 12:00:00 +0000\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="XX"\n\n'
        "--XX\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\n" + qp +
        "\n--XX\nContent-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n\n" + b64 +
        "\n--XX\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n").encode() + EIGHT + (
        "\n--XX\nContent-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: x-uuencode\n\n"
        "begin 644 x\n#86)C\n`\nend\n"
        "\n--XX\nContent-Type: text/plain\n\nplain seven bit\n"
        "\n--XX--\n").encode()


def big(n):
    data = bytes((i * 7) & 0xff for i in range(n))
    return (
        "From: s@remote.example\nSubject: big\n"
        "Content-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n\n").encode() + \
        base64.encodebytes(data), data


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    s = imap_server(wren, pki)
    s.put(multipart())
    yield s
    s.stop()


def raw(M, cmd):
    """One raw command: (status line, [(line, literal or None)]);
    a line announcing {n} or ~{n} has its n octets read."""
    tag = M._new_tag().decode()
    M.send(f"{tag} {cmd}\r\n".encode())
    out = []
    while True:
        line = M._get_line().decode("latin-1")
        if line.startswith(tag + " "):
            return line, out
        while True:
            m = re.search(r"~?\{(\d+)\}$", line)
            if not m:
                out.append((line, None))
                break
            lit = M.read(int(m.group(1)))
            out.append((line, lit))
            line = M._get_line().decode("latin-1")


def selected(srv):
    M = login(srv)
    typ, _ = M.select("INBOX")
    assert typ == "OK"
    return M


def one(M, cmd):
    st, out = raw(M, cmd)
    assert st.split()[1] == "OK", st
    return out


def test_capability(srv):
    M = login(srv)
    st, out = raw(M, "CAPABILITY")
    assert " BINARY" in out[0][0]


def test_base64_literal8(srv):
    M = selected(srv)
    out = one(M, "FETCH 1 (BINARY.PEEK[2])")
    line, lit = out[0]
    assert line.endswith(f"BINARY[2] ~{{{len(BLOB)}}}")
    assert lit == BLOB


def test_quoted_printable_no_nul(srv):
    M = selected(srv)
    out = one(M, "FETCH 1 (BINARY.PEEK[1])")
    line, lit = out[0]
    # Decoded from the CR LF form, as Dovecot: hard line breaks are
    # CR LF (RFC 2045 6.7).
    assert line.endswith(f"BINARY[1] {{{len(CRLF_TEXT)}}}")
    assert lit == CRLF_TEXT


def test_partials(srv):
    M = selected(srv)
    for start, count in ((0, 10), (100, 300), (10000, 5000),
                         (len(BLOB) - 1, 9), (len(BLOB) + 5, 3)):
        out = one(M, f"FETCH 1 (BINARY.PEEK[2]<{start}.{count}>)")
        line, lit = out[0]
        want = BLOB[start:start + count]
        assert f"BINARY[2]<{start}>" in line
        assert lit == want, (start, count)
    out = one(M, "FETCH 1 (BINARY.PEEK[1]<3.7>)")
    assert out[0][1] == CRLF_TEXT[3:10]


def test_sizes(srv):
    M = selected(srv)
    out = one(M, "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3])")
    line = out[0][0]
    assert f"BINARY.SIZE[1] {len(CRLF_TEXT)}" in line
    assert f"BINARY.SIZE[2] {len(BLOB)}" in line
    # 8bit: the octets as stored, in CRLF form as BODY[3] gives them.
    assert f"BINARY.SIZE[3] {len(EIGHT) + 1}" in line


def test_identity_parts_as_body(srv):
    M = selected(srv)
    out = one(M, "FETCH 1 (BINARY.PEEK[3] BODY.PEEK[3])")
    lits = [lit for _, lit in out if lit is not None]
    assert lits[0] == lits[1] == EIGHT.replace(b"\n", b"\r\n")
    out = one(M, "FETCH 1 (BINARY.PEEK[5])")
    assert out[0][1] == b"plain seven bit\r\n"


def test_unknown_cte(srv):
    M = selected(srv)
    st, out = raw(M, "FETCH 1 (BINARY.PEEK[4])")
    assert st.split()[1] == "NO" and "[UNKNOWN-CTE]" in st
    st, out = raw(M, "FETCH 1 (BINARY.SIZE[4])")
    assert "[UNKNOWN-CTE]" in st


def test_missing_part_and_seen(srv):
    M = selected(srv)
    out = one(M, "FETCH 1 (BINARY.PEEK[9])")
    assert "BINARY[9] NIL" in out[0][0]
    out = one(M, "FETCH 1 (FLAGS)")
    assert "\\Seen" not in out[0][0]
    out = one(M, "FETCH 1 (BINARY.SIZE[2])")
    assert "\\Seen" not in out[0][0]
    out = one(M, "FETCH 1 (BINARY[2]<0.4>)")
    assert out[0][1] == BLOB[:4]
    out = one(M, "FETCH 1 (FLAGS)")
    assert "\\Seen" in out[0][0]


@pytest.mark.parametrize("cmd", [
    "FETCH 1 (BINARY[HEADER])",            # sections only by number
    "FETCH 1 (BINARY[1.TEXT])",
    "FETCH 1 (BINARY.SIZE[1]<0.5>)",       # no partial for SIZE
    "FETCH 1 (BINARY[1]<5>)",
    "FETCH 1 (BINARY.FOO[1])",
    "FETCH 1 (BINARY[1)",
])
def test_bad_syntax(srv, cmd):
    M = selected(srv)
    st, _ = raw(M, cmd)
    assert st.split()[1] == "BAD", st


def test_large_part_in_slices(srv):
    """A 6 MB base64 part is counted and sent in slices: another client
    keeps being served while the first one's FETCH runs (four counts
    of the part, 1,500 slices of 64 KB read)."""
    msg, data = big(6 * 1024 * 1024)
    srv.put(msg)
    A = selected(srv)
    B = selected(srv)
    res = {}
    done = threading.Event()

    def run():
        res["out"] = raw(A, "FETCH 2 (BINARY.SIZE[1] BINARY.SIZE[1] "
                         "BINARY.SIZE[1] BINARY.PEEK[1] BINARY.SIZE[1])")
        done.set()

    t = threading.Thread(target=run)
    t.start()
    served = 0
    while not done.is_set() and served < 10000:
        st, _ = raw(B, "NOOP")
        assert st.split()[1] == "OK"
        served += not done.is_set()
    t.join(120)
    assert not t.is_alive()
    assert served >= 1, served
    st, out = res["out"]
    assert st.split()[1] == "OK"
    assert out[0][0].count(f"BINARY.SIZE[1] {len(data)}") == 3
    assert out[0][1] == data
    assert f"BINARY.SIZE[1] {len(data)}" in out[1][0]


def binary_msg(data):
    return (b"From: s@remote.example\r\nSubject: raw\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + data)


def append8(M, msg, sync=True):
    """APPEND with a literal8 ~{n} (RFC 3516 4.4)."""
    tag = M._new_tag().decode()
    plus = "" if sync else "+"
    M.send(f"{tag} APPEND INBOX ~{{{len(msg)}{plus}}}\r\n".encode())
    if sync:
        cont = M._get_line()
        assert cont.startswith(b"+"), cont
    M.send(msg + b"\r\n")
    while True:
        line = M._get_line().decode("latin-1")
        if line.startswith(tag + " "):
            return line


def test_append_literal8_and_binary_part(srv):
    data = bytes(b for b in range(256) if b not in (10, 13)) * 3
    M = selected(srv)
    st = append8(M, binary_msg(data))
    assert st.split()[1] == "OK" and "APPENDUID" in st, st
    st = append8(M, binary_msg(b"\x00two\x00"), sync=False)
    assert st.split()[1] == "OK", st
    M.noop()
    out = one(M, "FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1])")
    line, lit = out[0]
    assert line.endswith(f"BINARY[1] ~{{{len(data)}}}")
    assert lit == data
    assert f"BINARY.SIZE[1] {len(data)}" in out[1][0]
    out = one(M, "FETCH 3 (BINARY.PEEK[1]<1.3>)")
    assert out[0][1] == b"two"
    assert out[0][0].endswith("BINARY[1]<1> ~{3}")


def test_append_literal8_glued_refused(srv):
    M = selected(srv)
    tag = M._new_tag().decode()
    M.send(f"{tag} APPEND INBOX~{{5}}\r\n".encode())
    line = M._get_line().decode()
    assert line.startswith(tag + " BAD"), line
    st, _ = raw(M, "NOOP")
    assert st.split()[1] == "OK"


# --- IMAP4rev2 (RFC 9051) -------------------------------------------------

def rev2(srv):
    M = login(srv)
    st, out = raw(M, "ENABLE IMAP4rev2")
    assert st.split()[1] == "OK"
    assert out[0][0] == "* ENABLED IMAP4rev2"
    return M


def lines_of(out):
    """The response lines, a literal put back in place as text."""
    res = []
    for line, lit in out:
        if lit is None:
            if res and res[-1].endswith("\x00"):
                res[-1] = res[-1][:-1] + line
            else:
                res.append(line)
        else:
            text = lit.decode("utf-8")
            res.append(re.sub(r"~?\{\d+\}$", "", line) + '"' + text +
                       '"\x00')
    return [ln.rstrip("\x00") for ln in res]


def test_rev2_capability_enable(srv):
    M = login(srv)
    st, out = raw(M, "CAPABILITY")
    caps = out[0][0].split()
    assert "IMAP4rev1" in caps and "IMAP4rev2" in caps
    assert "STATUS=SIZE" in caps
    st, out = raw(M, "ENABLE IMAP4rev2 CONDSTORE")
    assert out[0][0] == "* ENABLED IMAP4rev2 CONDSTORE"
    st, out = raw(M, "ENABLE IMAP4rev2")       # already: not again
    assert out[0][0] == "* ENABLED"


def test_rev2_no_recent(srv):
    srv.put(b"Subject: new one\n\nhi\n", sub="new")
    M = login(srv)                 # rev1: RECENT and \Recent
    st, out = raw(M, "EXAMINE INBOX")
    text = "\n".join(ln for ln, _ in out)
    assert "RECENT" in text and "[UNSEEN 1]" in text
    M.logout()
    srv.put(b"Subject: newer\n\nhi\n", sub="new")
    M = rev2(srv)
    st, out = raw(M, "SELECT INBOX")
    text = "\n".join(ln for ln, _ in out)
    assert "RECENT" not in text and "UNSEEN" not in text
    assert '* LIST () "." "INBOX"' in text, text
    out = one(M, "FETCH 1:* (FLAGS)")
    assert all("\\Recent" not in ln for ln, _ in out)
    srv.put(b"Subject: newest\n\nhi\n", sub="new")
    st, out = raw(M, "NOOP")
    text = "\n".join(ln for ln, _ in out)
    assert "EXISTS" in text and "RECENT" not in text


def test_rev2_utf8_names(srv):
    M = rev2(srv)
    st, _ = utf8_cmd(M, 'CREATE "Caf\u00e9.\u65e5\u672c \U0001f600"')
    assert " OK" in st, st
    names = {p.name for p in srv.maildir().iterdir()}
    assert ".Caf&AOk-.&ZeVnLA- &2D3eAA-" in names, names
    st, out = utf8_cmd(M, 'LIST "" "Caf*"')
    text = "\n".join(out)
    # 8-bit names go out as literals (valid in both revisions).
    assert '"." {5}Caf\u00e9' in text, text
    assert "Caf\u00e9.\u65e5\u672c \U0001f600" in text, text
    st, out = utf8_cmd(M, 'LIST "" "Caf\u00e9.%"')
    assert len(out) == 1 and "\u65e5" in out[0], out
    # A rev1 session sees the stored modified UTF-7.
    R = login(srv)
    st, out = raw(R, 'LIST "" "Caf*"')
    text = "\n".join(ln for ln, _ in out)
    assert "Caf&AOk-" in text and "Caf&AOk-.&ZeVnLA- &2D3eAA-" in text
    # '&' itself (RFC 3501 5.1.3: "&-"), both ways.
    st, _ = utf8_cmd(M, 'CREATE "A&B"')
    assert " OK" in st, st
    assert ".A&-B" in {p.name for p in srv.maildir().iterdir()}
    st, out = utf8_cmd(M, 'LIST "" "A&*"')
    assert '"A&B"' in out[0], out
    st, _ = utf8_cmd(M, 'RENAME "A&B" "\u00c5&"')
    assert " OK" in st, st
    assert ".&AMU-&-" in {p.name for p in srv.maildir().iterdir()}


def lines_of_bytes(out):
    res = []
    for line, lit in out:
        line = line.encode("latin-1").decode("utf-8", "replace")
        if lit is not None:
            line += " " + lit.decode("utf-8", "replace")
        res.append(line)
    return res


def utf8_cmd(M, cmd):
    """A raw command with UTF-8 in quoted strings (RFC 9051 4.3)."""
    tag = M._new_tag().decode()
    M.send(f"{tag} {cmd}\r\n".encode())
    out = []
    while True:
        line = M._get_line()
        if line.startswith(tag.encode() + b" "):
            return line.decode("utf-8"), out
        m = re.search(rb"~?\{(\d+)\}$", line)
        if m:
            line += M.read(int(m.group(1))) + M._get_line()
        out.append(line.decode("utf-8", "replace"))


def test_rev2_utf8_select_status_append(srv):
    M = rev2(srv)
    st, _ = utf8_cmd(M, 'CREATE "R\u00e9sum\u00e9s"')
    assert " OK" in st, st
    msg = b"Subject: x\r\n\r\nbody\r\n"
    tag = M._new_tag().decode()
    M.send(f'{tag} APPEND "R\u00e9sum\u00e9s" {{{len(msg)}+}}\r\n'
           .encode() + msg + b"\r\n")
    while True:
        line = M._get_line().decode()
        if line.startswith(tag):
            break
    assert " OK" in line, line
    st, out = utf8_cmd(M, 'STATUS "R\u00e9sum\u00e9s" (MESSAGES SIZE)')
    assert " OK" in st
    assert "MESSAGES 1" in out[0] and f"SIZE {len(msg)}" in out[0], out
    assert "R\u00e9sum\u00e9s" in out[0]
    st, out = utf8_cmd(M, 'SELECT "R\u00e9sum\u00e9s"')
    assert " OK" in st, st
    assert any(ln.startswith('* LIST () "." ') and "R\u00e9sum\u00e9s" in ln
               for ln in out), out
    st, out = utf8_cmd(M, 'COPY 1 "R\u00e9sum\u00e9s"')
    assert " OK" in st, st
    # Not UTF-8: refused, as a name that cannot exist.
    tag = M._new_tag().decode()
    M.send(f'{tag} SELECT {{2}}\r\n'.encode())
    assert M._get_line().startswith(b"+")
    M.send(b"\xff\xfe\r\n")
    line = M._get_line().decode("latin-1")
    while line.startswith("* "):
        line = M._get_line().decode("latin-1")
    assert line.startswith(tag + " NO"), line


def test_status_size_deleted(srv):
    srv.put(b"Subject: gone\n\nx\n", flags="T")
    srv.put(b"Subject: kept\n\nx\n", flags="S")
    M = login(srv)
    out = one(M, "STATUS INBOX (MESSAGES SIZE DELETED)")
    assert "MESSAGES 3" in out[0][0] and "DELETED 1" in out[0][0], out
    size = int(re.search(r"SIZE (\d+)", out[0][0]).group(1))
    M.select("INBOX")
    typ, data = M.fetch("1:*", "(RFC822.SIZE)")
    total = sum(int(re.search(rb"RFC822.SIZE (\d+)", d).group(1))
                for d in data)
    assert size == total


def test_quoted_printable_line_ends(srv):
    """"=0A" is an octet and stays LF, a soft break goes, a hard break
    is CR LF whether stored as LF or CR LF; trailing space is dropped."""
    srv.put(b"Subject: qp\nMIME-Version: 1.0\n"
            b"Content-Transfer-Encoding: quoted-printable\n"
            b"\na=0Ab=\nc  \nd=00e\n")
    srv.put(b"Subject: qp\r\nMIME-Version: 1.0\r\n"
            b"Content-Transfer-Encoding: Quoted-Printable"
            b"\r\n\r\na=0Ab=\r\nc  \r\nd=00e\r\n", raw=True)
    M = selected(srv)
    for seq in (2, 3):
        out = one(M, f"FETCH {seq} (BINARY.PEEK[1] BINARY.SIZE[1])")
        want = b"a\nbc\r\nd\x00e\r\n"
        assert out[0][0].endswith(f"BINARY[1] ~{{{len(want)}}}")
        assert out[0][1] == want
        assert f"BINARY.SIZE[1] {len(want)}" in out[1][0]


def test_rev2_search_is_esearch(srv):
    """RFC 9051 6.4.4: once IMAP4rev2 is enabled, SEARCH without RETURN
    is RETURN (ALL) and answers ESEARCH; a rev1 session still gets
    * SEARCH."""
    M = selected(srv)
    out = one(M, "SEARCH ALL")
    assert out[0][0].startswith("* SEARCH"), out
    M.logout()
    M = rev2(srv)
    one(M, "SELECT INBOX")
    tag = M._new_tag().decode()
    M.send(f"{tag} SEARCH ALL\r\n".encode())
    first = M._get_line().decode()
    done = M._get_line().decode()
    assert re.fullmatch(r'\* ESEARCH \(TAG "%s"\) ALL 1(:\d+)?' % tag,
                        first), first
    assert done.startswith(tag + " OK"), done
    tag = M._new_tag().decode()
    M.send(f"{tag} UID SEARCH SUBJECT no-such-subject-here\r\n".encode())
    assert M._get_line().decode() == f'* ESEARCH (TAG "{tag}") UID'
    assert M._get_line().decode().startswith(tag + " OK")


def test_rev2_rename_oldname(srv):
    """RFC 9051 6.3.6, 7.3.1: after RENAME, an IMAP4rev2 session gets
    the new name's LIST with OLDNAME before the OK; one LIST only, the
    children moving with their parent (RFC 5465 5.4); none in rev1 and
    none for RENAME INBOX (INBOX stays)."""
    M = rev2(srv)
    for name in ("Old", "Old.Child", "Plain"):
        one(M, f"CREATE {name}")
    st, out = raw(M, "RENAME Old New")
    assert st.split()[1] == "OK", st
    assert [ln for ln, _ in out] == \
        ['* LIST () "." "New" ("OLDNAME" ("Old"))'], out
    st, out = raw(M, 'LIST "" "New*"')
    assert sorted(ln.split()[-1] for ln, _ in out) == \
        ['"New"', '"New.Child"'], out
    # UTF-8 both ways: the literal of the new name, the old one quoted
    st, out = utf8_cmd(M, 'RENAME Plain "Pl\u00e4n"')
    assert " OK" in st, st
    assert out == ['* LIST () "." {5}Pl\u00e4n ("OLDNAME" ("Plain"))'], out
    st, out = utf8_cmd(M, 'RENAME "Pl\u00e4n" Plain')
    assert out == ['* LIST () "." "Plain" ("OLDNAME" ({5}Pl\u00e4n))'], out
    # a failed RENAME: no LIST
    st, out = raw(M, "RENAME Nowhere Else")
    assert st.split()[1] == "NO" and out == [], (st, out)
    # RENAME INBOX: INBOX stays, so no OLDNAME
    st, out = raw(M, "RENAME INBOX Saved")
    assert st.split()[1] == "OK" and out == [], (st, out)
    M.logout()
    # IMAP4rev1: no LIST
    R = login(srv)
    st, out = raw(R, "RENAME New Newer")
    assert st.split()[1] == "OK" and out == [], (st, out)
    R.logout()
