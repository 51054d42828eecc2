# SPDX-License-Identifier: ISC
"""The inbound SMTP server (SPEC sections 4, 5 and 7) against real
clients: Python's smtplib, swaks, Postfix's smtp-source, raw sockets for
what no client sends (BDAT, hostile input), and Dovecot reading what
wren delivered.

Every server here gets the same tables (see `mail_server`): accounts
alice@example.test, bare `bob` and carol@example.org; aliases with a
list that has a remote member and a loop pair; virtual entries with a
catch-all. mynetworks is 127.0.0.1/32 only, so a client bound to
127.0.0.2 is outside and may not relay.
"""
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import (SLOW, WREN_RUN, PrivateDovecot, SMTPClient,
                      dovecot_available, free_port, run_wren)

HOST = "mail.example.test"
SENDER = "s@remote.example"
OUTSIDE = "127.0.0.2"           # not in mynetworks = 127.0.0.1/32

USERS = ("alice@example.test:{PLAIN}alicepw\n"
         "bob:{PLAIN}bobpw\n"
         "carol@example.org:{PLAIN}carolpw::::::\n")
ALIASES = ("postmaster: alice@example.test\n"
           "staff: alice@example.test, bob, friend@remote.example\n"
           "loop1: loop2\n"
           "loop2: loop1\n")
VIRTUAL = ("info@example.test   alice@example.test\n"
           "@catch.example      alice@example.test\n"
           "sales@example.org   carol@example.org\n"
           "team@example.org    bob@example.test, carol@example.org\n")
SENDERS = "alice@example.test alice@example.test\n"

# Account -> its home below mail_home's root (%d/%n; bob is a bare
# account, so %d is `origin`).
HOMES = {"alice": "example.test/alice", "bob": "example.test/bob",
         "carol": "example.org/carol"}


# --- servers --------------------------------------------------------


def mail_server(wren, start=True, mail_root=None, **keys):
    """A wren with the test tables compiled and SMTP on a free port."""
    port = free_port()
    cfg = {"domains": "example.test example.org catch.example",
           "origin": "example.test",
           "smtp_listen": f"127.0.0.1:{port}",
           "mynetworks": "127.0.0.1/32",
           "message_size_limit": "1m"}
    if mail_root is not None:
        cfg["mail_home"] = f"{mail_root}/%d/%n"
    cfg.update(keys)
    w = wren(**cfg)
    w.port = port
    w.mail_root = Path(mail_root) if mail_root else w.dir / "mail"
    for kind, text in (("users", USERS), ("aliases", ALIASES),
                       ("virtual", VIRTUAL), ("senders", SENDERS)):
        (w.dir / kind).write_text(text)
        p = run_wren("map", "-t", kind, str(w.dir / kind))
        assert p.returncode == 0, p.stderr
    if start:
        w.start()
    return w


def maildir(w, account, sub="new"):
    return w.mail_root / HOMES[account] / "Maildir" / sub


def files(w, account, sub="new"):
    d = maildir(w, account, sub)
    return sorted(d.iterdir()) if d.is_dir() else []


def nothing_delivered(w):
    """No file in any new/ or tmp/ of any account, no queue file."""
    for acct in HOMES:
        for sub in ("new", "tmp", "cur"):
            assert files(w, acct, sub) == [], (acct, sub)
    for sub in ("tmp", "msg", "env"):
        d = Path(w.keys["data_dir"]) / "queue" / sub
        assert not d.is_dir() or list(d.iterdir()) == [], sub


# --- raw SMTP -------------------------------------------------------


def session(w, ehlo="client.example", source=None):
    c = SMTPClient(w.port, source)
    c.expect(220, f"{HOST} ESMTP wren")
    if ehlo:
        c.cmd(f"EHLO {ehlo}", 250)
    return c


def start_data(c, rcpts, sender=SENDER, params=""):
    c.cmd(f"MAIL FROM:<{sender}>{params}", 250)
    for r in rcpts:
        c.cmd(f"RCPT TO:<{r}>", 250)
    c.cmd("DATA", 354)


def still_works(w, c=None):
    """The session (if any) answers, and a new session delivers."""
    if c is not None:
        c.cmd("NOOP", 250)
    subj = f"alive-{random.getrandbits(32):08x}"
    before = set(files(w, "alice"))
    queue_id = deliver(w, ["alice@example.test"], message(subj))
    new = set(files(w, "alice")) - before
    assert len(new) == 1
    assert subj.encode() in new.pop().read_bytes()
    return queue_id


# --- smtplib --------------------------------------------------------


def smtp(w, source=None):
    return smtplib.SMTP("127.0.0.1", w.port, local_hostname="client.example",
                        timeout=10 * SLOW,
                        source_address=(source, 0) if source else None)


def deliver(w, rcpts, msg, sender=SENDER, mail_opts=(), rcpt_opts=()):
    """One message with smtplib, every step checked; the queue id."""
    with smtp(w) as s:
        code, _ = s.ehlo()
        assert code == 250
        code, resp = s.mail(sender, list(mail_opts))
        assert code == 250, resp
        for r in rcpts:
            code, resp = s.rcpt(r, list(rcpt_opts))
            assert code == 250, (r, code, resp)
        code, resp = s.data(msg)
        assert code == 250, resp
    m = re.fullmatch(rb"2\.0\.0 Ok: queued as ([0-9A-F]+)", resp)
    assert m, resp
    return m.group(1).decode()


def message(subject, body="Hello.\r\n", extra=""):
    return (f"From: Someone <{SENDER}>\r\nTo: you@example.test\r\n"
            f"{extra}Subject: {subject}\r\n\r\n{body}").encode()


# --- what is on disk ------------------------------------------------


