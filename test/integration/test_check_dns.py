# SPDX-License-Identifier: ISC
"""`wren check --dns` against a test DNS server (python3-dnslib).

A complete zone for example.org (MX, A, PTR, SPF, DKIM, DMARC, MTA-STS,
TLS-RPT, SRV) must pass with exit status 0; then each required record
is removed or made wrong in turn, and the check must name it, print the
record to publish and exit 1. Recommended records, DNSBL listings and a
blocked port 25 only warn (exit 0). Every run is bounded in time
(check_dns_timeout = 1 s per query and for the port 25 probe).
"""
import base64
import os
import socket
import subprocess
import time

import pytest
from dnslib import PTR, SRV
from dnslib.server import DNSServer

from conftest import SLOW, free_port, wren_cmd
from outbound import FakeDNS, _Handler, _QuietLogger, _Resolver

SELF = "192.0.2.10"
REV = "10.2.0.192.in-addr.arpa"
HOST = "mail.example.org"
DOM = "example.org"
SEL = "sel1"


class _ZoneResolver(_Resolver):
    """FakeDNS's resolver with PTR and SRV rdata as well."""

    @staticmethod
    def _rdata(qtype, value):
        if qtype == "PTR":
            return PTR(value)
        if qtype == "SRV":
            prio, weight, port, target = value
            return SRV(prio, weight, port, target)
        if qtype == "TXT" and len(value) > 255:
            return _Resolver._rdata(qtype, [value[i:i + 255] for i in
                                            range(0, len(value), 255)])
        return _Resolver._rdata(qtype, value)


class ZoneDNS(FakeDNS):
    def start(self):
        resolver = _ZoneResolver(self)
        for _ in range(20):
            port = free_port()
            try:
                servers = [DNSServer(resolver, address="127.0.0.1",
                                     port=port, tcp=tcp, handler=_Handler,
                                     logger=_QuietLogger())
                           for tcp in (False, True)]
            except OSError:
                continue
            break
        else:
            raise RuntimeError("no free port for the DNS server")
        self.port = port
        self._servers = servers
        for s in servers:
            s.start_thread()
        return self


def _openssl(*args):
    return subprocess.run(["openssl", *args], check=True,
                          capture_output=True, timeout=60).stdout


def _rsa_key(path):
    _openssl("genrsa", "-out", str(path), "2048")
    os.chmod(path, 0o600)
    der = _openssl("rsa", "-in", str(path), "-pubout", "-outform", "DER")
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("dkim")
    return {"key": d / "dkim.pem", "p": _rsa_key(d / "dkim.pem"),
            "other_p": _rsa_key(d / "other.pem")}


def complete_zone(p):
    return {
        DOM: {"MX": [(10, HOST)],
              "TXT": ["v=spf1 mx -all", "google-site-verification=x"]},
        HOST: {"A": [SELF]},
        REV: {"PTR": [HOST]},
        f"{SEL}._domainkey.{DOM}": {"TXT": [f"v=DKIM1; k=rsa; p={p}"]},
        f"_dmarc.{DOM}": {"TXT": ["v=DMARC1; p=quarantine; "
                                  f"rua=mailto:postmaster@{DOM}"]},
        f"_mta-sts.{DOM}": {"TXT": ["v=STSv1; id=20261207"]},
        f"_smtp._tls.{DOM}": {"TXT": ["v=TLSRPTv1; "
                                      f"rua=mailto:postmaster@{DOM}"]},
        f"_submissions._tcp.{DOM}": {"SRV": [(0, 1, 465, HOST)]},
        f"_imaps._tcp.{DOM}": {"SRV": [(0, 1, 993, HOST)]},
    }


