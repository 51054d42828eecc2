# SPDX-License-Identifier: ISC
"""Outbound delivery (SPEC section 5 "Outbound", issue #12): the queue
runner inside `wren serve` delivering to fake remote MX hosts found
through a fake DNS, to Postfix's smtp-sink and through a relayhost.

The first tests check the fixtures themselves (outbound.py) and need
nothing of wren's runner. Tests marked `needs_runner` assert the
delivery contract; they are not skipped: until the runner delivers
they fail.

Every wren here: hostname mail.example.test, local domain
example.test with the account alice (submits on w.sub with AUTH from
loopback), dns_servers = the fake DNS, remote_smtp_port = the one port
of every fake MX (127.0.0.2 mx1.remote.test, 127.0.0.3
mx2.remote.test, 127.0.0.4 smtp-sink, 127.0.0.5 relay.test, 127.0.0.6
mx.sender.test), retry_schedule = 1s 2s.

Run (the fixtures' own tests, then the contract):

    make B=build/host all
    WREN_BIN=$PWD/build/host/wren /usr/bin/python3 -m pytest -q \
        test/integration/test_outbound.py -m "not needs_runner"
    WREN_BIN=$PWD/build/host/wren /usr/bin/python3 -m pytest -q \
        test/integration/test_outbound.py -m needs_runner

A failing test prints wren's log (conftest.py). Each waits at most
DELIVER seconds (scaled under QEMU) for what should happen.
"""
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SLOW, SMTPClient, run_wren, wren_cmd
from outbound import (ALICE, ALICE_PW, HOST, RELAY_PW, RELAY_USER,
                      FakeDNS, dns, log_lines, maildir, message,
                      mx, mx_port, outbound, parse_bounce, pki, queue_cli,
                      queue_ids, relay_host, smtp_sink, submit,
                      wait_for)

needs_runner = pytest.mark.needs_runner

# Fixtures imported from outbound.py are used by name.
__all__ = ["dns", "mx", "mx_port", "outbound", "pki", "relay_host",
           "smtp_sink"]

BOB = "bob@remote.test"
LOCAL_DOMAIN = "example.test"
LOCAL_AUTH = (ALICE, ALICE_PW)
DELIVER = 15                    # seconds for a delivery that should happen


def send_local(w, subject, rcpt=BOB, **kw):
    """alice submits on 587 with AUTH; returns the queue ID."""
    return submit(w.sub, ALICE, rcpt, message(subject, to=rcpt, **kw),
                  auth=LOCAL_AUTH)


def status_line(w, qid, status, *needles, timeout=DELIVER):
    """Waits for the log line of qid with status=<status>; returns it."""
    def find():
        lines = log_lines(w, qid, f"status={status}", *needles)
        return lines[0] if lines else None
    return wait_for(find, timeout, f"{qid} status={status} in the log")


def bounces(w, local="alice"):
    return [data for _, data in maildir(w.maildir(local))
            if b"multipart/report" in data]


def queue_empty(w):
    return not queue_ids(w)


# === the fixtures themselves (no runner needed) =======================


def test_fixture_dns_answers_from_the_zone(dns):
    r = dns.query("remote.test", "MX")
    got = sorted((rr.rdata.preference, str(rr.rdata.label).rstrip("."))
                 for rr in r.rr)
    assert got == [(10, "mx1.remote.test"), (20, "mx2.remote.test")]
    r = dns.query("mx1.remote.test", "A")
    assert [str(rr.rdata) for rr in r.rr] == ["127.0.0.2"]
    assert dns.query("gone.test", "MX").header.rcode == 3      # NXDOMAIN
    assert dns.query("nope.test", "A").header.rcode == 3
    assert dns.query("broken.test", "MX").header.rcode == 2    # SERVFAIL
    r = dns.query("plain.test", "MX")                           # NODATA
    assert r.header.rcode == 0 and not r.rr
    r = dns.query("nullmx.test", "MX")
    assert [(rr.rdata.preference, str(rr.rdata.label)) for rr in r.rr] \
        == [(0, ".")]
    assert ("remote.test", "MX", "udp") in dns.queries


