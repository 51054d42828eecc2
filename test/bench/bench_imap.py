#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: IMAP.

A 10,000-message INBOX (maildir_corpus.py: seeded, 2-50 KB, ~35 % MIME
multipart) is written twice, once for wren and once, owned by uid
10500, for a private Dovecot (`dovecot -c`, loopback high port, no
system service touched) when dovecot and its imap binary are there.
As root the mail goes on a fresh ext4 image loop-mounted in DIR (its
own device in /proc/diskstats); otherwise on DIR's file system.

  1. Cold full mbsync: isync pulls INBOX into a fresh empty local
     Maildir (FSync no, so its own fsyncs are not timed), plain IMAP
     on loopback, without COMPRESS (8 measures it); wren restarted
     before every run (its dovecot-uidlist removed before the first),
     Dovecot's index files removed before its first; runs alternate
     between the two; seconds and the ratio.
     The pulled messages and flags are checked against the corpus.
  2. RSS and Pss (smaps_rollup) of wren with 50 IMAPS sessions logged
     in, INBOX selected, in IDLE (each got "+ idling"), settled 2 s, on
     a fresh server: with a 20-message INBOX and with the 10k one.
  3. UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE) with imaplib after
     EXAMINE: messages/s, wren and Dovecot; the answers are compared
     message by message (keyed by Message-ID).
  4. Disk writes per flag change: N single-message UID STORE +FLAGS
     (\\Seen) one at a time (a sync every N/10), then K more each
     followed by sync: /proc/PID/io write_bytes, wchar and rchar, and
     the device's sectors written (/proc/diskstats, after sync), with
     idle windows of the same shape interleaved and reported.
  5. Index memory: RSS growth at SELECT of the 10k INBOX, per message,
     and less the growth at SELECT of a 20-message INBOX (what any
     SELECT touches), each on a fresh server.
  6. UID FETCH 1:* (ENVELOPE BODYSTRUCTURE) on a raw socket after
     EXAMINE (the client only collects bytes while timed): run 1 of
     each server is cold (wren builds its header cache, wren-cache,
     Dovecot its dovecot.index.cache), later runs warm; wren is
     restarted before its last run, so that run reads the cache from
     the file; the answers are compared byte for byte between wren's
     runs and item by item with Dovecot's; the cache's bytes per
     message.
  7. SORT (DATE), SORT (SUBJECT), THREAD REFERENCES of the whole INBOX
     with imaplib, each run a fresh session after EXAMINE: run 1 is
     the first sort of the folder (wren reads every header and keeps
     the keys in wren-cache), later runs are warm, wren restarted
     before its last run (the keys read back from the file); answers
     compared with Dovecot's.
  8. COMPRESS=DEFLATE (RFC 4978): a full mbsync into an empty local
     Maildir (UID FETCH 1:* (UID FLAGS RFC822.SIZE), then BODY.PEEK[]
     of every message) through a counting TCP proxy, with COMPRESS
     (mbsync asks for it when offered) and without (DisableExtensions
     COMPRESS=DEFLATE): bytes on the wire each way; Dovecot with its
     imap_zlib plugin side by side, when the plugin is there.

Rates and times are medians of RUNS runs.

    bench_imap.py WREN_BIN DIR [--count N] [--runs R] [--stores N]
                  [--isolated K] [--sessions N] [--seed S] [--no-dovecot]
                  [--no-loop] [--mbsync-fsync] [--fetch-only]
                  [--sort-only] [--compress-only]
"""
import argparse
import hashlib
import imaplib
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

from benchlib import loop_fs, free_port
from maildir_corpus import fill

PASS = "benchpass"
SYNC = "sync@example.test"
IDLER = "idle@example.test"
MAIL_UID = 10500                # Dovecot will not serve mail as root


# --- /proc ------------------------------------------------------------

def mem(pid):
    """VmRSS, RssAnon, RssFile (KiB, /proc/PID/status) and Pss (KiB,
    /proc/PID/smaps_rollup)."""
    m = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            m[k] = int(v.split()[0])
    m["Pss"] = 0
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                m["Pss"] = int(line.split()[1])
    except OSError:
        pass
    return m


def proc_io(pid):
    io = {}
    for line in open(f"/proc/{pid}/io"):
        k, _, v = line.partition(":")
        io[k] = int(v)
    return io


def disk_of(path):
    """The /proc/diskstats name of the device holding path, or None."""
    st = os.stat(path)
    want = (os.major(st.st_dev), os.minor(st.st_dev))
    for line in open("/proc/diskstats"):
        f = line.split()
        if (int(f[0]), int(f[1])) == want:
            return f[2]
    return None


def sectors_written(dev):
    for line in open("/proc/diskstats"):
        f = line.split()
        if f[2] == dev:
            return int(f[9])
    return 0


def children(pid):
    """Every descendant of pid."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return ""


# --- servers ----------------------------------------------------------

def wait_port(port, what, proc=None):
    for _ in range(400):
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode}) at start")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} does not listen on {port}")


class Wren:
    def __init__(self, binary, base, mail):
        self.bin, self.base, self.mail = binary, base, mail
        self.imap, self.imaps = free_port(), free_port()
        self.conf = f"{base}/wren.conf"
        self.proc = None
        self.log = open(f"{base}/wren.log", "ab")
        with open(self.conf, "w") as f:
            f.write(f"hostname = localhost\ndomains = example.test\n"
                    f"data_dir = {base}/data\n"
                    f"mail_home = {mail}/%d/%n\nusers = {base}/users\n"
                    f"aliases = {base}/aliases\nvirtual = {base}/virtual\n"
                    f"smtp_listen =\nsubmission_listen =\n"
                    f"submissions_listen =\n"
                    f"imap_listen = 127.0.0.1:{self.imap}\n"
                    f"imaps_listen = 127.0.0.1:{self.imaps}\n"
                    f"tls_cert = {base}/cert.pem\ntls_key = {base}/key.pem\n"
                    f"tls_auth_only = no\nmax_connections = 128\n"
                    f"max_connections_per_ip = 128\nuser =\nlog = stderr\n"
                    f"log_level = warn\n")

    def maildir(self, user):
        local, dom = user.split("@")
        return f"{self.mail}/{dom}/{local}/Maildir"

    def start(self):
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.imap, "wren", self.proc)
        wait_port(self.imaps, "wren", self.proc)
        return self.proc.pid

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.proc = None
            raise SystemExit(f"wren died during the bench (exit {rc}); "
                             f"see {self.base}/wren.log")
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            print("imap: WARNING wren did not stop within 60 s of SIGTERM",
                  flush=True)
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()


