# SPDX-License-Identifier: ISC
"""DKIM signing (issue #18, RFC 6376): mail our users submit (AUTH on
587, and `wren sendmail` through the pickup) from a local domain is
signed rsa-sha256 relaxed/relaxed while it streams into the queue; a
fake remote MX (aiosmtpd) captures it and it is verified with Python's
`dkim` module (python3-dkim) and with `opendkim-testmsg`
(opendkim-tools), both reading the public key that the fake DNS
(python3-dnslib) publishes. An altered body or signed header fails.

opendkim-testmsg asks the system resolver (port 53, /etc/resolv.conf):
it runs in a private mount namespace (unshare -m) where resolv.conf
names a second listener of the same fake DNS on 127.0.0.153:53. That
needs root; without it those checks are skipped (the dkim module's
still run).

    make B=build/host all
    WREN_BIN=$PWD/build/host/wren /usr/bin/python3 -m pytest -q \\
        test/integration/test_dkim.py
"""
import base64
import email
import os
import re
import shutil
import subprocess

import dkim
import pytest
from dnslib import QTYPE
from dnslib.server import DNSServer

from conftest import SLOW, wren_cmd
from outbound import (ALICE, ALICE_PW, LOCAL, _Handler, _QuietLogger,
                      _Resolver, dns, log_lines, mx, mx_port, outbound,
                      pki, submit,
                      wait_for)

__all__ = ["dns", "mx", "mx_port", "outbound", "pki"]

SEL = "wren1"
BOB = "bob@remote.test"
DELIVER = 15
RESOLV_IP = "127.0.0.153"


# --- keys and DNS ------------------------------------------------------


def make_key(path, bits=2048):
    """An RSA key at path (0600) made by openssl; its public key in
    base64 (SubjectPublicKeyInfo DER, what p= holds)."""
    subprocess.run(["openssl", "genrsa", "-out", str(path), str(bits)],
                   check=True, capture_output=True, timeout=60 * SLOW)
    path.chmod(0o600)
    der = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True, timeout=30 * SLOW).stdout
    return base64.b64encode(der).decode()


def publish(dns, domain, pub, sel=SEL):
    """The TXT record at sel._domainkey.domain, in 255-octet strings."""
    rec = f"v=DKIM1; k=rsa; p={pub}"
    dns.zone[f"{sel}._domainkey.{domain}"] = {
        "TXT": [[rec[i:i + 255] for i in range(0, len(rec), 255)]]}


def dnsfunc(dns):
    """For dkim.verify: the TXT record as the fake DNS answers it."""
    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        r = dns.query(name.rstrip("."), "TXT")
        for rr in r.rr:
            if rr.rtype == QTYPE.TXT:
                return b"".join(rr.rdata.data)
        return None
    return lookup


def verify(dns, data):
    return dkim.verify(data, dnsfunc=dnsfunc(dns))


@pytest.fixture
def resolv53(dns, tmp_path):
    """A resolv.conf naming the fake DNS, also on 127.0.0.153:53, for
    opendkim-testmsg; None (skip) when that cannot be done here."""
    if os.geteuid() != 0 or not shutil.which("opendkim-testmsg") or \
            not shutil.which("unshare"):
        yield None
        return
    resolver = _Resolver(dns)
    try:
        servers = [DNSServer(resolver, address=RESOLV_IP, port=53,
                             tcp=tcp, handler=_Handler,
                             logger=_QuietLogger())
                   for tcp in (False, True)]
    except OSError:
        yield None
        return
    for s in servers:
        s.start_thread()
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {RESOLV_IP}\n"
                    "options timeout:2 attempts:2\n")
    yield conf
    for s in servers:
        s.stop()
        s.server.server_close()


def opendkim(resolv, data):
    """opendkim-testmsg's verdict: (returncode, output)."""
    if resolv is None:
        pytest.skip("opendkim-testmsg needs root (port 53, unshare -m)")
    p = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         'mount --bind "$1" /etc/resolv.conf && exec opendkim-testmsg',
         "sh", str(resolv)],
        input=data, capture_output=True, timeout=30 * SLOW)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