def test_fixture_dns_aaaa_txt_cname_and_timeout(dns):
    dns.zone["v6.test"] = {"AAAA": ["::1"], "TXT": ["v=spf1 -all"]}
    dns.zone["alias.test"] = {"CNAME": "v6.test"}
    dns.zone["slow.test"] = "TIMEOUT"
    assert str(dns.query("v6.test", "AAAA").rr[0].rdata) == "::1"
    assert b"v=spf1 -all" in dns.query("v6.test", "TXT").rr[0].rdata.data
    r = dns.query("alias.test", "AAAA")
    assert [QT(rr.rtype) for rr in r.rr] == ["CNAME", "AAAA"]
    with pytest.raises(socket.timeout):
        from dnslib import DNSRecord
        DNSRecord.question("slow.test", "A").send(
            "127.0.0.1", dns.port, timeout=0.5)


def QT(t):
    from dnslib import QTYPE
    return QTYPE.get(t)


def test_fixture_dns_truncates_over_udp(dns):
    """A name marked tc, and an answer over 512 bytes, come back with TC
    and the question over UDP; TCP gives the whole answer; dig (a real
    resolver client) retries over TCP by itself."""
    from dnslib import DNSRecord
    dns.zone["big.test"] = {"MX": FakeDNS.huge_mx(40)}
    dns.zone["tc.test"] = {"MX": [(10, "mx1.remote.test")], "tc": True}
    for name, n in (("big.test", 40), ("tc.test", 1)):
        q = DNSRecord.question(name, "MX")
        raw = q.send("127.0.0.1", dns.port, timeout=5)
        r = DNSRecord.parse(raw)
        assert r.header.tc == 1 and not r.rr, name
        assert str(r.q.qname).rstrip(".") == name
        assert len(raw) <= 512
        r = dns.query(name, "MX", tcp=True)
        assert r.header.tc == 0 and len(r.rr) == n
    assert ("big.test", "MX", "tcp") in dns.queries
    p = subprocess.run(["dig", "+short", "-p", str(dns.port), "@127.0.0.1",
                        "tc.test", "MX"], capture_output=True, text=True,
                       timeout=30)
    assert "10 mx1.remote.test." in p.stdout, p.stdout + p.stderr


def test_fixture_mx_starttls_records_everything(mx, pki):
    m = mx()
    with smtplib.SMTP(m.ip, m.port, local_hostname="client.test",
                      timeout=10) as s:
        s._host = m.name        # the name the certificate is checked for
        s.starttls(context=pki.client_context())
        s.ehlo("client.test")
        s.sendmail("a@x.test", ["bob@remote.test", "carol@remote.test"],
                   message("fixture").encode())
    wait_for(lambda: m.delivered, 5, "the delivery")
    d = m.delivered[0]
    assert d.sender == "a@x.test"
    assert d.rcpts == ["bob@remote.test", "carol@remote.test"]
    assert d.tls and d.tls_version.startswith("TLSv1") and d.cipher
    assert d.ehlo == "client.test"
    assert d.message["Subject"] == "fixture"
    assert m.connections == 1 and m.mails == [("a@x.test", True, False)]


def test_fixture_mx_scripts(mx):
    m = mx(starttls=False)
    m.rcpt_replies["bob@remote.test"] = ["451 4.3.0 Try again later",
                                         None]
    m.rcpt_replies["carol@remote.test"] = "550 5.1.1 No such user"
    m.connect_replies["*"] = ["421 4.3.2 Busy", None]
    with pytest.raises(smtplib.SMTPConnectError):
        smtplib.SMTP(m.ip, m.port, timeout=10)
    for expect in (451, 250):
        with smtplib.SMTP(m.ip, m.port, timeout=10) as s:
            s.ehlo("client.test")
            s.mail("a@x.test")
            assert s.rcpt("bob@remote.test")[0] == expect
            assert s.rcpt("carol@remote.test")[0] == 550
            if expect == 250:
                s.data(message("scripted").encode())
    assert [r for r, _ in m.rcpts].count("bob@remote.test") == 2
    assert len(m.delivered) == 1 and m.delivered[0].rcpts == [BOB]
    assert not m.delivered[0].tls
    assert m.connections == 3
    m.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((m.ip, m.port), 2)