class Dovecot:
    """A private Dovecot: config, sockets, state and log in dir; plain
    IMAP on a loopback high port; passwd-file users with uid 10500."""

    def __init__(self, base, mail, users):
        self.dir, self.mail = base, mail
        self.port = free_port()
        self.run = f"{base}/run"
        self.conf = f"{base}/dovecot.conf"
        os.makedirs(f"{base}/state", exist_ok=True)
        with open(f"{base}/users", "w") as f:
            for u in users:
                f.write(f"{u}:{{PLAIN}}{PASS}:{MAIL_UID}:{MAIL_UID}::"
                        f"{self.home(u)}::\n")
        for u in users:
            os.makedirs(self.home(u), exist_ok=True)
            os.chown(self.home(u), MAIL_UID, MAIL_UID)
        with open(self.conf, "w") as f:
            f.write(f"""# private benchmark instance (bench_imap.py)
base_dir = {self.run}
state_dir = {base}/state
instance_name = wren-bench-imap-{self.port}
protocols = imap
listen = 127.0.0.1
log_path = {base}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 500
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = no
mail_location = maildir:~/Maildir
default_process_limit = 1000
default_client_limit = 4000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
""")

    def home(self, user):
        return f"{self.mail}/{user.split('@')[0]}"

    def maildir(self, user):
        return f"{self.home(user)}/Maildir"

    def master(self):
        try:
            return int(open(f"{self.run}/master.pid").read())
        except (OSError, ValueError):
            return None

    def start(self):
        # It forks into the background: no pipes it would keep open.
        with open(f"{self.dir}/dovecot.out", "ab") as out:
            subprocess.run(["dovecot", "-c", self.conf], check=True,
                           stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, timeout=60)
        for _ in range(200):
            if self.master():
                break
            time.sleep(0.05)
        wait_port(self.port, "dovecot")

    def stop(self):
        pid = self.master()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def reset_index(self, user):
        """Removes every index file: the next access is cold."""
        md = self.maildir(user)
        for e in os.scandir(md):
            if e.is_file() and (e.name.startswith("dovecot") or e.name in (
                    "subscriptions", "maildirfolder")):
                os.unlink(e.path)


# --- IMAP clients -----------------------------------------------------

class Raw:
    """A small line-oriented IMAP client (plain or implicit TLS)."""

    def __init__(self, port, ctx=None, timeout=120):
        raw = socket.create_connection(("127.0.0.1", port), timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw) if ctx else raw
        self.f = self.s.makefile("rb")
        self.n = 0
        line = self.f.readline()
        if not line.startswith(b"* OK"):
            raise RuntimeError(f"greeting: {line!r}")

    def cmd(self, text, until=None):
        """Sends a command; returns (untagged lines, tagged line). With
        until, returns at the first line starting with it instead."""
        self.n += 1
        tag = f"t{self.n}".encode()
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError(f"connection closed after {text!r}")
            if until and line.startswith(until):
                return lines, line
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"{text!r}: {line!r}")
                return lines, line
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if m:
                line += self.f.read(int(m.group(1))) + self.f.readline()
            lines.append(line)

    def login(self, user):
        self.cmd(f"LOGIN {user} {PASS}")

    def close(self):
        try:
            self.s.sendall(b"z LOGOUT\r\n")
            self.s.settimeout(5)
            while self.f.readline():
                pass
        except OSError:
            pass
        self.s.close()


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# A FETCH answer as Python values: lists, bytes (strings, literals,
# atoms), None for NIL; the answers as {Message-ID: {item: value}}.
TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|(\{\d+\})$'
                   rb'|([^\s()"{]+(?:\[[^\]]*\])?))')


def tokens(data):
    for item in data:
        if isinstance(item, tuple):
            head, lit = item
            head = re.sub(rb"\{\d+\}$", b"", head)
            yield from tokens([head])
            yield ("s", lit)
            continue
        pos = 0
        while pos < len(item):
            m = TOKEN.match(item, pos)
            if not m or m.end() == pos:
                if item[pos:].strip():
                    raise ValueError(f"unparsed: {item[pos:]!r}")
                break
            pos = m.end()
            if m.group(1):
                yield ("(", None)
            elif m.group(2):
                yield (")", None)
            elif m.group(3) is not None:
                yield ("s", re.sub(rb"\\(.)", rb"\1", m.group(3)))
            elif m.group(5):
                a = m.group(5)
                yield ("s", None) if a == b"NIL" else ("a", a)


def fetch_answers(data):
    """imaplib FETCH data -> list of {item name: value} per message."""
    out, stack = [], []
    for kind, v in tokens(data):
        if kind == "(":
            stack.append([])
        elif kind == ")":
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                out.append({done[i].decode().upper(): done[i + 1]
                            for i in range(0, len(done) - 1, 2)})
        elif stack:
            stack[-1].append(v)
    return out


def norm(ans):
    flags = sorted(f for f in ans.get("FLAGS", []) if f != b"\\Recent")
    return {"FLAGS": flags, "RFC822.SIZE": ans.get("RFC822.SIZE"),
            "ENVELOPE": ans.get("ENVELOPE")}