# --- helpers -----------------------------------------------------------


def signed_wren(outbound, dns, tmp_path, key_rule="one", **keys):
    """A wren signing for example.test with a fresh key: dkim_key is
    the file (key_rule "one") or the pattern DIR/%d.pem ("pattern")."""
    if key_rule == "pattern":
        kdir = tmp_path / "dkim"
        kdir.mkdir()
        pub = make_key(kdir / f"{LOCAL}.pem")
        path = str(kdir / "%d.pem")
    else:
        pub = make_key(tmp_path / "dkim.pem")
        path = str(tmp_path / "dkim.pem")
    publish(dns, LOCAL, pub)
    return outbound(dkim_selector=SEL, dkim_key=path, **keys)


def delivered(mx, subject):
    def find():
        for d in mx.delivered:
            if f"Subject: {subject}".encode() in d.data:
                return d
        return None
    return wait_for(find, DELIVER, f"delivery of {subject!r}")


def sig_tags(data):
    msg = email.message_from_bytes(data)
    v = msg["DKIM-Signature"]
    assert v is not None, data[:2000]
    v = re.sub(r"\s+", "", str(v))
    return dict(t.split("=", 1) for t in v.split(";") if "=" in t)


BODY = ("Hello Bob,  \r\n\r\nthis line has trailing white space \t \r\n"
        "..and a dot\r\n" + "x" * 900 + "\r\n\r\n\r\n")


def message(subject, to=BOB, extra="", body=BODY):
    """No Date:, no Message-ID: the submission adds them."""
    return (f"From: Alice <{ALICE}>\r\nTo: <{to}>\r\n"
            f"Subject: {subject}\r\n{extra}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
            f"\r\n{body}")


def tamper(data, old, new):
    assert old in data
    return data.replace(old, new, 1)


# --- tests -------------------------------------------------------------


def test_submission_signed_verifies_and_tampering_fails(outbound, dns, mx,
                                                        tmp_path,
                                                        resolv53):
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    submit(w.sub, ALICE, BOB, message("signed one"),
           auth=(ALICE, ALICE_PW))
    d = delivered(box, "signed one")
    data = d.data
    tags = sig_tags(data)
    assert tags["d"] == LOCAL and tags["s"] == SEL
    assert tags["a"] == "rsa-sha256" and tags["c"] == "relaxed/relaxed"
    h = tags["h"].split(":")
    assert h.count("from") == 2, h          # oversigned
    for name in ("to", "subject", "date", "message-id", "mime-version",
                 "content-type"):
        assert name in h, (name, h)
    assert "received" not in h
    # Missing Date: and Message-ID: were added (RFC 6409 8.2, 8.3).
    msg = email.message_from_bytes(data)
    assert msg["Date"] and re.match(r"<[0-9A-F]+@", msg["Message-ID"])
    for line in data.split(b"\r\n"):
        assert len(line) < 998
    assert verify(dns, data)
    rc, out = opendkim(resolv53, data) if resolv53 else (0, "")
    assert rc == 0 and out == "", out
    bad_body = tamper(data, b"and a dot", b"and a dog")
    bad_subject = tamper(data, b"Subject: signed one",
                         b"Subject: signed 0ne")
    # (A field that was absent, such as Cc:, is not signed: only From
    # is signed once more than present.)
    second_from = tamper(data, b"Subject:",
                         b"From: eve@evil.test\r\nSubject:")
    for bad in (bad_body, bad_subject, second_from):
        assert not verify(dns, bad)
    if resolv53:
        for bad in (bad_body, bad_subject):
            rc, out = opendkim(resolv53, bad)
            assert rc != 0, out
    # White space changes survive relaxed canonicalisation.
    assert verify(dns, tamper(data, b"Subject: signed one",
                              b"Subject:   signed \t one  "))