def sizes_ok(path):
    """The file's ,S= is its size and ,W= its size with CRLF line ends;
    returns the content."""
    data = path.read_bytes()
    m = re.search(r",S=(\d+),W=(\d+)$", path.name)
    assert m, path.name
    assert int(m.group(1)) == len(data), path.name
    assert int(m.group(2)) == len(data) + data.count(b"\n"), path.name
    return data


def split_added(data):
    """(Return-Path value, Delivered-To value, Received unfolded, the
    message as received) of a delivered file."""
    lines = data.split(b"\n")
    assert lines[0].startswith(b"Return-Path: "), lines[0]
    assert lines[1].startswith(b"Delivered-To: "), lines[1]
    assert lines[2].startswith(b"Received: "), lines[2]
    k = 3
    while lines[k].startswith((b"\t", b" ")):
        k += 1
    received = b" ".join(x.strip() for x in lines[2:k]).decode()
    return (lines[0][13:].decode(), lines[1][14:].decode(), received,
            b"\n".join(lines[k:]))


def stored(msg):
    """What the client's message becomes in a Maildir: LF line ends."""
    out = msg.replace(b"\r\n", b"\n")
    return out if out.endswith(b"\n") else out + b"\n"


def find(w, account, subject):
    """The new/ files of `account` whose Subject is `subject`."""
    want = f"\nSubject: {subject}\n".encode()
    return [p for p in files(w, account) if want in p.read_bytes()]


def check_delivered(w, account, subject, msg, delivered_to, queue_id=None,
                    sender=SENDER, proto="ESMTP"):
    found = find(w, account, subject)
    assert len(found) == 1, (account, subject, found)
    rp, dto, received, rest = split_added(sizes_ok(found[0]))
    assert rp == f"<{sender}>"
    assert dto == delivered_to
    m = re.match(r"Received: from client\.example \(\[127\.0\.0\.1\]\) "
                 rf"by {re.escape(HOST)} \(wren\) with {proto} id "
                 r"([0-9A-F]+)[ ;]", received)
    assert m, received
    if queue_id is not None:
        assert m.group(1) == queue_id
    assert rest == stored(msg)
    return found[0]


# --- 1. greeting and EHLO -------------------------------------------


def test_greeting_and_ehlo_keywords(wren):
    w = mail_server(wren)
    with smtp(w) as s:
        code, resp = s.ehlo()
        assert code == 250
        assert resp.split(b"\n")[0] == HOST.encode()
        assert s.esmtp_features == {
            "pipelining": "", "size": "1048576", "8bitmime": "",
            "enhancedstatuscodes": "", "chunking": "", "smtputf8": "",
            "auth": " PLAIN LOGIN", "dsn": ""}    # (smtplib's spacing)
    c = SMTPClient(w.port)
    assert c.line() == f"220 {HOST} ESMTP wren"
    assert c.cmd("HELO client.example", 250) == HOST
    c.cmd("HELP", 214)
    c.cmd("VRFY alice", 252)
    c.cmd("RSET", 250)
    c.cmd("QUIT", 221)
    assert c.closed()
    assert w.stop() == 0


# --- 2, 3. delivery -------------------------------------------------


def test_delivery_to_each_kind_of_recipient(wren):
    w = mail_server(wren)
    cases = [
        ("alice@example.test", "alice", "alice@example.test"),
        ("bob@example.test", "bob", "bob@example.test"),
        ("carol@example.org", "carol", "carol@example.org"),
        ("postmaster@example.test", "alice", "alice@example.test"),
        ("postmaster", "alice", "alice@example.test"),
        ("info@example.test", "alice", "alice@example.test"),
        ("sales@example.org", "carol", "carol@example.org"),
        ("anyone@catch.example", "alice", "alice@example.test"),
        ("alice+lists@example.test", "alice", "alice@example.test"),
        ("ALICE@EXAMPLE.TEST", "alice", "alice@example.test"),
        ("Bob+Tag@Example.Test", "bob", "bob@example.test"),
    ]
    for i, (rcpt, account, dto) in enumerate(cases):
        subj = f"kind-{i}"
        body = (f"To {rcpt}.\r\n.hidden line\r\n..two dots\r\n"
                "trailing spaces   \r\n\r\n\tindented\r\nlast")
        msg = message(subj, body)
        qid = deliver(w, [rcpt], msg)
        check_delivered(w, account, subj, msg, dto, qid)
        f = find(w, account, subj)[0].read_bytes()
        assert b"\n.hidden line\n..two dots\n" in f, rcpt
        assert b"\n\tfor <" + rcpt.encode() + b">;" in f, rcpt
    # The null sender, as bounces use it.
    msg = message("bounce")
    qid = deliver(w, ["alice@example.test"], msg, sender="")
    check_delivered(w, "alice", "bounce", msg, "alice@example.test", qid,
                    sender="")
    for acct in HOMES:
        assert files(w, acct, "tmp") == []
    assert len(files(w, "alice")) == 8
    assert w.stop() == 0


def test_each_recipient_gets_its_own_copy(wren):
    w = mail_server(wren)
    msg = message("multi", "one body\r\nfor three\r\n")
    qid = deliver(w, ["alice@example.test", "bob@example.test",
                      "carol@example.org"], msg)
    for acct, dto in (("alice", "alice@example.test"),
                      ("bob", "bob@example.test"),
                      ("carol", "carol@example.org")):
        p = check_delivered(w, acct, "multi", msg, dto, qid)
        assert b"\tfor <" not in p.read_bytes()
    # The same mailbox directly and through an alias, a virtual entry
    # and a tag: one copy.
    msg = message("dup")
    deliver(w, ["alice@example.test", "postmaster@example.test",
                "info@example.test", "alice+x@example.test",
                "team@example.org", "bob@example.test"], msg)
    check_delivered(w, "alice", "dup", msg, "alice@example.test")
    check_delivered(w, "bob", "dup", msg, "bob@example.test")
    check_delivered(w, "carol", "dup", msg, "carol@example.org")
    # A list with local and remote members: the mailboxes and the queue.
    msg = message("list")
    qid = deliver(w, ["staff@example.test"], msg)
    check_delivered(w, "alice", "list", msg, "alice@example.test", qid)
    check_delivered(w, "bob", "list", msg, "bob@example.test", qid)
    env = (Path(w.keys["data_dir"]) / "queue/env" / qid).read_text()
    assert "rcpt friend@remote.example notify=- orcpt=-\n" in env
    assert w.stop() == 0