@pytest.fixture
def smtp_port():
    """A loopback listener standing in for a remote MX's port 25."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def dns(keys):
    d = ZoneDNS(complete_zone(keys["p"])).start()
    yield d
    d.stop()


def run_check(tmp_path, dns, keys, smtp_port, **over):
    conf = {
        "hostname": HOST, "domains": DOM, "user": "",
        "dns_servers": dns.address,
        "dkim_selector": SEL, "dkim_key": str(keys["key"]),
        "dnsbl_check_zones": "bl.test",
        "check_smtp_probe": f"127.0.0.1:{smtp_port}",
        "check_dns_timeout": "1",
        "users": str(tmp_path / "users"),
        "aliases": str(tmp_path / "aliases"),
        "virtual": str(tmp_path / "virtual"),
        "sender_logins": str(tmp_path / "senders"),
        "data_dir": str(tmp_path / "data"),
    }
    conf.update(over)
    path = tmp_path / "wren.conf"
    path.write_text("".join(f"{k} = {v}\n" for k, v in conf.items()))
    cmd = wren_cmd("check", "-c", str(path), "--dns")
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=60 * SLOW)
    r.elapsed = time.monotonic() - t0
    print(r.stdout, r.stderr)
    return r


def rows(out, level):
    return [l for l in out.splitlines() if l.startswith(f"  {level} ")]


def test_complete_zone_passes(tmp_path, dns, keys, smtp_port):
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0, r.stdout
    assert rows(r.stdout, "FAIL") == []
    assert rows(r.stdout, "warn") == []
    out = r.stdout
    assert f"{DOM}: 10 {HOST}" in out
    assert f"{SELF}: {HOST} (forward-confirmed)" in out
    assert f"authorises {SELF} (pass" in out
    assert f"{SEL}._domainkey.{DOM}: matches" in out
    assert "not on bl.test" in out
    assert "outbound connections work" in out
    assert f"_submissions._tcp.{DOM}: 0 1 465 {HOST}" in out


def _del(zone, name, rtype=None):
    if rtype is None:
        del zone[name]
    else:
        zone[name].pop(rtype)


# (id, change to the zone, record named in a FAIL row, fix printed)
BROKEN = [
    ("mx-missing", lambda z, k: _del(z, DOM, "MX"), "MX",
     f"publish: {DOM}. IN MX 10 {HOST}."),
    ("mx-host-without-address",
     lambda z, k: z[DOM].update(MX=[(10, f"mx2.{DOM}")]), "A",
     f"publish: mx2.{DOM}. IN A"),
    ("hostname-without-address", lambda z, k: _del(z, HOST), "A",
     f"publish: {HOST}. IN A"),
    ("ptr-missing", lambda z, k: _del(z, REV), "PTR",
     f"publish: {REV}. IN PTR {HOST}."),
    ("ptr-wrong", lambda z, k: z[REV].update(PTR=["host.isp.example"]),
     "PTR", f"publish: {REV}. IN PTR {HOST}."),
    ("ptr-not-forward-confirmed",
     lambda z, k: (z[REV].update(PTR=[f"other.{DOM}"]),
                   z.update({f"other.{DOM}": {"A": ["192.0.2.99"]}})),
     "PTR", f"publish: {REV}. IN PTR {HOST}."),
    ("spf-missing", lambda z, k: z[DOM].update(TXT=["unrelated"]), "SPF",
     f'publish: {DOM}. IN TXT "v=spf1 mx -all"'),
    ("spf-not-authorising",
     lambda z, k: z[DOM].update(TXT=["v=spf1 ip4:198.51.100.1 -all"]),
     "SPF", f'publish instead: {DOM}. IN TXT '
            '"v=spf1 mx ip4:198.51.100.1 -all"'),
    ("spf-softfail-only",
     lambda z, k: z[DOM].update(TXT=["v=spf1 ~all"]), "SPF",
     f'publish instead: {DOM}. IN TXT "v=spf1 mx ~all"'),
    ("spf-two-records",
     lambda z, k: z[DOM].update(TXT=["v=spf1 mx -all", "v=spf1 a -all"]),
     "SPF", f'keep one: {DOM}. IN TXT "v=spf1 mx -all"'),
    ("spf-syntax", lambda z, k: z[DOM].update(TXT=["v=spf1 mx foo -all"]),
     "SPF", f'publish instead: {DOM}. IN TXT "v=spf1 mx -all"'),
    ("spf-include-loop",
     lambda z, k: z[DOM].update(TXT=[f"v=spf1 include:{DOM} -all"]),
     "SPF", f'publish instead: {DOM}. IN TXT "v=spf1 mx -all"'),
    ("dkim-missing", lambda z, k: _del(z, f"{SEL}._domainkey.{DOM}"),
     "DKIM", f"{SEL}._domainkey.{DOM}. IN TXT ( \"v=DKIM1; k=rsa; \""),
    ("dkim-key-mismatch",
     lambda z, k: z[f"{SEL}._domainkey.{DOM}"].update(
         TXT=[f"v=DKIM1; k=rsa; p={k['other_p']}"]),
     "DKIM", f"{SEL}._domainkey.{DOM}. IN TXT ( \"v=DKIM1; k=rsa; \""),
    ("dkim-revoked",
     lambda z, k: z[f"{SEL}._domainkey.{DOM}"].update(
         TXT=["v=DKIM1; k=rsa; p="]),
     "DKIM", f"{SEL}._domainkey.{DOM}. IN TXT ("),
    ("dkim-garbage",
     lambda z, k: z[f"{SEL}._domainkey.{DOM}"].update(
         TXT=["v=DKIM1; k=rsa; p=AAAA!!!"]),
     "DKIM", f"{SEL}._domainkey.{DOM}. IN TXT ("),
    ("dmarc-missing", lambda z, k: _del(z, f"_dmarc.{DOM}"), "DMARC",
     f'publish: _dmarc.{DOM}. IN TXT "v=DMARC1; p=quarantine; '
     f'rua=mailto:postmaster@{DOM}"'),
    ("dmarc-no-policy",
     lambda z, k: z[f"_dmarc.{DOM}"].update(TXT=["v=DMARC1; rua=x"]),
     "DMARC", f'publish instead: _dmarc.{DOM}. IN TXT "v=DMARC1; '
              'p=quarantine;'),
]


@pytest.mark.parametrize("change,record,fix",
                         [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_broken_record_fails(tmp_path, dns, keys, smtp_port, change, record,
                             fix):
    change(dns.zone, keys)
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 1, r.stdout
    fails = rows(r.stdout, "FAIL")
    assert any(l.split()[1] == record for l in fails), fails
    assert fix in r.stdout
    assert r.elapsed < 20 * SLOW


def test_backup_mx_ptr_only_warns(tmp_path, dns, keys, smtp_port):
    """Another MX host (a backup service): its PTR is checked against its
    own name, and a missing one is not ours to fix: a warning."""
    dns.zone[DOM]["MX"].append((20, "mx.backup.example"))
    dns.zone["mx.backup.example"] = {"A": ["198.51.100.7"]}
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0, r.stdout
    assert [l.split()[1] for l in rows(r.stdout, "warn")] == ["PTR"]
    assert ("7.100.51.198.in-addr.arpa. IN PTR mx.backup.example."
            in r.stdout)


def test_spf_include_and_redirect_pass(tmp_path, dns, keys, smtp_port):
    dns.zone[DOM]["TXT"] = ["v=spf1 include:_spf.example.net "
                            "redirect=_r.example.net"]
    dns.zone["_spf.example.net"] = {"TXT": ["v=spf1 ip4:198.51.100.0/24 "
                                            "-all"]}
    dns.zone["_r.example.net"] = {"TXT": ["v=spf1 a:" + HOST + "/28 -all"]}
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0, r.stdout
    assert f"authorises {SELF} (pass, 3 lookups)" in r.stdout


def test_spf_too_many_lookups(tmp_path, dns, keys, smtp_port):
    chain = [f"l{i}.example.net" for i in range(12)]
    dns.zone[DOM]["TXT"] = [f"v=spf1 include:{chain[0]} -all"]
    for a, b in zip(chain, chain[1:]):
        dns.zone[a] = {"TXT": [f"v=spf1 include:{b} -all"]}
    dns.zone[chain[-1]] = {"TXT": ["v=spf1 +all"]}
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 1
    assert "permerror" in r.stdout and "10 DNS lookups" in r.stdout


def test_recommended_records_only_warn(tmp_path, dns, keys, smtp_port):
    for n in (f"_mta-sts.{DOM}", f"_smtp._tls.{DOM}",
              f"_submissions._tcp.{DOM}", f"_imaps._tcp.{DOM}"):
        del dns.zone[n]
    dns.zone[f"_dmarc.{DOM}"]["TXT"] = ["v=DMARC1; p=none"]
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0, r.stdout
    out = r.stdout
    assert f'_mta-sts.{DOM}. IN TXT "v=STSv1; id=' in out
    assert f'_smtp._tls.{DOM}. IN TXT "v=TLSRPTv1; rua=mailto:' in out
    assert f"_submissions._tcp.{DOM}. IN SRV 0 1 465 {HOST}." in out
    assert f"_imaps._tcp.{DOM}. IN SRV 0 1 993 {HOST}." in out
    assert "p=none only monitors" in out
    assert len(rows(out, "warn")) == 5


def test_dnsbl_listing_warns(tmp_path, dns, keys, smtp_port):
    dns.zone[f"{REV.split('.in-addr')[0]}.bl.test"] = {"A": ["127.0.0.2"]}
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0
    assert f"{SELF} is LISTED on bl.test" in r.stdout


def test_port25_blocked_proposes_relayhost(tmp_path, dns, keys):
    """A listener whose backlog is full drops further SYNs: the probe's
    connection times out, as behind an ISP that filters port 25."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fill = []
    try:
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fill.append(c)
        time.sleep(0.2)
        r = run_check(tmp_path, dns, keys, port)
    finally:
        for c in fill:
            c.close()
        srv.close()
    assert r.returncode == 0, r.stdout
    assert "outbound port 25 looks BLOCKED" in r.stdout
    assert "relayhost = [" in r.stdout
    assert r.elapsed < 15 * SLOW


