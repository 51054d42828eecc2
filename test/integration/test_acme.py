# SPDX-License-Identifier: ISC
"""ACME (RFC 8555) against Pebble, Let's Encrypt's test server.

Pebble (Debian's `pebble`) runs on loopback high ports with a
certificate from a throw-away CA made here (wren trusts it through
relay_ca_file); its validation authority resolves every name through
pebble-challtestsrv (same package) answering 127.0.0.1, and connects
for TLS-ALPN-01 to wren's IMAPS listener (Pebble's tlsPort). The
issued chain is checked against Pebble's own root, fetched from its
management port. A forced renewal (acme_renew_before longer than the
certificate's life, then SIGHUP) must swap the certificate for new
connections while an IMAPS session opened before keeps working.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest

from conftest import SLOW, free_port, run_wren

pytestmark = pytest.mark.skipif(
    shutil.which("pebble") is None or
    shutil.which("pebble-challtestsrv") is None,
    reason="pebble not installed (board/deps.sh test)")


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout * SLOW
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


class Pebble:
    """Pebble and its fake DNS, stopped by PID."""

    def __init__(self, d, tls_port, nonce_reject=0, ports=None,
                 http_port=None):
        self.d = d
        self.port, self.mgmt, self.dns = ports or (
            free_port(), free_port(), free_port())
        self.ca = d / "ca.pem"
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True,
                                       cwd=d, timeout=30)
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
           "-out", "ca.pem", "-days", "2", "-subj", "/CN=wren test CA")
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-nodes", "-keyout", "wfe.key",
           "-out", "wfe.csr", "-subj", "/CN=localhost")
        (d / "ext").write_text("subjectAltName=DNS:localhost\n")
        sh("openssl", "x509", "-req", "-in", "wfe.csr", "-CA", "ca.pem",
           "-CAkey", "ca.key", "-CAcreateserial", "-out", "wfe.pem",
           "-days", "2", "-extfile", "ext")
        (d / "pebble.json").write_text(
            '{"pebble": {"listenAddress": "127.0.0.1:%d",'
            '"managementListenAddress": "127.0.0.1:%d",'
            '"certificate": "%s", "privateKey": "%s",'
            '"httpPort": %d, "tlsPort": %d, "ocspResponderURL": "",'
            '"externalAccountBindingRequired": false}}' % (
                self.port, self.mgmt, d / "wfe.pem", d / "wfe.key",
                http_port or free_port(), tls_port))
        self.logs = []
        self.procs = []
        self.start(["pebble-challtestsrv", "-dns01", f"127.0.0.1:{self.dns}",
                    "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                    "-http01", "", "-https01", "", "-tlsalpn01", "",
                    "-management", f"127.0.0.1:{free_port()}"], {}, "dns")
        env = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_AUTHZREUSE": "0",
               "PEBBLE_WFE_NONCEREJECT": str(nonce_reject)}
        self.start(["pebble", "-config", str(d / "pebble.json"),
                    "-dnsserver", f"127.0.0.1:{self.dns}"], env, "pebble")
        wait_port(self.port)
        wait_port(self.mgmt)
        self.directory = f"https://localhost:{self.port}/dir"

    def start(self, argv, env, name):
        log = open(self.d / f"{name}.log", "wb")
        self.logs.append(log)
        self.procs.append(subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env={**os.environ, **env}))

    def root(self):
        """Pebble's root CA, PEM (new at each Pebble start)."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.check_hostname = False
        with urllib.request.urlopen(
                f"https://127.0.0.1:{self.mgmt}/roots/0", context=ctx,
                timeout=10) as r:
            return r.read().decode()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        for log in self.logs:
            log.close()


@pytest.fixture
def pebble(tmp_path, request):
    made = []

    def make(tls_port, **kw):
        d = tmp_path / f"pebble{len(made)}"
        d.mkdir()
        p = Pebble(d, tls_port, **kw)
        made.append(p)
        return p

    yield make
    failed = getattr(request.node, "rep_call", None)
    for p in made:
        p.stop()
        if failed is not None and failed.failed:
            for name in ("pebble.log", "dns.log"):
                print(f"--- {name} ---\n{(p.d / name).read_text()[-4000:]}")


