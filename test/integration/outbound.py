# SPDX-License-Identifier: ISC
"""Fixtures for outbound delivery tests: a fake DNS, fake remote MX
hosts, a relayhost, Postfix's smtp-sink, and helpers.

    FakeDNS(zone)        python3-dnslib on 127.0.0.1:PORT, UDP and TCP,
                         answering from a dict (see FakeDNS); every
                         query is recorded in .queries
    FakeMX(ip, port, name, cert)
                         aiosmtpd with STARTTLS on ip:port, recording
                         every transaction (.delivered, .mails, .rcpts,
                         .refused) with scriptable replies per
                         connection, MAIL, recipient and DATA
    relay(...)           a FakeMX that requires STARTTLS and AUTH
    SmtpSink(ip, port, dir)
                         /usr/sbin/smtp-sink dumping every transaction
    Pki(dir)             a test CA made with openssl; .leaf(name)
    wait_for, maildir, parse_bounce, log_lines, submit
                         the helpers

Pytest fixtures: `pki` (session), `dns`, `mx_port`, `mx` (factory),
`smtp_sink` (factory), `outbound` (factory of a wren pointed at all of
it). Every server binds 127.0.0.x high ports, is bounded in time and is
stopped at teardown (smtp-sink by PID).

Reply scripts (FakeMX.connect_replies, .mail_replies, .rcpt_replies,
.data_replies) take, per key, either one reply string (always), or a
list consumed one per attempt whose last element repeats; None means
the normal reply. rcpt_replies is keyed by the lower-case address, or
by "*" for every recipient.
"""
import asyncio
import email
import email.policy
import logging
import os
import random
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import SLOW, free_port, run_wren

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSHeader, \
    DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

logging.getLogger("mail.log").setLevel(logging.CRITICAL)

HOST = "mail.example.test"      # wren's hostname (its EHLO name)
LOCAL = "example.test"
ALICE, ALICE_PW = "alice@example.test", "Outbound-4417-alice"
RELAY_USER, RELAY_PW = "relayuser", "Relay-8812-secret"
TIMEOUT = 10 * SLOW


# --- waiting and reading ----------------------------------------------


def wait_for(cond, timeout=10, what="condition", interval=0.05):
    """Polls cond() until it returns something true, which is returned;
    fails after timeout seconds (scaled under QEMU)."""
    end = time.monotonic() + timeout * SLOW
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting "
                                 f"for {what}")
        time.sleep(interval)


def maildir(path):
    """Messages of a Maildir (new/ and cur/), oldest first, as
    (Path, bytes); an absent Maildir is empty."""
    path = Path(path)
    out = []
    for sub in ("new", "cur"):
        d = path / sub
        if d.is_dir():
            out.extend(p for p in d.iterdir() if p.is_file())
    out.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [(p, p.read_bytes()) for p in out]


@dataclass
class Bounce:
    """An RFC 3464 report, parsed with the email module."""
    msg: email.message.EmailMessage
    text: str                   # the human-readable first part
    per_message: dict           # Reporting-MTA, Arrival-Date, ...
    recipients: list            # one dict per recipient block
    original: object            # message/rfc822 or text/rfc822-headers


