# SPDX-License-Identifier: ISC
"""Inbound defence on port 25 (INBOUND_CHECKS, smtp/smtp_screen.c)
against the real binary, with python3-dnslib as the DNS (outbound.py's
FakeDNS) and smtplib or raw sockets as clients:

- SPF (RFC 7208) of MAIL FROM and HELO: pass, fail, softfail, neutral,
  none, temperror, permerror and the limits of 4.6.4, with records
  from the RFC 7208 test suite (rfc7208-tests.yml of the pyspf
  sources, release 2014.04) where they apply, their 1.2.3.4 turned
  into the test client's 127.0.0.x. Until the Authentication-Results
  writer lands, the results are read from the log line
  "spf: mailfrom=<s> domain=<d> result=<r> (<why>)".
- DNSBL at connect: a listed client refused (554 5.7.1, the zone
  named), a lighter listing served and marked for Junk, one DNS query
  for two connections (the verdict cache).
- An early talker refused (554 5.5.1); mynetworks and submission
  exempt; smtp_rate_* answered 451 4.7.1.
- Another client served while a client's lookups are pending.

Clients outside mynetworks (127.0.0.1/32) bind 127.0.0.x source
addresses; every server and client is bounded in time.
"""
import importlib
import re
import smtplib
import socket
import time

import pytest

from conftest import SLOW, SMTPClient, free_port, run_wren
from outbound import FakeDNS, wait_for

HOST = "mail.example.test"
CLIENT = "127.0.0.5"            # outside mynetworks
LISTED = "127.0.0.6"            # in bl.test (weight 3)
WEAK = "127.0.0.7"              # in weak.test only (weight 1)
SLOWIP = "127.0.0.8"            # its DNSBL queries are never answered


def rev(ip):
    return ".".join(reversed(ip.split(".")))


def spf_zone():
    """Records of the RFC 7208 test suite, 1.2.3.4 -> CLIENT."""
    c = CLIENT
    z = {
        # ours: the plain results
        "pass.test": {"TXT": [f"v=spf1 ip4:{c} -all"]},
        "fail.test": {"TXT": ["v=spf1 ip4:192.0.2.1 -all"]},
        "soft.test": {"TXT": ["v=spf1 ~all"]},
        "neutral.test": {"TXT": ["v=spf1 ?all"]},
        "none.test": {"TXT": ["not spf"]},
        "slow.test": "TIMEOUT",
        "helo.test": {"TXT": [f"v=spf1 a -all"], "A": [c]},
        "mx.test": {"TXT": ["v=spf1 mx -all"],
                    "MX": [(10, "mail.mx.test")]},
        "mail.mx.test": {"A": [c]},
        # suite "Record evaluation": detect-errors-anywhere
        "t1.example.com": {"TXT": [f"v=spf1 ip4:{c} -all moo"]},
        # suite "Include mechanism semantics": include-fail
        "ip5.example.com": {"TXT": ["v=spf1 ip4:1.2.3.5 -all"]},
        "e1.example.com": {"TXT": ["v=spf1 include:ip5.example.com "
                                   "~all"]},
        # suite "Processing limits": mech-over-limit, include-loop,
        # void-over-limit, mx-limit, include-at-limit
        "e7.example.com": {"TXT": ["v=spf1 a mx a mx a mx a mx a ptr a "
                                   f"ip4:{c} -all"],
                           "A": ["1.2.3.20"]},
        "e2.example.com": {"TXT": ["v=spf1 include:e3.example.com"]},
        "e3.example.com": {"TXT": ["v=spf1 include:e2.example.com"]},
        "e11.example.com": {"TXT": ["v=spf1 a:err.example.com "
                                    "a:err1.example.com "
                                    "a:err2.example.com ?all"]},
        "e4.example.com": {"TXT": ["v=spf1 mx"],
                           "MX": [(i, "mail.example.com")
                                  for i in range(10)] +
                           [(10, "e4.example.com")]},
        "mail.example.com": {"A": ["1.2.3.4"]},
        "e8.example.com": {"TXT": ["v=spf1 a include:inc.example.com "
                                   f"ip4:{c} mx -all"],
                           "A": ["1.2.3.4"]},
        "inc.example.com": {"TXT": ["v=spf1 a a a a a a a a"],
                            "A": ["1.2.3.10"]},
        # suite "Macro expansion rules": macro-reverse-split-on-dash
        "e11m.example.com": {"TXT": ["v=spf1 exists:%{i}.%{l2r-}.user."
                                     "%{d2}"]},
        f"{c}.gladstone.philip.user.example.com": {"A": ["127.0.0.2"]},
    }
    # DNSBLs: RFC 5782 2.1 names; 127.0.0.2 means listed.
    z[f"{rev(LISTED)}.bl.test"] = {"A": ["127.0.0.2"]}
    z[f"{rev(WEAK)}.weak.test"] = {"A": ["127.0.0.2"]}
    z[f"{rev(SLOWIP)}.bl.test"] = "TIMEOUT"
    z[f"{rev(SLOWIP)}.weak.test"] = "TIMEOUT"
    return z