def test_fixture_mx_slow_data_and_abort(mx):
    """A client that vanishes during the delay leaves no delivery."""
    m = mx(starttls=False)
    m.data_delay = 1.0
    c = SMTPClient.__new__(SMTPClient)
    c.sock = socket.create_connection((m.ip, m.port), 10)
    c.buf = b""
    c.expect(220)
    c.cmd("EHLO client.test", 250)
    c.cmd("MAIL FROM:<a@x.test>", 250)
    c.cmd("RCPT TO:<bob@remote.test>", 250)
    c.cmd("DATA", 354)
    c.send("Subject: aborted\r\n\r\nx\r\n.\r\n")
    assert m.data_started.wait(5)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    time.sleep(1.5)
    assert m.delivered == [] and m.in_data == 0


def test_fixture_relay_requires_tls_and_auth(relay_host, pki):
    r = relay_host()
    with smtplib.SMTP(r.ip, r.port, timeout=10) as s:
        s.ehlo("client.test")
        assert s.mail("a@x.test")[0] == 530        # STARTTLS first
    with smtplib.SMTP(r.ip, r.port, timeout=10) as s:
        s._host = r.name
        s.starttls(context=pki.relay.client_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(RELAY_USER, "wrong")
    with smtplib.SMTP(r.ip, r.port, timeout=10) as s:
        s._host = r.name
        s.starttls(context=pki.relay.client_context())
        s.login(RELAY_USER, RELAY_PW)
        s.sendmail("a@x.test", [BOB], message("relayed").encode())
    wait_for(lambda: r.delivered, 5, "the relayed message")
    assert r.delivered[0].auth == RELAY_USER and r.delivered[0].tls
    assert (RELAY_USER, False) in r.auths and (RELAY_USER, True) in r.auths
    bad = relay_host(rogue=True, ip="127.0.0.7")
    with smtplib.SMTP(bad.ip, bad.port, timeout=10) as s:
        s._host = bad.name
        with pytest.raises(ssl.SSLCertVerificationError):
            s.starttls(context=pki.relay.client_context())
    assert bad.mails == []


def test_fixture_smtp_sink(smtp_sink):
    sink = smtp_sink()
    with smtplib.SMTP(sink.ip, sink.port, timeout=10) as s:
        s.sendmail("a@x.test", ["x@sink.test"], message("sunk").encode())
    got = wait_for(sink.messages, 5, "the dump file")
    assert b"Subject: sunk" in got[0]


def test_fixture_parse_bounce_and_maildir(tmp_path):
    raw = (b"From: MAILER-DAEMON@mail.example.test\n"
           b"Subject: Undelivered Mail Returned to Sender\n"
           b"MIME-Version: 1.0\nContent-Type: multipart/report; "
           b"report-type=delivery-status; boundary=\"B\"\n\n--B\n"
           b"Content-Type: text/plain\n\nIt failed.\n--B\n"
           b"Content-Type: message/delivery-status\n\n"
           b"Reporting-MTA: dns; mail.example.test\n\n"
           b"Final-Recipient: rfc822; bob@remote.test\n"
           b"Action: failed\nStatus: 5.1.1\n\n--B\n"
           b"Content-Type: text/rfc822-headers\n\nSubject: x\n\n--B--\n")
    b = parse_bounce(raw)
    assert b.per_message["reporting-mta"] == "dns; mail.example.test"
    assert b.recipients[0]["final-recipient"] == "rfc822; bob@remote.test"
    assert b.recipients[0]["status"] == "5.1.1"
    with pytest.raises(AssertionError):
        parse_bounce(b"Subject: plain\n\nnot a report\n")
    md = tmp_path / "Maildir"
    assert maildir(md) == []
    (md / "new").mkdir(parents=True)
    (md / "new" / "1.x").write_bytes(raw)
    assert [d for _, d in maildir(md)] == [raw]


def test_fixture_wren_accepts_the_outbound_config(outbound):
    """The keys the fixture writes are valid and the server starts and
    queues remote mail (delivery itself is the runner's)."""
    w = outbound()
    qid = send_local(w, "queued")
    assert re.fullmatch(r"[0-9A-F]+", qid)
    assert w.alive()


# === delivery via MX ==================================================


@needs_runner
def test_delivers_via_mx_with_starttls(outbound, mx):
    m1 = mx()
    w = outbound()
    qid = send_local(w, "via mx")
    d = wait_for(lambda: m1.with_subject("via mx"), DELIVER,
                 "delivery to mx1")[0]
    assert d.sender == ALICE and d.rcpts == [BOB]
    assert d.tls, "STARTTLS was offered and not used"
    assert d.ehlo == HOST
    assert b"Received:" in d.data
    line = status_line(w, qid, "sent", "mx1.remote.test")
    assert BOB in line
    assert re.search(r"TLSv?1\.[23]", line), line
    wait_for(lambda: queue_empty(w), DELIVER, "an empty queue")
    time.sleep(1.5)
    assert len(m1.delivered) == 1


def test_mx_offering_only_cbc_gets_mail_in_clear(outbound, mx, pki):
    """The client speaks TLS 1.2 with AEAD suites only (RFC 8996; CBC,
    MD5 and the TLS 1.0 PRF are left out for size): an MX offering
    nothing else fails the handshake and gets the mail once more in
    clear, as Postfix does with an opportunistic hop."""
    import ssl
    ctx = pki.server_context("mx1.remote.test")
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256:"
                    "AES128-SHA256:AES128-SHA")
    m1 = mx(start=False)
    m1.tls_context = ctx
    m1.start()
    w = outbound()
    send_local(w, "old mx")
    d = wait_for(lambda: m1.with_subject("old mx"), DELIVER,
                 "delivery to mx1 in clear")[0]
    assert not d.tls, "a CBC suite was negotiated"
    w.wait_log("TLS handshake failed")


