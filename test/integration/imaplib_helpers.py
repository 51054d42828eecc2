# SPDX-License-Identifier: ISC
"""Shared pieces of the IMAP integration tests (test_imap.py,
test_imap_sync.py): a certificate, accounts, an IMAP-enabled wren, Maildir
population the way Dovecot names its files, a raw IMAP client for what
imaplib cannot express, a parser for IMAP response data, and IDLE on top
of Python 3.11's imaplib (which has no idle()).

Accounts (every server gets the same users file):
  alice@example.test  {PLAIN}, home from mail_home (<dir>/mail/%d/%n)
  bob@example.test    {SHA512-CRYPT} from `openssl passwd -6`
  carol@example.org   {PLAIN}, with an explicit home field

For checking the tests themselves, WREN_IMAP_REFERENCE=dovecot serves
IMAP with a private Dovecot instead of wren (same users, Maildirs, ports
and certificate; wren still runs for SMTP). Tests that need wren itself
(its log, PID, restart, limits) skip in that mode.
"""
import base64
import email.policy
import imaplib
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import SLOW, free_port, run_wren

HOST = "mail.example.test"
TIMEOUT = 10 * SLOW
OUTSIDE = "127.0.0.2"       # not loopback for tls_auth_only

ALICE, ALICE_PW = "alice@example.test", "Looking-Glass-4471"
BOB, BOB_PW = "bob@example.test", "Can-We-Fix-It-8812"
CAROL, CAROL_PW = "carol@example.org", "Christmas-Carol-3307"
WRONG_PW = "Guessed-0666-wrong"

REFERENCE = os.environ.get("WREN_IMAP_REFERENCE", "")


def need_wren(why="needs wren itself"):
    """Skips in the Dovecot reference mode."""
    if REFERENCE:
        pytest.skip(f"reference mode: {why}")


# --- certificate and users ---------------------------------------------


def make_pki(d, extra_san=""):
    """d/cert.pem, d/key.pem: self-signed EC P-256 for HOST and
    127.0.0.1 (plus extra_san, e.g. "DNS:127.0.0.1" for clients that
    check IP addresses as names); d/bob.hash: bob's {SHA512-CRYPT}
    hash."""
    d = Path(d)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out",
         "cert.pem", "-days", "30", "-subj", f"/CN={HOST}", "-addext",
         f"subjectAltName=DNS:{HOST},IP:127.0.0.1"
         + (f",{extra_san}" if extra_san else ""), "-set_serial",
         str(random.getrandbits(62))],
        cwd=d, check=True, capture_output=True, timeout=60)
    p = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                       input=BOB_PW + "\n", capture_output=True, text=True,
                       check=True, timeout=60)
    assert p.stdout.startswith("$6$"), p.stdout
    (d / "bob.hash").write_text(p.stdout.strip())
    for name in ("cert.pem", "key.pem", "bob.hash"):
        os.chmod(d / name, 0o644)
    return d


def client_ctx(pki):
    """Verifies the server's certificate (and 127.0.0.1 or HOST)."""
    return ssl.create_default_context(cafile=str(Path(pki) / "cert.pem"))


def users_text(pki, carol_home):
    bob_hash = (Path(pki) / "bob.hash").read_text()
    return (f"{ALICE}:{{PLAIN}}{ALICE_PW}\n"
            f"{BOB}:{{SHA512-CRYPT}}{bob_hash}\n"
            f"{CAROL}:{{PLAIN}}{CAROL_PW}::::{carol_home}\n")


# --- servers -------------------------------------------------------------