@pytest.fixture
def dns():
    d = FakeDNS(spf_zone(), ttl=1).start()
    yield d
    d.stop()


def server(wren, dns, start=True, **keys):
    port = free_port()
    cfg = {"domains": "example.test", "hostname": HOST,
           "smtp_listen": f"127.0.0.1:{port}",
           "mynetworks": "127.0.0.1/32",
           "dns_servers": dns.address,
           "greet_delay": "0",
           "dnsbl_zones": "bl.test*3, weak.test*1",
           "dnsbl_threshold": "2"}
    cfg.update(keys)
    w = wren(**cfg)
    w.port = port
    (w.dir / "users").write_text("alice@example.test:{PLAIN}alicepw\n")
    for kind in ("users", "aliases", "virtual", "senders"):
        if not (w.dir / kind).exists():
            (w.dir / kind).write_text("")
        p = run_wren("map", "-t", kind, str(w.dir / kind))
        assert p.returncode == 0, p.stderr
    if start:
        w.start()
    return w


def smtp(w, source=CLIENT, helo="helo.test"):
    s = smtplib.SMTP(timeout=20 * SLOW, source_address=(source, 0))
    code, _ = s.connect("127.0.0.1", w.port)
    assert code == 220
    s.ehlo(helo)
    return s


def spf_line(w, sender, start=0):
    lines = wait_for(lambda: [ln for ln in w.log()[start:].splitlines()
                              if f"spf: mailfrom={sender} " in ln],
                     timeout=30, what=f"the SPF line of {sender}")
    m = re.search(r"result=(\w+) \((.*)\)", lines[-1])
    assert m, lines[-1]
    return m.group(1), m.group(2)


SPF_CASES = [
    ("a@pass.test", "pass"),
    ("a@fail.test", "fail"),
    ("a@soft.test", "softfail"),
    ("a@neutral.test", "neutral"),
    ("a@none.test", "none"),
    ("a@nowhere.test", "none"),
    ("a@slow.test", "temperror"),
    ("a@mx.test", "pass"),
    ("foo@t1.example.com", "permerror"),     # detect-errors-anywhere
    ("foo@e1.example.com", "softfail"),      # include-fail
    ("foo@e7.example.com", "permerror"),     # mech-over-limit
    ("foo@e2.example.com", "permerror"),     # include-loop
    ("foo@e11.example.com", "permerror"),    # void-over-limit
    ("foo@e4.example.com", "permerror"),     # mx-limit
    ("foo@e8.example.com", "pass"),          # include-at-limit
    ("philip-gladstone-test@e11m.example.com", "pass"),
]


def test_spf_results(wren, dns):
    """Each MAIL FROM is evaluated (spf_reject = no: all accepted) and
    its result logged; the HELO name is checked too."""
    w = server(wren, dns)
    s = smtp(w)
    for sender, want in SPF_CASES:
        start = len(w.log())
        code, msg = s.mail(sender)
        assert code == 250, (sender, code, msg)
        got, why = spf_line(w, sender, start)
        assert got == want, (sender, got, why)
        assert s.rset()[0] == 250
    s.quit()
    assert "spf: helo=helo.test result=pass" in w.log()
    w.stop()


def test_spf_cases_agree_with_pyspf(dns):
    """python3-spf (pyspf, Debian), asked against the same zone, gives
    every result SPF_CASES expects of wren (slow.test aside: pyspf
    waits 20 s per lookup)."""
    spf = pytest.importorskip("spf")
    resolver = importlib.import_module("dns.resolver")
    r = resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = dns.port
    old = resolver.default_resolver
    resolver.default_resolver = r
    try:
        for sender, want in SPF_CASES:
            if "slow.test" in sender:
                continue
            got, _ = spf.check2(i=CLIENT, s=sender, h="helo.test")
            assert got == want, (sender, got, want)
    finally:
        resolver.default_resolver = old


def test_spf_null_sender_uses_helo(wren, dns):
    """RFC 7208 2.4: MAIL FROM:<> is checked as postmaster@HELO."""
    w = server(wren, dns)
    s = smtp(w, helo="fail.test")
    assert s.mail("<>")[0] == 250
    wait_for(lambda: "spf: helo=fail.test result=fail" in w.log(),
             what="the HELO verdict")
    s.quit()
    w.stop()


