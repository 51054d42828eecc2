# SPDX-License-Identifier: ISC
"""Inbound checks (issue #19): DKIM verification (RFC 6376), DMARC
(RFC 7489) and the Authentication-Results field (RFC 8601) on mail
from the world on port 25.

Messages are signed by python3-dkim with keys whose records the fake
DNS (python3-dnslib) publishes; the client connects from 127.0.0.2,
outside mynetworks (127.0.0.1/32). The field wren adds is parsed with
python3-authres; mail DMARC quarantines is read from Junk over IMAP
(imaplib).

    make B=build/host all
    WREN_BIN=$PWD/build/host/wren /usr/bin/python3 -m pytest -q \\
        test/integration/test_inbound_auth.py
"""
import base64
import email
import imaplib
import re
import smtplib
import subprocess
import threading
import time

import authres
import dkim
import pytest

from conftest import SLOW, free_port, run_wren
from outbound import (ALICE, ALICE_PW, dns, mx_port, outbound, pki,
                      wait_for)

__all__ = ["dns", "mx_port", "outbound", "pki"]

HOST = "mail.example.test"
CLIENT = "127.0.0.2"
SEL = "s1"
TIMEOUT = 30 * SLOW


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two RSA keys (PEM bytes, p= base64): the signer's, another."""
    d = tmp_path_factory.mktemp("inbound-keys")
    out = []
    for name in ("a", "b"):
        pem = d / f"{name}.pem"
        subprocess.run(["openssl", "genrsa", "-out", str(pem), "1024"],
                       check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "rsa", "-in", str(pem),
                              "-pubout", "-outform", "DER"], check=True,
                             capture_output=True, timeout=60).stdout
        out.append((pem.read_bytes(), base64.b64encode(der).decode()))
    return out


def publish(dns, domain, pub, sel=SEL):
    rec = f"v=DKIM1; k=rsa; p={pub}"
    dns.zone[f"{sel}._domainkey.{domain}"] = {
        "TXT": [[rec[i:i + 255] for i in range(0, len(rec), 255)]]}


def make(sender="a@signer.test", subject="hello", body="Hello there.\r\n",
         extra=b""):
    return (f"From: Someone <{sender}>\r\nTo: <{ALICE}>\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{time.time_ns()}@x>\r\n"
            ).encode() + extra + b"\r\n" + body.encode()


def sign(msg, key, domain="signer.test", canon=(b"relaxed", b"relaxed"),
         **kw):
    sig = dkim.sign(msg, SEL.encode(), domain.encode(), key,
                    canonicalize=canon,
                    include_headers=[b"from", b"to", b"subject"], **kw)
    return sig + msg


def send(w, data, sender="a@signer.test"):
    """(code, reply) of DATA from CLIENT on port 25."""
    with smtplib.SMTP("127.0.0.1", w.smtp, local_hostname="c.test",
                      timeout=TIMEOUT, source_address=(CLIENT, 0)) as s:
        s.ehlo()
        code, resp = s.mail(sender)
        assert code == 250, resp
        code, resp = s.rcpt(ALICE)
        assert code == 250, resp
        try:
            return s.data(data)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error


def delivered(w, folder=""):
    """The messages in new/ of INBOX (or .folder), as bytes, checking
    that S= in each name is the file's size."""
    d = w.maildir() / (f".{folder}" if folder else "") / "new"
    out = []
    for p in sorted(d.iterdir()) if d.is_dir() else []:
        data = p.read_bytes()
        m = re.search(r",S=(\d+)", p.name)
        assert m and int(m.group(1)) == len(data), p.name
        out.append(data)
    return out


def two(w, first, second):
    """The two messages delivered, by the Subject each was sent with
    (file names do not keep the order of arrival)."""
    msgs = delivered(w)
    assert len(msgs) == 2
    pick = [[m for m in msgs if f"Subject: {x}\n".encode() in m]
            for x in (first, second)]
    assert len(pick[0]) == 1 and len(pick[1]) == 1, msgs
    return pick[0][0], pick[1][0]