class IMAPServer:
    """A started wren with IMAP (self.imap), IMAPS (self.imaps) and SMTP
    (self.smtp) on free loopback ports. self.w is the conftest Wren."""

    def __init__(self, w, pki, mail_root, ports):
        self.w, self.pki, self.mail_root = w, Path(pki), Path(mail_root)
        self.imap, self.imaps, self.smtp = ports
        self.ref = None

    def home(self, user):
        if user == CAROL:
            return self.mail_root / "carol-home"
        local, domain = user.split("@")
        return self.mail_root / domain / local

    def maildir(self, user=ALICE, folder=""):
        """<home>/Maildir, or the Maildir++ folder <home>/Maildir/.folder;
        created (with cur, new, tmp) when missing."""
        d = self.home(user) / "Maildir"
        if folder:
            d = d / ("." + folder)
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        if self.ref:
            self.ref.give(self.mail_root)
        return d

    def put(self, data, user=ALICE, folder="", **kw):
        """put() into the user's Maildir (or folder); returns the path."""
        path = put(self.maildir(user, folder), data, **kw)
        if self.ref:
            self.ref.give(self.mail_root)
        return path

    def start(self):
        self.w.start()
        if REFERENCE:
            self.ref = ReferenceDovecot(self)
            self.ref.start()

    @property
    def pid(self):
        return self.w.pid

    def log(self):
        return self.w.log()

    def stop(self):
        if self.ref:
            self.ref.stop()
        return self.w.stop()

    def restart(self):
        need_wren("restart")
        assert self.w.stop() == 0
        mark = len(self.w.log())
        self.w.start(ready=None)
        self.w.wait_log("wren started", start=mark)


def imap_server(wren, pki, mail_root=None, start=True, **keys):
    """An IMAPServer with the users above (tables compiled). mail_root
    defaults to <wren dir>/mail; pass a world-traversable directory when
    Dovecot must read it."""
    ports = set()
    while len(ports) < 3:
        ports.add(free_port())
    imap, imaps, smtp = sorted(ports)
    conf = {"domains": "example.test example.org",
            "origin": "example.test",
            "mynetworks": "127.0.0.1/32",
            "smtp_listen": f"127.0.0.1:{smtp}",
            "imap_listen": f"127.0.0.1:{imap}",
            "imaps_listen": f"127.0.0.1:{imaps}",
            "auth_fail_delay": "0"}
    if REFERENCE:
        conf["imap_listen"] = conf["imaps_listen"] = ""
    conf.update(keys)
    w = wren(**conf)
    if mail_root is None:
        mail_root = w.dir / "mail"
        if REFERENCE:       # Dovecot's processes must reach it
            mail_root = Path(tempfile.mkdtemp(prefix="wren-imapref-",
                                              dir="/tmp"))
            os.chmod(mail_root, 0o755)
    mail_root = Path(mail_root)
    w.keys["mail_home"] = f"{mail_root}/%d/%n"
    for name in ("cert.pem", "key.pem"):
        shutil.copyfile(Path(pki) / name, w.dir / name)
    w.keys.update(tls_cert=str(w.dir / "cert.pem"),
                  tls_key=str(w.dir / "key.pem"))
    w.write_config()
    srv = IMAPServer(w, pki, mail_root, (imap, imaps, smtp))
    users = w.dir / "users"
    users.write_text(users_text(pki, srv.home(CAROL)))
    for kind in ("users", "aliases", "virtual", "senders"):
        if not (w.dir / kind).exists():
            (w.dir / kind).write_text("")
        p = run_wren("map", "-t", kind, str(w.dir / kind))
        assert p.returncode == 0, p.stdout + p.stderr
    for user in (ALICE, BOB, CAROL):
        srv.maildir(user)
    if start:
        srv.start()
    return srv