def test_null_sender_twice_on_one_connection(wren, dns):
    """Two bounces on one connection (MAIL FROM:<>, RSET, MAIL FROM:<>,
    and a message then a bounce): the second null sender takes the HELO
    result already known. It crashed the server (the domain after an
    '@' the null sender does not have)."""
    w = server(wren, dns)
    s = smtp(w, helo="pass.test")
    assert s.mail("<>")[0] == 250
    assert s.rset()[0] == 250
    assert s.mail("<>")[0] == 250
    assert s.rcpt("alice@example.test")[0] == 250
    assert s.data(b"Subject: bounce\r\n\r\nbody\r\n")[0] == 250
    assert s.mail("<>")[0] == 250
    assert s.rset()[0] == 250
    assert s.mail("a@pass.test")[0] == 250
    assert s.noop()[0] == 250
    s.quit()
    assert w.alive()
    w.stop()


def test_spf_reject(wren, dns):
    """spf_reject = yes: a fail is 550 5.7.23 (RFC 7372), the rest
    goes on; the default (no) accepted the same sender above."""
    w = server(wren, dns, spf_reject="yes")
    s = smtp(w)
    code, msg = s.mail("a@fail.test")
    assert code == 550 and b"5.7.23" in msg, (code, msg)
    assert s.mail("a@soft.test")[0] == 250
    s.quit()
    w.stop()


