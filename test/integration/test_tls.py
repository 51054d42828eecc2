# SPDX-License-Identifier: ISC
"""TLS on the SMTP listener (STARTTLS, RFC 3207) against real clients:
openssl s_client, Python's ssl/smtplib, swaks, and raw sockets for what
no polite client does (pipelined plaintext after STARTTLS, garbage or
half a ClientHello instead of a handshake).

Certificates are made with the openssl CLI once per module; every
server gets its own copy (cert.pem, key.pem in its dir) so a test can
replace the files under a running server, as a renewal does.
"""
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SLOW, SMTPClient, free_port, run_wren

HOST = "mail.example.test"
SENDER = "s@remote.example"
RCPT = "alice@example.test"
TIMEOUT = 10 * SLOW
GOOD_CIPHERS = {f"ECDHE-{k}-{c}" for k in ("ECDSA", "RSA")
                for c in ("AES128-GCM-SHA256", "AES256-GCM-SHA384",
                          "CHACHA20-POLY1305")}


# --- certificates -----------------------------------------------------


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def self_signed(d, name, kind="ec", cn=HOST):
    """name.crt and name.key: self-signed, CN and SAN `cn`."""
    newkey = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
              if kind == "ec" else ["-newkey", "rsa:2048"])
    openssl("req", "-x509", *newkey, "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.crt", "-days", "30", "-subj", f"/CN={cn}",
            "-addext", f"subjectAltName=DNS:{cn}", "-set_serial",
            str(random.getrandbits(62)), cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    self_signed(d, "ec")                    # "A"
    self_signed(d, "rsa", "rsa")
    self_signed(d, "b", cn="b.example.test")   # the renewal
    for n in "cdef":                        # more renewals, broken pairs
        self_signed(d, n, cn=f"{n}.example.test")
    return d


def der(path):
    """The DER of the first certificate of a PEM file."""
    pem = Path(path).read_text()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    return ssl.PEM_cert_to_DER_cert(first)


def install(w, pki, cert, key):
    """Replaces w's cert.pem and key.pem by atomic renames (certificate
    first, as a renewal that writes both does)."""
    for src, dst in ((pki / cert, w.cert), (pki / key, w.key)):
        tmp = dst.with_suffix(".new")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


# --- servers ----------------------------------------------------------


def tls_server(wren, pki, cert="ec", start=True, **keys):
    """A wren with alice's users table, SMTP on a free port and (when
    `cert`) a copy of pki/cert.crt and .key in its dir."""
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}", **keys)
    w.port = port
    w.cert, w.key = w.dir / "cert.pem", w.dir / "key.pem"
    w.keys.update(tls_cert=str(w.cert), tls_key=str(w.key))
    w.write_config()
    if cert:
        shutil.copyfile(pki / f"{cert}.crt", w.cert)
        shutil.copyfile(pki / f"{cert}.key", w.key)
    (w.dir / "users").write_text(f"{RCPT}:{{PLAIN}}x\n")
    p = run_wren("map", "-t", "users", str(w.dir / "users"))
    assert p.returncode == 0, p.stderr
    if start:
        w.start()
    return w


def alice_files(w):
    d = w.dir / "mail" / "example.test" / "alice" / "Maildir" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def delivered(w, subject):
    """The one delivered file with this Subject; its bytes."""
    want = f"\nSubject: {subject}\n".encode()
    found = [p.read_bytes() for p in alice_files(w)
             if want in p.read_bytes()]
    assert len(found) == 1, (subject, len(found))
    return found[0]


def received(data):
    """The Received header of a delivered file, unfolded."""
    lines = data.split(b"\n")
    k = next(i for i, x in enumerate(lines) if x.startswith(b"Received:"))
    j = k + 1
    while lines[j].startswith((b"\t", b" ")):
        j += 1
    return b" ".join(x.strip() for x in lines[k:j]).decode()


def message(subject):
    return (f"From: <{SENDER}>\r\nTo: <{RCPT}>\r\nSubject: {subject}\r\n"
            f"\r\nOver TLS.\r\n").encode()


