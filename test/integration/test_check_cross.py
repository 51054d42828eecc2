# SPDX-License-Identifier: ISC
"""`wren check` cross-checks: a setup that would lose mail or not start
is caught without the network. One config per check trips it; each
message names the key (FILE:LINE when the file sets it) or the table's
FILE:LINE; errors exit 1, warnings 0. A clean config passes silently."""
import os
import pwd
import subprocess

import pytest

from conftest import run_wren

HOST = "mail.example.test"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """name -> (cert, key): SANs as named, or a CN only."""
    d = tmp_path_factory.mktemp("certs")
    made = {}
    for name, subj, san in [
        ("good", "/CN=other.example", f"DNS:{HOST},DNS:example.test"),
        ("wild", "/CN=other.example", "DNS:*.example.test"),
        ("deepwild", "/CN=x", "DNS:*.test"),
        ("cnonly", f"/CN={HOST}", None),
        ("cnother", "/CN=other.example", None),
        ("sanwins", f"/CN={HOST}", "DNS:other.example"),
    ]:
        extra = ["-addext", f"subjectAltName={san}"] if san else []
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{name}.key", "-out", f"{name}.crt", "-days", "60",
                "-subj", subj, *extra, cwd=d)
        made[name] = (d / f"{name}.crt", d / f"{name}.key")
    return made


class Setup:
    """A config, tables compiled with `wren map`, secrets 0600."""

    USERS = ("alice@example.test:{PLAIN}pw\n"
             "bob@example.test:{PLAIN}pw\n")
    ALIASES = ("postmaster: alice@example.test\n"
               "abuse: alice@example.test\n"
               "sales: alice@example.test, bob@example.test\n")
    VIRTUAL = "info@example.test  bob@example.test\n"

    def __init__(self, d, certs, users=USERS, aliases=ALIASES,
                 virtual=VIRTUAL, **keys):
        self.d = d
        cert, key = certs["good"]
        self.keys = {
            "hostname": HOST,
            "domains": "example.test",
            "origin": "example.test",
            "data_dir": str(d / "data"),
            "mail_home": str(d / "mail/%d/%n"),
            "users": str(d / "users"),
            "aliases": str(d / "aliases"),
            "virtual": str(d / "virtual"),
            "sender_logins": str(d / "senders"),
            "relay_passwords": str(d / "relay_passwords"),
            "tls_cert": str(cert), "tls_key": str(key),
            "smtp_listen": "127.0.0.1:2525", "submission_listen": "",
            "submissions_listen": "", "imap_listen": "",
            "imaps_listen": "", "pop3_listen": "", "pop3s_listen": "",
            "user": "", "log": "stderr",
        }
        self.keys.update(keys)
        for name, text in (("users", users), ("aliases", aliases),
                           ("virtual", virtual)):
            if text is None:
                continue
            src = d / name
            src.write_text(text)
            src.chmod(0o600 if name == "users" else 0o644)
            p = run_wren("map", "-t", name, str(src))
            assert p.returncode == 0, p.stderr
        self.conf = d / "wren.conf"
        self.conf.write_text("".join(f"{k} = {v}\n"
                                     for k, v in self.keys.items()))

    def line(self, key):
        """`CONF:LINE: ` of a key, as check prints it."""
        return f"{self.conf}:{list(self.keys).index(key) + 1}: "

    def check(self):
        return run_wren("check", "-c", str(self.conf))


@pytest.fixture
def setup(tmp_path, certs):
    n = [0]

    def make(**kw):
        d = tmp_path / f"s{n[0]}"
        n[0] += 1
        d.mkdir()
        return Setup(d, certs, **kw)
    return make


def test_clean_config_passes_without_a_word(setup):
    p = setup().check()
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


def test_postmaster_that_does_not_resolve_is_an_error(setup):
    s = setup(aliases="abuse: alice@example.test\n")
    p = s.check()
    assert p.returncode == 1
    assert (s.line("domains") + "domains: postmaster@example.test would "
            "get 550") in p.stderr
    assert (s.line("hostname") + f"hostname: postmaster@{HOST} would "
            "get 550") in p.stderr
    assert "RFC 5321 4.5.1" in p.stderr


