# SPDX-License-Identifier: ISC
"""`wren queue` (SPEC section 2; issue #12 item 9): list, show, flush,
retry, delete and bounce, with -c FILE, on a stopped server (the files
directly; requests recorded as `admin` lines in the envelope for the
next start) and on a running one (through data_dir/control, the
protocol of src/queue/control.h).

Messages are queued by a real wren: alice submits to bob@remote.test,
whose MX (127.0.0.2) is not listening, so they stay deferred
(retry_schedule 1h). Tests marked needs_runner need the queue runner
and the control socket in `wren serve`; they are not skipped.
"""
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from conftest import run_wren
from outbound import (ALICE, ALICE_PW, dns, log_lines, maildir, message,
                      mx, mx_port, outbound, parse_bounce, pki, queue_cli,
                      queue_ids, submit, wait_for)

needs_runner = pytest.mark.needs_runner

__all__ = ["dns", "mx", "mx_port", "outbound", "pki"]

BOB = "bob@remote.test"


def queued(outbound, n=1, start_again=False):
    """A stopped wren with n messages from alice to bob in its queue."""
    w = outbound(retry_schedule="1h")
    ids = [submit(w.sub, ALICE, BOB, message(f"queued {i}"),
                  auth=(ALICE, ALICE_PW)) for i in range(n)]
    assert w.stop() == 0
    assert sorted(ids) == queue_ids(w)
    return w, ids


def env_file(w, qid):
    return Path(w.keys["data_dir"]) / "queue" / "env" / qid


def control_path(w):
    return Path(w.keys["data_dir"]) / "control"


def ok(p):
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


# === stopped server: the files ========================================


def test_list_and_show_on_stopped_server(outbound):
    w, (a, b) = queued(outbound, 2)
    out = ok(queue_cli(w, "list"))
    for qid in (a, b):
        assert re.search(rf"^{qid}\b.*<{re.escape(ALICE)}>", out, re.M), out
    assert out.count(f"<{BOB}>") == 2 or out.count(BOB) == 2, out
    assert "2 Request" in out or "2 request" in out, out
    out = ok(queue_cli(w, "show", a))
    assert BOB in out and ALICE in out
    assert "*** MESSAGE ***" in out and "Subject: queued 0" in out
    # list is the default, and what `mailq` prints
    assert ok(queue_cli(w)) == ok(queue_cli(w, "list"))


def test_delete_on_stopped_server(outbound):
    w, (a, b) = queued(outbound, 2)
    assert ok(queue_cli(w, "delete", a)).strip() == f"{a}: deleted"
    assert queue_ids(w) == [b]
    assert not (Path(w.keys["data_dir"]) / "queue" / "msg" / a).exists()
    p = queue_cli(w, "delete", a)
    assert p.returncode == 1 and f"no message {a}" in p.stderr
    ok(queue_cli(w, "delete", b))
    assert "Mail queue is empty" in ok(queue_cli(w, "list"))


def test_retry_bounce_flush_recorded_for_next_start(outbound):
    w, (a, b, c) = queued(outbound, 3)
    before = {q: env_file(w, q).read_bytes() for q in (a, b, c)}
    out = ok(queue_cli(w, "retry", a))
    assert "retried when the server starts" in out, out
    out = ok(queue_cli(w, "bounce", b))
    assert "bounced when the server starts" in out, out
    # appended, never rewritten
    ea, eb = env_file(w, a).read_bytes(), env_file(w, b).read_bytes()
    assert ea.startswith(before[a]) and eb.startswith(before[b])
    assert re.fullmatch(rb"admin retry \d+\n", ea[len(before[a]):]), ea
    assert re.fullmatch(rb"admin bounce \d+\n", eb[len(before[b]):]), eb
    assert env_file(w, c).read_bytes() == before[c]
    out = ok(queue_cli(w, "flush"))
    assert "3 messages will be retried when the server starts" in out
    for q in (a, b, c):
        assert env_file(w, q).read_bytes().endswith(b"\n")
        assert b"admin retry " in env_file(w, q).read_bytes()[
            len(before[q]):]
    # the envelopes still parse
    for q in (a, b, c):
        ok(queue_cli(w, "show", q))
    assert len(queue_ids(w)) == 3