def client_ctx(pki=None, cert="ec"):
    """A TLS client context: verifying against pki/cert.crt (and the
    host name), or verifying nothing when pki is None."""
    if pki is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=str(pki / f"{cert}.crt"))
    return ctx


def smtplib_deliver(w, ctx, subject, hostname=HOST):
    """A message to alice over STARTTLS with smtplib; (TLS version,
    the queue id)."""
    with smtplib.SMTP("127.0.0.1", w.port, local_hostname="client.example",
                      timeout=TIMEOUT) as s:
        s._host = hostname      # the name the certificate is checked for
        code, resp = s.ehlo()
        assert code == 250 and s.has_extn("starttls"), resp
        code, resp = s.starttls(context=ctx)
        assert code == 220, resp
        assert b"Ready to start TLS" in resp
        version = s.sock.version()
        code, resp = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls")     # not offered twice
        s.mail(SENDER)
        code, resp = s.rcpt(RCPT)
        assert code == 250, resp
        code, resp = s.data(message(subject))
        assert code == 250, resp
    m = re.fullmatch(rb"2\.0\.0 Ok: queued as ([0-9A-F]+)", resp)
    assert m, resp
    return version, m.group(1).decode()


class Client(SMTPClient):
    """A raw SMTP connection that can turn into TLS."""

    def __init__(self, port, timeout=TIMEOUT):
        super().__init__(port, timeout=timeout / SLOW)

    def greet(self):
        self.expect(220, f"{HOST} ESMTP wren")
        return self

    def starttls(self, ctx, server_hostname=HOST, session=None):
        """STARTTLS, then the handshake; returns the EHLO keywords
        before STARTTLS."""
        ehlo = self.cmd("EHLO client.example", 250)
        assert "\nSTARTTLS" in ehlo, ehlo
        self.cmd("STARTTLS", 220, "2.0.0 Ready to start TLS")
        assert self.buf == b""
        self.sock = ctx.wrap_socket(self.sock,
                                    server_hostname=server_hostname,
                                    session=session)
        return ehlo

    def closed(self, timeout=TIMEOUT):
        """True when the server closes (EOF or reset) within timeout;
        whatever it sends first (an alert) is read and ignored."""
        end = time.monotonic() + timeout
        self.sock.settimeout(0.5)
        try:
            while time.monotonic() < end:
                try:
                    if self.sock.recv(4096) == b"":
                        return True
                except socket.timeout:
                    continue
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        finally:
            self.sock.settimeout(TIMEOUT)



def client_hello(ctx=None):
    """A real ClientHello as Python's ssl sends it: (bytes, the
    SSLObject and its BIOs to finish the handshake with)."""
    ctx = ctx or client_ctx()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=HOST)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read(), obj, inc, out


def finish_handshake(sock, obj, inc, out):
    """Pumps an SSLObject's handshake over a plain socket."""
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = out.read()
            if pending:
                sock.sendall(pending)
            data = sock.recv(65536)
            if not data:
                raise EOFError("closed during the handshake")
            inc.write(data)
    pending = out.read()
    if pending:
        sock.sendall(pending)


def s_client(port, *args, stdin="QUIT\n"):
    """openssl s_client -starttls smtp; (exit status, all output)."""
    p = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect",
         f"127.0.0.1:{port}", "-name", "client.example", "-crlf", "-ign_eof",
         *args],
        input=stdin, capture_output=True, text=True, timeout=20 * SLOW)
    return p.returncode, p.stdout + p.stderr


def plain_ehlo_works(w):
    c = Client(w.port).greet()
    c.cmd("EHLO client.example", 250)
    c.cmd("QUIT", 221)
    c.close()


# --- 1. openssl s_client: EC and RSA certificates ---------------------


