# SPDX-License-Identifier: ISC
"""The autoconfiguration listener (issue 16): Thunderbird's autoconfig
parsed as Thunderbird reads it, Outlook's Autodiscover, the Apple
.mobileconfig behind the account's login, the MTA-STS policy, ACME
HTTP-01 misses, and `wren client-config` giving the same settings."""
import base64
import plistlib
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import run_wren
from http_helpers import get, http_server
from imaplib_helpers import ALICE, ALICE_PW, BOB, BOB_PW, make_pki

TB = "/.well-known/autoconfig/mail/config-v1.1.xml"
AD_NS = ("{http://schemas.microsoft.com/exchange/autodiscover/outlook/"
         "responseschema/2006a}")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    s = http_server(wren, pki)
    yield s
    if s.w.alive():
        assert s.stop() == 0


def thunderbird(xml_bytes):
    """What Thunderbird's readFromXML takes from the document: the
    servers of emailProvider, each with every element it requires."""
    root = ET.fromstring(xml_bytes)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    assert prov is not None and prov.get("id")
    assert prov.find("domain").text == prov.get("id")
    servers = []
    for kind in ("incomingServer", "outgoingServer"):
        for s in prov.findall(kind):
            d = {"kind": kind, "type": s.get("type")}
            for k in ("hostname", "port", "socketType", "authentication",
                      "username"):
                e = s.find(k)
                assert e is not None and e.text, (kind, k)
                d[k] = e.text
            assert d["socketType"] in ("SSL", "STARTTLS", "plain")
            assert d["authentication"] == "password-cleartext"
            assert d["username"] == "%EMAILADDRESS%"
            assert 0 < int(d["port"]) < 65536
            servers.append(d)
    return prov.get("id"), servers


def test_thunderbird_autoconfig(srv):
    st, h, body = get(srv, TB + "?emailaddress=alice%40example.test")
    assert st == 200 and h["content-type"].startswith("application/xml")
    dom, servers = thunderbird(body)
    assert dom == "example.test"
    got = {(s["type"], int(s["port"]), s["socketType"]) for s in servers}
    # Only the listeners configured: no POP3 here.
    assert got == {("imap", srv.imaps, "SSL"), ("imap", srv.imap, "STARTTLS"),
                   ("smtp", srv.submissions, "SSL"),
                   ("smtp", srv.submission, "STARTTLS")}
    assert all(s["hostname"] == "mail.example.test" for s in servers)
    # TLS first: Thunderbird tries them in order.
    assert servers[0]["socketType"] == "SSL"


def test_thunderbird_autoconfig_host_and_https(srv):
    st, _, body = get(srv, "/mail/config-v1.1.xml",
                      headers={"Host": "autoconfig.example.org"})
    assert st == 200 and thunderbird(body)[0] == "example.org"
    st, _, body = get(srv, TB, tls=True)
    assert st == 200 and thunderbird(body)[1]
    # The short path only on the autoconfig. host.
    assert get(srv, "/mail/config-v1.1.xml")[0] == 404
    # HEAD: the same headers, no body.
    st, h, body = get(srv, TB, method="HEAD")
    assert st == 200 and body == b"" and int(h["content-length"]) > 500


def test_thunderbird_with_pop3(wren, pki, tmp_path):
    from conftest import free_port
    p = free_port()
    s = http_server(wren, pki, pop3s_listen=f"127.0.0.1:{p}",
                    imap_listen="", submission_listen="")
    try:
        st, _, body = get(s, TB)
        got = {(x["type"], int(x["port"])) for x in thunderbird(body)[1]}
        assert got == {("imap", s.imaps), ("pop3", p),
                       ("smtp", s.submissions)}
    finally:
        assert s.stop() == 0


def test_thunderbird_bad_address(srv):
    assert get(srv, TB + "?emailaddress=a%3Cscript%3E%40x")[0] == 400
    assert get(srv, TB + "?emailaddress=%zz")[0] == 400


def test_autodiscover_post(srv):
    req = (b'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns='
           b'"http://schemas.microsoft.com/exchange/autodiscover/outlook/'
           b'requestschema/2006"><Request><EMailAddress>bob@example.test'
           b'</EMailAddress><AcceptableResponseSchema>http://schemas.'
           b'microsoft.com/exchange/autodiscover/outlook/responseschema/'
           b'2006a</AcceptableResponseSchema></Request></Autodiscover>')
    st, h, body = get(srv, "/Autodiscover/Autodiscover.xml", method="POST",
                      body=req, headers={"Content-Type": "text/xml"})
    assert st == 200
    root = ET.fromstring(body)
    acct = root.find(AD_NS + "Response").find(AD_NS + "Account")
    assert acct.find(AD_NS + "AccountType").text == "email"
    protos = {(p.find(AD_NS + "Type").text, int(p.find(AD_NS + "Port").text),
               p.find(AD_NS + "Encryption").text)
              for p in acct.findall(AD_NS + "Protocol")}
    assert ("IMAP", srv.imaps, "SSL") in protos
    assert ("SMTP", srv.submission, "TLS") in protos
    assert {p.find(AD_NS + "LoginName").text
            for p in acct.findall(AD_NS + "Protocol")} == {BOB}
    # GET is answered too; a body too big is refused.
    assert get(srv, "/autodiscover/autodiscover.xml")[0] == 200
    assert get(srv, "/autodiscover/autodiscover.xml", method="POST",
               body=b"x" * 5000)[0] == 413


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(
        f"{user}:{pw}".encode()).decode()}