def test_the_issue_case_root_alice_with_origin_at_hostname(setup):
    """/etc/aliases copied as is (`postmaster: root`, `root: alice`),
    accounts alice@domain, origin left at the host name."""
    s = setup(aliases="postmaster: root\nabuse: root\nroot: alice\n",
              origin="")
    p = s.check()
    assert p.returncode == 1
    assert "postmaster@example.test would get 550" in p.stderr
    assert "no account alice@" + HOST in p.stderr
    assert ("origin: warning: " + HOST + " (default: hostname): every "
            "account") in p.stderr
    assert "set origin = example.test" in p.stderr


def test_abuse_missing_is_a_warning(setup):
    s = setup(aliases="postmaster: alice@example.test\n")
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert (s.line("domains") + "domains: warning: abuse@example.test "
            "would get 550") in p.stderr
    assert "RFC 2142" in p.stderr


def test_alias_and_virtual_targets_without_account(setup):
    s = setup(aliases=Setup.ALIASES + "# a comment\n"
              "team: alice@example.test,\n  ghost@example.test\n",
              virtual="info@example.test  bob@example.test\n"
                      "sales@example.test  nobody\n")
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert (f"{s.d}/aliases:5: warning: team: target ghost@example.test: "
            "unknown user") in p.stderr
    assert (f"{s.d}/virtual:2: warning: sales@example.test: target "
            "nobody: unknown user") in p.stderr
    assert "alice" not in p.stderr


@pytest.mark.parametrize("user,message", [
    ("nosuchuser-wren", "user: user 'nosuchuser-wren' not found in "
     "/etc/passwd"),
    ("root", "user: 'root' is root (uid 0)"),
    ("0:0", "user: '0:0' is root (uid 0)"),
])
def test_user_must_exist_and_not_be_root(setup, user, message):
    s = setup(user=user)
    p = s.check()
    assert p.returncode == 1
    assert s.line("user") + message in p.stderr


def test_an_existing_user_passes(setup):
    """...when it can read the tables: users.cdb in its group, 0640."""
    s = setup(user="nobody")
    gid = pwd.getpwnam("nobody").pw_gid
    os.chown(s.d / "users.cdb", 0, gid)
    os.chmod(s.d / "users.cdb", 0o640)
    p = s.check()
    assert p.returncode == 0, p.stderr


def test_tables_the_user_cannot_read_are_an_error(setup):
    s = setup(user="nobody")            # users.cdb: root's, 0600
    p = s.check()
    assert p.returncode == 1
    assert (s.line("users") + f"users: {s.d}/users.cdb is not readable by "
            "user nobody") in p.stderr
    assert "aliases.cdb" not in p.stderr     # 0644


@pytest.mark.parametrize("cert,ok", [
    ("good", True), ("wild", True), ("cnonly", True),
    ("deepwild", False), ("cnother", False), ("sanwins", False),
])
def test_certificate_must_cover_hostname(setup, certs, cert, ok):
    c, k = certs[cert]
    s = setup(tls_cert=str(c), tls_key=str(k))
    p = s.check()
    if ok:
        assert p.returncode == 0, p.stderr
        assert "cover" not in p.stderr
    else:
        assert p.returncode == 1
        assert (s.line("hostname") + f"hostname: {HOST}: the certificate "
                f"{c} does not cover it") in p.stderr


def test_system_hostname_not_in_certificate_is_a_warning(setup, certs):
    """Without `hostname` the name is this system's, which clients may
    not use: a warning that says to set it."""
    s = setup(hostname="")
    p = s.check()
    assert "hostname: warning: this system's name" in p.stderr
    assert "set hostname" in p.stderr