class ReferenceDovecot:
    """Dovecot serving srv's ports and Maildirs (WREN_IMAP_REFERENCE)."""

    def __init__(self, srv):
        self.srv = srv
        self.dir = Path(tempfile.mkdtemp(prefix="wren-dvref-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        for name in ("cert.pem", "key.pem"):
            shutil.copyfile(srv.pki / name, self.dir / name)
        users = self.dir / "users"
        users.write_text(users_text(srv.pki, srv.home(CAROL)))
        os.chmod(users, 0o644)
        nobody = "65534:65534"
        userdb = self.dir / "userdb"
        userdb.write_text("".join(
            f"{u}::{nobody}::{srv.home(u)}::\n" for u in (ALICE, BOB, CAROL)))
        os.chmod(userdb, 0o644)
        (self.dir / "state").mkdir()
        d = self.dir
        (d / "dovecot.conf").write_text(f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = wren-{d.name}
protocols = imap
listen = 127.0.0.1
log_path = {d}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
auth_mechanisms = plain
auth_failure_delay = 0
login_trusted_networks = 127.0.0.1/32
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {srv.imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {srv.imaps}
    ssl = yes
  }}
}}
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {userdb}
}}
""")

    def give(self, path):
        subprocess.run(["chown", "-R", "nobody:nogroup", str(path)],
                       check=True, timeout=30)

    def start(self):
        self.give(self.srv.mail_root)
        subprocess.run(["dovecot", "-c", str(self.dir / "dovecot.conf")],
                       check=True, timeout=30)
        deadline = time.monotonic() + 10
        while True:         # until the auth process answers a login
            try:
                m = imaplib.IMAP4("127.0.0.1", self.srv.imap, timeout=5)
                m.login(ALICE, ALICE_PW)
                m.logout()
                break
            except Exception:
                assert time.monotonic() < deadline, "dovecot did not start"
                time.sleep(0.1)

    def stop(self):
        try:
            pid = int((self.dir / "run" / "master.pid").read_text())
            os.kill(pid, 15)
            time.sleep(0.3)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.srv.mail_root.name.startswith("wren-imapref-"):
            shutil.rmtree(self.srv.mail_root, ignore_errors=True)


# --- Maildir population --------------------------------------------------


_seq = [0]


def crlf(data):
    """LF-stored message -> what IMAP serves."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def put(mdir, data, sub="cur", flags="", mtime=None, base=None, raw=False,
        sizes=True):
    """Stores data into Maildir mdir like Dovecot does:
    <base>,S=<size>,W=<crlf size>[:2,<flags>] (no ,S=,W= without sizes);
    line ends become LF unless raw; sets the mtime (the internal date)
    when given. Returns the path."""
    if not raw:
        data = data.replace(b"\r\n", b"\n")
    if base is None:
        # Increasing 10-digit times: name order is delivery order for
        # every reader (Dovecot sorts new files by the time in the name).
        _seq[0] += 1
        base = (f"{1700000000 + _seq[0]}.M{_seq[0]}P{os.getpid()}"
                f"Q{_seq[0]}.testhost")
    name = base if not sizes else \
        f"{base},S={len(data)},W={len(crlf(data))}"
    if sub == "cur":
        name += ":2," + "".join(sorted(flags))
    tmp = Path(mdir) / "tmp" / name
    tmp.write_bytes(data)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    path = Path(mdir) / sub / name
    os.rename(tmp, path)
    return path


def mail(subject, body="Hello.\n", sender="Sender <s@remote.example>",
         to="Alice <alice@example.test>", date=None, headers=(),
         rng=None):
    """A simple text/plain message (LF line ends) as bytes."""
    m = EmailMessage(policy=email.policy.default)
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date or "Mon, 01 Jan 2024 12:00:00 +0000"
    rng = rng or random.Random(subject)
    m["Message-ID"] = f"<{rng.getrandbits(64):016x}@remote.example>"
    for k, v in headers:
        m[k] = v
    m.set_content(body)
    return m.as_bytes(policy=email.policy.default.clone(linesep="\n"))