# --- 4. refusals and relaying ---------------------------------------


def test_unknown_user_loop_and_relay_control(wren):
    w = mail_server(wren)
    with smtp(w) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail(SENDER, ["nobody@example.test"], message("x"))
        code, resp = e.value.recipients["nobody@example.test"]
        assert code == 550 and resp.startswith(b"5.1.1 "), resp
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail(SENDER, ["loop1@example.test"], message("x"))
        code, resp = e.value.recipients["loop1@example.test"]
        assert code == 550 and resp.startswith(b"5.4.6 "), resp
        # One bad recipient among good ones: the rest is delivered.
        refused = s.sendmail(SENDER, ["nobody@example.org",
                                      "carol@example.org"],
                             message("partial"))
        assert refused["nobody@example.org"][0] == 550
    assert len(find(w, "carol", "partial")) == 1
    # Relaying from outside mynetworks.
    with smtp(w, source=OUTSIDE) as s:
        s.ehlo()
        assert s.mail(SENDER)[0] == 250
        code, resp = s.rcpt("x@remote.example")
        assert code == 554, resp
        assert resp == b"5.7.1 <x@remote.example>: Relay access denied"
        # ... while local recipients are fine from there.
        assert s.rcpt("alice@example.test")[0] == 250
        assert s.data(message("outside"))[0] == 250
    assert len(find(w, "alice", "outside")) == 1
    assert "relay denied: <x@remote.example>" in w.log()
    # From inside: queued.
    qid = deliver(w, ["x@remote.example"], message("relayed"))
    q = Path(w.keys["data_dir"]) / "queue"
    msg = (q / "msg" / qid).read_bytes()
    env = (q / "env" / qid).read_text()
    assert msg.startswith(b"Received: from client.example ([127.0.0.1])")
    assert b"\nSubject: relayed\n" in msg
    assert f"\nsize {len(msg)}\n" in env
    assert f"\nsender {SENDER}\n" in env
    assert "\nrcpt x@remote.example notify=- orcpt=-\n" in env
    assert "\nclient client.example [127.0.0.1]\n" in env
    assert list((q / "tmp").iterdir()) == []
    p = run_wren("queue", "-c", str(w.conf), "list")
    assert p.returncode == 0, p.stderr
    head = re.search(rf"^{qid} +{len(msg)} \S+ \S+ +<{SENDER}>$", p.stdout,
                     re.M)
    assert head, p.stdout
    assert re.search(r"^ +<x@remote\.example>$", p.stdout, re.M), p.stdout
    assert re.search(r"^-- \d+ Kbytes in 1 Request\.$", p.stdout, re.M), \
        p.stdout
    assert w.stop() == 0


# --- 5. swaks and BDAT ----------------------------------------------


def swaks(w, *args):
    return subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{w.port}", "--from", SENDER,
         "--helo", "client.example", "--timeout", str(10 * SLOW), *args],
        capture_output=True, text=True, timeout=30 * SLOW)