def ar_of(raw):
    """Every Authentication-Results field of raw, parsed by authres."""
    msg = email.message_from_bytes(raw)
    return [authres.AuthenticationResultsHeader.parse(
        "Authentication-Results: " + re.sub(r"\s+", " ", v))
        for v in msg.get_all("Authentication-Results", [])]


def ours(raw):
    found = [h for h in ar_of(raw) if h.authserv_id == HOST]
    assert len(found) == 1, raw
    return found[0]


def result(h, method):
    return [r for r in h.results if r.method == method]


@pytest.fixture
def srv(outbound, dns):
    imap = free_port()
    w = outbound(start=False, mynetworks="127.0.0.1/32",
                 imap_listen=f"127.0.0.1:{imap}")
    w.imap = imap
    w.start()
    yield w


def test_signed_relaxed_and_simple_pass(srv, dns, keys):
    publish(dns, "signer.test", keys[0][1])
    for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple")):
        code, resp = send(srv, sign(make(body="Line.\r\n\r\n\r\n"),
                                    keys[0][0], canon=canon))
        assert code == 250, resp
    msgs = delivered(srv)
    assert len(msgs) == 2
    for raw in msgs:
        h = ours(raw)
        d = result(h, "dkim")[0]
        assert d.result == "pass", raw
        props = {(p.type, p.name): p.value for p in d.properties}
        assert props[("header", "d")] == "signer.test"
        assert props[("header", "s")] == SEL
        assert len(props[("header", "b")]) == 8
        assert result(h, "spf")[0].result == "none"
        assert result(h, "dmarc")[0].result == "none"


def test_altered_body_and_header_fail(srv, dns, keys):
    publish(dns, "signer.test", keys[0][1])
    body = sign(make(subject="one"), keys[0][0]).replace(
        b"Hello there.", b"Hello thare.")
    head = sign(make(subject="two"), keys[0][0]).replace(
        b"Subject: two", b"Subject: twO")
    for data in (body, head):
        code, _ = send(srv, data)
        assert code == 250
    a, b = two(srv, "one", "twO")
    assert result(ours(a), "dkim")[0].result == "fail"
    assert b"(body hash did not verify)" in a
    assert result(ours(b), "dkim")[0].result == "fail"


def test_body_length_limit(srv, dns, keys):
    """l= signs a prefix of the body: text appended after it leaves
    the signature valid (RFC 6376 3.5), as it is reported."""
    publish(dns, "signer.test", keys[0][1])
    data = sign(make(), keys[0][0], length=True)
    assert b" l=" in data
    code, _ = send(srv, data + b"Appended by a list.\r\n")
    assert code == 250
    (raw,) = delivered(srv)
    assert result(ours(raw), "dkim")[0].result == "pass"


def test_missing_key_and_wrong_key(srv, dns, keys):
    code, _ = send(srv, sign(make(subject="one"), keys[0][0],
                             domain="nokey.test"))
    assert code == 250
    publish(dns, "other.test", keys[1][1])
    code, _ = send(srv, sign(make(subject="two"), keys[0][0],
                             domain="other.test"))
    assert code == 250
    a, b = two(srv, "one", "two")
    assert result(ours(a), "dkim")[0].result == "permerror"
    assert result(ours(b), "dkim")[0].result == "fail"


def test_ed25519_neutral_and_sha1_permerror(srv, dns, keys):
    fake = (b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"
            b" d=signer.test; s=ed; h=from:to:subject;"
            b" bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
            b" b=Zm9vYmFyYmF6\r\n")
    code, _ = send(srv, fake + make(subject="one"))
    assert code == 250
    code, _ = send(srv, fake.replace(b"ed25519-sha256", b"rsa-sha1")
                   + make(subject="two"))
    assert code == 250
    a, b = two(srv, "one", "two")
    d = result(ours(a), "dkim")[0]
    assert d.result == "neutral"
    assert b"(ed25519-sha256 not supported)" in a
    assert result(ours(b), "dkim")[0].result == "permerror"
    assert b"(rsa-sha1 not accepted (RFC 8301))" in b


