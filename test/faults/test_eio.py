# SPDX-License-Identifier: ISC
"""Failing writes, fsyncs, syncfs and renames (issue 17, fault
injection), through the shim build (test/faults/shim.c: wren linked
with --wrap; no io_uring, so every commit goes through the wrapped
calls). Each case turns one fault on through $WREN_FAULT_CTL while the
server runs, sends one message, and checks:

  - the transaction gets 451 4.3.0 (EIO) or 452 4.3.1 (ENOSPC), never
    a 250, and the fault did fire (the shim logs it);
  - the message is nowhere: no Maildir copy, nothing in the queue
    (msg/, env/, tmp/), never sent to the remote MX;
  - the server goes on: with the fault off, the same session and a new
    one deliver, and the earlier good message is still there.

Inbound cases deliver on port 25 to two local accounts; queue cases
submit to a remote and a local recipient at once (one transaction: the
queue copy and the Maildir copy go together or not at all).
"""
import os
import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from conftest import WREN_FAULT_BIN, _it, check_commit_path, wren_cmd
from faultlib import (local_wren, maildir_of, make_message, parse_stored,
                      scaled, scan, tmp_files, transact)
from outbound import (ALICE, ALICE_PW, dns, maildir, mx, mx_port,
                      outbound, pki, queue_cli, queue_ids, wait_for)

__all__ = ["dns", "mx", "mx_port", "outbound", "pki"]

BOB = "bob@remote.test"
U0, U1 = "u0@example.test", "u1@example.test"

# (rule, expected code): the rule is the shim's FUNC MATCH WHEN ERRNO.
INBOUND = [
    ("write /Maildir/tmp/ 1+ EIO", 451),
    ("write /Maildir/tmp/ 1+ ENOSPC", 452),
    ("write /Maildir/tmp/ 2 EIO", 451),         # mid-DATA, later chunk
    ("copy_file_range /Maildir/tmp/ 1+ EIO", 451),  # second copy
    ("syncfs * 1 EIO", 451),                    # before the rename
    ("syncfs * 2 EIO", 451),                    # after it: unlinked
    ("syncfs * 1+ EIO", 451),
    ("rename /Maildir/new/ 1 EIO", 451),
    ("rename /Maildir/new/ 2 EIO", 451),        # the second copy
    ("fsync /Maildir 1+ EIO", 451),             # first delivery's dirs
]

QUEUE = [
    ("write /queue/tmp/ 1+ EIO", 451),
    ("write /queue/tmp/ 1+ ENOSPC", 452),
    ("syncfs * 1 EIO", 451),
    ("syncfs * 2 EIO", 451),
    ("rename /queue/msg/ 1 EIO", 451),
    ("rename /queue/env/ 1 EIO", 451),
    ("fsync /queue/ 1+ EIO", 451),              # the msg/ barrier
    ("rename /Maildir/new/ 1 EIO", 451),        # the local copy
]


@pytest.fixture
def shim(monkeypatch, tmp_path):
    """Runs wren as the shim build; returns fault(rule) / fault(None)
    writing the control file."""
    if not os.access(WREN_FAULT_BIN, os.X_OK):
        pytest.skip(f"no {WREN_FAULT_BIN} (make faults builds it)")
    monkeypatch.setattr(_it, "WREN_BIN", WREN_FAULT_BIN)
    ctl = tmp_path / "fault.ctl"
    monkeypatch.setenv("WREN_FAULT_CTL", str(ctl))

    def fault(rule):
        tmp = ctl.with_suffix(".new")
        tmp.write_text(rule + "\n" if rule else "")
        tmp.replace(ctl)            # a new inode: the shim rereads
    return fault


def fired(w, start):
    return [ln for ln in w.log()[start:].splitlines()
            if "wren-fault:" in ln]


def send_local(w, tag, rcpts, smtp=None):
    data, sha = make_message(tag, 200000, to=rcpts[0])
    return transact(w.smtp, "s@remote.example", rcpts, data, smtp=smtp)