def random_message(rng, i, size=None):
    """Message i of a generated mailbox: varied headers and body."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
             "golf", "hotel", "india", "juliet", "kilo", "lima"]
    n = size if size is not None else rng.randint(1, 60)
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
             for _ in range(n)]
    return mail(f"message {i} {rng.choice(words)}", "\n".join(lines) + "\n",
                sender=f"Sender {i} <s{i}@remote.example>",
                date=f"Tue, {1 + i % 28:02d} Oct 2024 "
                     f"{i % 24:02d}:{i % 60:02d}:00 +0200",
                rng=rng)


# --- IMAP response data --------------------------------------------------


class Lit(bytes):
    """A string that came as a literal (parse() returns plain bytes for
    quoted strings and Lit for literals; both compare as bytes)."""


def parse(data):
    """Parses IMAP response data (bytes, literals inline as
    {n}CRLF<n octets>) into Python values: atoms -> str, quoted and
    literal strings -> bytes, NIL -> None, lists -> list. An atom like
    BODY[HEADER.FIELDS (A B)]<0> stays one atom."""
    pos = 0
    n = len(data)

    def value():
        nonlocal pos
        c = data[pos:pos + 1]
        if c == b"(":
            pos += 1
            out = []
            while True:
                while data[pos:pos + 1] == b" ":
                    pos += 1
                if data[pos:pos + 1] == b")":
                    pos += 1
                    return out
                if pos >= n:
                    raise ValueError(f"unbalanced: {data!r}")
                out.append(value())
        if c == b'"':
            pos += 1
            out = bytearray()
            while data[pos:pos + 1] != b'"':
                if pos >= n:
                    raise ValueError(f"unterminated string: {data!r}")
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                out += data[pos:pos + 1]
                pos += 1
            pos += 1
            return bytes(out)
        if c == b"{":
            end = data.index(b"}", pos)
            size = int(data[pos + 1:end].rstrip(b"+"))
            assert data[end + 1:end + 3] == b"\r\n", data[pos:end + 3]
            start = end + 3
            pos = start + size
            return Lit(data[start:pos])
        start = pos
        depth = 0
        while pos < n:
            ch = data[pos:pos + 1]
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
            elif depth == 0 and ch in b" ()":
                break
            pos += 1
        atom = data[start:pos].decode()
        if atom == "":
            raise ValueError(f"bad data at {pos}: {data!r}")
        return None if atom.upper() == "NIL" else atom

    out = []
    while pos < n:
        if data[pos:pos + 1] == b" ":
            pos += 1
            continue
        out.append(value())
    return out


def fetch_items(lst):
    """(k1 v1 k2 v2 ...) -> {K1: v1, ...}; keys upper-cased."""
    assert len(lst) % 2 == 0, lst
    return {lst[i].upper(): lst[i + 1] for i in range(0, len(lst), 2)}


def joined(data):
    """imaplib's response list ([(head, literal), tail, ...]) -> the
    list of whole response lines with literals inline."""
    lines = []
    cur = b""
    for item in data:
        if isinstance(item, tuple):
            head, lit = item
            cur += head + b"\r\n" + lit
        elif item is None:
            continue
        else:
            cur += item
            lines.append(cur)
            cur = b""
    if cur:
        lines.append(cur)
    return lines


def fetch_map(lines):
    """Untagged FETCH lines ("n FETCH (...)", bytes, '* ' optional) ->
    {n: {ITEM: value}}, several lines for one n merged."""
    out = {}
    for line in lines:
        if line.startswith(b"* "):
            line = line[2:]
        v = parse(line)
        if len(v) == 3 and isinstance(v[1], str) and v[1].upper() == "FETCH":
            out.setdefault(int(v[0]), {}).update(fetch_items(v[2]))
        elif len(v) == 2 and isinstance(v[1], list):    # imaplib's form
            out.setdefault(int(v[0]), {}).update(fetch_items(v[1]))
    return out


def fetch(M, msgset, items, uid=False):
    """imaplib FETCH (or UID FETCH), checked OK, parsed with fetch_map.
    Unsolicited FETCH responses imaplib kept are included."""
    if uid:
        typ, data = M.uid("FETCH", msgset, items)
    else:
        typ, data = M.fetch(msgset, items)
    assert typ == "OK", (typ, data)
    return fetch_map(joined(data))


def search(M, *criteria, uid=False, charset=None):
    if uid:
        typ, data = M.uid("SEARCH", *((("CHARSET", charset) if charset
                                       else ()) + criteria))
    else:
        typ, data = M.search(charset, *criteria)
    assert typ == "OK", (typ, data, criteria)
    return [int(x) for x in b" ".join(d for d in data if d).split()]


def untagged(M, name):
    """Pops imaplib's collected untagged responses of this name."""
    typ, data = M.response(name)
    return [d for d in data if d is not None]


