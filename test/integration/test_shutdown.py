# SPDX-License-Identifier: ISC
"""Stopping `wren serve` (SIGTERM): how long it takes and what each
client is told, and the one "disconnect" line every connection ends
with, however it ends.

  - connections whose client is already gone are dropped at once, TLS
    handshakes in progress too (nothing can be said in them);
  - idle sessions get 421 4.3.2 / * BYE / -ERR at once, and the server
    exits as soon as they are gone;
  - work in flight (a message being received, a FETCH or RETR being
    sent to a client that does not read) gets at most shutdown_timeout
    (default 3 s, so that the whole stop fits in procd's 5 s), then
    everything is cut and nothing half-received is delivered.

Bounds in time are generous and scaled for QEMU (SLOW); what is
asserted tightly is the order of events: a server given 30 s of grace
that exits while a test waits 2 s did not wait for anything.
"""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT, SLOW, SMTPClient
from imaplib_helpers import (
    ALICE, TIMEOUT, RawPOP3, Raw, client_ctx, files_in, mail,
    make_pki, pop3_server)

INIT = ROOT / "board/openwrt/package/wren/files/wren.init"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    """srv(**keys) -> a started server with SMTP, IMAP(S), POP3(S)."""
    def make(**keys):
        return pop3_server(wren, pki, **keys)
    return make


def tcp(port):
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def port_of(c):
    """The client's local port, which names its lines in the log."""
    sock = getattr(c, "sock", c)
    return sock.getsockname()[1]


def lines_of(log, port):
    return [x for x in log.splitlines() if f" 127.0.0.1:{port}: " in x]


def disconnects(log, port):
    return [x.split(": disconnect", 1)[1] for x in lines_of(log, port)
            if ": disconnect" in x]


def wait_connects(s, n, start=0):
    deadline = time.monotonic() + 10 * SLOW
    while s.log()[start:].count(": connect to ") < n:
        assert time.monotonic() < deadline, s.log()
        assert s.w.alive(), s.log()
        time.sleep(0.01)


def eof(sock, timeout=5):
    """True when the server closes sock (what it still sends is read and
    dropped), False when it stays open past timeout."""
    sock.settimeout(timeout * SLOW)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (socket.timeout, TimeoutError):
        return False


def smtp_session(s):
    c = SMTPClient(s.smtp)
    c.expect(220)
    c.cmd("EHLO client.example", 250)
    return c


def stopped_within(s, seconds):
    """Waits for the exit (scaled); returns the exit status."""
    try:
        return s.w.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after {seconds} s "
                             f"(x{SLOW}):\n{s.log()}") from None


# --- 1. clients already gone -----------------------------------------------


@pytest.mark.parametrize("handshake", [False, True],
                         ids=["tcp-only", "tls-done"])
def test_clients_gone_before_the_signal_do_not_hold_the_stop(srv, handshake):
    """Issue 17 item 7: four clients connect (IMAPS, POP3, POP3S, IMAP)
    and close again; SIGTERM must not wait for them. The server is
    frozen (SIGSTOP) while the signal is queued and the clients close,
    so that it sees the signal before their ends: the worst order."""
    s = srv(shutdown_timeout="30")
    mark = len(s.log())
    socks = []
    for port in (s.imaps, s.pop3, s.pop3s, s.imap):
        c = tcp(port)
        if handshake and port in (s.imaps, s.pop3s):
            c = client_ctx(s.pki).wrap_socket(c,
                                              server_hostname="127.0.0.1")
            assert c.recv(100).startswith((b"* OK", b"+OK"))
        socks.append(c)
    wait_connects(s, 4, mark)
    ports = [port_of(c) for c in socks]
    os.kill(s.pid, signal.SIGSTOP)
    try:
        os.kill(s.pid, signal.SIGTERM)
        for c in socks:
            c.close()
    finally:
        os.kill(s.pid, signal.SIGCONT)
    # Well under the 30 s grace (even scaled for QEMU), generous for a
    # busy machine; the log below shows the grace was not used.
    assert stopped_within(s, 5) == 0
    assert s.stop() == 0
    log = s.log()
    assert "stopping: no new connections, 4 in progress" in log
    assert "shutdown_timeout over" not in log
    for p in ports:
        assert disconnects(log, p) == [": peer closed"], lines_of(log, p)