def imaplib_fetch(port):
    """One EXAMINE + UID FETCH 1:*: (seconds, answers)."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=300)
    m.login(SYNC, PASS)
    typ, d = m.select("INBOX", readonly=True)
    if typ != "OK":
        raise RuntimeError(f"EXAMINE: {d}")
    t0 = time.monotonic()
    typ, data = m.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE ENVELOPE)")
    dt = time.monotonic() - t0
    if typ != "OK":
        raise RuntimeError(f"UID FETCH: {data}")
    m.logout()
    return dt, data


def struct_fetch(port):
    """One EXAMINE + UID FETCH 1:* (ENVELOPE BODYSTRUCTURE) on a raw
    socket: (seconds, answer bytes). Only recv is timed."""
    c = Raw(port)
    c.login(SYNC)
    c.cmd("EXAMINE INBOX")
    tag = b"\r\nf1 "
    t0 = time.monotonic()
    c.s.sendall(b"f1 UID FETCH 1:* (ENVELOPE BODYSTRUCTURE)\r\n")
    buf = bytearray()
    while True:
        got = c.s.recv(1 << 20)
        if not got:
            raise RuntimeError("connection closed during FETCH")
        buf += got
        end = buf.rfind(tag, max(0, len(buf) - len(got) - 8))
        if end != -1 and buf.endswith(b"\r\n"):
            break
    dt = time.monotonic() - t0
    c.close()
    body, _, last = bytes(buf).rpartition(tag)
    if not last.startswith(b"OK"):
        raise RuntimeError(f"UID FETCH: {last[:200]!r}")
    return dt, body + b"\r\n"


def struct_items(data):
    """Raw FETCH answer -> {UID: (ENVELOPE, BODYSTRUCTURE)} as values."""
    chunks, pos = [], 0
    for m in re.finditer(rb"\{(\d+)\}\r\n", data):
        if m.start() < pos:
            continue
        chunks.append((data[pos:m.start()] + b"{" + m.group(1) + b"}",
                       data[m.end():m.end() + int(m.group(1))]))
        pos = m.end() + int(m.group(1))
    chunks.append(data[pos:])
    out = {}
    for x in fetch_answers(chunks):
        out[int(x["UID"])] = (x.get("ENVELOPE"), x.get("BODYSTRUCTURE"))
    return out


def fetch_structs(a, wren, dc, res, n):
    """6. UID FETCH 1:* (ENVELOPE BODYSTRUCTURE), cold then warm."""
    cache = f"{wren.maildir(SYNC)}/wren-cache"
    if os.path.exists(cache):
        os.unlink(cache)
    if dc:
        for e in os.scandir(dc.maildir(SYNC)):
            if e.name.startswith("dovecot.index"):
                os.unlink(e.path)
    wren.restart()
    if dc and not dc.master():
        dc.start()
    texts = {}
    runs = max(a.runs, 2) + 1
    for r in range(runs):
        if r == runs - 1:
            wren.restart()          # the cache as read from the file
        for name, port in (("wren", wren.imap),
                           ("dovecot", dc.port if dc else None)):
            if port is None:
                continue
            dt, data = struct_fetch(port)
            nans = data.count(b" FETCH (")
            if nans != n:
                raise SystemExit(f"imap: ENVELOPE BODYSTRUCTURE from "
                                 f"{name}: {nans} answers, expected {n}")
            key = f"struct_{name}_{'cold' if r == 0 else 'warm'}"
            res.setdefault(key, []).append(n / dt)
            texts.setdefault(name, []).append(data)
            print(f"imap: UID FETCH 1:* (ENVELOPE BODYSTRUCTURE) {name} run "
                  f"{r + 1}{' (cold)' if r == 0 else ''}"
                  f"{' (restarted)' if name == 'wren' and r == runs - 1 else ''}"
                  f": {dt:.3f} s, {n / dt:.0f} msg/s, "
                  f"{len(data) / 1e6:.1f} MB", flush=True)
    w = texts["wren"]
    same = all(x == w[0] for x in w[1:])
    res["struct_same"] = same
    if os.path.exists(cache):
        res["struct_cache_bpm"] = os.path.getsize(cache) / n
    dcc = f"{dc.maildir(SYNC)}/dovecot.index.cache" if dc else None
    if dcc and os.path.exists(dcc):
        res["struct_dc_cache_bpm"] = os.path.getsize(dcc) / n
    line = (f"imap: ENVELOPE BODYSTRUCTURE wren answers cold vs warm vs "
            f"restarted: {'byte-identical' if same else 'DIFFERENT'}")
    if dc:
        x, y = struct_items(w[0]), struct_items(texts["dovecot"][0])
        bad = [u for u in x if x[u] != y.get(u)]
        line += (f"; vs Dovecot: {len(x) - len(bad)} of {len(x)} "
                 f"identical")
        if bad:
            u = bad[0]
            line += f", e.g. UID {u}: {x[u]!r} / {y.get(u)!r}"[:800]
    print(line, flush=True)


def sort_thread(a, wren, dc, res, n):
    """7. SORT and THREAD of the whole folder, each run a fresh session:
    run 1 the first sort since the keys were dropped (wren-cache
    removed), later runs warm, wren restarted before its last one."""
    cache = f"{wren.maildir(SYNC)}/wren-cache"
    if wren.alive():
        wren.stop()
    if os.path.exists(cache):
        os.unlink(cache)
    wren.start()
    if dc and not dc.master():
        dc.start()
    # A sort takes milliseconds: more runs than elsewhere, for a
    # median that a busy machine does not move much.
    runs = max(3 * a.runs, 6) + 1
    got = {}
    for r in range(runs):
        if r == runs - 1:
            wren.restart()          # the keys as read from the file
        for label, cmd, arg in SORTS:
            for name, port in (("wren", wren.imap),
                               ("dovecot", dc.port if dc else None)):
                if port is None:
                    continue
                dt, ans = imaplib_sort(port, cmd, arg)
                temp = "first" if r == 0 else "warm"
                res.setdefault(f"{label}_{name}_{temp}", []).append(dt)
                got.setdefault((label, name), set()).add(ans)
                again = name == "wren" and r == runs - 1
                print(f"imap: {label} of {n} {name} run {r + 1}"
                      f"{' (first)' if r == 0 else ''}"
                      f"{' (restarted)' if again else ''}"
                      f": {dt:.3f} s", flush=True)
    for label, _, _ in SORTS:
        w = got[(label, "wren")]
        res[f"{label}_stable"] = len(w) == 1
        res[f"{label}_same"] = dc is None or w == got[(label, "dovecot")]


def sort_summary(res, n, have_dc):
    for label, _, _ in SORTS:
        for temp in ("first", "warm"):
            sw = res[f"{label}_wren_{temp}"]
            line = (f"imap: {label} of {n} {temp}, imaplib: wren median "
                    f"{med(sw):.3f} s {rng_s(sw, '{:.3f}')}")
            if have_dc:
                sd = res[f"{label}_dovecot_{temp}"]
                line += (f"; Dovecot {med(sd):.3f} s "
                         f"{rng_s(sd, '{:.3f}')}; wren/Dovecot time = "
                         f"{med(sw) / med(sd):.2f}x")
            if temp == "warm":
                line += ("; wren's answers " + ("the same every run" if
                         res[label + "_stable"] else "DIFFER between runs"))
                if have_dc:
                    line += ("; equal to Dovecot's" if res[label + "_same"]
                             else "; DIFFER from Dovecot's")
            print(line)


class Counter:
    """A TCP proxy on a loopback high port to port: counts the octets
    each way, and keeps the client's first 64 KiB (its commands before
    COMPRESS, in clear)."""

    def __init__(self, port):
        self.port, self.to = free_port(), port
        self.up = self.down = 0
        self.head = b""
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(8)
        self.threads = []
        t = threading.Thread(target=self.accept, daemon=True)
        t.start()

    def accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.to), 60)
            for src, dst, up in ((c, s, True), (s, c, False)):
                t = threading.Thread(target=self.pump, args=(src, dst, up),
                                     daemon=True)
                t.start()
                self.threads.append(t)

    def pump(self, src, dst, up):
        try:
            while True:
                b = src.recv(1 << 16)
                if not b:
                    break
                if up:
                    self.up += len(b)
                    if len(self.head) < 65536:
                        self.head += b[:65536 - len(self.head)]
                else:
                    self.down += len(b)
                dst.sendall(b)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.lsock.close()
        for t in self.threads:
            t.join(60)


def dovecot_zlib(dc, on):
    """Dovecot's imap_zlib plugin (COMPRESS=DEFLATE) on or off; it
    restarts Dovecot. False when the plugin is not installed."""
    plug = "/usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so"
    if on and not os.path.exists(plug):
        return False
    conf = open(dc.conf).read()
    line = "  mail_plugins = $mail_plugins zlib imap_zlib\n"
    conf = conf.replace(line, "")
    if on:
        conf = conf.replace("protocol imap {\n", "protocol imap {\n" + line)
    with open(dc.conf, "w") as f:
        f.write(conf)
    dc.stop()
    dc.start()
    return True


def server_cpu(name, srv):
    """CPU seconds so far: wren's process; Dovecot's master's reaped
    children (the imap process of a session that ended, and logins)."""
    if name == "wren":
        f = open(f"/proc/{srv.pid}/stat").read().rsplit(")", 1)[1].split()
        ticks = int(f[11]) + int(f[12])
    else:
        f = open(f"/proc/{srv.master()}/stat").read().rsplit(")", 1)[1]
        f = f.split()
        ticks = int(f[13]) + int(f[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def compress_sync(base, wren, dc, res, n):
    """8. A full mbsync through a counting proxy, with and without
    COMPRESS=DEFLATE: octets each way, per server."""
    servers = [("wren", wren)]
    if not wren.alive():
        wren.start()
    if dc and dovecot_zlib(dc, True):
        servers.append(("dovecot", dc))
    elif dc:
        print("imap: Dovecot's imap_zlib plugin is missing: COMPRESS for "
              "wren only", flush=True)
    for name, srv in servers:
        for comp in (True, False):
            px = Counter(srv.imap if name == "wren" else srv.port)
            c0 = server_cpu(name, srv)
            _, got, gb, _ = mbsync(base, f"z-{name}", px.port, n,
                                   extra="" if comp else NO_COMPRESS)
            time.sleep(0.5)         # Dovecot's imap process reaped
            dt = server_cpu(name, srv) - c0
            px.close()
            used = b"COMPRESS DEFLATE" in px.head.upper()
            if used != comp:
                raise SystemExit(f"imap: mbsync from {name} "
                                 f"{'did not use' if comp else 'used'} "
                                 f"COMPRESS")
            key = f"z_{name}_{'on' if comp else 'off'}"
            res[key] = (px.down, px.up, gb, dt)
            print(f"imap: mbsync {name} COMPRESS {'on' if comp else 'off'}:"
                  f" {px.down} octets server->client, {px.up} "
                  f"client->server, {got} messages ({gb / 1e6:.1f} MB), "
                  f"server CPU {dt:.2f} s", flush=True)
    shutil.rmtree(f"{base}/near-z-wren", ignore_errors=True)
    shutil.rmtree(f"{base}/near-z-dovecot", ignore_errors=True)
    if len(servers) > 1:
        dovecot_zlib(dc, False)


def compress_summary(res, n, have_dc):
    for name in ("wren", "dovecot"):
        if f"z_{name}_on" not in res:
            continue
        on, off = res[f"z_{name}_on"], res[f"z_{name}_off"]
        print(f"imap: full mbsync of {n} messages ({off[2] / 1e6:.1f} MB of "
              f"mail), {name}: server->client {off[0] / 1e6:.1f} MB "
              f"plain, {on[0] / 1e6:.1f} MB with COMPRESS=DEFLATE "
              f"({100 * (1 - on[0] / off[0]):.0f} % saved); "
              f"client->server {off[1] / 1e3:.0f} KB plain, "
              f"{on[1] / 1e3:.0f} KB compressed "
              f"({100 * (1 - on[1] / off[1]):.0f} % saved); server CPU "
              f"{off[3]:.2f} s plain, {on[3]:.2f} s compressed")


def struct_summary(res, have_dc):
    for temp in ("cold", "warm"):
        fw = res.get(f"struct_wren_{temp}", [])
        line = (f"imap: UID FETCH 1:* (ENVELOPE BODYSTRUCTURE) {temp}, raw "
                f"socket: wren median {med(fw):.0f} msg/s "
                f"{rng_s(fw, '{:.0f}')}")
        if have_dc:
            fd = res[f"struct_dovecot_{temp}"]
            line += (f"; Dovecot {med(fd):.0f} msg/s {rng_s(fd, '{:.0f}')}"
                     f"; wren/Dovecot = {med(fw) / med(fd):.2f}x")
        print(line)
    if "struct_cache_bpm" in res:
        line = (f"imap: header cache on disk: wren {res['struct_cache_bpm']:.0f}"
                f" bytes per message (wren-cache: ENVELOPE and "
                f"BODYSTRUCTURE)")
        if "struct_dc_cache_bpm" in res:
            line += (f"; Dovecot {res['struct_dc_cache_bpm']:.0f} "
                     f"(dovecot.index.cache, all it chose to cache)")
        print(line)


# mbsync's setting that keeps it from asking for COMPRESS=DEFLATE.
NO_COMPRESS = "DisableExtensions COMPRESS=DEFLATE\n"
SORTS = (("SORT (DATE)", "SORT", "(DATE)"),
         ("SORT (SUBJECT)", "SORT", "(SUBJECT)"),
         ("THREAD REFERENCES", "THREAD", "REFERENCES"))


def imaplib_sort(port, cmd, arg):
    """One EXAMINE + SORT or THREAD of ALL: (seconds, answer)."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=300)
    m.login(SYNC, PASS)
    typ, d = m.select("INBOX", readonly=True)
    if typ != "OK":
        raise RuntimeError(f"EXAMINE: {d}")
    t0 = time.monotonic()
    typ, data = m._simple_command(cmd, arg, "UTF-8", "ALL")
    dt = time.monotonic() - t0
    if typ != "OK":
        raise RuntimeError(f"{cmd}: {data}")
    ans = m.untagged_responses.get(cmd, [b""])[-1]
    m.logout()
    return dt, ans


