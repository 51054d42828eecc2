# SPDX-License-Identifier: ISC
"""The POP3 server (SPEC section 5; RFC 1939, RFC 2449 CAPA and response
codes, RFC 2595 STLS, RFC 5034 AUTH PLAIN) driven by real clients:
Python's poplib in clear, with STLS and over implicit TLS, openssl
s_client -starttls pop3, fetchmail when installed, and raw sockets for
exact replies and hostile input. A private Dovecot is the reference for
UIDL: a client that used Dovecot must not download everything again.

Servers are imaplib_helpers' (alice, bob and carol; auth_fail_delay = 0)
with POP3 and POP3S on free loopback ports. Messages are put into the
Maildir the way Dovecot names its files, with LF line ends, so every
RETR also checks the LF -> CRLF conversion. Tests connect from
127.0.0.1, which tls_auth_only lets log in without TLS; a client bound
to 127.0.0.2 is not loopback.
"""
import os
import poplib
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import SLOW, PrivateDovecot, dovecot_available
from imaplib_helpers import (
    ALICE, ALICE_PW, BOB, BOB_PW, CAROL, CAROL_PW, OUTSIDE, TIMEOUT,
    WRONG_PW, RawPOP3, client_ctx, crlf, files_in, flag_letters,
    login, mail, make_pki, pop3_server, pop3_unstuff, random_message,
    read_uidlist, sasl_plain)

needs_dovecot = pytest.mark.skipif(not dovecot_available(),
                                   reason="needs dovecot-core and root")
needs_fetchmail = pytest.mark.skipif(not shutil.which("fetchmail"),
                                     reason="needs fetchmail")
PLAIN_REFUSED = (b"-ERR [AUTH] Plaintext authentication disallowed on "
                 b"non-secure (SSL/TLS) connections")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # fetchmail, like mbsync, matches the host against DNS names only.
    return make_pki(tmp_path_factory.mktemp("pki"),
                    extra_san="DNS:127.0.0.1")


