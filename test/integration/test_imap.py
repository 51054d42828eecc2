# SPDX-License-Identifier: ISC
"""The IMAP server (SPEC sections 3, 5 and 7; RFC 3501 IMAP4rev1, RFC 2177
IDLE, RFC 7888 LITERAL+, RFC 4959 SASL-IR) driven by real clients:
Python's imaplib for every command, raw sockets where imaplib cannot say
it (exact replies, literals, pipelining, hostile input), openssl s_client
and curl for TLS, and a private Dovecot as the reference for
BODYSTRUCTURE and ENVELOPE.

Every server has the accounts of imaplib_helpers (alice with the
mail_home default, bob with a {SHA512-CRYPT} hash, carol with a home
field), IMAP, IMAPS and SMTP on free loopback ports and
auth_fail_delay = 0. Messages are placed into the Maildirs by the test
itself, the way Dovecot names its files (<base>,S=..,W=..:2,FLAGS), with
LF line ends, so every FETCH also checks the LF -> CRLF conversion.

Tests connect from 127.0.0.1, which tls_auth_only lets log in without
TLS; a client bound to 127.0.0.2 is not loopback.
"""
import base64
import calendar
import hashlib
import imaplib
import json
import os
import random
import re
import shutil
import smtplib
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import SLOW, WREN_RUN, PrivateDovecot, dovecot_available
from imaplib_helpers import (
    ALICE, ALICE_PW, BOB, BOB_PW, CAROL, CAROL_PW, HOST, OUTSIDE, TIMEOUT,
    WRONG_PW, Raw, caps, client_ctx, connect, crlf, fetch,
    fetch_map, files_in, flag_letters, idle_done, idle_start, idle_wait,
    imap_server, joined, keywords_file, login, mail, make_pki, need_wren,
    parse, read_uidlist, sasl_plain, search, status, users_text,
    with_flags)