def parse_bounce(data):
    """Parses a delivery status notification; fails unless it is a
    multipart/report; report-type=delivery-status whose second part is
    message/delivery-status. Field names are lower-case keys."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report", \
        msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status", \
        msg.get_param("report-type")
    parts = msg.get_payload()
    assert len(parts) >= 2, len(parts)
    assert parts[1].get_content_type() == "message/delivery-status", \
        parts[1].get_content_type()
    # The email package gives message/delivery-status as a list of
    # header blocks: the per-message one, then one per recipient.
    blocks = parts[1].get_payload()
    fields = [{k.lower(): str(v).strip() for k, v in b.items()}
              for b in blocks]
    assert len(fields) >= 2, fields
    return Bounce(msg=msg, text=parts[0].get_content(),
                  per_message=fields[0], recipients=fields[1:],
                  original=parts[2] if len(parts) > 2 else None)


def log_lines(w, *needles, start=0):
    """Lines of wren's log (after offset start) containing every
    needle."""
    return [ln for ln in w.log()[start:].splitlines()
            if all(n in ln for n in needles)]


# --- a test CA --------------------------------------------------------


class Pki:
    """A CA made with openssl (EC P-256) and leaf certificates signed by
    it: leaf(name) -> (cert.pem, key.pem) paths, made once per name."""

    def __init__(self, dir, cn="Wren Test CA"):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        self._ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                   str(self.ca_key), "-out", str(self.ca), "-days", "30",
                   "-subj", f"/CN={cn}", "-set_serial", self._serial(),
                   "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    @staticmethod
    def _serial():
        return str(random.getrandbits(62))

    def _ossl(self, *args):
        subprocess.run(["openssl", *args], cwd=self.dir, check=True,
                       capture_output=True, timeout=60)

    def leaf(self, name):
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        if cert.exists():
            return cert, key
        csr, ext = self.dir / f"{name}.csr", self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName=DNS:{name}\n"
                       "basicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n")
        self._ossl("req", "-new", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                   "-out", str(csr), "-subj", f"/CN={name}")
        self._ossl("x509", "-req", "-in", str(csr), "-CA", str(self.ca),
                   "-CAkey", str(self.ca_key), "-set_serial",
                   self._serial(), "-days", "30", "-extfile", str(ext),
                   "-out", str(cert))
        return cert, key

    def server_context(self, name):
        import ssl
        cert, key = self.leaf(name)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def client_context(self):
        import ssl
        return ssl.create_default_context(cafile=str(self.ca))


# --- fake DNS ---------------------------------------------------------


class _Resolver(BaseResolver):
    def __init__(self, dns):
        self.dns = dns

    def resolve(self, request, handler):
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        qtype = QTYPE.get(q.qtype)
        self.dns.queries.append((name, qtype, handler.protocol))
        reply = request.reply()
        reply.header.ra = 1
        entry = self.dns.zone.get(name)
        if entry == "TIMEOUT":
            return None
        if entry == "SERVFAIL":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if entry is None or entry == "NXDOMAIN":
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        handler.force_tc = bool(entry.get("tc"))
        # CNAME chains inside the zone, bounded like a real server's.
        for _ in range(8):
            cname = entry.get("CNAME")
            if cname is None or qtype == "CNAME":
                break
            reply.add_answer(RR(name, QTYPE.CNAME, ttl=self.dns.ttl,
                                rdata=CNAME(cname)))
            name = cname.rstrip(".").lower()
            entry = self.dns.zone.get(name)
            if not isinstance(entry, dict):
                return reply
        for value in entry.get(qtype, ()):
            reply.add_answer(RR(name, getattr(QTYPE, qtype),
                                ttl=self.dns.ttl,
                                rdata=self._rdata(qtype, value)))
        return reply

    @staticmethod
    def _rdata(qtype, value):
        if qtype == "MX":
            pref, host = value
            return MX(host, pref)
        if qtype == "A":
            return A(value)
        if qtype == "AAAA":
            return AAAA(value)
        if qtype == "TXT":
            return TXT(value)
        if qtype == "CNAME":
            return CNAME(value)
        raise ValueError(f"no rdata for {qtype}")


class _Handler(DNSHandler):
    """UDP answers over 512 bytes (or the EDNS size asked for) and those
    of names marked "tc" come back truncated, with the question kept (as
    real servers do), so the resolver must ask again over TCP. A
    resolver answer of None is a dropped query (a timeout)."""

    force_tc = False

    def get_reply(self, data):
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        if reply is None:
            raise _Drop()
        rdata = reply.pack()
        if self.protocol != "udp":
            return rdata
        limit = 512
        for rr in request.ar:
            if rr.rtype == QTYPE.OPT:
                limit = max(512, min(rr.rclass, 4096))
        if self.force_tc or len(rdata) > limit:
            t = DNSRecord(DNSHeader(id=request.header.id, qr=1, aa=1,
                                    ra=1, tc=1), q=request.q)
            rdata = t.pack()
        return rdata

    def handle(self):
        try:
            super().handle()
        except _Drop:
            pass


class _Drop(Exception):
    pass


class _QuietLogger(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-error,-recv,"
                             "-send,-data")


class FakeDNS:
    """A DNS server on 127.0.0.1:port (UDP and TCP) answering from
    `zone`, a dict (changeable while running) from lower-case names to:

      {"MX": [(10, "mx1.remote.test"), ...], "A": ["127.0.0.2"],
       "AAAA": ["::1"], "TXT": ["v=spf1 -all"], "CNAME": "other.test",
       "tc": True}      (tc: every UDP answer truncated: TCP needed)
      "NXDOMAIN", "SERVFAIL", or "TIMEOUT" (no answer at all)

    A name that is absent is NXDOMAIN; a present name without records
    of the asked type is an empty NOERROR answer (NODATA). A null MX
    (RFC 7505) is {"MX": [(0, ".")]}. huge_mx(n) makes an MX set too
    big for UDP. .queries records (name, type, "udp"|"tcp")."""

    def __init__(self, zone=None, ttl=5):
        self.zone = zone if zone is not None else {}
        self.ttl = ttl
        self.queries = []
        self.port = None
        self._servers = []

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        resolver = _Resolver(self)
        for _ in range(20):
            port = free_port()
            try:
                servers = [DNSServer(resolver, address="127.0.0.1",
                                     port=port, tcp=tcp,
                                     handler=_Handler,
                                     logger=_QuietLogger())
                           for tcp in (False, True)]
            except OSError:
                continue
            break
        else:
            raise RuntimeError("no free port for the DNS server")
        self.port = port
        self._servers = servers
        for s in servers:
            s.start_thread()
        return self

    def stop(self):
        for s in self._servers:
            s.stop()
            s.server.server_close()
        self._servers = []

    def query(self, name, qtype="A", tcp=False):
        """Asks this server directly (for self-tests)."""
        q = DNSRecord.question(name, qtype)
        return DNSRecord.parse(q.send("127.0.0.1", self.port, tcp=tcp,
                                      timeout=5))

    @staticmethod
    def huge_mx(n=40, host="mx%d.remote.test"):
        return [(10 + i, host % i) for i in range(n)]


# --- fake remote MX (aiosmtpd) ----------------------------------------


@dataclass
class Delivery:
    """One transaction a fake MX accepted (its final 250 was sent)."""
    sender: str
    rcpts: list
    data: bytes
    tls: bool
    tls_version: str = None
    cipher: str = None
    ehlo: str = None
    auth: str = None            # the login, when authenticated
    peer: tuple = None
    mail_options: list = field(default_factory=list)
    rcpt_options: list = field(default_factory=list)
    at: float = 0.0

    @property
    def message(self):
        return email.message_from_bytes(self.data,
                                        policy=email.policy.default)

    def header(self, name):
        return self.message.get(name)


def _tls_info(session):
    info = session.ssl
    if not info:
        return False, None, None
    obj = info.get("ssl_object")
    cipher = info.get("cipher")
    return (True, obj.version() if obj else None,
            cipher[0] if cipher else None)


class _MXHandler:
    def __init__(self, mx):
        self.mx = mx

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        tls, _, _ = _tls_info(session)
        self.mx.mails.append((address, tls, bool(session.authenticated)))
        reply = self.mx._script("mail", "*")
        if reply and not reply.startswith("2"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return reply or "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        key = address.lower()
        reply = self.mx._script("rcpt", key) or \
            self.mx._script("rcpt", "*") or "250 2.1.5 Ok"
        self.mx.rcpts.append((address, reply))
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        mx = self.mx
        mx.in_data += 1
        mx.data_started.set()
        try:
            if mx.data_delay:
                await asyncio.sleep(mx.data_delay)
            reply = mx._script("data", "*") or \
                "250 2.0.0 Ok: queued as %08X" % random.getrandbits(32)
            tls, version, cipher = _tls_info(session)
            d = Delivery(
                sender=envelope.mail_from, rcpts=list(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                tls=tls, tls_version=version, cipher=cipher,
                ehlo=session.host_name,
                auth=(bytes(session.login_data).decode()
                      if session.authenticated and session.login_data
                      else None),
                peer=session.peer,
                mail_options=list(envelope.mail_options),
                rcpt_options=list(envelope.rcpt_options),
                at=time.monotonic())
            # Recorded just before the reply is sent: a kill of the
            # client during the delay leaves nothing here.
            (mx.delivered if reply.startswith("2") else
             mx.refused).append(d)
            return reply
        finally:
            mx.in_data -= 1


class _ScriptedSMTP(SMTP):
    def __init__(self, mx, *args, **kw):
        self._mx = mx
        super().__init__(*args, **kw)

    async def _handle_client(self):
        mx = self._mx
        if mx._ready:
            mx.connections += 1
            reply = mx._script("connect", "*")
            if reply:
                await self.push(reply)
                self.transport.close()
                return
        await super()._handle_client()


class _Controller(Controller):
    def __init__(self, mx, *args, **kw):
        self._mx = mx
        super().__init__(*args, **kw)

    def factory(self):
        return _ScriptedSMTP(self._mx, self.handler, **self.SMTP_kwargs)


class FakeMX:
    """A remote SMTP server on ip:port named `name`: STARTTLS with
    tls_context (None = no STARTTLS), optionally requiring TLS and AUTH
    (auth = (user, password): PLAIN and LOGIN). Not listening until
    start(); stop() makes connections refused again.

    Records: connections (count), mails [(sender, tls, authed)], rcpts
    [(rcpt, reply)], delivered [Delivery] (250 sent after DATA),
    refused [Delivery] (DATA got a non-2xx), auths [(login, ok)]. The
    event data_started is set when a DATA body has arrived; data_delay
    seconds are waited before answering it (in_data counts those
    waiting)."""

    def __init__(self, ip, port, name, tls_context=None, require_tls=False,
                 auth=None):
        self.ip, self.port, self.name = ip, port, name
        self.tls_context = tls_context
        self.require_tls = require_tls
        self.auth = auth
        self.connect_replies = {}
        self.mail_replies = {}
        self.rcpt_replies = {}
        self.data_replies = {}
        self.data_delay = 0
        self._attempts = {}
        self._controller = None
        self._ready = False
        self.reset()

    def reset(self):
        """Forgets what was recorded (not the scripts)."""
        self.connections = 0
        self.mails, self.rcpts, self.auths = [], [], []
        self.delivered, self.refused = [], []
        self.in_data = 0
        self.data_started = threading.Event()

    def _script(self, kind, key):
        table = getattr(self, kind + "_replies")
        if key not in table:
            return None
        v = table[key]
        if isinstance(v, (list, tuple)):
            n = self._attempts.get((kind, key), 0)
            self._attempts[(kind, key)] = n + 1
            return v[min(n, len(v) - 1)] if v else None
        return v

    def _authenticate(self, server, session, envelope, mechanism, data):
        login = data.login.decode("utf-8", "replace")
        ok = (self.auth is not None and login == self.auth[0] and
              data.password.decode("utf-8", "replace") == self.auth[1])
        self.auths.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=data)

    def start(self):
        kw = {}
        if self.auth is not None:
            kw.update(authenticator=self._authenticate, auth_required=True,
                      auth_require_tls=True)
        else:
            kw.update(auth_require_tls=True)
        if self.tls_context is not None:
            kw.update(tls_context=self.tls_context,
                      require_starttls=self.require_tls)
        self._controller = _Controller(
            self, _MXHandler(self), hostname=self.ip, port=self.port,
            server_hostname=self.name, ready_timeout=10 * SLOW,
            timeout=60, **kw)
        self._ready = False
        self._controller.start()
        self._ready = True
        return self

    def stop(self):
        if self._controller is not None:
            self._ready = False
            self._controller.stop()
            self._controller = None

    @property
    def running(self):
        return self._controller is not None

    def recipients(self):
        """Every recipient of every accepted transaction, lower-case."""
        return [r.lower() for d in self.delivered for r in d.rcpts]

    def with_subject(self, subject):
        return [d for d in self.delivered
                if d.message.get("Subject") == subject]


# --- Postfix's smtp-sink ----------------------------------------------


class SmtpSink:
    """/usr/sbin/smtp-sink on ip:port, dumping each transaction to a
    file in dump_dir (world-writable: it runs as nobody when we are
    root). messages() returns the dumps as bytes; stop() by PID."""

    BIN = "/usr/sbin/smtp-sink"

    def __init__(self, ip, port, dump_dir, args=()):
        self.ip, self.port = ip, port
        self.dir = Path(dump_dir)
        self.args = list(args)
        self.proc = None

    @classmethod
    def available(cls):
        return os.access(cls.BIN, os.X_OK)

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o777)
        cmd = [self.BIN, "-h", f"sink-{self.ip}", "-d",
               str(self.dir) + "/%H%M%S."]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += self.args + [f"{self.ip}:{self.port}", "100"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("smtp-sink exited: " +
                                     self.proc.stderr.read().decode())
            try:
                socket.create_connection((self.ip, self.port), 1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 10, "smtp-sink to listen")
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def messages(self):
        if not self.dir.is_dir():
            return []
        return [p.read_bytes() for p in sorted(self.dir.iterdir())
                if p.is_file()]


# --- ports and addresses ----------------------------------------------


def free_port_on(ips):
    """A TCP port free on every one of ips at once."""
    for _ in range(50):
        port = free_port()
        socks = []
        try:
            for ip in ips:
                s = socket.socket()
                socks.append(s)
                s.bind((ip, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no port free on all of {ips}")


MX_IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5",
          "127.0.0.6", "127.0.0.7"]


def standard_zone():
    """The names the tests use:
    remote.test     MX 10 mx1.remote.test (127.0.0.2),
                    MX 20 mx2.remote.test (127.0.0.3)
    sink.test       MX 10 sink.test (127.0.0.4, smtp-sink)
    relay.test      A 127.0.0.5 (the relayhost)
    sender.test     MX 10 mx.sender.test (127.0.0.6): a remote sender
    plain.test      no MX, A 127.0.0.2 (the implicit MX)
    nullmx.test     MX 0 . (RFC 7505)
    gone.test       NXDOMAIN;  broken.test  SERVFAIL
    """
    return {
        "remote.test": {"MX": [(10, "mx1.remote.test"),
                               (20, "mx2.remote.test")]},
        "mx1.remote.test": {"A": ["127.0.0.2"]},
        "mx2.remote.test": {"A": ["127.0.0.3"]},
        "sink.test": {"MX": [(10, "sink.test")], "A": ["127.0.0.4"]},
        "relay.test": {"A": ["127.0.0.5"]},
        "sender.test": {"MX": [(10, "mx.sender.test")]},
        "mx.sender.test": {"A": ["127.0.0.6"]},
        "plain.test": {"A": ["127.0.0.2"]},
        "nullmx.test": {"MX": [(0, ".")]},
        "gone.test": "NXDOMAIN",
        "broken.test": "SERVFAIL",
    }


# --- submitting mail to wren ------------------------------------------


def message(subject, sender=ALICE, to="bob@remote.test", body="Hello.",
            extra=""):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{random.getrandbits(64):x}@test>\r\n{extra}"
            f"\r\n{body}\r\n")


def submit(port, sender, rcpts, data, auth=None, helo="client.test",
           source=None, mail_options=()):
    """Sends one message to wren on 127.0.0.1:port with smtplib (AUTH
    when auth = (user, password): cleartext is allowed from loopback);
    returns the queue ID from the 250 reply to DATA."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    with smtplib.SMTP("127.0.0.1", port, local_hostname=helo,
                      timeout=TIMEOUT,
                      source_address=(source, 0) if source else None) as s:
        s.ehlo()
        if auth:
            s.login(*auth)
        code, resp = s.mail(sender, list(mail_options))
        assert code == 250, (code, resp)
        for r in rcpts:
            code, resp = s.rcpt(r)
            assert code in (250, 251), (r, code, resp)
        code, resp = s.data(data.encode() if isinstance(data, str)
                            else data)
        assert code == 250, (code, resp)
    m = re.search(rb"queued as ([0-9A-Fa-f]+)", resp)
    assert m, resp
    return m.group(1).decode()


