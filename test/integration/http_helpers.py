# SPDX-License-Identifier: ISC
"""A wren with the HTTP listeners (srv.http, srv.https) next to IMAP,
IMAPS, submission and submissions on free loopback ports, and small
HTTP clients (http.client, raw sockets)."""
import http.client
import socket

from conftest import SLOW, free_port
from imaplib_helpers import client_ctx, imap_server

TIMEOUT = 10 * SLOW


def http_server(wren, pki, start=True, **keys):
    ports = set()
    while len(ports) < 4:
        ports.add(free_port())
    sub, subs, h, hs = sorted(ports)
    conf = {"submission_listen": f"127.0.0.1:{sub}",
            "submissions_listen": f"127.0.0.1:{subs}",
            "http_listen": f"127.0.0.1:{h}",
            "https_listen": f"127.0.0.1:{hs}",
            "mta_sts_mode": "enforce"}
    conf.update(keys)
    srv = imap_server(wren, pki, start=False, **conf)
    srv.submission, srv.submissions, srv.http, srv.https = sub, subs, h, hs
    if start:
        srv.start()
    return srv


def get(srv, path, tls=False, method="GET", headers=None, body=None):
    """One request on a new connection: (status, headers dict, body)."""
    if tls:
        c = http.client.HTTPSConnection("127.0.0.1", srv.https,
                                        timeout=TIMEOUT,
                                        context=client_ctx(srv.pki))
    else:
        c = http.client.HTTPConnection("127.0.0.1", srv.http,
                                       timeout=TIMEOUT)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, \
            r.read()
    finally:
        c.close()


def raw(port, data, timeout=TIMEOUT):
    """Sends data, returns everything read until the server closes (or
    the timeout: then what came so far)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (socket.timeout, ConnectionResetError):
            pass
    return out
