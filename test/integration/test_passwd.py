# SPDX-License-Identifier: ISC
"""`wren passwd`: one line of standard input in, one
{SHA512-CRYPT}$6$<16 salt characters>$<86> line out, checked with other
implementations (openssl passwd, Dovecot's doveadm pw) and accepted by
`wren map -t users`; empty and over-long passwords refused."""
import re
import shutil
import subprocess

import pytest

from conftest import SLOW, SANITIZER_MARKS, run_wren

CRYPT_CHARS = "[./0-9A-Za-z]"
LINE = re.compile(r"\{SHA512-CRYPT\}(\$6\$(" + CRYPT_CHARS + r"{16})\$"
                  + CRYPT_CHARS + r"{86})\n")
# A password with non-ASCII characters (UTF-8 on the wire).
UTF8_PW = "p\u00e4ssw\u00f6rd \u2713 \u043f\u0430\u0440\u043e\u043b\u044c"


def passwd(stdin, *args):
    """Runs `wren passwd` with stdin (str, sent as UTF-8)."""
    p = run_wren("passwd", *args, input=stdin, encoding="utf-8")
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def hash_of(stdin):
    """The {SHA512-CRYPT} line's hash and salt; fails unless exit 0."""
    p = passwd(stdin)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""             # no prompt when stdin is no tty
    m = LINE.fullmatch(p.stdout)
    assert m, repr(p.stdout)
    return m.group(1), m.group(2)


def openssl_sha512(pw, salt):
    """What `openssl passwd -6` makes of pw with salt."""
    return subprocess.run(["openssl", "passwd", "-6", "-salt", salt, pw],
                          capture_output=True, text=True, check=True,
                          timeout=30 * SLOW).stdout.strip()


def test_prints_one_line():
    h, salt = hash_of("s3cret\n")
    assert len(h) == 3 + 16 + 1 + 86
    assert h.startswith("$6$" + salt + "$")


def test_salts_differ():
    h1, salt1 = hash_of("s3cret\n")
    h2, salt2 = hash_of("s3cret\n")
    assert salt1 != salt2
    assert h1 != h2


@pytest.mark.parametrize("stdin, pw", [
    ("s3cret\n", "s3cret"),
    ("s3cret", "s3cret"),                     # no newline before EOF
    ("s3cret\r\n", "s3cret"),                 # a CRLF line
    ("s3cret\nsecond line\n", "s3cret"),      # only the first line
    (" spaces inside and out \n", " spaces inside and out "),
    ("x\n", "x"),
    (UTF8_PW + "\n", UTF8_PW),
    ("a" * 256 + "\n", "a" * 256),            # the longest accepted
], ids=["lf", "eof", "crlf", "first-line", "spaces", "one-char", "utf8",
        "256"])
def test_openssl_agrees(stdin, pw):
    h, salt = hash_of(stdin)
    assert openssl_sha512(pw, salt) == h
    # Another password gives another hash: one character less (openssl
    # passwd cuts passwords at 256 bytes, so not one more; it gives no
    # hash of an empty one, so "xx" for "x").
    other = pw[:-1] if len(pw) > 1 else pw * 2
    assert openssl_sha512(other, salt).startswith("$6$" + salt + "$")
    assert openssl_sha512(other, salt) != h


needs_doveadm = pytest.mark.skipif(shutil.which("doveadm") is None,
                                   reason="doveadm is not installed")


def doveadm_verify(line, pw):
    return subprocess.run(["doveadm", "pw", "-t", line, "-p", pw],
                          capture_output=True, text=True, timeout=30 * SLOW)


@needs_doveadm
def test_doveadm_verifies():
    h, _ = hash_of("s3cret\n")
    p = doveadm_verify("{SHA512-CRYPT}" + h, "s3cret")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "(verified)" in p.stdout


@needs_doveadm
@pytest.mark.parametrize("wrong", ["S3cret", "s3cre", "s3cret ", "s3cretx",
                                   "wrong"])
def test_doveadm_refuses_wrong_password(wrong):
    h, _ = hash_of("s3cret\n")
    p = doveadm_verify("{SHA512-CRYPT}" + h, wrong)
    assert p.returncode != 0, p.stdout
    assert "(verified)" not in p.stdout


def test_users_file_compiles(tmp_path):
    """The line, as printed, is a users table password that `wren map`
    accepts, stored as scheme SHA512-CRYPT and the hash."""
    p = passwd("s3cret\n")
    assert p.returncode == 0, p.stderr
    users = tmp_path / "users"
    users.write_text("alice@example.test:" + p.stdout)
    m = run_wren("map", "-t", "users", str(users))
    assert m.returncode == 0, m.stdout + m.stderr
    cdb = tmp_path / "users.cdb"
    assert cdb.exists()
    if shutil.which("cdb"):
        dump = subprocess.run(["cdb", "-d", str(cdb)], capture_output=True,
                              timeout=30, check=True).stdout
        h = LINE.fullmatch(p.stdout).group(1)
        rec = b"alice@example.test->SHA512-CRYPT\0" + h.encode() + b"\0"
        assert rec in dump, dump


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"],
                         ids=["eof", "lf", "crlf"])
def test_empty_password(stdin):
    p = passwd(stdin)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "empty password" in p.stderr


@pytest.mark.parametrize("n", [257, 300, 5000])
def test_long_password(n):
    p = passwd("a" * n + "\n")
    assert p.returncode == 1
    assert p.stdout == ""
    assert "password longer than 256 bytes" in p.stderr


def test_usage():
    p = passwd("s3cret\n", "extra")
    assert p.returncode == 2
    assert p.stdout == ""
    assert "usage: wren passwd" in p.stderr
