# SPDX-License-Identifier: ISC
"""The queue's commit order (issue 17, item 9): a message with remote
recipients is committed as one store transaction -- the queue copy,
msg/ fsync'd (the barrier), the mailbox copies, the envelope -- and
when that transaction fails nothing of it stays, in the queue or in a
Maildir, so the client's retry is the only copy. What a crash leaves
is cleaned at start: msg/ without env/, env/ without msg/, tmp/.

The order of the renames and syncs themselves is checked in the unit
tests (test_txn: rename, fsync and syncfs interposed); the server is a
static binary, so here faults come from the file system's layout (a
plain file where queue/env/ should be) and from kill -9.
"""
import random
import shutil
import smtplib
import threading
import time
from pathlib import Path

import pytest

from conftest import SLOW
from outbound import (ALICE, ALICE_PW, dns, maildir, message, mx_port,
                      outbound, pki, queue_ids, submit)

__all__ = ["dns", "mx_port", "outbound", "pki"]

BOB = "bob@remote.test"
TIMEOUT = 10 * SLOW


def queue_dir(w, sub):
    return Path(w.keys["data_dir"]) / "queue" / sub


def names(d):
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def restart(w):
    mark = len(w.log())
    w.start(ready=None)
    w.wait_log("wren started", start=mark)


def test_env_without_msg_removed_at_start(outbound):
    """A crash between the renames of an older commit (or a half-done
    removal) left an envelope without its message: removed at start,
    with a log line; a complete message stays."""
    w = outbound(retry_schedule="1h")
    lost = submit(w.sub, ALICE, BOB, message("lost"), auth=(ALICE, ALICE_PW))
    kept = submit(w.sub, ALICE, BOB, message("kept"), auth=(ALICE, ALICE_PW))
    assert w.stop() == 0
    (queue_dir(w, "msg") / lost).unlink()
    restart(w)
    assert queue_ids(w) == [kept]
    assert f"queue {lost}: an envelope without its message" in w.log()
    assert names(queue_dir(w, "msg")) == [kept]


def test_failed_envelope_rename_rolls_back_everything(outbound):
    """The envelope cannot be renamed (queue/env/ is a plain file): the
    client gets a 4xx, and neither the queue copy (renamed before the
    envelope) nor the local recipient's copy stays. Once env/ is back,
    the retry is the one copy everywhere."""
    w = outbound(retry_schedule="1h")
    env = queue_dir(w, "env")
    shutil.rmtree(env)
    env.write_text("not a directory\n")
    with smtplib.SMTP("127.0.0.1", w.sub, timeout=TIMEOUT) as s:
        s.ehlo()
        s.login(ALICE, ALICE_PW)
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt(BOB)[0] == 250
        assert s.rcpt(ALICE)[0] == 250
        code, resp = s.data(message("rolled back").encode())
    assert 400 <= code < 500, (code, resp)
    assert names(queue_dir(w, "msg")) == []
    assert names(queue_dir(w, "tmp")) == []
    assert maildir(w.maildir()) == []
    env.unlink()
    env.mkdir(mode=0o700)
    qid = submit(w.sub, ALICE, [BOB, ALICE], message("retried"),
                 auth=(ALICE, ALICE_PW))
    assert queue_ids(w) == [qid]
    assert names(queue_dir(w, "msg")) == [qid]
    got = maildir(w.maildir())
    assert len(got) == 1 and b"Subject: retried" in got[0][1]
    assert w.stop() == 0


def _client(port, n, acked, stop):
    for i in range(n):
        if stop.is_set():
            return
        try:
            qid = submit(port, ALICE, [BOB, ALICE],
                         message(f"k{threading.get_ident()}-{i}"),
                         auth=(ALICE, ALICE_PW))
        except (OSError, smtplib.SMTPException, AssertionError):
            return
        acked.append(qid)


@pytest.mark.parametrize("round_", range(3))
def test_kill9_during_commits(outbound, round_):
    """kill -9 at a random moment while 8 clients send to a remote and a
    local recipient: after a restart every 250-acknowledged message is
    queued whole (msg/ and env/) and in the Maildir; msg/ and env/ hold
    the same IDs (no half of a message), tmp/ is empty. The window
    between the renames is too short to be hit on purpose: each round
    checks the invariant at whatever point the kill fell."""
    w = outbound(retry_schedule="1h")
    acked, stop = [], threading.Event()
    threads = [threading.Thread(target=_client,
                                args=(w.sub, 40, acked, stop))
               for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(0.05, 0.4) * SLOW)
    w.kill()
    stop.set()
    for t in threads:
        t.join(TIMEOUT)
    restart(w)
    msgs, envs = names(queue_dir(w, "msg")), names(queue_dir(w, "env"))
    assert msgs == envs, (set(msgs) ^ set(envs))
    assert names(queue_dir(w, "tmp")) == []
    missing = set(acked) - set(envs)
    assert not missing, f"acknowledged, not queued: {sorted(missing)}"
    local = [d for _, d in maildir(w.maildir())]
    for qid in acked:
        assert any(f"id {qid}".encode() in d for d in local), qid
    assert w.stop() == 0