# --- the measurements -------------------------------------------------

def mbsync(base, name, port, count, fsync=False, extra=""):
    """A cold full pull of INBOX into a fresh empty local Maildir:
    (seconds, messages, bytes, local INBOX path)."""
    near = f"{base}/near-{name}"
    shutil.rmtree(near, ignore_errors=True)
    os.makedirs(near)
    rc = f"{base}/mbsyncrc-{name}"
    with open(rc, "w") as f:
        # mbsync fsyncs every message it stores by default: about 10 ms
        # each on this kind of disk, which would time the client's disk
        # instead of the server (--mbsync-fsync keeps it).
        f.write(f"""FSync {'yes' if fsync else 'no'}

IMAPAccount far
Host 127.0.0.1
Port {port}
User {SYNC}
Pass {PASS}
SSLType None
AuthMechs LOGIN
{extra}
IMAPStore far
Account far

MaildirStore near
Path {near}/
Inbox {near}/INBOX

Channel bench
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync Pull
Expunge None
SyncState *
""")
    t0 = time.monotonic()
    p = subprocess.run(["mbsync", "-q", "-c", rc, "bench"],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"imap: mbsync from {name} failed (exit "
                         f"{p.returncode}): {p.stderr[-2000:]}")
    inbox = f"{near}/INBOX"
    n = b = 0
    for sub in ("cur", "new"):
        for e in os.scandir(f"{inbox}/{sub}"):
            n += 1
            b += e.stat().st_size
    if n != count:
        raise SystemExit(f"imap: mbsync from {name} got {n} messages, "
                         f"expected {count}")
    return dt, n, b, inbox