@pytest.mark.parametrize("rule,want", INBOUND, ids=[r for r, _ in INBOUND])
def test_inbound_fault(wren, shim, rule, want):
    w = local_wren(wren)
    w.start()
    check_commit_path(w, "syncfs")
    root = w.mail_root
    first = "fsync" in rule         # a first delivery creates the dirs
    if not first:
        code, text = send_local(w, "good0", [U0, U1])
        assert code == 250, (code, text)
    mark = len(w.log())
    shim(rule)
    with smtplib.SMTP("127.0.0.1", w.smtp, timeout=scaled(30)) as s:
        s.ehlo()
        code, text = send_local(w, "bad", [U0, U1], smtp=s)
        assert code == want, (rule, code, text)
        assert (b"4.3.1" if want == 452 else b"4.3.0") in text, text
        assert fired(w, mark), f"{rule}: the fault never fired"
        shim(None)
        assert s.noop()[0] == 250
        code, text = send_local(w, "good1", [U0, U1], smtp=s)
        assert code == 250, (rule, code, text)
    code, text = send_local(w, "good2", [U0])
    assert code == 250, (rule, code, text)
    for u in (U0, U1):
        md = maildir_of(root, u)
        got = scan(md)
        want_tags = {"good1", "good2"} if u == U0 else {"good1"}
        if not first:
            want_tags.add("good0")
        assert set(got) == want_tags, (rule, u, sorted(got))
        assert all(len(f) == 1 and f[0][1] for f in got.values())
        assert tmp_files(md) == [], (rule, u, tmp_files(md))
    assert w.stop() == 0


def queue_files(w):
    q = Path(w.keys["data_dir"]) / "queue"
    return {sub: sorted(p.name for p in (q / sub).iterdir())
            if (q / sub).is_dir() else [] for sub in ("tmp", "msg", "env")}


@pytest.mark.parametrize("rule,want", QUEUE, ids=[r for r, _ in QUEUE])
def test_queue_fault(outbound, mx, shim, rule, want):
    m = mx()
    w = outbound()
    check_commit_path(w, "syncfs")
    auth = (ALICE, ALICE_PW)

    def submit(tag, smtp=None):
        data, _ = make_message(tag, 200000, to=BOB)
        return transact(w.sub, ALICE, [BOB, ALICE], data, auth=auth,
                        smtp=smtp)

    code, text = submit("good0")
    assert code == 250, (code, text)
    wait_for(lambda: not queue_ids(w), 20, "good0 to leave the queue")
    mark = len(w.log())
    shim(rule)
    with smtplib.SMTP("127.0.0.1", w.sub, timeout=scaled(30)) as s:
        s.ehlo()
        s.login(*auth)
        code, text = submit("bad", smtp=s)
        assert code == want, (rule, code, text)
        assert (b"4.3.1" if want == 452 else b"4.3.0") in text, text
        assert fired(w, mark), f"{rule}: the fault never fired"
        assert queue_files(w) == {"tmp": [], "msg": [], "env": []}, \
            (rule, queue_files(w))
        shim(None)
        code, text = submit("good1", smtp=s)
        assert code == 250, (rule, code, text)
    wait_for(lambda: not queue_ids(w), 20, "the queue to drain")
    time.sleep(0.2 * _it.SLOW)
    sent = sorted(parse_stored(d.data)[0] for d in m.delivered)
    assert sent == ["good0", "good1"], (rule, sent)
    local = sorted(parse_stored(d)[0] for _, d in maildir(w.maildir()))
    assert local == ["good0", "good1"], (rule, local)
    assert tmp_files(w.maildir()) == []
    assert w.stop() == 0



def test_runner_env_append_fault(outbound, mx, shim):
    """The runner records each attempt by appending to env/ (write,
    fdatasync). An attempt where bob@ is accepted and carol@ deferred
    cannot be recorded: nothing is dropped; the message waits (the
    runner looks again after RUNNER_RESCAN_S, 60 s; here `wren queue
    flush` asks at once) and then carol@ gets it, bob@ at least once
    (twice is allowed: his 250 could not be recorded)."""
    m = mx()
    carol = "carol@remote.test"
    m.rcpt_replies[carol] = "451 4.2.0 try later"
    w = outbound(retry_schedule="1s 1s 1s")
    check_commit_path(w, "syncfs")
    mark = len(w.log())
    shim("write /queue/env/ 1+ EIO;fdatasync /queue/env/ 1+ EIO")
    data, _ = make_message("queued", 5000, to=BOB)
    code, text = transact(w.sub, ALICE, [BOB, carol], data,
                          auth=(ALICE, ALICE_PW))
    assert code == 250, (code, text)
    wait_for(lambda: fired(w, mark), 20, "the fault to fire")
    time.sleep(1.0 * _it.SLOW)      # retries would come under the fault
    assert queue_ids(w), "gone from the queue with carol@ deferred"
    shim(None)
    m.rcpt_replies.clear()
    p = queue_cli(w, "flush")
    assert p.returncode == 0, p.stdout + p.stderr
    wait_for(lambda: not queue_ids(w), 30, "the queue to drain")
    got = {}
    for d in m.delivered:
        assert parse_stored(d.data)[0] == "queued"
        for r in d.rcpts:
            got[r] = got.get(r, 0) + 1
    assert got.get(carol) == 1 and got.get(BOB, 0) >= 1, got
    print(f"runner: with the env appends failing, delivered {got}")
    assert w.stop() == 0