# SPEC 5: new mail reaches IDLE within 2 s (inotify: at once, in fact).
# The bound is generous (3 s more, for a busy machine) and scaled for
# QEMU: it tells a notice from none, not how fast it is.
NOTIFY = (2 + 3) * SLOW
SYSTEM_FLAGS = {"\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    """srv(**keys) -> a started IMAPServer (see imaplib_helpers)."""
    made = []

    def make(start=True, mail_root=None, **keys):
        s = imap_server(wren, pki, mail_root=mail_root, start=start, **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.ref:
            s.ref.stop()


def upper(xs):
    return {x.upper() for x in xs}


def untagged_caps(lines):
    found = [x for x in lines if x.upper().startswith(b"* CAPABILITY ")]
    assert len(found) == 1, lines
    return set(found[0].decode().upper().split()[2:])


def noop_until(M, pred, timeout=NOTIFY, what=""):
    """NOOPs (imaplib) until pred(untagged lines so far) is true."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        typ, data = M.noop()
        assert typ == "OK", data
        for name in ("EXISTS", "RECENT", "EXPUNGE", "FETCH"):
            for d in M.response(name)[1]:
                if d is not None:
                    seen.append((name, d))
        if pred(seen):
            return seen
        assert time.monotonic() < deadline, (what, seen)
        time.sleep(0.1)


def raw_noop_until(r, pred, timeout=NOTIFY, what=""):
    """The same on a Raw session; untagged lines (bytes)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        got, _ = r.cmd("NOOP")
        seen += got
        if pred(seen):
            return seen
        assert time.monotonic() < deadline, (what, seen)
        time.sleep(0.1)


def select_info(lines):
    """Untagged SELECT/EXAMINE responses -> dict."""
    info = {}
    for line in lines:
        s = line.decode()
        m = re.match(r"\* (\d+) (EXISTS|RECENT)$", s, re.I)
        if m:
            info[m.group(2).upper()] = int(m.group(1))
            continue
        m = re.match(r"\* FLAGS \((.*)\)$", s, re.I)
        if m:
            info["FLAGS"] = set(m.group(1).split())
            continue
        m = re.match(r"\* OK \[(\S+)(?: ([^\]]*))?\]", s, re.I)
        if m:
            info[m.group(1).upper()] = m.group(2)
    return info


# --- 1. greeting, capabilities, login ------------------------------------


def test_greeting_and_capabilities(srv):
    s = srv()
    r = Raw(s)
    assert re.match(rb"\* OK[ \[]", r.greeting), r.greeting
    got, tagged = r.cmd("CAPABILITY")
    cap = untagged_caps(got)
    assert {"IMAP4REV1", "IDLE", "LITERAL+", "STARTTLS", "AUTH=PLAIN",
            "SASL-IR"} <= cap, cap
    assert "LOGINDISABLED" not in cap, cap      # loopback: allowed
    m = re.match(rb"\* OK \[CAPABILITY ([^\]]*)\]", r.greeting)
    if m:                           # a greeting that lists them agrees
        assert set(m.group(1).decode().upper().split()) == cap
    got, _ = r.cmd("NOOP")
    got, tagged = r.cmd("LOGOUT")
    assert any(x.startswith(b"* BYE") for x in got), got
    assert r.closed(TIMEOUT)
    # After STARTTLS: no STARTTLS; on the implicit TLS port neither.
    r = Raw(s)
    r.starttls()
    cap = untagged_caps(r.cmd("CAPABILITY")[0])
    assert "STARTTLS" not in cap and "LOGINDISABLED" not in cap, cap
    assert {"IMAP4REV1", "AUTH=PLAIN", "IDLE"} <= cap, cap
    r.close()
    r = Raw(s, tls="implicit")
    cap = untagged_caps(r.cmd("CAPABILITY")[0])
    assert "STARTTLS" not in cap and {"IMAP4REV1", "AUTH=PLAIN"} <= cap
    # Logged in: still IMAP4rev1 and IDLE.
    r.login()
    cap = untagged_caps(r.cmd("CAPABILITY")[0])
    assert {"IMAP4REV1", "IDLE", "LITERAL+"} <= cap, cap
    r.cmd("LOGOUT")
    r.close()
    s.stop()


def test_logindisabled_in_cleartext_from_outside_loopback(srv):
    s = srv()
    r = Raw(s, source=OUTSIDE)
    cap = untagged_caps(r.cmd("CAPABILITY")[0])
    assert {"LOGINDISABLED", "STARTTLS"} <= cap, cap
    assert "AUTH=PLAIN" not in cap, cap
    _, tagged = r.cmd(f'LOGIN "{ALICE}" "{ALICE_PW}"', expect=None)
    assert tagged.split()[1] in (b"NO", b"BAD"), tagged
    _, tagged = r.cmd(f"AUTHENTICATE PLAIN {sasl_plain(ALICE, ALICE_PW)}",
                      expect=None)
    assert tagged.split()[1] in (b"NO", b"BAD"), tagged
    r.cmd("NOOP")                   # still a usable, unauthenticated session
    r.cmd("SELECT INBOX", expect="BAD")
    r.starttls()
    cap = untagged_caps(r.cmd("CAPABILITY")[0])
    assert "LOGINDISABLED" not in cap and "AUTH=PLAIN" in cap, cap
    r.login()
    r.cmd("SELECT INBOX")
    r.close()
    # imaplib from outside: STARTTLS, then LOGIN.
    M = connect(s, tls="starttls")
    M.login(ALICE, ALICE_PW)
    M.logout()
    s.stop()
    if not s.ref:
        # tls_auth_only = no: cleartext from anywhere.
        s2 = srv(tls_auth_only="no")
        r = Raw(s2, source=OUTSIDE)
        cap = untagged_caps(r.cmd("CAPABILITY")[0])
        assert "LOGINDISABLED" not in cap and "AUTH=PLAIN" in cap, cap
        r.login()
        r.close()
        s2.stop()


def test_login_good_and_bad(srv):
    s = srv()
    s.put(mail("for carol"), user=CAROL)
    for user, pw in ((ALICE, ALICE_PW), (BOB, BOB_PW), (CAROL, CAROL_PW)):
        M = connect(s)
        typ, data = M.login(user, pw)
        assert typ == "OK", (user, data)
        typ, data = M.select("INBOX")
        assert typ == "OK", data
        # carol's home comes from the users file.
        assert int(data[0]) == (1 if user == CAROL else 0), user
        M.logout()
    # Synchronizing literals: each waits for "+".
    r = Raw(s)
    tag = r.tag()
    r.send(f"{tag} LOGIN {{{len(ALICE)}}}\r\n")
    assert r.line().startswith(b"+"), "no continuation"
    r.send(f"{ALICE} {{{len(ALICE_PW)}}}\r\n")
    assert r.line().startswith(b"+"), "no continuation"
    r.send(ALICE_PW + "\r\n")
    r.until(tag)
    # LOGIN again when authenticated is not valid in that state.
    r.cmd(f'LOGIN "{ALICE}" "{ALICE_PW}"', expect="BAD")
    r.cmd("SELECT INBOX")
    r.close()
    # LITERAL+: no continuation requests at all.
    r = Raw(s)
    tag = r.tag()
    r.send(f"{tag} LOGIN {{{len(BOB)}+}}\r\n{BOB} {{{len(BOB_PW)}+}}\r\n"
           f"{BOB_PW}\r\n")
    got, _ = r.until(tag)
    assert not any(x.startswith(b"+") for x in got), got
    r.close()
    # Failures (last: a reference Dovecot slows down after them).
    r = Raw(s)
    for user, pw in ((ALICE, WRONG_PW), ("nobody@example.test", WRONG_PW),
                     (BOB, ALICE_PW)):
        _, tagged = r.cmd(f'LOGIN "{user}" "{pw}"', expect="NO")
        assert b"[AUTHENTICATIONFAILED]" in tagged, tagged
    r.cmd("SELECT INBOX", expect="BAD")     # still not authenticated
    r.login()
    r.close()
    s.stop()


def test_authenticate_plain(srv):
    s = srv()
    # SASL-IR (RFC 4959): the response on the command line.
    r = Raw(s)
    r.cmd(f"AUTHENTICATE PLAIN {sasl_plain(ALICE, ALICE_PW)}")
    r.cmd("SELECT INBOX")
    r.close()
    # Without it: an empty challenge "+ " first.
    r = Raw(s)
    tag = r.tag()
    r.send(f"{tag} AUTHENTICATE PLAIN\r\n")
    assert r.line().rstrip() == b"+"
    r.send(sasl_plain(BOB, BOB_PW) + "\r\n")
    r.until(tag)
    r.close()
    # imaplib's authenticate (no SASL-IR).
    M = connect(s)
    typ, data = M.authenticate(
        "PLAIN", lambda _: f"\0{CAROL}\0{CAROL_PW}".encode())
    assert typ == "OK", data
    M.logout()
    r = Raw(s)
    # The client cancels with "*": BAD.
    tag = r.tag()
    r.send(f"{tag} AUTHENTICATE PLAIN\r\n")
    assert r.line().startswith(b"+")
    r.send("*\r\n")
    r.until(tag, expect="BAD")
    # Garbage instead of base64; an unknown mechanism.
    _, tagged = r.cmd("AUTHENTICATE PLAIN !!!notbase64!!!", expect=None)
    assert tagged.split()[1] in (b"NO", b"BAD"), tagged
    r.cmd("AUTHENTICATE CRAM-MD5", expect="NO")
    # Wrong password; unknown user; an authzid other than the user.
    r = Raw(s)
    for resp in (sasl_plain(ALICE, WRONG_PW),
                 sasl_plain("nobody@example.test", WRONG_PW)):
        _, tagged = r.cmd(f"AUTHENTICATE PLAIN {resp}", expect="NO")
        assert b"[AUTHENTICATIONFAILED]" in tagged, tagged
    r.cmd(f"AUTHENTICATE PLAIN {sasl_plain(ALICE, ALICE_PW, authz=BOB)}",
          expect="NO")
    # authzid equal to the user is fine.
    r.cmd(f"AUTHENTICATE PLAIN {sasl_plain(ALICE, ALICE_PW, authz=ALICE)}")
    r.cmd("SELECT INBOX")
    r.close()
    s.stop()


def test_starttls_then_login(srv):
    s = srv()
    data = mail("over starttls")
    s.put(data)
    M = connect(s, tls="starttls")      # the certificate is verified
    cap = caps(M)
    assert "STARTTLS" not in cap and "AUTH=PLAIN" in cap, cap
    typ, resp = status(M, "STARTTLS")
    assert typ == "BAD", (typ, resp)    # TLS already active
    M.login(ALICE, ALICE_PW)
    M.select("INBOX")
    assert fetch(M, "1", "BODY.PEEK[]")[1]["BODY[]"] == crlf(data)
    M.logout()
    s.stop()


def test_imaps_implicit_tls(srv):
    s = srv()
    data = mail("over imaps")
    s.put(data)
    M = connect(s, tls="implicit")
    cert = M.sock.getpeercert()
    assert ("DNS", HOST) in cert["subjectAltName"], cert
    assert M.sock.version() in ("TLSv1.2", "TLSv1.3")
    cap = caps(M)
    assert "STARTTLS" not in cap and "LOGINDISABLED" not in cap, cap
    M.login(ALICE, ALICE_PW)
    M.select("INBOX")
    assert fetch(M, "1", "BODY.PEEK[]")[1]["BODY[]"] == crlf(data)
    M.logout()
    s.stop()


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_openssl_s_client_starttls(srv):
    s = srv()
    p = subprocess.run(
        ["openssl", "s_client", "-starttls", "imap", "-connect",
         f"127.0.0.1:{s.imap}", "-CAfile", str(s.pki / "cert.pem"),
         "-verify_return_error", "-verify_hostname", HOST, "-crlf",
         "-ign_eof"],
        input=f"a1 LOGIN {ALICE} {ALICE_PW}\nb2 SELECT INBOX\nc3 LOGOUT\n",
        capture_output=True, text=True, timeout=30 * SLOW)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Verify return code: 0 (ok)" in out, out
    assert "a1 OK" in out and "b2 OK" in out and "c3 OK" in out, out
    assert "* BYE" in out, out
    s.stop()


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
def test_curl_imaps_fetch_and_search(srv):
    s = srv()
    one, two = mail("first for curl"), mail("second for curl")
    s.put(one)
    s.put(two)
    base = ["curl", "-sS", "--max-time", str(20 * SLOW), "--cacert",
            str(s.pki / "cert.pem"), "--user", f"{ALICE}:{ALICE_PW}"]

    def curl(*args):
        p = subprocess.run(base + list(args), capture_output=True,
                           timeout=30 * SLOW)
        assert p.returncode == 0, p.stderr
        return p.stdout

    url = f"imaps://127.0.0.1:{s.imaps}/INBOX"
    assert curl(f"{url};UID=1") == crlf(one)
    assert curl(f"{url};UID=2") == crlf(two)
    assert curl(f"{url};UID=2;SECTION=HEADER") == \
        crlf(two).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert re.search(rb"\* SEARCH 1 2\r\n", curl(f"{url}?ALL"))
    # STARTTLS with curl (imap:// with --ssl-reqd).
    assert curl("--ssl-reqd",
                f"imap://127.0.0.1:{s.imap}/INBOX;UID=1") == crlf(one)
    s.stop()


def test_starttls_injection_is_discarded(srv):
    """Plaintext pipelined after STARTTLS must not be executed inside the
    TLS session (CVE-2011-0411 style)."""
    s = srv()
    r = Raw(s)
    r.send("s1 STARTTLS\r\ns2 LOGIN alice@example.test x\r\n"
           "s3 CAPABILITY\r\n")
    got, tagged = r.until("s1")
    assert tagged.startswith(b"s1 OK"), tagged
    time.sleep(0.2 * SLOW)
    r.sock.setblocking(False)
    try:
        extra = r.sock.recv(65536)
    except BlockingIOError:
        extra = b""
    r.sock.setblocking(True)
    r.sock.settimeout(TIMEOUT)
    assert r.buf + extra == b"", (r.buf, extra)     # no plaintext reply
    r.sock = client_ctx(s.pki).wrap_socket(r.sock,
                                           server_hostname="127.0.0.1")
    got, _ = r.cmd("NOOP")
    got2, _ = r.cmd("CAPABILITY")
    for line in got + got2:
        assert not line.startswith((b"s2 ", b"s3 ")), line
    r.login()                       # the session is fine
    r.close()
    s.stop()


# --- 2. SELECT, EXAMINE ---------------------------------------------------


def setup_select(s):
    """3 in cur/ (Seen; Seen+Flagged+$Forwarded; none), 2 in new/."""
    mdir = s.maildir()
    (mdir / "dovecot-keywords").write_text("0 $Forwarded\n")
    s.put(mail("one"), flags="S")
    s.put(mail("two"), flags="FSa")
    s.put(mail("three"))
    s.put(mail("four"), sub="new")
    s.put(mail("five"), sub="new")
    return mdir


def test_select_and_examine_responses(srv):
    s = srv()
    mdir = setup_select(s)
    r = Raw(s)
    r.login()
    got, tagged = r.cmd("SELECT INBOX")
    assert b"[READ-WRITE]" in tagged.upper(), tagged
    info = select_info(got)
    assert info["EXISTS"] == 5, got
    assert 2 <= info["RECENT"] <= 5, got     # at least those in new/
    assert upper(info["FLAGS"]) >= SYSTEM_FLAGS | {"$FORWARDED"}, got
    perm = set(info["PERMANENTFLAGS"].strip("()").split())
    assert upper(perm) >= SYSTEM_FLAGS | {"\\*"}, got
    assert int(info["UNSEEN"]) == 3, got        # the first unseen
    uidvalidity = int(info["UIDVALIDITY"])
    assert uidvalidity > 0
    assert int(info["UIDNEXT"]) == 6, got
    # The session saw new/: those moved to cur/.
    deadline = time.monotonic() + NOTIFY
    while files_in(mdir, "new"):
        assert time.monotonic() < deadline, files_in(mdir, "new")
        time.sleep(0.05)
    assert len(files_in(mdir, "cur")) == 5
    # A second session: the same mailbox, nothing recent any more.
    r2 = Raw(s)
    r2.login()
    got, tagged = r2.cmd("EXAMINE INBOX")
    assert b"[READ-ONLY]" in tagged.upper(), tagged
    info = select_info(got)
    assert info["EXISTS"] == 5 and info["RECENT"] == 0, got
    assert int(info["UIDVALIDITY"]) == uidvalidity
    assert int(info["UIDNEXT"]) == 6
    # SELECT inbox: the name INBOX is case-insensitive.
    got, tagged = r2.cmd("SELECT inbox")
    assert b"[READ-WRITE]" in tagged.upper(), tagged
    assert select_info(got)["EXISTS"] == 5
    r.close()
    r2.close()
    s.stop()


def test_examine_and_status_see_recent_without_taking_it(srv):
    """RFC 3501 6.3.2: EXAMINE reports \\Recent but does not clear it;
    STATUS counts it; the next SELECT still gets the messages as
    recent, and moves them from new/ to cur/."""
    s = srv()
    for i in range(3):
        s.put(mail(f"fresh {i}"), sub="new")
    r = Raw(s)
    r.login()
    got, _ = r.cmd("STATUS INBOX (MESSAGES RECENT)")
    assert b"RECENT 3" in got[0].upper(), got
    got, tagged = r.cmd("EXAMINE INBOX")
    assert select_info(got)["RECENT"] == 3, got
    got, _ = r.cmd("FETCH 1 FLAGS")
    assert b"\\RECENT" in got[0].upper(), got
    mdir = s.maildir()
    assert len(files_in(mdir, "new")) == 3     # read-only: not moved
    got, _ = r.cmd("SELECT INBOX")
    assert select_info(got)["RECENT"] == 3, got
    r2 = Raw(s)
    r2.login()
    got, _ = r2.cmd("STATUS INBOX (RECENT)")
    assert b"RECENT 0" in got[0].upper(), got
    r.close()
    r2.close()
    s.stop()


def test_select_maildirpp_folder_and_missing_mailbox(srv):
    s = srv()
    s.put(mail("inbox only"))
    for i in range(2):
        s.put(mail(f"sent {i}"), folder="Sent", flags="S")
    M = login(s)
    typ, data = M.select("Sent")
    assert typ == "OK" and int(data[0]) == 2, data
    res = fetch(M, "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert sorted(v["BODY[HEADER.FIELDS (SUBJECT)]"] for v in
                  res.values()) == [b"Subject: sent 0\r\n\r\n",
                                    b"Subject: sent 1\r\n\r\n"]
    typ, data = M.select("INBOX")
    assert typ == "OK" and int(data[0]) == 1, data
    # A mailbox that does not exist: NO, and nothing is selected now.
    typ, data = status(M, "SELECT", "Nonexistent")
    assert typ == "NO", data
    typ, data = status(M, "FETCH", "1", "FLAGS")
    assert typ == "BAD", data
    typ, data = status(M, "EXAMINE", "Nonexistent")
    assert typ == "NO", data
    # CHECK in the selected state.
    M.select("Sent")
    typ, data = M.check()
    assert typ == "OK", data
    M.logout()
    assert not (s.maildir() / ".Nonexistent").exists()
    s.stop()


# --- 3. FETCH ------------------------------------------------------------


RFC_EXAMPLE = (
    b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
    b"From: Terry Gray <gray@cac.washington.edu>\n"
    b"Subject: IMAP4rev1 WG mtg summary and minutes\n"
    b"To: imap@cac.washington.edu\n"
    b"Cc: minutes@CNRI.Reston.VA.US,\n"
    b"    John Klensin <KLENSIN@MIT.EDU>\n"
    b"Bcc: undisclosed-recipients:;\n"
    b"Reply-To: \"Gray, Terry\" <reply@cac.washington.edu>\n"
    b"In-Reply-To: <prev@cac.washington.edu>\n"
    b"Message-Id: <B27397-0100000@cac.washington.edu>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
    b"\n"
    b"Minutes of the meeting.\n"
    b"Second line.\n"
    b"\n"
    b"Third line, after an empty one.\n")

RFC_ENVELOPE = [
    b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
    b"IMAP4rev1 WG mtg summary and minutes",
    [[b"Terry Gray", None, b"gray", b"cac.washington.edu"]],
    [[b"Terry Gray", None, b"gray", b"cac.washington.edu"]],
    [[b"Gray, Terry", None, b"reply", b"cac.washington.edu"]],
    [[None, None, b"imap", b"cac.washington.edu"]],
    [[None, None, b"minutes", b"CNRI.Reston.VA.US"],
     [b"John Klensin", None, b"KLENSIN", b"MIT.EDU"]],
    [[None, None, b"undisclosed-recipients", None],
     [None, None, None, None]],
    b"<prev@cac.washington.edu>",
    b"<B27397-0100000@cac.washington.edu>"]


def fold(v):
    """Case-folded copy of parsed data (type names, parameter names and
    encodings are case-insensitive)."""
    if isinstance(v, list):
        return [fold(x) for x in v]
    if isinstance(v, (bytes, str)):
        return v.lower() if isinstance(v, str) else bytes(v).lower()
    return v


def test_fetch_each_item(srv):
    s = srv()
    mtime = calendar.timegm((2024, 3, 5, 14, 30, 15))
    s.put(RFC_EXAMPLE, mtime=mtime, flags="F")
    data = crlf(RFC_EXAMPLE)
    head, body = data.split(b"\r\n\r\n", 1)
    head += b"\r\n\r\n"
    M = login(s, select="INBOX")
    items = ("(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE UID BODY "
             "BODYSTRUCTURE RFC822.HEADER)")
    got = fetch(M, "1", items)[1]
    assert upper(got["FLAGS"]) - {"\\RECENT"} == {"\\FLAGGED"}, got
    assert int(got["UID"]) == 1
    assert int(got["RFC822.SIZE"]) == len(data)
    t = imaplib.Internaldate2tuple(b'INTERNALDATE "' + got["INTERNALDATE"]
                                   + b'"')
    assert t is not None, got["INTERNALDATE"]
    assert time.mktime(t) == mtime, got["INTERNALDATE"]
    assert re.fullmatch(rb"[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d "
                        rb"[+-]\d{4}", got["INTERNALDATE"]), got
    assert got["ENVELOPE"] == RFC_ENVELOPE, got["ENVELOPE"]
    lines = body.count(b"\r\n")
    want = [b"text", b"plain", [b"charset", b"us-ascii"], None, None,
            b"7bit", str(len(body)), str(lines)]
    assert fold(got["BODY"]) == fold(want), got["BODY"]
    bs = got["BODYSTRUCTURE"]
    assert fold(bs[:8]) == fold(want), bs
    assert got["RFC822.HEADER"] == head
    # RFC822.HEADER did not set \Seen; RFC822.TEXT and RFC822 do.
    assert "\\SEEN" not in upper(fetch(M, "1", "FLAGS")[1]["FLAGS"])
    got = fetch(M, "1", "RFC822.TEXT")[1]
    assert got["RFC822.TEXT"] == body
    assert "\\SEEN" in upper(fetch(M, "1", "FLAGS")[1]["FLAGS"])
    assert fetch(M, "1", "RFC822")[1]["RFC822"] == data
    # The macros.
    assert set(fetch(M, "1", "FAST")[1]) == {"FLAGS", "INTERNALDATE",
                                            "RFC822.SIZE"}
    assert set(fetch(M, "1", "ALL")[1]) == {"FLAGS", "INTERNALDATE",
                                           "RFC822.SIZE", "ENVELOPE"}
    assert set(fetch(M, "1", "FULL")[1]) == {"FLAGS", "INTERNALDATE",
                                            "RFC822.SIZE", "ENVELOPE",
                                            "BODY"}
    M.logout()
    s.stop()


def test_fetch_lf_stored_served_crlf_and_partials(srv):
    s = srv()
    lf = mail("partials", "line one\nline two\n\nline four\n")
    s.put(lf)
    # Already CRLF on disk: served as is, never CR CR LF.
    crlf_stored = crlf(mail("stored with crlf", "a\nb\n"))
    s.put(crlf_stored, raw=True)
    # No ,S=,W= in the name: the server computes the sizes.
    nosize = mail("no sizes in the name", "x\n" * 100)
    s.put(nosize, sizes=False)
    M = login(s, select="INBOX")
    got = fetch(M, "1:3", "(RFC822.SIZE BODY.PEEK[])")
    for n, want in ((1, crlf(lf)), (2, crlf_stored), (3, crlf(nosize))):
        assert got[n]["BODY[]"] == want, n
        assert int(got[n]["RFC822.SIZE"]) == len(want), n
        assert b"\r\r" not in got[n]["BODY[]"]
        assert re.search(rb"[^\r]\n", got[n]["BODY[]"]) is None
    data = crlf(lf)
    first = data.index(b"\r\n")
    body = data.split(b"\r\n\r\n", 1)[1]
    got = fetch(M, "1", "(BODY.PEEK[]<0.10> BODY.PEEK[TEXT]<3.7>)")[1]
    assert got["BODY[]<0>"] == data[:10], got
    assert got["BODY[TEXT]<3>"] == body[3:10], got
    # A partial that ends between the CR and the LF of a line end.
    got = fetch(M, "1", f"BODY.PEEK[]<{first - 3}.4>")[1]
    assert got[f"BODY[]<{first - 3}>"] == data[first - 3:first + 1]
    got = fetch(M, "1", f"BODY.PEEK[]<{first + 1}.5>")[1]
    assert got[f"BODY[]<{first + 1}>"] == data[first + 1:first + 6]
    # Past the end: truncated; starting past the end: empty.
    got = fetch(M, "1", f"BODY.PEEK[]<{len(data) - 5}.1000>")[1]
    assert got[f"BODY[]<{len(data) - 5}>"] == data[-5:]
    got = fetch(M, "1", "BODY.PEEK[]<100000.10>")[1]
    assert got["BODY[]<100000>"] == b""
    assert "\\SEEN" not in upper(fetch(M, "1", "FLAGS")[1]["FLAGS"])
    M.logout()
    s.stop()


def test_every_partial_of_a_mixed_line_end_message(srv):
    """Every <start.count> window of BODY[], TEXT and HEADER of a message
    mixing bare LF and CR LF, with a dot line and no final newline, is
    the same window of its CRLF form (a window ending just before a bare
    LF once made the server pad forever)."""
    s = srv()
    raw = b"Subject: x\n\nab\r\ncd\nef\n\n\r\n.x\nlast"
    s.put(raw, raw=True)
    data = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
    head, text = data[:data.index(b"\r\n\r\n") + 4], \
        data[data.index(b"\r\n\r\n") + 4:]
    M = login(s, select="INBOX")
    for sec, ref in (("", data), ("TEXT", text), ("HEADER", head)):
        counts = range(1, len(ref) + 3) if sec == "" else \
            (1, 2, 3, len(ref) + 2)
        for st in range(len(ref) + 2):
            for c in counts:
                one = fetch(M, "1", f"BODY.PEEK[{sec}]<{st}.{c}>")[1]
                assert one[f"BODY[{sec}]<{st}>"] == ref[st:st + c], \
                    (sec, st, c)
    M.logout()
    s.stop()


def png_base64(rng):
    raw = bytes(rng.getrandbits(8) for _ in range(300))
    b = base64.b64encode(raw).decode()
    return "\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def multipart_message(rng=None):
    """A multipart/mixed with a QP part, a multipart/alternative, a base64
    image and a message/rfc822; returns (LF bytes, expected sections of
    the CRLF form)."""
    rng = rng or random.Random(4242)
    b64 = png_base64(rng)
    hidden = base64.b64encode(
        b"Text in base64: hidden-in-base64 and more.\n").decode()
    parts = {
        "1.MIME": "Content-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: quoted-printable\n\n",
        "1": "Gr=C3=BC=C3=9Fe, caf=C3=A9 needle-qp, needle=\n-split here",
        "2.1": "plain alternative",
        "2.2": "<p>html alternative</p>",
        "3": b64,
        "4.HEADER": "From: inner@example.net\nSubject: inner message\n\n",
        "4.TEXT": "inner body",
        "5": hidden,
    }
    part2 = ("--INNER\nContent-Type: text/plain\n\n" + parts["2.1"] +
             "\n--INNER\nContent-Type: text/html\n\n" + parts["2.2"] +
             "\n--INNER--\n")
    parts["2"] = part2
    parts["4"] = parts["4.HEADER"] + parts["4.TEXT"]
    parts["4.1"] = parts["4.TEXT"]
    head = ("From: A Sender <a@example.net>\n"
            "To: Alice <alice@example.test>\n"
            "Subject: multipart test\n"
            "X-Long: first\n second\n"
            "Date: Fri, 15 Mar 2024 12:00:00 +0000\n"
            "Message-ID: <multi@example.net>\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="OUTER"\n\n')
    text = ("preamble\n"
            "--OUTER\n" + parts["1.MIME"] + parts["1"] + "\n"
            "--OUTER\n"
            'Content-Type: multipart/alternative; boundary="INNER"\n\n'
            + part2 + "\n"
            "--OUTER\n"
            'Content-Type: image/png; name="x.png"\n'
            "Content-Transfer-Encoding: base64\n"
            'Content-Disposition: attachment; filename="x.png"\n\n'
            + b64 + "\n"
            "--OUTER\n"
            "Content-Type: message/rfc822\n\n"
            + parts["4"] + "\n"
            "--OUTER\n"
            "Content-Type: text/plain\n"
            "Content-Transfer-Encoding: base64\n\n"
            + hidden + "\n"
            "--OUTER--\n"
            "epilogue\n")
    parts["HEADER"] = head
    parts["TEXT"] = text
    want = {k: crlf(v.encode()) for k, v in parts.items()}
    return (head + text).encode(), want


def test_fetch_sections_of_a_multipart(srv):
    s = srv()
    data, want = multipart_message()
    s.put(data)
    M = login(s, select="INBOX")
    for sec in ("HEADER", "TEXT", "1", "1.MIME", "2", "2.1", "2.2", "3",
                "4", "4.HEADER", "4.TEXT", "4.1", "5"):
        got = fetch(M, "1", f"BODY.PEEK[{sec}]")[1]
        assert got[f"BODY[{sec}]"] == want[sec], sec
    full = crlf(data)
    got = fetch(M, "1", "BODY.PEEK[HEADER.FIELDS (Subject From X-Long "
                        "X-Missing)]")[1]
    [(key, val)] = got.items()
    assert key.upper() == "BODY[HEADER.FIELDS (SUBJECT FROM X-LONG " \
                          "X-MISSING)]", key
    assert val == (b"From: A Sender <a@example.net>\r\n"
                   b"Subject: multipart test\r\n"
                   b"X-Long: first\r\n second\r\n\r\n"), val
    got = fetch(M, "1", "BODY.PEEK[HEADER.FIELDS.NOT (Subject From "
                        "X-Long Content-Type Message-ID)]")[1]
    [val] = got.values()
    assert val == (b"To: Alice <alice@example.test>\r\n"
                   b"Date: Fri, 15 Mar 2024 12:00:00 +0000\r\n"
                   b"MIME-Version: 1.0\r\n\r\n"), val
    got = fetch(M, "1", "BODY.PEEK[HEADER.FIELDS (X-Missing)]")[1]
    assert list(got.values()) == [b"\r\n"], got
    got = fetch(M, "1", "BODY.PEEK[4.HEADER.FIELDS (SUBJECT)]")[1]
    assert list(got.values()) == [b"Subject: inner message\r\n\r\n"], got
    # Several sections in one FETCH, with a partial.
    got = fetch(M, "1", "(BODY.PEEK[1] BODY.PEEK[2.2]<3.4> "
                        "BODY.PEEK[]<0.4> RFC822.SIZE)")[1]
    assert got["BODY[1]"] == want["1"]
    assert got["BODY[2.2]<3>"] == want["2.2"][3:7]
    assert got["BODY[]<0>"] == full[:4]
    assert int(got["RFC822.SIZE"]) == len(full)
    # The structure: mixed of (text, alternative(text, html), image,
    # message/rfc822, text), with the sizes of the CRLF form.
    bs = fold(fetch(M, "1", "BODYSTRUCTURE")[1]["BODYSTRUCTURE"])
    assert bs[5] == b"mixed", bs
    p1, p2, p3, p4, p5 = bs[:5]
    assert p1[:2] == [b"text", b"plain"] and p1[5] == b"quoted-printable"
    assert int(p1[6]) == len(want["1"])
    assert p2[2] == b"alternative" and p2[0][1] == b"plain" \
        and p2[1][1] == b"html"
    assert p3[:2] == [b"image", b"png"] and p3[5] == b"base64"
    assert int(p3[6]) == len(want["3"])
    assert p4[:2] == [b"message", b"rfc822"]
    assert int(p4[6]) == len(want["4"])
    assert p4[7][1] == b"inner message"             # its ENVELOPE
    assert p5[5] == b"base64"
    M.logout()
    s.stop()


def bodystructure_corpus():
    """Messages whose BODYSTRUCTURE, BODY and ENVELOPE wren must give
    exactly as Dovecot does."""
    out = [RFC_EXAMPLE, multipart_message()[0]]
    out.append(b"From: plain@example.net\nSubject: no content-type\n\n"
               b"Just text.\n")
    out.append(b"From: x@example.net\nSubject: detailed\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: text/html; charset=\"ISO-8859-1\"; "
               b"format=flowed\n"
               b"Content-ID: <cid1@example.net>\n"
               b"Content-Description: A description\n"
               b"Content-Transfer-Encoding: 8bit\n"
               b"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
               b"Content-Disposition: inline; filename=\"a.html\"\n"
               b"Content-Language: en, de\n"
               b"Content-Location: http://example.net/a.html\n"
               b"\n<p>caf\xe9</p>\n")
    out.append(b"From: y@example.net\nSubject: nested message\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: message/rfc822\n\n"
               b"From: z@example.net\nSubject: inside\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: multipart/alternative; boundary=b1\n\n"
               b"--b1\nContent-Type: text/plain\n\nplain\n"
               b"--b1\nContent-Type: text/enriched\n\n<bold>x</bold>\n"
               b"--b1--\n")
    out.append(b"From: q@example.net\nSubject: application part\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: multipart/mixed; boundary=\"=_b\"\n\n"
               b"--=_b\nContent-Type: application/pdf; name=doc.pdf\n"
               b"Content-Transfer-Encoding: base64\n\n"
               b"JVBERi0xLjQK\n--=_b--\n")
    out.append(b"From: \"=?UTF-8?Q?J=C3=B6rg?=\" <joerg@example.net>\n"
               b"To: a@example.net, b@example.net\n"
               b"Subject: =?UTF-8?B?R3LDvMOfZQ==?=\n"
               b"Date: Sat, 01 Jun 2024 08:00:00 +0200\n\nbody\n")
    return out


@pytest.mark.skipif(not dovecot_available(),
                    reason="needs dovecot-core and root")
def test_bodystructure_envelope_as_dovecot(srv):
    tmp = Path(tempfile.mkdtemp(prefix="wren-imap-bs-", dir="/tmp"))
    try:
        os.chmod(tmp, 0o755)
        s = srv(mail_root=tmp / "mail")
        corpus = bodystructure_corpus()
        for data in corpus:
            s.put(data)
        M = login(s, select="INBOX")
        ours = fetch(M, "1:*", "(UID BODYSTRUCTURE BODY ENVELOPE)")
        M.logout()
        s.stop()
        assert len(ours) == len(corpus)
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
            theirs = {int(m["uid"]): m for m in json.loads(p.stdout)}
        log = (tmp / "dovecot.log").read_text(errors="replace")
        assert "uidlist" not in log.lower(), log   # ours was fine for it
        for seq, got in ours.items():
            uid = int(got["UID"])
            ref = theirs[uid]
            for ours_key, ref_key in (("BODYSTRUCTURE", "imap.bodystructure"),
                                      ("BODY", "imap.body"),
                                      ("ENVELOPE", "imap.envelope")):
                want = parse(b"(" + ref[ref_key].encode("latin-1") + b")")[0]
                assert fold(got[ours_key]) == fold(want), \
                    (uid, ours_key, got[ours_key], want)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_seen_set_by_body_not_by_peek(srv):
    s = srv()
    for i in range(4):
        s.put(mail(f"seen {i}"))
    mdir = s.maildir()
    M = login(s, select="INBOX")
    fetch(M, "1", "BODY.PEEK[]")
    fetch(M, "1", "BODY.PEEK[HEADER]")
    fetch(M, "1", "RFC822.HEADER")
    assert "\\SEEN" not in upper(fetch(M, "1", "FLAGS")[1]["FLAGS"])
    # BODY[] sets it, and says so in the same FETCH response.
    fetch(M, "1", "BODY[]")
    fetch(M, "2", "BODY[HEADER]")
    fetch(M, "3", "BODY[1]<0.2>")
    got = fetch(M, "1:3", "FLAGS")
    for n in (1, 2, 3):
        assert "\\SEEN" in upper(got[n]["FLAGS"]), n
    assert "\\SEEN" not in upper(fetch(M, "4", "FLAGS")[4]["FLAGS"])
    M.logout()
    letters = sorted(flag_letters(p) for p in files_in(mdir))
    assert letters == ["", "S", "S", "S"], letters
    # In a read-only mailbox BODY[] does not set it.
    M = login(s, select="INBOX", readonly=True)
    fetch(M, "4", "BODY[]")
    assert "\\SEEN" not in upper(fetch(M, "4", "FLAGS")[4]["FLAGS"])
    M.logout()
    assert sorted(flag_letters(p) for p in files_in(mdir)) == letters
    s.stop()


def test_uid_fetch_and_sequence_sets(srv):
    s = srv()
    paths = [s.put(mail(f"m{i}")) for i in range(1, 6)]
    M = login(s, select="INBOX")
    assert [int(v["UID"]) for _, v in sorted(fetch(M, "1:*", "UID").items())] \
        == [1, 2, 3, 4, 5]
    M.logout()
    os.unlink(paths[1])             # UID 2 goes: seqs 1..4 = UIDs 1,3,4,5
    M = login(s, select="INBOX")

    def uids(msgset, uid=False):
        got = fetch(M, msgset, "(UID FLAGS)", uid=uid)
        return sorted((n, int(v["UID"])) for n, v in got.items())

    assert uids("1:*") == [(1, 1), (2, 3), (3, 4), (4, 5)]
    assert uids("*") == [(4, 5)]
    assert uids("3:1") == [(1, 1), (2, 3), (3, 4)]
    assert uids("*:3") == [(3, 4), (4, 5)]
    assert uids("1,3:*") == [(1, 1), (3, 4), (4, 5)]
    assert uids("2,2,1") == [(1, 1), (2, 3)]
    assert uids("2:4", uid=True) == [(2, 3), (3, 4)]
    assert uids("4:*", uid=True) == [(3, 4), (4, 5)]
    assert uids("100:*", uid=True) == [(4, 5)]      # * is the largest
    assert uids("2", uid=True) == []                 # gone: no data, OK
    assert uids("1,5", uid=True) == [(1, 1), (4, 5)]
    # UID FETCH responses carry the UID even when not asked for.
    got = fetch(M, "3", "FLAGS", uid=True)
    assert got == {2: got[2]} and int(got[2]["UID"]) == 3, got
    for bad in ("0", "1:0", "x", "1:", "6", "1,,2"):
        typ, data = status(M, "FETCH", bad, "FLAGS")
        assert typ in ("BAD", "NO"), (bad, typ, data)
    M.logout()
    s.stop()


# --- 4. SEARCH -----------------------------------------------------------


def day(y, m, d):
    return calendar.timegm((y, m, d, 12, 0, 0))


def search_corpus(s):
    """Seven messages (seq n = UID n + 1: a first message was seen and
    then removed). Returns the IMAPServer's INBOX path."""
    mdir = s.maildir()
    (mdir / "dovecot-keywords").write_text("0 $Work\n1 $Todo\n")
    gone = s.put(mail("removed before the test"))
    big = "\n".join(f"filler line {i} " + "x" * 60 for i in range(300))
    multi, _ = multipart_message()
    msgs = [
        (mail("Quarterly Report", "numbers are up\n",
              sender="Alice Example <alice@example.net>",
              to="Bob <bob@example.org>",
              date="Wed, 10 Jan 2024 12:00:00 +0000",
              headers=[("Cc", "Carol <carol@example.com>")]),
         "S", day(2024, 1, 11)),
        (mail("lunch?", "pizza or sushi\n", sender="Bob <bob@example.org>",
              to="Alice <alice@example.test>",
              date="Mon, 05 Feb 2024 12:00:00 +0000",
              headers=[("Bcc", "secret@example.com")]),
         "FSa", day(2024, 2, 5)),
        (mail("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "greetings\n",
              sender="Carol <carol@example.com>", to="alice@example.test",
              date="Fri, 01 Mar 2024 12:00:00 +0000"),
         "RS", day(2024, 3, 1)),
        (multi, "", day(2024, 3, 15)),
        (mail("big one", big + "\n", to="alice@example.test",
              date="Mon, 01 Apr 2024 12:00:00 +0000"),
         "T", day(2024, 4, 1)),
        (mail("Newsletter", "news\n", to="alice@example.test",
              date="Sat, 20 Apr 2024 12:00:00 +0000",
              headers=[("X-Mailer", "wren-test-mailer 1.0"),
                       ("List-Id", "<news.example.org>")]),
         "Db", day(2024, 4, 20)),
    ]
    for data, flags, mtime in msgs:
        s.put(data, flags=flags, mtime=mtime)
    M = login(s, select="INBOX")    # takes \Recent of all of these
    M.logout()
    os.unlink(gone)
    s.put(mail("fresh", "just arrived\n", to="alice@example.test",
               date="Wed, 01 May 2024 12:00:00 +0000"),
          sub="new", mtime=day(2024, 5, 1))
    return mdir


ALL7 = [1, 2, 3, 4, 5, 6, 7]


def but(*xs):
    return [x for x in ALL7 if x not in xs]


def test_search_flags_keywords_recent(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    cases = {
        "ALL": ALL7, "ANSWERED": [3], "UNANSWERED": but(3),
        "DELETED": [5], "UNDELETED": but(5), "DRAFT": [6],
        "UNDRAFT": but(6), "FLAGGED": [2], "UNFLAGGED": but(2),
        "SEEN": [1, 2, 3], "UNSEEN": [4, 5, 6, 7],
        "KEYWORD $Work": [2], "UNKEYWORD $Work": but(2),
        "KEYWORD $Todo": [6], "KEYWORD $Nonexistent": [],
        "UNKEYWORD $Nonexistent": ALL7,
        "RECENT": [7], "NEW": [7], "OLD": but(7),
    }
    for key, want in cases.items():
        assert search(M, *key.split()) == want, key
    M.logout()
    s.stop()


def test_search_addresses_headers_and_text(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    cases = [
        (("FROM", "alice"), [1]), (("FROM", "EXAMPLE.ORG"), [2]),
        (("FROM", '"Bob"'), [2]), (("FROM", "nobody-at-all"), []),
        (("TO", "bob@example"), [1]), (("CC", "carol"), [1]),
        (("BCC", "SECRET"), [2]), (("SUBJECT", "report"), [1]),
        (("SUBJECT", '"Quarterly Report"'), [1]),
        (("HEADER", "X-Mailer", "wren-test"), [6]),
        (("HEADER", "List-Id", '""'), [6]),
        (("HEADER", "Message-ID", '""'), ALL7),
        (("BODY", "pizza"), [2]), (("BODY", "PIZZA"), [2]),
        (("BODY", "quarterly"), []),        # only in the header
        (("TEXT", "quarterly"), [1]), (("TEXT", "sushi"), [2]),
        (("TEXT", "alice@example.net"), [1]),
        # Decoded bodies: a QP soft line break, a base64 part.
        (("BODY", "needle-split"), [4]),
        (("BODY", "hidden-in-base64"), [4]),
        (("BODY", '"filler line 299"'), [5]),
    ]
    for key, want in cases:
        assert search(M, *key) == want, key
    M.logout()
    s.stop()


def test_search_dates_and_sizes(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    sizes = {n: int(v["RFC822.SIZE"]) for n, v in
             fetch(M, "1:*", "RFC822.SIZE").items()}
    assert sizes[5] > 20000 > max(v for k, v in sizes.items() if k != 5)
    cases = [
        ("BEFORE 1-Feb-2024", [1]), ("BEFORE 11-Jan-2024", []),
        ("ON 11-Jan-2024", [1]), ("ON 10-Jan-2024", []),
        ("SINCE 15-Mar-2024", [4, 5, 6, 7]), ("SINCE 2-May-2024", []),
        ("SENTON 10-Jan-2024", [1]), ("SENTON 11-Jan-2024", []),
        ("SENTBEFORE 1-Mar-2024", [1, 2]),
        ("SENTSINCE 20-Apr-2024", [6, 7]),
        ("SINCE 1-Feb-2024 BEFORE 2-Mar-2024", [2, 3]),
        ("LARGER 20000", [5]), ("SMALLER 20000", but(5)),
        (f"LARGER {sizes[5]}", []), (f"SMALLER {sizes[5]}", but(5)),
        (f"LARGER {sizes[5] - 1}", [5]),
    ]
    for key, want in cases:
        assert search(M, *key.split()) == want, key
    M.logout()
    s.stop()


def test_search_logic_and_sets(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    cases = [
        ("NOT SEEN", [4, 5, 6, 7]), ("NOT NOT SEEN", [1, 2, 3]),
        ("OR SEEN FLAGGED", [1, 2, 3]),
        ("OR FROM bob SUBJECT report", [1, 2]),
        ("(SEEN FLAGGED)", [2]), ("NOT (SEEN FLAGGED)", but(2)),
        ("SEEN UNFLAGGED", [1, 3]),
        ("OR (FROM alice) (OR FROM bob FROM carol)", [1, 2, 3]),
        ("OR DELETED (DRAFT KEYWORD $Todo)", [5, 6]),
        ("2:4", [2, 3, 4]), ("2:4 SEEN", [2, 3]), ("*", [7]),
        ("5:*", [5, 6, 7]), ("NOT 1:5", [6, 7]),
        ("UID 2:3", [1, 2]), ("UID 1", []), ("UID *", [7]),
        ("ALL UNSEEN NOT DELETED", [4, 6, 7]),
        ("((((SEEN))))", [1, 2, 3]),
    ]
    for key, want in cases:
        typ, data = status(M, "SEARCH", key)
        assert typ == "OK", (key, data)
        got = [int(x) for x in b" ".join(
            d for d in M.response("SEARCH")[1] if d).split()]
        assert got == want, key
    M.logout()
    s.stop()


def test_uid_search(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    assert search(M, "ALL", uid=True) == [x + 1 for x in ALL7]
    assert search(M, "SEEN", uid=True) == [2, 3, 4]
    assert search(M, "UID", "2:3", uid=True) == [2, 3]
    assert search(M, "2:3", uid=True) == [3, 4]     # seqs 2:3 -> UIDs
    assert search(M, "UID", "1", uid=True) == []
    assert search(M, "FROM", "bob", uid=True) == [3]
    assert search(M, "NOT", "UID", "1:5", uid=True) == [6, 7, 8]
    M.logout()
    s.stop()


def test_search_charset_utf8(srv):
    s = srv()
    search_corpus(s)
    M = login(s, select="INBOX")
    for key, needle, want in (("SUBJECT", "Grüße", [3]),
                              ("BODY", "café", [4]),
                              ("TEXT", "Grüße", [3, 4]),
                              ("SUBJECT", "Grüßen", [])):
        M.literal = needle.encode()
        assert search(M, key, charset="UTF-8") == want, (key, needle)
    # ASCII needles: case-insensitive whatever the charset.
    assert search(M, "SUBJECT", "QUARTERLY", charset="UTF-8") == [1]
    assert search(M, "SUBJECT", "quarterly", charset="US-ASCII") == [1]
    # UID SEARCH with CHARSET.
    M.literal = "Grüße".encode()
    assert search(M, "SUBJECT", charset="UTF-8", uid=True) == [4]
    M.logout()
    s.stop()


def test_search_badcharset_and_bad_keys(srv):
    s = srv()
    search_corpus(s)
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    _, tagged = r.cmd("SEARCH CHARSET X-NO-SUCH-CHARSET SUBJECT x",
                      expect="NO")
    assert b"[BADCHARSET" in tagged.upper(), tagged
    for key in ("FOO", "FROM", "BEFORE notadate", "BEFORE 1-Foo-2024",
                "LARGER x", "OR SEEN", "(SEEN", "SEEN)", "KEYWORD",
                "HEADER X-Mailer", "UID x"):
        r.cmd(f"SEARCH {key}", expect="BAD")
    got, _ = r.cmd("SEARCH SEEN")
    assert got == [b"* SEARCH 1 2 3"], got
    r.close()
    s.stop()


# --- 5. STORE, EXPUNGE, CLOSE --------------------------------------------


def store(M, msgset, op, flags, uid=False):
    if uid:
        typ, data = M.uid("STORE", msgset, op, flags)
    else:
        typ, data = M.store(msgset, op, flags)
    assert typ == "OK", (typ, data)
    return fetch_map(joined(data))


def disk_flags(mdir):
    """{subject: flag letters} of the files in cur/."""
    out = {}
    for p in files_in(mdir):
        m = re.search(rb"\nSubject: (.*)\n", b"\n" + p.read_bytes())
        out[m.group(1).decode()] = flag_letters(p)
    return out


def test_store_flags(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2, 3):
        s.put(mail(f"s{i}"))
    M = login(s, select="INBOX")
    got = store(M, "1", "+FLAGS", r"(\Flagged)")
    assert upper(got[1]["FLAGS"]) - {"\\RECENT"} == {"\\FLAGGED"}, got
    assert disk_flags(mdir) == {"s1": "F", "s2": "", "s3": ""}
    got = store(M, "1", "+FLAGS.SILENT", r"(\Seen)")
    assert got == {}, got
    assert disk_flags(mdir)["s1"] == "FS"
    got = store(M, "1", "-FLAGS", r"(\Flagged)")
    assert upper(got[1]["FLAGS"]) - {"\\RECENT"} == {"\\SEEN"}, got
    got = store(M, "2", "FLAGS", r"(\Answered \Draft)")
    assert upper(got[2]["FLAGS"]) - {"\\RECENT"} == {"\\ANSWERED",
                                                     "\\DRAFT"}
    got = store(M, "3", "FLAGS",
                r"(\Seen \Answered \Flagged \Draft \Deleted)")
    assert disk_flags(mdir) == {"s1": "S", "s2": "DR", "s3": "DFRST"}
    got = store(M, "1:3", "FLAGS.SILENT", "()")
    assert got == {}
    assert disk_flags(mdir) == {"s1": "", "s2": "", "s3": ""}
    # UID STORE: the untagged FETCH carries the UID.
    got = store(M, "2", "+FLAGS", r"(\Seen)", uid=True)
    assert int(got[2]["UID"]) == 2, got
    assert "\\SEEN" in upper(got[2]["FLAGS"])
    # Unchanged across a new session (they are in the file names).
    M.logout()
    M = login(s, select="INBOX")
    got = fetch(M, "1:3", "FLAGS")
    assert [upper(got[n]["FLAGS"]) - {"\\RECENT"} for n in (1, 2, 3)] == \
        [set(), {"\\SEEN"}, set()]
    for bad in (r"(\Bogus)", r"(\Recent)"):
        typ, data = status(M, "STORE", "1", "+FLAGS", bad)
        assert typ in ("BAD", "NO"), (bad, typ, data)
    typ, data = status(M, "STORE", "1", "REPLACEFLAGS", r"(\Seen)")
    assert typ == "BAD", data
    M.logout()
    assert disk_flags(mdir) == {"s1": "", "s2": "S", "s3": ""}
    s.stop()


def test_store_keywords_on_disk(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2):
        s.put(mail(f"k{i}"))
    M = login(s, select="INBOX")
    got = store(M, "1", "+FLAGS", r"($Work Todo \Seen)")
    assert upper(got[1]["FLAGS"]) - {"\\RECENT"} == {"$WORK", "TODO",
                                                     "\\SEEN"}, got
    kw = keywords_file(mdir)
    assert set(kw.values()) == {"$Work", "Todo"}, kw
    letter = {name: chr(ord("a") + i) for i, name in kw.items()}
    assert disk_flags(mdir)["k1"] == "S" + "".join(sorted(letter.values()))
    store(M, "2", "+FLAGS", "(Todo)")
    assert disk_flags(mdir)["k2"] == letter["Todo"]
    store(M, "1", "-FLAGS", "($Work)")
    assert disk_flags(mdir)["k1"] == "S" + letter["Todo"]
    M.logout()
    # A new session lists the keywords in FLAGS and sees them set.
    r = Raw(s)
    r.login()
    got, _ = r.cmd("SELECT INBOX")
    info = select_info(got)
    assert {"$WORK", "TODO"} <= upper(info["FLAGS"]), got
    assert {"$WORK", "TODO"} <= upper(
        info["PERMANENTFLAGS"].strip("()").split()) or \
        "\\*" in info["PERMANENTFLAGS"], got
    got, _ = r.cmd("FETCH 1:2 FLAGS")
    fl = {n: upper(v["FLAGS"]) - {"\\RECENT"}
          for n, v in fetch_map(got).items()}
    assert fl == {1: {"\\SEEN", "TODO"}, 2: {"TODO"}}, fl
    got, _ = r.cmd("SEARCH KEYWORD Todo")
    assert got == [b"* SEARCH 1 2"], got
    r.close()
    s.stop()


def test_deleted_and_expunge_remove_files(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2, 3, 4):
        s.put(mail(f"e{i}"))
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    r.cmd("STORE 2,3 +FLAGS.SILENT (\\Deleted)")
    assert disk_flags(mdir) == {"e1": "", "e2": "T", "e3": "T", "e4": ""}
    got, _ = r.cmd("EXPUNGE")
    seqs = list(range(1, 5))
    for line in got:
        m = re.fullmatch(rb"\* (\d+) EXPUNGE", line)
        if m:
            del seqs[int(m.group(1)) - 1]
    assert seqs == [1, 4], got            # messages 1 and 4 remain
    assert set(disk_flags(mdir)) == {"e1", "e4"}
    got, _ = r.cmd("FETCH 1:* UID")
    assert sorted(int(v["UID"]) for v in fetch_map(got).values()) == [1, 4]
    got, _ = r.cmd("EXPUNGE")               # nothing more to remove
    assert not any(b"EXPUNGE" in x for x in got), got
    # UID EXPUNGE is UIDPLUS (not required here); EXPUNGE removes only
    # \Deleted messages: message 1 stays.
    r.cmd("LOGOUT")
    r.close()
    r = Raw(s)
    r.login()
    got, _ = r.cmd("SELECT INBOX")
    info = select_info(got)
    assert info["EXISTS"] == 2 and int(info["UIDNEXT"]) == 5, got
    r.close()
    s.stop()


def test_close_expunges_silently(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2, 3):
        s.put(mail(f"c{i}"))
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    got, _ = r.cmd("CLOSE")
    assert not any(b"EXPUNGE" in x for x in got), got
    assert set(disk_flags(mdir)) == {"c2", "c3"}
    r.cmd("FETCH 1 FLAGS", expect="BAD")      # back to authenticated
    r.cmd("CLOSE", expect="BAD")
    # CLOSE after EXAMINE removes nothing.
    r.cmd("SELECT INBOX")
    r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXAMINE INBOX")
    r.cmd("CLOSE")
    assert set(disk_flags(mdir)) == {"c2", "c3"}
    assert disk_flags(mdir)["c2"] == "T"
    r.close()
    s.stop()


def test_examine_is_read_only(srv):
    s = srv()
    mdir = s.maildir()
    s.put(mail("ro1"), flags="T")
    s.put(mail("ro2"))
    before = sorted(p.name for p in files_in(mdir))
    M = login(s, select="INBOX", readonly=True)
    for args in (("STORE", "1", "+FLAGS", r"(\Seen)"),
                 ("STORE", "2", "FLAGS", r"(\Flagged)")):
        typ, data = status(M, *args)
        assert typ == "NO", (args, typ, data)
    typ, data = status(M, "EXPUNGE")
    assert typ == "NO", data
    typ, data = status(M, "UID", "STORE", "1", "+FLAGS", r"(\Seen)")
    assert typ == "NO", data
    fetch(M, "1:2", "BODY[]")
    assert M.check()[0] == "OK"
    M.logout()
    assert sorted(p.name for p in files_in(mdir)) == before
    s.stop()


# --- 6. several sessions, IDLE -------------------------------------------


def test_two_sessions_see_each_others_changes(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2, 3):
        s.put(mail(f"t{i}"))
    A = login(s, select="INBOX")
    B = login(s, select="INBOX")
    store(A, "1", "+FLAGS", r"(\Flagged)")

    def fetch_with(flag, seq):
        def pred(seen):
            for name, d in seen:
                if name == "FETCH" and d.startswith(f"{seq} ".encode()) \
                        and flag.encode() in d.upper():
                    return True
            return False
        return pred

    noop_until(B, fetch_with("\\FLAGGED", 1), what="STORE by A")
    store(A, "2", "+FLAGS.SILENT", r"(\Deleted)")
    assert A.expunge()[0] == "OK"
    noop_until(B, lambda seen: ("EXPUNGE", b"2") in seen,
               what="EXPUNGE by A")
    assert sorted(int(v["UID"]) for v in fetch(B, "1:*", "UID").values()) \
        == [1, 3]
    # Changes made by another process: a new file, a rename, a removal.
    s.put(mail("t4"), sub="new")
    for M in (A, B):
        noop_until(M, lambda seen: ("EXISTS", b"3") in seen,
                   what="file in new/")
    [p] = [p for p in files_in(mdir)
           if b"\nSubject: t3\n" in p.read_bytes()]
    p = with_flags(p, "S")
    noop_until(A, fetch_with("\\SEEN", 2), what="renamed by hand")
    os.unlink(p)
    noop_until(B, lambda seen: ("EXPUNGE", b"2") in seen,
               what="removed by hand")
    got = fetch(B, "1:*", "UID")
    assert sorted(int(v["UID"]) for v in got.values()) == [1, 4]
    A.logout()
    B.logout()
    s.stop()


def test_idle_sees_a_file_dropped_into_new(srv):
    s = srv()
    mdir = s.maildir()
    s.put(mail("before idle"))
    M = login(s, select="INBOX")
    tag = idle_start(M)
    t0 = time.monotonic()
    s.put(mail("dropped by hand"), sub="new")
    line, waited, _ = idle_wait(M, rb"^\* 2 EXISTS", NOTIFY)
    assert time.monotonic() - t0 <= NOTIFY
    idle_done(M, tag)
    got = fetch(M, "2", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[2]
    assert int(got["UID"]) == 2
    assert b"dropped by hand" in got["BODY[HEADER.FIELDS (SUBJECT)]"]
    # The session has seen it: moved to cur/.
    assert files_in(mdir, "new") == []
    # IDLE again, and DONE at once: a plain OK, still selected.
    tag = idle_start(M)
    assert idle_done(M, tag) == []
    assert M.noop()[0] == "OK"
    M.logout()
    s.stop()


def test_idle_sees_smtp_delivery(srv):
    s = srv()
    M = login(s, select="INBOX")
    tag = idle_start(M)
    t0 = time.monotonic()
    with smtplib.SMTP("127.0.0.1", s.smtp, local_hostname="client.example",
                      timeout=TIMEOUT) as c:
        c.sendmail("s@remote.example", [ALICE],
                   b"From: s@remote.example\r\nTo: alice@example.test\r\n"
                   b"Subject: over smtp\r\n\r\nDelivered.\r\n")
    line, waited, _ = idle_wait(M, rb"^\* 1 EXISTS", NOTIFY)
    assert time.monotonic() - t0 <= NOTIFY + 1 * SLOW   # incl. SMTP
    idle_done(M, tag)
    got = fetch(M, "1", "BODY.PEEK[]")[1]["BODY[]"]
    assert b"\r\nSubject: over smtp\r\n" in got
    assert got.endswith(b"\r\n\r\nDelivered.\r\n")
    assert b"\r\nDelivered-To: alice@example.test\r\n" in b"\r\n" + got
    M.logout()
    s.stop()


def test_idle_sees_flags_and_expunge_of_another_session(srv):
    s = srv()
    for i in (1, 2):
        s.put(mail(f"i{i}"))
    A = login(s, select="INBOX")
    B = login(s, select="INBOX")
    tag = idle_start(A)
    store(B, "1", "+FLAGS", r"(\Answered)")
    idle_wait(A, rb"^\* 1 FETCH \(.*\\Answered", NOTIFY)
    store(B, "2", "+FLAGS.SILENT", r"(\Deleted)")
    assert B.expunge()[0] == "OK"
    idle_wait(A, rb"^\* 2 EXPUNGE", NOTIFY)
    idle_done(A, tag)
    assert list(fetch(A, "1:*", "UID")) == [1]
    A.logout()
    B.logout()
    s.stop()


# --- 7. persistence -------------------------------------------------------


def test_uids_and_uidvalidity_survive_restart(srv):
    need_wren("restarts the server")
    s = srv()
    for i in (1, 2, 3):
        s.put(mail(f"p{i}"))
    r = Raw(s)
    r.login()
    info = select_info(r.cmd("SELECT INBOX")[0])
    validity = int(info["UIDVALIDITY"])
    r.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
    r.close()
    s.put(mail("p4"), sub="new")
    M = login(s, select="INBOX")
    assert sorted(int(v["UID"]) for v in fetch(M, "1:*", "UID").values()) \
        == [1, 3, 4]
    M.logout()
    s.restart()
    s.put(mail("p5"), sub="new")            # arrived while it was down
    r = Raw(s)
    r.login()
    info = select_info(r.cmd("SELECT INBOX")[0])
    assert int(info["UIDVALIDITY"]) == validity, info
    assert int(info["UIDNEXT"]) == 6, info
    got = fetch_map(r.cmd("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS "
                          "(SUBJECT)])")[0])
    assert [(int(v["UID"]), v["BODY[HEADER.FIELDS (SUBJECT)]"])
            for _, v in sorted(got.items())] == [
        (1, b"Subject: p1\r\n\r\n"), (3, b"Subject: p3\r\n\r\n"),
        (4, b"Subject: p4\r\n\r\n"), (5, b"Subject: p5\r\n\r\n")]
    r.close()
    s.stop()


def test_dovecot_uidlist_v3_on_disk(srv):
    s = srv()
    mdir = s.maildir()
    for i in (1, 2, 3):
        s.put(mail(f"u{i}"), flags="S" if i == 2 else "")
    s.put(mail("u4"), sub="new")
    s.put(mail("in sent"), folder="Sent")
    r = Raw(s)
    r.login()
    info = select_info(r.cmd("SELECT INBOX")[0])
    got = fetch_map(r.cmd("FETCH 1:* UID")[0])
    r.cmd("SELECT Sent")
    r.close()
    hdr, uids = read_uidlist(mdir)
    assert int(hdr["V"]) == int(info["UIDVALIDITY"])
    # N may lag behind records appended later (Dovecot does not rewrite
    # the header for every append); the next UID is past both.
    assert max(int(hdr["N"]), max(uids) + 1) == int(info["UIDNEXT"]) == 5
    files = {p.name.split(":2,")[0] for p in files_in(mdir)}
    assert set(uids) == {int(v["UID"]) for v in got.values()}
    for uid, name in uids.items():
        assert name in files or any(f.startswith(name) for f in files), \
            (uid, name, files)
    assert files_in(mdir, "new") == []
    shdr, suids = read_uidlist(s.maildir(folder="Sent"))
    assert list(suids) == [1]
    s.stop()


# --- 8. bad input ---------------------------------------------------------


# (name, state before: "auth" (not authenticated), "login" or "select",
#  the command after the tag, the tagged status expected; None: the tag
#  itself is bad, an untagged BAD or a BAD for it is expected)
BAD_CASES = [
    ("unknown-command", "auth", "FROBNICATE", "BAD"),
    ("unknown-command-authenticated", "login", "FROBNICATE now", "BAD"),
    ("login-missing-argument", "auth", "LOGIN alice", "BAD"),
    ("select-missing-argument", "login", "SELECT", "BAD"),
    ("fetch-before-login", "auth", "FETCH 1 FLAGS", "BAD"),
    ("select-before-login", "auth", "SELECT INBOX", "BAD"),
    ("fetch-not-selected", "login", "FETCH 1 FLAGS", "BAD"),
    ("unbalanced-open", "select", "FETCH 1 (FLAGS", "BAD"),
    ("unbalanced-close", "select", "FETCH 1 FLAGS)", "BAD"),
    ("bad-sequence-set", "select", "FETCH 1:x FLAGS", "BAD"),
    ("unknown-fetch-item", "select", "FETCH 1 BOGUS", "BAD"),
    ("bad-section", "select", "FETCH 1 BODY[TEXT.X]", "BAD"),
    ("bad-partial", "select", "FETCH 1 BODY[]<5.x>", "BAD"),
    ("unknown-uid-command", "select", "UID FOO 1", "BAD"),
    ("store-bad-operation", "select", "STORE 1 FLAGZ (\\Seen)", "BAD"),
    ("nul-byte", "auth", "NOOP\0garbage", "BAD"),
    ("unterminated-quote", "auth", 'LOGIN "alice pw', "BAD"),
    ("bad-literal-syntax", "auth", "LOGIN {12x}", "BAD"),
    ("extra-arguments", "auth", "CAPABILITY extra", "BAD"),
    ("long-tag", "auth", None, None),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input(srv, case):
    """Each malformed command gets a tagged BAD (or an untagged one when
    the tag itself is bad), and the session stays usable."""
    name, state, line, expect = case
    s = srv()
    s.put(mail("target"))
    r = Raw(s)
    if state in ("login", "select"):
        r.login()
    if state == "select":
        r.cmd("SELECT INBOX")
    if line is None:                # a tag longer than any sane one
        r.send("t" * 1000 + " NOOP\r\n")
        reply = r.line()
        assert reply.startswith(b"* BAD") or b" BAD " in reply, reply
    else:
        tag = r.tag()
        r.send(f"{tag} {line}\r\n".encode())
        got, tagged = r.until(tag, expect=None)
        assert tagged.split(b" ")[1] == expect.encode(), (got, tagged)
    r.cmd("NOOP")
    if state == "auth":
        r.login()
    r.cmd("SELECT INBOX")
    r.cmd("FETCH 1 FLAGS")
    r.close()
    if not s.ref:
        assert s.w.alive()
    s.stop()


def test_overlong_line(srv):
    s = srv()
    r = Raw(s)
    r.send("l1 NOOP " + "x" * 20000 + "\r\n")
    reply = r.response()
    assert re.match(rb"(\* |l1 )BAD", reply), reply
    r.cmd("NOOP")
    r.login()
    # After login as well (longer than IMAP_LINE_MAX without literals).
    r.send("l2 SEARCH TEXT " + "y" * 70000 + "\r\n")
    reply = r.response()
    while reply.startswith(b"* ") and b"BAD" not in reply:
        reply = r.response()
    assert b"BAD" in reply, reply
    r.cmd("SELECT INBOX")
    r.close()
    s.stop()


def test_prelogin_literal_over_8k_refused_unread(srv):
    s = srv()
    r = Raw(s)
    r.send("a1 LOGIN {9000}\r\n")
    reply = r.line()
    assert not reply.startswith(b"+"), reply
    assert re.match(rb"a1 (BAD|NO)", reply), reply
    # Nothing of a literal was expected: the next line is a command.
    r.cmd("NOOP")
    # A literal under the limit is accepted (a wrong password).
    r.send(f"a2 LOGIN {ALICE} {{4000}}\r\n")
    assert r.line().startswith(b"+")
    r.send("p" * 4000 + "\r\n")
    r.until("a2", expect="NO")
    r.login()
    r.close()
    s.stop()


def test_postlogin_literal_over_64k_refused_unread(srv):
    s = srv()
    s.put(mail("literal target", "z" * 100 + "\n"))
    r = Raw(s)
    r.login()
    r.cmd("SELECT INBOX")
    r.send("b1 SEARCH TEXT {70000}\r\n")
    reply = r.line()
    assert not reply.startswith(b"+"), reply
    assert re.match(rb"b1 (BAD|NO)", reply), reply
    r.cmd("NOOP")
    # 60 KB is read after login (a search string that long may then be
    # refused with NO [LIMIT], but not as a malformed command).
    r.send("b2 SEARCH TEXT {60000}\r\n")
    assert r.line().startswith(b"+")
    r.send("z" * 60000 + "\r\n")
    got, tagged = r.until("b2", expect=None)
    assert tagged.split()[1] in (b"OK", b"NO"), tagged
    assert got in ([b"* SEARCH"], []), got
    r.send("b3 SEARCH TEXT {100+}\r\n" + "z" * 100 + "\r\n")
    got, _ = r.until("b3")
    assert got == [b"* SEARCH 1"], got
    r.close()
    s.stop()


def test_nonsync_literal_over_limit_gets_bye(srv):
    s = srv()
    r = Raw(s)
    # Only the announcement is sent: a server that wanted to read the
    # 9000 octets would wait (and the test time out) instead of BYE.
    r.send("c1 LOGIN {9000+}\r\n")
    lines = []
    try:
        while True:
            lines.append(r.line())
    except (EOFError, ConnectionResetError):
        pass
    assert any(x.startswith(b"* BYE") for x in lines), lines
    # The server goes on.
    r = Raw(s)
    r.login()
    r.close()
    s.stop()


def test_too_many_errors_get_bye(srv):
    s = srv()
    r = Raw(s)
    lines = []
    for i in range(40):
        r.send(f"e{i} FROBNICATE\r\n")
        line = r.line()
        lines.append(line)
        if line.startswith(b"* BYE"):
            break
        assert line.startswith(f"e{i} BAD".encode()), line
    assert lines[-1].startswith(b"* BYE"), lines[-3:]
    assert 2 <= len(lines) - 1 < 40, len(lines)
    assert r.closed(TIMEOUT)
    r = Raw(s)
    r.login()
    r.close()
    s.stop()


def test_pool_exhaustion_gets_bye(srv):
    need_wren("max_connections")
    s = srv(max_connections="3", max_connections_per_ip="10")
    held = [Raw(s) for _ in range(3)]
    r = Raw(s, greet=False)
    line = r.line()
    assert line.startswith(b"* BYE"), line
    assert r.closed(TIMEOUT)
    held.pop().close()
    deadline = time.monotonic() + 5 * SLOW
    while True:                     # the slot comes back
        r = Raw(s, greet=False)
        line = r.line()
        if line.startswith(b"* OK"):
            break
        assert time.monotonic() < deadline, line
        time.sleep(0.1)
    r.login()
    for h in held:
        h.cmd("NOOP")
    s.stop()


# --- 9. memory -----------------------------------------------------------


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_fetch_of_30mb_message_in_constant_memory(srv):
    need_wren("measures wren's memory")
    if WREN_RUN:
        pytest.skip("QEMU's RSS is not the guest's")
    s = srv()
    line = b"0123456789" * 7 + b"abcdef\n"
    big = b"From: s@remote.example\nSubject: huge\n\n" + \
        line * (30 * 1024 * 1024 // len(line))
    warm = b"From: s@remote.example\nSubject: warm\n\n" + line * 20000
    s.put(warm)
    s.put(big)
    want = hashlib.sha256(crlf(big)).hexdigest()
    r = Raw(s)
    r.sock.settimeout(60 * SLOW)
    r.login()
    r.cmd("SELECT INBOX")
    r.cmd("FETCH 1 BODY.PEEK[]")            # every code path once
    before = vmrss_kb(s.pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], vmrss_kb(s.pid))
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    try:
        got, _ = r.cmd("FETCH 2 (RFC822.SIZE BODY.PEEK[])")
    finally:
        done.set()
        t.join()
    v = fetch_map(got)[2]
    assert int(v["RFC822.SIZE"]) == len(crlf(big))
    assert hashlib.sha256(v["BODY[]"]).hexdigest() == want
    assert peak[0] - before < 1024, (before, peak[0])
    r.close()
    s.stop()
