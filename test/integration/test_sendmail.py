# SPDX-License-Identifier: ISC
"""Local submission: `wren sendmail` (and argv[0] `sendmail`) writes the
maildrop durably whether or not the server runs; `wren serve` picks the
files up into the queue (SPEC section 2, issue 12 item 8).

Messages are submitted with the server stopped, by `wren sendmail -t`
and by bsd-mailx's `mail` (through a program named sendmail), then the
server starts and takes them. Also: the flags (-t, -i/-oi, -f, -F,
-bp), the headers added and removed, exit codes (sysexits), a user
other than root submitting through data_dir 0711 and the 03733
maildrop, and hostile files in the maildrop, which are moved aside.
"""
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import SLOW, WREN_BIN, WREN_RUN, run_wren, wren_cmd

USERS = ("alice@example.test:{PLAIN}alicepw\n"
         "bob:{PLAIN}bobpw\n"
         "dave@example.test:{PLAIN}davepw\n")
NOBODY = 65534
EX_USAGE, EX_DATAERR, EX_NOUSER, EX_CANTCREAT, EX_CONFIG = 64, 65, 67, 73, 78


# --- helpers ----------------------------------------------------------


def server(wren, **keys):
    """A wren (not started) with accounts alice, bob and dave at
    example.test, no listener: only the queue, pickup and local
    delivery run."""
    cfg = {"domains": "example.test", "origin": "example.test",
           "message_size_limit": "64k", "retry_schedule": "1h"}
    cfg.update(keys)
    w = wren(**cfg)
    for kind, text in (("users", USERS), ("aliases", ""),
                       ("virtual", ""), ("senders", "")):
        (w.dir / kind).write_text(text)
        p = run_wren("map", "-t", kind, str(w.dir / kind))
        assert p.returncode == 0, p.stderr
    return w


def data(w):
    return Path(w.keys["data_dir"])


def sendmail(w, *args, input=b"", user=None, conf=None):
    """Runs `wren sendmail -c CONF ARGS`; returns CompletedProcess."""
    cmd = wren_cmd("sendmail", "-c", str(conf or w.conf), *args)
    return subprocess.run(cmd, input=input, capture_output=True,
                          timeout=30 * SLOW, user=user)


def drops(w):
    """The complete files in maildrop/ (not .tmp ones, not bad/)."""
    d = data(w) / "maildrop"
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir()
                  if not p.name.startswith(".") and p.name != "bad")


def parse_drop(path):
    """(header lines of the maildrop file, the message bytes)."""
    raw = path.read_bytes()
    head, _, msg = raw.partition(b"\n\n")
    return head.decode().split("\n"), msg


def rcpts(head):
    return sorted(l[5:] for l in head if l.startswith("rcpt "))


def header_block(msg):
    return msg.partition(b"\n\n")[0].decode()


def mail_wrapper(w, tmp):
    """A program named `sendmail` that runs wren as argv[0] sendmail
    with this server's config, and a MAILRC that points bsd-mailx at
    it. Returns the environment for `mail`."""
    bindir = tmp / "bin"
    bindir.mkdir(exist_ok=True)
    wrapper = bindir / "sendmail"
    if WREN_RUN:
        run = " ".join(shlex.quote(a) for a in WREN_RUN)
        line = (f"exec {run} -0 sendmail {shlex.quote(WREN_BIN)} "
                f"-c {shlex.quote(str(w.conf))} \"$@\"")
    else:
        line = (f"exec -a sendmail {shlex.quote(WREN_BIN)} "
                f"-c {shlex.quote(str(w.conf))} \"$@\"")
    wrapper.write_text(f"#!/bin/bash\n{line}\n")
    wrapper.chmod(0o755)
    rc = tmp / "mailrc"
    rc.write_text(f"set sendmail={wrapper}\n")
    env = dict(os.environ, MAILRC=str(rc), HOME=str(tmp))
    return env


def wait_picked(w, n, start=0, timeout=10):
    """Waits for n pickup lines in the log; returns the queue ids."""
    end = time.monotonic() + timeout * SLOW
    while time.monotonic() < end:
        ids = re.findall(r"pickup: ([0-9A-F]+): from=", w.log()[start:])
        if len(ids) >= n:
            return ids
        assert w.alive(), w.log()
        time.sleep(0.05)
    raise AssertionError(f"{n} pickups expected:\n{w.log()}")