TUID = re.compile(rb"^X-TUID: [^\n]*\n", re.M)     # mbsync adds it


def digest_maildir(md):
    """{sha1 of the message with LF line ends: Maildir flags}."""
    out = {}
    for sub in ("cur", "new"):
        for e in os.scandir(f"{md}/{sub}"):
            data = open(e.path, "rb").read().replace(b"\r\n", b"\n")
            data = TUID.sub(b"", data, count=1)
            fl = e.name.partition(":2,")[2]
            out[hashlib.sha1(data).hexdigest()] = "".join(
                sorted(c for c in fl if c in "DFRST"))
    return out


def idle_sessions(port, user, n):
    """n IMAPS sessions: LOGIN, SELECT INBOX, IDLE ("+ idling")."""
    ctx = tls_ctx()
    held = []
    t0 = time.monotonic()
    for _ in range(n):
        c = Raw(port, ctx)
        c.login(user)
        c.cmd("SELECT INBOX")
        _, line = c.cmd("IDLE", until=b"+")
        held.append(c)
    return held, time.monotonic() - t0


def end_idle(held):
    for c in held:
        try:
            c.s.sendall(b"DONE\r\n")
            c.f.readline()
        except OSError:
            pass
        c.close()


def store_wear(port, server_pid_of, dev, n, k):
    """n single-message UID STORE +FLAGS (\\Seen) on unseen messages,
    back to back (in 10 groups, sync after each), then k more each
    followed by sync (a change on its own, as when changes are further
    apart than ext4's 5 s journal commit). Returns per-change
    figures: /proc/PID/io deltas, device bytes (sectors written) and
    the device bytes of idle windows of the same shape."""
    c = Raw(port)
    c.login(SYNC)
    c.cmd("SELECT INBOX")
    lines, _ = c.cmd("UID FETCH 1:* (FLAGS)")
    unseen = []
    for line in lines:
        m = re.search(rb"UID (\d+)", line)
        f = re.search(rb"FLAGS \(([^)]*)\)", line)
        if m and f and b"\\Seen" not in f.group(1).split():
            unseen.append(int(m.group(1)))
    if len(unseen) < n + k:
        raise SystemExit(f"imap: only {len(unseen)} unseen messages for "
                         f"{n + k} STOREs")
    pid = server_pid_of()
    dw = (lambda: sectors_written(dev) * 512) if dev else (lambda: 0)

    def store(uid):
        lines, _ = c.cmd(f"UID STORE {uid} +FLAGS (\\Seen)")
        if not any(b"\\Seen" in x for x in lines):
            raise SystemExit(f"imap: UID STORE {uid} answered without "
                             f"FLAGS (\\Seen): {lines!r}")

    # The device figures count the whole machine, so every measured
    # window is followed by an idle one of the same length and shape
    # (interleaved: both see the same background writes).
    groups = 10
    dt = dev_b = idle_b = dev_1 = idle_1 = 0
    io0 = proc_io(pid)
    os.sync()
    for g in range(groups):
        d0 = dw()
        t0 = time.monotonic()
        for uid in unseen[g * n // groups:(g + 1) * n // groups]:
            store(uid)
        w = time.monotonic() - t0
        dt += w
        os.sync()
        d1 = dw()
        time.sleep(w)
        os.sync()
        d2 = dw()
        dev_b += d1 - d0
        idle_b += d2 - d1
    io1 = proc_io(pid)
    for uid in unseen[n:n + k]:
        d0 = dw()
        t0 = time.monotonic()
        store(uid)
        os.sync()
        d1 = dw()
        time.sleep(time.monotonic() - t0)
        os.sync()
        d2 = dw()
        dev_1 += d1 - d0
        idle_1 += d2 - d1
    c.close()
    return {"n": n, "k": k, "seconds": dt,
            "write_bytes": (io1["write_bytes"] - io0["write_bytes"]) / n,
            "wchar": (io1["wchar"] - io0["wchar"]) / n,
            "rchar": (io1["rchar"] - io0["rchar"]) / n,
            "dev": dev_b / n, "idle": idle_b / n,
            "dev1": dev_1 / k, "idle1": idle_1 / k}


def med(xs):
    return statistics.median(xs)


def rng_s(xs, f="{:.2f}"):
    return f"[{f.format(min(xs))}-{f.format(max(xs))}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--isolated", type=int, default=50,
                    help="flag changes each followed by sync")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-dovecot", action="store_true")
    ap.add_argument("--no-loop", action="store_true",
                    help="no loop-mounted ext4 for the mail")
    ap.add_argument("--mbsync-fsync", action="store_true",
                    help="let mbsync fsync each message (its default)")
    ap.add_argument("--fetch-only", action="store_true",
                    help="only the FETCH measurements (3 and 6)")
    ap.add_argument("--sort-only", action="store_true",
                    help="only SORT and THREAD (7)")
    ap.add_argument("--compress-only", action="store_true",
                    help="only COMPRESS=DEFLATE bytes (8)")
    a = ap.parse_args()
    t_start = time.monotonic()
    base = os.path.abspath(a.dir)
    if os.path.ismount(f"{base}/fs"):          # left by an earlier run
        subprocess.run(["umount", f"{base}/fs"], timeout=120)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    os.chmod(base, 0o755)       # Dovecot's processes pass through
    # Dovecot starts as root and serves the mail as uid 10500.
    have_dc = (not a.no_dovecot and os.geteuid() == 0 and
               shutil.which("dovecot") is not None and
               os.path.exists("/usr/lib/dovecot/imap"))
    if not have_dc:
        print("imap: no Dovecot comparison (not root, dovecot or "
              "dovecot-imapd missing, or --no-dovecot)", flush=True)
    if shutil.which("mbsync") is None:
        raise SystemExit("imap: mbsync (isync) is missing")

    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    f"{base}/key.pem", "-out", f"{base}/cert.pem", "-days",
                    "30", "-subj", "/CN=localhost"], check=True,
                   capture_output=True, timeout=60)
    with open(f"{base}/users", "w") as f:
        f.write(f"{SYNC}:{{PLAIN}}{PASS}\n{IDLER}:{{PLAIN}}{PASS}\n")
    subprocess.run([a.wren, "map", "-t", "users", f"{base}/users"],
                   check=True, capture_output=True, timeout=60)
    fs = None if a.no_loop else loop_fs(base)
    mail = fs or base
    if fs is None:
        print("imap: mail on the bench dir's own file system (no loop "
              "mount): device write figures include the whole machine",
              flush=True)
    try:
        run(a, base, mail, have_dc, t_start)
    finally:
        if fs:
            subprocess.run(["umount", fs], timeout=120)
            os.unlink(f"{base}/fs.img")


