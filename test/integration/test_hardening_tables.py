# SPDX-License-Identifier: ISC
"""A table changed in place under the running server (issue 17, item 3):
`: > users.cdb` or `cp new.cdb users.cdb` used to kill the server with
SIGBUS at the next login, the lookup reading its mmap'ed table past the
file's new end. Now the table in use is a private copy: the server stays
up and keeps the old accounts while the file is empty or half-copied,
and takes the complete copy within a second or so.

Logins are IMAP LOGIN from 127.0.0.1 (tls_auth_only lets loopback log
in without TLS) and SMTP RCPT, both of which read the users table; the
accounts are imaplib_helpers'.
"""
import imaplib
import os
import signal
import smtplib
import time

import pytest

from conftest import SLOW, run_wren
from imaplib_helpers import (
    ALICE, ALICE_PW, TIMEOUT, imap_server, make_pki, need_wren, users_text)

DAVE, DAVE_PW = "dave@example.test", "Dave-Was-Here-0001"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    need_wren("its tables and log")
    made = []

    def make(**keys):
        # Failed logins are part of the test: never throttled here.
        keys.setdefault("auth_fail_limit", "1000")
        s = imap_server(wren, pki, **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.w.alive():
            assert s.stop() == 0


def imap_login(s, user, pw):
    """The tagged status of LOGIN: OK, NO, or the connection's error."""
    M = imaplib.IMAP4("127.0.0.1", s.imap, timeout=TIMEOUT)
    try:
        typ, data = M.login(user, pw)
        M.logout()
        return typ
    except imaplib.IMAP4.error as e:
        return "NO" if "NO" in str(e) or "AUTHENTICATIONFAILED" in \
            str(e) else str(e)


def rcpt(s, addr):
    with smtplib.SMTP("127.0.0.1", s.smtp, timeout=TIMEOUT) as c:
        c.ehlo("client.example")
        c.mail("s@remote.example")
        return c.rcpt(addr)[0]


def overwrite(path, data):
    """What `cp` does to an existing file: the same inode, truncated,
    then written."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


def compile_users(s, text, name):
    src = s.w.dir / name
    src.write_text(text)
    p = run_wren("map", "-t", "users", str(src))
    assert p.returncode == 0, p.stderr
    return (s.w.dir / f"{name}.cdb").read_bytes()


def test_truncated_then_copied_users_cdb(srv):
    s = srv()
    cdb = s.w.dir / "users.cdb"
    ino = os.stat(cdb).st_ino
    assert imap_login(s, ALICE, ALICE_PW) == "OK"

    # `: > users.cdb`: the same inode, empty. At once (before the
    # server's next check) and across several checks, logins keep the
    # old accounts; the server never dies.
    mark = len(s.log())
    overwrite(cdb, b"")
    assert os.stat(cdb).st_ino == ino
    end = time.monotonic() + 2.5 * SLOW
    while time.monotonic() < end:
        assert imap_login(s, ALICE, ALICE_PW) == "OK", s.log()
        assert rcpt(s, ALICE) == 250
        assert s.w.alive(), s.log()
        time.sleep(0.1)
    s.w.wait_log("not a cdb table (0 bytes)", timeout=3, start=mark)
    assert "refused; the table in use stays" in s.log()[mark:]
    assert imap_login(s, DAVE, DAVE_PW) == "NO"

    # `cp users2.cdb users.cdb` over it, in two parts a check apart:
    # the header and half the rest are refused (alice still logs in,
    # dave not yet), the whole file is taken.
    new = compile_users(s, users_text(s.pki, s.home("carol@example.org"))
                        + f"{DAVE}:{{PLAIN}}{DAVE_PW}\n", "users2")
    cut = 2048 + (len(new) - 2048) // 2
    mark = len(s.log())
    overwrite(cdb, new[:cut])
    s.w.wait_log("corrupt cdb header", timeout=3, start=mark)
    assert imap_login(s, ALICE, ALICE_PW) == "OK"
    assert imap_login(s, DAVE, DAVE_PW) == "NO"
    with open(cdb, "ab") as f:
        f.write(new[cut:])
    assert os.stat(cdb).st_ino == ino
    s.w.wait_log(f"users: table {cdb} reloaded: ok", timeout=3,
                 start=mark)
    assert imap_login(s, DAVE, DAVE_PW) == "OK"
    assert imap_login(s, ALICE, ALICE_PW) == "OK"
    assert rcpt(s, DAVE) == 250
    assert s.w.alive()


def test_truncated_cdb_then_sighup_or_restart_is_a_temporary_failure(srv):
    """No table to keep (a reload, a start): a users.cdb that is not a
    cdb makes logins and RCPT fail temporarily, never a crash or a 550;
    `wren map` brings it back."""
    s = srv()
    cdb = s.w.dir / "users.cdb"
    overwrite(cdb, b"\0" * 100)
    mark = len(s.log())
    s.w.send(signal.SIGHUP)
    s.w.wait_log("reload done", timeout=5, start=mark)
    assert rcpt(s, ALICE) == 451
    assert imap_login(s, ALICE, ALICE_PW) != "OK"
    assert s.w.alive(), s.log()
    p = run_wren("map", "-t", "users", str(s.w.dir / "users"))
    assert p.returncode == 0, p.stderr
    deadline = time.monotonic() + 3 * SLOW
    while imap_login(s, ALICE, ALICE_PW) != "OK":
        assert time.monotonic() < deadline, s.log()
        time.sleep(0.1)
    assert rcpt(s, ALICE) == 250