def start_with_pickup(w):
    """Starts the server, which picks up what the maildrop holds."""
    w.start()
    assert "pickup: watching" in w.log(), w.log()
    return w


def delivered(w, account, domain="example.test"):
    d = w.dir / "mail" / domain / account / "Maildir" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def wait_delivered(w, account, n, timeout=10):
    end = time.monotonic() + timeout * SLOW
    while time.monotonic() < end:
        got = delivered(w, account)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{account}: {len(delivered(w, account))} of "
                         f"{n} messages:\n{w.log()}")


def world_dir():
    """A directory other users can reach (pytest's tmp_path is 0700)."""
    d = Path(tempfile.mkdtemp(prefix="wren-sendmail-", dir="/tmp"))
    d.chmod(0o755)
    return d


needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to act as another user")


# --- submission with the server stopped, then pickup -------------------


T_MSG = (b"To: alice, Bob <bob@example.test>\r\n"
         b"Cc: \"Example, Dave\" <dave@example.test> (Dave)\r\n"
         b"Bcc: alice@example.test\r\n"
         b"Subject: via -t\r\n"
         b"\r\n"
         b"first line\r\n"
         b"..starts with a dot\r\n")


def submit_while_stopped(w, tmp):
    """`sendmail -t` and `mail -s` with no server; returns the two
    maildrop files (the -t one first)."""
    if shutil.which("mail") is None:
        pytest.skip("no mail(1): apt-get install bsd-mailx")
    p = sendmail(w, "-t", input=T_MSG)
    assert p.returncode == 0, p.stderr
    assert len(drops(w)) == 1
    env = mail_wrapper(w, tmp)
    p = subprocess.run(["mail", "-s", "mail subject", "bob"],
                       input=b"body from mail(1)\n", env=env,
                       capture_output=True, timeout=30 * SLOW)
    assert p.returncode == 0, (p.stdout, p.stderr)
    files = drops(w)
    assert len(files) == 2, (p.stdout, p.stderr)
    return files


def test_sendmail_t_and_mail_queue_while_stopped(wren, tmp_path):
    w = server(wren)
    files = submit_while_stopped(w, tmp_path)
    heads = {}
    for f in files:
        head, msg = parse_drop(f)
        assert head[0] == "wren-maildrop 1"
        assert f"uid {os.getuid()}" in head
        heads[f] = (head, msg)
        st = f.stat()
        assert stat.S_IMODE(st.st_mode) == 0o640
    # The maildrop and data_dir modes when sendmail made them as root.
    md = data(w) / "maildrop"
    assert stat.S_IMODE(md.stat().st_mode) == 0o3733
    # -t: To, Cc and Bcc, bare names qualified, duplicates once.
    t_head, t_msg = next(v for v in heads.values()
                         if b"via -t" in v[1])
    assert rcpts(t_head) == ["alice@example.test", "bob@example.test",
                             "dave@example.test"]
    login = pwd.getpwuid(os.getuid()).pw_name
    assert f"sender {login}@example.test" in t_head
    hdr = header_block(t_msg)
    assert "Bcc" not in hdr
    # Bare names in the header are qualified too.
    assert "To: alice@example.test, Bob <bob@example.test>" in hdr
    assert "\r" not in t_msg.decode()
    assert re.search(r"^From: .*<?\S+@example\.test>?$", hdr, re.M), hdr
    assert re.search(r"^Date: \w{3}, \d+ \w{3} \d{4} ", hdr, re.M), hdr
    assert re.search(r"^Message-ID: <[0-9A-F]{24}@", hdr, re.M), hdr
    assert t_msg.endswith(b"\n\nfirst line\n..starts with a dot\n")
    # mail(1): the recipient on the command line.
    m_head, m_msg = next(v for v in heads.values()
                         if b"mail subject" in v[1])
    assert rcpts(m_head) == ["bob@example.test"]
    assert b"body from mail(1)\n" in m_msg


def test_pickup_after_start(wren, tmp_path):
    w = server(wren)
    files = submit_while_stopped(w, tmp_path)
    names = sorted(f.name for f in files)
    start_with_pickup(w)
    ids = wait_picked(w, 2)
    # The queue id is the maildrop name and a chunk number.
    assert sorted(ids) == sorted(n + "00" for n in names)
    deadline = time.monotonic() + 5 * SLOW
    while drops(w) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert drops(w) == []
    # data_dir lets other users pass, not list.
    assert stat.S_IMODE(data(w).stat().st_mode) & 0o011 == 0o011
    assert stat.S_IMODE(data(w).stat().st_mode) & 0o044 == 0
    assert w.stop() == 0
    assert "moved to maildrop/bad" not in w.log()


