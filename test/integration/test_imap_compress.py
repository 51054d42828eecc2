# SPDX-License-Identifier: ISC
"""IMAP COMPRESS=DEFLATE (RFC 4978; issue 14): a raw-socket client
compressing with Python's zlib (raw DEFLATE, wbits=-15) both ways, over
plain IMAP, STARTTLS and implicit TLS (compression inside TLS), with
commands cut at every byte, pipelined behind COMPRESS, big literals
both ways, the per-server bound (NO [LIMIT]), a second COMPRESS
(NO [COMPRESSIONACTIVE]), a client sending garbage, and mbsync, which
uses COMPRESS whenever it is offered.
"""
import random
import re
import shutil
import subprocess
import zlib

import pytest

from conftest import SLOW
from imaplib_helpers import (
    ALICE, ALICE_PW, Raw, crlf, imap_server, mail, make_pki, need_wren)

needs_mbsync = pytest.mark.skipif(not shutil.which("mbsync"),
                                  reason="needs isync (mbsync)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # mbsync 1.4 matches the host name against DNS names only.
    return make_pki(tmp_path_factory.mktemp("pki"),
                    extra_san="DNS:127.0.0.1")


@pytest.fixture
def srv(wren, pki):
    made = []

    def make(**keys):
        s = imap_server(wren, pki, **keys)
        made.append(s)
        return s

    yield make
    for s in made:
        if s.ref:
            s.ref.stop()


class ZRaw(Raw):
    """Raw, compressed from compress() on: every send is deflated and
    sync-flushed (as RFC 4978 asks of both sides), every read
    inflated. wire_in / wire_out count the compressed bytes."""

    def __init__(self, *a, **kw):
        self.z_out = self.z_in = None
        self.wire_in = self.wire_out = 0
        self.split = None       # None: whole sends; n: n-byte pieces
        super().__init__(*a, **kw)

    def compress(self, expect="OK"):
        got, tagged = self.cmd("COMPRESS DEFLATE", expect)
        if expect == "OK":
            # Nothing after the OK may have come in the clear.
            leftover, self.buf = self.buf, b""
            self.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
            self.z_in = zlib.decompressobj(-15)
            self.buf = self.z_in.decompress(leftover)
        return got, tagged

    def deflate(self, data):
        return (self.z_out.compress(data) +
                self.z_out.flush(zlib.Z_SYNC_FLUSH))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.z_out is None:
            return super().send(data)
        wire = self.deflate(data)
        self.wire_out += len(wire)
        if self.split is None:
            self.sock.sendall(wire)
            return
        for i in range(0, len(wire), self.split):
            self.sock.sendall(wire[i:i + self.split])

    def _recv(self, n):
        chunk = self.sock.recv(n)
        if chunk and self.z_in is not None:
            self.wire_in += len(chunk)
            return self.z_in.decompress(chunk)
        return chunk

    def _fill(self):
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            if self.z_in is None:
                self.buf += chunk
                return
            self.wire_in += len(chunk)
            data = self.z_in.decompress(chunk)
            self.buf += data
            if data:
                return

    def literal(self, size):
        while len(self.buf) < size:
            self._fill()
        data, self.buf = self.buf[:size], self.buf[size:]
        return data


def zlogin(s, tls=None):
    r = ZRaw(s, tls=tls)
    if tls == "starttls":
        r.starttls()
    r.login()
    return r


def body_of(resp):
    m = re.search(rb"\{(\d+)\}\r\n", resp)
    assert m, resp[:200]
    start = m.end()
    return resp[start:start + int(m.group(1))]


def big_message(n, seed=1):
    rng = random.Random(seed)
    words = ("ledger harbour granite willow copper lantern meadow orbit "
             "parcel quartz ribbon saddle thimble umbrella").split()
    lines = [" ".join(rng.choice(words) for _ in range(12))
             for _ in range(n)]
    return crlf(mail("big", "\n".join(lines) + "\n"))


def test_capability_and_state(srv):
    s = srv()
    r = ZRaw(s)
    got, _ = r.cmd("CAPABILITY")
    assert b" COMPRESS=DEFLATE" in got[0]
    # RFC 4978 3: in the authenticated state only.
    r.cmd("COMPRESS DEFLATE", expect="BAD")
    r.login()
    r.cmd("COMPRESS LZW", expect="BAD")
    r.cmd("COMPRESS", expect="BAD")
    r.compress()
    got, _ = r.cmd("CAPABILITY")
    assert b"COMPRESS=DEFLATE" in got[0]
    _, tagged = r.cmd("COMPRESS DEFLATE", expect="NO")
    assert b"[COMPRESSIONACTIVE]" in tagged
    r.cmd("LOGOUT")
    assert r.closed(5 * SLOW)


@pytest.mark.parametrize("tls", [None, "starttls", "implicit"])
def test_fetch_and_append_compressed(srv, tls):
    """Big bodies both ways, in and out of the compression layer (and
    inside TLS): what comes back is what was stored."""
    s = srv()
    msg = big_message(6000)          # ~560 KB, over every buffer
    s.put(msg)
    s.put(crlf(mail("small", "Hello.\n")))
    r = zlogin(s, tls)
    r.compress()
    r.cmd("SELECT INBOX")
    got, _ = r.cmd("FETCH 1:2 (BODY.PEEK[] RFC822.SIZE)")
    bodies = [body_of(g) for g in got if b"FETCH" in g]
    assert bodies[0] == msg
    assert bodies[1] == crlf(mail("small", "Hello.\n"))
    assert r.wire_in < len(msg) // 2, r.wire_in
    up = big_message(3000, seed=2)
    tag = r.tag()
    r.send(f"{tag} APPEND INBOX {{{len(up)}+}}\r\n".encode() + up + b"\r\n")
    r.until(tag)
    got, _ = r.cmd("FETCH 3 BODY.PEEK[]")
    assert body_of(got[0]) == up
    r.cmd("LOGOUT")


def test_pipelined_behind_compress_and_cut_at_every_byte(srv):
    """Commands the client compressed right behind COMPRESS (same
    packet), and a compressed stream sent one byte per segment."""
    s = srv()
    s.put(crlf(mail("one", "x" * 3000 + "\n")))
    r = zlogin(s)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    piped = (z.compress(b"p1 NOOP\r\np2 SELECT INBOX\r\n") +
             z.flush(zlib.Z_SYNC_FLUSH))
    r.send(b"c1 COMPRESS DEFLATE\r\n" + piped)
    r.until("c1")
    r.z_out = z
    r.z_in = zlib.decompressobj(-15)
    r.buf = r.z_in.decompress(r.buf)
    r.until("p1")
    got, _ = r.until("p2")
    assert any(b"EXISTS" in g for g in got)
    r.split = 1
    got, _ = r.cmd("FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: one" in got[0]
    r.split = 3
    for _ in range(20):
        r.cmd("NOOP")
    r.cmd("LOGOUT")


def test_limit_then_slot_given_back(srv):
    s = srv(imap_compress_max="1")
    a = zlogin(s)
    a.compress()
    b = zlogin(s)
    _, tagged = b.cmd("COMPRESS DEFLATE", expect="NO")
    assert b"[LIMIT]" in tagged
    b.cmd("NOOP")               # still served, uncompressed
    a.cmd("LOGOUT")
    assert a.closed(5 * SLOW)
    c = zlogin(s)
    for _ in range(50):         # the slot comes back once a is gone
        got, tagged = c.cmd("COMPRESS DEFLATE", expect=None)
        if b" OK " in tagged:
            break
        assert b"[LIMIT]" in tagged
    else:
        raise AssertionError("the slot never came back")
    c.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
    c.z_in = zlib.decompressobj(-15)
    c.buf = c.z_in.decompress(c.buf)
    c.cmd("NOOP")
    b.cmd("LOGOUT")
    c.cmd("LOGOUT")


def test_zero_slots_refuses(srv):
    s = srv(imap_compress_max="0")
    r = zlogin(s)
    _, tagged = r.cmd("COMPRESS DEFLATE", expect="NO")
    assert b"[LIMIT]" in tagged
    r.cmd("LOGOUT")


@pytest.mark.parametrize("garbage", [
    b"\xff" * 64,                       # block type 3
    b"\x00\x05\x00\x00\x00",            # stored LEN/NLEN mismatch
    b"\x04\xff\xff\xff\xff",            # over-subscribed code lengths
])
def test_bad_deflate_data_closes_only_that_session(srv, garbage):
    s = srv()
    other = zlogin(s)
    other.compress()
    r = zlogin(s)
    r.compress()
    r.sock.sendall(garbage)
    assert r.closed(10 * SLOW)
    other.cmd("NOOP")
    other.cmd("LOGOUT")
    s.w.wait_log("COMPRESS: ")


def test_bomb_is_read_as_the_session_consumes(srv):
    """A few KB that inflate to 4 MB of one command line: inflated only
    as the session consumes it (c->in bounds it), answered BAD, and the
    session goes on compressed."""
    s = srv()
    r = zlogin(s)
    r.compress()
    r.send(b"x1 NOOP " + b"a" * (4 << 20) + b"\r\n")
    assert r.wire_out < 64 * 1024
    _, tagged = r.until("x1", expect="BAD")
    r.cmd("NOOP")
    other = zlogin(s)
    other.cmd("NOOP")
    other.cmd("LOGOUT")
    r.cmd("LOGOUT")


def mbsync_rc(tmp, s, local, compress):
    rc = tmp / ("mbsyncrc-z" if compress else "mbsyncrc")
    rc.write_text(f"""
IMAPAccount wren
Host 127.0.0.1
Port {s.imaps}
User {ALICE}
Pass {ALICE_PW}
SSLType IMAPS
CertificateFile {s.pki / "cert.pem"}
Timeout {int(30 * SLOW)}
{"" if compress else "DisableExtensions COMPRESS=DEFLATE"}

IMAPStore remote
Account wren

MaildirStore local
Path {local}/
Inbox {local}/INBOX

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Near
Sync All
Expunge None
SyncState *
""")
    return rc


@needs_mbsync
def test_mbsync_with_compress(srv, tmp_path):
    """mbsync turns COMPRESS on by itself (-D shows it); its copy must
    be the server's, message for message."""
    need_wren("COMPRESS is wren's")
    s = srv()
    sent = {}
    for i in range(60):
        m = big_message(50 + i * 7, seed=i)
        s.put(m)
        sent[i] = m
    local = tmp_path / "local"
    local.mkdir()
    rc = mbsync_rc(tmp_path, s, local, True)
    p = subprocess.run(["mbsync", "-c", str(rc), "-D", "inbox"],
                       capture_output=True, text=True, timeout=120 * SLOW)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "COMPRESS DEFLATE" in out
    got = set()
    for sub in ("cur", "new"):
        for f in (local / "INBOX" / sub).iterdir():
            data = re.sub(rb"(?m)^X-TUID: .*\n", b"", f.read_bytes())
            got.add(data.replace(b"\n", b"\r\n"))
    assert got == set(sent.values())
