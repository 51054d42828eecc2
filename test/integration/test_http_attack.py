# SPDX-License-Identifier: ISC
"""The HTTP listener (issue 16) as hostile or broken clients drive it:
malformed and oversized heads, smuggling attempts, bodies where none
belong, random bytes, pipelining past the keep-alive bound, and slow
clients (a byte a second: slowloris; a stalled body; a stalled TLS
handshake), each cut by http_timeout while another client keeps being
served. The server's log must hold no sanitizer report (Wren.stop).

Run against the ASan+UBSan binary to catch memory errors:
  WREN_BIN=build/host-san/wren python3 -m pytest \\
      test/integration/test_http_attack.py
"""
import random
import socket
import ssl
import threading
import time

import pytest

from conftest import SLOW
from http_helpers import get, http_server, raw
from imaplib_helpers import REFERENCE, make_pki

LIMIT = 3                       # http_timeout below
MARGIN = 5 * SLOW
TB = "/.well-known/autoconfig/mail/config-v1.1.xml"

pytestmark = pytest.mark.skipif(bool(REFERENCE),
                                reason="attacks wren itself")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    s = http_server(wren, pki, http_timeout=str(LIMIT))
    yield s
    if s.w.alive():
        assert s.stop() == 0


def status(resp):
    """The status code of the first response in resp (bytes)."""
    assert resp.startswith(b"HTTP/1.1 "), resp[:80]
    return int(resp[9:12])