@pytest.fixture
def srv(wren, pki):
    """srv(**keys) -> a started server with POP3 (see pop3_server).
    Servers still running at the end are stopped by SIGTERM, which
    checks the exit status and the log for sanitizer reports."""
    made = []

    def make(start=True, mail_root=None, **keys):
        s = pop3_server(wren, pki, mail_root=mail_root, start=start,
                        **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.w.alive():
            assert s.stop() == 0


def pop(s, user=ALICE, tls=None):
    """A logged-in poplib client: tls None, "stls" or "implicit"."""
    pw = {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}[user]
    if tls == "implicit":
        P = poplib.POP3_SSL("127.0.0.1", s.pop3s, timeout=TIMEOUT,
                            context=client_ctx(s.pki))
    else:
        P = poplib.POP3("127.0.0.1", s.pop3, timeout=TIMEOUT)
        if tls == "stls":
            P.stls(context=client_ctx(s.pki))
    P.user(user)
    P.pass_(pw)
    return P


def retr(P, n):
    """RETR n through poplib: the message bytes with CRLF ends."""
    resp, lines, octets = P.retr(n)
    assert resp.startswith(b"+OK"), resp
    return b"".join(x + b"\r\n" for x in lines)


def uidls(P):
    resp, lines, _ = P.uidl()
    assert resp.startswith(b"+OK"), resp
    return dict(x.decode().split() for x in lines)


def dovecot_uidl(uid, validity):
    """Dovecot's default pop3_uidl_format %08Xu%08Xv (its %X writes
    lower case hex)."""
    return f"{uid:08x}{validity:08x}"


# --- 1. greeting, CAPA, logins --------------------------------------------


def test_greeting_and_capa_before_and_after_login(srv):
    s = srv()
    r = RawPOP3(s)
    assert r.greeting == b"+OK wren ready"
    r.cmd("CAPA", "+OK Capability list follows")
    assert r.multi() == [b"TOP", b"USER", b"UIDL", b"RESP-CODES",
                         b"PIPELINING", b"AUTH-RESP-CODE", b"SASL PLAIN",
                         b"STLS"]
    r.login()
    r.cmd("capa", "+OK Capability list follows")
    assert r.multi() == [b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING",
                         b"AUTH-RESP-CODE"]
    r.cmd("QUIT", "+OK Logging out, 0 messages deleted")
    assert r.closed()


def test_plaintext_login_refused_outside_loopback(srv):
    """tls_auth_only: no USER/SASL in CAPA from 127.0.0.2 until STLS."""
    s = srv()
    r = RawPOP3(s, source=OUTSIDE)
    r.cmd("CAPA", "+OK ")
    caps = r.multi()
    assert b"USER" not in caps and b"SASL PLAIN" not in caps, caps
    assert b"STLS" in caps
    assert r.cmd("USER alice@example.test") == PLAIN_REFUSED
    assert r.cmd(f"PASS {ALICE_PW}") == PLAIN_REFUSED
    assert r.cmd("AUTH PLAIN " + sasl_plain(ALICE, ALICE_PW)) == \
        PLAIN_REFUSED
    r.send("AUTH\r\n")
    assert r.line() == b"+OK" and r.multi() == []
    r.starttls()
    r.cmd("CAPA", "+OK ")
    caps = r.multi()
    assert b"USER" in caps and b"SASL PLAIN" in caps and \
        b"STLS" not in caps, caps
    r.login()
    r.cmd("QUIT", "+OK ")


def test_poplib_plain_session(srv):
    s = srv()
    msgs = [mail(f"message {i}", f"Body {i}.\nSecond line.\n")
            for i in range(3)]
    for m in msgs:
        s.put(m)
    P = pop(s)
    count, size = P.stat()
    assert count == 3 and size == sum(len(crlf(m)) for m in msgs)
    resp, lines, _ = P.list()
    assert resp == f"+OK 3 messages ({size} octets)".encode()
    assert lines == [f"{i + 1} {len(crlf(m))}".encode()
                     for i, m in enumerate(msgs)]
    assert P.list(2) == f"+OK 2 {len(crlf(msgs[1]))}".encode()
    for i, m in enumerate(msgs):
        assert retr(P, i + 1) == crlf(m)
    resp, lines, _ = P.top(1, 1)
    head, body = crlf(msgs[0]).split(b"\r\n\r\n", 1)
    assert b"\r\n".join(lines) + b"\r\n" == \
        head + b"\r\n\r\n" + body.split(b"\r\n")[0] + b"\r\n"
    assert P.noop().startswith(b"+OK")
    assert P.quit().startswith(b"+OK")
    assert len(files_in(s.maildir())) == 3      # nothing deleted


def test_stls_with_poplib(srv):
    s = srv()
    s.put(mail("over stls"))
    P = pop(s, tls="stls")
    assert retr(P, 1) == crlf(mail("over stls"))
    P.quit()


def test_pop3s_implicit_tls(srv):
    s = srv()
    s.put(mail("over pop3s", ".leading dot\n"))
    P = pop(s, tls="implicit")
    assert P.getwelcome() == b"+OK wren ready"
    assert retr(P, 1) == crlf(mail("over pop3s", ".leading dot\n"))
    assert P.capa().get("STLS") is None
    P.quit()


def test_openssl_s_client_starttls_pop3(srv):
    s = srv()
    p = subprocess.run(
        ["openssl", "s_client", "-starttls", "pop3", "-connect",
         f"127.0.0.1:{s.pop3}", "-CAfile", str(s.pki / "cert.pem"),
         "-verify_return_error", "-ign_eof"],
        input=b"CAPA\r\nQUIT\r\n", capture_output=True, timeout=30 * SLOW)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out + p.stderr.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in out, out
    assert "+OK Capability list follows" in out, out
    assert "\nSASL PLAIN" in out and "\nSTLS" not in out, out
    assert "+OK Logging out" in out, out


def test_auth_plain(srv):
    s = srv()
    r = RawPOP3(s)
    r.cmd("AUTH PLAIN " + sasl_plain(ALICE, ALICE_PW), "+OK Logged in")
    r.cmd("QUIT", "+OK ")
    # after "+ ", with the same authzid, and for bob's crypt hash
    r = RawPOP3(s)
    assert r.cmd("AUTH plain") == b"+ "
    r.cmd(sasl_plain(BOB, BOB_PW, authz=BOB), "+OK Logged in")
    r.cmd("QUIT", "+OK ")
    r = RawPOP3(s)
    r.send("AUTH\r\n")
    assert r.line() == b"+OK" and r.multi() == [b"PLAIN"]
    r.cmd("AUTH LOGIN", "-ERR Unsupported authentication mechanism")
    r.cmd("AUTH PLAIN %%%%", "-ERR Invalid base64 data")
    r.cmd("AUTH PLAIN")
    r.cmd("not base64!", "-ERR Invalid base64 data")
    r.cmd("AUTH PLAIN")
    r.cmd("*", "-ERR Authentication aborted")
    r.cmd("AUTH PLAIN =", "-ERR [AUTH] Authentication failed")
    r.cmd("AUTH PLAIN " + sasl_plain(ALICE, ALICE_PW, authz=BOB),
          "-ERR [AUTH] Authentication failed")
    r.cmd("AUTH PLAIN " + sasl_plain(ALICE, WRONG_PW),
          "-ERR [AUTH] Authentication failed")
    r.cmd("AUTH PLAIN")
    r.cmd("=" * 1100, "-ERR Line too long")
    r.cmd("AUTH PLAIN " + sasl_plain(CAROL, CAROL_PW), "+OK Logged in")
    log = s.log()
    assert f"auth failed: login={ALICE} ip=127.0.0.1" in log, log
    assert "auth failed: login= ip=127.0.0.1" in log, log
    assert WRONG_PW not in log


def test_user_pass_failures_and_throttle(srv):
    s = srv(auth_fail_limit="3")
    r = RawPOP3(s)
    r.cmd(f"PASS {ALICE_PW}", "-ERR No username given")
    r.cmd("USER nobody@example.test", "+OK")
    r.cmd(f"PASS {ALICE_PW}", "-ERR [AUTH] Authentication failed")
    r.cmd(f"PASS {ALICE_PW}", "-ERR No username given")  # USER again
    r.cmd(f"USER {ALICE}", "+OK")
    r.cmd(f"PASS {WRONG_PW}", "-ERR [AUTH] Authentication failed")
    r.cmd(f"USER {'x' * 400}", "-ERR Line too long")
    r.cmd(f"USER {'x' * 240}", "+OK")
    r.cmd(f"PASS {ALICE_PW}", "-ERR [AUTH] Authentication failed")
    r.cmd(f"USER {ALICE}", "+OK")
    r.cmd(f"PASS {ALICE_PW}", "-ERR [SYS/TEMP] Too many authentication "
          "failures; try again later")
    assert "auth refused: too many failures from ip=127.0.0.1" in s.log()
    assert len(re.findall(r"warn: pop3 \S+ \S+: auth failed: "
                          r"login=\S* ip=127\.0\.0\.1$", s.log(),
                          re.M)) == 3, s.log()


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                    reason="fail2ban not installed")
def test_fail2ban_filter_matches_pop3_failures(srv):
    s = srv()
    r = RawPOP3(s)
    r.cmd(f"USER {ALICE}", "+OK")
    r.cmd(f"PASS {WRONG_PW}", "-ERR [AUTH] ")
    r.cmd("AUTH PLAIN " + sasl_plain(BOB, WRONG_PW), "-ERR [AUTH] ")
    r.login()
    r.cmd("QUIT", "+OK ")
    assert s.stop() == 0
    assert WRONG_PW not in s.log() and ALICE_PW not in s.log()
    p = subprocess.run(["fail2ban-regex", "--print-all-matched",
                        str(s.w.logfile),
                        str(Path(__file__).resolve().parents[2] /
                            "conf/fail2ban/filter.d/wren.conf")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Failregex: 2 total" in p.stdout, p.stdout


def test_auth_fail_delay_holds_pipelined_commands(srv):
    s = srv(auth_fail_delay="1")
    r = RawPOP3(s)
    t0 = time.monotonic()
    r.send(f"USER {ALICE}\r\nPASS {WRONG_PW}\r\nCAPA\r\n")
    assert r.line() == b"+OK"
    assert r.line() == b"-ERR [AUTH] Authentication failed"
    assert time.monotonic() - t0 >= 0.9
    assert r.line() == b"+OK Capability list follows"


# --- 2. the maildrop --------------------------------------------------------


def test_uidl_format_and_dele_quit_removes_files(srv):
    s = srv()
    paths = [s.put(mail(f"m{i}")) for i in range(4)]
    P = pop(s)
    hdr, uids = read_uidlist(s.maildir())
    validity = int(hdr["V"])
    want = {str(i + 1): dovecot_uidl(uid, validity)
            for i, uid in enumerate(sorted(uids))}
    assert uidls(P) == want
    assert P.uidl(3) == f"+OK 3 {want['3']}".encode()
    assert P.dele(2).startswith(b"+OK")
    assert P.dele(4).startswith(b"+OK")
    with pytest.raises(poplib.error_proto, match="already deleted"):
        P.dele(2)
    with pytest.raises(poplib.error_proto, match="No such message"):
        P.retr(2)
    with pytest.raises(poplib.error_proto, match="No such message"):
        P.list(4)
    with pytest.raises(poplib.error_proto, match="No such message"):
        P.uidl(2)
    with pytest.raises(poplib.error_proto, match="No such message"):
        P.top(4, 0)
    assert P.stat() == (2, len(crlf(mail("m0"))) + len(crlf(mail("m2"))))
    assert [x.split()[0] for x in P.list()[1]] == [b"1", b"3"]
    assert list(uidls(P)) == ["1", "3"]
    assert P.quit() == b"+OK Logging out, 2 messages deleted"
    left = {p.name.split(":2,")[0] for p in files_in(s.maildir())}
    assert left == {p.name.split(":2,")[0] for p in (paths[0], paths[2])}
    P = pop(s)
    assert P.stat()[0] == 2
    assert uidls(P) == {"1": want["1"], "2": want["3"]}
    P.quit()


def test_dele_without_quit_removes_nothing(srv):
    s = srv()
    for i in range(3):
        s.put(mail(f"kept {i}"))
    r = RawPOP3(s)
    r.login()
    r.cmd("DELE 1", "+OK ")
    r.cmd("DELE 3", "+OK ")
    r.cmd("STAT", "+OK 1 ")
    r.close()                               # no QUIT
    time.sleep(0.2)
    assert len(files_in(s.maildir())) == 3
    P = pop(s)                              # marks are gone, lock too
    assert P.stat()[0] == 3
    # RSET clears the marks
    P.dele(1)
    P.dele(2)
    assert P.rset() == b"+OK 3 messages (%d octets)" % P.stat()[1]
    assert P.stat()[0] == 3
    assert P.quit() == b"+OK Logging out, 0 messages deleted"
    assert len(files_in(s.maildir())) == 3
    assert "closed without QUIT: login=alice@example.test, nothing " \
        "deleted" in s.log()


def test_exclusive_lock(srv):
    s = srv()
    s.put(mail("locked"))
    first = RawPOP3(s)
    first.login()
    first.cmd("DELE 1", "+OK ")
    second = RawPOP3(s)
    second.cmd(f"USER {ALICE}", "+OK")
    second.cmd(f"PASS {ALICE_PW}",
               "-ERR [IN-USE] Mailbox is locked by another POP3 session")
    # still in AUTHORIZATION: another account works, and CAPA
    second.cmd("STAT", "-ERR Not logged in")
    # IMAP is not locked out, and sees the message (DELE is a mark)
    M = login(s, select="INBOX")
    assert M.select("INBOX")[1] == [b"1"]
    M.logout()
    first.cmd("QUIT", "+OK Logging out, 1 messages deleted")
    assert first.closed()
    second.cmd("AUTH PLAIN " + sasl_plain(ALICE, ALICE_PW),
               "+OK Logged in")
    second.cmd("STAT", "+OK 0 0")
    # an abnormal close releases the lock as well
    second.close()
    time.sleep(0.2)
    third = RawPOP3(s)
    third.login()
    third.cmd("QUIT", "+OK ")


def test_message_numbers_fixed_for_the_session(srv):
    s = srv()
    s.put(mail("before"))
    P = pop(s)
    assert P.stat()[0] == 1
    s.put(mail("during"))
    time.sleep(0.3)
    assert P.stat()[0] == 1
    with pytest.raises(poplib.error_proto, match="No such message"):
        P.retr(2)
    P.quit()
    P = pop(s)
    assert P.stat()[0] == 2
    assert retr(P, 2) == crlf(mail("during"))
    P.quit()


def test_retr_sets_seen_top_does_not(srv):
    s = srv()
    s.put(mail("new one"), sub="new")
    s.put(mail("in cur"), flags="F")
    P = pop(s)
    P.top(1, 0)
    P.top(2, 3)
    names = sorted(p.name for p in files_in(s.maildir()))
    assert not files_in(s.maildir(), "new")         # moved at login
    assert [flag_letters(n) for n in names] == ["", "F"]
    retr(P, 1)
    retr(P, 2)
    P.quit()
    assert sorted(flag_letters(p) for p in files_in(s.maildir())) == \
        ["FS", "S"]


def test_dot_lines_and_no_final_newline(srv):
    s = srv()
    dots = (b"Subject: dots\n\n.\n..\n.leading\n...three\nmid . dot\n"
            b".\r\nend\n")
    s.put(dots, raw=True)
    s.put(b"Subject: no newline\n\nlast line without newline", raw=True)
    s.put(b"Subject: crlf\r\n\r\nstored with CRLF\r\n.dot\r\n", raw=True)
    s.put(b"", raw=True)
    r = RawPOP3(s)
    r.login()
    r.cmd("RETR 1", "+OK ")
    wire = r.body()
    assert wire == (b"Subject: dots\r\n\r\n..\r\n...\r\n..leading\r\n"
                    b"....three\r\nmid . dot\r\n..\r\nend\r\n.\r\n")
    assert pop3_unstuff(wire) == crlf(dots)
    r.cmd("RETR 2", "+OK ")
    assert r.body() == (b"Subject: no newline\r\n\r\nlast line without "
                        b"newline\r\n.\r\n")
    r.cmd("RETR 3", "+OK ")
    assert r.body() == (b"Subject: crlf\r\n\r\nstored with CRLF\r\n"
                        b"..dot\r\n.\r\n")
    r.cmd("RETR 4", "+OK 0 octets")
    assert r.body() == b".\r\n"
    r.cmd("TOP 1 2", "+OK ")
    assert r.body() == b"Subject: dots\r\n\r\n..\r\n...\r\n.\r\n"
    r.cmd("TOP 2 0", "+OK ")
    assert r.body() == b"Subject: no newline\r\n\r\n.\r\n"
    r.cmd("TOP 2 4294967295", "+OK ")
    assert r.body() == (b"Subject: no newline\r\n\r\nlast line without "
                        b"newline\r\n.\r\n")
    # poplib agrees
    r.cmd("QUIT", "+OK ")
    P = pop(s)
    assert retr(P, 1) == crlf(dots)
    assert retr(P, 2) == b"Subject: no newline\r\n\r\nlast line " \
        b"without newline\r\n"
    P.quit()


def test_retr_10_mb(srv):
    s = srv()
    rng = random.Random(10)
    words = [b"alpha", b"bravo", b".dot", b"charlie", b"..", b"delta"]
    body = bytearray()
    while len(body) < 10 * 1024 * 1024:
        body += b" ".join(rng.choice(words)
                          for _ in range(rng.randint(0, 14))) + b"\n"
    big = b"Subject: big\n\n" + bytes(body)
    s.put(big, raw=True)
    s.put(mail("after the big one"))
    for tls in (None, "implicit"):
        r = RawPOP3(s, tls=tls)
        r.login()
        assert r.cmd("RETR 1") == b"+OK %d octets" % len(crlf(big))
        # No speed asserted: a stall fails on the socket's timeout.
        wire = r.body()
        assert pop3_unstuff(wire) == crlf(big)
        # pipelined after a big response: in order
        r.send("STAT\r\nLIST 2\r\n")
        assert r.line() == b"+OK 2 %d" % (len(crlf(big)) +
                                         len(crlf(mail("after the big "
                                                       "one"))))
        assert r.line().startswith(b"+OK 2 ")
        r.cmd("QUIT", "+OK ")
    P = pop(s)
    assert retr(P, 1) == crlf(big)
    P.quit()


def test_long_listing_and_pipelining(srv):
    s = srv()
    rng = random.Random(7)
    md = s.maildir()
    for i in range(1500):
        s.put(random_message(rng, i, size=2))
    r = RawPOP3(s)
    r.login()
    # every command at once; the replies come in order
    r.send("STAT\r\nLIST\r\nUIDL\r\nTOP 1500 0\r\nRETR 7\r\nNOOP\r\n")
    assert r.line().startswith(b"+OK 1500 ")
    assert r.line().startswith(b"+OK 1500 messages")
    lst = r.multi()
    assert len(lst) == 1500 and lst[0].startswith(b"1 ")
    assert r.line() == b"+OK Unique-ID listing follows"
    ul = r.multi()
    assert len(ul) == 1500 and len({x.split()[1] for x in ul}) == 1500
    assert r.line() == b"+OK Top of message follows"
    assert r.body().endswith(b"\r\n\r\n.\r\n")
    assert r.line().startswith(b"+OK ")
    r.body()
    assert r.line() == b"+OK"
    r.cmd("QUIT", "+OK ")
    assert len(files_in(md)) == 1500


def test_new_account_without_maildir(srv):
    s = srv()
    shutil.rmtree(s.home(BOB))
    P = pop(s, user=BOB)
    assert P.stat() == (0, 0)
    assert P.list()[1] == []
    P.quit()
    assert (s.home(BOB) / "Maildir" / "cur").is_dir()


# --- 3. hostile and wrong input ---------------------------------------------


def test_bad_commands_exact_replies(srv):
    s = srv()
    s.put(mail("one"))
    r = RawPOP3(s)
    r.cmd("STAT", "-ERR Not logged in")
    r.cmd("RETR 1", "-ERR Not logged in")
    r.cmd("NOOP", "-ERR Not logged in")
    r.cmd("XTND XLST", "-ERR Unknown command")
    r.cmd("", "-ERR Empty command")
    r.cmd("QUIT", "+OK Logging out")
    r = RawPOP3(s)
    r.login()
    for line, want in [
            ("USER alice", "-ERR Already logged in"),
            ("STLS", "-ERR Already logged in"),
            ("AUTH PLAIN", "-ERR Already logged in"),
            ("APOP alice 0123456789", "-ERR Unknown command"),
            ("RETR 0", "-ERR Invalid message number"),
            ("RETR -1", "-ERR Invalid message number"),
            ("RETR +1", "-ERR Invalid message number"),
            ("RETR 4294967296", "-ERR Invalid message number"),
            ("RETR 2", "-ERR No such message")]:
        r.cmd(line, want)
    r.cmd("NOOP", "+OK")        # 9 errors so far, not yet 10
    r.cmd("QUIT", "+OK ")
    r = RawPOP3(s)
    r.login()
    for line, want in [
            ("RETR 4294967295", "-ERR No such message"),
            ("RETR x", "-ERR Invalid message number"),
            ("TOP 1", "-ERR Missing argument"),
            ("TOP 1 -1", "-ERR Invalid number of lines"),
            ("LIST 1 2", "-ERR Too many arguments"),
            ("STAT now", "-ERR Too many arguments"),
            ("DELE", "-ERR Missing argument"),
            (b"ST\0AT", "-ERR NUL byte in command")]:
        r.cmd(line, want)
    r.cmd("retr 1", "+OK ")
    r.body()
    r.cmd("QUIT", "+OK ")


def test_line_length_bound(srv):
    s = srv()
    r = RawPOP3(s)
    # 255 octets with CRLF is a command; 256 is too long
    r.cmd("USER " + "a" * 248, "+OK")
    r.cmd("USER " + "a" * 249, "-ERR Line too long")
    r.send("USER " + "b" * 5000 + "\r\nCAPA\r\n")
    assert r.line() == b"-ERR Line too long"
    assert r.line() == b"+OK Capability list follows"
    r.multi()
    r.cmd("QUIT", "+OK Logging out")


def test_too_many_errors_close(srv):
    s = srv()
    r = RawPOP3(s)
    for i in range(9):
        r.cmd(f"BOGUS{i}", "-ERR Unknown command")
    r.send("BOGUS\r\nCAPA\r\n")
    assert r.line() == b"-ERR Unknown command"
    assert r.line() == b"-ERR Too many bad commands, closing"
    assert r.closed()
    assert "too many bad commands from ip=127.0.0.1" in s.log()


def test_stls_injection_discarded(srv):
    """Commands pipelined behind STLS in the clear are dropped
    (CVE-2011-0411); USER given before STLS is forgotten."""
    s = srv()
    r = RawPOP3(s, source=OUTSIDE)
    r.send(f"STLS\r\nUSER {ALICE}\r\nPASS {ALICE_PW}\r\n")
    assert r.line() == b"+OK Begin TLS negotiation now"
    assert r.buf == b""
    r.sock = client_ctx(s.pki).wrap_socket(r.sock,
                                           server_hostname="127.0.0.1")
    r.cmd(f"PASS {ALICE_PW}", "-ERR No username given")
    r.cmd("STLS", "-ERR TLS is already active")
    r.login()
    r.cmd("QUIT", "+OK ")
    r = RawPOP3(s, tls="implicit")
    r.cmd("STLS", "-ERR TLS is already active")
    r.close()


def test_refusal_per_ip_and_full(srv):
    s = srv(max_connections_per_ip="2")
    a, b = RawPOP3(s), RawPOP3(s)
    c = RawPOP3(s, greet=False)
    assert c.line() == b"-ERR [SYS/TEMP] Too many connections from " \
        b"your address"
    assert c.closed()
    a.close()
    b.close()


def test_refusal_when_full(srv):
    s = srv(max_connections="2")
    a, b = RawPOP3(s), RawPOP3(s)
    c = RawPOP3(s, greet=False)
    assert c.line() == b"-ERR [SYS/TEMP] Server busy, too many " \
        b"connections"
    assert c.closed()
    a.cmd("QUIT", "+OK ")
    b.close()


def test_idle_timeout_before_login(srv):
    """login_timeout before login (10 s here, its least)."""
    s = srv(login_timeout="10")
    r = RawPOP3(s)
    r.sock.settimeout(30 * SLOW)  # longer than the server's 10 s
    t0 = time.monotonic()
    assert r.line() == b"-ERR Disconnected for inactivity"
    assert 9 <= time.monotonic() - t0 < 20 * SLOW
    assert r.closed()


def test_shutdown_mid_session_deletes_nothing(srv):
    s = srv()
    s.put(mail("survives"))
    r = RawPOP3(s)
    r.login()
    r.cmd("DELE 1", "+OK ")
    s.w.send(signal.SIGTERM)
    assert r.line() == b"-ERR [SYS/TEMP] Server shutting down"
    assert r.closed()
    assert s.w.wait() == 0
    assert len(files_in(s.maildir())) == 1


# --- 4. other clients ------------------------------------------------------


def fetchmail_run(s, tmp, ssl):
    """fetchmail over STLS (ssl False) or implicit TLS into tmp/out."""
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    rc = tmp / "fetchmailrc"
    port = s.pop3s if ssl else s.pop3
    rc.write_text(
        "set no bouncemail\n"
        f"poll 127.0.0.1 service {port} protocol pop3 uidl\n"
        f'  user "{ALICE}" there with password "{ALICE_PW}" is root here\n'
        f'  {"ssl" if ssl else "sslproto TLS1.2+"} sslcertck '
        f'sslcertfile "{s.pki / "cert.pem"}"\n'
        f'  mda "/bin/sh -c \'cat > {out}/msg.$$\'"\n')
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp), FETCHMAILHOME=str(tmp))
    p = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nosyslog",
                        "-i", str(tmp / "ids")],
                       capture_output=True, text=True, env=env,
                       timeout=60 * SLOW)
    return p, sorted(out.iterdir())