def sendmail(w, rcpt, tag):
    data, _ = make_message(tag, 20000, to=rcpt)
    return subprocess.run(wren_cmd("sendmail", "-c", str(w.conf), rcpt),
                          input=data, capture_output=True,
                          timeout=scaled(30))


def maildrop(w):
    d = Path(w.keys["data_dir"]) / "maildrop"
    return sorted(p.name for p in d.iterdir() if p.name != "bad") \
        if d.is_dir() else []


SENDMAIL = [
    ("write /maildrop/ 1+ EIO", False),
    ("write /maildrop/ 1+ ENOSPC", False),
    ("fsync /maildrop/ 1 EIO", False),          # the file's
    ("renameat /maildrop/ 1+ EIO", False),
    # The directory's fsync, after the rename: the exit says failure
    # but the file is in place and may be picked up (at-least-once).
    ("fsync /maildrop 2 EIO", True),
]


@pytest.mark.parametrize("rule,may_stay", SENDMAIL,
                         ids=[r for r, _ in SENDMAIL])
def test_sendmail_fault(wren, shim, rule, may_stay):
    """`wren sendmail` whose maildrop write fails exits EX_TEMPFAIL
    (75) and leaves no file to pick up; with the fault off it exits 0
    and the message is delivered."""
    w = local_wren(wren)
    w.start()
    mark = len(w.log())
    shim(rule)
    p = sendmail(w, U0, "bad")
    assert p.returncode == 75, (rule, p.returncode, p.stdout, p.stderr)
    assert b"wren-fault:" in p.stderr, (rule, p.stderr)
    if not may_stay:
        assert maildrop(w) == [], (rule, maildrop(w))
    shim(None)
    p = sendmail(w, U0, "good")
    assert p.returncode == 0, (rule, p.stdout, p.stderr)
    md = maildir_of(w.mail_root, U0)
    wait_for(lambda: "good" in scan(md), 20, "the good message")
    time.sleep(0.2 * _it.SLOW)
    got = scan(md)
    assert set(got) - {"bad"} == {"good"}, sorted(got)
    assert may_stay or "bad" not in got, sorted(got)
    assert all(len(f) == 1 and f[0][1] for f in got.values()), got
    assert not fired(w, mark), "the server hit the fault"
    print(f"sendmail [{rule}]: exit {p.returncode}")
    assert w.stop() == 0


@pytest.mark.parametrize("rule", ["rename /queue/env/ 1+ EIO",
                                  "write /queue/tmp/ 1+ EIO",
                                  "syncfs * 1+ EIO"])
def test_pickup_fault(wren, shim, rule):
    """`wren sendmail` exited 0 (the message is acknowledged), then the
    server cannot queue it: the maildrop file stays until it can, and
    is delivered once the fault is gone (the next maildrop event, or
    PICKUP_RETRY_MS, retries it)."""
    w = local_wren(wren)
    w.start()
    mark = len(w.log())
    shim(rule)
    p = sendmail(w, U0, "first")
    assert p.returncode == 0, (rule, p.stdout, p.stderr)
    wait_for(lambda: fired(w, mark), 20, "the fault to fire")
    time.sleep(0.3 * _it.SLOW)
    assert len(maildrop(w)) == 1, (rule, maildrop(w))
    md = maildir_of(w.mail_root, U0)
    assert "first" not in scan(md)
    shim(None)
    p = sendmail(w, U0, "second")
    assert p.returncode == 0, (rule, p.stdout, p.stderr)
    wait_for(lambda: {"first", "second"} <= set(scan(md)), 30,
             "both messages delivered")
    got = scan(md)
    assert all(len(f) == 1 and f[0][1] for f in got.values()), got
    assert maildrop(w) == []
    assert w.stop() == 0