@pytest.mark.parametrize("key", ["users", "relay_passwords", "dkim_key"])
def test_secrets_readable_by_others_are_an_error(setup, key):
    s = setup()
    path = s.d / key
    if key == "users":
        os.chmod(path, 0o644)
    else:
        if key == "dkim_key":
            assert run_wren("dkim-keygen", "-o", str(path), "example.test",
                            "sel").returncode == 0
            s.keys["dkim_selector"] = "sel"
        else:
            path.write_text("[smtp.example]:587 u:secret\n")
        path.chmod(0o604)
        s.keys[key] = str(path)
        s.conf.write_text("".join(f"{k} = {v}\n"
                                  for k, v in s.keys.items()))
    p = s.check()
    assert p.returncode == 1
    assert (f"{s.line(key)}{key}: {path} is readable by others (mode "
            f"0{'644' if key == 'users' else '604'})") in p.stderr


def test_users_cdb_readable_by_others_is_an_error(setup):
    s = setup()
    os.chmod(s.d / "users.cdb", 0o644)
    p = s.check()
    assert p.returncode == 1
    assert f"users: {s.d}/users.cdb is readable by others" in p.stderr


def dkim_setup(setup, tmp_path, pattern, made):
    d = tmp_path / "dkim"
    d.mkdir(exist_ok=True)
    for name in made:
        assert run_wren("dkim-keygen", "-o", str(d / name), "example.test",
                        "sel").returncode == 0
    return setup(dkim_selector="sel", dkim_key=str(d / pattern))


def test_dkim_keys_that_load_pass(setup, tmp_path):
    p = dkim_setup(setup, tmp_path, "one.key", ["one.key"]).check()
    assert p.returncode == 0, p.stderr
    p = dkim_setup(setup, tmp_path, "%d.key", ["example.test.key"]).check()
    assert p.returncode == 0, p.stderr


def test_dkim_pattern_without_any_key_is_an_error(setup, tmp_path):
    s = dkim_setup(setup, tmp_path, "%d.pem", [])
    p = s.check()
    assert p.returncode == 1
    assert (s.line("dkim_key") + f"dkim_key: {tmp_path}/dkim/%d.pem: no key "
            "for any local domain") in p.stderr


def test_dkim_key_that_does_not_load_is_an_error(setup, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    bad.chmod(0o600)
    s = setup(dkim_selector="sel", dkim_key=str(bad))
    p = s.check()
    assert p.returncode == 1
    assert s.line("dkim_key") + f"{bad}: " in p.stderr


def test_dkim_key_missing_is_an_error(setup):
    s = setup(dkim_selector="sel", dkim_key="/nonexistent/wren.key")
    p = s.check()
    assert p.returncode == 1
    assert (s.line("dkim_key") + "dkim_key: /nonexistent/wren.key: No "
            "such file") in p.stderr
    assert "wren dkim-keygen" in p.stderr


def test_public_listener_without_tls_is_a_warning(setup, tmp_path):
    s = setup(smtp_listen="0.0.0.0:2525",
              imap_listen="127.0.0.1:1430 [::]:1430",
              tls_cert=str(tmp_path / "none.crt"),
              tls_key=str(tmp_path / "none.key"))
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert (s.line("smtp_listen") + "smtp_listen: warning: 0.0.0.0:2525 is "
            "public and TLS is not set up") in p.stderr
    assert "(nor for imap_listen)" in p.stderr


def test_loopback_listeners_without_tls_are_fine(setup, tmp_path):
    s = setup(smtp_listen="127.0.0.1:2525 [::1]:2525",
              tls_cert=str(tmp_path / "none.crt"),
              tls_key=str(tmp_path / "none.key"))
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert "public" not in p.stderr


def test_origin_not_local_is_a_warning(setup):
    s = setup(origin="elsewhere.example")
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert (s.line("origin") + "origin: warning: elsewhere.example is not "
            "a local domain") in p.stderr


def test_origin_with_bare_accounts_is_fine(setup):
    s = setup(users="alice:{PLAIN}pw\n", origin="",
              aliases="postmaster: alice\nabuse: alice\n", virtual=None)
    p = s.check()
    assert p.returncode == 0, p.stderr
    assert "origin" not in p.stderr