def queue_ids(w):
    """IDs in data_dir/queue/env (the queue on disk)."""
    d = Path(w.keys["data_dir"]) / "queue" / "env"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def queue_cli(w, *args, timeout=30):
    return run_wren("queue", "-c", str(w.conf), *args, timeout=timeout)


# --- pytest fixtures --------------------------------------------------


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """test CA (pki), a second CA for the relay (pki.relay) and a rogue
    one whose certificates the relay CA does not verify (pki.rogue)."""
    d = tmp_path_factory.mktemp("outbound-pki")
    p = Pki(d / "ca")
    p.relay = Pki(d / "relay-ca", "Wren Test Relay CA")
    p.rogue = Pki(d / "rogue-ca", "Wren Rogue CA")
    return p


@pytest.fixture
def dns():
    """A FakeDNS serving standard_zone(), started."""
    d = FakeDNS(standard_zone()).start()
    yield d
    d.stop()


@pytest.fixture
def mx_port():
    """The one port every fake MX listens on (remote_smtp_port)."""
    return free_port_on(MX_IPS)


@pytest.fixture
def mx(pki, mx_port):
    """Factory: mx(ip, name, start=True, starttls=True, **kw) -> FakeMX
    on ip:mx_port with a certificate for name from the test CA."""
    made = []

    def make(ip="127.0.0.2", name="mx1.remote.test", start=True,
             starttls=True, **kw):
        ctx = pki.server_context(name) if starttls else None
        m = FakeMX(ip, mx_port, name, tls_context=ctx, **kw)
        made.append(m)
        if start:
            m.start()
        return m

    yield make
    for m in made:
        m.stop()