def test_requests_for_missing_messages_and_bad_ids(outbound):
    w, (a,) = queued(outbound, 1)
    for verb in ("retry", "bounce", "delete", "show"):
        p = queue_cli(w, verb, "ABCDEF0123")
        assert p.returncode == 1, (verb, p.stdout, p.stderr)
        assert "ABCDEF0123" in p.stderr, (verb, p.stderr)
    for bad in ("../env/x", "abc", "", "A" * 40):
        p = queue_cli(w, "delete", bad)
        assert p.returncode == 1 and "not a queue id" in p.stderr, bad
    assert queue_ids(w) == [a]


@pytest.mark.parametrize("args", [
    ("frob",), ("retry",), ("delete",), ("show",), ("flush", "X1"),
    ("list", "X1"), ("retry", "A1", "B2"),
])
def test_usage_errors(outbound, args):
    w = outbound(start=False)
    p = queue_cli(w, *args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert "usage: wren queue" in p.stderr


def test_stale_socket_means_stopped(outbound):
    """A socket file left by a killed server (nobody listening): the
    files are worked on directly."""
    w, (a,) = queued(outbound, 1)
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(control_path(w)))
    s.close()
    out = ok(queue_cli(w, "retry", a))
    assert "when the server starts" in out
    assert ok(queue_cli(w, "delete", a)).strip() == f"{a}: deleted"


class FakeControl:
    """A stand-in server on data_dir/control: records requests, answers
    with `reply`."""

    def __init__(self, path, reply):
        self.path, self.reply, self.got = str(path), reply, []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.sock.settimeout(10)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            while True:
                c, _ = self.sock.accept()
                with c:
                    data = b""
                    while b"\n" not in data:
                        chunk = c.recv(100)
                        if not chunk:
                            break
                        data += chunk
                    self.got.append(data)
                    c.sendall(self.reply)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def test_talks_the_control_protocol(outbound):
    """The client half of src/queue/control.h, against a stand-in."""
    w, (a,) = queued(outbound, 1)
    before = env_file(w, a).read_bytes()
    fake = FakeControl(control_path(w), b"ok 1 message to retry now\n")
    try:
        assert ok(queue_cli(w, "flush")).strip() == \
            "1 message to retry now"
        fake.reply = b"ok\n"
        for verb in ("retry", "bounce", "delete"):
            out = ok(queue_cli(w, verb, a))
            assert out.strip() == f"{a}: {verb} requested", out
        fake.reply = b"error no message " + a.encode() + b"\n"
        p = queue_cli(w, "retry", a)
        assert p.returncode == 1
        assert p.stderr.strip() == f"wren queue: {a}: no message {a}"
        fake.reply = b"garbage\n"
        p = queue_cli(w, "flush")
        assert p.returncode == 1 and "unexpected answer" in p.stderr
        fake.reply = b""
        p = queue_cli(w, "flush")
        assert p.returncode == 1 and "no answer" in p.stderr
    finally:
        fake.close()
    assert fake.got[:4] == [b"flush\n", f"retry {a}\n".encode(),
                            f"bounce {a}\n".encode(),
                            f"delete {a}\n".encode()]
    # while a server answers, the files are left to it
    assert env_file(w, a).read_bytes() == before


# === running server: the control socket ===============================


def running(outbound, n=1):
    w = outbound(retry_schedule="1h")
    ids = [submit(w.sub, ALICE, BOB, message(f"queued {i}"),
                  auth=(ALICE, ALICE_PW)) for i in range(n)]
    return w, ids


@needs_runner
def test_control_socket_is_private(outbound):
    w, _ = running(outbound)
    path = wait_for(lambda: control_path(w).exists() and control_path(w),
                    10, "data_dir/control")
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    if os.geteuid() == 0:
        p = run_wren("queue", "-c", str(w.conf), "flush", user=65534)
        assert p.returncode == 1, p.stdout + p.stderr
    assert w.stop() == 0
    assert not control_path(w).exists()


