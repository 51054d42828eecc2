# SPDX-License-Identifier: ISC
"""`wren check` validates the certificate and key (SPEC section 2; the
TLS issue): EC and RSA, PKCS#8 and traditional keys, a Let's Encrypt
style fullchain, and the ways a pair goes wrong."""
import subprocess

import pytest

from conftest import run_wren


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ec.key",
            "-out", "ec.crt", "-days", "90", "-subj", "/CN=mail.example",
            cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            "rsa.key", "-out", "rsa.crt", "-days", "5", "-subj",
            "/CN=mail.example", cwd=d)
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "rsa.key", "-out",
            "rsa8.key", cwd=d)
    openssl("ec", "-in", "ec.key", "-out", "ectrad.key", cwd=d)
    # A CA and a leaf signed by it: fullchain.pem = leaf, then the CA.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.crt", "-days", "365", "-subj", "/CN=Test CA",
            cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj",
            "/CN=mail.example", cwd=d)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "60",
            cwd=d)
    (d / "fullchain.pem").write_bytes((d / "leaf.crt").read_bytes() +
                                      (d / "ca.crt").read_bytes())
    (d / "wrongorder.pem").write_bytes((d / "ca.crt").read_bytes() +
                                       (d / "leaf.crt").read_bytes())
    (d / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\n"
                                   "bm90IGEgY2VydA==\n"
                                   "-----END CERTIFICATE-----\n")
    return d


def check(tmp_path, pki, cert, key):
    c = tmp_path / "c.conf"
    c.write_text(f"tls_cert = {pki / cert}\ntls_key = {pki / key}\n")
    return run_wren("check", "-c", str(c))


@pytest.mark.parametrize("cert,key,what,chain", [
    ("ec.crt", "ec.key", "EC", 1),
    ("ec.crt", "ectrad.key", "EC", 1),
    ("rsa.crt", "rsa.key", "RSA", 1),
    ("rsa.crt", "rsa8.key", "RSA", 1),
    ("fullchain.pem", "leaf.key", "EC", 2),
])
def test_good_pairs(tmp_path, pki, cert, key, what, chain):
    p = check(tmp_path, pki, cert, key)
    assert p.returncode == 0, p.stderr
    s = "" if chain == 1 else "s"
    assert f"# tls: {chain} certificate{s}, {what} key matches, expires " \
        in p.stdout


def test_expiry_soon_is_a_warning(tmp_path, pki):
    p = check(tmp_path, pki, "rsa.crt", "rsa.key")
    assert p.returncode == 0
    assert "warning: the certificate expires in" in p.stderr


@pytest.mark.parametrize("cert,key,message", [
    ("ec.crt", "rsa.key", "the key does not belong to the first "
     "certificate"),
    ("wrongorder.pem", "leaf.key", "the chain must start with the "
     "server's own certificate"),
    ("garbage.pem", "ec.key", "the first certificate does not decode"),
    ("ec.crt", "ec.crt", "expected one private key, found 0"),
    ("ec.crt", "missing.key", "missing.key: No such file or directory"),
])
def test_bad_pairs(tmp_path, pki, cert, key, message):
    p = check(tmp_path, pki, cert, key)
    assert p.returncode == 1
    assert message in p.stderr


def test_no_certificate_at_all_is_a_warning(tmp_path):
    c = tmp_path / "c.conf"
    c.write_text(f"tls_cert = {tmp_path}/none.pem\n"
                 f"tls_key = {tmp_path}/none.key\n")
    p = run_wren("check", "-c", str(c))
    assert p.returncode == 0
    assert "does not exist: no STARTTLS and no implicit TLS" in p.stderr
