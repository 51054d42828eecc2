# SPDX-License-Identifier: ISC
"""`wren setup` and `wren user` (issue 16, onboarding).

setup in an empty directory gives a configuration `wren check` accepts
and `wren serve` runs (on loopback high ports: the test edits the
listener lines of the written file), with the account able to receive
mail and log in over IMAP; a second run touches nothing and remakes
only what is missing. `wren user` adds, re-passwords and deletes
accounts under a running server (which picks the new .cdb up by
itself), keeps every other byte of the users file, its mode, and
serialises concurrent edits with its lock file.
"""
import fcntl
import imaplib
import os
import re
import smtplib
import subprocess
import time
from email.message import EmailMessage

import pytest

from conftest import SLOW, SANITIZER_MARKS, Wren, free_port, run_wren, \
    wren_cmd

EMAIL = "alice@example.org"
HOST = "mail.example.org"
PW = "correct horse 1"

# Both commands are built with submission (Kconfig SUBMISSION).
pytestmark = pytest.mark.skipif(
    "  user " not in run_wren("--help").stdout,
    reason="wren setup/user not in this build")


def clean(p):
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    return p


def run_setup(d, *args, pw=PW):
    return clean(run_wren("setup", "-c", str(d / "wren.conf"),
                          "--password-stdin", *args,
                          input=(pw + "\n") if pw is not None else ""))


def user(d, *args, pw=None):
    extra = ["--password-stdin"] if pw is not None else []
    return clean(run_wren("user", *args[:1], "-c", str(d / "wren.conf"),
                          *extra, *args[1:],
                          input=(pw + "\n") if pw is not None else ""))


def loopback_conf(d):
    """The written configuration with loopback listeners and no TLS,
    as a test can run it; returns (smtp port, imap port)."""
    smtp, imap = free_port(), free_port()
    keys = {"smtp_listen": f"127.0.0.1:{smtp}", "submission_listen": "",
            "submissions_listen": "", "imap_listen": f"127.0.0.1:{imap}",
            "imaps_listen": "", "log": "stderr", "user": "",
            "dns_servers": "127.0.0.1:9"}
    conf = d / "wren.conf"
    text = conf.read_text()
    for k, v in keys.items():
        text, n = re.subn(rf"(?m)^{k} = .*$", f"{k} = {v}", text)
        assert n == 1, k
    conf.write_text(text)
    return smtp, imap


class Served(Wren):
    """A Wren on an existing configuration (not rewritten)."""

    def __init__(self, d):
        self.dir = d
        self.conf = d / "wren.conf"
        self.logfile = d / "wren.log"
        self.proc = None


@pytest.fixture
def served(tmp_path):
    made = []

    def start(d):
        s = Served(d).start()
        made.append(s)
        return s

    yield start
    for s in made:
        s.kill()


def login(port, user_, pw):
    M = imaplib.IMAP4("127.0.0.1", port, timeout=10 * SLOW)
    try:
        M.login(user_, pw)
        return M
    except imaplib.IMAP4.error:
        M.shutdown()
        return None


def login_within(port, user_, pw, want, timeout=5):
    """Logs in until the result is `want` (the server checks the .cdb
    once a second): the table is switched without a signal."""
    end = time.monotonic() + timeout * SLOW
    while True:
        M = login(port, user_, pw)
        if M is not None:
            M.logout()
        if (M is not None) == want or time.monotonic() > end:
            return (M is not None) == want
        time.sleep(0.2)


