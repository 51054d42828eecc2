# SPDX-License-Identifier: ISC
"""`wren dkim-keygen`: the key OpenSSL accepts, mode 0600, never
overwritten; the TXT record's p= is the key's public half, in strings of
at most 255 bytes; and a key it makes signs mail that Python's dkim
module verifies with that record."""
import base64
import os
import re
import stat
import subprocess

import pytest

from conftest import run_wren

dkim = pytest.importorskip("dkim")

STRING = re.compile(r'"([^"]*)"')


def record_of(stdout, selector, domain):
    """The TXT record's text (strings joined) from zone-file output, and
    the strings as written."""
    lines = [ln for ln in stdout.splitlines() if not ln.startswith(";")]
    text = "\n".join(lines)
    assert text.startswith(f"{selector}._domainkey.{domain}. IN TXT ( "), \
        stdout
    assert text.endswith(" )")
    strings = STRING.findall(text)
    return "".join(strings), strings


def openssl_pub_b64(path):
    der = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout",
                          "-outform", "DER"], capture_output=True,
                         check=True, timeout=30).stdout
    return base64.b64encode(der).decode()


@pytest.fixture
def tmp_path(tmp_path):
    """An empty working directory; an empty config beside it, so that
    no /etc/wren/wren.conf of this machine changes the defaults."""
    (tmp_path / "empty.conf").write_text("")
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def keygen(tmp_path, *args):
    return run_wren("dkim-keygen", "-c", str(tmp_path.parent /
                                              "empty.conf"), *args,
                    cwd=str(tmp_path))


def test_key_and_record(tmp_path):
    key = tmp_path / "k.pem"
    p = keygen(tmp_path, "-o", str(key), "example.org", "sel1")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    chk = subprocess.run(["openssl", "rsa", "-check", "-noout", "-in",
                          str(key)], capture_output=True, text=True,
                         timeout=30)
    assert chk.returncode == 0 and "RSA key ok" in chk.stdout, chk.stderr
    bits = subprocess.run(["openssl", "rsa", "-in", str(key), "-noout",
                           "-text"], capture_output=True, text=True,
                          timeout=30).stdout
    assert "2048 bit" in bits
    txt, strings = record_of(p.stdout, "sel1", "example.org")
    assert all(len(s.encode()) <= 255 for s in strings), strings
    assert len(strings) >= 3    # 2048 bits: 392 base64 bytes need two
    tags = dict(t.strip().split("=", 1) for t in txt.split(";")
                if t.strip())
    assert tags["v"] == "DKIM1" and tags["k"] == "rsa"
    assert tags["p"] == openssl_pub_b64(key)


def test_print_again_from_the_key(tmp_path):
    key = tmp_path / "k.pem"
    first = keygen(tmp_path, "-o", str(key), "example.org", "s")
    again = keygen(tmp_path, "-p", str(key), "example.org.", "s")
    assert again.returncode == 0, again.stderr
    assert record_of(again.stdout, "s", "example.org") == \
        record_of(first.stdout, "s", "example.org")
    # A PKCS#8 key made by OpenSSL prints the same way.
    p8 = tmp_path / "p8.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:1024", "-out", str(p8)], check=True,
                   capture_output=True, timeout=60)
    p = keygen(tmp_path, "-p", str(p8), "example.org", "s")
    assert p.returncode == 0, p.stderr
    txt, _ = record_of(p.stdout, "s", "example.org")
    assert txt.endswith("p=" + openssl_pub_b64(p8))


def test_default_file_name_and_selector(tmp_path):
    p = keygen(tmp_path, "example.net")
    assert p.returncode == 0, p.stderr
    made = list(tmp_path.glob("example.net.*.key"))
    assert len(made) == 1
    selector = made[0].name[len("example.net."):-len(".key")]
    assert re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", selector)
    record_of(p.stdout, selector, "example.net")


def test_never_overwrites(tmp_path):
    key = tmp_path / "k.pem"
    assert keygen(tmp_path, "-o", str(key), "example.org", "a") \
        .returncode == 0
    before = key.read_bytes()
    p = keygen(tmp_path, "-o", str(key), "example.org", "a")
    assert p.returncode == 1
    assert "already exists" in p.stderr and str(key) in p.stderr
    assert p.stdout == ""
    assert key.read_bytes() == before
    # Nor through a symbolic link to a file that is not there yet.
    link = tmp_path / "link.pem"
    link.symlink_to(tmp_path / "target.pem")
    p = keygen(tmp_path, "-o", str(link), "example.org", "a")
    assert p.returncode == 1
    assert not (tmp_path / "target.pem").exists()


def test_defaults_from_the_config(tmp_path):
    """dkim_selector, and dkim_key with %d: the key lands where serve
    looks for it, and the record names the selector serve signs with."""
    conf = tmp_path.parent / "k.conf"
    conf.write_text(f"dkim_selector = mail2026\n"
                    f"dkim_key = {tmp_path}/%d.pem\n")
    p = run_wren("dkim-keygen", "-c", str(conf), "example.org")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "example.org.pem").st_mode) \
        == 0o600
    record_of(p.stdout, "mail2026", "example.org")
    # A selector given wins; a dotted one is a selector too (RFC 6376).
    p = run_wren("dkim-keygen", "-c", str(conf), "-o",
                 str(tmp_path / "b.pem"), "example.org", "b.2026")
    assert p.returncode == 0, p.stderr
    record_of(p.stdout, "b.2026", "example.org")
    p = run_wren("dkim-keygen", "-c", str(tmp_path / "absent.conf"),
                 "example.org")
    assert p.returncode == 2 and "absent.conf" in p.stderr


def test_ed25519_is_a_clear_error(tmp_path):
    p = keygen(tmp_path, "-t", "ed25519", "example.org", "e")
    assert p.returncode == 1
    assert "ed25519" in p.stderr.lower() and "not built" in p.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    [],
    ["-t", "dsa", "example.org"],
    ["../etc", "x"],
    ["example.org", "a/b"],
    ["example.org", "a..b"],
    ["example.org", "x" * 64],
    ["-bad.example", "s"],
    ["example.org", "s", "extra"],
])
def test_bad_usage(tmp_path, args):
    p = keygen(tmp_path, *args)
    assert p.returncode == 2, p.stdout
    assert list(tmp_path.iterdir()) == []


def test_signs_mail_that_dkim_verifies(tmp_path):
    key = tmp_path / "k.pem"
    p = keygen(tmp_path, "-o", str(key), "example.org", "mail")
    assert p.returncode == 0, p.stderr
    txt, _ = record_of(p.stdout, "mail", "example.org")
    msg = (b"From: Alice <alice@example.org>\r\n"
           b"To: bob@example.net\r\n"
           b"Subject: signed by a key from wren dkim-keygen\r\n"
           b"Date: Mon, 07 Dec 2026 17:00:00 +0000\r\n"
           b"Message-ID: <k1@example.org>\r\n"
           b"\r\n"
           b"Hello.\r\n")
    sig = dkim.sign(msg, b"mail", b"example.org", key.read_bytes(),
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject",
                                     b"date", b"message-id"])

    def dns(name, timeout=5):
        assert name == b"mail._domainkey.example.org."
        return txt.encode()

    assert dkim.verify(sig + msg, dnsfunc=dns)
    # The test can fail: an altered body does not verify.
    assert not dkim.verify(sig + msg.replace(b"Hello", b"Hullo"),
                           dnsfunc=dns)