def test_port25_refused_warns(tmp_path, dns, keys):
    r = run_check(tmp_path, dns, keys, free_port())
    assert r.returncode == 0
    assert "outbound port 25 refused" in r.stdout
    assert "relayhost = [" in r.stdout


def test_port25_probe_through_mx(tmp_path, dns, keys, smtp_port):
    """A domain as probe: its first MX, as delivery would pick it."""
    dns.zone["probe.test"] = {"MX": [(5, "mx.probe.test")]}
    dns.zone["mx.probe.test"] = {"A": ["127.0.0.1"]}
    r = run_check(tmp_path, dns, keys, smtp_port,
                  check_smtp_probe=f"probe.test:{smtp_port}")
    assert r.returncode == 0, r.stdout
    assert f"(mx.probe.test 127.0.0.1 port {smtp_port})" in r.stdout


def test_relayhost_skips_port25(tmp_path, dns, keys, smtp_port):
    r = run_check(tmp_path, dns, keys, smtp_port,
                  relayhost="[smtp.provider.example]:587",
                  check_smtp_probe="127.0.0.1:9")
    assert r.returncode == 0
    assert "not needed: mail leaves through relayhost" in r.stdout


def test_dns_down_fails_in_bounded_time(tmp_path, dns, keys, smtp_port):
    r = run_check(tmp_path, dns, keys, smtp_port,
                  dns_servers="127.0.0.1:9")
    assert r.returncode == 1
    assert "lookup failed" in r.stdout
    assert r.elapsed < 30 * SLOW