def test_expiry_future_auid_and_count(srv, dns, keys):
    """x= past, t= ahead, i= outside d=: permerror each (RFC 6376 3.5);
    of 6 signatures only the first 4 are reported (the bound)."""
    publish(dns, "signer.test", keys[0][1])
    fake = ("DKIM-Signature: v=1; a=rsa-sha256; d=signer.test; s=s1;"
            " h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
            " b=Zm9vYmFy{}; {}\r\n")
    extra = "".join(fake.format(k, t) for k, t in (
        (1, "x=1000"), (2, f"t={int(time.time()) + 86400}"),
        (3, "i=a@evil.test"), (4, "x=1000"), (5, "x=1000")))
    code, _ = send(srv, sign(make(extra=extra.encode()), keys[0][0]))
    assert code == 250
    (raw,) = delivered(srv)
    got = [r.result for r in result(ours(raw), "dkim")]
    # the real signature is the first field (python3-dkim prepends it)
    assert got == ["pass", "permerror", "permerror", "permerror"], raw
    assert b"(signature expired)" in raw
    assert b"(signature in the future)" in raw


def test_dmarc_reject(srv, dns):
    dns.zone["_dmarc.evil.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    code, resp = send(srv, make(sender="boss@evil.test"))
    assert code == 550 and b"5.7.1" in resp, resp
    assert delivered(srv) == []
    assert "DMARC policy of evil.test" in srv.log()


def test_dmarc_subdomain_uses_org_record(srv, dns):
    dns.zone["_dmarc.evil.test"] = {
        "TXT": ["v=DMARC1; p=none; sp=reject"]}
    code, _ = send(srv, make(sender="x@mail.evil.test"))
    assert code == 550


def test_dmarc_quarantine_lands_in_junk(srv, dns):
    dns.zone["_dmarc.shady.test"] = {
        "TXT": ["v=DMARC1; p=quarantine; adkim=s"]}
    code, _ = send(srv, make(sender="x@shady.test", subject="junky"))
    assert code == 250
    assert delivered(srv) == []
    (raw,) = delivered(srv, "Junk")
    assert result(ours(raw), "dmarc")[0].result == "fail"
    with imaplib.IMAP4("127.0.0.1", srv.imap, timeout=TIMEOUT) as m:
        m.login(ALICE, ALICE_PW)
        typ, data = m.select("Junk")
        assert typ == "OK" and data[0] == b"1"
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"junky" in data[0][1]
        typ, data = m.select("INBOX")
        assert data[0] == b"0"


def test_dmarc_reject_as_quarantine(outbound, dns):
    w = outbound(mynetworks="127.0.0.1/32", dmarc_reject="quarantine")
    dns.zone["_dmarc.evil.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    code, _ = send(w, make(sender="boss@evil.test"))
    assert code == 250
    assert len(delivered(w, "Junk")) == 1


def test_dmarc_pass_with_aligned_signature(srv, dns, keys):
    publish(dns, "signer.test", keys[0][1])
    dns.zone["_dmarc.signer.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    code, _ = send(srv, sign(make(sender="a@news.signer.test"),
                             keys[0][0]))
    assert code == 250
    (raw,) = delivered(srv)
    h = ours(raw)
    dm = result(h, "dmarc")[0]
    assert dm.result == "pass"
    assert {(p.type, p.name): p.value for p in dm.properties}[
        ("header", "from")] == "news.signer.test"


def test_dmarc_pass_with_aligned_spf(srv, dns):
    """The SPF check's result (smtp_screen.c) is reported and aligns:
    an unsigned message passes DMARC p=reject through SPF alone."""
    dns.zone["spfok.test"] = {"TXT": ["v=spf1 ip4:127.0.0.2 -all"]}
    dns.zone["_dmarc.spfok.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    code, resp = send(srv, make(sender="x@spfok.test"),
                      sender="x@spfok.test")
    assert code == 250, resp
    (raw,) = delivered(srv)
    h = ours(raw)
    assert result(h, "spf")[0].result == "pass", raw
    assert result(h, "dmarc")[0].result == "pass", raw


def test_unaligned_signature_rejected(srv, dns, keys):
    publish(dns, "signer.test", keys[0][1])
    dns.zone["_dmarc.victim.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    code, _ = send(srv, sign(make(sender="ceo@victim.test"), keys[0][0]))
    assert code == 550


def test_forged_results_removed_others_kept(srv, dns, keys):
    publish(dns, "signer.test", keys[0][1])
    extra = (f"Authentication-Results: {HOST};\r\n\tdkim=pass "
             "header.d=bank.test\r\n"
             "Authentication-Results: relay.other.test; spf=pass "
             "smtp.mailfrom=signer.test\r\n"
             f"authentication-results:   {HOST.upper()}; dmarc=pass\r\n"
             ).encode()
    code, _ = send(srv, sign(make(extra=extra), keys[0][0]))
    assert code == 250
    (raw,) = delivered(srv)
    ids = [h.authserv_id.lower() for h in ar_of(raw)]
    assert sorted(ids) == [HOST, "relay.other.test"], raw
    assert b"bank.test" not in raw
    # the signature (over From, To, Subject) still verifies
    assert result(ours(raw), "dkim")[0].result == "pass"


def test_header_beyond_bounds_refused(srv, dns):
    """More forged fields than are removed, or a header longer than is
    read back (a forged field could hide past it): refused."""
    forged = f"Authentication-Results: {HOST}; dkim=pass\r\n" * 9
    code, resp = send(srv, make(extra=forged.encode()))
    assert code == 554, resp
    many = "X-Filler: x\r\n" * 1100
    code, resp = send(srv, make(extra=many.encode() + forged[:60].encode()
                                + b"\r\n"))
    assert code == 554, resp
    code, _ = send(srv, make(extra=b"X-Filler: x\r\n" * 900))
    assert code == 250
    assert len(delivered(srv)) == 1


def test_mynetworks_not_checked(srv, dns):
    dns.zone["_dmarc.evil.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=TIMEOUT) as s:
        s.sendmail("boss@evil.test", [ALICE], make(sender="boss@evil.test"))
    (raw,) = delivered(srv)
    assert b"Authentication-Results" not in raw


def test_other_client_served_while_key_pending(srv, dns, keys):
    """A key lookup that never answers holds only its own reply."""
    dns.zone[f"{SEL}._domainkey.slow.test"] = "TIMEOUT"
    publish(dns, "signer.test", keys[0][1])
    out = {}

    def slow():
        out["r"] = send(srv, sign(make(subject="slow"), keys[0][0],
                                  domain="slow.test"))

    t = threading.Thread(target=slow)
    t.start()
    wait_for(lambda: any(q[0] == f"{SEL}._domainkey.slow.test"
                         for q in dns.queries), 10, "the key query")
    code, _ = send(srv, sign(make(subject="fast"), keys[0][0]))
    assert code == 250
    assert t.is_alive(), "the slow client was answered first"
    (raw,) = delivered(srv)
    assert b"Subject: fast" in raw
    t.join(TIMEOUT)
    assert out["r"][0] == 250
    slow_raw = [m for m in delivered(srv) if b"Subject: slow" in m][0]
    assert result(ours(slow_raw), "dkim")[0].result == "temperror"


def test_org_domain_from_public_suffix_list(outbound, dns, tmp_path):
    """The organisational domain of mail.evil.co.test is co.test by the
    last two labels, evil.co.test by a Public Suffix List naming
    co.test (compiled by wren map): only then is evil.co.test's
    p=reject found and applied."""
    dns.zone["_dmarc.evil.co.test"] = {"TXT": ["v=DMARC1; p=reject"]}
    sender = "x@mail.evil.co.test"
    w = outbound(mynetworks="127.0.0.1/32")
    assert send(w, make(sender=sender))[0] == 250
    w.stop()
    src = tmp_path / "public_suffix_list.dat"
    src.write_text("// ===BEGIN ICANN DOMAINS===\n\ntest\nco.test\n"
                   "*.ck\n!www.ck\n// the end\n")
    p = run_wren("map", "-t", "public_suffix", str(src))
    assert p.returncode == 0, p.stderr
    assert "4 entries" in p.stdout
    w = outbound(mynetworks="127.0.0.1/32", public_suffix_list=str(src))
    code, resp = send(w, make(sender=sender))
    assert code == 550, resp
    assert "DMARC policy of mail.evil.co.test" in w.log()
