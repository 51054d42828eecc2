# SPDX-License-Identifier: ISC
"""`wren resolve ADDRESS...` (like sendmail -bv): where mail to each
address goes, from the tables `wren map` compiled, and for a refused
one the very reply RCPT TO gets from the running server."""
import smtplib

import pytest

from conftest import SLOW, free_port, run_wren

USERS = ("alice@example.test:{PLAIN}pw\n"
         "bob@example.test:{PLAIN}pw\n"
         "carol@example.test:{PLAIN}pw::::/home/carol\n")
ALIASES = ("postmaster: alice@example.test\n"
           "sales: alice@example.test, bob@example.test, "
           "ghost@example.test\n"
           "loop1: loop2\n"
           "loop2: loop1\n")
VIRTUAL = ("info@example.test  bob@example.test, friend@remote.example\n"
           "@other.test  carol@example.test\n")


@pytest.fixture
def w(wren):
    w = wren(domains="example.test other.test", origin="example.test")
    for name, text in (("users", USERS), ("aliases", ALIASES),
                       ("virtual", VIRTUAL)):
        src = w.dir / name
        src.write_text(text)
        p = run_wren("map", "-t", name, str(src))
        assert p.returncode == 0, p.stderr
    return w


def resolve(w, *addrs):
    return run_wren("resolve", "-c", str(w.conf), *addrs)


def test_local_accounts_with_their_maildir(w):
    home = w.dir / "mail/example.test"
    p = resolve(w, "alice@example.test", "<Alice+tag@Example.TEST>",
                "carol@example.test")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        f"alice@example.test: local alice@example.test {home}/alice/Maildir"
        " (as alice@example.test)",
        f"<Alice+tag@Example.TEST>: local alice@example.test "
        f"{home}/alice/Maildir (as alice@example.test)",
        "carol@example.test: local carol@example.test /home/carol/Maildir "
        "(as carol@example.test)",
    ]


def test_aliases_virtual_and_remote(w):
    home = w.dir / "mail/example.test"
    p = resolve(w, "sales@example.test", "info@example.test",
                "anyone@other.test", "postmaster")
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0:2] == [
        f"sales@example.test: local alice@example.test {home}/alice/Maildir"
        " (as alice@example.test)",
        f"sales@example.test: local bob@example.test {home}/bob/Maildir"
        " (as bob@example.test)"]
    assert out[2].startswith("sales@example.test: warning: 1 alias target "
                             "without an account skipped")
    assert "ghost@example.test" in out[2]
    assert out[3:5] == [
        f"info@example.test: local bob@example.test {home}/bob/Maildir"
        " (as bob@example.test)",
        "info@example.test: remote friend@remote.example"]
    assert out[5] == ("anyone@other.test: local carol@example.test "
                      "/home/carol/Maildir (as carol@example.test)")
    assert out[6].startswith("postmaster: local alice@example.test ")


def test_remote_domain(w):
    p = resolve(w, "someone@remote.example")
    assert p.returncode == 0
    assert p.stdout.startswith("someone@remote.example: remote "
                               "someone@remote.example (relayed for "
                               "mynetworks and logged-in clients; others "
                               "get 554 5.7.1")


@pytest.mark.parametrize("addr,reply", [
    ("nobody@example.test", "550 5.1.1 <nobody@example.test>: Recipient "
     "address rejected: User unknown (no account nobody@example.test)"),
    ("loop1@example.test", "550 5.4.6 <loop1@example.test>: Recipient "
     "address rejected: alias loop"),
    ("not an address", "501 5.1.3 <not an address>: Bad recipient address "
     "syntax"),
])
def test_refused_addresses_print_the_reply(w, addr, reply):
    p = resolve(w, "alice@example.test", addr)
    assert p.returncode == 1
    assert p.stdout.splitlines()[1].startswith(f"{addr}: {reply}")


def test_missing_table_is_a_temporary_failure(w):
    (w.dir / "users.cdb").unlink()
    p = resolve(w, "alice@example.test")
    assert p.returncode == 1
    assert p.stdout.startswith("alice@example.test: 451 4.3.0 "
                               "<alice@example.test>: Temporary lookup "
                               "failure (users table)")


def test_usage(w):
    assert run_wren("resolve", "-c", str(w.conf)).returncode == 2
    p = run_wren("resolve", "-c", str(w.dir / "absent.conf"), "a@b")
    assert p.returncode == 2
    assert "absent.conf" in p.stderr


@pytest.mark.parametrize("addr", ["nobody@example.test",
                                  "loop1@example.test"])
def test_same_reply_as_the_server(w, addr):
    port = free_port()
    w.keys["smtp_listen"] = f"127.0.0.1:{port}"
    w.write_config()
    w.start()
    p = resolve(w, addr)
    want = p.stdout.split(": ", 1)[1].split(" (")[0]
    with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW) as s:
        s.ehlo("client.example")
        s.mail("sender@remote.example")
        code, text = s.rcpt(addr)
    assert f"{code} {text.decode()}" == want
    w.stop()