def test_dns_timeout_is_bounded(tmp_path, dns, keys, smtp_port):
    """A server that never answers: every query ends at the bound."""
    for name in list(dns.zone):
        dns.zone[name] = "TIMEOUT"
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 1
    assert "lookup failed" in r.stdout
    assert r.elapsed < 40 * SLOW


def test_dual_stack(tmp_path, dns, keys, smtp_port):
    """An IPv6 address too: its ip6.arpa PTR, SPF "mx" through AAAA, the
    DNSBL name of its 32 nibbles."""
    v6 = "2001:db8::10"
    rev6 = ".".join(reversed("20010db8" + "0" * 22 + "10"))
    dns.zone[HOST]["AAAA"] = [v6]
    dns.zone[f"{rev6}.ip6.arpa"] = {"PTR": [HOST]}
    dns.zone[f"{rev6}.bl.test"] = {"A": ["127.0.0.4"]}
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 0, r.stdout
    assert f"{v6}: {HOST} (forward-confirmed)" in r.stdout
    assert f'authorises {v6} (pass' in r.stdout
    assert f"{v6} is LISTED on bl.test" in r.stdout
    assert f"{SELF}: not on bl.test" in r.stdout


def test_dual_stack_ipv6_not_in_spf(tmp_path, dns, keys, smtp_port):
    dns.zone[HOST]["AAAA"] = ["2001:db8::10"]
    rev6 = ".".join(reversed("20010db8" + "0" * 22 + "10"))
    dns.zone[f"{rev6}.ip6.arpa"] = {"PTR": [HOST]}
    dns.zone[DOM]["TXT"] = [f"v=spf1 ip4:{SELF} -all"]
    r = run_check(tmp_path, dns, keys, smtp_port)
    assert r.returncode == 1
    assert "does not authorise 2001:db8::10 (fail" in r.stdout
    assert f'"v=spf1 mx ip4:{SELF} -all"' in r.stdout


def test_verbose_prints_records(tmp_path, dns, keys, smtp_port):
    path = tmp_path / "wren.conf"
    run_check(tmp_path, dns, keys, smtp_port)
    r = subprocess.run(wren_cmd("check", "--dns", "-v", "-c", str(path)),
                       capture_output=True, text=True, timeout=60 * SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'{DOM}. IN TXT "v=spf1 mx -all"' in r.stdout
    assert f'{SEL}._domainkey.{DOM}. IN TXT "v=DKIM1; k=rsa; p=' in r.stdout


def test_dkim_key_per_domain(tmp_path, dns, keys, smtp_port):
    """dkim_key with %d: the domain's own file; a domain without one is
    not signed (and not checked)."""
    kd = tmp_path / "keys"
    kd.mkdir()
    (kd / f"{DOM}.pem").write_bytes(keys["key"].read_bytes())
    r = run_check(tmp_path, dns, keys, smtp_port,
                  domains=f"{DOM} other.example",
                  dkim_key=str(kd / "%d.pem"))
    out = r.stdout
    assert f"{SEL}._domainkey.{DOM}: matches {kd}/{DOM}.pem" in out
    assert f"other.example: no key {kd}/other.example.pem: not signed" \
        in out
    # other.example has no records at all: its MX, SPF, DMARC fail.
    assert r.returncode == 1
    assert "publish: other.example. IN MX 10 mail.example.org." in out