@needs_runner
def test_8bitmime_declared_when_received_so(outbound, mx):
    """BODY=8BITMIME given to wren is given to the next hop (RFC 6152);
    a message sent without it goes without it."""
    m1 = mx()
    w = outbound()
    body = "Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n".encode()
    submit(w.sub, ALICE, BOB, body, auth=LOCAL_AUTH,
           mail_options=["BODY=8BITMIME"])
    send_local(w, "seven bit")
    d8 = wait_for(lambda: [d for d in m1.delivered
                           if "caf".encode() in d.data], DELIVER,
                  "the 8-bit message")[0]
    d7 = wait_for(lambda: m1.with_subject("seven bit"), DELIVER,
                  "the 7-bit message")[0]
    assert "BODY=8BITMIME" in [o.upper() for o in d8.mail_options]
    assert not any(o.upper().startswith("BODY=") for o in d7.mail_options)
    assert "déjà vu".encode() in d8.data


@needs_runner
def test_second_mx_when_first_refuses(outbound, mx):
    m2 = mx("127.0.0.3", "mx2.remote.test")     # mx1 is not listening
    w = outbound()
    qid = send_local(w, "second mx")
    wait_for(lambda: m2.with_subject("second mx"), DELIVER,
             "delivery to mx2")
    status_line(w, qid, "sent", "mx2.remote.test")


@needs_runner
def test_next_address_after_refused_ipv6(outbound, mx, dns):
    """mx1 has an AAAA (::1, nothing listening) and an A: the A works."""
    dns.zone["mx1.remote.test"] = {"AAAA": ["::1"], "A": ["127.0.0.2"]}
    m1 = mx()
    w = outbound()
    send_local(w, "next address")
    wait_for(lambda: m1.with_subject("next address"), DELIVER,
             "delivery over IPv4")


@needs_runner
def test_451_then_success_on_retry(outbound, mx):
    m1 = mx()
    m1.rcpt_replies[BOB] = ["451 4.3.0 Try again later", None]
    w = outbound()
    qid = send_local(w, "retried")
    status_line(w, qid, "deferred", "451")
    wait_for(lambda: m1.with_subject("retried"), DELIVER, "the retry")
    status_line(w, qid, "sent")
    assert [r for r, _ in m1.rcpts if r == BOB] == [BOB, BOB]
    time.sleep(2.5)
    assert len(m1.delivered) == 1
    assert bounces(w) == []