@pytest.mark.parametrize("cert,kind", [("ec", "ECDSA"), ("rsa", "RSA")])
def test_s_client_handshake(wren, pki, cert, kind):
    w = tls_server(wren, pki, cert)
    rc, out = s_client(w.port, "-brief")
    assert "Protocol version: TLSv1.2" in out, out
    m = re.search(r"Ciphersuite: (\S+)", out)
    assert m and m.group(1) in GOOD_CIPHERS, out
    assert m.group(1).startswith(f"ECDHE-{kind}-"), out
    assert "221 " in out, out            # the QUIT went over TLS
    # (rc is 1: "unexpected eof", the server sends no close_notify)
    # The server's first choice: AES-128-GCM.
    assert m.group(1) == f"ECDHE-{kind}-AES128-GCM-SHA256", out
    # A client offering only ChaCha20 or only AES-256 gets it.
    for suite in ("CHACHA20-POLY1305", "AES256-GCM-SHA384"):
        rc, out = s_client(w.port, "-brief", "-tls1_2", "-cipher",
                           f"ECDHE-{kind}-{suite}")
        assert f"Ciphersuite: ECDHE-{kind}-{suite}" in out, out
    w.wait_log(f"TLS TLSv1.2 ECDHE-{kind}-AES128-GCM-SHA256")
    assert w.stop() == 0


# --- 2. smtplib: verified certificate, Received header ----------------


def test_smtplib_starttls_delivery(wren, pki):
    w = tls_server(wren, pki)
    version, qid = smtplib_deliver(w, client_ctx(pki), "over-tls")
    assert version == "TLSv1.2"
    data = delivered(w, "over-tls")
    rec = received(data)
    assert re.match(
        rf"Received: from client\.example \(\[127\.0\.0\.1\]\) by "
        rf"{re.escape(HOST)} \(wren\) with ESMTPS id {qid} "
        r"\(using TLSv1\.2 with cipher (\S+)\) for <alice@example\.test>;",
        rec), rec
    assert re.search(r"with cipher (\S+)\)", rec).group(1) in GOOD_CIPHERS
    # A client that checks the name against another host name fails.
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib_deliver(w, client_ctx(pki), "wrong-name",
                        hostname="other.example.test")
    # And one that does not trust the certificate.
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib_deliver(w, ssl.create_default_context(
            cafile=str(pki / "b.crt")), "untrusted")
    assert len(alice_files(w)) == 1
    # Without TLS the header says ESMTP and no cipher.
    with smtplib.SMTP("127.0.0.1", w.port, local_hostname="client.example",
                      timeout=TIMEOUT) as s:
        s.sendmail(SENDER, [RCPT], message("plain"))
    rec = received(delivered(w, "plain"))
    assert " with ESMTP id " in rec and "using TLS" not in rec, rec
    assert w.stop() == 0


# --- 3. swaks --tls ---------------------------------------------------


@pytest.mark.skipif(not shutil.which("swaks"), reason="needs swaks")
def test_swaks_tls(wren, pki):
    w = tls_server(wren, pki, "rsa")
    p = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{w.port}", "--from", SENDER,
         "--to", RCPT, "--helo", "client.example", "--tls", "--header",
         "Subject: by-swaks", "--timeout", str(10 * SLOW)],
        capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "TLS started with cipher TLSv1.2:ECDHE-RSA-" in p.stdout, \
        p.stdout
    assert "<~  250 2.0.0 Ok: queued as " in p.stdout, p.stdout
    rec = received(delivered(w, "by-swaks"))
    assert "with ESMTPS id" in rec and "(using TLSv1.2 with cipher " \
        "ECDHE-RSA-" in rec, rec
    assert w.stop() == 0


# --- 4. the cipher and version policy ---------------------------------


def test_weak_clients_are_refused(wren, pki):
    w = tls_server(wren, pki, "rsa")
    # CBC with RSA key exchange only.
    rc, out = s_client(w.port, "-brief", "-tls1_2", "-cipher", "AES128-SHA")
    assert rc != 0 and "Protocol version" not in out, out
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("AES128-SHA")
    c = Client(w.port).greet()
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        c.starttls(ctx)
    c.close()
    # TLS 1.1 (the client's own policy must allow it to even try).
    rc, out = s_client(w.port, "-brief", "-tls1_1", "-cipher",
                       "DEFAULT@SECLEVEL=0")
    assert rc != 0 and "CONNECTION ESTABLISHED" not in out \
        and "Protocol version" not in out, out
    # TLS 1.3 only: BearSSL has none.
    rc, out = s_client(w.port, "-brief", "-tls1_3")
    assert rc != 0 and "Protocol version" not in out, out
    # The server is fine: plain and TLS sessions still work.
    plain_ehlo_works(w)
    version, _ = smtplib_deliver(w, client_ctx(pki, "rsa"), "after-weak")
    assert version == "TLSv1.2"
    assert w.stop() == 0