H = b"Host: example.test\r\n"
HOSTILE = [
    ("bare LF", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("Transfer-Encoding chunked", b"POST /autodiscover/autodiscover.xml "
     b"HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400),
    ("CL and TE (request smuggling)", b"POST /autodiscover/autodiscover."
     b"xml HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: "
     b"chunked\r\n\r\n0\r\n\r\n", 400),
    ("two Content-Lengths", b"POST /autodiscover/autodiscover.xml "
     b"HTTP/1.1\r\n" + H + b"Content-Length: 0\r\nContent-Length: 5\r\n"
     b"\r\nhello", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", 400),
    ("no Host in 1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n b\r\n\r\n", 400),
    ("NUL in a header", b"GET / HTTP/1.1\r\n" + H + b"X: a\0b\r\n\r\n",
     400),
    ("absolute-form", b"GET http://evil/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    ("HTTP/1.2", b"GET / HTTP/1.2\r\n" + H + b"\r\n", 505),
    ("TLS hello on the plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01"
     b"\xfc\x03\x03" + bytes(32), 400),
    ("request line of 5000 bytes", b"GET /" + b"a" * 5000 +
     b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("header line of 5000 bytes", b"GET / HTTP/1.1\r\n" + H + b"X: " +
     b"b" * 5000 + b"\r\n\r\n", 431),
    ("100 header fields", b"GET / HTTP/1.1\r\n" + H + b"X: y\r\n" * 100 +
     b"\r\n", 431),
    ("head over half the buffer", b"GET / HTTP/1.1\r\n" + H +
     (b"X-Padding: " + b"p" * 900 + b"\r\n") * 3 + b"\r\n", 431),
    ("body on a GET", b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n"
     b"\r\nabc", 400),
    ("body too big for Autodiscover", b"POST /autodiscover/autodiscover."
     b"xml HTTP/1.1\r\n" + H + b"Content-Length: 100000\r\n\r\n", 413),
    ("negative Content-Length", b"POST /autodiscover/autodiscover.xml "
     b"HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("8-bit target", "GET /é HTTP/1.1\r\n".encode() + H + b"\r\n", 400),
    ("DELETE", b"DELETE / HTTP/1.1\r\n" + H + b"\r\n", 405),
    ("CONNECT", b"CONNECT example.test:443 HTTP/1.1\r\n" + H + b"\r\n",
     400),
]


@pytest.mark.parametrize("what,data,want", HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_hostile_head(srv, what, data, want):
    resp = raw(srv.http, data)
    assert status(resp) == want, resp[:200]
    # Refused heads close the connection; nothing more came.
    assert resp.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in resp
    assert get(srv, TB)[0] == 200


def test_random_bytes(srv):
    rnd = random.Random(16)
    for _ in range(200):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1,
                                                                   600)))
        raw(srv.http, data, timeout=LIMIT + MARGIN)
    assert get(srv, TB)[0] == 200


def test_pipelined_and_keepalive_bound(srv):
    one = b"GET " + TB.encode() + b" HTTP/1.1\r\n" + H + b"\r\n"
    resp = raw(srv.http, one * 40)
    # HTTP_KEEPALIVE_MAX (32) answered, the last saying close.
    assert resp.count(b"HTTP/1.1 200 OK") == 32
    last = resp.rfind(b"HTTP/1.1 200 OK")
    assert b"Connection: close" in resp[last:]
    assert resp.count(b"Connection: close") == 1


def test_head_has_no_body(srv):
    resp = raw(srv.http, b"HEAD " + TB.encode() + b" HTTP/1.1\r\n" + H +
               b"Connection: close\r\n\r\n")
    head, _, body = resp.partition(b"\r\n\r\n")
    assert status(resp) == 200 and body == b""
    assert b"Content-Length: " in head


def serve_meanwhile(srv, stop, out):
    """Another client fetching the document over and over."""
    out["served"] = 0
    out["error"] = None
    while not stop.is_set():
        try:
            st = get(srv, TB)[0]
        except OSError as e:
            out["error"] = repr(e)
            return
        if st != 200:
            out["error"] = st
            return
        out["served"] += 1
        time.sleep(0.1)


def slow_send(port, data, out, tls_ctx=None, raw_hello=None):
    """Sends data one byte a second; out["closed"]: seconds until the
    server closed, or None if it still held the slot at LIMIT+MARGIN."""
    out["closed"] = None
    s = socket.create_connection(("127.0.0.1", port), timeout=MARGIN)
    try:
        if raw_hello is not None:
            s.sendall(raw_hello)       # a handshake that never ends
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < LIMIT + MARGIN:
            try:
                if data:
                    s.sendall(data[i % len(data):][:1])
                    i += 1
                s.settimeout(max(0.01, t0 + i - time.monotonic())
                             if data else 1)
                while True:
                    b = s.recv(4096)
                    if b == b"":
                        out["closed"] = time.monotonic() - t0
                        return
            except socket.timeout:
                continue
            except OSError:
                out["closed"] = time.monotonic() - t0
                return
    finally:
        s.close()


def run_slow(srv, clients):
    stop = threading.Event()
    meanwhile = {}
    th = [threading.Thread(target=serve_meanwhile,
                           args=(srv, stop, meanwhile), daemon=True)]
    th += [threading.Thread(target=slow_send, args=a, daemon=True)
           for a in clients]
    for t in th:
        t.start()
    for t in th[1:]:
        t.join(LIMIT + 3 * MARGIN)
        assert not t.is_alive()
    stop.set()
    th[0].join(MARGIN)
    assert meanwhile["error"] is None, meanwhile
    assert meanwhile["served"] >= 5, meanwhile


def test_slowloris(srv):
    head, body, idle, tls = {}, {}, {}, {}
    run_slow(srv, [
        # A header that never ends, a byte a second.
        (srv.http, b"GET / HTTP/1.1\r\n" + H + b"X-a: " + b"b" * 200, head),
        # A body promised and never sent.
        (srv.http, b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\n" + H +
         b"Content-Length: 1000\r\n\r\n<", body),
        # Connect and say nothing.
        (srv.http, b"", idle),
        # A TLS hello cut short, then nothing.
        (srv.https, b"", tls, None, b"\x16\x03\x01\x00\x40\x01"),
    ])
    for name, out in (("head", head), ("body", body), ("idle", idle),
                      ("tls", tls)):
        assert out["closed"] is not None, f"{name}: kept its slot"
        assert out["closed"] < LIMIT + MARGIN, name
    srv.w.wait_log("disconnect: session time limit")


def test_keepalive_gets_a_new_deadline(srv):
    """A request each second on one connection, past http_timeout:
    each request has its own limit, counted from the reply before."""
    one = b"GET " + TB.encode() + b" HTTP/1.1\r\n" + H + b"\r\n"
    with socket.create_connection(("127.0.0.1", srv.http),
                                  timeout=MARGIN) as s:
        f = s.makefile("rb")
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < LIMIT + 2:
            s.sendall(one)
            line = f.readline()
            assert line.startswith(b"HTTP/1.1 200"), line
            length = 0
            while True:
                h = f.readline()
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
                if h == b"\r\n":
                    break
            f.read(length)
            n += 1
            time.sleep(1)
        assert n >= LIMIT + 1
        # Then idle: cut at the limit.
        s.settimeout(LIMIT + MARGIN)
        assert s.recv(10) == b""


def test_https_hostile(srv, pki):
    ctx = ssl.create_default_context(cafile=str(pki / "cert.pem"))
    with socket.create_connection(("127.0.0.1", srv.https),
                                  timeout=MARGIN) as s0:
        with ctx.wrap_socket(s0, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET / HTTP/1.1\r\n" + H + b"X: " + b"z" * 3000 +
                      b"\r\n\r\n")
            resp = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                resp += b
    assert status(resp) == 431
    assert get(srv, TB, tls=True)[0] == 200