def test_delivered_to_local_maildir_after_start(wren, tmp_path):
    w = server(wren)
    submit_while_stopped(w, tmp_path)
    start_with_pickup(w)
    alice = wait_delivered(w, "alice", 1)
    bob = wait_delivered(w, "bob", 2)
    dave = wait_delivered(w, "dave", 1)
    text = alice[0].read_text()
    assert f"Received: from local (uid {os.getuid()})" in text
    assert "Subject: via -t" in text
    assert "Bcc:" not in text
    assert any("Subject: mail subject" in p.read_text() for p in bob)
    assert "Bcc:" not in dave[0].read_text()
    assert w.stop() == 0


def test_submitted_while_running(wren):
    w = server(wren)
    start_with_pickup(w)
    p = sendmail(w, "-f", "", "-F", "Cron Daemon", "alice",
                 input=b"Subject: at once\n\nhi\n")
    assert p.returncode == 0, p.stderr
    ids = wait_picked(w, 1)
    assert "from=<>" in w.log()
    assert len(ids[0]) == 26
    assert w.stop() == 0


# --- flags ---------------------------------------------------------------


def only_drop(w):
    files = drops(w)
    assert len(files) == 1, files
    head, msg = parse_drop(files[0])
    files[0].unlink()
    return head, msg


def test_dot_ends_input_unless_i(wren):
    w = server(wren)
    body = b"Subject: dots\n\nbefore\n.\nafter\n"
    assert sendmail(w, "alice", input=body).returncode == 0
    _, msg = only_drop(w)
    assert msg.endswith(b"\nbefore\n")
    for flag in ("-i", "-oi"):
        assert sendmail(w, flag, "alice", input=body).returncode == 0
        _, msg = only_drop(w)
        assert msg.endswith(b"\nbefore\n.\nafter\n"), flag
    # CR LF dot CR LF too, and a dot line before any header.
    assert sendmail(w, "alice", input=b"a: b\r\n.\r\nx\r\n").returncode == 0
    _, msg = only_drop(w)
    assert b"x" not in msg.split(b"\n\n", 1)[1]


def test_sender_fullname_and_existing_headers(wren):
    w = server(wren)
    p = sendmail(w, "-f", "Robot@Example.ORG", "-F", "Build Robot",
                 "bob", input=b"Subject: s\n\nx\n")
    assert p.returncode == 0, p.stderr
    head, msg = only_drop(w)
    assert "sender Robot@Example.ORG" in head
    assert "From: Build Robot <Robot@Example.ORG>" in header_block(msg)
    # -fADDR glued, -r, <> for the null sender; bare name gets @origin.
    for args, want in ((["-fcron"], "sender cron@example.test"),
                       (["-r", "x@y.org"], "sender x@y.org"),
                       (["-f", "<>"], "sender "),
                       (["-f", ""], "sender ")):
        p = sendmail(w, *args, "bob", input=b"\n")
        assert p.returncode == 0, (args, p.stderr)
        head, _ = only_drop(w)
        assert want in head, (args, head)
    # Headers the message has are kept, not added twice; specials in
    # a full name are quoted, UTF-8 is an encoded word.
    given = (b"From: Me <me@example.test>\nDate: Tue, 1 Dec 2026 "
             b"10:00:00 +0000\nMessage-ID: <given@example.test>\n\nx\n")
    assert sendmail(w, "bob", input=given).returncode == 0
    _, msg = only_drop(w)
    hdr = header_block(msg)
    assert hdr.count("From:") == 1 and hdr.count("Date:") == 1
    assert hdr.count("Message-ID:") == 1
    assert sendmail(w, "-F", "Doe, John", "bob",
                    input=b"\n").returncode == 0
    _, msg = only_drop(w)
    assert 'From: "Doe, John" <' in header_block(msg)
    assert sendmail(w, "-F", "J\u00f6rg", "bob",
                    input=b"\n").returncode == 0
    _, msg = only_drop(w)
    assert "From: =?UTF-8?B?SsO2cmc=?= <" in header_block(msg)