def acme_wren(wren, pebble, **keys):
    imaps = free_port()
    p = pebble(imaps, **keys.pop("pebble_kw", {}))
    w = wren(imaps_listen=f"127.0.0.1:{imaps}", relay_ca_file=str(p.ca),
             acme_email="postmaster@example.test",
             acme_directory=p.directory,
             acme_names="autoconfig.example.test mta-sts.example.test",
             log_level="debug", **keys)
    return w, p, imaps


def served_cert(port, root_pem, name="mail.example.test"):
    """The leaf certificate (DER) a new IMAPS connection gets, verified
    against Pebble's root for name."""
    ctx = ssl.create_default_context(cadata=root_pem)
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        with ctx.wrap_socket(s, server_hostname=name) as t:
            return t.getpeercert(binary_form=True)


def test_issue_tls_alpn(wren, pebble):
    """First start with no certificate: an account, an order for the
    three names, TLS-ALPN-01 on the IMAPS listener, the chain written
    with its key 0600 and served at once."""
    w, p, imaps = acme_wren(wren, pebble)
    before = run_wren("check", "-c", str(w.conf))
    assert "acme: no certificate yet" in before.stderr
    w.start()
    w.wait_log("acme: new certificate", timeout=60)
    after = run_wren("check", "-c", str(w.conf))
    assert "acme: no certificate yet" not in after.stderr
    assert "tls_cert: warning" not in after.stderr
    acme = w.dir / "data/acme"
    for f in ("account.key", "privkey.pem"):
        assert (acme / f).stat().st_mode & 0o777 == 0o600, f
    assert (acme / "account.url").read_text().startswith("https://")
    log = w.log()
    assert "acme-tls/1 challenge answered" in log
    root = p.root()
    for name in ("mail.example.test", "autoconfig.example.test",
                 "mta-sts.example.test"):
        assert served_cert(imaps, root, name)
    # The account is reused by the next start (no second newAccount).
    w.stop()
    w2_log_start = len(w.log())
    w.start()
    time.sleep(2 * SLOW)
    assert "acme: account https" not in w.log()[w2_log_start:]
    assert served_cert(imaps, root)
    w.stop()


def test_forced_renewal_under_open_imaps(wren, pebble):
    """acme_renew_before longer than the certificate's life and a
    SIGHUP: a new certificate for new connections, while an IMAPS
    session opened before keeps working on the old one."""
    w, p, imaps = acme_wren(wren, pebble)
    w.start()
    w.wait_log("acme: new certificate", timeout=60)
    root = p.root()
    old = served_cert(imaps, root)
    ctx = ssl.create_default_context(cadata=root)
    sock = socket.create_connection(("127.0.0.1", imaps), 10)
    tls = ctx.wrap_socket(sock, server_hostname="mail.example.test")
    held_cert = tls.getpeercert(binary_form=True)
    assert held_cert == old
    tls.settimeout(10 * SLOW)
    assert tls.recv(4096).startswith(b"* OK")
    start = len(w.log())
    w.keys["acme_renew_before"] = "3650d"	# Pebble's: 5 years
    w.write_config()
    w.send(signal.SIGHUP)
    w.wait_log("acme: new certificate", timeout=60, start=start)
    new = served_cert(imaps, root)
    assert new != old
    # The session opened before goes on, on its old pair.
    tls.sendall(b"a1 NOOP\r\n")
    assert b"a1 OK" in tls.recv(4096)
    tls.close()
    w.stop()


def test_bad_nonces_are_retried(wren, pebble):
    """Pebble rejecting half of the good nonces (RFC 8555 6.5): each
    badNonce answer is retried with the nonce it carries."""
    w, p, imaps = acme_wren(wren, pebble, pebble_kw={"nonce_reject": 50})
    w.start()
    w.wait_log("acme: new certificate", timeout=90)
    assert "badNonce, sending again" in w.log()
    assert served_cert(imaps, p.root())
    w.stop()