@needs_runner
def test_550_makes_exactly_one_rfc3464_bounce(outbound, mx):
    m1 = mx()
    m1.rcpt_replies[BOB] = "550 5.1.1 <bob@remote.test>: no such user"
    w = outbound()
    qid = send_local(w, "doomed")
    status_line(w, qid, "bounced", "550")
    got = wait_for(lambda: bounces(w), DELIVER, "the bounce in alice's "
                   "Maildir")
    time.sleep(3)       # longer than the retry schedule: nothing more
    got = bounces(w)
    assert len(got) == 1, len(got)
    b = parse_bounce(got[0])
    assert b.msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert b.msg["To"] and ALICE in b.msg["To"]
    assert HOST in b.per_message.get("reporting-mta", "")
    (r,) = b.recipients
    assert r["final-recipient"].lower() == f"rfc822; {BOB}"
    assert r["action"] == "failed"
    assert r["status"].startswith("5.1.1"), r
    assert "550" in r.get("diagnostic-code", ""), r
    assert re.search(rb"^Return-Path: <>", got[0], re.M), got[0][:300]
    assert b"Subject: doomed" in got[0]         # original headers
    assert queue_empty(w)
    assert m1.delivered == []


@needs_runner
def test_one_transaction_per_domain_and_bounce_only_the_failed(outbound,
                                                               mx):
    m1 = mx()
    carol = "carol@remote.test"
    m1.rcpt_replies[carol] = "550 5.1.1 no such user"
    w = outbound()
    data = message("mixed", to=f"{BOB}, {carol}")
    qid = submit(w.sub, ALICE, [BOB, carol], data, auth=LOCAL_AUTH)
    d = wait_for(lambda: m1.with_subject("mixed"), DELIVER, "delivery")
    assert d[0].rcpts == [BOB]
    assert len(m1.mails) == 1, "one transaction for one domain"
    status_line(w, qid, "sent", BOB)
    status_line(w, qid, "bounced", carol)
    (b,) = [parse_bounce(x) for x in wait_for(lambda: bounces(w), DELIVER,
                                              "the bounce")]
    assert [r["final-recipient"].lower() for r in b.recipients] == \
        [f"rfc822; {carol}"]


@needs_runner
def test_no_bounce_to_the_null_sender(outbound, mx):
    m1 = mx()
    m1.rcpt_replies[BOB] = "550 5.1.1 no such user"
    w = outbound()
    qid = submit(w.smtp, "", BOB, message("from nobody", sender=""))
    status_line(w, qid, "bounced")
    wait_for(lambda: queue_empty(w), DELIVER, "an empty queue")
    time.sleep(3)
    assert m1.delivered == []
    mail = w.dir / "mail"
    files = [x for x in mail.rglob("*") if x.is_file()] \
        if mail.exists() else []
    assert files == [], files
    assert queue_empty(w)


@needs_runner
def test_null_mx_bounces(outbound):
    w = outbound()
    qid = send_local(w, "to null mx", rcpt="bob@nullmx.test")
    status_line(w, qid, "bounced")
    (raw,) = wait_for(lambda: bounces(w), DELIVER, "the bounce")
    (r,) = parse_bounce(raw).recipients
    assert r["status"] in ("5.1.10", "5.7.27"), r


@needs_runner
def test_nxdomain_bounces(outbound):
    w = outbound()
    qid = send_local(w, "to nowhere", rcpt="bob@gone.test")
    status_line(w, qid, "bounced")
    (raw,) = wait_for(lambda: bounces(w), DELIVER, "the bounce")
    (r,) = parse_bounce(raw).recipients
    assert r["status"].startswith("5."), r


@needs_runner
def test_servfail_defers(outbound):
    w = outbound()
    qid = send_local(w, "dns trouble", rcpt="bob@broken.test")
    status_line(w, qid, "deferred")
    time.sleep(2)
    assert bounces(w) == []
    assert qid in queue_ids(w)