def run(a, base, mail, have_dc, t_start):
    wren = Wren(a.wren, base, f"{mail}/wren")
    dc = Dovecot(f"{base}/dovecot", f"{mail}/dovecot", [SYNC]) \
        if have_dc else None

    t0 = time.monotonic()
    targets = [(wren.maildir(SYNC), None)]
    if dc:
        targets.append((dc.maildir(SYNC), (MAIL_UID, MAIL_UID)))
    n, nbytes, multi = fill(targets, a.count, a.seed)
    fill([(wren.maildir(IDLER), None)], 20, a.seed + 1)
    source = digest_maildir(wren.maildir(SYNC))
    print(f"imap: corpus {n} messages, {nbytes / 1e6:.1f} MB, {multi} "
          f"multipart ({100 * multi / n:.0f} %), seed {a.seed}, written "
          f"{len(targets)}x in {time.monotonic() - t0:.1f} s", flush=True)
    if len(source) != n:
        print(f"imap: note: {n - len(source)} duplicate messages in the "
              f"corpus", flush=True)

    res = {}
    dev = disk_of(mail)
    if a.fetch_only or a.sort_only or a.compress_only:
        try:
            if a.fetch_only:
                fetch_structs(a, wren, dc, res, n)
            if a.sort_only:
                sort_thread(a, wren, dc, res, n)
            if a.compress_only:
                compress_sync(base, wren, dc, res, n)
        finally:
            try:
                wren.stop()
            finally:
                if dc:
                    dc.stop()
        if a.fetch_only:
            struct_summary(res, dc is not None)
        if a.sort_only:
            sort_summary(res, n, dc is not None)
        if a.compress_only:
            compress_summary(res, n, dc is not None)
        return
    try:
        # 5. Index memory: RSS around SELECT, each on a fresh server:
        # the 20-message INBOX gives what a SELECT costs whatever the
        # size, the big one that plus the index.
        idx = []
        for r in range(a.runs):
            if r == 0:
                ul = f"{wren.maildir(SYNC)}/dovecot-uidlist"
                if os.path.exists(ul):
                    os.unlink(ul)
            got = {}
            for user in (IDLER, SYNC):
                wren.restart()
                time.sleep(0.3)
                boot = mem(wren.pid)
                c = Raw(wren.imap)
                c.login(user)
                m0 = mem(wren.pid)
                t = time.monotonic()
                c.cmd("SELECT INBOX")
                sel = time.monotonic() - t
                m1 = mem(wren.pid)
                c.close()
                got[user] = {k: m1[k] - m0[k] for k in m0}
            idx.append(got)
            res.setdefault("select_s", []).append(sel)
            res.setdefault("boot", boot)
            d, d0 = got[SYNC], got[IDLER]
            print(f"imap: index run {r + 1}"
                  f"{' (no dovecot-uidlist yet)' if r == 0 else ''}: "
                  f"SELECT of {a.count} {sel:.3f} s; RSS growth VmRSS "
                  f"{d['VmRSS']} KiB (RssAnon {d['RssAnon']}, Pss "
                  f"{d['Pss']}) from {m0['VmRSS']} KiB; for the 20-message "
                  f"INBOX {d0['VmRSS']} KiB (RssAnon {d0['RssAnon']})",
                  flush=True)
        for k in ("VmRSS", "RssAnon", "Pss"):
            res[f"idx_{k}"] = [x[SYNC][k] * 1024 / a.count for x in idx]
            res[f"idx_marg_{k}"] = [(x[SYNC][k] - x[IDLER][k]) * 1024 /
                                    (a.count - 20) for x in idx]
            res[f"idx_fixed_{k}"] = [x[IDLER][k] for x in idx]

        # 2. 50 IMAPS sessions in IDLE, small and big INBOX.
        for label, user in (("20-msg", IDLER), (f"{a.count // 1000}k", SYNC)):
            wren.restart()
            time.sleep(0.3)
            m0 = mem(wren.pid)
            held, setup = idle_sessions(wren.imaps, user, a.sessions)
            time.sleep(2)
            m1 = mem(wren.pid)
            if not wren.alive():
                raise SystemExit("imap: wren died with IDLE sessions")
            end_idle(held)
            res[f"idle_{label}"] = (m0, m1, setup)
            print(f"imap: {a.sessions} IMAPS sessions in IDLE ({label} INBOX,"
                  f" set up in {setup:.2f} s): VmRSS {m0['VmRSS']} -> "
                  f"{m1['VmRSS']} KiB, Pss {m0['Pss']} -> {m1['Pss']} KiB "
                  f"(RssAnon {m0['RssAnon']} -> {m1['RssAnon']})",
                  flush=True)

        # 1. Cold full mbsync. mbsync (isync 1.4) asks for COMPRESS
        # when offered: wren offers it, this Dovecot does not (no
        # imap_zlib), so it is turned off here for both (8 measures it).
        ul = f"{wren.maildir(SYNC)}/dovecot-uidlist"
        wren.stop()
        if os.path.exists(ul):
            os.unlink(ul)
        res["mbsync_wren"], res["mbsync_dc"] = [], []
        if dc:
            dc.reset_index(SYNC)
        # Runs alternate between the servers: both see the same drift in
        # the machine's load.
        for r in range(a.runs):
            wren.start()
            dt, got, gb, inbox = mbsync(base, "wren", wren.imap, n,
                                         a.mbsync_fsync, NO_COMPRESS)
            res["mbsync_wren"].append(dt)
            print(f"imap: mbsync wren run {r + 1}"
                  f"{' (no dovecot-uidlist)' if r == 0 else ''}: {dt:.2f} "
                  f"s, {got} messages, {gb / 1e6:.1f} MB", flush=True)
            if r < a.runs - 1:
                wren.stop()
            else:
                chk = compare_digests(source, digest_maildir(inbox))
                print(f"imap: mbsync wren content check: {chk}", flush=True)
            if not dc:
                continue
            dc.start()
            dt, got, gb, inbox = mbsync(base, "dovecot", dc.port, n,
                                         a.mbsync_fsync, NO_COMPRESS)
            res["mbsync_dc"].append(dt)
            print(f"imap: mbsync dovecot run {r + 1}"
                  f"{' (no index files)' if r == 0 else ''}: {dt:.2f} s, "
                  f"{got} messages, {gb / 1e6:.1f} MB", flush=True)
            if r < a.runs - 1:
                dc.stop()
            else:
                chk = compare_digests(source, digest_maildir(inbox))
                print(f"imap: mbsync dovecot content check: {chk}",
                      flush=True)

        # 3. UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE).
        res["fetch_wren"], res["fetch_dc"] = [], []
        answers = {}
        for r in range(a.runs):
            for name, port, key in (("wren", wren.imap, "fetch_wren"),
                                    ("dovecot", dc.port if dc else None,
                                     "fetch_dc")):
                if port is None:
                    continue
                dt, data = imaplib_fetch(port)
                ans = fetch_answers(data)
                if len(ans) != n:
                    raise SystemExit(f"imap: UID FETCH 1:* from {name}: "
                                     f"{len(ans)} answers, expected {n}")
                res[key].append(n / dt)
                answers[name] = ans
                print(f"imap: UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE) "
                      f"{name} run {r + 1}: {dt:.3f} s, {n / dt:.0f} msg/s",
                      flush=True)
        res["fetch_cmp"] = compare_fetch(answers)
        if res["fetch_cmp"]:
            print(f"imap: FETCH wren vs dovecot: {res['fetch_cmp']}",
                  flush=True)

        # 6. UID FETCH 1:* (ENVELOPE BODYSTRUCTURE), cold and warm.
        fetch_structs(a, wren, dc, res, n)
        # 7. SORT and THREAD of the whole folder.
        sort_thread(a, wren, dc, res, n)
        # 8. COMPRESS=DEFLATE: bytes of a full mbsync.
        compress_sync(base, wren, dc, res, n)

        # 4. Disk writes per flag change.
        wren.restart()
        w = store_wear(wren.imap, lambda: wren.pid, dev, a.stores,
                       a.isolated)
        res["wear_wren"] = w
        print(f"imap: wren {w['n']} UID STORE +FLAGS (\\Seen) in "
              f"{w['seconds']:.2f} s ({w['n'] / w['seconds']:.0f}/s): per "
              f"change write_bytes {w['write_bytes']:.0f} B, wchar "
              f"{w['wchar']:.0f} B, rchar {w['rchar']:.0f} B; device "
              f"{dev} {w['dev']:.0f} B (idle window {w['idle']:.0f} B); "
              f"{w['k']} changes each followed by sync: device "
              f"{w['dev1']:.0f} B (idle syncs {w['idle1']:.0f} B)",
              flush=True)
        if not wren.alive():
            raise SystemExit("imap: wren died during STORE")
        stored = sum(1 for e in os.scandir(f"{wren.maildir(SYNC)}/cur")
                     if "S" in e.name.partition(":2,")[2])
        want = sum("S" in f for f in source.values()) + a.stores + \
            a.isolated
        if stored != want:
            print(f"imap: WRONG: {stored} files carry S after the STOREs, "
                  f"expected {want}", flush=True)
        if dc:
            def dc_imap():
                kids = [p for p in children(dc.master())
                        if comm(p) == "imap"]
                if len(kids) != 1:
                    raise SystemExit(f"imap: {len(kids)} dovecot imap "
                                     f"processes, expected 1")
                return kids[0]
            d = store_wear(dc.port, dc_imap, dev, a.stores, a.isolated)
            res["wear_dc"] = d
            print(f"imap: dovecot {d['n']} UID STORE +FLAGS (\\Seen) in "
                  f"{d['seconds']:.2f} s ({d['n'] / d['seconds']:.0f}/s): "
                  f"per change write_bytes {d['write_bytes']:.0f} B, wchar "
                  f"{d['wchar']:.0f} B, rchar {d['rchar']:.0f} B; device "
                  f"{dev} {d['dev']:.0f} B (idle window {d['idle']:.0f} B); "
                  f"{d['k']} changes each followed by sync: device "
                  f"{d['dev1']:.0f} B (idle syncs {d['idle1']:.0f} B)",
                  flush=True)
    finally:
        try:
            wren.stop()
        finally:
            if dc:
                dc.stop()
    for name in ("wren", "dovecot"):           # 2 x 150 MB
        shutil.rmtree(f"{base}/near-{name}", ignore_errors=True)
    summary(a, res, dc is not None, dev, time.monotonic() - t_start)