def test_spf_pipelined_behind_pending_lookup(wren, dns):
    """MAIL waits for SPF; RCPT and DATA pipelined behind it are read
    after, in order, and the message is delivered."""
    w = server(wren, dns)
    c = SMTPClient(w.port, source=CLIENT)
    assert c.reply()[0] == 220
    c.send("EHLO helo.test\r\n")
    assert c.reply()[0] == 250
    c.send("MAIL FROM:<x@mx.test>\r\nRCPT TO:<alice@example.test>\r\n"
           "DATA\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.reply()[0] == 354
    c.send("Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    assert c.reply()[0] == 250
    assert spf_line(w, "x@mx.test")[0] == "pass"
    w.stop()


def test_dnsbl_listed_refused(wren, dns):
    """Weight 3 >= threshold 2: 554 5.7.1 naming the zone, logged."""
    w = server(wren, dns)
    c = SMTPClient(w.port, source=LISTED)
    code, text = c.reply()
    assert code == 554 and "5.7.1" in text and "bl.test" in text, text
    with pytest.raises((EOFError, ConnectionError)):
        c.line()
    assert f"dnsbl: ip={LISTED} refused: listed by bl.test (score 3)" \
        in w.log()
    w.stop()


def test_dnsbl_below_threshold_marked(wren, dns):
    """Weight 1 < 2: served, marked, and the message delivered into
    the account's Junk folder (smtp_deliver_junk); an unlisted
    client's message goes to the inbox."""
    w = server(wren, dns)
    s = smtp(w, source=WEAK)
    assert s.mail("a@pass.test")[0] == 250
    assert s.rcpt("alice@example.test")[0] == 250
    assert s.data(b"Subject: listed\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    assert f"dnsbl: ip={WEAK} listed by weak.test (score 1): mail goes " \
        "to Junk" in w.log()
    s = smtp(w)
    assert s.mail("a@pass.test")[0] == 250
    assert s.rcpt("alice@example.test")[0] == 250
    assert s.data(b"Subject: clean\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    md = w.dir / "mail" / "example.test" / "alice" / "Maildir"
    junk = list((md / ".Junk" / "new").iterdir())
    inbox = list((md / "new").iterdir())
    assert len(junk) == 1 and b"Subject: listed" in junk[0].read_bytes()
    assert len(inbox) == 1 and b"Subject: clean" in inbox[0].read_bytes()
    w.stop()


def test_dnsbl_cache_one_query_for_two_connections(wren, dns):
    """The verdict of an address is kept: a second connection asks no
    DNSBL (the resolver's own cache expires with the TTL of 1 s, so
    the query count shows the verdict cache)."""
    w = server(wren, dns, log_level="debug")
    name = f"{rev(WEAK)}.weak.test"
    for _ in range(2):
        s = smtp(w, source=WEAK)
        s.quit()
        time.sleep(1.5)     # past the DNS TTL
    asked = [q for q in dns.queries if q[0].rstrip(".").lower() == name]
    assert len(asked) == 1, dns.queries
    assert "dnsbl: cached verdict" in w.log()
    w.stop()


def test_early_talker_refused(wren, dns):
    """A client that speaks while the greeting is held gets 554 5.5.1
    and is logged; a patient one is greeted."""
    w = server(wren, dns, greet_delay="2")
    c = SMTPClient(w.port, source=CLIENT)
    time.sleep(0.3)         # accepted, greeting held
    c.send("EHLO early.test\r\n")
    code, text = c.reply()
    assert code == 554 and "5.5.1" in text, text
    wait_for(lambda: f"early talker refused: ip={CLIENT}" in w.log(),
             what="the early talker log line")
    t0 = time.monotonic()
    s = smtp(w)             # waits for the 220
    assert time.monotonic() - t0 >= 1.5
    s.quit()
    w.stop()


def test_exemptions(wren, dns):
    """mynetworks: a listed address is served and SPF not evaluated;
    submission (587) is not screened either."""
    sub = free_port()
    w = server(wren, dns, mynetworks=f"{LISTED}/32",
               submission_listen=f"127.0.0.1:{sub}", tls_auth_only="no")
    s = smtp(w, source=LISTED)
    assert s.mail("a@fail.test")[0] == 250
    s.quit()
    c = SMTPClient(sub, source=WEAK)
    assert c.reply()[0] == 220
    c.send("QUIT\r\n")
    log = w.log()
    assert "spf: mailfrom=" not in log and "dnsbl:" not in log, log
    w.stop()


def test_authenticated_exempt_from_spf(wren, dns):
    """A client logged in (AUTH on port 25 from loopback) is not
    subject to SPF."""
    w = server(wren, dns, tls_auth_only="no")
    s = smtp(w)
    s.login("alice@example.test", "alicepw")
    assert s.mail("alice@example.test")[0] == 250
    s.quit()
    assert "spf: mailfrom=" not in w.log()
    w.stop()


def test_rate_limits(wren, dns):
    """smtp_rate_messages = 2: the third MAIL of the hour is 451 4.7.1;
    smtp_rate_recipients = 3: the fourth RCPT too."""
    w = server(wren, dns, smtp_rate_messages="2",
               smtp_rate_recipients="3")
    s = smtp(w)
    for _ in range(2):
        assert s.mail("a@pass.test")[0] == 250
        assert s.rset()[0] == 250
    code, msg = s.mail("a@pass.test")
    assert code == 451 and b"4.7.1" in msg, (code, msg)
    s.quit()
    assert f"rate limit: ip={CLIENT} over 2 messages per hour" in w.log()
    w.stop()
    w = server(wren, dns, smtp_rate_recipients="3")
    s = smtp(w)
    assert s.mail("a@pass.test")[0] == 250
    for _ in range(3):
        assert s.rcpt("alice@example.test")[0] == 250
    code, msg = s.rcpt("alice@example.test")
    assert code == 451 and b"4.7.1" in msg, (code, msg)
    s.quit()
    w.stop()


def test_other_client_served_while_lookups_pend(wren, dns):
    """SLOWIP's DNSBL queries are never answered: its greeting waits on
    the resolver's retries while CLIENT connects, checks SPF and
    delivers a whole message."""
    w = server(wren, dns)
    slow = SMTPClient(w.port, source=SLOWIP)
    slow.sock.settimeout(0.2)
    s = smtp(w)
    assert s.mail("a@pass.test")[0] == 250
    assert s.rcpt("alice@example.test")[0] == 250
    assert s.data(b"Subject: t\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    with pytest.raises(socket.timeout):
        slow.line()         # still no greeting
    slow.sock.settimeout(30 * SLOW)
    code, _ = slow.reply()  # the lookups time out: greeted anyway
    assert code == 220
    slow.send("QUIT\r\n")
    w.stop()


def test_other_client_served_while_spf_pends(wren, dns):
    """A MAIL whose SPF record never comes (slow.test: dropped
    queries) waits for the resolver's retries; meanwhile another
    client delivers a message; then the first gets its 250 with
    temperror recorded."""
    w = server(wren, dns)
    a = SMTPClient(w.port, source=CLIENT)
    assert a.reply()[0] == 220
    a.send("EHLO helo.test\r\n")
    assert a.reply()[0] == 250
    a.send("MAIL FROM:<a@slow.test>\r\n")
    a.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        a.line()
    s = smtp(w, source=WEAK)
    assert s.mail("b@pass.test")[0] == 250
    assert s.rcpt("alice@example.test")[0] == 250
    assert s.data(b"Subject: t\r\n\r\nhi\r\n")[0] == 250
    s.quit()
    assert "spf: mailfrom=a@slow.test" not in w.log()
    a.sock.settimeout(30 * SLOW)
    assert a.reply()[0] == 250
    assert spf_line(w, "a@slow.test")[0] == "temperror"
    a.send("QUIT\r\n")
    w.stop()