def flags_of(fetched):
    return set(fetched["FLAGS"])


def files_in(mdir, sub="cur"):
    return sorted((Path(mdir) / sub).iterdir())


def with_flags(path, letters):
    """Renames a cur/ file to carry these flag letters (as another
    Maildir client would); returns the new path."""
    path = Path(path)
    new = path.with_name(path.name.split(":2,")[0] + ":2," +
                         "".join(sorted(letters)))
    os.rename(path, new)
    return new


def flag_letters(path):
    name = Path(path).name
    assert ":2," in name, name
    return name.split(":2,", 1)[1]


def keywords_file(mdir):
    """dovecot-keywords as {index: name}."""
    p = Path(mdir) / "dovecot-keywords"
    out = {}
    if p.exists():
        for line in p.read_text().splitlines():
            if line.strip():
                k, v = line.split(" ", 1)
                out[int(k)] = v
    return out


def read_uidlist(mdir):
    """dovecot-uidlist v3: (header dict, {uid: base name})."""
    lines = (Path(mdir) / "dovecot-uidlist").read_text().splitlines()
    head = lines[0].split()
    assert head[0] == "3", lines[0]
    hdr = {}
    for field in head[1:]:
        hdr[field[0]] = field[1:]
    uids = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        m = re.match(r"(\d+)((?: [A-Z][^ ]*)*) :(.+)$", line)
        assert m, line
        uids[int(m.group(1))] = m.group(3)
    return hdr, uids


# --- imaplib connections ---------------------------------------------------


class IMAP4From(imaplib.IMAP4):
    """imaplib.IMAP4 from a chosen source address."""

    def __init__(self, host, port, timeout, source=None):
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection(
            (self.host, self.port), timeout,
            source_address=(self._source, 0) if self._source else None)


def connect(srv, tls=None, source=None):
    """imaplib on srv: tls None (cleartext), "starttls" or "implicit"."""
    if tls == "implicit":
        return imaplib.IMAP4_SSL("127.0.0.1", srv.imaps,
                                 ssl_context=client_ctx(srv.pki),
                                 timeout=TIMEOUT)
    M = IMAP4From("127.0.0.1", srv.imap, TIMEOUT, source)
    if tls == "starttls":
        typ, data = M.starttls(ssl_context=client_ctx(srv.pki))
        assert typ == "OK", data
    return M


def login(srv, user=ALICE, pw=None, tls=None, select=None, readonly=False):
    pw = pw or {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}[user]
    M = connect(srv, tls)
    typ, data = M.login(user, pw)
    assert typ == "OK", data
    if select:
        typ, data = M.select(select, readonly=readonly)
        assert typ == "OK", data
    return M


def status(M, *args):
    """Runs a command with imaplib; its status (OK, NO or BAD: imaplib
    raises on BAD) and data."""
    try:
        return M._simple_command(*args)
    except M.error as e:
        msg = str(e)
        assert " BAD " in msg or "command error: BAD" in msg, msg
        return "BAD", [msg.encode()]


def caps(M):
    typ, data = M.capability()
    assert typ == "OK", data
    return set(data[0].decode().upper().split())


def idle_start(M):
    """Sends IDLE and waits for the continuation; returns the tag."""
    tag = M._new_tag()
    M.send(tag + b" IDLE\r\n")
    line = idle_line(M, TIMEOUT)
    assert line.startswith(b"+"), line
    return tag


def idle_line(M, timeout):
    M.sock.settimeout(timeout)
    try:
        return M.readline().rstrip(b"\r\n")
    except (socket.timeout, TimeoutError):
        raise AssertionError(f"nothing from the server in {timeout} s")
    finally:
        M.sock.settimeout(TIMEOUT)