def compare_digests(source, pulled):
    missing = set(source) - set(pulled)
    extra = set(pulled) - set(source)
    flags = sum(1 for k in source if k in pulled and source[k] != pulled[k])
    if not missing and not extra and not flags:
        return f"all {len(source)} messages identical, flags identical"
    return (f"MISMATCH: {len(missing)} source messages missing or altered, "
            f"{len(extra)} unknown, {flags} with other flags")


def compare_fetch(answers):
    if len(answers) < 2:
        return ""
    by = {}
    for name, ans in answers.items():
        d = {}
        for x in ans:
            env = x.get("ENVELOPE") or []
            mid = env[9] if len(env) > 9 else None
            d[mid] = norm(x)
        by[name] = d
    w, dv = by["wren"], by["dovecot"]
    diff = {"FLAGS": [], "RFC822.SIZE": [], "ENVELOPE": []}
    for mid, x in w.items():
        y = dv.get(mid)
        if y is None:
            diff.setdefault("unmatched", []).append(mid)
            continue
        for k in ("FLAGS", "RFC822.SIZE", "ENVELOPE"):
            if x[k] != y[k]:
                diff[k].append((mid, x[k], y[k]))
    if not any(diff.values()):
        return f"all {len(w)} answers identical (FLAGS, RFC822.SIZE, ENVELOPE)"
    parts = []
    for k, v in diff.items():
        if v:
            parts.append(f"{len(v)} differ in {k}, e.g. {v[0]!r}"[:600])
    return "DIFFERENT: " + "; ".join(parts)