def test_recipient_lists_and_ignored_flags(wren):
    w = server(wren)
    p = sendmail(w, "-oem", "-odb", "-oQ/x", "-B", "8BITMIME", "-N",
                 "never", "-v", "--", "alice, Bob <bob>", "dave@example.test",
                 input=b"Subject: x\n\nx\n")
    assert p.returncode == 0, p.stderr
    assert b"queued as maildrop/" in p.stderr
    head, _ = only_drop(w)
    assert rcpts(head) == ["alice@example.test", "bob@example.test",
                           "dave@example.test"]
    # Resent-To takes precedence over To with -t.
    msg = (b"To: alice\nResent-To: dave\nResent-Bcc: bob\n"
           b"Subject: resent\n\nx\n")
    assert sendmail(w, "-t", input=msg).returncode == 0
    head, msg = only_drop(w)
    assert rcpts(head) == ["bob@example.test", "dave@example.test"]
    assert b"Resent-Bcc" not in msg
    # A message without any header: headers are added before it.
    assert sendmail(w, "alice", input=b"just a body\n").returncode == 0
    _, msg = only_drop(w)
    assert msg.startswith(b"From: ")
    assert msg.endswith(b"\n\njust a body\n")
    # A Unix From line first is dropped.
    assert sendmail(w, "alice", input=b"From alice Mon Dec  7 1:00:00 "
                    b"2026\nSubject: u\n\nx\n").returncode == 0
    _, msg = only_drop(w)
    assert not msg.startswith(b"From alice")
    assert b"Subject: u\n" in msg


def test_cron_invocation(wren):
    """Debian's cron runs `sendmail -FCronDaemon -i -B8BITMIME -oem
    USER` with a header of its own."""
    w = server(wren)
    msg = (b"From: root (Cron Daemon)\nTo: alice\n"
           b"Subject: Cron <alice@host> /usr/bin/job\n"
           b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
           b"X-Cron-Env: <SHELL=/bin/sh>\n\noutput\n.\nmore output\n")
    p = sendmail(w, "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "alice",
                 input=msg)
    assert p.returncode == 0, p.stderr
    head, body = only_drop(w)
    assert rcpts(head) == ["alice@example.test"]
    hdr = header_block(body)
    assert hdr.count("From:") == 1 and "Date:" in hdr
    assert body.endswith(b"\n\noutput\n.\nmore output\n")


def test_many_recipients_make_several_queue_entries(wren):
    w = server(wren)
    start_with_pickup(w)
    to = ", ".join(f"user{i}" for i in range(150))
    p = sendmail(w, "-t", "-f", "", input=f"To: {to}\n\nx\n".encode())
    assert p.returncode == 0, p.stderr
    ids = wait_picked(w, 2)
    assert ids[0][:24] == ids[1][:24]
    assert {ids[0][24:], ids[1][24:]} == {"00", "01"}
    assert "nrcpt=100" in w.log() and "nrcpt=50" in w.log()
    assert w.stop() == 0


def test_bv_verifies_without_sending(wren):
    w = server(wren)
    (w.dir / "aliases").write_text("staff: alice, friend@remote.example\n")
    assert run_wren("map", "-t", "aliases",
                    str(w.dir / "aliases")).returncode == 0
    p = sendmail(w, "-bv", "staff", "bob")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert re.search(r"^staff@example\.test\.\.\. deliverable: mailbox "
                     r".*/example\.test/alice/Maildir", out, re.M), out
    assert "staff@example.test... deliverable: remote " \
        "<friend@remote.example>" in out
    assert re.search(r"^bob@example\.test\.\.\. deliverable: mailbox", out,
                     re.M), out
    p = sendmail(w, "-bv", "nosuch")
    assert p.returncode == EX_NOUSER
    assert b"nosuch@example.test... undeliverable: unknown user" in p.stdout
    assert drops(w) == []


def test_bp_is_mailq(wren):
    w = server(wren)
    p = sendmail(w, "-bp")
    assert p.returncode == 0, p.stderr
    assert b"Mail queue is empty" in p.stdout


# --- exit codes --------------------------------------------------------


