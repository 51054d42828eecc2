# SPDX-License-Identifier: ISC
"""kill -9 at a random moment of 20 concurrent transactions, 10 rounds
(issue 17, fault injection).

Inbound (port 25, local accounts): after each restart every message
that got a 250 is in each of its recipients' Maildirs exactly once and
whole (SHA-256 of the body), no file in new/ or cur/ is partial, no
transaction left two copies; what the kill left in tmp/, once 36 hours
old, is swept at the folder's first use after the restart.

Outbound (submission to a fake remote MX that answers slowly, so the
kill falls in the middle of deliveries): every message that got a 250
is, after each restart, either still queued whole (msg/ and env/) or
already delivered; after the last round all are delivered at least
once and whole. Delivery is at-least-once, as Postfix's: a kill after
the remote's 250 and before the queue files are removed sends the
message again. Duplicates are counted and printed, not failed.

Local submission (`wren sendmail` into the maildrop, picked up, queued
and delivered by the runner; 5 rounds): every message sendmail took
(exit 0) is delivered whole after the last restart, at least once.

Each test runs twice: the normal build (io_uring commits where the
kernel allows) and the shim build (syncfs in the loop). kill -9 leaves
the page cache alone, so these prove the order of renames and the
clean-up at start, not what reaches the disk: that is test_eio's
(syncfs/fsync failures) and test_txn's (the order of the syncs).
"""
import os
import random
import re
import subprocess
import threading
import time


from conftest import SLOW, check_commit_path, wren_cmd
from faultlib import (USERS, maildir_of, make_message, parse_stored,
                      restart, scaled, scan, tmp_files, transact)
from faultlib import local_wren
from outbound import (ALICE, ALICE_PW, dns, maildir, mx,
                      mx_port, outbound, pki, queue_ids, wait_for)

__all__ = ["dns", "mx", "mx_port", "outbound", "pki"]

ROUNDS = 10
PICKUP_ROUNDS = 5
CLIENTS = 20
BOB = "bob@remote.test"
OLD = 37 * 3600             # older than MAILDIR_TMP_AGE (36 h)


class Traffic:
    """CLIENTS threads sending tagged messages in a loop until stopped
    or the server is gone; acked[tag] = (sha, rcpts, reply)."""

    def __init__(self, send, clients=CLIENTS):
        self.send = send            # send(tag) -> (code, text, info)
        self.clients = clients
        self.acked = {}
        self.tried = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = []
        self.n = 0

    def _next(self):
        with self.lock:
            self.n += 1
            return f"r{os.getpid()}x{time.monotonic_ns():x}n{self.n}"

    def _run(self):
        while not self.stop.is_set():
            tag = self._next()
            self.tried.add(tag)
            code, text, info = self.send(tag)
            if code == 250:
                with self.lock:
                    self.acked[tag] = (info, text)
            elif code is None:
                return              # the server is gone

    def start(self):
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(self.clients)]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(scaled(40))
            assert not t.is_alive(), "a client thread is stuck"


def age_tmp(w):
    """Sets every tmp/ leftover 37 h back; returns how many."""
    n = 0
    for u in USERS:
        for p in tmp_files(maildir_of(w.mail_root, u)):
            os.utime(p, (time.time() - OLD, time.time() - OLD))
            n += 1
    return n


def test_kill9_inbound_rounds(wren, commit_path):
    w = local_wren(wren, message_size_limit="4m")
    w.start()
    check_commit_path(w, commit_path)

    def send(tag):
        rcpts = random.sample(USERS, random.choice((1, 1, 2, 3)))
        size = random.choice((600, 4000, 30000, 120000, 400000))
        data, sha = make_message(tag, size, to=rcpts[0])
        code, text = transact(w.smtp, "sender@remote.example", rcpts,
                              data)
        return code, text, (sha, rcpts)

    acked = {}
    leftovers = 0
    for rnd in range(ROUNDS):
        traffic = Traffic(send)
        traffic.start()
        time.sleep(random.uniform(0.15, 1.2) * SLOW)
        w.kill()
        traffic.finish()
        acked.update(traffic.acked)
        leftovers += age_tmp(w)
        restart(w)
        # First use of each folder after the restart: the aged
        # leftovers are swept.
        for u in USERS:
            data, _ = make_message(f"probe{rnd}{u}", 300, to=u)
            code, text = transact(w.smtp, "s@remote.example", [u], data)
            assert code == 250, (u, code, text)
        for u in USERS:
            md = maildir_of(w.mail_root, u)
            left = tmp_files(md)
            assert left == [], f"round {rnd}: tmp/ of {u} not swept: {left}"
            got = scan(md)
            assert None not in got, \
                f"round {rnd}: files without headers in {u}: {got[None]}"
            for tag, files in got.items():
                assert len(files) == 1, \
                    f"round {rnd}: {tag} {len(files)} times in {u}"
                assert files[0][1], \
                    f"round {rnd}: {files[0][0]} is partial"
            for tag, ((sha, rcpts), _) in acked.items():
                if u in rcpts:
                    assert tag in got, \
                        f"round {rnd}: {tag} got a 250, not in {u}"
        print(f"round {rnd}: {len(traffic.acked)} acknowledged, "
              f"{len(traffic.tried) - len(traffic.acked)} cut")
    print(f"inbound ({commit_path}): {len(acked)} acknowledged messages "
          f"over {ROUNDS} rounds, all present once and whole; "
          f"{leftovers} tmp/ leftovers swept")
    assert len(acked) > 0
    assert w.stop() == 0


