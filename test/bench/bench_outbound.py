#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: outbound delivery, wren and a private Postfix side by
side in one run.

Each server gets N messages (SIZE bytes, one recipient each, all to
the domain sink.test) injected on its own SMTP port from 127.0.0.1
(mynetworks: relaying without AUTH) by S parallel smtplib sessions
(processes, one connection each, opened before the clock starts),
and sends them on to Postfix's smtp-sink (`smtp-sink -c`: its running
"mesg=" counter is read from its stdout). The clock starts when the
sessions are told to go and stops when the sink has counted all N;
injection time (every 250 to DATA received) is reported too.

  wren     MX delivery: dns_servers = a small dnslib server in this
           script (sink.test MX 10 mx.sink.test, A SINK_IP),
           remote_smtp_port = the sink's port; max_deliveries and
           max_deliveries_per_domain as given (defaults 20 and 4).
  Postfix  `postfix -c DIR` (own queue, data dir, master.cf with one
           smtpd on a loopback high port, nothing chrooted, log to a
           file through postlogd), relayhost = [SINK_IP]:port,
           smtp_tls_security_level = none,
           default_destination_concurrency_limit = wren's
           max_deliveries_per_domain; everything else stock
           (default_process_limit 100, connection cache on demand,
           in_flow_delay 1s). Skipped unless root and postfix is there.