@pytest.mark.parametrize("args,stdin,code,text", [
    (["-Q"], b"x\n", EX_USAGE, b"bad option"),
    (["-f"], b"x\n", EX_USAGE, b"bad option"),
    (["-bs"], b"", EX_USAGE, b"not supported"),
    ([], b"Subject: nobody\n\nx\n", EX_USAGE, b"no recipients"),
    (["-t"], b"Subject: nobody\n\nx\n", EX_USAGE, b"no recipients"),
    (["a b@@example.test"], b"x\n", EX_NOUSER, b"bad"),
    (["<>"], b"x\n", EX_NOUSER, b"bad"),
    (["-t"], b"To: Alice Example\n\nx\n", EX_NOUSER, b"bad address"),
    (["-f", "two words@x"], b"x\n", EX_NOUSER, b"bad sender"),
    (["alice"], b"Subject: big\n\n" + b"x" * 70000, EX_DATAERR,
     b"message_size_limit"),
    (["alice"], (b"X-Long: " + b"y" * 90 + b"\n") * 3000 + b"\nx\n",
     EX_DATAERR, b"header larger"),
], ids=["bad-flag", "f-without-arg", "bs", "no-rcpt", "t-no-rcpt",
        "bad-rcpt", "empty-rcpt", "t-phrase", "bad-sender", "too-big",
        "header-too-big"])
def test_exit_codes(wren, args, stdin, code, text):
    w = server(wren)
    p = sendmail(w, *args, input=stdin)
    assert p.returncode == code, p.stderr
    assert text in p.stderr
    assert drops(w) == []
    md = data(w) / "maildrop"
    if md.is_dir():
        assert [f for f in md.iterdir() if f.name != "bad"] == [], \
            "temporary file left"


def test_exit_codes_config_and_unwritable_maildrop(wren, tmp_path):
    p = subprocess.run(wren_cmd("sendmail", "-c", str(tmp_path / "none"),
                                "alice"), input=b"x\n",
                       capture_output=True, timeout=30 * SLOW)
    assert p.returncode == EX_CONFIG, p.stderr
    w = server(wren)
    data(w).mkdir(mode=0o700)
    (data(w) / "maildrop").write_text("not a directory\n")
    p = sendmail(w, "alice", input=b"x\n")
    assert p.returncode == EX_CANTCREAT, p.stderr
    assert b"maildrop" in p.stderr


def test_argv0_sendmail(wren, tmp_path):
    w = server(wren)
    mail_wrapper(w, tmp_path)
    p = subprocess.run([str(tmp_path / "bin" / "sendmail"), "-i", "bob"],
                       input=b"Subject: argv0\n\n.\nx\n",
                       capture_output=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    _, msg = only_drop(w)
    assert msg.endswith(b"\n.\nx\n")


# --- another local user ------------------------------------------------


@needs_root
def test_other_user_submits_through_0711_and_03733(wren):
    top = world_dir()
    try:
        w = server(wren, data_dir=str(top / "data"))
        conf = top / "wren.conf"
        shutil.copy(w.conf, conf)
        conf.chmod(0o644)
        # Before the server ever ran, only root and `user` may make
        # the maildrop.
        p = sendmail(w, "alice", input=b"x\n", user=NOBODY, conf=conf)
        assert p.returncode == EX_CANTCREAT, p.stderr
        start_with_pickup(w)
        assert stat.S_IMODE(data(w).stat().st_mode) == 0o711
        md = data(w) / "maildrop"
        assert stat.S_IMODE(md.stat().st_mode) == 0o3733
        p = sendmail(w, "-t", input=b"To: alice\nSubject: nobody\n\nx\n",
                     user=NOBODY, conf=conf)
        assert p.returncode == 0, p.stderr
        wait_picked(w, 1)
        assert "uid=65534" in w.log()
        # nobody can neither list the maildrop nor data_dir.
        for d in (md, data(w), data(w) / "queue"):
            p = subprocess.run(["ls", str(d)], user=NOBODY,
                               capture_output=True, timeout=10)
            assert p.returncode != 0, d
        assert w.stop() == 0
    finally:
        shutil.rmtree(top, ignore_errors=True)


@needs_root
def test_server_as_user_reads_what_root_dropped(wren):
    """With `user` set, root's sendmail makes data_dir and maildrop/
    owned by that user (the server may not have run yet); the file root
    writes there has the directory's group, which the server reads it
    through."""
    top = world_dir()
    try:
        w = server(wren, data_dir=str(top / "data"), user="nobody")
        p = sendmail(w, "alice", input=b"Subject: before start\n\nx\n")
        assert p.returncode == 0, p.stderr
        md = data(w) / "maildrop"
        st = md.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY, 0o3733)
        assert data(w).stat().st_uid == NOBODY
        f = drops(w)[0]
        assert f.stat().st_uid == 0 and f.stat().st_gid == st.st_gid
        start_with_pickup(w)
        wait_picked(w, 1)
        assert "uid=0 " in w.log()
        p = sendmail(w, "alice", input=b"Subject: while running\n\nx\n")
        assert p.returncode == 0, p.stderr
        wait_picked(w, 2)
        assert drops(w) == []
        assert w.stop() == 0
    finally:
        shutil.rmtree(top, ignore_errors=True)