def test_clients_closing_just_before_the_signal(srv):
    """The same, as an administrator would see it: no freezing, the
    signal right after the clients closed."""
    s = srv(shutdown_timeout="30")
    mark = len(s.log())
    socks = [tcp(p) for p in (s.imaps, s.pop3, s.pop3s, s.imap)]
    wait_connects(s, 4, mark)
    ports = [port_of(c) for c in socks]
    for c in socks:
        c.close()
    s.w.send(signal.SIGTERM)
    assert stopped_within(s, 5) == 0       # the grace is 30 s
    assert s.stop() == 0
    assert "shutdown_timeout over" not in s.log()
    for p in ports:
        assert len(disconnects(s.log(), p)) == 1


# --- 2. idle sessions --------------------------------------------------------


def test_idle_sessions_are_told_at_once_and_the_server_exits(srv):
    s = srv(shutdown_timeout="30")
    mark = len(s.log())
    smtp = smtp_session(s)
    smtp_mail = smtp_session(s)     # in a transaction, not in DATA
    smtp_mail.cmd("MAIL FROM:<s@remote.example>", 250)
    imap = Raw(s)
    imap.login()
    idle = Raw(s)
    idle.login()
    idle.cmd("SELECT INBOX")
    idle.send("i1 IDLE\r\n")
    assert idle.line().startswith(b"+ ")
    imaps = Raw(s, tls="implicit")
    pop = RawPOP3(s)
    pop.login()
    pops = RawPOP3(s, tls="implicit")
    # A handshake that never finishes: nothing can be said in it.
    half = tcp(s.imaps)
    half.send(b"\x16\x03\x01\x00")
    wait_connects(s, 8, mark)
    s.w.send(signal.SIGTERM)
    smtp.expect(421, "4.3.2")
    smtp_mail.expect(421, "4.3.2")
    for c in (imap, idle, imaps):
        assert c.line() == b"* BYE Server shutting down"
    for c in (pop, pops):
        assert c.line() == b"-ERR [SYS/TEMP] Server shutting down"
    for c in (smtp, smtp_mail):
        assert c.closed()
    for c in (imap, idle, imaps):
        assert c.closed(timeout=5 * SLOW)
    for c in (pop, pops):
        assert c.closed()
    assert eof(half)
    assert stopped_within(s, 5) == 0       # the grace is 30 s
    assert s.stop() == 0
    log = s.log()
    assert "shutdown_timeout over" not in log
    for c in (smtp, smtp_mail, imap, idle, imaps, pop, pops):
        assert disconnects(log, port_of(c)) == [": shutdown"], \
            lines_of(log, port_of(c))
    assert len(disconnects(log, port_of(half))) == 1


# --- 3. work in flight -------------------------------------------------------


def test_message_in_progress_finishes_within_the_grace(srv):
    s = srv()
    a = smtp_session(s)
    a.cmd("MAIL FROM:<s@remote.example>", 250)
    a.cmd(f"RCPT TO:<{ALICE}>", 250)
    a.cmd("DATA", 354)
    a.send("Subject: finished in time\r\n\r\nfirst half\r\n")
    time.sleep(0.1 * SLOW)
    s.w.send(signal.SIGTERM)
    a.send("second half\r\n.\r\n")
    a.expect(250, "queued as")
    a.expect(421, "4.3.2")
    assert a.closed()
    # Within procd's 5 s; the grace not used is shown by the log.
    assert stopped_within(s, 5) == 0
    assert s.stop() == 0
    assert "shutdown_timeout over" not in s.log()
    [p] = files_in(s.maildir(), "new")
    assert p.read_bytes().endswith(b"\n\nfirst half\nsecond half\n")


