# SPDX-License-Identifier: ISC
"""`wren check` and the configuration files shipped in conf/."""
import re

import pytest

from conftest import ROOT, run_wren

LINE = re.compile(r"^([a-z0-9_]+) = (.*)$")


def parse_listing(text):
    """`key = value` lines -> ordered list of (key, value)."""
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        assert m, f"not a key = value line: {line!r}"
        out.append((m.group(1), m.group(2)))
    return out


def defaults():
    p = run_wren("check", "-d")
    assert p.returncode == 0, p.stderr
    return parse_listing(p.stdout)


def test_defaults_cover_the_spec_keys():
    keys = [k for k, _ in defaults()]
    assert len(keys) == len(set(keys))
    for k in ("hostname", "domains", "origin", "mynetworks", "data_dir",
              "mail_home", "recipient_delimiter", "smtp_listen",
              "submission_listen", "submissions_listen", "imap_listen",
              "imaps_listen", "pop3_listen", "pop3s_listen", "tls_cert",
              "tls_key", "tls_auth_only", "users", "aliases", "virtual",
              "sender_logins", "sender_login_mismatch", "relayhost",
              "relay_passwords", "relay_ca_file", "dns_servers",
              "remote_smtp_port", "retry_schedule", "queue_lifetime",
              "dkim_selector", "dkim_key", "max_connections",
              "max_connections_per_ip", "message_size_limit",
              "smtp_timeout", "imap_timeout", "auth_fail_delay",
              "auth_fail_limit", "user", "log", "log_level"):
        assert k in keys


def test_wren_conf_documents_every_key_with_its_default():
    """conf/wren.conf and the key table must never disagree."""
    text = (ROOT / "conf/wren.conf").read_text()
    active = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z0-9_]+) =\s?(.*)$", line)
        if m:
            active.append((m.group(1), m.group(2).strip()))
            # Each key has its documentation right above it.
            assert lines[i - 1].startswith("# "), line
    assert active == defaults()


@pytest.mark.parametrize("conf", ["conf/wren.conf", "conf/demo.conf"])
def test_shipped_configs_pass_check_and_print_every_key(conf):
    p = run_wren("check", "-c", str(ROOT / conf))
    assert p.returncode == 0, p.stderr
    printed = [k for k, _ in parse_listing(p.stdout)]
    assert printed == [k for k, _ in defaults()]
    assert "bytes per connection" in p.stdout


def test_check_prints_effective_values(tmp_path):
    c = tmp_path / "c.conf"
    c.write_text("hostname = mx.example.org\nmessage_size_limit = 10m\n"
                 "smtp_timeout = 2m   # trailing comment\n")
    p = run_wren("check", "-c", str(c))
    assert p.returncode == 0, p.stderr
    got = dict(parse_listing(p.stdout))
    assert got["hostname"] == "mx.example.org"
    assert got["origin"] == "mx.example.org"     # defaults to hostname
    assert got["message_size_limit"] == "10m"
    assert got["smtp_timeout"] == "2m"
    assert got["log_level"] == "info"
    p = run_wren("check", "-n", "-c", str(c))
    assert parse_listing(p.stdout) == [
        ("hostname", "mx.example.org"), ("message_size_limit", "10m"),
        ("smtp_timeout", "2m")]


@pytest.mark.parametrize("body,message", [
    ("bogus = 1\n", "c.conf:1: unknown key 'bogus'"),
    ("\n\nhostname\n", "c.conf:3: expected 'key = value'"),
    ("log = stderr\nlog = syslog\n",
     "c.conf:2: duplicate key 'log' (first set on line 1)"),
    ("max_connections = 0\n",
     "c.conf:1: max_connections: 0 is out of range 1-65536"),
    ("smtp_listen = 127.0.0.1\n",
     "c.conf:1: smtp_listen: '127.0.0.1': expected address:port "
     "(IPv6 as [addr]:port)"),
    ("mynetworks = 10.0.0.0/33\n",
     "c.conf:1: mynetworks: '10.0.0.0/33': prefix must be 0-32"),
    ("tls_auth_only = perhaps\n",
     "c.conf:1: tls_auth_only: expected yes or no, got 'perhaps'"),
    ("imap_listen = 127.0.0.1:1430\nimaps_listen = 127.0.0.1:1430\n",
     "c.conf:2: imaps_listen: port 1430 is also in imap_listen"),
])
def test_check_reports_file_and_line(tmp_path, body, message):
    c = tmp_path / "c.conf"
    c.write_text(body)
    p = run_wren("check", "-c", str(c))
    assert p.returncode == 1
    assert p.stderr.strip() == f"{tmp_path}/{message}"
    assert p.stdout == ""


def test_check_missing_file(tmp_path):
    p = run_wren("check", "-c", str(tmp_path / "absent.conf"))
    assert p.returncode == 1
    assert "absent.conf: No such file or directory" in p.stderr


def test_help_and_version():
    p = run_wren("--help")
    assert p.returncode == 0
    assert "serve" in p.stdout and "check" in p.stdout
    assert "selected (Kconfig):" in p.stdout
    p = run_wren("--version")
    assert p.returncode == 0
    assert p.stdout.startswith("wren ")
    p = run_wren("frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr
    p = run_wren("check", "-x")
    assert p.returncode == 2
