# SPDX-License-Identifier: ISC
"""`wren map`, `newaliases`, the tables under a running server, and
the users format checked against Dovecot's own passwd-file driver."""
import grp
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import SLOW, PrivateDovecot, dovecot_available, run_wren


def cdb_dump(path):
    """Records of a .cdb as tinycdb's own `cdb -d` prints them."""
    out = subprocess.run(["cdb", "-d", str(path)], capture_output=True,
                         timeout=30, check=True).stdout
    recs, i = [], 0
    while i < len(out) and out[i:i + 1] == b"+":
        head_end = out.index(b":", i)
        klen, vlen = (int(x) for x in out[i + 1:head_end].split(b","))
        k0 = head_end + 1
        key = out[k0:k0 + klen]
        assert out[k0 + klen:k0 + klen + 2] == b"->"
        v0 = k0 + klen + 2
        recs.append((key.decode(), out[v0:v0 + vlen].decode()))
        i = v0 + vlen + 1          # the newline after each record
    return recs


def sha512(pw):
    return subprocess.run(["openssl", "passwd", "-6", "-salt", "wrensalt",
                           pw], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def sha256(pw):
    return subprocess.run(["openssl", "passwd", "-5", "-salt", "wrensalt",
                           pw], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def compile_table(tmp_path, kind, text, name=None):
    src = tmp_path / (name or kind)
    src.write_bytes(text.encode() if isinstance(text, str) else text)
    p = run_wren("map", "-t", kind, str(src))
    return src, p


ROUND_TRIPS = {
    "aliases": (
        "# /etc/aliases as Debian ships it\n"
        "postmaster:    root\r\n"
        "Root: alice, Bob@Example.COM,\n"
        "   carol@example.org   \n"
        "    # an indented comment\n"
        "  dave\n"
        "\n"
        '"john doe": "john doe"@example.com\n'
        "jörg: jörg@exämple.de\n",
        [("postmaster", "root"),
         ("root", "alice\0Bob@Example.COM\0carol@example.org\0dave"),
         ('"john doe"', '"john doe"@example.com'),
         ("jörg", "jörg@exämple.de")]),
    "virtual": (
        "info@example.org   alice@example.com, bob@example.com\n"
        "@Catch.Example     alice\n"
        "sales@example.org  carol@example.org\n",
        [("info@example.org", "alice@example.com\0bob@example.com"),
         ("@catch.example", "alice"),
         ("sales@example.org", "carol@example.org")]),
    "senders": (
        "alice@example.com   alice\n"
        "@example.org        bob, carol@example.org\n"
        "sammy               sammy\n",
        [("alice@example.com", "alice"),
         ("@example.org", "bob\0carol@example.org"),
         ("sammy", "sammy")]),
    "relay_passwords": (
        "[smtp.Provider.net]:587  me@provider.net:s3cr:et\n",
        [("[smtp.provider.net]:587", "me@provider.net\0s3cr:et")]),
}


@pytest.mark.parametrize("kind", sorted(ROUND_TRIPS))
def test_round_trip_through_cdb_dump(tmp_path, kind):
    text, want = ROUND_TRIPS[kind]
    src, p = compile_table(tmp_path, kind, text)
    assert p.returncode == 0, p.stderr
    assert f"{len(want)} entr" in p.stdout
    assert cdb_dump(f"{src}.cdb") == want


def test_users_round_trip(tmp_path):
    h6, h5 = sha512("pw"), sha256("pw")
    text = (f"alice@example.com:{{PLAIN}}pw\n"
            f"bob:{{SHA512-CRYPT}}{h6}:1000:1000::/home/bob\n"
            f"carol:{h5}::::/srv/carol::userdb_mail=maildir:~/M\n"
            f"Dave:{{sha256-crypt}}{h5}\n")
    src, p = compile_table(tmp_path, "users", text)
    assert p.returncode == 0, p.stderr
    assert cdb_dump(f"{src}.cdb") == [
        ("alice@example.com", "PLAIN\0pw\0"),
        ("bob", f"SHA512-CRYPT\0{h6}\0/home/bob"),
        ("carol", f"CRYPT\0{h5}\0/srv/carol"),
        ("dave", f"SHA256-CRYPT\0{h5}\0")]


@pytest.mark.parametrize("kind,text,message", [
    ("users", "alice:{MD5}abc\n", "users:1: unsupported password scheme "
     "(use PLAIN, SHA512-CRYPT, SHA256-CRYPT or CRYPT)"),
    ("users", "\nbob:$1$salt$abcdefghijklmnopqrstuv\n",
     "users:2: CRYPT: only $5$ (SHA-256) and $6$ (SHA-512) hashes are "
     "supported"),
    ("users", "a:{PLAIN}x\nbig:$6$rounds=100001$salt$" + "a" * 86 + "\n",
     "users:2: rounds= above 100000 (each login would stall the server; "
     "make a new hash with `wren passwd`)"),
    ("users", "big:{SHA256-CRYPT}$5$rounds=999999999$salt$" + "a" * 43 +
     "\n", "users:1: rounds= above 100000 (each login would stall the "
     "server; make a new hash with `wren passwd`)"),
    ("users", "../x:{PLAIN}y\n",
     "users:1: bad user name (a name or a full address)"),
    ("users", "a:{PLAIN}y\na/b:{PLAIN}y\n",
     "users:2: bad user name (a name or a full address)"),
    ("users", "../../etc@example.com:{PLAIN}y\n",
     "users:1: bad user name (a name or a full address)"),
    ("users", "a\x1b[31mb:{PLAIN}y\n",
     "users:1: bad user name (a name or a full address)"),
    ("users", ":{PLAIN}y\n",
     "users:1: bad user name (a name or a full address)"),
    ("aliases", "a: b\nlog: |/usr/bin/logger\n",
     "aliases:2: delivery to a command ('|...') is not supported"),
    ("aliases", "a: /var/log/mail\n",
     "aliases:1: delivery to a file ('/...') is not supported"),
    ("aliases", "staff: :include:/etc/staff\n",
     "aliases:1: ':include:' is not supported"),
    ("virtual", "example.net anything\n", "virtual:1: bad key "
     "(user@domain or @domain; for a Postfix 'domain anything' line, "
     "list the domain in `domains`)"),
    ("senders", "alice@example.com\n", "senders:1: no owner after the key"),
    ("relay_passwords", "[smtp.example.net]:587 nopassword\n",
     "relay_passwords:1: expected user:password after the host"),
])
def test_errors_name_file_and_line_and_keep_the_old_table(
        tmp_path, kind, text, message):
    good = {"users": "x:{PLAIN}y\n", "aliases": "x: y\n",
            "virtual": "x@example.com y\n", "senders": "x@example.com x\n",
            "relay_passwords": "[h]:25 u:p\n"}[kind]
    src, p = compile_table(tmp_path, kind, good)
    assert p.returncode == 0, p.stderr
    before = (tmp_path / f"{kind}.cdb").read_bytes()
    src.write_text(text)
    p = run_wren("map", "-t", kind, str(src))
    assert p.returncode == 1
    assert p.stderr.strip() == f"{tmp_path}/{message}"
    assert (tmp_path / f"{kind}.cdb").read_bytes() == before
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]


def test_type_comes_from_the_config(tmp_path):
    virt = tmp_path / "virt.txt"
    virt.write_text("a@example.com b@example.com\n")
    conf = tmp_path / "wren.conf"
    conf.write_text(f"virtual = {virt}\n")
    p = run_wren("map", "-c", str(conf), str(virt))
    assert p.returncode == 0, p.stderr
    assert cdb_dump(f"{virt}.cdb") == [("a@example.com", "b@example.com")]
    other = tmp_path / "other"
    other.write_text("x\n")
    p = run_wren("map", "-c", str(conf), str(other))
    assert p.returncode == 1
    assert "is not a table of" in p.stderr
    p = run_wren("map", "-t", "bogus", str(other))
    assert p.returncode == 2
    assert "unknown type 'bogus'" in p.stderr


def test_newaliases_as_argv0(tmp_path):
    from conftest import WREN_BIN, WREN_RUN
    aliases = tmp_path / "aliases"
    aliases.write_text("postmaster: root\nroot: alice\n")
    conf = tmp_path / "wren.conf"
    conf.write_text(f"aliases = {aliases}\n")
    link = tmp_path / "newaliases"
    os.symlink(WREN_BIN, link)
    p = subprocess.run(WREN_RUN + [str(link), "-c", str(conf)],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    assert cdb_dump(f"{aliases}.cdb") == [("postmaster", "root"),
                                          ("root", "alice")]


def test_check_reports_stale_and_missing_tables(tmp_path):
    users = tmp_path / "users"
    users.write_text("alice:{PLAIN}pw\npostmaster:{PLAIN}pw\n")
    users.chmod(0o600)      # wren check: secrets not readable by others
    conf = tmp_path / "wren.conf"
    conf.write_text(f"users = {users}\naliases = {tmp_path}/none\n")
    p = run_wren("check", "-c", str(conf))
    assert p.returncode == 1
    assert f"users: {users}.cdb is missing: run `wren map {users}`" \
        in p.stderr
    assert run_wren("map", "-t", "users", str(users)).returncode == 0
    if os.geteuid() == 0:
        # serve reads tables as its user (mail): as `wren check` says
        cdb = tmp_path / "users.cdb"
        os.chown(cdb, -1, grp.getgrnam("mail").gr_gid)
        cdb.chmod(0o640)
    p = run_wren("check", "-c", str(conf))
    assert p.returncode == 0, p.stderr
    assert "newer" not in p.stderr
    later = time.time() + 5
    os.utime(users, (later, later))
    p = run_wren("check", "-c", str(conf))
    assert p.returncode == 0
    assert f"users: warning: {users} is newer than {users}.cdb" in p.stderr
    (tmp_path / "users.cdb").write_bytes(b"garbage")
    p = run_wren("check", "-c", str(conf))
    assert p.returncode == 1
    assert "unreadable or corrupt .cdb" in p.stderr


def test_running_server_picks_up_a_replaced_table(wren, tmp_path):
    w = wren()
    virt = w.dir / "virtual"
    virt.write_text("a@example.test b@example.test\n")
    assert run_wren("map", "-t", "virtual", str(virt)).returncode == 0
    w.start()
    assert f"table virtual: {virt}.cdb: ok" in w.log()
    # Replaced under the running server: picked up within a second or
    # so, without a signal.
    mark = len(w.log())
    virt.write_text("a@example.test c@example.test\n")
    assert run_wren("map", "-t", "virtual", str(virt)).returncode == 0
    w.wait_log(f"virtual: table {virt}.cdb reloaded: ok", timeout=3,
               start=mark)
    # A broken source: `wren map` fails, the table in use stays, and the
    # server notices nothing.
    before = (w.dir / "virtual.cdb").read_bytes()
    mark = len(w.log())
    virt.write_text("not-an-address\n")
    assert run_wren("map", "-t", "virtual", str(virt)).returncode == 1
    time.sleep(1.5 * SLOW)
    assert "reloaded" not in w.log()[mark:]
    assert (w.dir / "virtual.cdb").read_bytes() == before
    # A corrupt .cdb renamed into place is refused; the old one serves.
    junk = w.dir / "junk"
    junk.write_bytes(b"\xff" * 4096)
    os.rename(junk, w.dir / "virtual.cdb")
    w.wait_log("corrupt cdb header", timeout=3, start=mark)
    assert w.alive()
    assert w.stop() == 0


@pytest.mark.skipif(not dovecot_available(),
                    reason="needs dovecot-core and root")
def test_users_file_is_dovecots_passwd_file():
    """The same source authenticates with Dovecot's passwd-file driver,
    and compiles with `wren map`."""
    # Dovecot's auth process runs as user dovecot: the file must be
    # reachable for it, which pytest's private tmp_path is not.
    tmp_path = Path(tempfile.mkdtemp(prefix="wren-dovecot-", dir="/tmp"))
    try:
        dovecot_auth_checks(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def dovecot_auth_checks(tmp_path):
    users = tmp_path / "users"
    users.write_text(
        "# accounts\n"
        "alice@example.com:{PLAIN}plainpw\n"
        f"bob:{{SHA512-CRYPT}}{sha512('bobpw')}:1000:1000::/home/bob\n"
        f"carol:{sha256('carolpw')}:::Carol:/home/carol::"
        "userdb_quota_rule=*:storage=1G\n"
        f"dave:{{SHA256-CRYPT}}{sha256('davepw')}\n")
    p = run_wren("map", "-t", "users", str(users))
    assert p.returncode == 0, p.stderr
    assert "4 entries" in p.stdout
    os.chmod(tmp_path, 0o755)
    os.chmod(users, 0o644)
    with PrivateDovecot(tmp_path, users, f"{tmp_path}/home/%u") as dc:
        def auth(user, pw):
            out = dc.doveadm("auth", "test", user, pw, done=lambda o:
                             "auth succeeded" in o or "auth failed" in o)
            return "auth succeeded" in out.stdout + out.stderr

        assert auth("alice@example.com", "plainpw")
        assert auth("bob", "bobpw")
        assert auth("carol", "carolpw")
        assert auth("dave", "davepw")
        assert not auth("bob", "wrong")


def test_smtp_sees_a_new_account_without_restart(wren):
    """The running server answers from the replaced users.cdb: a user
    added is accepted at RCPT within a second or so, and a broken source
    leaves the previous table answering."""
    import smtplib
    from conftest import free_port
    port = free_port()
    w = wren(smtp_listen=f"127.0.0.1:{port}")
    users = w.dir / "users"
    users.write_text("alice@example.test:{PLAIN}x\n")
    assert run_wren("map", "-t", "users", str(users)).returncode == 0
    w.start()

    def rcpt(addr):
        with smtplib.SMTP("127.0.0.1", port, timeout=10 * SLOW) as s:
            s.ehlo("client.example")
            s.mail("s@remote.example")
            return s.rcpt(addr)[0]

    assert rcpt("alice@example.test") == 250
    assert rcpt("newbie@example.test") == 550
    users.write_text("alice@example.test:{PLAIN}x\n"
                     "newbie@example.test:{PLAIN}x\n")
    assert run_wren("map", "-t", "users", str(users)).returncode == 0
    deadline = time.monotonic() + 3 * SLOW
    while rcpt("newbie@example.test") != 250:
        assert time.monotonic() < deadline, w.log()
        time.sleep(0.1)
    users.write_text("this is not a passwd-file line\n")
    assert run_wren("map", "-t", "users", str(users)).returncode == 1
    time.sleep(1.5 * SLOW)
    assert rcpt("newbie@example.test") == 250
    assert rcpt("alice@example.test") == 250
    # The .cdb removed while its source exists: 451, never 550.
    os.unlink(w.dir / "users.cdb")
    deadline = time.monotonic() + 3 * SLOW
    while rcpt("alice@example.test") != 451:
        assert time.monotonic() < deadline, w.log()
        time.sleep(0.1)
    assert w.stop() == 0