def test_mobileconfig(srv):
    st, h, body = get(srv, "/profile.mobileconfig", tls=True,
                      headers=basic(ALICE, ALICE_PW))
    assert st == 200
    assert h["content-type"] == "application/x-apple-aspen-config"
    p = plistlib.loads(body)
    assert p["PayloadType"] == "Configuration" and p["PayloadVersion"] == 1
    (m,) = p["PayloadContent"]
    assert m["PayloadType"] == "com.apple.mail.managed"
    assert m["EmailAddress"] == ALICE
    assert m["EmailAccountType"] == "EmailTypeIMAP"
    assert m["IncomingMailServerHostName"] == "mail.example.test"
    assert m["IncomingMailServerPortNumber"] == srv.imaps
    assert m["IncomingMailServerUseSSL"] is True
    assert m["IncomingMailServerUsername"] == ALICE
    assert m["OutgoingMailServerPortNumber"] == srv.submissions
    assert m["OutgoingMailServerUseSSL"] is True
    assert m["IncomingMailServerAuthentication"] == "EmailAuthPassword"
    uuids = (p["PayloadUUID"], m["PayloadUUID"])
    assert len(set(uuids)) == 2
    # Stable per account; another account, other UUIDs.
    again = plistlib.loads(get(srv, "/profile.mobileconfig", tls=True,
                               headers=basic(ALICE, ALICE_PW))[2])
    assert (again["PayloadUUID"],
            again["PayloadContent"][0]["PayloadUUID"]) == uuids
    bob = plistlib.loads(get(srv, "/profile.mobileconfig", tls=True,
                             headers=basic(BOB, BOB_PW))[2])
    assert bob["PayloadContent"][0]["EmailAddress"] == BOB
    assert bob["PayloadUUID"] not in uuids


def test_mobileconfig_needs_login(srv):
    st, h, _ = get(srv, "/profile.mobileconfig", tls=True)
    assert st == 401 and h["www-authenticate"].startswith("Basic ")
    st, h, _ = get(srv, "/profile.mobileconfig", tls=True,
                   headers=basic(ALICE, "wrong"))
    assert st == 401 and "www-authenticate" in h
    srv.w.wait_log("auth failed")
    st, h, _ = get(srv, "/profile.mobileconfig", tls=True,
                   headers={"Authorization": "Basic !!!"})
    assert st == 401
    # Plain http never asks for a password.
    st, h, _ = get(srv, "/profile.mobileconfig",
                   headers=basic(ALICE, ALICE_PW))
    assert st == 403 and "www-authenticate" not in h


def test_mta_sts(srv):
    st, h, body = get(srv, "/.well-known/mta-sts.txt", tls=True,
                      headers={"Host": "mta-sts.example.test"})
    assert st == 200 and h["content-type"].startswith("text/plain")
    lines = body.decode().splitlines()
    assert lines == ["version: STSv1", "mode: enforce",
                     "mx: mail.example.test", "max_age: 604800"]
    # Only on the mta-sts. host.
    assert get(srv, "/.well-known/mta-sts.txt", tls=True)[0] == 404


def test_mta_sts_off(wren, pki):
    s = http_server(wren, pki, mta_sts_mode="none")
    try:
        assert get(s, "/.well-known/mta-sts.txt",
                   headers={"Host": "mta-sts.example.test"})[0] == 404
    finally:
        assert s.stop() == 0


def test_nothing_else_served(srv):
    for path in ("/", "/index.html", "/.well-known/acme-challenge/abc",
                 "/.well-known/acme-challenge/../../etc/passwd",
                 "/.well-known/acme-challenge/", "/profile.mobileconfig/x",
                 "/.well-known/autoconfig/mail/config-v1.1.xml/.."):
        assert get(srv, path)[0] == 404, path
    st, h, _ = get(srv, TB, method="PUT", body=b"x")
    assert st == 405 and h["allow"] == "GET, HEAD"
    st, h, _ = get(srv, "/", method="POST", body=b"")
    assert st == 405
    st, h, _ = get(srv, "/", method="OPTIONS")
    assert st == 405


def test_curl_keepalive(srv):
    url = f"http://127.0.0.1:{srv.http}{TB}"
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null",
                        "-w", "%{http_code} %{num_connects}\n", url, url],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["200", "1", "200", "0"]
    p = subprocess.run(["curl", "-sS", "--cacert", str(srv.pki / "cert.pem"),
                        "-u", f"{ALICE}:{ALICE_PW}",
                        f"https://127.0.0.1:{srv.https}/profile.mobileconfig"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0 and plistlib.loads(p.stdout)


def test_client_config(srv, tmp_path):
    out = tmp_path / "a.mobileconfig"
    p = run_wren("client-config", "-c", str(srv.w.conf), ALICE,
                 "--mobileconfig", str(out))
    assert p.returncode == 0, p.stderr
    rows = [ln.split() for ln in p.stdout.splitlines()
            if ln.startswith(("IMAP ", "SMTP ", "POP3 "))]
    assert rows == [["IMAP", "mail.example.test", str(srv.imaps), "SSL/TLS"],
                    ["IMAP", "mail.example.test", str(srv.imap), "STARTTLS"],
                    ["SMTP", "mail.example.test", str(srv.submissions),
                     "SSL/TLS"],
                    ["SMTP", "mail.example.test", str(srv.submission),
                     "STARTTLS"]]
    assert ALICE in p.stdout
    # The same profile the listener serves.
    served = get(srv, "/profile.mobileconfig", tls=True,
                 headers=basic(ALICE, ALICE_PW))[2]
    assert out.read_bytes() == served
    # The same servers as the autoconfig document.
    _, servers = thunderbird(get(srv, TB)[2])
    assert [(s["type"].upper(), s["port"]) for s in servers] == \
        [(r[0], r[2]) for r in rows]
    p = run_wren("client-config", "-c", str(srv.w.conf), "bad<addr")
    assert p.returncode == 1 and "not a plain address" in p.stderr