def summary(a, res, have_dc, dev, elapsed):
    n = a.count
    print("imap: ---- summary " + "-" * 50)
    mw = res["mbsync_wren"]
    line = (f"imap: cold full mbsync of {n} messages (plain IMAP, "
            f"loopback, mbsync FSync {'yes' if a.mbsync_fsync else 'no'}"
            f"): wren median {med(mw):.2f} s {rng_s(mw)}")
    if have_dc:
        md = res["mbsync_dc"]
        line += (f"; Dovecot {med(md):.2f} s {rng_s(md)}; wren/Dovecot "
                 f"time = {med(mw) / med(md):.2f}x")
    print(line)
    b = res["boot"]
    print(f"imap: idle server: VmRSS {b['VmRSS']} KiB, Pss {b['Pss']} KiB")
    for label in ("20-msg", f"{n // 1000}k"):
        m0, m1, _ = res[f"idle_{label}"]
        print(f"imap: {a.sessions} IMAPS sessions in IDLE ({label} INBOX): "
              f"VmRSS {m1['VmRSS']} KiB ({m1['VmRSS'] / 1024:.2f} MiB; "
              f"target < 4 MiB: {'met' if m1['VmRSS'] < 4096 else 'NOT met'}"
              f"), Pss {m1['Pss']} KiB; idle before {m0['VmRSS']} KiB, "
              f"{(m1['VmRSS'] - m0['VmRSS']) / a.sessions:.1f} KiB per "
              f"session")
    fw = res["fetch_wren"]
    line = (f"imap: UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE), imaplib: "
            f"wren median {med(fw):.0f} msg/s {rng_s(fw, '{:.0f}')}")
    if have_dc:
        fd = res["fetch_dc"]
        line += (f"; Dovecot {med(fd):.0f} msg/s {rng_s(fd, '{:.0f}')}; "
                 f"wren/Dovecot = {med(fw) / med(fd):.2f}x")
    print(line)
    struct_summary(res, have_dc)
    sort_summary(res, n, have_dc)
    compress_summary(res, n, have_dc)
    w = res["wear_wren"]

    def over(x, idle):
        return f"{max(0, x - idle):.0f}"
    line = (f"imap: per flag change, {w['n']} back to back (sync every "
            f"{w['n'] // 10}): wren "
            f"write_bytes {w['write_bytes']:.0f} B, device {dev} "
            f"{w['dev']:.0f} B ({over(w['dev'], w['idle'])} B over idle)")
    if have_dc:
        d = res["wear_dc"]
        line += (f"; Dovecot imap write_bytes {d['write_bytes']:.0f} B, "
                 f"device {d['dev']:.0f} B ({over(d['dev'], d['idle'])} B "
                 f"over idle)")
    print(line)
    line = (f"imap: per flag change, alone (sync after each of "
            f"{w['k']}): wren device {w['dev1']:.0f} B "
            f"({over(w['dev1'], w['idle1'])} B over idle syncs)")
    if have_dc:
        line += (f"; Dovecot {d['dev1']:.0f} B "
                 f"({over(d['dev1'], d['idle1'])} B over idle syncs)")
    print(line)
    print("imap:   (write_bytes counts the pages a process dirties: a "
          "rename's directory and inode blocks are charged to it only on "
          "an ext4 without journal; with one, jbd2 writes them. The device "
          "figure is sectors written after sync, journal included, " +
          ("of the mail's own loop-mounted ext4: exact)"
           if dev and dev.startswith("loop") else
           "of the whole machine's disk: noisy, an idle window of the same"
           " shape is subtracted)"))
    ir, im = res["idx_VmRSS"], res["idx_marg_VmRSS"]
    print(f"imap: index memory per message (RSS growth at SELECT of {n} / "
          f"{n}): VmRSS {med(ir):.1f} B {rng_s(ir, '{:.1f}')}, RssAnon "
          f"{med(res['idx_RssAnon']):.1f} B, Pss {med(res['idx_Pss']):.1f} "
          f"B; less the growth at SELECT of a 20-message INBOX "
          f"({med(res['idx_fixed_VmRSS']):.0f} KiB): {med(im):.1f} B "
          f"{rng_s(im, '{:.1f}')} per message (target <= 48 B; SELECT "
          f"{med(res['select_s']):.3f} s)")
    if abs(med(ir) - med(res["idx_RssAnon"])) < 1:
        print("imap:   (RSS could count touched page-cache pages too; here "
              "the growth is all RssAnon: anonymous memory)")
    else:
        print("imap:   (VmRSS counts touched page-cache pages too; RssAnon "
              "does not)")
    print(f"imap: bench took {elapsed:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