@needs_runner
def test_dns_truncation_retried_over_tcp(outbound, mx, dns):
    dns.zone["remote.test"] = {"MX": [(10, "mx1.remote.test")],
                               "tc": True}
    m1 = mx()
    w = outbound()
    send_local(w, "over tcp")
    wait_for(lambda: m1.with_subject("over tcp"), DELIVER, "delivery")
    assert ("remote.test", "MX", "tcp") in dns.queries, dns.queries


@needs_runner
def test_smtp_sink_as_remote(outbound, smtp_sink):
    sink = smtp_sink()
    w = outbound()
    qid = send_local(w, "to the sink", rcpt="someone@sink.test")
    got = wait_for(sink.messages, DELIVER, "the smtp-sink dump")
    assert b"Subject: to the sink" in got[0]
    status_line(w, qid, "sent", "sink.test")


# === relayhost ========================================================


def relay_config(w, r, pki):
    (w.dir / "relay_passwords").write_text(
        f"[{r.name}]:{r.port} {RELAY_USER}:{RELAY_PW}\n")
    p = run_wren("map", "-t", "relay_passwords",
                 str(w.dir / "relay_passwords"))
    assert p.returncode == 0, p.stdout + p.stderr
    return {"relayhost": f"[{r.name}]:{r.port}",
            "relay_passwords": str(w.dir / "relay_passwords"),
            "relay_ca_file": str(pki.relay.ca)}


def relayed_wren(outbound, r, pki):
    w = outbound(start=False)
    w.keys.update(relay_config(w, r, pki))
    w.write_config()
    return w.start()


@needs_runner
def test_relayhost_verified_tls_and_auth(outbound, mx, relay_host, pki):
    m1 = mx()                   # must not be used: everything relays
    r = relay_host()
    w = relayed_wren(outbound, r, pki)
    qid = send_local(w, "relayed")
    d = wait_for(lambda: r.with_subject("relayed"), DELIVER,
                 "the relayed message")[0]
    assert d.tls and d.auth == RELAY_USER and d.rcpts == [BOB]
    assert m1.connections == 0
    status_line(w, qid, "sent", "relay.test")
    log = w.log()
    assert RELAY_PW not in log


@needs_runner
def test_relayhost_unverified_certificate_defers(outbound, relay_host, pki):
    r = relay_host(rogue=True)
    w = relayed_wren(outbound, r, pki)
    qid = send_local(w, "not to a rogue")
    status_line(w, qid, "deferred")
    time.sleep(3)
    assert r.mails == [] and r.auths == [] and r.delivered == []
    assert qid in queue_ids(w)


@needs_runner
def test_relayhost_without_tls_defers(outbound, smtp_sink, pki):
    """smtp-sink offers no STARTTLS: never a cleartext fallback."""
    sink = smtp_sink(ip="127.0.0.5")
    sink.name = "relay.test"
    w = relayed_wren(outbound, sink, pki)
    qid = send_local(w, "not in clear")
    status_line(w, qid, "deferred")
    time.sleep(3)
    assert sink.messages() == []
    assert qid in queue_ids(w)


# === the queue across outages and crashes =============================


@needs_runner
def test_queued_while_remote_down_delivered_after(outbound, mx):
    m1 = mx(start=False)
    w = outbound(retry_schedule="1s")
    qids = [send_local(w, f"while down {i}") for i in range(3)]
    for q in qids:
        status_line(w, q, "deferred")
    m1.start()
    for i in range(3):
        wait_for(lambda i=i: m1.with_subject(f"while down {i}"), DELIVER,
                 f"message {i}")
    wait_for(lambda: queue_empty(w), DELIVER, "an empty queue")
    time.sleep(1.5)
    assert sorted(d.message["Subject"] for d in m1.delivered) == \
        [f"while down {i}" for i in range(3)]


@needs_runner
def test_queued_while_wren_stopped_delivered_after_restart(outbound, mx):
    m1 = mx(start=False)
    w = outbound(retry_schedule="1h")
    qid = send_local(w, "across restart")
    status_line(w, qid, "deferred")
    assert w.stop() == 0
    m1.start()
    w.start()
    wait_for(lambda: m1.with_subject("across restart"), DELIVER,
             "delivery after restart")


