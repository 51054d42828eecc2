#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: one server under many hostile and busy clients (issue
17, load).

One well-behaved IMAP client (LOGIN, SELECT of a 10-message INBOX, then
a NOOP every 10 ms, a new connection every 5 s) measures the NOOP round
trip, first on an idle server, then while the server holds CONNS
connections at once (default 1,000, all from 127.0.0.1):

  - 100 IMAP sessions in IDLE (20 of them over IMAPS), ten on each of
    ten mailboxes that receive the deliveries, reading what they are
    told;
  - 10 SMTP clients delivering 2 KB messages on port 25 as fast as
    the server answers (MAIL, RCPT, DATA pipelined, then the content),
    sender i to the i-th IDLE mailbox;
  - 300 slowloris clients before login (IMAP, POP3, SMTP): one byte of
    a command every 3 s;
  - 200 clients that never read: 50 IMAP `FETCH 1:* BODY.PEEK[]` of
    four 2 MB messages, 50 IMAP with 4,000 pipelined NOOPs, 100 SMTP
    with 4,000 pipelined RSETs (port 25 refuses pipelined NOOPs), all
    with a 4 KB receive buffer so that the server's output backs up;
  - the rest greeted and silent (IMAP, POP3, SMTP).

Printed: NOOP round trip p50/p99/max idle and under load, deliveries
acknowledged per second, server RSS and Pss (idle, peak under load),
the pool formula for the connections held (each term: how many x the
bytes `wren check` prints for one), server CPU (% of one core) over the
window. Checked (exit 1 and a WRONG line when not): wren's anonymous
RSS grows by no more than the pool formula;
the well-behaved client was never refused and always answered; every
DATA got 250 and every acknowledged message is in its Maildir; no
load connection was refused, and the server closed none of them
during the window but non-readers (its limits are above the window:
login_timeout 180 s, smtp_timeout 300 s); how many non-readers it
closed is printed.

As root the mail goes on a fresh journalled ext4 image loop-mounted in
DIR (benchlib.loop_fs), as an SD card's root file system would be.
With root, postfix and dovecot installed, the same load and probe are
run against a private Postfix 3.7 (smtpd on port 25's role, virtual(8)
into the Maildirs) + Dovecot 2.3 (IMAP, IMAPS, POP3) pair, process
limits raised to fit, and its figures are printed side by side.

    bench_load.py WREN_BIN DIR [--conns N] [--load S] [--idle S]
                  [--no-anchor] [--dump]
"""
import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

from benchlib import free_port, loop_fs

PASS = "loadpass"
PROBE = "probe@example.test"
BIG = "big@example.test"
IDLE_USERS = [f"idle{i}@example.test" for i in range(10)]
MAIL_UID = 10500            # Dovecot and Postfix will not write as root

N_IDLE, N_IDLE_TLS, N_SENDERS = 100, 20, 10
N_SLOW = 300                # slowloris, a third per protocol
N_FETCH, N_INOOP, N_SNOOP = 50, 50, 100     # non-readers
NONREADERS = ("fetch", "imap-noop", "smtp-rset")
SLOW_EVERY = 3.0            # seconds between two slowloris bytes
PROBE_EVERY = 0.010         # one NOOP every 10 ms
PROBE_RECONNECT = 5.0
PROBE_TIMEOUT = 30.0        # a NOOP slower than this is an error
RCVBUF = 4096               # the non-readers' receive buffer


def say(*args):
    print("load:", *args, flush=True)


# --- /proc --------------------------------------------------------------


def tree(root):
    """root and every descendant."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            kids.setdefault(int(st[st.rfind(")") + 2:].split()[1]),
                            []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(roots):
    """utime + stime of every live process of the trees, plus what
    their parents reaped (cutime + cstime)."""
    n = 0
    for r in roots:
        for p in tree(r):
            try:
                f = open(f"/proc/{p}/stat").read()
            except OSError:
                continue
            v = f[f.rfind(")") + 2:].split()
            n += sum(int(x) for x in v[11:15])
    return n


def mem(roots):
    """(VmRSS, Pss, processes, RssAnon, RssFile) in KiB over the
    trees."""
    rss = pss = n = anon = file = 0
    for r in roots:
        for p in tree(r):
            try:
                for line in open(f"/proc/{p}/status"):
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("RssAnon:"):
                        anon += int(line.split()[1])
                    elif line.startswith("RssFile:"):
                        file += int(line.split()[1])
                for line in open(f"/proc/{p}/smaps_rollup"):
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                n += 1
            except OSError:
                pass
    return rss, pss, n, anon, file


def anon_maps(pid, top=5):
    """The largest anonymous mappings by resident size: [(size KiB,
    Rss KiB)], the pools being one mapping each."""
    maps, cur = [], None
    try:
        for line in open(f"/proc/{pid}/smaps"):
            f = line.split()
            if "-" in f[0] and len(f) >= 5:
                lo, hi = (int(x, 16) for x in f[0].split("-"))
                cur = [(hi - lo) >> 10, 0] if len(f) == 5 else None
                if cur is not None:
                    maps.append(cur)
            elif f[0] == "Rss:" and cur is not None:
                cur[1] = int(f[1])
    except OSError:
        pass
    return sorted((tuple(m) for m in maps), key=lambda m: -m[1])[:top]


