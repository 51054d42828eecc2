#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: TLS handshakes per second on IMAPS (implicit TLS, the
993 listener; here imaps_listen on a free loopback port): full
handshakes (no session offered, so no resumption) and resumed ones
(the previous session offered), sequential, with Python's ssl (one
client context per series; TLS 1.2, as BearSSL has no 1.3). Each
connection: handshake, the "* OK" greeting, LOGOUT. And the server's
RSS growth per TLS session held open (50 IMAPS sessions after the
greeting). Medians of RUNS runs.

    bench_tls.py WREN_BIN DIR [--count N] [--runs R]
"""
import argparse
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import time

from benchlib import free_port, rss_kib


def connect(port, ctx, session=None):
    """TCP connect, TLS handshake (offering session), greeting."""
    raw = socket.create_connection(("127.0.0.1", port), 10)
    # The client's Nagle would hold its handshake flight for our
    # delayed ACK (40 ms) and time that instead of the server.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    f = s.makefile("rb")
    if not f.readline().startswith(b"* OK"):         # greeting
        raise SystemExit("tls: no IMAP greeting after the handshake")
    return s, f


def handshake(port, ctx, session=None):
    """Handshake (offering session), greeting, LOGOUT; returns the
    session and whether it was resumed."""
    s, f = connect(port, ctx, session)
    sess, reused = s.session, s.session_reused
    s.sendall(b"a LOGOUT\r\n")
    while f.readline()[:1] == b"*":                 # * BYE
        pass
    s.close()
    return sess, reused


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    base = os.path.abspath(a.dir)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    f"{base}/key.pem", "-out", f"{base}/cert.pem", "-days",
                    "30", "-subj", "/CN=localhost"], check=True,
                   capture_output=True, timeout=60)
    port = free_port()
    conf = f"{base}/wren.conf"
    with open(conf, "w") as f:
        f.write(f"hostname = localhost\ndata_dir = {base}/data\n"
                f"mail_home = {base}/mail/%d/%n\nusers = {base}/users\n"
                f"aliases = {base}/aliases\nvirtual = {base}/virtual\n"
                f"smtp_listen =\nsubmission_listen =\n"
                f"submissions_listen =\nimap_listen =\n"
                f"imaps_listen = 127.0.0.1:{port}\n"
                f"tls_cert = {base}/cert.pem\ntls_key = {base}/key.pem\n"
                f"max_connections = 128\nmax_connections_per_ip = 128\n"
                f"user =\nlog = stderr\nlog_level = warn\n")
    log = open(f"{base}/wren.log", "wb")
    proc = subprocess.Popen([a.wren, "serve", "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        full, resumed = [], []
        for _ in range(a.runs):
            ctx = client_ctx()      # built once: loading CAs is slow
            t0 = time.monotonic()
            for _ in range(a.count):
                handshake(port, ctx)    # no session offered: full
            full.append(a.count / (time.monotonic() - t0))
            ctx = client_ctx()
            sess, _ = handshake(port, ctx)
            n, t0 = 0, time.monotonic()
            for _ in range(a.count):
                sess, reused = handshake(port, ctx, sess)
                n += reused
            resumed.append(a.count / (time.monotonic() - t0))
        # RSS per open TLS session: 50 sessions after the greeting, idle.
        before = rss_kib(proc.pid)
        held = []
        ctx = client_ctx()
        for _ in range(50):
            held.append(connect(port, ctx)[0])
        time.sleep(0.5)
        after = rss_kib(proc.pid)
        for s in held:
            s.sendall(b"a LOGOUT\r\n")
            s.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    print(f"tls: full handshakes (IMAPS, P-256, 1 client): median "
          f"{statistics.median(full):.0f}/s [{min(full):.0f}-"
          f"{max(full):.0f}] over {a.runs} runs of {a.count}")
    print(f"tls: resumed handshakes: median {statistics.median(resumed):.0f}"
          f"/s [{min(resumed):.0f}-{max(resumed):.0f}] ({n}/{a.count} "
          f"resumed in the last run)")
    print(f"tls: RSS {before} KiB idle -> {after} KiB with 50 IMAPS "
          f"sessions ({(after - before) / 50:.1f} KiB each)")


if __name__ == "__main__":
    main()