@needs_runner
def test_kill9_during_data_loses_nothing_duplicates_nothing_acked(outbound,
                                                                  mx):
    """What can be asserted: every message wren acknowledged is
    delivered at least once; a recipient whose 250 wren had recorded
    (not pending any more in the queue files) is never delivered again;
    one whose DATA was cut by the kill (no 250 from the MX) is
    delivered exactly once after the restart."""
    m1 = mx()
    w = outbound(retry_schedule="1s")
    a = send_local(w, "before the kill")
    wait_for(lambda: m1.with_subject("before the kill"), DELIVER, "A")
    wait_for(lambda: a not in queue_ids(w), DELIVER, "A recorded as done")
    m1.data_delay = 30
    m1.data_started.clear()     # A's DATA set it
    b = send_local(w, "cut by the kill")
    assert m1.data_started.wait(DELIVER * SLOW), "B never reached DATA"
    os_kill9(w)
    assert m1.with_subject("cut by the kill") == []
    m1.data_delay = 0
    assert b in queue_ids(w), "an acknowledged message was lost"
    w.start()
    wait_for(lambda: m1.with_subject("cut by the kill"), DELIVER,
             "B after the restart")
    wait_for(lambda: queue_empty(w), DELIVER, "an empty queue")
    time.sleep(3)
    assert len(m1.with_subject("before the kill")) == 1
    assert len(m1.with_subject("cut by the kill")) == 1


def os_kill9(w):
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait(timeout=10)
    w.log_fd.close()


@needs_runner
def test_inbound_flood_does_not_stop_outbound(outbound, mx):
    m1 = mx(start=False)
    w = outbound(max_connections="8", max_connections_per_ip="8",
                 retry_schedule="1s")
    qid = send_local(w, "despite the flood")
    status_line(w, qid, "deferred")
    flood = []
    try:
        for _ in range(8):
            c = SMTPClient(w.smtp)
            c.expect(220)
            flood.append(c)
        extra = SMTPClient(w.smtp)      # the pool is full now
        code, _ = extra.reply()
        assert code == 421
        extra.close()
        m1.start()
        wait_for(lambda: m1.with_subject("despite the flood"), DELIVER,
                 "delivery during the flood")
    finally:
        for c in flood:
            c.close()


# === SRS ==============================================================


@needs_runner
def test_srs_round_trip(outbound, mx, dns):
    """someone@sender.test writes to fwd@example.test, an alias of
    friend@remote.test: mx1 sees an SRS0 sender in srs_domain; a bounce
    sent back to that address reaches someone@sender.test."""
    m1 = mx()
    ms = mx("127.0.0.6", "mx.sender.test")
    w = outbound(aliases="fwd: friend@remote.test\n",
                 srs_domain=LOCAL_DOMAIN)
    orig = "someone@sender.test"
    qid = submit(w.smtp, orig, "fwd@example.test",
                 message("forwarded", sender=orig, to="fwd@example.test"))
    d = wait_for(lambda: m1.with_subject("forwarded"), DELIVER,
                 "the forwarded copy")[0]
    assert d.rcpts == ["friend@remote.test"]
    srs = d.sender
    assert re.fullmatch(r"SRS0[=+-][^@]+@" + re.escape(LOCAL_DOMAIN), srs,
                        re.I), srs
    assert "sender.test" in srs and "someone" in srs
    status_line(w, qid, "sent")
    submit(w.smtp, "", srs, "From: MAILER-DAEMON@remote.test\r\n"
           "Subject: bounce of forwarded\r\n\r\nIt bounced.\r\n")
    got = wait_for(lambda: ms.with_subject("bounce of forwarded"), DELIVER,
                   "the reversed bounce at mx.sender.test")[0]
    assert got.rcpts == [orig] and got.sender in ("", "<>")



# === regressions found by attacking the runner ========================