def relay(pki, ip="127.0.0.5", port=None, name="relay.test", rogue=False,
          start=True):
    """A relayhost: STARTTLS required, AUTH (RELAY_USER, RELAY_PW),
    certificate for name from pki.relay (rogue: from pki.rogue, which
    relay_ca_file does not trust). Caller stops it."""
    ca = pki.rogue if rogue else pki.relay
    r = FakeMX(ip, port or free_port_on([ip]), name,
               tls_context=ca.server_context(name), require_tls=True,
               auth=(RELAY_USER, RELAY_PW))
    if start:
        r.start()
    return r


@pytest.fixture
def relay_host(pki):
    """Factory: relay_host(rogue=False) -> started relay (see relay)."""
    made = []

    def make(**kw):
        r = relay(pki, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def smtp_sink(tmp_path, mx_port):
    """Factory: smtp_sink(ip="127.0.0.4", port=mx_port, args=()) ->
    started SmtpSink; stopped by PID at teardown."""
    made = []
    # Outside tmp_path: smtp-sink runs as nobody, who must reach it.
    dumps = Path(tempfile.mkdtemp(prefix="wren-sink-"))
    os.chmod(dumps, 0o755)

    def make(ip="127.0.0.4", port=None, args=()):
        if not SmtpSink.available():
            pytest.skip("needs /usr/sbin/smtp-sink (postfix)")
        s = SmtpSink(ip, port or mx_port, dumps / f"{ip}-{len(made)}",
                     args)
        made.append(s)
        return s.start()

    yield make
    for s in made:
        s.stop()
    shutil.rmtree(dumps, ignore_errors=True)


@pytest.fixture
def outbound(wren, dns, mx_port, pki):
    """Factory: outbound(start=True, **keys) -> a Wren with SMTP on
    w.smtp and submission on w.sub (127.0.0.1), the account alice
    (ALICE_PW), dns_servers = the fake DNS, remote_smtp_port = mx_port,
    retry_schedule = 1s 2s, log_level info; keys override. Also
    w.maildir(local) -> Path of that account's Maildir, w.aliases_text
    written to the aliases table before start."""

    def make(start=True, aliases="", users="", **keys):
        ports = set()
        while len(ports) < 2:
            ports.add(free_port())
        smtp_port, sub = sorted(ports)
        conf = {"mynetworks": "127.0.0.0/8",
                "smtp_listen": f"127.0.0.1:{smtp_port}",
                "submission_listen": f"127.0.0.1:{sub}",
                "dns_servers": dns.address,
                "remote_smtp_port": str(mx_port),
                "retry_schedule": "1s 2s",
                "tls_auth_only": "no"}
        conf.update(keys)
        w = wren(**conf)
        w.smtp, w.sub = smtp_port, sub
        cert, key = pki.leaf(HOST)
        w.keys.update(tls_cert=str(cert), tls_key=str(key))
        w.write_config()
        (w.dir / "users").write_text(f"{ALICE}:{{PLAIN}}{ALICE_PW}\n"
                                     + users)
        (w.dir / "aliases").write_text(aliases)
        for name in ("users", "aliases"):
            p = run_wren("map", "-t", name, str(w.dir / name))
            assert p.returncode == 0, p.stdout + p.stderr
        w.maildir = lambda local="alice", domain=LOCAL: \
            w.dir / "mail" / domain / local / "Maildir"
        if start:
            w.start()
        return w

    return make

