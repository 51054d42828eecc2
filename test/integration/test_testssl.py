# SPDX-License-Identifier: ISC
"""testssl.sh (Debian's `testssl`) against implicit TLS on the
submissions port (465 in production):
no finding worse than LOW, except the ones a self-signed test
certificate must have (chain of trust, no OCSP/CRL). Its summary of
protocols, ciphers and vulnerabilities is printed into the test output.
Host only: under QEMU it would take many minutes."""
import json
import shutil
import subprocess

import pytest

from conftest import WREN_BIN, WREN_RUN, free_port, run_wren

TEST_CERT_FINDINGS = {"cert_chain_of_trust", "cert_crlDistributionPoints",
                      "cert_ocspURL", "cert_revocation", "OCSP_stapling",
                      "cert_trust", "DNS_CAArecord", "cert_caIssuers"}


@pytest.mark.skipif(WREN_RUN != [], reason="too slow under QEMU")
@pytest.mark.skipif("-san/" in WREN_BIN,
                    reason="run once, against the release build")
@pytest.mark.skipif(shutil.which("testssl") is None,
                    reason="testssl.sh not installed")
def test_testssl_finds_nothing_worse_than_low(wren, tmp_path):
    port = free_port()
    w = wren(submissions_listen=f"127.0.0.1:{port}",
             tls_cert=str(tmp_path / "cert.pem"),
             tls_key=str(tmp_path / "key.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    str(tmp_path / "key.pem"), "-out",
                    str(tmp_path / "cert.pem"), "-days", "200", "-subj",
                    "/CN=mail.example.test", "-addext",
                    "subjectAltName=DNS:mail.example.test"],
                   check=True, capture_output=True, timeout=60)
    (w.dir / "users").write_text("alice@example.test:{PLAIN}x\n")
    assert run_wren("map", "-t", "users", str(w.dir / "users")) \
        .returncode == 0
    w.start()
    out = tmp_path / "testssl.json"
    p = subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings",
                        "off", "--jsonfile", str(out),
                        f"127.0.0.1:{port}"], capture_output=True,
                       text=True, timeout=600)
    print(p.stdout)
    findings = json.loads(out.read_text())
    bad = [f for f in findings
           if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")
           and f.get("id") not in TEST_CERT_FINDINGS]
    assert bad == [], json.dumps(bad, indent=1)
    offered = {f["id"]: f["finding"] for f in findings
               if f.get("id", "").startswith(("SSLv", "TLS1"))}
    assert offered.get("TLS1_2", "").startswith("offered"), offered
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert "not offered" in offered.get(old, "not offered"), offered
    assert w.stop() == 0