@needs_runner
def test_list_show_while_running(outbound):
    w, (a,) = running(outbound)
    wait_for(lambda: log_lines(w, a, "status=deferred"), 15,
             "the first attempt")
    out = ok(queue_cli(w, "list"))
    assert a in out and BOB in out
    assert ok(queue_cli(w, "show", a)).count(BOB) >= 1


@needs_runner
def test_flush_and_retry_while_running_deliver(outbound, mx):
    w, (a, b) = running(outbound, 2)
    for q in (a, b):
        wait_for(lambda q=q: log_lines(w, q, "status=deferred"), 15,
                 f"{q} deferred")
    m = mx()
    ok(queue_cli(w, "retry", a))
    wait_for(lambda: m.with_subject("queued 0"), 15, "a retried")
    time.sleep(1)
    assert m.with_subject("queued 1") == []      # 1h schedule
    ok(queue_cli(w, "flush"))
    wait_for(lambda: m.with_subject("queued 1"), 15, "b flushed")
    wait_for(lambda: not queue_ids(w), 15, "an empty queue")


@needs_runner
def test_delete_and_bounce_while_running(outbound):
    w, (a, b) = running(outbound, 2)
    for q in (a, b):
        wait_for(lambda q=q: log_lines(w, q, "status=deferred"), 15,
                 f"{q} deferred")
    ok(queue_cli(w, "delete", a))
    assert a not in queue_ids(w)
    p = queue_cli(w, "delete", a)
    assert p.returncode == 1 and a in p.stderr
    ok(queue_cli(w, "bounce", b))
    raw = wait_for(lambda: [d for _, d in maildir(w.maildir())
                            if b"multipart/report" in d], 15,
                   "the bounce for b")
    assert len(raw) == 1
    (r,) = parse_bounce(raw[0]).recipients
    assert r["final-recipient"].lower() == f"rfc822; {BOB}"
    assert r["action"] == "failed"
    wait_for(lambda: not queue_ids(w), 15, "an empty queue")


@needs_runner
def test_requests_recorded_while_stopped_act_at_start(outbound, mx):
    w, (a, b) = queued(outbound, 2)
    ok(queue_cli(w, "bounce", b))
    m = mx()
    ok(queue_cli(w, "retry", a))
    w.start()
    wait_for(lambda: m.with_subject("queued 0"), 15, "a delivered")
    wait_for(lambda: [d for _, d in maildir(w.maildir())
                      if b"multipart/report" in d], 15, "b bounced")
    assert m.with_subject("queued 1") == []
    wait_for(lambda: not queue_ids(w), 15, "an empty queue")


def test_show_escapes_control_characters(outbound):
    """Issue 17, item 10: a sender's ESC sequences and C1 controls never
    reach the terminal through `show` (written as \\xNN); -r (before or
    after the verb) gives the bytes as queued. (SMTP refuses a bare CR;
    test_envelope covers it and invalid UTF-8.)"""
    w = outbound(retry_schedule="1h")
    body = ("Subject: hostile\r\n\r\n\x1b[2J\x1b]0;owned\x07 ok "
            "\u009b31m caf\u00e9\r\n")
    qid = submit(w.sub, ALICE, BOB, body, auth=(ALICE, ALICE_PW))
    assert w.stop() == 0
    out = ok(queue_cli(w, "show", qid))
    shown = out.split("*** MESSAGE ***\n", 1)[1]
    assert "\x1b" not in out and "\r" not in out and "\u009b" not in out
    assert "\\x1b[2J\\x1b]0;owned\\x07 ok \\xc2\\x9b31m caf\u00e9\n" \
        in shown, shown
    for args in (("-r", "show", qid), ("show", "-r", qid)):
        raw = ok(queue_cli(w, *args))
        assert "\x1b[2J\x1b]0;owned\x07 ok" in raw, args
        assert "\u009b31m caf\u00e9" in raw, args
    # list prints nothing raw either, and takes -r too
    assert "\x1b" not in ok(queue_cli(w, "list"))
    ok(queue_cli(w, "-r", "list"))
