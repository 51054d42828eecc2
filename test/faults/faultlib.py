# SPDX-License-Identifier: ISC
"""Helpers of the fault tests: self-checking messages, Maildir scans,
a local wren with a few accounts, and SMTP transactions that report the
code that ended them instead of raising.

Every message carries X-Fault-Tag (unique) and X-Body-SHA256 (of its
body with LF line ends, as wren stores it), so a stored file proves on
its own whether it is whole.
"""
import base64
import hashlib
import os
import random
import smtplib
import socket
import time
from pathlib import Path

from conftest import SLOW, free_port, run_wren

DOMAIN = "example.test"
USERS = [f"u{i}@{DOMAIN}" for i in range(4)]


def scaled(seconds):
    return seconds * SLOW


def body_of(size):
    """size bytes (about) of text lines, CRLF ends, random content."""
    raw = os.urandom(max(1, size * 3 // 4))
    text = base64.b64encode(raw).decode()
    lines = [text[i:i + 76] for i in range(0, len(text), 76)]
    return "\r\n".join(lines) + "\r\n"


def sha_lf(data):
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def make_message(tag, size, to="u0@example.test"):
    """(bytes, sha) of a message of about size bytes tagged tag."""
    body = body_of(size)
    sha = sha_lf(body.encode())
    head = (f"From: <sender@remote.example>\r\nTo: <{to}>\r\n"
            f"Subject: fault {tag}\r\nX-Fault-Tag: {tag}\r\n"
            f"X-Body-SHA256: {sha}\r\n"
            f"Message-ID: <{tag}.{random.getrandbits(32):x}@test>\r\n\r\n")
    return (head + body).encode(), sha


def parse_stored(data):
    """(tag, claimed sha, actual sha) of a stored message; tag None when
    the headers are cut."""
    data = data.replace(b"\r\n", b"\n")
    cut = data.find(b"\n\n")
    if cut < 0:
        return None, None, None
    head, body = data[:cut + 1], data[cut + 2:]
    tag = claimed = None
    for line in head.split(b"\n"):
        if line.lower().startswith(b"x-fault-tag:"):
            tag = line.split(b":", 1)[1].strip().decode()
        elif line.lower().startswith(b"x-body-sha256:"):
            claimed = line.split(b":", 1)[1].strip().decode()
    return tag, claimed, hashlib.sha256(body).hexdigest()


def maildir_of(root, user):
    local, domain = user.split("@")
    return Path(root) / domain / local / "Maildir"


def scan(md):
    """{tag: [(path, whole)]} of new/ and cur/; files without a tag under
    key None. whole: the body matches its X-Body-SHA256."""
    out = {}
    for sub in ("new", "cur"):
        d = md / sub
        if not d.is_dir():
            continue
        for p in d.iterdir():
            tag, claimed, actual = parse_stored(p.read_bytes())
            out.setdefault(tag, []).append(
                (p, claimed is not None and claimed == actual))
    return out


def tmp_files(md):
    d = md / "tmp"
    return sorted(d.iterdir()) if d.is_dir() else []


def transact(port, sender, rcpts, data, timeout=30, auth=None,
             size_option=False, smtp=None):
    """One transaction; returns (code, text) of the reply that ended it
    (the 250 to DATA on success), or (None, reason) when the connection
    failed. smtp: an open smtplib.SMTP to reuse (not closed)."""
    own = smtp is None
    try:
        if own:
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=scaled(timeout),
                                local_hostname="client.test")
            smtp.ehlo()
            if auth:
                smtp.login(*auth)
        opts = [f"SIZE={len(data)}"] if size_option else []
        code, text = smtp.mail(sender, opts)
        if code != 250:
            smtp.rset()
            return code, text
        ok = 0
        for r in rcpts:
            code, text = smtp.rcpt(r)
            if code in (250, 251):
                ok += 1
            elif not (400 <= code < 600):
                return code, text
        if ok == 0:
            smtp.rset()
            return code, text
        try:
            code, text = smtp.data(data)
        except smtplib.SMTPResponseException as e:
            # A refused DATA command (before the 354) raises; the
            # transaction is still open then (RFC 5321 4.1.4).
            code, text = e.smtp_code, e.smtp_error
        if code != 250:
            smtp.rset()         # as smtplib.sendmail and MTAs do
        return code, text
    except (OSError, smtplib.SMTPException, EOFError) as e:
        return None, repr(e)
    finally:
        if own and smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass


def local_wren(wren, mail_home=None, data_dir=None, **keys):
    """A wren (not started) with smtp_listen on a free port (w.smtp) and
    the accounts USERS; mail_home defaults to the test's dir."""
    port = free_port()
    conf = {"smtp_listen": f"127.0.0.1:{port}"}
    if mail_home is not None:
        conf["mail_home"] = f"{mail_home}/%d/%n"
    if data_dir is not None:
        conf["data_dir"] = str(data_dir)
    conf.update(keys)
    w = wren(**conf)
    w.smtp = port
    w.mail_root = Path(mail_home) if mail_home else w.dir / "mail"
    (w.dir / "users").write_text(
        "".join(f"{u}:{{PLAIN}}pw-{u}\n" for u in USERS))
    p = run_wren("map", "-t", "users", str(w.dir / "users"))
    assert p.returncode == 0, p.stdout + p.stderr
    return w


def restart(w, binary_env=None):
    """Starts w again after a kill, waiting for its new 'wren started'."""
    mark = len(w.log())
    w.start(ready=None)
    w.wait_log("wren started", start=mark)


def wait_port(port, timeout=10):
    end = time.monotonic() + scaled(timeout)
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on {port}")