# --- hostile maildrop files ---------------------------------------------


GOOD_HEAD = ("wren-maildrop 1\nuid 0\narrival 1764120000\n"
             "sender a@example.test\nflags -\n")


def test_hostile_files_moved_aside(wren, tmp_path):
    w = server(wren)
    start_with_pickup(w)
    md = data(w) / "maildrop"
    bad = md / "bad"
    target = tmp_path / "secret"
    target.write_text("secret\n")
    hostile = {
        "GARBAGE": b"\x00\x01garbage",
        "NORCPT": (GOOD_HEAD + "\nx\n").encode(),
        "PATHRCPT": (GOOD_HEAD + "rcpt ../../etc/passwd\n\nx\n").encode(),
        "NOEND": (GOOD_HEAD + "rcpt alice@example.test\n").encode(),
        "BIG": (GOOD_HEAD + "rcpt alice@example.test\n\n").encode()
        + b"x" * 200000,
    }
    # Entries no inotify event announces first; the files' closing
    # then makes the pickup scan the directory.
    os.symlink(str(target), md / "LINK")
    os.mkfifo(md / "FIFO")
    os.link(target, md / "HARDLINK")
    (md / "ADIR").mkdir()
    for name, content in hostile.items():
        (md / name).write_bytes(content)
    names = set(hostile) | {"LINK", "FIFO", "HARDLINK", "ADIR"}
    deadline = time.monotonic() + 10 * SLOW
    while time.monotonic() < deadline:
        left = {p.name for p in md.iterdir()} - {"bad"}
        if not left:
            break
        time.sleep(0.05)
    assert {p.name for p in md.iterdir()} == {"bad"}, w.log()
    assert {p.name for p in bad.iterdir()} == names
    assert target.read_text() == "secret\n"
    log = w.log()
    for name in names:
        assert f"maildrop/{name}:" in log, name
    # Still serving: a good file is taken.
    p = sendmail(w, "alice", input=b"Subject: after\n\nx\n")
    assert p.returncode == 0, p.stderr
    wait_picked(w, 1)
    assert w.stop() == 0


def test_hand_written_file_gets_a_fresh_id(wren):
    w = server(wren)
    start_with_pickup(w)
    md = data(w) / "maildrop"
    # Written aside and renamed in, as a file must be to be taken
    # whole while the server runs.
    (md / ".by-hand").write_bytes(
        (GOOD_HEAD + "rcpt alice@example.test\n\nSubject: h\n\nx\n")
        .encode())
    os.rename(md / ".by-hand", md / "by-hand")
    ids = wait_picked(w, 1)
    assert len(ids[0]) < 24
    assert w.stop() == 0


def test_files_left_by_a_crash_are_taken_at_start(wren, tmp_path):
    """A file renamed in but never picked up (the server was down or
    killed) is taken at the next start; a stale .tmp file is not."""
    w = server(wren)
    start_with_pickup(w)
    w.stop()
    md = data(w) / "maildrop"
    (md / "0692A1B2C3D4E0123456789A").write_bytes(
        (GOOD_HEAD + "rcpt alice@example.test\n\nSubject: c\n\nx\n")
        .encode())
    (md / ".0692A1B2C3D4E0123456789B").write_bytes(b"partial")
    w.start()
    ids = wait_picked(w, 1)
    assert ids == ["0692A1B2C3D4E0123456789A00"]
    assert (md / ".0692A1B2C3D4E0123456789B").exists()
    assert w.stop() == 0