# --- 5. STARTTLS command injection (CVE-2011-0411) --------------------


@pytest.mark.parametrize("injected", [
    "RSET\r\n",
    "MAIL FROM:<evil@example.net>\r\nRCPT TO:<alice@example.test>\r\n"])
def test_plaintext_after_starttls_is_discarded(wren, pki, injected):
    w = tls_server(wren, pki)
    c = Client(w.port).greet()
    c.cmd("EHLO x", 250)
    c.send("STARTTLS\r\n" + injected)            # one write
    c.expect(220, "Ready to start TLS")
    assert c.buf == b""
    c.sock = client_ctx().wrap_socket(c.sock, server_hostname=HOST)
    c.send("NOOP\r\n")
    c.expect(250)                               # the NOOP's, nothing before
    # The session started over: no EHLO yet, no transaction.
    c.cmd("MAIL FROM:<a@example.net>", 503, "HELO/EHLO first")
    c.cmd("EHLO x", 250)
    c.cmd("RCPT TO:<alice@example.test>", 503)   # no MAIL was injected
    c.cmd("QUIT", 221)
    assert c.buf == b""
    assert c.closed()
    assert alice_files(w) == []
    assert w.stop() == 0


# --- 6. session resumption --------------------------------------------


def test_session_resumption(wren, pki):
    w = tls_server(wren, pki)
    ctx = client_ctx(pki)
    c = Client(w.port).greet()
    c.starttls(ctx)
    assert not c.sock.session_reused
    sess = c.sock.session
    assert sess is not None and sess.id
    c.cmd("EHLO client.example", 250)
    c.cmd("QUIT", 221)
    c.close()
    for _ in range(2):
        c = Client(w.port).greet()
        c.starttls(ctx, session=sess)
        assert c.sock.session_reused
        assert c.sock.session.id == sess.id
        assert c.sock.version() == "TLSv1.2"
        c.cmd("EHLO client.example", 250)
        c.cmd("QUIT", 221)
        c.close()
    # An unknown session id is a full handshake, not a failure.
    other = tls_server(wren, pki)
    c = Client(other.port).greet()
    c.starttls(ctx, session=sess)
    assert not c.sock.session_reused
    c.cmd("EHLO client.example", 250)
    c.close()
    assert other.stop() == 0
    assert w.stop() == 0


# --- 7. certificate renewal without a restart -------------------------


def peer_der(w, ctx=None):
    c = Client(w.port).greet()
    c.starttls(ctx or client_ctx())
    d = c.sock.getpeercert(binary_form=True)
    c.cmd("EHLO client.example", 250)
    c.cmd("QUIT", 221)
    c.close()
    return d


def wait_for_cert(w, want, timeout=10):
    """Until w serves want: a replaced file is checked every second
    (MAP_RECHECK_MS); the bound is generous and scaled for QEMU."""
    end = time.monotonic() + timeout * SLOW
    while True:
        got = peer_der(w)
        if got == want:
            return
        assert time.monotonic() < end, "the new certificate is not served"
        time.sleep(0.1)


