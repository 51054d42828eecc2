# SPDX-License-Identifier: ISC
"""`make bench`: the junk filter's costs (store/junk.h).

  1. Training: N spam then N ham (test/integration/junk_corpus.py, fixed
     seed) saved over IMAP and moved into / out of Junk, for one
     account: the database rewrites and the octets they wrote per
     training event (from the server's log), its size on disk, and
     wren's write_bytes and wchar (/proc/PID/io) over the moves.
  2. Memory: the RSS growth of wren as a first and then a second
     account's database is loaded, against `wren check`'s figure.
  3. Inbound: M messages over one SMTP session to the trained account,
     with the filter on and with junk_filter = no: messages per second.

    bench_junk.py WREN_BIN DIR [--train N] [--deliver M]
"""
import argparse
import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import sys
import time
from pathlib import Path

from benchlib import free_port, rss_kib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from junk_corpus import corpus, db_counts  # noqa: E402

PASS = "benchpass"
USERS = ("alice@example.test", "bob@example.test")


class Server:
    def __init__(self, binary, base, **keys):
        self.bin, self.base = binary, base
        self.imap, self.smtp = free_port(), free_port()
        self.conf = f"{base}/wren.conf"
        self.logpath = f"{base}/wren.log"
        conf = {"hostname": "localhost", "domains": "example.test",
                "origin": "example.test",
                "data_dir": f"{base}/data", "mail_home":
                f"{base}/mail/%d/%n", "users": f"{base}/users",
                "aliases": f"{base}/aliases", "virtual": f"{base}/virtual",
                "smtp_listen": f"127.0.0.1:{self.smtp}",
                "submission_listen": "", "submissions_listen": "",
                "imap_listen": f"127.0.0.1:{self.imap}", "imaps_listen": "",
                "tls_cert": "", "tls_auth_only": "no", "user": "",
                "log": "stderr", "log_level": "info",
                "mynetworks": "127.0.0.1/32", "dns_servers": "127.0.0.1:9"}
        conf.update(keys)
        with open(self.conf, "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in conf.items()))
        self.proc = None

    def start(self):
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + 30
        while b"wren started" not in open(self.logpath, "rb").read():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"wren did not start: {self.logpath}")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()

    def logtext(self):
        return open(self.logpath, errors="replace").read()

    def db(self, user):
        local, dom = user.split("@")
        return f"{self.base}/mail/{dom}/{local}/Maildir/wren-junk.db"


def io(pid):
    got = {}
    for line in open(f"/proc/{pid}/io"):
        k, v = line.split(":")
        got[k] = int(v)
    return got


def move_all(M, src, dst, step=50):
    M.select(src)
    _, got = M.uid("SEARCH", "ALL")
    uids = got[0].split()
    for i in range(0, len(uids), step):
        typ, got = M.uid("MOVE", b",".join(uids[i:i + step]).decode(), dst)
        assert typ == "OK", got


def wait_counts(srv, user, want, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = db_counts(Path(srv.db(user)))
        if got is not None and got[:2] == want:
            return got
        time.sleep(0.05)
    raise SystemExit(f"training did not finish: {srv.logpath}")


def train(srv, user, n, seed):
    """n ham saved into Junk and moved to Archive (trained as ham), then
    n spam saved into INBOX and moved to Junk (trained as spam): the
    counts, the rewrites logged, and wren's I/O over the moves only."""
    msgs = corpus(seed, n, n)
    M = imaplib.IMAP4("127.0.0.1", srv.imap, timeout=60)
    M.login(user, PASS)
    mark = len(srv.logtext())
    moved = {"write_bytes": 0, "wchar": 0}
    for box, dst, spam in (("Junk", "Archive", False),
                           ("INBOX", "Junk", True)):
        for is_spam, data in msgs:
            if is_spam == spam:
                M.append(box, None, None, data)
        before = io(srv.proc.pid)
        move_all(M, box, dst)
        after = io(srv.proc.pid)
        for k in moved:
            moved[k] += after[k] - before[k]
    M.logout()
    got = wait_counts(srv, user, (n, n))
    writes = re.findall(r"junk: \S+: (\d+) octets written for (\d+) "
                        r"trainings", srv.logtext()[mark:])
    return got, writes, moved


def deliver(srv, n):
    msgs = corpus(99, n // 2, n - n // 2, start=50000)
    t0 = time.monotonic()
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=60) as c:
        for _, data in msgs:
            c.sendmail("sender@elsewhere.test", [USERS[0]], data)
    return n / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--deliver", type=int, default=300)
    a = ap.parse_args()
    base = os.path.abspath(a.dir)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    with open(f"{base}/users", "w") as f:
        f.write("".join(f"{u}:{{PLAIN}}{PASS}\n" for u in USERS))
    with open(f"{base}/aliases", "w") as f:
        f.write(f"postmaster: {USERS[0]}\nabuse: {USERS[0]}\n")
    for kind in ("users", "aliases", "virtual"):
        if not os.path.exists(f"{base}/{kind}"):
            open(f"{base}/{kind}", "w").close()
        os.chmod(f"{base}/{kind}", 0o600)
        subprocess.run([a.wren, "map", "-t", kind, f"{base}/{kind}"],
                       check=True, capture_output=True, timeout=60)
        os.chmod(f"{base}/{kind}.cdb", 0o600)
    srv = Server(a.wren, base)
    check = subprocess.run([a.wren, "check", "-c", srv.conf],
                           capture_output=True, text=True, timeout=60)
    line = [x for x in check.stdout.splitlines() if x.startswith("# junk")]
    srv.start()
    try:
        rss0 = rss_kib(srv.proc.pid)
        got, writes, moved = train(srv, USERS[0], a.train, 1)
        rss1 = rss_kib(srv.proc.pid)
        events = 2 * a.train
        octets = sum(int(b) for b, _ in writes)
        size = os.path.getsize(srv.db(USERS[0]))
        print(f"junk: {events} trainings ({a.train} spam + {a.train} ham "
              f"moved over IMAP): {len(writes)} database rewrites, "
              f"{octets / events:.0f} B written per training event; "
              f"database {size} B for {got[2]} tokens; wren over the "
              f"moves: write_bytes "
              f"{moved['write_bytes'] / events:.0f} B, wchar "
              f"{moved['wchar'] / events:.0f} B per moved message "
              f"(the moves' own uidlist and index writes included)", flush=True)
        train(srv, USERS[1], 20, 2)
        rss2 = rss_kib(srv.proc.pid)
        print(f"junk: memory per account: RSS +{rss1 - rss0} KiB with the "
              f"first account's database (and the scanners), "
              f"+{rss2 - rss1} KiB with a second; "
              f"{line[0][2:] if line else 'wren check: no junk line'}",
              flush=True)
        on = deliver(srv, a.deliver)
    finally:
        srv.stop()
    off_base = f"{base}/off"
    os.makedirs(off_base)
    for kind in ("users", "aliases", "virtual"):
        for ext in ("", ".cdb"):
            if os.path.exists(f"{base}/{kind}{ext}"):
                shutil.copy(f"{base}/{kind}{ext}", f"{off_base}/{kind}{ext}")
    off = Server(a.wren, off_base, junk_filter="no")
    off.start()
    try:
        offrate = deliver(off, a.deliver)
    finally:
        off.stop()
    print(f"junk: inbound over one SMTP session, {a.deliver} messages: "
          f"{on:.0f} msg/s scored, {offrate:.0f} msg/s with "
          f"junk_filter = no", flush=True)


if __name__ == "__main__":
    main()