@needs_fetchmail
@pytest.mark.parametrize("ssl", [False, True], ids=["stls", "pop3s"])
def test_fetchmail(srv, tmp_path, ssl):
    s = srv()
    msgs = [mail(f"for fetchmail {i}", f".dot {i}\nline\n")
            for i in range(3)]
    for m in msgs:
        s.put(m)
    p, got = fetchmail_run(s, tmp_path, ssl)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "STLS" in p.stdout or ssl, p.stdout
    bodies = sorted(x.read_bytes().replace(b"\r\n", b"\n") for x in got)
    assert len(bodies) == 3, p.stdout
    for m in msgs:
        assert any(b.endswith(m) for b in bodies), (m, bodies)
    # fetchmail deletes what it fetched (no "keep")
    assert files_in(s.maildir()) == []
    p, _ = fetchmail_run(s, tmp_path, ssl)
    assert p.returncode == 1, p.stdout      # 1: no mail


# --- 5. Dovecot: the same UIDLs --------------------------------------------


@pytest.fixture
def shared_tmp():
    """A directory Dovecot's unprivileged processes can reach."""
    tmp = Path(tempfile.mkdtemp(prefix="wren-pop3-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def give_to_nobody(path):
    subprocess.run(["chown", "-R", "nobody:nogroup", str(path)],
                   check=True, timeout=30)


def dovecot_uidls(dc):
    """Dovecot's UIDL listing for alice: from its own pop3 when
    dovecot-pop3d is installed, else its UIDs and UIDVALIDITY in its
    default pop3_uidl_format."""
    if os.path.exists("/usr/lib/dovecot/pop3"):
        p = None
        for _ in range(50):     # the auth service may still be starting
            p = subprocess.run(["doveadm", "-c", str(dc.conf), "exec",
                                "pop3", "-u", ALICE],
                               input=b"UIDL\r\nQUIT\r\n",
                               capture_output=True, timeout=30)
            if p.stdout.startswith(b"+OK"):
                break
            time.sleep(0.1)
        lines = p.stdout.split(b"\r\n")
        assert lines[0] == b"+OK", p.stdout + p.stderr
        end = lines.index(b".")
        return dict(x.decode().split() for x in lines[1:end])
    p = dc.doveadm("-f", "flow", "fetch", "-u", ALICE, "uid", "mailbox",
                   "INBOX", "all")
    uids = sorted(int(x) for x in re.findall(r"uid=(\d+)", p.stdout))
    p = dc.doveadm("-f", "flow", "mailbox", "status", "-u", ALICE,
                   "uidvalidity", "INBOX")
    validity = int(re.search(r"uidvalidity=(\d+)", p.stdout).group(1))
    return {str(i + 1): dovecot_uidl(u, validity)
            for i, u in enumerate(uids)}


@needs_dovecot
def test_uidl_matches_dovecot(srv, shared_tmp):
    s = srv(start=False, mail_root=shared_tmp / "mail")
    rng = random.Random(3)
    for i in range(3):
        s.put(random_message(rng, i))
    users = shared_tmp / "users"
    users.write_text(f"{ALICE}:{{PLAIN}}{ALICE_PW}\n")
    os.chmod(users, 0o644)
    dc_dir = shared_tmp / "dovecot"
    dc_dir.mkdir()
    os.chmod(dc_dir, 0o755)
    os.chmod(shared_tmp / "mail", 0o755)

    def dovecot():
        give_to_nobody(s.mail_root)
        return PrivateDovecot(dc_dir, users, f"{s.mail_root}/%d/%n",
                              mail_location="maildir:~/Maildir")

    # Dovecot numbers the first three; wren serves the same UIDLs
    with dovecot() as dc:
        theirs = dovecot_uidls(dc)
    assert len(theirs) == 3
    s.start()
    P = pop(s)
    assert uidls(P) == theirs
    P.quit()
    # wren numbers two more; Dovecot agrees on all five
    for i in range(3, 5):
        s.put(random_message(rng, i))
    P = pop(s)
    ours = uidls(P)
    P.quit()
    assert len(ours) == 5
    s.stop()
    with dovecot() as dc:
        assert dovecot_uidls(dc) == ours
    log = (dc_dir / "dovecot.log").read_text(errors="replace")
    assert not re.search(r"\b(Error|Panic|Fatal)\b", log), log