def test_certificate_renewal(wren, pki):
    w = tls_server(wren, pki, "ec")
    a, b, c_ = der(pki / "ec.crt"), der(pki / "b.crt"), der(pki / "c.crt")
    assert peer_der(w) == a
    # A session with A open across the renewal keeps working.
    held = Client(w.port).greet()
    held.starttls(client_ctx())
    assert held.sock.getpeercert(binary_form=True) == a
    held.cmd("EHLO client.example", 250)

    off = len(w.log())
    install(w, pki, "b.crt", "b.key")
    wait_for_cert(w, b)         # its deadline is the bound
    w.wait_log(f"tls: certificate {w.cert} loaded", start=off)
    held.cmd("MAIL FROM:<s@remote.example>", 250)
    held.cmd("RCPT TO:<alice@example.test>", 250)
    held.cmd("DATA", 354)
    held.send("Subject: held\r\n\r\nsent with the old pair\r\n.\r\n")
    held.expect(250, "queued as")
    held.cmd("QUIT", 221)
    held.close()
    assert b"sent with the old pair" in delivered(w, "held")

    # A broken pair (c's certificate with a's key) is refused.
    off = len(w.log())
    install(w, pki, "c.crt", "ec.key")
    w.wait_log("tls: new certificate refused, keeping the old one",
               timeout=3, start=off)
    assert "the key does not belong" in w.log()[off:]
    for _ in range(3):
        assert peer_der(w) == b
        time.sleep(0.3)
    # The refusal is logged once, not every second.
    time.sleep(1.2)
    assert w.log()[off:].count("new certificate refused") <= 2, \
        w.log()[off:]
    # SIGHUP with the broken pair: refused again, still b.
    off = len(w.log())
    w.send(signal.SIGHUP)
    w.wait_log("reload done", start=off)
    assert "new certificate refused" in w.log()[off:]
    assert peer_der(w) == b
    assert peer_der(w) != c_
    # Fixing the pair is picked up.
    off = len(w.log())
    install(w, pki, "c.crt", "c.key")
    wait_for_cert(w, c_)
    w.wait_log("loaded", start=off)
    version, _ = smtplib_deliver(w, client_ctx(pki, "c"), "after-renewal",
                                 hostname="c.example.test")
    assert version == "TLSv1.2"
    assert w.stop() == 0


def test_renewals_while_old_pairs_are_in_use(wren, pki):
    """Each held session pins its pair; more renewals than the server
    keeps pairs for wait until a session ends, then are taken."""
    w = tls_server(wren, pki, "ec")
    held = []
    for old, new in (("ec", "b"), ("b", "c"), ("c", "d"), ("d", None)):
        h = Client(w.port).greet()
        h.starttls(client_ctx())
        assert h.sock.getpeercert(binary_form=True) == der(pki / f"{old}.crt")
        h.cmd("EHLO client.example", 250)
        held.append(h)
        if new:
            install(w, pki, f"{new}.crt", f"{new}.key")
            wait_for_cert(w, der(pki / f"{new}.crt"))
    # Held: a, b, c and d (current). One more pair than that...
    off = len(w.log())
    install(w, pki, "e.crt", "e.key")
    w.wait_log("too many certificates still in use", timeout=3, start=off)
    d, e = der(pki / "d.crt"), der(pki / "e.crt")
    assert peer_der(w) == d
    # ...waits for a free place: the oldest session leaves.
    first = held.pop(0)
    first.cmd("QUIT", 221)
    first.close()
    wait_for_cert(w, e)
    w.wait_log("tls: certificate", start=off)
    for h in held:
        h.cmd("NOOP", 250)
        h.cmd("QUIT", 221)
        h.close()
    assert w.stop() == 0


# --- 8. robustness: garbage and stalled handshakes --------------------


@pytest.mark.parametrize("garbage", [
    bytes(random.Random(1).getrandbits(8) for _ in range(300)),
    b"EHLO client.example\r\nMAIL FROM:<x@y>\r\n",
    b"\x16\x03\x01\xff\xff" + b"\x00" * 100,    # too long a record
    b"\x16\x03\x03\x00\x05\x01\x00\x00\x01\x00",  # a bogus ClientHello
    b"\x15\x03\x03\x00\x02\x02\x28",            # an alert
])
def test_garbage_instead_of_client_hello(wren, pki, garbage):
    w = tls_server(wren, pki)
    # A client in a transaction over TLS meanwhile.
    s = smtplib.SMTP("127.0.0.1", w.port, local_hostname="client.example",
                     timeout=TIMEOUT)
    s._host = HOST
    s.starttls(context=client_ctx(pki))
    s.ehlo()
    assert s.mail(SENDER)[0] == 250
    assert s.rcpt(RCPT)[0] == 250
    bad = Client(w.port).greet()
    bad.cmd("EHLO x", 250)
    bad.cmd("STARTTLS", 220)
    bad.send(garbage)
    assert bad.closed(), "a connection sending garbage stays open"
    bad.close()
    code, resp = s.data(message("parallel"))
    assert code == 250, resp
    s.quit()
    assert "using TLSv1.2" in received(delivered(w, "parallel"))
    assert w.stop() == 0