def idle_wait(M, pattern, timeout):
    """Reads untagged lines during IDLE until one matches the regex
    (bytes); returns (line, seconds waited, lines seen). Literals are not
    expected during IDLE here."""
    t0 = time.monotonic()
    seen = []
    while True:
        left = timeout - (time.monotonic() - t0)
        assert left > 0, (pattern, seen)
        line = idle_line(M, left)
        seen.append(line)
        if re.search(pattern, line):
            return line, time.monotonic() - t0, seen


def idle_done(M, tag):
    """DONE; returns the untagged lines before the tagged OK."""
    M.send(b"DONE\r\n")
    seen = []
    while True:
        line = idle_line(M, TIMEOUT)
        if line.startswith(tag + b" "):
            assert line.startswith(tag + b" OK"), line
            return seen
        seen.append(line)


# --- a raw IMAP connection ---------------------------------------------------


class Raw:
    """A raw IMAP session: exact bytes out, whole responses in."""

    def __init__(self, srv, tls=None, source=None, greet=True, port=None):
        self.srv = srv
        port = port or (srv.imaps if tls == "implicit" else srv.imap)
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=TIMEOUT,
            source_address=(source, 0) if source else None)
        if tls == "implicit":
            self.sock = client_ctx(srv.pki).wrap_socket(
                self.sock, server_hostname="127.0.0.1")
        self.buf = b""
        self.n = 0
        self.greeting = self.line() if greet else None
        if greet:
            assert self.greeting.startswith(b"* OK"), self.greeting

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed; pending {self.buf!r}")
        self.buf += chunk

    def line(self):
        """One protocol line without CRLF."""
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        """One whole response: a line with its literals inline."""
        out = [self.line()]
        while True:
            m = re.search(rb"\{(\d+)\}$", out[-1])
            if not m:
                return b"".join(out)
            size = int(m.group(1))
            out.append(b"\r\n")
            out.append(self.literal(size))
            out.append(self.line())

    def literal(self, size):
        """size octets (big ones without quadratic copying)."""
        if len(self.buf) >= size:
            data, self.buf = self.buf[:size], self.buf[size:]
            return data
        got = bytearray(self.buf)
        self.buf = b""
        while len(got) < size:
            chunk = self.sock.recv(min(1 << 20, size - len(got)))
            if not chunk:
                raise EOFError(f"closed inside a literal of {size}")
            got += chunk
        return bytes(got)

    def tag(self):
        self.n += 1
        return f"r{self.n}"

    def cmd(self, text, expect="OK"):
        """Sends `TAG text`, reads to the tagged reply; returns
        (untagged responses, tagged line). expect: OK/NO/BAD or None."""
        tag = self.tag()
        self.send(f"{tag} {text}\r\n" if isinstance(text, str)
                  else tag.encode() + b" " + text + b"\r\n")
        return self.until(tag, expect)

    def until(self, tag, expect="OK"):
        got = []
        t = tag.encode() if isinstance(tag, str) else tag
        while True:
            r = self.response()
            if r.startswith(t + b" "):
                if expect:
                    assert r.split(b" ")[1].upper() == expect.encode(), \
                        (r, got)
                return got, r
            got.append(r)

    def login(self, user=ALICE, pw=None):
        pw = pw or {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}[user]
        return self.cmd(f'LOGIN "{user}" "{pw}"')

    def starttls(self):
        self.cmd("STARTTLS")
        assert self.buf == b""
        self.sock = client_ctx(self.srv.pki).wrap_socket(
            self.sock, server_hostname="127.0.0.1")

    def closed(self, timeout=None):
        """True when the server closes (after what was buffered)."""
        if timeout:
            self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, BrokenPipeError):
            return True
        except (socket.timeout, TimeoutError):
            return False
        finally:
            self.sock.settimeout(TIMEOUT)

    def close(self):
        self.sock.close()


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def sasl_plain(user, pw, authz=""):
    return b64(f"{authz}\0{user}\0{pw}")


# --- POP3 (test_pop3.py) ---------------------------------------------------