def test_stalled_message_holds_the_stop_at_most_shutdown_timeout(srv):
    """Default shutdown_timeout (3 s): the whole stop fits in procd's
    5 s. The stalled message is not delivered; an idle session is told
    at once, before the grace is over."""
    s = srv()
    stalled = smtp_session(s)
    stalled.cmd("MAIL FROM:<s@remote.example>", 250)
    stalled.cmd(f"RCPT TO:<{ALICE}>", 250)
    stalled.cmd("DATA", 354)
    stalled.send("Subject: never finished\r\n\r\nfirst half\r\n")
    idle = smtp_session(s)
    time.sleep(0.1 * SLOW)
    t0 = time.monotonic()
    s.w.send(signal.SIGTERM)
    idle.expect(421, "4.3.2")
    told = time.monotonic() - t0
    assert idle.closed()
    assert stopped_within(s, 5) == 0
    took = time.monotonic() - t0
    # Told before the grace was over; the stalled one was waited for.
    assert told < took
    assert took >= 2.5
    assert eof(stalled.sock)
    assert s.stop() == 0
    assert files_in(s.maildir(), "new") == []
    assert files_in(s.maildir(), "tmp") == []
    log = s.log()
    assert "at most 3 s" in log
    assert "shutdown_timeout over: closing 1 connection" in log
    assert disconnects(log, port_of(stalled)) == [": shutdown grace over"]
    assert disconnects(log, port_of(idle)) == [": shutdown"]


def test_clients_not_reading_hold_the_stop_at_most_shutdown_timeout(srv):
    """A FETCH and a RETR of a big message that their clients do not
    read: the BYE cannot cut into them, and after shutdown_timeout
    they are cut."""
    s = srv(shutdown_timeout="1")
    body = "".join(f"{i:07d} " + "x" * 70 + "\n" for i in range(200_000))
    s.put(mail("big", body=body))
    imap = Raw(s)
    imap.login()
    imap.cmd("SELECT INBOX")
    imap.send("f1 FETCH 1 BODY.PEEK[]\r\n")
    pop = RawPOP3(s)
    pop.login()
    pop.send("RETR 1\r\n")
    time.sleep(0.5 * SLOW)          # both stuck on a full socket
    t0 = time.monotonic()
    s.w.send(signal.SIGTERM)
    assert stopped_within(s, 4) == 0
    took = time.monotonic() - t0
    assert took >= 0.8
    assert s.stop() == 0
    log = s.log()
    assert "shutdown_timeout over: closing 2 connections" in log
    for c in (imap, pop):
        assert disconnects(log, port_of(c)) == [": shutdown grace over"]
    # No BYE inside the literal: what arrived is a prefix of the
    # message, then the end.
    imap.sock.settimeout(TIMEOUT)
    got = bytearray(imap.buf)
    try:
        while chunk := imap.sock.recv(1 << 20):
            got += chunk
    except ConnectionResetError:
        pass
    assert b"* BYE" not in got


def test_grace_of_zero_still_says_goodbye(srv):
    s = srv(shutdown_timeout="0")
    stalled = smtp_session(s)
    stalled.cmd("MAIL FROM:<s@remote.example>", 250)
    stalled.cmd(f"RCPT TO:<{ALICE}>", 250)
    stalled.cmd("DATA", 354)
    idle = smtp_session(s)
    s.w.send(signal.SIGTERM)
    idle.expect(421, "4.3.2")
    assert stopped_within(s, 5) == 0
    assert eof(stalled.sock)
    assert s.stop() == 0


def test_second_signal_cuts_at_once(srv):
    s = srv(shutdown_timeout="60")
    stalled = smtp_session(s)
    stalled.cmd("MAIL FROM:<s@remote.example>", 250)
    stalled.cmd(f"RCPT TO:<{ALICE}>", 250)
    stalled.cmd("DATA", 354)
    s.w.send(signal.SIGTERM)
    s.w.wait_log("stopping: no new connections")
    s.w.send(signal.SIGTERM)
    assert stopped_within(s, 10) == 0      # the grace is 60 s
    assert eof(stalled.sock)
    assert s.stop() == 0
    assert "shutdown_timeout over" not in s.log()
    assert len(disconnects(s.log(), port_of(stalled))) == 1


# --- 4. one disconnect line per connection -----------------------------------