@pytest.mark.skipif(not shutil.which("swaks"), reason="needs swaks")
def test_swaks_plain_and_pipelined(wren):
    w = mail_server(wren)
    p = swaks(w, "--to", "alice@example.test", "--header", "Subject: sw1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "<-  250 2.0.0 Ok: queued as " in p.stdout
    p = swaks(w, "--pipeline", "--to",
              "alice@example.test,bob@example.test", "--header",
              "Subject: sw2")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "PIPELINING" in p.stdout
    assert len(find(w, "alice", "sw1")) == 1
    for acct in ("alice", "bob"):
        found = find(w, acct, "sw2")
        assert len(found) == 1, acct
        assert b"This is a test mailing" in sizes_ok(found[0])
    # A refused recipient makes swaks fail.
    p = swaks(w, "--to", "nobody@example.test")
    assert p.returncode != 0
    assert "550 5.1.1" in p.stdout
    assert w.stop() == 0


def test_bdat_chunks(wren):
    w = mail_server(wren)
    c = session(w)
    msg = (b"From: s@remote.example\r\nSubject: chunked\r\n\r\n"
           b"line one\r\n.dot stays\r\nline three\r\n")
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.send(b"BDAT 10\r\n" + msg[:10])
    c.expect(250, "octets received")
    rest = msg[10:]
    # Chunk edges inside a CR LF pair and right after CR.
    cuts = [rest.index(b"\r\n\r\n") + 1, rest.index(b"one\r") + 4,
            len(rest)]
    start = 0
    for cut in cuts:
        c.send(f"BDAT {cut - start}\r\n".encode() + rest[start:cut])
        c.expect(250, "octets received")
        start = cut
    # The last, empty chunk, with a command pipelined behind it.
    c.send("BDAT 0 LAST\r\nNOOP\r\n")
    qid = re.fullmatch(r"2\.0\.0 Ok: queued as ([0-9A-F]+)",
                       c.expect(250)).group(1)
    c.expect(250)
    p = find(w, "alice", "chunked")
    assert len(p) == 1
    rp, dto, received, body = split_added(sizes_ok(p[0]))
    assert dto == "alice@example.test" and qid in received
    assert body == stored(msg)      # no dot-unstuffing in BDAT
    # One chunk with LAST, the message without a final line end.
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<bob@example.test>", 250)
    one = b"Subject: one\r\n\r\nno line end"
    c.send(f"BDAT {len(one)} LAST\r\n".encode() + one)
    c.expect(250, "queued as")
    p = find(w, "bob", "one")
    assert len(p) == 1 and sizes_ok(p[0]).endswith(b"\n\nno line end\n")
    # BDAT before MAIL: refused, and its bytes (which look like QUIT)
    # are skipped rather than run.
    c.send("BDAT 6\r\nQUIT\r\n")
    c.expect(503)
    c.cmd("NOOP", 250)
    # BDAT after MAIL without a recipient.
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.send("BDAT 6 LAST\r\nQUIT\r\n")
    c.expect(554, "5.5.1")
    c.cmd("RSET", 250)
    still_works(w, c)
    # A size that is not a number: where the next command starts is
    # unknown, so the server says so and closes.
    c.send("BDAT ten\r\n0123456789")
    c.expect(501, "5.5.4")
    c.expect(421, "4.5.0")
    assert c.closed()
    c = session(w)
    c.send("BDAT 5 FIRST\r\nhello")
    c.expect(501)
    c.expect(421)
    assert c.closed()
    still_works(w)
    assert w.stop() == 0


# --- 6. Postfix's smtp-source ---------------------------------------


@pytest.mark.skipif(not os.path.exists("/usr/sbin/smtp-source"),
                    reason="needs postfix's smtp-source")
@pytest.mark.parametrize("per_connection", [False, True])
def test_smtp_source(wren, per_connection):
    w = mail_server(wren)
    args = ["/usr/sbin/smtp-source", "-s", "5", "-m", "50", "-l", "2048",
            "-f", SENDER, "-t", "alice@example.test"]
    if per_connection:
        args.append("-d")
    p = subprocess.run(args + [f"127.0.0.1:{w.port}"], capture_output=True,
                       text=True, timeout=60 * SLOW)
    assert p.returncode == 0, p.stdout + p.stderr
    got = files(w, "alice")
    assert len(got) == 50
    for f in got:
        rp, dto, received, body = split_added(sizes_ok(f))
        assert rp == f"<{SENDER}>" and dto == "alice@example.test"
        assert len(body) >= 2048
    assert files(w, "alice", "tmp") == []
    assert w.stop() == 0


# --- 7. hostile input -----------------------------------------------


def test_bad_commands(wren):
    w = mail_server(wren)
    c = session(w, ehlo=None)
    c.cmd("MAIL FROM:<s@remote.example>", 503, "5.5.1")    # before EHLO
    c.cmd("EHLO", 501, "5.5.4")
    c.cmd("EHLO client.example", 250)
    c.cmd("NOOP\0MAIL FROM:<a@b.example>", 500, "5.5.2")
    c.cmd("NOOP " + "x" * 595, 500, "5.5.2")               # 600 octets
    c.cmd("NOOP", 250, "2.0.0 Ok")
    c.cmd("NOOP " + "x" * 505, 250)         # 512 octets with CR LF
    c.cmd("NOOP " + "x" * 506, 500, "5.5.2")                # 513
    c.send("NOOP " + "y" * 5000 + "\r\nNOOP\r\n")          # one error
    c.expect(500, "5.5.2")
    c.expect(250)
    c.cmd("XYZZY", 500, "5.5.2")
    c.cmd("QUIT", 221)
    assert c.closed()
    c = session(w)
    for verb in ("TURN", "ETRN example.test", "ATRN example.test"):
        c.cmd(verb, 502, "5.5.1")
    c.cmd("RCPT TO:<alice@example.test>", 503, "5.5.1")
    c.cmd("DATA", 503, "5.5.1")
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("DATA", 554, "5.5.1")
    c.cmd(f"MAIL FROM:<{SENDER}>", 503, "5.5.1")           # nested
    c.cmd("RSET", 250)
    c.cmd("MAIL FROM:<no-closing-bracket", 501, "5.5.4")
    still_works(w, c)
    c.close()
    # Errors are counted per session: the 10th closes it.
    c = session(w)
    # (RSET, not NOOP, inside the group: NOOP must end one.)
    c.send("BOGUS\r\n" * 9 + "RSET\r\n" + "BOGUS\r\n" + "NOOP\r\n")
    for _ in range(9):
        c.expect(500)
    c.expect(250)
    c.expect(500)
    c.expect(421, "4.7.0")
    assert c.closed()
    still_works(w)
    assert w.stop() == 0


def test_pipelined_commands_and_garbage(wren):
    w = mail_server(wren)
    c = session(w)
    c.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<nobody@example.test>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n")
    c.expect(250)
    c.expect(550, "5.1.1")
    c.expect(250)
    c.expect(354)
    c.send("Subject: piped\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\n")
    c.expect(250, "queued as")
    c.expect(250)
    c.expect(250)
    assert len(find(w, "bob", "piped")) == 1
    # Random octets (with line ends) pipelined: the session ends with
    # too many errors or stays, but the server is unharmed.
    rnd = random.Random(5321)
    for _ in range(3):
        c = session(w)
        junk = bytes(rnd.choice(b"\r\n\0\x80 AZaz:<>@.\xff")
                     if rnd.random() < 0.3 else rnd.randrange(256)
                     for _ in range(20000))
        c.sock.settimeout(3 * SLOW)
        try:
            c.send(junk)
            while True:
                c.reply()
        except (EOFError, ConnectionResetError, BrokenPipeError,
                ValueError, socket.timeout):
            pass
        c.close()
    still_works(w)
    assert w.stop() == 0


def test_data_line_rules_and_smuggling(wren):
    w = mail_server(wren)
    c = session(w)
    # Bare LF.
    start_data(c, ["alice@example.test"])
    c.send("Subject: bare\r\n\r\na\nb\r\n.\r\n")
    c.expect(554, "5.6.0")
    # Bare CR.
    start_data(c, ["alice@example.test"])
    c.send("Subject: bare\r\n\r\na\rb\r\n.\r\n")
    c.expect(554, "5.6.0")
    nothing_delivered(w)
    # Smuggling: "\r\n.\n" does not end the message, and what follows
    # is not run as commands; the real end is refused.
    start_data(c, ["alice@example.test"])
    c.send("Subject: smuggle\r\n\r\nhello\r\n.\n"
           "MAIL FROM:<evil@remote.example>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n"
           "Subject: smuggled\r\n\r\nevil\r\n.\r\n")
    c.expect(554, "5.6.0")
    # Nothing else was answered: the next reply is HELP's.
    c.cmd("HELP", 214)
    start_data(c, ["alice@example.test"])
    c.send("Subject: smuggle2\r\n\r\nhello\r\n.\rMAIL FROM:<e@x.example>"
           "\r\n.\r\n")
    c.expect(554, "5.6.0")
    nothing_delivered(w)
    # 998 octets of text on a line are fine, 999 are not.
    for n, code in ((999, 554), (998, 250), (1500, 554)):
        start_data(c, ["alice@example.test"])
        c.send(f"Subject: len{n}\r\n\r\n" + "x" * n + "\r\n.\r\n")
        c.expect(code, "5.6.0" if code == 554 else "queued as")
    ok = find(w, "alice", "len998")
    assert len(ok) == 1
    assert b"\n" + b"x" * 998 + b"\n" in sizes_ok(ok[0])
    # A dot-stuffed line of 998 octets is 999 on the wire: fine.
    start_data(c, ["alice@example.test"])
    c.send("Subject: dots\r\n\r\n." + "." * 998 + "\r\n.\r\n")
    c.expect(250)
    assert b"\n" + b"." * 998 + b"\n" in find(w, "alice",
                                              "dots")[0].read_bytes()
    assert len(files(w, "alice")) == 2
    still_works(w, c)
    assert w.stop() == 0


@pytest.mark.parametrize("before", ["hello\n", "\n", "hello\r\n.\n"],
                         ids=["after-text", "first", "after-dot-lf"])
def test_lf_dot_crlf_does_not_end_data(wren, before):
    """SMTP smuggling (CVE-2023-51764 style): <LF>.<CR><LF> is not the
    end of DATA, so the commands after it are message text, and the
    message is refused at the real end."""
    w = mail_server(wren)
    c = session(w)
    start_data(c, ["alice@example.test"])
    c.send("Subject: smuggle\r\n\r\n" + before + ".\r\n"
           "MAIL FROM:<evil@remote.example>\r\n"
           "RCPT TO:<bob@example.test>\r\nDATA\r\n"
           "Subject: smuggled\r\n\r\nevil\r\n.\r\n")
    c.expect(554, "5.6.0")
    c.cmd("HELP", 214)      # no replies to smuggled commands before it
    nothing_delivered(w)
    still_works(w, c)
    assert w.stop() == 0


def test_hop_count_and_forwarding_loops(wren):
    w = mail_server(wren)
    c = session(w)
    hops = "".join(f"Received: from h{i}.example by h{i+1}.example; "
                   "Thu, 1 Jan 2026 00:00:00 +0000\r\n" for i in range(51))
    start_data(c, ["alice@example.test"])
    c.send(hops + "Subject: hops\r\n\r\nloop?\r\n.\r\n")
    c.expect(554, "5.4.6")
    nothing_delivered(w)
    # Delivered-To: naming the only recipient: a forwarding loop.
    start_data(c, ["alice@example.test"])
    c.send("Delivered-To: alice@example.test\r\nSubject: dto\r\n\r\n"
           "again\r\n.\r\n")
    c.expect(554, "5.4.6")
    nothing_delivered(w)
    start_data(c, ["postmaster@example.test"])
    c.send("Delivered-To: <ALICE@example.test>\r\nSubject: dto\r\n\r\n"
           "again\r\n.\r\n")
    c.expect(554, "5.4.6")
    nothing_delivered(w)
    # With another recipient, only the looping copy is dropped.
    start_data(c, ["alice@example.test", "bob@example.test"])
    c.send("Delivered-To: alice@example.test\r\nSubject: dto2\r\n\r\n"
           "again\r\n.\r\n")
    c.expect(250)
    assert find(w, "alice", "dto2") == []
    assert len(find(w, "bob", "dto2")) == 1
    assert files(w, "alice", "tmp") == []
    # In the body it is just text.
    start_data(c, ["alice@example.test"])
    c.send("Subject: dto3\r\n\r\nDelivered-To: alice@example.test\r\n"
           ".\r\n")
    c.expect(250)
    assert len(find(w, "alice", "dto3")) == 1
    still_works(w, c)
    assert w.stop() == 0


def test_size_limit(wren):
    w = mail_server(wren, message_size_limit="1m")
    c = session(w)
    c.cmd(f"MAIL FROM:<{SENDER}> SIZE=1048577", 552, "5.3.4")
    c.cmd(f"MAIL FROM:<{SENDER}> SIZE=1000", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.cmd("DATA", 354)
    line = "y" * 76 + "\r\n"
    c.send("Subject: big\r\n\r\n" + line * (1100 * 1024 // 78) + ".\r\n")
    c.expect(552, "5.3.4")
    nothing_delivered(w)
    # Just under the limit is fine (the limit counts the message as
    # received, not wren's own header lines).
    start_data(c, ["alice@example.test"])
    body = "Subject: fits\r\n\r\n"
    body += line * ((1048576 - len(body) - 100) // 78)
    c.send(body + ".\r\n")
    c.expect(250)
    assert len(find(w, "alice", "fits")) == 1
    still_works(w, c)
    assert w.stop() == 0


def test_smtputf8_addresses(wren):
    w = mail_server(wren)
    c = session(w)
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<jörg@catch.example>", 553, "5.6.7")
    c.cmd("RSET", 250)
    c.cmd("MAIL FROM:<jörg@remote.example>", 553, "5.6.7")
    c.cmd("MAIL FROM:<jörg@remote.example> SMTPUTF8", 250)
    c.cmd("RCPT TO:<jörg@catch.example>", 250)
    c.cmd("DATA", 354)
    c.send("Subject: utf8\r\n\r\nGrüße\r\n.\r\n".encode())
    c.expect(250)
    p = find(w, "alice", "utf8")
    assert len(p) == 1
    rp, dto, received, body = split_added(sizes_ok(p[0]))
    assert rp == "<jörg@remote.example>"
    assert dto == "alice@example.test"
    assert " with UTF8SMTP id " in received
    assert body == "Subject: utf8\n\nGrüße\n".encode()
    still_works(w, c)
    assert w.stop() == 0


# --- 8. DSN parameters ----------------------------------------------


def test_dsn_parameters_are_queued(wren):
    w = mail_server(wren)
    qid = deliver(w, ["x@remote.example"], message("dsn"),
                  mail_opts=["RET=HDRS", "ENVID=abc+2Bdef"],
                  rcpt_opts=["NOTIFY=SUCCESS,FAILURE",
                             "ORCPT=rfc822;x@remote.example"])
    env = (Path(w.keys["data_dir"]) / "queue/env" / qid).read_text()
    assert env.startswith("wren-envelope 1\n")
    assert f"\nid {qid}\n" in env
    assert "\nret hdrs\n" in env
    assert "\nenvid abc+2Bdef\n" in env
    assert "\nsmtputf8 0\n" in env
    assert ("\nrcpt x@remote.example notify=success,failure "
            "orcpt=rfc822;x@remote.example\n") in env
    c = session(w)
    c.cmd(f"MAIL FROM:<{SENDER}> RET=FULL ENVID=e1", 250)
    c.cmd("RCPT TO:<y@remote.example> NOTIFY=NEVER", 250)
    c.cmd("RCPT TO:<z@remote.example> NOTIFY=NEVER,DELAY", 501, "5.5.4")
    c.cmd("RCPT TO:<z@remote.example> ORCPT=noxtext", 501, "5.5.4")
    c.cmd("RCPT TO:<z@remote.example> FOO=bar", 555, "5.5.4")
    c.cmd("DATA", 354)
    qid2 = re.search(r"queued as (\w+)",
                     c.cmd("Subject: n\r\n\r\nx\r\n.", 250)).group(1)
    env = (Path(w.keys["data_dir"]) / "queue/env" / qid2).read_text()
    assert "\nret full\n" in env and "\nenvid e1\n" in env
    assert "\nrcpt y@remote.example notify=never orcpt=-\n" in env
    assert "z@remote" not in env
    c.cmd("QUIT", 221)
    assert w.stop() == 0


# --- 9. Dovecot reads it --------------------------------------------


@pytest.mark.skipif(not dovecot_available(),
                    reason="needs dovecot-core and root")
def test_dovecot_reads_what_wren_delivered(wren):
    # Dovecot reads as the mail uid (nobody): a world-traversable tree.
    tmp = Path(tempfile.mkdtemp(prefix="wren-smtp-dovecot-", dir="/tmp"))
    try:
        os.chmod(tmp, 0o755)
        dovecot_checks(wren, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dovecot_checks(wren, tmp):
    w = mail_server(wren, mail_root=tmp / "mail")
    msg = message("for dovecot", "Grüße aus wren.\r\n.leading dot\r\n"
                  "\r\n" + "long line " * 90 + "\r\nend\r\n",
                  extra="MIME-Version: 1.0\r\nContent-Type: text/plain; "
                  "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    deliver(w, ["alice@example.test"], msg, mail_opts=["BODY=8BITMIME"])
    assert w.stop() == 0
    [path] = files(w, "alice")
    data = sizes_ok(path)
    s_size, w_size = (int(x) for x in
                      re.search(r",S=(\d+),W=(\d+)$", path.name).groups())
    # The same file without S=/W= for a second user: Dovecot computes
    # the sizes itself.
    plain = tmp / "mail/example.test/plain/Maildir"
    for sub in ("new", "cur", "tmp"):
        (plain / sub).mkdir(parents=True)
    base = path.name.split(",")[0]
    (plain / "new" / base).write_bytes(data)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(tmp / "mail")],
                   check=True, timeout=30)
    users = tmp / "users"
    users.write_text(USERS + "plain@example.test:{PLAIN}x\n")
    os.chmod(users, 0o644)
    with PrivateDovecot(tmp, users, f"{tmp}/mail/%d/%n",
                        mail_location="maildir:~/Maildir") as dc:
        for user in ("alice@example.test", "plain@example.test"):
            p = dc.doveadm("-f", "json", "fetch", "-u", user,
                           "size.physical size.virtual hdr.subject text",
                           "mailbox", "INBOX", "all")
            [m] = json.loads(p.stdout)
            assert int(m["size.physical"]) == s_size == len(data), user
            assert int(m["size.virtual"]) == w_size, user
            assert m["hdr.subject"].strip() == "for dovecot", user
            assert m["text"].encode() == data, user


# --- 10. durability -------------------------------------------------


def durable_message(i):
    head = f"From: {SENDER}\r\nSubject: durable-{i}\r\n\r\n"
    rnd = random.Random(i)
    lines = [f"{i:02d} {rnd.getrandbits(256):064x}" for _ in range(4000)]
    return (head + "\r\n".join(lines) + "\r\n").encode()    # ~270 KB


def test_acknowledged_mail_survives_sigkill(wren):
    w = mail_server(wren, max_connections_per_ip="50")
    n = 20
    results = [None] * n
    finish = threading.Event()

    def client(i):
        try:
            c = session(w)
            start_data(c, ["alice@example.test"])
            data = durable_message(i)
            for off in range(0, len(data), 16384):
                c.send(data[off:off + 16384])
                if i >= 15:         # still arriving at the kill
                    time.sleep(0.05 * SLOW)
            if 5 <= i < 15:         # end together, while others commit
                finish.wait(20 * SLOW)
                time.sleep(0.001 * (i - 5))
            c.send(".\r\n")
            results[i] = c.reply()[0]
            c.close()
        except Exception as e:     # refused, reset: no 250
            results[i] = e

    def acks():
        return sum(r == 250 for r in results)

    def wait_acks(k):
        deadline = time.monotonic() + 20 * SLOW
        while acks() < k:
            assert time.monotonic() < deadline, results
            time.sleep(0.001)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    wait_acks(5)
    finish.set()
    wait_acks(6)
    w.proc.kill()
    w.proc.wait(timeout=10 * SLOW)
    for t in threads:
        t.join(30 * SLOW)
        assert not t.is_alive()
    acked = [i for i, r in enumerate(results) if r == 250]
    assert 6 <= len(acked) < n, results
    # Every acknowledged message is there, whole; nothing in new/ is
    # partial (an unacknowledged complete one may be: the client
    # retries, a duplicate is allowed, a loss is not).
    by_subject = {}
    for f in files(w, "alice"):
        rp, dto, received, body = split_added(sizes_ok(f))
        m = re.search(rb"\nSubject: durable-(\d+)\n", b"\n" + body)
        assert m, f
        i = int(m.group(1))
        assert body == stored(durable_message(i)), f
        by_subject[i] = f
    for i in acked:
        assert i in by_subject, (i, results)
    # The server starts again on the same data.
    w2 = mail_server(wren, data_dir=w.keys["data_dir"],
                     mail_home=w.keys["mail_home"])
    w2.mail_root = w.mail_root
    still_works(w2)
    assert w2.stop() == 0


# --- 11. memory does not grow with message size ---------------------


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_big_message_streams_in_constant_memory(wren):
    if WREN_RUN:
        pytest.skip("QEMU's RSS is not the guest's")
    w = mail_server(wren, message_size_limit="60m")
    # Warm up every code path once with a smaller message.
    deliver(w, ["alice@example.test"],
            message("warm", ("w" * 76 + "\r\n") * 30000))
    before = vmrss_kb(w.pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], vmrss_kb(w.pid))
            time.sleep(0.01)

    line = b"0123456789" * 7 + b"abcdef\r\n"          # 78 octets
    block = line * 840                                  # 65520
    nblocks = 50 * 1024 * 1024 // len(block) + 1
    head = b"From: s@remote.example\r\nSubject: huge\r\n\r\n"
    h = hashlib.sha256(stored(head))
    for _ in range(nblocks):
        h.update(block.replace(b"\r\n", b"\n"))

    def body():                 # the message, streamed
        yield head
        for _ in range(nblocks):
            yield block
        yield b".\r\n"

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        c = session(w)
        c.sock.settimeout(60 * SLOW)
        c.cmd(f"MAIL FROM:<{SENDER}> SIZE={nblocks * len(block)}", 250)
        c.cmd("RCPT TO:<alice@example.test>", 250)
        c.cmd("DATA", 354)
        for chunk in body():
            c.send(chunk)
        c.expect(250, "queued as")
        peak[0] = max(peak[0], vmrss_kb(w.pid))
    finally:
        done.set()
        sampler.join()
    assert peak[0] - before < 1024, (before, peak[0])
    [p] = find_big(w)
    got = hashlib.sha256()
    with open(p, "rb") as f:
        data = f.read(4096)
        rest = data[data.index(b"\nFrom: s@remote.example") + 1:]
        got.update(rest)
        while chunk := f.read(1 << 20):
            got.update(chunk)
    assert got.hexdigest() == h.hexdigest()
    m = re.search(r",S=(\d+),W=(\d+)$", p.name)
    assert int(m.group(1)) == p.stat().st_size > 50_000_000
    assert w.stop() == 0


def find_big(w):
    return [p for p in files(w, "alice") if p.stat().st_size > 10 << 20]


# --- 12. SIGTERM ----------------------------------------------------


def test_sigterm_lets_a_message_in_progress_finish(wren):
    w = mail_server(wren)
    a = session(w)
    start_data(a, ["alice@example.test"])
    a.send("Subject: last one\r\n\r\nfirst half\r\n")
    b = session(w)
    time.sleep(0.1 * SLOW)      # a's first half is read
    w.send(signal.SIGTERM)
    b.expect(421, "4.3.2")
    assert b.closed()
    with pytest.raises(ConnectionRefusedError):
        SMTPClient(w.port)
    a.send("second half\r\n.\r\n")
    a.expect(250, "queued as")
    a.expect(421, "4.3.2")
    assert a.closed()
    assert w.wait() == 0
    assert w.stop() == 0
    [p] = find(w, "alice", "last one")
    assert sizes_ok(p).endswith(b"\n\nfirst half\nsecond half\n")
    assert "wren stopped" in w.log()


# --- 13. connection limits ------------------------------------------


def test_connection_limits(wren):
    w = mail_server(wren, max_connections_per_ip="2")
    c1, c2 = session(w), session(w)
    c3 = SMTPClient(w.port)
    c3.expect(421, "4.3.2")
    assert c3.closed()
    # Another address still gets in.
    c4 = session(w, source=OUTSIDE)
    c4.cmd("QUIT", 221)
    c1.cmd("QUIT", 221)
    assert c1.closed()
    deadline = time.monotonic() + 5 * SLOW
    while True:                 # until the server has seen c1 go
        c5 = SMTPClient(w.port)
        code, _ = c5.reply()
        if code == 220:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    c5.cmd("EHLO client.example", 250)
    c2.cmd("NOOP", 250)
    assert w.stop() == 0

    w = mail_server(wren, max_connections="3", max_connections_per_ip="10")
    cs = [session(w, source=src) for src in
          ("127.0.0.1", "127.0.0.2", "127.0.0.3")]
    c = SMTPClient(w.port, source="127.0.0.4")
    c.expect(421, "4.3.2")
    assert c.closed()
    for c in cs:
        c.cmd("NOOP", 250)
    cs[0].cmd("QUIT", 221)
    deadline = time.monotonic() + 5 * SLOW
    while True:
        c = SMTPClient(w.port)
        if c.reply()[0] == 220:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    c.cmd("EHLO client.example", 250)
    assert w.stop() == 0


# --- 14. idle timeout -----------------------------------------------


def test_idle_session_times_out(wren):
    w = mail_server(wren, smtp_timeout="10")
    busy = session(w)
    # A sender at work: after its MAIL only the idle timer counts (the
    # session deadline, against trickling clients, ends there).
    busy.cmd("MAIL FROM:<a@example.net>", 250)
    idle = SMTPClient(w.port, timeout=30)
    t0 = time.monotonic()
    idle.expect(220)
    # A session that keeps talking is not timed out meanwhile (its
    # pace is the server's clock, not scaled).
    while not select.select([idle.sock], [], [], 2.0)[0]:
        busy.cmd("NOOP", 250)
        assert time.monotonic() - t0 < 20 * SLOW
    idle.expect(421, "4.4.2")
    elapsed = time.monotonic() - t0
    assert 9.5 <= elapsed <= 15 * SLOW, elapsed
    assert idle.closed()
    busy.cmd("NOOP", 250)
    assert w.stop() == 0


# --- issue 17: BDAT size, empty BDAT message, unauth pipelining -----


def test_bdat_size_limit_counts_wire_octets(wren):
    # Empty lines: 2 octets each as sent, 1 stored. The limit is the
    # size as sent (what SIZE= announces), not what the disk keeps.
    w = mail_server(wren, message_size_limit="1024")
    c = session(w, source=OUTSIDE)
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.send(b"BDAT 1026 LAST\r\n" + b"\r\n" * 513)
    c.expect(552, "5.3.4")
    c.cmd("NOOP", 250)
    nothing_delivered(w)
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.send(b"BDAT 1024 LAST\r\n" + b"\r\n" * 512)
    c.expect(250, "queued as")
    assert len(files(w, "alice")) == 1
    c.cmd("QUIT", 221)
    assert w.stop() == 0


def test_bdat_empty_message_refused(wren):
    w = mail_server(wren)
    c = session(w, source=OUTSIDE)
    c.cmd(f"MAIL FROM:<{SENDER}>", 250)
    c.cmd("RCPT TO:<alice@example.test>", 250)
    c.cmd("BDAT 0", 250, "0 octets received")
    c.cmd("BDAT 0 LAST", 554, "5.6.0")
    c.cmd("RCPT TO:<alice@example.test>", 503)   # the transaction ended
    c.cmd("NOOP", 250)
    nothing_delivered(w)
    c.cmd("QUIT", 221)
    assert w.stop() == 0


def test_unauth_pipelining_disconnected_on_port_25(wren):
    # Postfix 3.9 smtpd_forbid_unauth_pipelining: the message sent with
    # DATA, before the 354, is refused and the client disconnected.
    w = mail_server(wren)
    msg = "Subject: piped\r\n\r\nhello\r\n.\r\n"
    for src in (OUTSIDE, "127.0.0.1"):
        c = session(w, source=src)
        c.cmd(f"MAIL FROM:<{SENDER}>", 250)
        c.cmd("RCPT TO:<alice@example.test>", 250)
        c.send("DATA\r\n" + msg)
        c.expect(554, "5.5.0 Error: SMTP protocol synchronization")
        assert c.closed()
    # EHLO ends a group: a MAIL behind it in the same write is refused
    # before the EHLO is answered.
    c = SMTPClient(w.port, source=OUTSIDE)
    c.expect(220)
    c.send(f"EHLO client.example\r\nMAIL FROM:<{SENDER}>\r\n")
    c.expect(554, "5.5.0")
    assert c.closed()
    nothing_delivered(w)
    # What RFC 2920 allows: MAIL, RCPT and DATA in one write, then the
    # message after the 354.
    c = session(w, source=OUTSIDE)
    c.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<alice@example.test>\r\n"
           "DATA\r\n")
    c.expect(250)
    c.expect(250)
    c.expect(354)
    c.send(msg + "QUIT\r\n")
    c.expect(250, "queued as")
    c.expect(221)
    assert len(files(w, "alice")) == 1
    # Real clients wait where they must.
    with smtplib.SMTP("127.0.0.1", w.port, timeout=10 * SLOW) as s:
        s.sendmail(SENDER, ["alice@example.test"],
                   "Subject: polite\r\n\r\nhi\r\n")
    assert len(files(w, "alice")) == 2
    assert w.stop() == 0


def test_talking_before_the_greeting_refused(wren):
    w = mail_server(wren)
    # The server stopped, the client's EHLO is in the socket before the
    # accept, so before any greeting could have been sent.
    os.kill(w.pid, signal.SIGSTOP)
    try:
        c = SMTPClient(w.port, source=OUTSIDE)
        c.send("EHLO client.example\r\n")
        time.sleep(0.2)
    finally:
        os.kill(w.pid, signal.SIGCONT)
    c.expect(554, "5.5.0 Error: SMTP protocol synchronization")
    assert c.closed()
    # A client that waits is served.
    c = session(w, source=OUTSIDE)
    c.cmd("QUIT", 221)
    assert w.stop() == 0
