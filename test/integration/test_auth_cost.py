# SPDX-License-Identifier: ISC
"""What a failed login costs the server (issue 17 item 10; auth.c).

A password check runs inside the event loop, so its time shows in the
reply. An unknown login must cost what a wrong password for the table's
most expensive account costs, or timing tells which logins exist; and a
hash with more than 100,000 rounds, in a .cdb built by another tool, is
refused without being run (it would hold every client for minutes).

Timing here is a ratio of medians over a few POP3 logins on loopback,
with auth_fail_delay = 0 and a generous tolerance: the accounts use
50,000 rounds, so the hash is most of a reply's time, and the unknown
login used to cost a tenth of it (5,000 rounds). No absolute duration
is asserted.
"""
import socket
import statistics
import subprocess
import time

import pytest

from conftest import SLOW, free_port, wren_cmd

HASH6 = "a" * 86        # any text of the right length and alphabet
TRIES = 9 if SLOW == 1 else 5     # QEMU: each try takes longer


def pop3_fail_time(port, user, pw):
    """Seconds from PASS to its -ERR on a fresh POP3 session."""
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=30 * SLOW) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"+OK")
        s.sendall(b"USER " + user.encode() + b"\r\n")
        assert f.readline().startswith(b"+OK")
        t0 = time.monotonic()
        s.sendall(b"PASS " + pw.encode() + b"\r\n")
        line = f.readline()
        took = time.monotonic() - t0
        assert line.startswith(b"-ERR"), line
        s.sendall(b"QUIT\r\n")
        return took


def start(wren, users_text):
    port = free_port()
    w = wren(pop3_listen=f"127.0.0.1:{port}", auth_fail_delay="0",
             auth_fail_limit="100000")
    (w.dir / "users").write_text(users_text)
    p = subprocess.run(wren_cmd("map", "-t", "users",
                                str(w.dir / "users")),
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    w.start()
    return w, port


def medians(port, logins):
    """Median PASS time per login, tried in turn (not in blocks, so a
    load change on the machine touches every login alike)."""
    times = {u: [] for u, _ in logins}
    for _ in range(TRIES):
        for u, pw in logins:
            times[u].append(pop3_fail_time(port, u, pw))
    return {u: statistics.median(t) for u, t in times.items()}


def test_unknown_login_costs_the_most_expensive_account(wren):
    w, port = start(wren,
                    "dear:$6$rounds=50000$dearsalt$" + HASH6 + "\n"
                    "plain:{PLAIN}secret\n")
    m = medians(port, [("dear", "wrong"), ("nobody", "wrong"),
                       ("plain", "wrong")])
    # Before: nobody and plain cost 5,000 rounds, dear 50,000 (~0.1).
    for u in ("nobody", "plain"):
        ratio = m[u] / m["dear"]
        assert 0.5 < ratio < 2, (u, m)
    assert w.stop() == 0


def test_hash_above_the_cap_is_refused_not_run(wren, tmp_path):
    w, port = start(wren, "dear:$6$rounds=50000$dearsalt$" + HASH6 + "\n")
    # A .cdb made by another tool, with a hash `wren map` refuses:
    # 5,000,000 rounds would take seconds (minutes on a router).
    recs = {b"dear": b"CRYPT\0$6$rounds=50000$dearsalt$" +
            HASH6.encode() + b"\0",
            b"over": b"CRYPT\0$6$rounds=5000000$oversalt$" +
            HASH6.encode() + b"\0"}
    dump = b"".join(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v)
                    for k, v in recs.items()) + b"\n"
    new = tmp_path / "users.cdb"
    subprocess.run(["cdb", "-c", str(new)], input=dump, check=True,
                   timeout=30)
    new.replace(w.dir / "users.cdb")
    # The server takes a replaced table at its next check.
    deadline = time.monotonic() + 10 * SLOW
    while True:
        t_over = pop3_fail_time(port, "over", "pw")
        if "has more than rounds=100000" in w.log():
            break
        assert time.monotonic() < deadline, w.log()
        time.sleep(0.2)
    assert "auth failed: login=over" in w.log()
    m = medians(port, [("dear", "wrong"), ("over", "pw")])
    assert 0.5 < m["over"] / m["dear"] < 2, m
    assert t_over < 50 * m["dear"], (t_over, m)
    assert w.stop() == 0