def test_stalled_handshake_blocks_nobody(wren, pki):
    w = tls_server(wren, pki)
    hello, obj, inc, out = client_hello()
    assert hello[0] == 0x16 and len(hello) > 40
    stalled = []
    for cut in (5, 20, len(hello) // 2, len(hello) - 1):
        c = Client(w.port).greet()
        c.cmd("EHLO x", 250)
        c.cmd("STARTTLS", 220)
        c.send(hello[:cut])
        stalled.append(c)
    # And one that completed STARTTLS but never starts the handshake.
    idle = Client(w.port).greet()
    idle.cmd("STARTTLS", 220)
    # Served meanwhile: a delivery held up by the stalled handshakes
    # would hit smtplib's timeout (TIMEOUT, scaled); no speed asserted.
    for i in range(3):
        version, _ = smtplib_deliver(w, client_ctx(pki), f"meanwhile-{i}")
        assert version == "TLSv1.2"
    # The stalled handshake still completes when the rest comes.
    c = stalled[-1]
    c.send(hello[len(hello) - 1:])
    finish_handshake(c.sock, obj, inc, out)
    assert obj.version() == "TLSv1.2"
    obj.write(b"NOOP\r\n")
    c.sock.sendall(out.read())
    data = b""
    while b"\r\n" not in data:
        got = c.sock.recv(65536)
        assert got, "closed"
        inc.write(got)
        try:
            data += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
    assert data.startswith(b"250 "), data
    for c in stalled + [idle]:
        c.close()
    assert w.stop() == 0


def test_clients_leaving_at_every_step_leak_nothing(wren, pki):
    """With max_connections = 2 (as many TLS slots), clients that go
    away anywhere in STARTTLS must give their slot back."""
    w = tls_server(wren, pki, max_connections="2")
    hello, *_ = client_hello()

    def connect():
        end = time.monotonic() + 5 * SLOW
        while True:         # until the server has seen the last one go
            c = Client(w.port)
            code, msg = c.reply()
            if code == 220:
                return c
            c.close()
            assert time.monotonic() < end, msg
            time.sleep(0.05)

    for _ in range(3):
        c = connect()                           # before the 220
        c.cmd("EHLO x", 250)
        c.send("STARTTLS\r\n")
        c.close()
        c = connect()                           # after the 220
        c.cmd("STARTTLS", 220)
        c.close()
        c = connect()                           # mid-handshake
        c.cmd("STARTTLS", 220)
        c.send(hello[:len(hello) // 2])
        c.close()
        c = connect()                           # reset after it
        c.starttls(client_ctx())
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.close()
    # Both slots are free: two TLS sessions at once.
    a, b = connect(), connect()
    for c in (a, b):
        c.starttls(client_ctx())
        c.cmd("EHLO client.example", 250)
    for c in (a, b):
        c.cmd("QUIT", 221)
        c.close()
    assert "no TLS slot free" not in w.log()
    assert w.stop() == 0


# --- 8c. more than one buffer of plaintext; closing ------------------


def tls_session(w, timeout=TIMEOUT, ctx=None, **wrap):
    """A raw client past STARTTLS and the second EHLO."""
    c = Client(w.port, timeout=timeout).greet()
    c.cmd("EHLO client.example", 250)
    c.cmd("STARTTLS", 220)
    c.sock = (ctx or client_ctx()).wrap_socket(c.sock, server_hostname=HOST,
                                               **wrap)
    c.cmd("EHLO client.example", 250)
    return c


def test_messages_larger_than_the_connection_buffer(wren, pki):
    """A TLS record holds up to 16 KB of plaintext, the connection's
    input buffer 4 KB: what the engine has decrypted but not yet handed
    over must still be read when the client sends nothing more."""
    w = tls_server(wren, pki)
    for i, size in enumerate((3000, 5000, 17000, 70000, 1 << 20)):
        c = tls_session(w, timeout=5 * SLOW)
        body = b"".join(b"%07d %s\r\n" % (k, b"x" * 60)
                        for k in range(size // 70))
        c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>"
               "\r\nDATA\r\n")
        c.expect(250)
        c.expect(250)
        c.expect(354)
        c.send(b"Subject: big-%d\r\n\r\n" % i + body + b".\r\nQUIT\r\n")
        try:
            c.expect(250, "queued as")
        except socket.timeout:
            pytest.fail(f"a {len(body)}-byte message over TLS: no reply "
                        "to the final dot (the rest of the message is "
                        "stuck in the TLS engine)")
        c.expect(221)
        c.close()
        data = delivered(w, f"big-{i}")
        assert data.endswith(body.replace(b"\r\n", b"\n")), size
    assert w.stop() == 0


def test_pipelined_commands_beyond_one_buffer(wren, pki):
    w = tls_server(wren, pki)
    c = tls_session(w, timeout=5 * SLOW)
    n = 2000                                    # 12 KB of commands
    c.send("RSET\r\n" * n + "QUIT\r\n")   # NOOP must end a group (RFC 2920)
    try:
        for _ in range(n):
            c.expect(250)
        c.expect(221)
    except socket.timeout:
        pytest.fail("pipelined commands over TLS beyond 4 KB: stalled")
    c.close()
    assert w.stop() == 0


def test_quit_sends_close_notify(wren, pki):
    """RFC 5246 7.2.1: close_notify before closing; OpenSSL 3 clients
    report an EOF without it as an error (s_client exits 1)."""
    w = tls_server(wren, pki)
    ctx = client_ctx()
    # (Some Python builds ignore a missing close_notify by default.)
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    c = tls_session(w, ctx=ctx, suppress_ragged_eofs=False)
    c.cmd("QUIT", 221)
    try:
        assert c.sock.recv(4096) == b""
    except ssl.SSLError as e:          # SSLEOFError, or a plain one
        pytest.fail("the server closed the TLS session without a "
                    f"close_notify alert: {e}")
    c.close()
    assert w.stop() == 0


# --- 9. no certificate; STARTTLS twice, in a transaction --------------


def test_without_certificate_no_starttls(wren, pki):
    w = tls_server(wren, pki, cert=None)
    w.wait_log("TLS is off")
    c = Client(w.port).greet()
    ehlo = c.cmd("EHLO client.example", 250)
    assert "STARTTLS" not in ehlo
    c.cmd("STARTTLS", 502)
    # Still a working session.
    c.cmd("MAIL FROM:<s@remote.example>", 250)
    c.cmd("QUIT", 221)
    c.close()
    assert w.stop() == 0


def test_starttls_twice_and_in_a_transaction(wren, pki):
    w = tls_server(wren, pki)
    c = Client(w.port).greet()
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<s@remote.example>", 250)
    c.cmd("STARTTLS", 503)
    c.cmd("RSET", 250)
    c.starttls(client_ctx())
    ehlo = c.cmd("EHLO client.example", 250)
    assert "STARTTLS" not in ehlo
    c.cmd("STARTTLS", 554, "TLS already active")
    c.cmd("STARTTLS", 554)
    c.cmd("NOOP", 250)
    c.cmd("QUIT", 221)
    c.close()
    # STARTTLS straight after the greeting (no EHLO) is allowed.
    c = Client(w.port).greet()
    c.cmd("STARTTLS", 220)
    c.sock = client_ctx().wrap_socket(c.sock, server_hostname=HOST)
    c.cmd("EHLO client.example", 250)
    c.cmd("STARTTLS", 554)
    c.cmd("QUIT", 221)
    c.close()
    assert w.stop() == 0


# --- 10. the connection pool with TLS in use --------------------------


def test_pool_refusal_with_tls_sessions(wren, pki):
    w = tls_server(wren, pki, max_connections="2")
    held = []
    for _ in range(2):
        c = Client(w.port).greet()
        c.starttls(client_ctx(pki))
        c.cmd("EHLO client.example", 250)
        held.append(c)
    third = Client(w.port)
    third.expect(421, "4.3.2")
    assert third.closed()
    for c in held:
        c.cmd("NOOP", 250)
    held[0].cmd("QUIT", 221)
    held[0].close()
    end = time.monotonic() + 5 * SLOW
    while True:
        c = Client(w.port)
        code, _ = c.reply()
        if code == 220:
            break
        c.close()
        assert time.monotonic() < end
        time.sleep(0.05)
    c.starttls(client_ctx(pki))
    c.cmd("EHLO client.example", 250)
    c.cmd("QUIT", 221)
    held[1].cmd("QUIT", 221)
    assert w.stop() == 0


# --- IMAP and POP3: STARTTLS, implicit TLS, EC and RSA -----------------


def mail_server(wren, pki, cert):
    """tls_server plus IMAP and POP3 listeners (plain with STARTTLS and
    implicit TLS) and alice's Maildir."""
    ports = {k: free_port() for k in ("imap", "imaps", "pop3", "pop3s")}
    w = tls_server(wren, pki, cert, start=False,
                   **{f"{k}_listen": f"127.0.0.1:{p}"
                      for k, p in ports.items()})
    w.ports = ports
    for sub in ("new", "cur", "tmp"):
        (w.dir / "mail" / "example.test" / "alice" / "Maildir" /
         sub).mkdir(parents=True, exist_ok=True)
    return w.start()


def s_client_proto(port, proto, stdin):
    """openssl s_client, -starttls proto (or implicit TLS when None)."""
    starttls = ["-starttls", proto] if proto else []
    p = subprocess.run(
        ["openssl", "s_client", *starttls, "-connect", f"127.0.0.1:{port}",
         "-brief", "-crlf", "-ign_eof"],
        input=stdin, capture_output=True, text=True, timeout=20 * SLOW)
    return p.stdout + p.stderr


@pytest.mark.parametrize("cert,kind", [("ec", "ECDSA"), ("rsa", "RSA")])
def test_imap_and_pop3_handshakes(wren, pki, cert, kind):
    """openssl s_client -starttls imap / pop3 and on the implicit ports,
    Python's ssl, and curl imaps://, with an EC and an RSA certificate:
    TLS 1.2 with an ECDHE AEAD suite of the certificate's kind, and the
    session works over it."""
    w = mail_server(wren, pki, cert)
    want = f"Ciphersuite: ECDHE-{kind}-AES128-GCM-SHA256"
    for port, proto, stdin, answer in (
            (w.ports["imap"], "imap", "a CAPABILITY\na LOGOUT\n",
             "a OK CAPABILITY completed"),
            (w.ports["imaps"], None, "a CAPABILITY\na LOGOUT\n",
             "a OK CAPABILITY completed"),
            (w.ports["pop3"], "pop3", "CAPA\nQUIT\n", "SASL PLAIN"),
            (w.ports["pop3s"], None, "CAPA\nQUIT\n", "SASL PLAIN")):
        out = s_client_proto(port, proto, stdin)
        assert "Protocol version: TLSv1.2" in out, (port, out)
        assert want in out, (port, out)
        assert answer in out, (port, out)
        assert "STARTTLS" not in out.split("Ciphersuite")[1] and \
            "\nSTLS" not in out.split("Ciphersuite")[1], out
    # Python's ssl, verifying the chain and the name, on both implicit
    # ports.
    for port, greeting in ((w.ports["imaps"], b"* OK"),
                           (w.ports["pop3s"], b"+OK")):
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=TIMEOUT) as raw:
            with client_ctx(pki, cert).wrap_socket(
                    raw, server_hostname=HOST) as t:
                assert t.version() == "TLSv1.2"
                assert kind in t.cipher()[0]
                assert t.recv(100).startswith(greeting)
    # curl: imaps:// logs in and lists the folders.
    p = subprocess.run(
        ["curl", "-sS", "-k", "--max-time", str(20 * SLOW), "--user",
         f"{RCPT}:x", f"imaps://127.0.0.1:{w.ports['imaps']}/"],
        capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    assert "INBOX" in p.stdout, p.stdout
    assert w.stop() == 0