def queue_names(w, sub):
    d = data(w) / "queue" / sub
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def test_kill9_during_pickup_leaves_the_file_or_the_entry(wren):
    """kill -9 at random moments while 50 maildrop files are taken:
    after each kill every file is still in maildrop/ or its whole
    entry (msg/ and env/) is queued -- never neither, and never an
    env/ without its msg/. After the restarts each file is queued
    exactly once: its queue id is its name plus 00, and a file taken
    again finds env/<id> there and is only removed.

    Each message also goes to alice; her copies are checked at least
    once, not exactly once: the runner may deliver an entry that is
    in place before pickup's callback, and a kill before the callback
    leaves the maildrop file, which a later start then queues again
    once the runner's entry is gone (here it stays: the remote
    recipient is deferred, there is no resolver)."""
    rng = random.Random(os.environ.get("WREN_TEST_SEED"))
    w = server(wren)
    start_with_pickup(w)
    assert w.stop() == 0
    names = []
    for i in range(50):
        p = sendmail(w, "alice", "far@remote.example",
                     input=f"Subject: crash {i}\n\nbody {i}\n".encode())
        assert p.returncode == 0, p.stderr
    names = [f.name for f in drops(w)]
    assert len(names) == 50
    kills = 0
    while drops(w) and kills < 8:
        mark = len(w.log())
        w.start(ready=None)
        w.wait_log(f"pid {w.pid}", start=mark)
        time.sleep(rng.uniform(0, 0.05) * SLOW)
        w.proc.send_signal(signal.SIGKILL)
        w.proc.wait(timeout=10 * SLOW)
        w.log_fd.close()
        kills += 1
        left = {f.name for f in drops(w)}
        env, msg = queue_names(w, "env"), queue_names(w, "msg")
        assert env <= msg, f"env/ without msg/: {env - msg}"
        for n in names:
            assert n in left or n + "00" in env, \
                f"maildrop/{n} lost after kill {kills}:\n{w.log()}"
    mark = len(w.log())
    w.start(ready=None)
    w.wait_log(f"pid {w.pid}", start=mark)
    end = time.monotonic() + 20 * SLOW
    while drops(w) and time.monotonic() < end:
        time.sleep(0.05)
    assert drops(w) == [], w.log()
    assert queue_names(w, "env") == {n + "00" for n in names}, w.log()
    got = {}
    end = time.monotonic() + 20 * SLOW
    while time.monotonic() < end:
        got = {}
        for f in delivered(w, "alice"):
            m = re.search(rb"Subject: crash (\d+)", f.read_bytes())
            if m:
                got[int(m.group(1))] = got.get(int(m.group(1)), 0) + 1
        if len(got) == 50:
            break
        time.sleep(0.1)
    assert sorted(got) == list(range(50)), (got, w.log())
    assert w.stop() == 0
    print(f"{kills} kills; copies to alice beyond one: "
          f"{sum(got.values()) - 50}")


def test_failed_commit_leaves_the_file_and_resumes(wren):
    """A queue entry whose store transaction fails (here the rename of
    its message onto a directory in queue/msg/: EISDIR) leaves the
    maildrop file and nothing of that entry; the retry (the next scan,
    here brought by another file) queues only the entries not queued
    yet: the first one is neither queued again nor even looked for,
    since the runner may have delivered and removed it already."""
    w = server(wren)
    start_with_pickup(w)
    assert w.stop() == 0
    to = ", ".join(f"user{i}" for i in range(150))
    p = sendmail(w, "-t", "-f", "", input=f"To: {to}\n\nx\n".encode())
    assert p.returncode == 0, p.stderr
    name = drops(w)[0].name
    blocker = data(w) / "queue" / "msg" / (name + "01")
    blocker.mkdir()
    mark = len(w.log())
    w.start(ready=None)
    w.wait_log(f"queueing {name}01: Is a directory; retried later",
               start=mark)
    assert f"pickup: {name}00: from=" in w.log()[mark:]
    assert [f.name for f in drops(w)] == [name]
    assert name + "01" not in queue_names(w, "env")
    assert not [n for n in queue_names(w, "tmp") if n.startswith(name)]
    blocker.rmdir()
    mark = len(w.log())
    p = sendmail(w, "alice", input=b"Subject: brings a scan\n\nx\n")
    assert p.returncode == 0, p.stderr
    ids = wait_picked(w, 2, start=mark)
    assert name + "01" in ids and name + "00" not in ids
    # Pickup does not look at 00 again (the runner may still be
    # delivering it: its lines do not count).
    assert not [ln for ln in w.log()[mark:].splitlines()
                if "pickup" in ln and name + "00" in ln]
    assert drops(w) == []
    assert w.stop() == 0