@needs_runner
def test_retry_asked_while_stopped_is_one_attempt_not_a_loop(outbound, mx):
    """`wren queue retry` on a stopped server makes one attempt at the
    next start, then the schedule applies again (an admin retry line
    must not keep the message due for ever)."""
    m = mx()
    m.rcpt_replies["*"] = "451 4.3.0 try later"
    w = outbound(retry_schedule="1h")
    qid = send_local(w, "retried once")
    status_line(w, qid, "deferred")
    assert w.stop() == 0
    p = queue_cli(w, "retry", qid)
    assert p.returncode == 0, p.stderr
    m.reset()
    w.start()
    wait_for(lambda: len(log_lines(w, qid, "status=deferred")) >= 2,
             DELIVER, "the attempt the retry asked for")
    time.sleep(3)
    assert m.connections <= 2, m.connections
    assert len(log_lines(w, qid, "status=deferred")) == 2


@needs_runner
def test_alias_target_failing_does_not_repeat_the_others(outbound):
    """One target of an alias fails (its Maildir cannot be made): it is
    retried on its own, the other target gets the message once."""
    w = outbound(start=False,
                 aliases="team: alice@example.test, carol@example.test\n",
                 users="carol@example.test:{PLAIN}Carol-pw-12345\n")
    p = run_wren("map", "-t", "users", str(w.dir / "users"))
    assert p.returncode == 0, p.stderr
    blk = w.dir / "mail" / "example.test"
    blk.mkdir(parents=True, exist_ok=True)
    (blk / "carol").write_text("not a directory\n")
    w.start()
    p = subprocess.run(wren_cmd("sendmail", "-c", str(w.conf),
                                "team@example.test"),
                       input=b"Subject: once\n\nhello\n",
                       capture_output=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    wait_for(lambda: len(maildir(w.maildir("alice"))) >= 1, DELIVER,
             "alice's copy")
    time.sleep(4)                       # retry_schedule is 1s 2s
    assert len(maildir(w.maildir("alice"))) == 1
    assert log_lines(w, "carol@example.test", "status=deferred")


@needs_runner
def test_new_mail_is_tried_when_the_index_is_full(outbound, mx, dns):
    """1,100 deferred messages (more than the runner keeps in memory):
    a new message is still delivered at once."""
    dns.zone["dead.test"] = {"A": ["127.0.0.7"]}    # refused
    m = mx()
    w = outbound(start=False, retry_schedule="1h", max_deliveries="100",
                 max_deliveries_per_domain="100")
    q = Path(w.keys["data_dir"]) / "queue"
    for sub in ("env", "msg", "tmp"):
        (q / sub).mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    body = b"From: a@example.test\nSubject: old\n\nold\n"
    for i in range(1100):
        qid = "%018X" % (0x100000000 + i)
        (q / "msg" / qid).write_bytes(body)
        (q / "env" / qid).write_text(
            f"wren-envelope 1\nid {qid}\narrival {now}\n"
            f"sender alice@example.test\nsize {len(body)}\n"
            f"rcpt u{i}@dead.test notify=- orcpt=-\n")
    w.start()
    wait_for(lambda: len(log_lines(w, "status=deferred")) >= 1024,
             60 * SLOW, "the first pass")
    send_local(w, "fresh")
    wait_for(lambda: m.with_subject("fresh"), DELIVER, "the new message")


@needs_runner
def test_mail_looping_back_to_us_bounces_at_once(outbound, dns):
    """A domain whose MX is this very server: the greeting names us, so
    the message fails with 5.4.6 instead of relaying to itself."""
    from conftest import free_port
    port = free_port()
    dns.zone["loop.test"] = {"A": ["127.0.0.1"]}
    w = outbound(smtp_listen=f"127.0.0.1:{port}", remote_smtp_port=str(port))
    qid = submit(w.sub, ALICE, "x@loop.test",
                 message("loop", to="x@loop.test"), auth=LOCAL_AUTH)
    line = status_line(w, qid, "bounced")
    assert "5.4.6" in line and "loops back to myself" in line, line
    raw = wait_for(lambda: bounces(w), DELIVER, "the bounce")
    assert len(raw) == 1
    assert not log_lines(w, "to=<x@loop.test>", "status=sent")