def smaps_dump(srv, what):
    """--dump: the server's smaps, and per page of each anonymous
    mapping whether it is resident ("1"), the shared zero page ("z",
    read but never written: not in RSS) or absent ("0"), into DIR; the
    server runs without address randomisation, so that a gdb run of
    the same configuration tells which pool starts where."""
    if not getattr(srv, "dump", False):
        return
    try:
        t = open(f"/proc/{srv.roots()[0]}/smaps").read()
        open(f"{srv.base}/smaps.{srv.name}.{what}", "w").write(t)
        pid = srv.roots()[0]
        out, rows, seen = [], [], {}
        with open(f"/proc/{pid}/pagemap", "rb") as pm:
            for line in t.splitlines():
                f = line.split()
                if "-" in f[0] and len(f) == 5:
                    lo, hi = (int(x, 16) for x in f[0].split("-"))
                    pm.seek(lo // 4096 * 8)
                    b = pm.read((hi - lo) // 4096 * 8)
                    e = [int.from_bytes(b[i:i + 8], "little")
                         for i in range(0, len(b), 8)]
                    for x in e:
                        if x >> 63:
                            k = x & ((1 << 55) - 1)
                            seen[k] = seen.get(k, 0) + 1
                    rows.append((lo, e))
        for lo, e in rows:
            out.append(f"{lo:x} " + "".join(
                "0" if not x >> 63 else
                "z" if seen[x & ((1 << 55) - 1)] > 1 else "1" for x in e))
        open(f"{srv.base}/pagemap.{srv.name}.{what}", "w").write(
            "\n".join(out) + "\n")
    except OSError:
        pass


def wait_port(port, what, proc=None):
    for _ in range(600):
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"load: {what} exited ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"load: {what} does not listen on {port}")


def message(i, size=2048):
    head = (f"From: load@remote.example\r\nTo: someone@example.test\r\n"
            f"Subject: load {i}\r\nMessage-ID: <load{i}@remote.example>"
            f"\r\n\r\n").encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * (size // len(line))


def put(maildir, name, data):
    for sub in ("new", "cur", "tmp"):
        os.makedirs(f"{maildir}/{sub}", exist_ok=True)
    with open(f"{maildir}/cur/{name}:2,S", "wb") as f:
        f.write(data)


# --- the servers ------------------------------------------------------


class Wren:
    name = "wren"

    def __init__(self, binary, base, conns, mail):
        self.bin, self.base, self.mail = binary, base, mail
        self.smtp, self.imap = free_port(), free_port()
        self.imaps, self.pop3 = free_port(), free_port()
        self.conf = f"{base}/wren.conf"
        self.proc = None
        self.dump = False
        with open(f"{base}/users", "w") as f:
            for u in [PROBE, BIG] + IDLE_USERS:
                f.write(f"{u}:{{PLAIN}}{PASS}\n")
        # Postmaster and abuse known, the tables private: `wren check`
        # passes, and prints the pool figures.
        with open(f"{base}/aliases", "w") as f:
            f.write(f"postmaster: {PROBE}\nabuse: {PROBE}\n")
        for t in ("users", "aliases"):
            subprocess.run([binary, "map", "-t", t, f"{base}/{t}"],
                           check=True, capture_output=True, timeout=60)
        for x in ("users", "users.cdb"):
            os.chmod(f"{base}/{x}", 0o600)
        with open(self.conf, "w") as f:
            f.write(f"hostname = mail.example.test\n"
                    f"domains = example.test\norigin = example.test\n"
                    f"data_dir = {base}/data\n"
                    f"mail_home = {mail}/%d/%n\nusers = {base}/users\n"
                    f"aliases = {base}/aliases\nvirtual = {base}/virtual\n"
                    f"smtp_listen = 127.0.0.1:{self.smtp}\n"
                    f"submission_listen =\nsubmissions_listen =\n"
                    f"imap_listen = 127.0.0.1:{self.imap}\n"
                    f"imaps_listen = 127.0.0.1:{self.imaps}\n"
                    f"pop3_listen = 127.0.0.1:{self.pop3}\n"
                    f"pop3s_listen =\n"
                    f"tls_cert = {base}/cert.pem\ntls_key = {base}/key.pem\n"
                    f"tls_auth_only = no\n"
                    f"max_connections = {conns + 100}\n"
                    f"max_connections_per_ip = {conns + 100}\n"
                    f"user =\nlog = stderr\nlog_level = warn\n")
        self.pools = self.pool_figures()

    def pool_figures(self):
        """Bytes per connection, TLS session, IMAP session, running IMAP
        command, and index bytes per message, as `wren check` says."""
        out = subprocess.run([self.bin, "check", "-c", self.conf],
                             capture_output=True, text=True,
                             timeout=60).stdout
        f = {}
        for line in out.splitlines():
            w = line.replace(",", " ").split()
            if line.startswith("# memory:"):
                f["conn"] = int(w[2])
                f["tls"] = int(w[w.index("adds") + 1])
            elif line.startswith("# smtp:") and "per session" in line:
                f["smtp"] = int(w[2])
            elif line.startswith("# pop3:") and "per session" in line:
                f["pop3"] = int(w[2])
            elif line.startswith("# imap:") and "per session" in line:
                f["imap"] = int(w[2])
                f["cmd"] = int(w[w.index("session") + 1])
            elif line.startswith("# imap:") and "per message" in line:
                f["index"] = int(w[w.index("bytes") - 1])
        return f

    def maildir(self, user):
        local, dom = user.split("@")
        return f"{self.mail}/{dom}/{local}/Maildir"

    def start(self):
        self.log = open(f"{self.base}/wren.log", "ab")
        self.proc = subprocess.Popen((["setarch", "-R"] if self.dump
                                      else []) +
                                     [self.bin, "serve", "-c", self.conf],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for p in (self.smtp, self.imap, self.imaps, self.pop3):
            wait_port(p, "wren", self.proc)

    def roots(self):
        return [self.proc.pid]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Anchor:
    """A private Postfix (`postfix -c`, smtpd, virtual(8) into the
    Maildirs as uid 10500) and a private Dovecot (`dovecot -c`: IMAP,
    IMAPS, POP3 over the same Maildirs); process and client limits
    raised to hold the whole load, nothing else tuned."""
    name = "postfix+dovecot"

    def __init__(self, base, conns, pki, mail):
        self.base, self.pki, self.mail = base, pki, mail
        self.smtp, self.imap = free_port(), free_port()
        self.imaps, self.pop3 = free_port(), free_port()
        os.makedirs(base)
        os.makedirs(mail)
        os.chmod(mail, 0o755)
        users = [PROBE, BIG] + IDLE_USERS
        for u in users:
            os.makedirs(self.maildir(u), exist_ok=True)
        self.postfix_conf(f"{base}/postfix", users, conns)
        self.dovecot_conf(f"{base}/dovecot", users, conns)

    def maildir(self, user):
        return f"{self.mail}/{user.split('@')[0]}/Maildir"

    def postfix_conf(self, d, users, conns):
        self.pf_etc, self.pf_spool = f"{d}/etc", f"{d}/spool"
        data = f"{d}/data"
        for x in (self.pf_etc, self.pf_spool, data):
            os.makedirs(x)
        shutil.chown(data, "postfix")
        with open(f"{self.pf_etc}/vmailbox", "w") as f:
            for u in users:
                f.write(f"{u} {u.split('@')[0]}/Maildir/\n")
        with open(f"{self.pf_etc}/main.cf", "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.pf_spool}
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
virtual_mailbox_limit = 0
virtual_mailbox_domains = example.test
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = texthash:{self.pf_etc}/vmailbox
virtual_uid_maps = static:{MAIL_UID}
virtual_gid_maps = static:{MAIL_UID}
virtual_minimum_uid = 100
default_process_limit = {conns + 100}
smtpd_client_connection_count_limit = 0
maillog_file = {d}/maillog
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
""")
        with open(f"{self.pf_etc}/master.cf", "w") as f:
            f.write(f"""127.0.0.1:{self.smtp} inet n - n - - smtpd
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
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")

    def dovecot_conf(self, d, users, conns):
        self.dc_run, self.dc_conf = f"{d}/run", f"{d}/dovecot.conf"
        os.makedirs(f"{d}/state")
        with open(f"{d}/users", "w") as f:
            for u in users:
                f.write(f"{u}:{{PLAIN}}{PASS}:{MAIL_UID}:{MAIL_UID}::"
                        f"{self.mail}/{u.split('@')[0]}::\n")
        with open(self.dc_conf, "w") as f:
            f.write(f"""# private benchmark instance (bench_load.py)
base_dir = {self.dc_run}
state_dir = {d}/state
instance_name = wren-bench-load-{self.imap}
protocols = imap pop3
listen = 127.0.0.1
log_path = {d}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 500
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{self.pki}/cert.pem
ssl_key = <{self.pki}/key.pem
mail_location = maildir:~/Maildir
default_process_limit = {conns + 100}
default_client_limit = {4 * conns}
default_vsz_limit = 1G
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  client_limit = {4 * conns}
}}
protocol imap {{
  mail_max_userip_connections = {conns}
}}
protocol pop3 {{
  mail_max_userip_connections = {conns}
}}
""")

    def chown_mail(self):
        for dirpath, dirs, files in os.walk(self.mail):
            os.chown(dirpath, MAIL_UID, MAIL_UID)
            for x in files:
                os.chown(f"{dirpath}/{x}", MAIL_UID, MAIL_UID)

    def master(self):
        try:
            return int(open(f"{self.dc_run}/master.pid").read())
        except (OSError, ValueError):
            return None

    def start(self):
        self.chown_mail()
        subprocess.run(["postfix", "-c", self.pf_etc, "start"], check=True,
                       capture_output=True, timeout=120)
        with open(f"{self.base}/dovecot.out", "ab") as out:
            subprocess.run(["dovecot", "-c", self.dc_conf], check=True,
                           stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, timeout=60)
        self.pf_root = None
        for _ in range(200):
            try:
                self.pf_root = int(open(f"{self.pf_spool}/pid/master.pid")
                                   .read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
            if self.pf_root and self.master():
                break
            time.sleep(0.05)
        for p in (self.smtp, self.imap, self.imaps, self.pop3):
            wait_port(p, self.name)

    def roots(self):
        return [r for r in (self.pf_root, self.master()) if r]

    def alive(self):
        try:
            for r in self.roots():
                os.kill(r, 0)
            return len(self.roots()) == 2
        except ProcessLookupError:
            return False

    def stop(self):
        subprocess.run(["postfix", "-c", self.pf_etc, "stop"],
                       capture_output=True, timeout=120)
        pid = self.master()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(200):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)


# --- the well-behaved client (its own process, blocking sockets) ------


def probe(port, seconds, q):
    lat, refused, errors, sessions = [], [], [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", port), PROBE_TIMEOUT)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = s.makefile("rb")
            greeting = f.readline()
            if not greeting.startswith(b"* OK"):
                refused.append(greeting[:80])
                s.close()
                time.sleep(PROBE_EVERY)
                continue
            sessions += 1
            for tag, cmd in ((b"a", f"LOGIN {PROBE} {PASS}"),
                             (b"b", "SELECT INBOX")):
                s.sendall(tag + b" " + cmd.encode() + b"\r\n")
                while True:
                    line = f.readline()
                    if not line:
                        raise EOFError(cmd)
                    if line.startswith(tag + b" "):
                        break
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"{cmd}: {line[:80]!r}")
            until = min(end, time.monotonic() + PROBE_RECONNECT)
            n, tick = 0, time.monotonic()
            while time.monotonic() < until:
                n += 1
                tag = b"n%d" % n
                t = time.perf_counter()
                s.sendall(tag + b" NOOP\r\n")
                while True:
                    line = f.readline()
                    if not line:
                        raise EOFError("NOOP")
                    if line.startswith(tag + b" "):
                        break
                lat.append(time.perf_counter() - t)
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"NOOP: {line[:80]!r}")
                tick += PROBE_EVERY
                time.sleep(max(0.0, tick - time.monotonic()))
            s.sendall(b"z LOGOUT\r\n")
        except (OSError, EOFError, RuntimeError) as e:
            errors.append(repr(e)[:120])
            time.sleep(0.1)
        finally:
            if s is not None:
                s.close()
    q.put({"lat": lat, "refused": refused, "errors": errors,
           "sessions": sessions})


# --- the load: asyncio, in processes of their own ----------------------


async def reply(r):
    """An SMTP reply's code (multi-line ones read whole); 0 at EOF."""
    while True:
        line = await r.readline()
        if len(line) < 4:
            return 0
        if line[3:4] != b"-":
            return int(line[:3])


async def sender(port, rcpt, until, res):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    if await reply(r) != 220:
        res["refused"] += 1
        return
    w.write(b"EHLO load.example\r\n")
    await reply(r)
    i = 0
    body = message(0)
    while time.monotonic() < until:
        i += 1
        w.write(b"MAIL FROM:<load@remote.example>\r\nRCPT TO:<" +
                rcpt.encode() + b">\r\nDATA\r\n")
        codes = [await reply(r) for _ in range(3)]
        if codes != [250, 250, 354]:
            res["bad"].append(codes)
            if codes[2] == 354:
                w.write(b".\r\n")
                await reply(r)
            if 0 in codes:
                return
            continue
        w.write(body + b".\r\n")
        c = await reply(r)
        if c == 250:
            res["ok"] += 1
        else:
            res["bad"].append(["DATA", c])
            if c == 0:
                return
    w.write(b"QUIT\r\n")
    await reply(r)
    w.close()


def senders(port, n, until, q):
    res = {"ok": 0, "bad": [], "refused": 0}

    async def main():
        await asyncio.gather(*(sender(port, IDLE_USERS[i % 10], until,
                                      res) for i in range(n)),
                             return_exceptions=True)
    asyncio.run(main())
    q.put(res)


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Holder:
    """Opens and holds every load connection; counts refusals and the
    connections the server closed before the end."""

    def __init__(self, srv, conns):
        self.srv = srv
        self.st = {"refused": 0, "failed": [], "closed": {}, "held": {},
                   "idle_ok": 0, "exists": 0}
        self.stop = None
        self.writers = []
        n_sleep = conns - 1 - N_SENDERS - N_IDLE - N_SLOW - N_FETCH - \
            N_INOOP - N_SNOOP
        if n_sleep < 0:
            raise SystemExit(f"load: --conns {conns} is below the fixed "
                             f"part of the mix")
        ports = [srv["imap"], srv["pop3"], srv["smtp"]]
        self.plan = []
        for i in range(N_IDLE):
            self.plan.append((self.idler, ("idle", IDLE_USERS[i % 10],
                                           i < N_IDLE_TLS)))
        for i in range(N_FETCH):
            self.plan.append((self.nonreader, ("fetch", srv["imap"])))
        for i in range(N_INOOP):
            self.plan.append((self.nonreader, ("imap-noop", srv["imap"])))
        for i in range(N_SNOOP):
            self.plan.append((self.nonreader, ("smtp-rset", srv["smtp"])))
        for i in range(N_SLOW):
            self.plan.append((self.slowloris, ("slowloris", ports[i % 3],
                                               i * SLOW_EVERY / N_SLOW)))
        for i in range(n_sleep):
            self.plan.append((self.sleeper, ("silent", ports[i % 3])))

    def count(self, what, kind):
        self.st[what][kind] = self.st[what].get(kind, 0) + 1

    async def greet(self, r, kind):
        line = await r.readline()
        if not line.startswith((b"* OK", b"+OK", b"220")):
            self.st["refused"] += 1
            raise ConnectionError(f"{kind}: greeting {line[:60]!r}")

    async def imap_cmd(self, r, w, tag, cmd):
        w.write(tag + b" " + cmd + b"\r\n")
        while True:
            line = await r.readline()
            if not line:
                raise ConnectionError(f"EOF after {cmd[:20]!r}")
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise ConnectionError(f"{cmd[:20]!r}: {line[:60]!r}")
                return

    async def until_end(self, r, kind):
        """Reads and drops what comes until the end; EOF before it is a
        connection the server closed."""
        read = asyncio.ensure_future(r.read(65536))
        end = asyncio.ensure_future(self.stop.wait())
        while True:
            done, _ = await asyncio.wait(
                {read, end}, return_when=asyncio.FIRST_COMPLETED)
            if end in done:
                read.cancel()
                try:
                    await read
                except asyncio.CancelledError:
                    pass
                return True
            data = read.result()
            if not data:
                end.cancel()
                self.count("closed", kind)
                return False
            self.st["exists"] += data.count(b" EXISTS\r\n")
            read = asyncio.ensure_future(r.read(65536))

    async def sleeper(self, kind, port, up):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        self.writers.append(w)
        await self.greet(r, kind)
        self.count("held", kind)
        up.set()
        await self.until_end(r, kind)

    async def slowloris(self, kind, port, phase, up):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        self.writers.append(w)
        await self.greet(r, kind)
        self.count("held", kind)
        up.set()
        cmd = {self.srv["imap"]: b"a1 NOOP\r\n", self.srv["pop3"]:
               b"CAPA\r\n", self.srv["smtp"]: b"NOOP\r\n"}[port]

        async def drip():
            await asyncio.sleep(phase)
            i = 0
            while True:
                w.write(cmd[i % len(cmd):][:1])
                i += 1
                await asyncio.sleep(SLOW_EVERY)
        t = asyncio.ensure_future(drip())
        await self.until_end(r, kind)
        t.cancel()

    async def idler(self, kind, user, tls, up):
        port = self.srv["imaps"] if tls else self.srv["imap"]
        r, w = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls_ctx() if tls else None)
        self.writers.append(w)
        await self.greet(r, kind)
        await self.imap_cmd(r, w, b"a", f"LOGIN {user} {PASS}".encode())
        await self.imap_cmd(r, w, b"b", b"SELECT INBOX")
        w.write(b"i IDLE\r\n")
        line = await r.readline()
        if not line.startswith(b"+"):
            raise ConnectionError(f"IDLE: {line[:60]!r}")
        self.count("held", kind + ("-tls" if tls else ""))
        up.set()
        if await self.until_end(r, kind):
            # Still in IDLE: DONE must end it with the tagged OK.
            w.write(b"DONE\r\n")
            try:
                while True:
                    line = await asyncio.wait_for(r.readline(), 60)
                    if not line or line.startswith(b"i "):
                        break
                if line.startswith(b"i OK"):
                    self.st["idle_ok"] += 1
            except asyncio.TimeoutError:
                pass

    async def nonreader(self, kind, port, up):
        loop = asyncio.get_running_loop()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.setblocking(False)
        await loop.sock_connect(s, ("127.0.0.1", port))
        r, w = await asyncio.open_connection(sock=s)
        self.writers.append(w)
        await self.greet(r, kind)
        if kind == "smtp-rset":
            w.write(b"EHLO nonreader.example\r\n")
            await reply(r)
            # RSET may be pipelined on port 25 (NOOP ends a group).
            w.write(b"RSET\r\n" * 4000)
        else:
            user = BIG if kind == "fetch" else PROBE
            await self.imap_cmd(r, w, b"a", f"LOGIN {user} {PASS}".encode())
            await self.imap_cmd(r, w, b"b", b"EXAMINE INBOX")
            if kind == "fetch":
                w.write(b"f FETCH 1:* BODY.PEEK[]\r\n")
            else:
                w.write(b"".join(b"n%d NOOP\r\n" % i for i in range(4000)))
        w.transport.pause_reading()
        self.count("held", kind)
        up.set()
        await self.stop.wait()
        # A non-reader the server closed shows as EOF or reset now.
        w.transport.resume_reading()
        try:
            while await asyncio.wait_for(r.read(1 << 20), 0.05):
                pass
            self.count("closed", kind)
        except asyncio.TimeoutError:
            pass
        except OSError:
            self.count("closed", kind)

    async def run(self, ready, stop_evt, q):
        self.stop = asyncio.Event()
        gate = asyncio.Semaphore(64)

        async def one(fn, args):
            # The gate is let go once the client is set up (or failed).
            up = asyncio.Event()
            await gate.acquire()
            task = asyncio.ensure_future(fn(*args, up=up))
            waiter = asyncio.ensure_future(up.wait())
            await asyncio.wait({task, waiter},
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            gate.release()
            try:
                await task
            except Exception as e:          # noqa: BLE001 (reported)
                self.st["failed"].append(f"{args[0]}: {e!r}"[:160])

        tasks = []
        for fn, args in self.plan:
            tasks.append(asyncio.ensure_future(one(fn, args)))
        # All held (or failed), then report ready.
        total = len(self.plan)
        t0 = time.monotonic()
        while sum(self.st["held"].values()) + len(self.st["failed"]) < \
                total and time.monotonic() - t0 < 120:
            await asyncio.sleep(0.05)
        ready.put({"held": dict(self.st["held"]),
                   "failed": list(self.st["failed"]),
                   "ramp": time.monotonic() - t0})
        while not stop_evt.is_set():
            await asyncio.sleep(0.1)
        self.stop.set()
        await asyncio.wait(tasks, timeout=90)
        for w in self.writers:
            w.transport.abort()
        q.put(self.st)


def holder(srv, conns, ready, stop_evt, q):
    asyncio.run(Holder(srv, conns).run(ready, stop_evt, q))


# --- one server -----------------------------------------------------------


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def lat_line(lat):
    return (f"p50 {pct(lat, 50) * 1e3:.2f} ms, p99 {pct(lat, 99) * 1e3:.2f}"
            f" ms, max {max(lat) * 1e3:.1f} ms ({len(lat)} NOOPs)"
            if lat else "no NOOP answered")


def count_mail(srv):
    n = 0
    for u in IDLE_USERS:
        for sub in ("new", "cur"):
            try:
                n += len(os.listdir(f"{srv.maildir(u)}/{sub}"))
            except FileNotFoundError:
                pass
    return n


def bench(srv, a):
    """Runs the idle and loaded probes against a started srv; returns
    the figures and the list of things that went wrong."""
    ctx = mp.get_context("fork")
    wrong = []
    ports = {"imap": srv.imap, "imaps": srv.imaps, "pop3": srv.pop3,
             "smtp": srv.smtp}
    before = count_mail(srv)
    time.sleep(1)
    idle_mem = mem(srv.roots())
    smaps_dump(srv, "idle")
    q = ctx.Queue()
    p = ctx.Process(target=probe, args=(srv.imap, a.idle, q))
    c0 = cpu_ticks(srv.roots())
    t0 = time.monotonic()
    p.start()
    idle = q.get(timeout=a.idle + 120)
    p.join()
    idle_cpu = (cpu_ticks(srv.roots()) - c0) / os.sysconf("SC_CLK_TCK") / \
        (time.monotonic() - t0)

    ready, hq, stop_evt = ctx.Queue(), ctx.Queue(), ctx.Event()
    h = ctx.Process(target=holder, args=(ports, a.conns, ready, stop_evt,
                                         hq))
    h.start()
    ramp = ready.get(timeout=300)
    held = sum(ramp["held"].values())
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(ramp["held"].items()))
    say(f"{srv.name}: {held} load connections held after "
        f"{ramp['ramp']:.1f} s ({kinds})")
    if ramp["failed"]:
        wrong.append(f"{len(ramp['failed'])} load connections failed at "
                     f"start, e.g. {ramp['failed'][:3]}")
    time.sleep(1)
    pq, sq = ctx.Queue(), ctx.Queue()
    until = time.monotonic() + a.load
    sp = ctx.Process(target=senders, args=(srv.smtp, a.senders, until, sq))
    pp = ctx.Process(target=probe, args=(srv.imap, a.load, pq))
    c0 = cpu_ticks(srv.roots())
    t0 = time.monotonic()
    sp.start()
    pp.start()
    peak = (0, 0, 0, 0, 0)
    while time.monotonic() < until:
        m = mem(srv.roots())
        if m[0] > peak[0]:
            peak = m
            smaps_dump(srv, "peak")
        time.sleep(1)
    maps = anon_maps(srv.roots()[0])
    loaded = pq.get(timeout=a.load + 120)
    sent = sq.get(timeout=120)
    dt = time.monotonic() - t0
    load_cpu = (cpu_ticks(srv.roots()) - c0) / os.sysconf("SC_CLK_TCK") / dt
    pp.join()
    sp.join()
    after_mem = mem(srv.roots())
    stop_evt.set()
    st = hq.get(timeout=180)
    h.join(timeout=60)

    # Nothing acknowledged may be missing (Postfix delivers after its
    # 250: waited for, up to a minute).
    want = before + sent["ok"]
    for _ in range(600):
        got = count_mail(srv)
        if got >= want:
            break
        time.sleep(0.1)
    r = {"idle": idle, "load": loaded, "sent": sent, "ramp": ramp,
         "held": st, "idle_mem": idle_mem, "peak": peak,
         "after_mem": after_mem, "idle_cpu": idle_cpu, "load_cpu": load_cpu,
         "rate": sent["ok"] / a.load, "in_maildir": got - before,
         "before": before,
         "maps": maps}
    for name, res in (("idle", idle), ("load", loaded)):
        if res["refused"]:
            wrong.append(f"the well-behaved client was refused "
                         f"{len(res['refused'])} times ({name}): "
                         f"{res['refused'][:2]}")
        if res["errors"]:
            wrong.append(f"the well-behaved client had {len(res['errors'])}"
                         f" errors ({name}): {res['errors'][:2]}")
    if sent["bad"] or sent["refused"]:
        wrong.append(f"{len(sent['bad'])} deliveries without 250, "
                     f"{sent['refused']} senders refused: {sent['bad'][:3]}")
    if got != want:
        wrong.append(f"{sent['ok']} messages acknowledged, {got - before} "
                     f"in the Maildirs")
    if st["refused"]:
        wrong.append(f"{st['refused']} load connections refused")
    cut = {k: v for k, v in st["closed"].items() if k not in NONREADERS}
    if cut:
        wrong.append(f"the server closed load connections during the "
                     f"window: {cut}")
    if st["idle_ok"] != ramp["held"].get("idle", 0) + \
            ramp["held"].get("idle-tls", 0):
        wrong.append(f"only {st['idle_ok']} IDLE sessions ended with OK")
    if not srv.alive():
        wrong.append("the server died")
    return r, wrong


def report(srv, r, a):
    say(f"{srv.name}: NOOP round trip, idle server: "
        f"{lat_line(r['idle']['lat'])}")
    say(f"{srv.name}: NOOP round trip, under load: "
        f"{lat_line(r['load']['lat'])}; {r['load']['sessions']} sessions, "
        f"{len(r['load']['refused'])} refused")
    say(f"{srv.name}: deliveries {r['sent']['ok']} in {a.load:.0f} s = "
        f"{r['rate']:.0f} msg/s acknowledged (250), {len(r['sent']['bad'])}"
        f" not; {r['in_maildir']} in the Maildirs; IDLE sessions were told "
        f"{r['held']['exists']} EXISTS")
    im, pk = r["idle_mem"], r["peak"]
    say(f"{srv.name}: RSS/Pss idle {im[0] / 1024:.1f}/{im[1] / 1024:.1f} MiB"
        f" ({im[2]} processes), peak under load "
        f"{pk[0] / 1024:.1f}/{pk[1] / 1024:.1f} MiB ({pk[2]} processes; "
        f"anonymous {pk[3] / 1024:.1f} MiB, files {pk[4] / 1024:.1f} MiB)")
    cut = {k: v for k, v in r["held"]["closed"].items() if k in NONREADERS}
    say(f"{srv.name}: non-readers closed by the server during the window: "
        f"{cut or 'none'}")
    say(f"{srv.name}: CPU {r['idle_cpu'] * 100:.0f} % of a core idle "
        f"(probe only), {r['load_cpu'] * 100:.0f} % under load")


def pool_estimate(w, r):
    """What the pools say the load may make resident, in KiB: every
    held connection's slots as `wren check` prints them, a workspace
    for each IMAP command that cannot finish (the non-readers' and the
    probe's; IDLE gives its workspace back), and the index of every
    message in the selected mailboxes. Returns (KiB, [(term, KiB)])."""
    f = w.pools
    held = r["ramp"]["held"]
    tls = held.get("idle-tls", 0)
    third = (held.get("slowloris", 0) + held.get("silent", 0)) // 3 + 1
    n = {"connections": sum(held.values()) + N_SENDERS + 1,
         "TLS": tls,
         "SMTP sessions": held.get("smtp-rset", 0) + N_SENDERS + third,
         "IMAP sessions": held.get("idle", 0) + tls + held.get("fetch", 0)
         + held.get("imap-noop", 0) + 1 + third,
         "POP3 sessions": third,
         "running commands": held.get("fetch", 0) +
         held.get("imap-noop", 0) + 1,
         "index (messages)": r["in_maildir"] + r["before"]}
    per = {"connections": "conn", "TLS": "tls", "SMTP sessions": "smtp",
           "IMAP sessions": "imap", "POP3 sessions": "pop3",
           "running commands": "cmd", "index (messages)": "index"}
    terms = [(k, v, f.get(per[k], 0), v * f.get(per[k], 0) / 1024)
             for k, v in n.items()]
    return sum(t[3] for t in terms), terms


def fill(srv):
    for i in range(10):
        put(srv.maildir(PROBE), f"p{i}.load", message(1000 + i, 1024))
    for i in range(4):
        put(srv.maildir(BIG), f"b{i}.load", message(2000 + i, 2 << 20))
    for u in IDLE_USERS:
        for i in range(5):
            put(srv.maildir(u), f"i{i}.load", message(3000 + i, 1024))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--load", type=float, default=20.0,
                    help="seconds of the loaded window")
    ap.add_argument("--idle", type=float, default=5.0,
                    help="seconds of the idle measurement")
    ap.add_argument("--senders", type=int, default=N_SENDERS,
                    help="SMTP clients delivering (for diagnosis)")
    ap.add_argument("--dump", action="store_true",
                    help="wren's smaps and resident pages at idle and "
                    "peak into DIR (for diagnosis)")
    ap.add_argument("--no-anchor", action="store_true",
                    help="no Postfix + Dovecot comparison")
    a = ap.parse_args()
    # Every connection is a descriptor here, and in the server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * a.conns + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard != resource.RLIM_INFINITY
                            else want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2 * a.conns + 200:
        raise SystemExit(f"load: RLIMIT_NOFILE {hard} is too low for "
                         f"{a.conns} connections")
    base = os.path.abspath(a.dir)
    if os.path.ismount(f"{base}/fs"):          # left by an earlier run
        subprocess.run(["umount", f"{base}/fs"], timeout=120)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    os.chmod(base, 0o755)
    # The mail on a fresh journalled ext4 (root only): files deleted by
    # an earlier run on this file system would slow every creation.
    fs = loop_fs(base)
    mail = fs or f"{base}/mail"
    say("mail on " + ("a fresh journalled ext4 (loop image)" if fs else
                      "the bench dir's file system"))
    try:
        run(a, base, mail)
    finally:
        if fs:
            subprocess.run(["umount", fs], timeout=120)
            os.unlink(f"{base}/fs.img")


def run(a, base, mail):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    f"{base}/key.pem", "-out", f"{base}/cert.pem", "-days",
                    "30", "-subj", "/CN=mail.example.test", "-addext",
                    "subjectAltName=DNS:mail.example.test"], check=True,
                   capture_output=True, timeout=60)
    os.chmod(f"{base}/key.pem", 0o644)      # Dovecot reads it as root
    wrong = []
    w = Wren(a.wren, base, a.conns, f"{mail}/wren")
    w.dump = a.dump
    fill(w)
    try:
        w.start()
        rw, bad = bench(w, a)
    finally:
        w.stop()
    report(w, rw, a)
    est, terms = pool_estimate(w, rw)
    grow = rw["peak"][3] - rw["idle_mem"][3]
    say(f"wren: anonymous RSS growth under load {grow / 1024:.1f} MiB; "
        f"the pool formula for the load held: {est / 1024:.1f} MiB = " +
        " + ".join(f"{t[0]} {t[1]} x {t[2]} B" for t in terms))
    say(f"wren: largest anonymous mappings (size/resident KiB): "
        f"{', '.join(f'{m[0]}/{m[1]}' for m in rw['maps'])}")
    if grow > est:
        wrong.append(f"anonymous RSS grew {grow / 1024:.1f} MiB under "
                     f"load, over the pool formula's {est / 1024:.1f} MiB")
    if not w.pools.get("conn"):
        wrong.append("`wren check` printed no pool figures")
    wrong += [f"wren: {x}" for x in bad]

    have = (not a.no_anchor and os.geteuid() == 0 and
            shutil.which("postfix") and shutil.which("dovecot") and
            os.path.exists("/usr/lib/dovecot/imap"))
    if have:
        d = Anchor(f"{base}/anchor", a.conns, base, f"{mail}/anchor")
        fill(d)
        try:
            d.start()
            rd, bad = bench(d, a)
        finally:
            d.stop()
        report(d, rd, a)
        wrong += [f"{d.name}: {x}" for x in bad]
        say(f"NOOP p99 under load: wren "
            f"{pct(rw['load']['lat'], 99) * 1e3:.2f} ms, {d.name} "
            f"{pct(rd['load']['lat'], 99) * 1e3:.2f} ms (idle: "
            f"{pct(rw['idle']['lat'], 99) * 1e3:.2f} / "
            f"{pct(rd['idle']['lat'], 99) * 1e3:.2f} ms)")
    else:
        say("no Postfix + Dovecot comparison (not root, postfix, dovecot "
            "or dovecot-imapd missing, or --no-anchor)")
    for x in wrong:
        say(f"WRONG: {x}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