Measured per run, for each server: delivered messages/s (first
injection to the sink's N-th message), injection time, peak RSS and
Pss summed over the server's process tree (every descendant of wren /
of Postfix's master; /proc sampled every 50 ms), idle RSS/Pss before
the first run, and /proc/PID/io write_bytes summed over the tree,
before and after (a reaped child's counts go to its parent), per
delivered message; Postfix's includes its log (postlogd), whose growth
is given. After each run: both queues empty, the sink got exactly N
(no duplicates). One warm-up run each (WARMUP messages), then RUNS runs,
alternating; medians. As root the data dirs are on a fresh journalled ext4 loop
image (an SD card's file system), else on DIR's file system.

    bench_outbound.py WREN_BIN DIR [--count N] [--size B]
        [--sessions S] [--runs R] [--warmup W] [--max-deliveries M]
        [--per-domain K] [--log-level L] [--no-postfix] [--no-loop]
        [--drain]

--drain adds RUNS more runs per server where the sink is down while
the N messages are injected (each attempt refused: deferred), then
comes back and the queue is flushed (`wren queue flush`, `postqueue
-f`): messages/s from the flush to the sink's N-th message, the rate
of a full queue, with no injection competing.

Human-readable lines start with "outbound:"; one JSON object per
server per run follows at the end (also appended to $BENCH_RESULTS
when set).
"""
import argparse
import json
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time

from benchlib import free_port, loop_fs

from dnslib import MX, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

SINK_IP = "127.0.0.4"           # loopback; not the servers' address
SINK_NAME = "sink.test"
RCPT = "rcpt@sink.test"
SENDER = "bench@example.test"
SAMPLE_S = 0.05
WAIT_S = 600                    # bound on one run's delivery


def say(*args):
    print("outbound:", *args, flush=True)


# --- /proc ------------------------------------------------------------

def ppids():
    m = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                s = open(f"/proc/{d}/stat").read()
                m[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    return m


def tree(root):
    """root and all its descendants."""
    kids = {}
    for p, pp in ppids().items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def field_kb(path, key):
    try:
        for line in open(path):
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        return None
    return 0


def mem(root):
    """(procs, VmRSS KiB, Pss KiB) summed over root's tree."""
    n = rss = pss = 0
    for p in tree(root):
        r = field_kb(f"/proc/{p}/status", "VmRSS:")
        if r is None:
            continue
        n += 1
        rss += r
        pss += field_kb(f"/proc/{p}/smaps_rollup", "Pss:") or 0
    return n, rss, pss


def io(root):
    """write_bytes and cancelled_write_bytes summed over root's tree."""
    w = c = 0
    for p in tree(root):
        try:
            for line in open(f"/proc/{p}/io"):
                k, _, v = line.partition(":")
                if k == "write_bytes":
                    w += int(v)
                elif k == "cancelled_write_bytes":
                    c += int(v)
        except OSError:
            pass
    return w, c


class Peak(threading.Thread):
    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.procs = self.rss = self.pss = 0
        self.samples = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            n, r, p = mem(self.root)
            self.samples += 1
            self.procs = max(self.procs, n)
            self.rss = max(self.rss, r)
            self.pss = max(self.pss, p)
            self.halt.wait(SAMPLE_S)

    def stop(self):
        self.halt.set()
        self.join(10)


# --- the sink and the DNS ---------------------------------------------

class Sink:
    """smtp-sink -c on SINK_IP:port; .count is its "mesg=" counter
    (a message counts when its final "." arrives)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.count = 0
        self.cond = threading.Condition()
        cmd = ["smtp-sink", "-c", "-h", SINK_NAME]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += [f"{SINK_IP}:{self.port}", "1000"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        wait_port(SINK_IP, self.port, "smtp-sink", self.proc)

    def _read(self):
        buf = b""
        while True:
            b = self.proc.stdout.read1(4096)
            if not b:
                return
            buf += b
            *done, buf = buf.replace(b"\n", b"\r").split(b"\r")
            for rec in done:
                for w in rec.split():
                    if w.startswith(b"mesg="):
                        with self.cond:
                            self.count = int(w[5:])
                            self.cond.notify_all()

    def wait(self, n, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while self.count < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Resolver(BaseResolver):
    def __init__(self):
        self.queries = 0
        self.zone = {SINK_NAME: ("MX", (10, f"mx.{SINK_NAME}")),
                     f"mx.{SINK_NAME}": ("A", SINK_IP)}

    def resolve(self, request, handler):
        self.queries += 1
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        reply = request.reply()
        reply.header.ra = 1
        ent = self.zone.get(name)
        if ent is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif QTYPE.get(q.qtype) == ent[0]:
            rd = MX(ent[1][1], ent[1][0]) if ent[0] == "MX" else A(ent[1])
            reply.add_answer(RR(name, q.qtype, ttl=3600, rdata=rd))
        return reply            # other types: NODATA


class DNS:
    def __init__(self):
        self.res = Resolver()
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,"
                              "-send,-data")
        for _ in range(20):
            self.port = free_port()
            try:
                self.srv = [DNSServer(self.res, address="127.0.0.1",
                                      port=self.port, tcp=tcp,
                                      logger=quiet)
                            for tcp in (False, True)]
                break
            except OSError:
                continue
        for s in self.srv:
            s.start_thread()

    def stop(self):
        for s in self.srv:
            s.stop()
            s.server.server_close()


# --- the servers ------------------------------------------------------

def wait_port(ip, port, what, proc=None):
    for _ in range(400):
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode}) at start")
        try:
            socket.create_connection((ip, port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} does not listen on {ip}:{port}")


class Wren:
    name = "wren"

    def __init__(self, binary, base, a, sink, dns):
        self.bin, self.base = binary, base
        self.port = free_port()
        os.makedirs(base)
        self.conf = f"{base}/wren.conf"
        self.logpath = f"{base}/wren.log"
        self.settings = (f"max_deliveries = {a.max_deliveries}, "
                         f"max_deliveries_per_domain = {a.per_domain}")
        with open(self.conf, "w") as f:
            f.write(f"hostname = mail.example.test\n"
                    f"domains = example.test\n"
                    f"data_dir = {base}/data\n"
                    f"mail_home = {base}/mail/%d/%n\n"
                    f"users = {base}/users\naliases = {base}/aliases\n"
                    f"virtual = {base}/virtual\n"
                    f"smtp_listen = 127.0.0.1:{self.port}\n"
                    f"submission_listen =\nsubmissions_listen =\n"
                    f"imap_listen =\nimaps_listen =\n"
                    f"mynetworks = 127.0.0.0/8\n"
                    f"dns_servers = 127.0.0.1:{dns.port}\n"
                    f"remote_smtp_port = {sink.port}\n"
                    f"max_deliveries = {a.max_deliveries}\n"
                    f"max_deliveries_per_domain = {a.per_domain}\n"
                    f"retry_schedule = 5s 10s\n"
                    f"max_connections = 64\n"
                    f"max_connections_per_ip = 64\n"
                    f"user =\nlog = stderr\nlog_level = {a.log_level}\n")
        with open(f"{base}/users", "w") as f:
            f.write("bench@example.test:{PLAIN}benchpass\n")
        subprocess.run([binary, "map", "-t", "users", f"{base}/users"],
                       check=True, capture_output=True, timeout=60)
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([binary, "serve", "-c", self.conf],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.port, "wren", self.proc)
        self.root = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def flush(self):
        subprocess.run([self.bin, "queue", "-c", self.conf, "flush"],
                       check=True, capture_output=True, timeout=60)

    def queued(self):
        d = f"{self.base}/data/queue/env"
        return len(os.listdir(d)) if os.path.isdir(d) else 0

    def log_bytes(self):
        return os.path.getsize(self.logpath)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class Postfix:
    """A private instance: postfix -c base/etc, its own queue and data
    directories, smtpd on 127.0.0.1:port, relayhost = the sink."""
    name = "postfix"

    def __init__(self, base, a, sink):
        self.base = base
        self.port = free_port()
        etc, self.spool = f"{base}/etc", f"{base}/spool"
        data, self.logpath = f"{base}/data", f"{base}/maillog"
        for d in (etc, self.spool, data):
            os.makedirs(d)
        os.chmod(base, 0o755)
        shutil.chown(data, "postfix")
        open(self.logpath, "w").close()
        self.etc = etc
        self.settings = (f"relayhost = [{SINK_IP}]:{sink.port}, "
                         f"default_destination_concurrency_limit = "
                         f"{a.per_domain}; default_process_limit = 100 "
                         f"(stock)")
        with open(f"{etc}/main.cf", "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.spool}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
relayhost = [{SINK_IP}]:{sink.port}
smtp_tls_security_level = none
default_destination_concurrency_limit = {a.per_domain}
maillog_file = {self.logpath}
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
""")
        with open(f"{etc}/master.cf", "w") as f:
            f.write(f"""127.0.0.1:{self.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
        subprocess.run(["postfix", "-c", etc, "start"], check=True,
                       capture_output=True, timeout=120)
        pidf = f"{self.spool}/pid/master.pid"
        for _ in range(200):
            try:
                self.root = int(open(pidf).read().split()[0])
                break
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        else:
            raise SystemExit("postfix: no master.pid")
        wait_port("127.0.0.1", self.port, "postfix")

    def alive(self):
        try:
            os.kill(self.root, 0)
            return True
        except ProcessLookupError:
            return False

    def flush(self):
        subprocess.run(["postqueue", "-c", self.etc, "-f"], check=True,
                       capture_output=True, timeout=60)

    def queued(self):
        n = 0
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(f"{self.spool}/{q}"):
                n += len(files)
        return n

    def log_bytes(self):
        return os.path.getsize(self.logpath)

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"],
                       capture_output=True, timeout=120)
        for _ in range(100):
            if not self.alive():
                return
            time.sleep(0.1)
        os.kill(self.root, signal.SIGTERM)


# --- injection --------------------------------------------------------

def message(size):
    head = (f"From: <{SENDER}>\r\nTo: <{RCPT}>\r\n"
            f"Subject: outbound bench\r\n"
            f"Date: Mon, 07 Dec 2026 12:00:00 +0000\r\n"
            f"Message-ID: <%08d@bench.example.test>\r\n\r\n")
    line = ("The quick brown fox jumps over the lazy dog, "
            "and again, and again.......")[:70] + "\r\n"
    body = line * max(1, (size - len(head) - 8) // len(line))
    return head, body


def worker(port, n, first, size, go, ready, out):
    """One SMTP session sending n messages; reports (sent, errors)."""
    head, body = message(size)
    errors = []
    sent = 0
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                         timeout=120)
        s.ehlo()
    except (OSError, smtplib.SMTPException) as e:
        ready.release()
        out.put((0, [f"connect: {e}"]))
        return
    ready.release()
    go.wait()
    for i in range(first, first + n):
        try:
            s.sendmail(SENDER, [RCPT], (head % i + body).encode())
            sent += 1
        except smtplib.SMTPException as e:
            errors.append(repr(e)[:200])
            if isinstance(e, smtplib.SMTPServerDisconnected):
                break
    try:
        s.quit()
    except (OSError, smtplib.SMTPException):
        pass
    out.put((sent, errors))


def inject(port, a, on_go):
    """Opens a.sessions sessions, then starts them all at once (calls
    on_go() right then); returns (sent, errors) when all are done."""
    ctx = multiprocessing.get_context("fork")
    go, ready, out = ctx.Event(), ctx.Semaphore(0), ctx.Queue()
    share = [a.count // a.sessions + (i < a.count % a.sessions)
             for i in range(a.sessions)]
    procs = []
    first = 0
    for n in share:
        p = ctx.Process(target=worker,
                        args=(port, n, first, a.size, go, ready, out))
        p.start()
        procs.append(p)
        first += n
    for _ in procs:
        ready.acquire(timeout=60)
    on_go()
    go.set()
    sent, errors = 0, []
    for _ in procs:
        s, e = out.get(timeout=WAIT_S)
        sent += s
        errors += e
    for p in procs:
        p.join(10)
    return sent, errors


# --- one run ----------------------------------------------------------

def run(srv, sink, a, count):
    a = argparse.Namespace(**dict(vars(a), count=count))
    if not srv.alive():
        raise SystemExit(f"{srv.name} died; see its log in {srv.base}")
    base = sink.count
    peak = Peak(srv.root)
    w0, c0 = io(srv.root)
    l0 = srv.log_bytes()
    peak.start()
    t = {}

    def on_go():
        t["0"] = time.monotonic()
    sent, errors = inject(srv.port, a, on_go)
    t_inj = time.monotonic() - t["0"]
    during = sink.count - base
    ok = sink.wait(base + a.count, WAIT_S)
    dt = time.monotonic() - t["0"]
    peak.stop()
    # Let the queue files go, then check nothing more arrives.
    end = time.monotonic() + 60
    while srv.queued() and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.5)
    w1, c1 = io(srv.root)
    res = {"server": srv.name, "count": a.count, "size": a.size,
           "sessions": a.sessions, "injected": sent,
           "inject_errors": len(errors), "inject_s": round(t_inj, 3),
           "inject_msg_per_s": round(sent / t_inj, 1),
           "delivered": sink.count - base, "complete": ok,
           "delivered_during_injection": during,
           "after_injection_msg_per_s": round(
               (a.count - during) / (dt - t_inj), 1)
           if ok and a.count - during >= a.count // 10 else None,
           "deliver_s": round(dt, 3),
           "msg_per_s": round(a.count / dt, 1) if ok else 0.0,
           "left_in_queue": srv.queued(),
           "peak_procs": peak.procs, "peak_rss_kib": peak.rss,
           "peak_pss_kib": peak.pss, "samples": peak.samples,
           "write_bytes_per_msg": round((w1 - w0) / a.count),
           "cancelled_write_bytes_per_msg": round((c1 - c0) / a.count),
           "log_bytes_per_msg": round((srv.log_bytes() - l0) / a.count)}
    if errors:
        res["first_errors"] = errors[:3]
    return res


def drain(srv, sink, a):
    """The sink is down while N messages are injected (every attempt
    is refused: deferred); then it is started again and the queue is
    flushed: messages/s from the flush to the sink's N-th message."""
    port = sink.port
    sink.stop()
    sent, errors = inject(srv.port, a, lambda: None)
    time.sleep(3)               # every message tried once (refused)
    sink = Sink(port)
    w0, _ = io(srv.root)
    peak = Peak(srv.root)
    peak.start()
    t0 = time.monotonic()
    srv.flush()
    ok = sink.wait(a.count, WAIT_S)
    dt = time.monotonic() - t0
    peak.stop()
    end = time.monotonic() + 60
    while srv.queued() and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.5)
    w1, _ = io(srv.root)
    return sink, {"server": srv.name, "phase": "drain", "count": a.count,
                  "injected": sent, "inject_errors": len(errors),
                  "delivered": sink.count, "complete": ok,
                  "drain_s": round(dt, 3),
                  "drain_msg_per_s": round(a.count / dt, 1) if ok else 0.0,
                  "left_in_queue": srv.queued(),
                  "peak_rss_kib": peak.rss, "peak_pss_kib": peak.pss,
                  "peak_procs": peak.procs,
                  "drain_write_bytes_per_msg": round((w1 - w0) / a.count)}


def med(rows, k):
    return statistics.median(r[k] for r in rows)


def rng(rows, k, f="{:.0f}"):
    v = [r[k] for r in rows]
    return f"[{f.format(min(v))}-{f.format(max(v))}]"


def problems(srv):
    """Lines of the server's log that say something went wrong."""
    try:
        text = open(srv.logpath, errors="replace").read()
    except OSError:
        return []
    bad = ("warn", "error", "fatal", "panic", "defer", "bounce",
           "status=deferred", "status=bounced")
    return [ln for ln in text.splitlines()
            if any(b in ln.lower() for b in bad)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=200,
                    help="messages in the warm-up run")
    ap.add_argument("--max-deliveries", type=int, default=20)
    ap.add_argument("--per-domain", type=int, default=4)
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--no-postfix", action="store_true")
    ap.add_argument("--drain", action="store_true",
                    help="also time a full queue's drain after a flush")
    ap.add_argument("--no-loop", action="store_true")
    a = ap.parse_args()
    t_start = time.monotonic()

    if shutil.which("smtp-sink") is None:
        say("skipped: needs Postfix's smtp-sink")
        return 0
    top = os.path.abspath(a.dir)
    if os.path.ismount(f"{top}/fs"):            # left by an earlier run
        subprocess.run(["umount", f"{top}/fs"], timeout=120)
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    os.chmod(top, 0o755)
    fs = None if a.no_loop else loop_fs(top)
    where = ("a fresh journalled ext4 (loop image)" if fs else
             "the bench dir's file system")
    data = fs or top
    have_pf = (not a.no_postfix and os.geteuid() == 0 and
               shutil.which("postfix") is not None)

    sink, dns, servers = Sink(), DNS(), []
    results = {}
    drains = {}
    idle = {}
    try:
        servers.append(Wren(a.wren, f"{data}/wren", a, sink, dns))
        if have_pf:
            servers.append(Postfix(f"{data}/postfix", a, sink))
        time.sleep(1)
        for s in servers:
            idle[s.name] = mem(s.root)
            results[s.name] = []
        for r in range(a.runs + 1):             # the first warms up
            for s in servers:
                res = run(s, sink, a, a.count if r else a.warmup)
                res["run"] = r
                tag = "warm-up" if r == 0 else f"run {r}"
                say(f"{s.name} {tag}: {res['msg_per_s']:.0f} msg/s "
                    f"delivered ({res['delivered']}/{res['count']} in "
                    f"{res['deliver_s']:.2f} s), injection "
                    f"{res['inject_s']:.2f} s, peak RSS "
                    f"{res['peak_rss_kib']} KiB, written "
                    f"{res['write_bytes_per_msg']} B/msg")
                if res["inject_errors"]:
                    say(f"  {s.name}: {res['inject_errors']} injection "
                        f"errors, e.g. {res['first_errors']}")
                if not res["complete"] or res["left_in_queue"] or \
                        res["delivered"] != res["count"]:
                    say(f"  {s.name}: PROBLEM: delivered "
                        f"{res['delivered']} of {res['count']}, "
                        f"{res['left_in_queue']} left in the queue")
                if r:
                    results[s.name].append(res)
        for r in range(a.runs if a.drain else 0):
            for s in servers:
                sink, res = drain(s, sink, a)
                res["run"] = r + 1
                drains.setdefault(s.name, []).append(res)
                say(f"{s.name} drain {r + 1}: {res['drain_msg_per_s']:.0f} "
                    f"msg/s ({res['delivered']}/{a.count} in "
                    f"{res['drain_s']:.2f} s after the flush), "
                    f"{res['left_in_queue']} left in the queue, peak RSS "
                    f"{res['peak_rss_kib']} KiB")
    finally:
        for s in servers:
            s.stop()
        sink.stop()
        dns.stop()
        if fs:
            subprocess.run(["umount", fs], timeout=120)
            os.unlink(f"{top}/fs.img")

    if a.runs:
        summary(a, servers, results, idle, where, dns)
    if drains:
        say(f"drain of {a.count} queued messages after a flush (sink "
            f"down during injection), medians of {a.runs}: " + "; ".join(
                f"{n} {med(v, 'drain_msg_per_s'):.0f} msg/s "
                f"{rng(v, 'drain_msg_per_s')}, peak RSS "
                f"{med(v, 'peak_rss_kib'):.0f} KiB"
                for n, v in drains.items()))
    for s in servers:
        bad = problems(s)
        if bad:
            say(f"{s.name} log: {len(bad)} lines of warnings/errors, "
                f"first ones:")
            for ln in bad[:8]:
                say("   " + ln[:300])
    say(f"bench took {time.monotonic() - t_start:.0f} s")
    out = os.environ.get("BENCH_RESULTS")
    for s in servers:
        for res in results[s.name] + drains.get(s.name, []):
            line = json.dumps(dict(res, bench="outbound", where=where,
                                   idle_rss_kib=idle[s.name][1],
                                   idle_pss_kib=idle[s.name][2],
                                   settings=s.settings))
            print(line)
            if out:
                with open(out, "a") as f:
                    f.write(line + "\n")
    return 0


def summary(a, servers, results, idle, where, dns):
    say("---- summary " + "-" * 54)
    say(f"{a.count} messages x {a.size} B, 1 recipient each (domain "
        f"{SINK_NAME}), injected over {a.sessions} parallel smtplib "
        f"sessions from 127.0.0.1, delivered to smtp-sink; data on "
        f"{where}; medians of {a.runs} runs (after a warm-up each)")
    for s in servers:
        say(f"  {s.name}: {s.settings}")
    say(f"  (wren's resolver was asked {dns.res.queries} DNS questions "
        f"in all)")
    hdr = (f"{'':28}" + "".join(f"{s.name:>22}" for s in servers))
    say(hdr)

    def row(label, fn):
        say(f"{label:28}" + "".join(f"{fn(s):>22}" for s in servers))
    R = results
    row("delivered msg/s", lambda s: f"{med(R[s.name], 'msg_per_s'):.0f} "
        f"{rng(R[s.name], 'msg_per_s')}")
    row("first inject -> all sunk s",
        lambda s: f"{med(R[s.name], 'deliver_s'):.2f}")
    row("injection only s", lambda s: f"{med(R[s.name], 'inject_s'):.2f}")
    row("sunk while injecting",
        lambda s: f"{med(R[s.name], 'delivered_during_injection'):.0f}")
    def after(s):
        v = [r["after_injection_msg_per_s"] for r in R[s.name]
             if r["after_injection_msg_per_s"] is not None]
        return (f"{statistics.median(v):.0f} ({len(v)} runs)" if v else
                "-")
    row("rate after injection msg/s", after)
    row("injection msg/s",
        lambda s: f"{med(R[s.name], 'inject_msg_per_s'):.0f}")
    row("peak RSS KiB (tree)",
        lambda s: f"{med(R[s.name], 'peak_rss_kib'):.0f}")
    row("peak Pss KiB (tree)",
        lambda s: f"{med(R[s.name], 'peak_pss_kib'):.0f}")
    row("peak processes", lambda s: f"{med(R[s.name], 'peak_procs'):.0f}")
    row("idle RSS KiB / procs",
        lambda s: f"{idle[s.name][1]} / {idle[s.name][0]}")
    row("idle Pss KiB", lambda s: f"{idle[s.name][2]}")
    row("write_bytes per msg",
        lambda s: f"{med(R[s.name], 'write_bytes_per_msg'):.0f}")
    row("  cancelled per msg",
        lambda s: f"{med(R[s.name], 'cancelled_write_bytes_per_msg'):.0f}")
    row("  log growth per msg",
        lambda s: f"{med(R[s.name], 'log_bytes_per_msg'):.0f}")
    if len(servers) == 2:
        w, p = R["wren"], R["postfix"]
        ratio = med(w, "msg_per_s") / max(med(p, "msg_per_s"), 1e-9)
        mratio = med(w, "peak_rss_kib") / max(med(p, "peak_rss_kib"), 1)
        pratio = med(w, "peak_pss_kib") / max(med(p, "peak_pss_kib"), 1)
        say(f"wren/Postfix: rate {ratio:.2f}x (target >= 1: "
            f"{'met' if ratio >= 1 else 'NOT met'}); peak RSS "
            f"{mratio:.3f}x, peak Pss {pratio:.3f}x (target <= 0.1: "
            f"{'met' if max(mratio, pratio) <= 0.1 else 'NOT met'})")
    say("  (rate after injection: the backlog left when the last 250 "
        "came, over the time it took, median over the runs that left at "
        "least a tenth of N; \"-\": none did, the server kept up with "
        "injection)")
    say("  (write_bytes: pages the tree dirtied, charged when dirtied; "
        "Postfix's includes its log written by postlogd, the log growth "
        "row; wren logs at --log-level to a file, counted the same way)")


if __name__ == "__main__":
    sys.exit(main())