def test_existing_date_and_message_id_kept(outbound, dns, mx, tmp_path):
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    extra = ("Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
             "Message-ID: <kept@client.test>\r\n")
    submit(w.sub, ALICE, BOB, message("kept", extra=extra),
           auth=(ALICE, ALICE_PW))
    data = delivered(box, "kept").data
    msg = email.message_from_bytes(data)
    assert msg.get_all("Message-ID") == ["<kept@client.test>"]
    assert len(msg.get_all("Date")) == 1
    assert verify(dns, data)


def test_local_and_remote_recipients_both_signed(outbound, dns, mx,
                                                  tmp_path):
    """The primary file is alice's Maildir copy; the queue copy is made
    from it at commit: both carry the signature."""
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    submit(w.sub, ALICE, [BOB, ALICE], message("both"),
           auth=(ALICE, ALICE_PW))
    data = delivered(box, "both").data
    assert verify(dns, data)
    new = w.maildir() / "new"
    files = wait_for(lambda: list(new.iterdir()) if new.is_dir() else [],
                     DELIVER, "the local copy")
    local = files[0].read_bytes()
    assert b"DKIM-Signature:" in local
    # Maildir's S= is the file's size, the added fields counted.
    m = re.search(r",S=(\d+)", files[0].name)
    assert m and int(m.group(1)) == len(local)
    # The stored copy has LF line ends; on the wire they are CR LF.
    local = local.replace(b"\n", b"\r\n")
    assert verify(dns, local)


def test_key_per_domain_pattern(outbound, dns, mx, tmp_path):
    w = signed_wren(outbound, dns, tmp_path, key_rule="pattern")
    box = mx()
    submit(w.sub, ALICE, BOB, message("pattern"), auth=(ALICE, ALICE_PW))
    data = delivered(box, "pattern").data
    assert sig_tags(data)["d"] == LOCAL
    assert verify(dns, data)


def test_sendmail_pickup_signed(outbound, dns, mx, tmp_path, resolv53):
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    p = subprocess.run(
        wren_cmd("sendmail", "-c", str(w.conf), "-f", ALICE, BOB),
        input=(f"From: {ALICE}\nTo: {BOB}\nSubject: via sendmail\n\n"
               "Hi from cron.\n\n\n").encode(),
        capture_output=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stdout + p.stderr
    data = delivered(box, "via sendmail").data
    assert verify(dns, data)
    msg = email.message_from_bytes(data)
    assert msg["Date"] and msg["Message-ID"]
    if resolv53:
        rc, out = opendkim(resolv53, data)
        assert rc == 0 and out == "", out
    assert not verify(dns, tamper(data, b"Hi from cron", b"Hi from Eve"))


def test_inbound_relayed_mail_not_signed(outbound, dns, mx, tmp_path):
    """Port 25 from mynetworks, not authenticated: relayed as it is, no
    signature and nothing added, even with a local sender address."""
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    submit(w.smtp, ALICE, BOB, message("relayed"))
    data = delivered(box, "relayed").data
    assert b"DKIM-Signature" not in data
    msg = email.message_from_bytes(data)
    assert msg["Date"] is None and msg["Message-ID"] is None


def test_no_key_configured_adds_fields_only(outbound, dns, mx):
    w = outbound()
    box = mx()
    submit(w.sub, ALICE, BOB, message("unsigned"), auth=(ALICE, ALICE_PW))
    data = delivered(box, "unsigned").data
    assert b"DKIM-Signature" not in data
    msg = email.message_from_bytes(data)
    assert msg["Date"] and msg["Message-ID"]


def test_duplicate_signed_field_not_signed(outbound, dns, mx, tmp_path):
    """Two Subject: fields (RFC 5322 3.6 allows one): the hash made as
    the message streams could not match a verifier's bottom-up pick,
    so the message goes unsigned, with a log line."""
    w = signed_wren(outbound, dns, tmp_path)
    box = mx()
    submit(w.sub, ALICE, BOB,
           message("dup", extra="Subject: dup again\r\n"),
           auth=(ALICE, ALICE_PW))
    data = delivered(box, "dup").data
    assert b"DKIM-Signature" not in data
    assert wait_for(lambda: log_lines(w, "not DKIM-signed"), 5,
                    "the log line")