def pop3_server(wren, pki, mail_root=None, start=True, **keys):
    """imap_server() with POP3 (srv.pop3, STLS) and POP3S (srv.pop3s) on
    free loopback ports as well."""
    srv = imap_server(wren, pki, mail_root=mail_root, start=False, **keys)
    taken = {srv.imap, srv.imaps, srv.smtp}
    ports = []
    while len(ports) < 2:
        p = free_port()
        if p not in taken and p not in ports:
            ports.append(p)
    srv.pop3, srv.pop3s = ports
    if not keys.get("pop3_listen"):
        srv.w.keys["pop3_listen"] = f"127.0.0.1:{srv.pop3}"
    if not keys.get("pop3s_listen"):
        srv.w.keys["pop3s_listen"] = f"127.0.0.1:{srv.pop3s}"
    srv.w.write_config()
    if start:
        srv.start()
    return srv


class RawPOP3:
    """A raw POP3 session: exact bytes out, lines and multi-line
    responses in."""

    def __init__(self, srv, tls=None, source=None, greet=True, port=None):
        self.srv = srv
        port = port or (srv.pop3s if tls == "implicit" else srv.pop3)
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=TIMEOUT,
            source_address=(source, 0) if source else None)
        if tls == "implicit":
            self.sock = client_ctx(srv.pki).wrap_socket(
                self.sock, server_hostname="127.0.0.1")
        self.buf = b""
        self.greeting = self.line() if greet else None
        if greet:
            assert self.greeting.startswith(b"+OK"), self.greeting

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        """One line without CRLF."""
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, text, expect=None):
        """Sends a command line, returns the status line; expect: its
        exact text, or a prefix ending in a space or ']'."""
        self.send(text + "\r\n" if isinstance(text, str) else
                  text + b"\r\n")
        got = self.line()
        if expect is not None:
            e = expect.encode() if isinstance(expect, str) else expect
            assert got == e or (e[-1:] in b" ]" and got.startswith(e)), \
                (text, got)
        return got

    def multi(self):
        """The data lines of a multi-line response, as sent (still
        dot-stuffed), up to the "." line."""
        out = []
        while True:
            line = self.line()
            if line == b".":
                return out
            out.append(line)

    def body(self):
        """The data of a multi-line response as raw wire bytes up to and
        including the final ".\\r\\n" (big ones without quadratic
        scanning)."""
        got = bytearray(self.buf)
        self.buf = b""
        start = 0
        while True:
            if got[:3] == b".\r\n":
                self.buf = bytes(got[3:])
                return b".\r\n"
            i = got.find(b"\r\n.\r\n", max(start - 4, 0))
            if i >= 0:
                self.buf = bytes(got[i + 5:])
                return bytes(got[:i + 5])
            start = len(got)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError(f"closed in a response of {len(got)}")
            got += chunk

    def login(self, user=ALICE, pw=None):
        pw = pw or {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}[user]
        self.cmd(f"USER {user}", "+OK")
        return self.cmd(f"PASS {pw}", "+OK ")

    def starttls(self):
        self.cmd("STLS", "+OK ")
        assert self.buf == b""
        self.sock = client_ctx(self.srv.pki).wrap_socket(
            self.sock, server_hostname="127.0.0.1")

    def closed(self, timeout=None):
        """True when the server closes (after what was buffered)."""
        if timeout:
            self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, BrokenPipeError):
            return True
        except (socket.timeout, TimeoutError):
            return False
        finally:
            self.sock.settimeout(TIMEOUT)

    def close(self):
        self.sock.close()


def pop3_unstuff(wire):
    """A multi-line response body (CRLF lines, dot-stuffed, ending in
    ".\\r\\n") -> the message bytes it carries."""
    assert wire.endswith(b".\r\n"), wire[-20:]
    wire = wire[:-3]
    lines = wire.split(b"\r\n")
    assert lines[-1] == b"", wire[-20:]
    out = []
    for line in lines[:-1]:
        if line.startswith(b"."):
            assert line.startswith(b".."), line
            line = line[1:]
        out.append(line)
    return b"".join(x + b"\r\n" for x in out)