def test_acme_off_keeps_tls_cert(wren, tmp_path):
    """acme_email empty: tls_cert/tls_key are served as written
    (certbot, acme.sh), and no data_dir/acme appears."""
    imaps = free_port()
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj",
                    "/CN=mail.example.test", "-addext",
                    "subjectAltName=DNS:mail.example.test"],
                   check=True, capture_output=True, timeout=30)
    w = wren(imaps_listen=f"127.0.0.1:{imaps}", tls_cert=str(cert),
             tls_key=str(key))
    w.start()
    assert served_cert(imaps, cert.read_text())
    assert not (w.dir / "data/acme").exists()
    w.stop()


def test_failed_challenge_is_retried_later(wren, pebble):
    """The validation server cannot reach wren (Pebble's tlsPort is a
    port nobody listens on): the challenge's error is logged and the
    order retried after ACME_RETRY_MIN_S (300 s) +-25 %."""
    imaps = free_port()
    p = pebble(free_port())
    w = wren(imaps_listen=f"127.0.0.1:{imaps}", relay_ca_file=str(p.ca),
             acme_email="postmaster@example.test",
             acme_directory=p.directory, log_level="debug")
    w.start()
    w.wait_log("acme: challenge failed", timeout=60)
    w.wait_log("next try in", timeout=10)
    m = re.search(r"authorization not valid \(HTTP 200\); next try in "
                  r"(\d+) s", w.log())
    assert m, w.log()
    assert 225 <= int(m.group(1)) <= 375
    assert not (w.dir / "data/acme/fullchain.pem").exists()
    w.stop()


def test_account_unknown_after_a_server_restart(wren, pebble):
    """Pebble started again forgets every account: the renewal's first
    request answers accountDoesNotExist, and wren makes a new account
    and gets the certificate in the same round."""
    w, p, imaps = acme_wren(wren, pebble)
    w.start()
    w.wait_log("acme: new certificate", timeout=60)
    p.stop()
    p2 = pebble(imaps, ports=(p.port, p.mgmt, p.dns))
    start = len(w.log())
    w.keys["acme_renew_before"] = "3650d"
    w.keys["relay_ca_file"] = str(p2.ca)
    w.write_config()
    w.send(signal.SIGHUP)
    w.wait_log("acme: new certificate", timeout=60, start=start)
    assert "unknown to the server: a new one" in w.log()[start:]
    assert served_cert(imaps, p2.root())
    w.stop()


def test_issue_http01(wren, pebble):
    """acme_challenge = http-01: the key authorizations are served by
    http_listen at /.well-known/acme-challenge/TOKEN (Pebble's
    httpPort), and the chain is served on https_listen too."""
    http, https = free_port(), free_port()
    p = pebble(free_port(), http_port=http)
    w = wren(http_listen=f"127.0.0.1:{http}",
             https_listen=f"127.0.0.1:{https}", relay_ca_file=str(p.ca),
             acme_email="postmaster@example.test",
             acme_directory=p.directory, acme_challenge="http-01",
             acme_names="autoconfig.example.test", log_level="debug")
    w.start()
    w.wait_log("acme: new certificate", timeout=60)
    assert "answering http-01 for autoconfig.example.test" in w.log()
    assert "acme-tls/1" not in w.log()
    root = p.root()
    assert served_cert(https, root, "autoconfig.example.test")
    w.stop()


def test_issue_tls_alpn_on_https_listen(wren, pebble):
    """The production layout: the validation server connects to port
    443, here https_listen, and gets the challenge certificate there."""
    https = free_port()
    p = pebble(https)
    w = wren(https_listen=f"127.0.0.1:{https}", relay_ca_file=str(p.ca),
             acme_email="postmaster@example.test",
             acme_directory=p.directory, log_level="debug")
    w.start()
    w.wait_log("acme: new certificate", timeout=60)
    assert "acme-tls/1 challenge answered" in w.log()
    assert served_cert(https, p.root())
    w.stop()