def test_exactly_one_disconnect_line_per_connection(srv):
    """Client close, server close, QUIT/LOGOUT, idle timeout and the
    shutdown: one "disconnect" line each, with its reason. (Issue 17:
    IMAP logged it twice when the client closed, never after LOGOUT.)
    smtp_timeout and login_timeout are at their least (10 s); the
    timeouts run meanwhile."""
    s = srv(smtp_timeout="10", login_timeout="10")
    want = {}
    # Before MAIL or login, the idle timer and the session deadline
    # (conn.h) both run out after 10 s: either reason, one line.
    either = (": idle timeout", ": session time limit")

    # Idle timeouts, first: they run while the rest is done.
    t_smtp = smtp_session(s)
    want[port_of(t_smtp)] = either
    t_imap = Raw(s)                 # before login: login_timeout
    want[port_of(t_imap)] = either
    t0 = time.monotonic()

    c = smtp_session(s)
    want[port_of(c)] = ": closed"
    c.cmd("QUIT", 221)
    assert c.closed()
    c = smtp_session(s)
    want[port_of(c)] = ": peer closed"
    c.close()
    c = SMTPClient(s.smtp)          # too many errors: closed by us
    want[port_of(c)] = ": closed"
    c.expect(220)
    c.send("BOGUS\r\n" * 30)
    assert eof(c.sock)

    c = Raw(s)
    want[port_of(c)] = ": closed"
    c.login()
    c.cmd("LOGOUT")
    assert c.closed()
    c = Raw(s)
    want[port_of(c)] = ": peer closed"
    c.login()
    c.close()
    c = Raw(s, tls="implicit")
    want[port_of(c)] = ": peer closed"
    c.login()
    c.close()
    c = Raw(s)
    want[port_of(c)] = ": closed"
    c.send("x1 LOGIN {99999999+}\r\n")
    assert c.line().startswith(b"* BYE")
    assert c.closed()

    c = RawPOP3(s)
    want[port_of(c)] = ": closed"
    c.login()
    c.cmd("QUIT", "+OK ")
    assert c.closed()
    c = RawPOP3(s, tls="implicit")
    want[port_of(c)] = ": peer closed"
    c.close()

    # The timeouts.
    for c in (t_smtp, t_imap):
        c.sock.settimeout(30 * SLOW)
    t_smtp.expect(421, "4.4.2")
    assert t_smtp.closed()
    assert t_imap.line() == b"* BYE Disconnected for inactivity"
    assert t_imap.closed(timeout=5 * SLOW)
    assert time.monotonic() - t0 >= 9

    # And the shutdown.
    last = smtp_session(s)
    want[port_of(last)] = ": shutdown"
    s.w.send(signal.SIGTERM)
    last.expect(421, "4.3.2")
    assert stopped_within(s, 5) == 0
    assert s.stop() == 0
    log = s.log()
    for port, why in want.items():
        got = lines_of(log, port)
        assert len([x for x in got if ": connect to " in x]) == 1, got
        whys = why if isinstance(why, tuple) else (why,)
        assert len(disconnects(log, port)) == 1, got
        assert disconnects(log, port)[0] in whys, got
    assert log.count(": disconnect") == log.count(": connect to "), log


# --- 5. the OpenWrt init script ----------------------------------------------


@pytest.mark.parametrize("value, want", [
    (None, 5), ("3", 5), ("0", 5), ("10", 12), ("20s", 22), ("1m", 62),
])
def test_openwrt_term_timeout_follows_shutdown_timeout(tmp_path, value,
                                                       want):
    """procd's term_timeout: its default 5 s for the default grace,
    more when wren.conf asks for more."""
    conf = tmp_path / "wren.conf"
    conf.write_text("log_level = info\n" + (
        f"shutdown_timeout = {value}  # comment\n" if value else ""))
    p = subprocess.run(
        ["sh", "-c", '. "$1"; CONF="$2"; term_timeout', "sh", str(INIT),
         str(conf)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) == want
    assert re.search(r"procd_set_param term_timeout \"\$\(term_timeout\)\"",
                     INIT.read_text())
