# SPDX-License-Identifier: ISC
"""Slow clients (issue 17): a client that sends a byte every second
re-arms the idle timer each time, so only an absolute limit frees its
slot. Before login, IMAP and POP3 sessions get login_timeout (3
minutes by default, Dovecot's login limit) as an absolute session
deadline; SMTP sessions get smtp_timeout until their first MAIL or
AUTH. A real client that
is merely slow (a command every few seconds, then a login) is not cut.

One server (login_timeout = 10 and smtp_timeout = 10, the smallest
values the keys take) and one thread per client, all at once, so the
whole file takes about as long as the longest limit. The limits are the
server's and do not scale; only the margins scale for QEMU (SLOW).
"""
import socket
import threading
import time

import pytest

from conftest import SLOW
from imaplib_helpers import ALICE, ALICE_PW, make_pki, pop3_server

IMAP_LIMIT = 10         # login_timeout below
SMTP_LIMIT = 10         # smtp_timeout below
MARGIN = 10 * SLOW      # the loop's latency, QEMU included


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    s = pop3_server(wren, pki, login_timeout="10", smtp_timeout="10")
    yield s
    if s.w.alive():
        assert s.stop() == 0


def slowloris(port, pattern, limit, out):
    """Sends pattern (complete commands) one byte a second, reading
    whatever comes back; out["closed"] is the seconds from the greeting
    until the server closed, or None when it still held the slot at
    limit + MARGIN."""
    out["closed"] = None
    with socket.create_connection(("127.0.0.1", port), timeout=MARGIN) as s:
        s.recv(512)                     # the greeting
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < limit + MARGIN:
            try:
                s.sendall(pattern[i % len(pattern):][:1])
                i += 1
                s.settimeout(max(0.01, t0 + i - time.monotonic()))
                while True:
                    if s.recv(512) == b"":
                        out["closed"] = time.monotonic() - t0
                        return
            except socket.timeout:
                continue
            except OSError:             # reset or broken pipe: closed
                out["closed"] = time.monotonic() - t0
                return


def slow_client(port, steps, pause, hold, out):
    """Sends steps (line, expected reply prefix, or None for no reply)
    one every `pause` seconds, then repeats the last one every `pause`
    seconds until `hold` seconds after the greeting; out["error"] is
    None when every reply came."""
    out["error"] = "not run"
    with socket.create_connection(("127.0.0.1", port), timeout=MARGIN) as s:
        f = s.makefile("rb")
        f.readline()                    # the greeting
        t0 = time.monotonic()
        k = 0
        while True:
            line, want = steps[min(k, len(steps) - 1)]
            k += 1
            try:
                s.sendall(line)
                got = b"" if want is None else f.readline()
                # Untagged IMAP lines before the tagged reply.
                while got.startswith(b"* "):
                    got = f.readline()
            except OSError as e:
                out["error"] = f"{line!r}: {e!r}"
                return
            if not got.startswith(want or b""):
                out["error"] = f"{line!r}: {got!r}"
                return
            if k >= len(steps) and time.monotonic() - t0 > hold:
                out["error"] = None
                return
            time.sleep(pause)


def run_all(clients):
    threads = [threading.Thread(target=fn, args=args, daemon=True)
               for fn, args in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(IMAP_LIMIT + 4 * MARGIN)
        assert not t.is_alive()


def test_a_byte_a_second_keeps_no_slot(srv):
    imap, pop3, smtp = {}, {}, {}
    run_all([
        (slowloris, (srv.imap, b"a1 NOOP\r\n", IMAP_LIMIT, imap)),
        (slowloris, (srv.pop3, b"CAPA\r\n", IMAP_LIMIT, pop3)),
        (slowloris, (srv.smtp, b"NOOP\r\n", SMTP_LIMIT, smtp)),
    ])
    assert imap["closed"] is not None, "IMAP before login kept its slot"
    assert pop3["closed"] is not None, "POP3 before login kept its slot"
    assert smtp["closed"] is not None, "SMTP kept its slot"
    srv.w.wait_log("disconnect: session time limit")
    assert srv.w.log().count("disconnect: session time limit") == 3, \
        srv.w.log()


def test_slow_real_clients_are_not_cut(srv):
    """A command every 2 seconds, login after 4, then NOOPs beyond
    the pre-login limit: never cut."""
    imap, pop3 = {}, {}
    imap_steps = [(b"a1 NOOP\r\n", b"a1 OK")] * 2 + [
        (f"a2 LOGIN {ALICE} {ALICE_PW}\r\n".encode(), b"a2 OK"),
        (b"a3 NOOP\r\n", b"a3 OK")]
    pop3_steps = [(b"NOOP\r\n", b"-ERR"),
                  (f"USER {ALICE}\r\n".encode(), b"+OK"),
                  (f"PASS {ALICE_PW}\r\n".encode(), b"+OK"),
                  (b"NOOP\r\n", b"+OK")]
    run_all([
        (slow_client, (srv.imap, imap_steps, 2, IMAP_LIMIT + 6, imap)),
        (slow_client, (srv.pop3, pop3_steps, 2, IMAP_LIMIT + 6, pop3)),
    ])
    assert imap["error"] is None, imap["error"]
    assert pop3["error"] is None, pop3["error"]
    assert "session time limit" not in srv.w.log()


def test_slow_real_smtp_sender_is_not_cut(srv):
    """A line every 3 seconds: the transaction outlasts smtp_timeout
    (the limit before the first MAIL), the session goes on."""
    out = {}
    steps = [(b"HELO client.example\r\n", b"250"),
             (b"MAIL FROM:<x@example.net>\r\n", b"250"),
             (f"RCPT TO:<{ALICE}>\r\n".encode(), b"250"),
             (b"DATA\r\n", b"354"),
             (b"Subject: slow\r\n", None),
             (b"\r\n", None)] + [(b"line\r\n", None)] * 3 + [
             (b".\r\n", b"250"), (b"QUIT\r\n", b"221")]
    run_all([(slow_client, (srv.smtp, steps, 3, 0, out))])
    assert out["error"] is None, out["error"]