def queued_whole(w, qid):
    """qid's msg/ and env/ are both there."""
    q = w.dir / "data" / "queue"
    return (q / "msg" / qid).is_file() and (q / "env" / qid).is_file()


def test_kill9_outbound_rounds(outbound, mx, commit_path):
    """The fake MX waits before its 250 to DATA, so deliveries are in
    flight when the kill falls."""
    m = mx()
    m.data_delay = 0.1
    w = outbound(retry_schedule="1s 1s 2s")
    check_commit_path(w, commit_path)
    auth = (ALICE, ALICE_PW)

    def send(tag):
        size = random.choice((500, 3000, 20000, 100000))
        data, sha = make_message(tag, size, to=BOB)
        code, text = transact(w.sub, ALICE, [BOB], data, auth=auth)
        qid = None
        if code == 250:
            found = re.search(rb"queued as ([0-9A-Fa-f]+)", text)
            assert found, text
            qid = found.group(1).decode()
        return code, text, (sha, qid)

    acked = {}
    for rnd in range(ROUNDS):
        traffic = Traffic(send)
        traffic.start()
        time.sleep(random.uniform(0.3, 1.5) * SLOW)
        w.kill()
        traffic.finish()
        acked.update(traffic.acked)
        restart(w)
        # Queue first, then what the MX has: a message leaves the
        # queue only after the MX recorded it.
        queued = set(queue_ids(w))
        for qid in queued:
            assert (w.dir / "data" / "queue" / "msg" / qid).is_file() \
                or qid not in queue_ids(w), f"{qid}: env/ without msg/"
        delivered = {parse_stored(d.data)[0] for d in list(m.delivered)}
        lost = [tag for tag, ((sha, qid), _) in acked.items()
                if qid not in queued and tag not in delivered]
        assert not lost, f"round {rnd}: acknowledged, neither queued " \
                         f"nor delivered: {lost}"
        print(f"round {rnd}: {len(traffic.acked)} acknowledged, "
              f"{len(queued)} queued after restart")
    m.data_delay = 0
    wait_for(lambda: not queue_ids(w), 60, "the queue to drain",
             interval=0.2)
    seen = {}
    for d in list(m.delivered):
        tag, claimed, actual = parse_stored(d.data)
        assert tag is not None and claimed == actual, \
            f"a partial message reached the MX: {d.data[:200]!r}"
        seen[tag] = seen.get(tag, 0) + 1
    missing = [t for t in acked if t not in seen]
    assert not missing, f"acknowledged, never delivered: {missing}"
    dups = sum(n - 1 for t, n in seen.items() if n > 1)
    print(f"outbound ({commit_path}): {len(acked)} acknowledged over "
          f"{ROUNDS} rounds, all delivered; {dups} delivered twice "
          f"(at-least-once)")
    assert len(acked) > 0
    assert not maildir(w.maildir()) or all(
        b"multipart/report" not in data for _, data in maildir(w.maildir()))
    assert w.stop() == 0


def test_kill9_pickup_rounds(wren, commit_path):
    """`wren sendmail` writes the maildrop (exit 0 = acknowledged) while
    the server picks the files up, queues them and delivers them to the
    Maildir; the server is killed at random moments. After the last
    restart every acknowledged message is delivered, whole; pickup is
    exactly-once into the queue (a re-run skips env/<id>), the runner's
    local delivery at-least-once: duplicates are counted."""
    w = local_wren(wren)
    w.start()
    check_commit_path(w, commit_path)

    def send(tag):
        u = random.choice(USERS)
        data, sha = make_message(tag, random.choice((500, 8000, 60000)),
                                 to=u)
        p = subprocess.run(wren_cmd("sendmail", "-c", str(w.conf), u),
                           input=data, capture_output=True,
                           timeout=scaled(30))
        return (250 if p.returncode == 0 else p.returncode), p.stderr, \
            (sha, [u])

    acked = {}
    for rnd in range(PICKUP_ROUNDS):
        traffic = Traffic(send, clients=6)
        traffic.start()
        time.sleep(random.uniform(0.2, 1.0) * SLOW)
        w.kill()
        time.sleep(0.1 * SLOW)      # sendmail goes on with no server
        traffic.finish()
        acked.update(traffic.acked)
        restart(w)
    md = {u: maildir_of(w.mail_root, u) for u in USERS}

    def all_in():
        got = {u: scan(md[u]) for u in USERS}
        return all(tag in got[rcpts[0]]
                   for tag, ((sha, rcpts), _) in acked.items()) and got
    got = wait_for(all_in, 60, "every acknowledged message delivered",
                   interval=0.2)
    dups = 0
    for u in USERS:
        assert None not in got[u]
        for tag, files in got[u].items():
            assert all(whole for _, whole in files), (tag, files)
            dups += len(files) - 1
    print(f"pickup ({commit_path}): {len(acked)} acknowledged by "
          f"sendmail over {PICKUP_ROUNDS} rounds, all delivered; {dups} "
          f"delivered twice (at-least-once)")
    assert len(acked) > 0
    assert w.stop() == 0