@pytest.fixture
def site(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    p = run_setup(d, EMAIL, HOST)
    assert p.returncode == 0, p.stderr
    return d, p


# --- setup -----------------------------------------------------------------


def test_setup_writes_a_working_installation(site, served):
    d, p = site
    for f in ("wren.conf", "users", "users.cdb", "aliases", "aliases.cdb"):
        assert (d / f).is_file(), f
    conf = (d / "wren.conf").read_text()
    assert re.search(r"(?m)^hostname = mail\.example\.org$", conf)
    assert re.search(r"(?m)^domains = example\.org$", conf)
    assert re.search(rf"(?m)^users = {re.escape(str(d))}/users$", conf)
    assert "# " in conf                       # commented
    assert (d / "users").read_text().startswith(EMAIL + ":{SHA512-CRYPT}$6$")
    assert PW not in (d / "users").read_text()
    aliases = (d / "aliases").read_text()
    assert f"postmaster: {EMAIL}\n" in aliases
    assert f"abuse: {EMAIL}\n" in aliases
    assert f"example.org. IN MX 10 {HOST}." in p.stdout
    assert '"v=spf1 mx -all"' in p.stdout
    assert "_dmarc.example.org. IN TXT" in p.stdout
    if "dkim" in run_wren("--version").stdout.split("listeners")[0]:
        assert (d / "dkim" / "example.org.pem").is_file()
        assert "._domainkey.example.org. IN TXT" in p.stdout
        assert oct((d / "dkim" / "example.org.pem").stat().st_mode
                   )[-3:] == "600"
    # `wren check` accepts it as written (warnings: no certificate yet).
    c = clean(run_wren("check", "-c", str(d / "wren.conf")))
    assert c.returncode == 0, c.stderr
    smtp, imap = loopback_conf(d)
    c = clean(run_wren("check", "-c", str(d / "wren.conf")))
    assert c.returncode == 0, c.stderr
    s = served(d)
    msg = EmailMessage()
    msg["From"] = "bob@elsewhere.test"
    msg["To"] = "postmaster@example.org"
    msg["Subject"] = "hello from setup"
    msg.set_content("first mail\n")
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10 * SLOW) as c:
        c.sendmail("bob@elsewhere.test", ["postmaster@example.org"],
                   msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    M = login(imap, EMAIL, PW)
    assert M is not None, s.log()
    typ, data = M.select("INBOX")
    assert typ == "OK" and int(data[0]) == 1, data
    typ, data = M.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
    assert b"hello from setup" in data[0][1]
    M.logout()
    assert login(imap, EMAIL, "wrong") is None
    assert s.stop() == 0


def test_setup_again_touches_nothing(site):
    d, _ = site
    before = {f: (d / f).read_bytes() for f in
              ("wren.conf", "users", "users.cdb", "aliases", "aliases.cdb")}
    p = run_setup(d, EMAIL, HOST, pw=None)        # no password asked
    assert p.returncode == 0, p.stderr
    assert f"{d}/wren.conf: exists" in p.stdout
    assert f"has {EMAIL}; kept" in p.stdout
    assert f"{d}/aliases: exists" in p.stdout
    for f, b in before.items():
        assert (d / f).read_bytes() == b, f
    # What is missing, and only that, is made again.
    (d / "aliases.cdb").unlink()
    key = d / "dkim" / "example.org.pem"
    if key.exists():
        key.unlink()
    p = run_setup(d, EMAIL, HOST, pw=None)
    assert p.returncode == 0, p.stderr
    assert (d / "aliases.cdb").read_bytes() == before["aliases.cdb"]
    assert f"{d}/aliases.cdb: compiled" in p.stdout
    if "dkim" in run_wren("--version").stdout.split("listeners")[0]:
        assert key.is_file()
    for f in ("wren.conf", "users", "aliases"):
        assert (d / f).read_bytes() == before[f], f


def test_setup_adds_account_to_existing_config(site):
    d, _ = site
    p = run_setup(d, "carol@example.org", HOST, pw="pw-carol")
    assert p.returncode == 0, p.stderr
    assert "added carol@example.org" in p.stdout
    assert "exists" in p.stdout
    names = user(d, "list").stdout.split()
    assert names == [EMAIL, "carol@example.org"]


@pytest.mark.parametrize("args, rc, why", [
    (["not-an-address"], 2, "not an address"),
    (["a b@example.org"], 2, "not an address"),
    (["alice@example.org", "x", "y"], 2, "usage"),
])
def test_setup_refuses(tmp_path, args, rc, why):
    p = run_setup(tmp_path, *args)
    assert p.returncode == rc
    assert why in p.stderr
    assert not (tmp_path / "wren.conf").exists()


def test_setup_needs_the_directory(tmp_path):
    p = clean(run_wren("setup", "-c", str(tmp_path / "no" / "wren.conf"),
                       "--password-stdin", EMAIL, input="x\n"))
    assert p.returncode == 1
    assert "No such file" in p.stderr


def test_setup_without_a_terminal_or_flag(tmp_path):
    p = clean(run_wren("setup", "-c", str(tmp_path / "wren.conf"), EMAIL,
                       input="x\n"))
    assert p.returncode == 1
    assert "--password-stdin" in p.stderr
    assert not (tmp_path / "users").exists()


# --- user ------------------------------------------------------------------


def test_user_under_a_running_server(site, served):
    d, _ = site
    _, imap = loopback_conf(d)
    s = served(d)
    assert login(imap, "bob@example.org", "pw-bob") is None
    p = user(d, "add", "bob@example.org", pw="pw-bob")
    assert p.returncode == 0, p.stderr
    assert "added bob@example.org" in p.stdout
    assert login_within(imap, "bob@example.org", "pw-bob", True), s.log()
    p = user(d, "passwd", "bob@example.org", pw="pw-bob-2")
    assert p.returncode == 0, p.stderr
    assert login_within(imap, "bob@example.org", "pw-bob", False)
    assert login_within(imap, "bob@example.org", "pw-bob-2", True)
    out = user(d, "list").stdout
    assert out.split() == [EMAIL, "bob@example.org"]
    assert "$6$" not in out
    p = user(d, "del", "bob@example.org")
    assert p.returncode == 0, p.stderr
    assert login_within(imap, "bob@example.org", "pw-bob-2", False)
    assert login(imap, EMAIL, PW) is not None
    assert s.alive()
    assert s.stop() == 0


HAND = ("# accounts, by hand\r\n"
        "\r\n"
        "#bob@example.org:{PLAIN}commented-out\r\n"
        "  old@example.org:{PLAIN}x:1000:1000:Old Timer:/home/old::"
        "userdb_quota_rule=*:storage=1G\r\n"
        "# trailing comment without final newline")


def test_user_keeps_every_other_byte(site):
    d, _ = site
    users = d / "users"
    mine = users.read_bytes().rstrip(b"\n") + b"\r\n"
    hand = HAND.encode()
    users.write_bytes(hand[:21] + mine + hand[21:])
    os.chmod(users, 0o640)
    start = users.read_bytes()
    p = user(d, "add", "bob@example.org", pw="b")
    assert p.returncode == 0, p.stderr
    after = users.read_bytes()
    assert after.startswith(start + b"\r\nbob@example.org:{SHA512-CRYPT}")
    assert after.endswith(b"\r\n")
    p = user(d, "passwd", "OLD@example.org", pw="new")
    assert p.returncode == 0, p.stderr
    t = users.read_bytes()
    m = re.search(rb"  old@example.org:(\{SHA512-CRYPT\}[^:]+)"
                  rb":1000:1000:Old Timer:/home/old::"
                  rb"userdb_quota_rule=\*:storage=1G\r\n", t)
    assert m, t
    assert t.replace(m.group(1), b"{PLAIN}x") == after
    p = user(d, "del", "bob@example.org")
    assert p.returncode == 0, p.stderr
    t2 = users.read_bytes()
    assert t2 == t[:t.index(b"\r\nbob@")] + b"\r\n"
    assert oct(users.stat().st_mode)[-3:] == "640"
    assert oct((d / "users.cdb").stat().st_mode)[-3:] == "640"
    names = user(d, "list").stdout.split()
    assert names == [EMAIL, "old@example.org"]
    # A hand edit still compiles with `wren map`.
    users.write_bytes(t2 + b"dave@example.org:{PLAIN}d\n")
    m = clean(run_wren("map", "-c", str(d / "wren.conf"), str(users)))
    assert m.returncode == 0, m.stderr
    assert "dave@example.org" in user(d, "list").stdout


def test_concurrent_adds_both_land(site):
    d, _ = site
    names = [f"u{i}@example.org" for i in range(6)]
    # Hold the lock so that every command queues behind it, then let go.
    with open(d / "users.lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        procs = [subprocess.Popen(
            wren_cmd("user", "add", "-c", str(d / "wren.conf"),
                     "--password-stdin", n),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for n in names]
        for p in procs:
            p.stdin.write("pw\n")
            p.stdin.flush()
        time.sleep(0.5 * SLOW)
        fcntl.flock(lk, fcntl.LOCK_UN)
        outs = [p.communicate(timeout=30 * SLOW) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    assert sum("waiting for" in err for _, err in outs) >= 1
    listed = user(d, "list").stdout.split()
    assert sorted(listed) == sorted([EMAIL] + names)


def test_lock_held_too_long_fails_clearly(site):
    d, _ = site
    before = (d / "users").read_bytes()
    with open(d / "users.lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        p = user(d, "add", "late@example.org", pw="x")
    assert p.returncode == 1
    assert "still locked by another edit" in p.stderr
    assert (d / "users").read_bytes() == before


@pytest.mark.parametrize("args, why", [
    (["add", EMAIL], "is already in"),
    (["add", "ALICE@Example.ORG"], "is already in"),
    (["add", "bob@other.test"], "is not in domains"),
    (["add", "a b@example.org"], "is not an address"),
    (["add", "../x@example.org"], "is not an address"),
    (["del", "nobody@example.org"], "is not in"),
    (["passwd", "nobody@example.org"], "is not in"),
])
def test_user_refuses(site, args, why):
    d, _ = site
    before = (d / "users").read_bytes()
    p = user(d, *args, pw=None if args[0] == "del" else "x")
    assert p.returncode == 1, p.stdout
    assert why in p.stderr
    assert (d / "users").read_bytes() == before


def test_user_refuses_a_file_map_would_refuse(site):
    d, _ = site
    users = d / "users"
    bad = users.read_bytes() + b"broken line without colon\n"
    users.write_bytes(bad)
    cdb = (d / "users.cdb").read_bytes()
    p = user(d, "add", "bob@example.org", pw="x")
    assert p.returncode == 1
    assert f"{users}:2:" in p.stderr
    assert users.read_bytes() == bad
    assert (d / "users.cdb").read_bytes() == cdb


def test_user_password_needs_terminal_or_flag(site):
    d, _ = site
    p = clean(run_wren("user", "add", "-c", str(d / "wren.conf"),
                       "bob@example.org", input="x\n"))
    assert p.returncode == 1
    assert "--password-stdin" in p.stderr


def test_user_usage():
    p = clean(run_wren("user"))
    assert p.returncode == 2 and "usage: wren user" in p.stderr
    p = clean(run_wren("user", "frob", "x"))
    assert p.returncode == 2
    h = clean(run_wren("--help"))
    assert "  user " in h.stdout and "  setup " in h.stdout


@pytest.mark.parametrize("again, rc", [("pw-tty", 0), ("other", 1)])
def test_user_asks_twice_on_a_terminal(site, again, rc):
    """On a terminal: Password:, Again:, echo off while typing."""
    import pty
    import termios
    d, _ = site
    master, slave = pty.openpty()
    p = subprocess.Popen(
        wren_cmd("user", "add", "-c", str(d / "wren.conf"),
                 "tty@example.org"),
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    os.close(slave)
    try:
        seen = b""
        for prompt, answer in ((b"Password: ", "pw-tty"),
                               (b"Again: ", again)):
            end = time.monotonic() + 10 * SLOW
            # The prompt goes to stderr; wait for echo to be off.
            while not termios.tcgetattr(master)[3] & termios.ECHO == 0:
                assert time.monotonic() < end
                time.sleep(0.02)
            os.write(master, (answer + "\n").encode())
            time.sleep(0.2 * SLOW)
        out, err = p.communicate(timeout=20 * SLOW)
    finally:
        os.close(master)
    assert p.returncode == rc, err
    assert "Password: " in err and "Again: " in err
    assert "pw-tty" not in err + out
    if rc:
        assert "the passwords differ" in err
    else:
        assert login_ok_offline(d, "tty@example.org")


def login_ok_offline(d, name):
    return name in user(d, "list").stdout.split()
