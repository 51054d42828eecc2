# SPDX-License-Identifier: ISC
"""Dovecot and wren on the same Maildir++ tree (issue 13: "Dovecot on
the same Maildir sees the same folders, UIDs, flags and
subscriptions"; "a folder tree created through wren is listed
identically by Dovecot on the same Maildir, and the other way round").

Changes are made through wren's IMAP (CREATE, RENAME, DELETE,
SUBSCRIBE, APPEND, COPY, MOVE, STORE, UID EXPUNGE), then read with a
private Dovecot (conftest's PrivateDovecot): doveadm for the mailbox
list, the subscriptions, UIDVALIDITY, UIDNEXT, UIDs and flags, and a
Dovecot imap process on a pipe (doveadm exec imap, PREAUTH) for its LIST
of the same tree. Then the other way round: Dovecot builds a tree,
wren serves it.

Dovecot's processes run as nobody, so the mail lives in a
world-traversable directory under /tmp and is handed to nobody before
Dovecot runs; wren and Dovecot never run at the same time on the same
Maildir here. Dovecot has no special-use configuration here, so
SPECIAL-USE attributes are left out of the comparison.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PrivateDovecot, dovecot_available
from imaplib_helpers import (
    ALICE, ALICE_PW, crlf, fetch, login, mail, status)
from test_imap_folders import list_map, start
from test_imap_folders import pki, srv  # noqa: F401 (fixtures)

needs_dovecot = pytest.mark.skipif(not dovecot_available(),
                                   reason="needs dovecot-core and root")

USES = {"\\SENT", "\\DRAFTS", "\\TRASH", "\\JUNK", "\\ARCHIVE",
        "\\ALL", "\\FLAGGED"}
# \Marked and \Unmarked are hints (RFC 3501 7.2.2) Dovecot gives from its
# index and the directories' times: they differ run to run (under QEMU
# often), so they are not compared either.
USES |= {"\\MARKED", "\\UNMARKED"}


@pytest.fixture
def shared_tmp():
    """A directory Dovecot's unprivileged processes can reach."""
    tmp = Path(tempfile.mkdtemp(prefix="wren-imap-dvf-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def give_to_nobody(path):
    subprocess.run(["chown", "-R", "nobody:nogroup", str(path)], check=True,
                   timeout=30)


def dovecot_for(s, tmp):
    d = tmp / "dovecot"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    users = d / "users"
    users.write_text(f"{ALICE}:{{PLAIN}}{ALICE_PW}\n")
    os.chmod(users, 0o644)
    give_to_nobody(s.mail_root)
    return PrivateDovecot(d, users, f"{s.mail_root}/%d/%n",
                          mail_location="maildir:~/Maildir")


def check_dovecot_log(dc):
    log = (dc.dir / "dovecot.log").read_text(errors="replace")
    bad = [x for x in log.splitlines()
           if re.search(r"\b(Error|Panic|Fatal|Warning)\b", x)
           and "Killed with signal 15" not in x]
    assert not bad, "\n".join(bad)


def dovecot_imap(dc, *commands):
    """Runs commands in a Dovecot imap process (PREAUTH as alice) on a
    pipe; returns {tag: (untagged lines, tagged line)}."""
    text = "".join(f"t{i} {c}\r\n" for i, c in enumerate(commands))
    text += "z LOGOUT\r\n"
    for _ in range(50):
        p = subprocess.run(["doveadm", "-c", str(dc.conf), "exec", "imap",
                            "-u", ALICE], input=text.encode(),
                           capture_output=True, timeout=30)
        if p.stdout.startswith(b"* PREAUTH"):
            break
        time.sleep(0.1)
    assert p.stdout.startswith(b"* PREAUTH"), p.stdout + p.stderr
    out = {}
    pending = []
    for line in p.stdout.split(b"\r\n")[1:]:
        m = re.match(rb"(t\d+) (OK|NO|BAD)", line)
        if m:
            assert m.group(2) == b"OK", line
            out[int(m.group(1)[1:])] = (pending, line)
            pending = []
        elif line.startswith(b"* "):
            pending.append(line)
    return [out[i][0] for i in range(len(commands))]


def listing(lines):
    """LIST lines -> {name: attrs}, SPECIAL-USE attributes removed and
    \\NonExistent read as \\Noselect (RFC 5258: it implies it)."""
    out = {}
    for k, v in list_map(lines).items():
        if isinstance(k, str):
            v = v - USES
            if "\\NONEXISTENT" in v:
                v = (v - {"\\NONEXISTENT"}) | {"\\NOSELECT"}
            out[k] = v
    return out


LIST_CMDS = ('LIST "" "*" RETURN (CHILDREN)', 'LIST (SUBSCRIBED) "" "*"',
             'LSUB "" "*"', 'LIST "" "%"')


def wren_lists(s):
    from imaplib_helpers import Raw
    r = Raw(s)
    r.login()
    out = [r.cmd(c)[0] for c in LIST_CMDS]
    r.close()
    return out


def compare_lists(ours, theirs):
    for cmd, a, b in zip(LIST_CMDS, ours, theirs):
        what = b"LSUB" if cmd.startswith("LSUB") else b"LIST"
        la = {k: v - USES for k, v in list_map(a, what).items()
              if isinstance(k, str)}
        lb = {k: v - USES for k, v in list_map(b, what).items()
              if isinstance(k, str)}
        if what == b"LIST":
            la, lb = listing(a), listing(b)
        assert la == lb, (cmd, la, lb)


def mutf7_decode(name):
    """Modified UTF-7 (RFC 3501 5.1.3) -> str (doveadm takes UTF-8)."""
    def one(m):
        if m.group(1) == "":
            return "&"
        b = m.group(1).replace(",", "/")
        return base64.b64decode(b + "=" * (-len(b) % 4)).decode("utf-16-be")
    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def dovecot_boxes(dc, subscribed=False):
    """Mailbox names (modified UTF-7, as IMAP says them)."""
    p = dc.doveadm("mailbox", "list", "-7", "-u", ALICE,
                   *(["-s"] if subscribed else []))
    return set(p.stdout.split())


def dovecot_box(dc, box):
    """({uid: flags}, uidvalidity, uidnext) as Dovecot sees box (a
    modified UTF-7 name)."""
    box = mutf7_decode(box)
    p = dc.doveadm("-f", "json", "fetch", "-u", ALICE, "uid flags",
                   "mailbox", box, "all")
    msgs = {int(m["uid"]): {f.upper() for f in m["flags"].split()} -
            {"\\RECENT"} for m in json.loads(p.stdout or "[]")}
    p = dc.doveadm("-f", "flow", "mailbox", "status", "-u", ALICE,
                   "uidvalidity uidnext messages", box)
    st = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    assert int(st["messages"]) == len(msgs), (box, p.stdout, msgs)
    return msgs, int(st["uidvalidity"]), int(st["uidnext"])


def wren_box(M, box):
    typ, data = M.select(f'"{box}"')
    assert typ == "OK", (box, data)
    validity = int(M.response("UIDVALIDITY")[1][0])
    uidnext = int(M.response("UIDNEXT")[1][0])
    msgs = {}
    if int(data[0]):
        for v in fetch(M, "1:*", "(UID FLAGS)").values():
            msgs[int(v["UID"])] = {f.upper() for f in v["FLAGS"]} - \
                {"\\RECENT"}
    return msgs, validity, uidnext


def wren_all(s):
    """{mailbox: ({uid: flags}, uidvalidity, uidnext)} and the
    subscribed set, through wren."""
    M = login(s)
    typ, data = M.list('""', "*")
    boxes = listing([b"* LIST " + d for d in data if d])
    out = {b: wren_box(M, b) for b, a in boxes.items()
           if "\\NOSELECT" not in a}
    typ, data = M.lsub('""', "*")
    subs = set(k for k in list_map([b"* LSUB " + d for d in data if d],
                                   b"LSUB") if isinstance(k, str))
    M.logout()
    return out, subs


# --- 1. wren writes, Dovecot reads -----------------------------------------


@needs_dovecot
def test_tree_made_through_wren_seen_by_dovecot(srv, shared_tmp):
    s = srv(mail_root=shared_tmp / "mail")
    for i in range(4):
        s.put(mail(f"inbox {i}"))
    M = login(s)
    for name in ("Projects", "Projects.Alpha", "Projects.Beta.Deep",
                 "&AOQ-pfel", "Old", "Gone"):
        assert M.create(f'"{name}"')[0] == "OK", name
    assert M.rename("Old", "Projects.Renamed")[0] == "OK"
    assert M.delete("Gone")[0] == "OK"
    for name in ("Projects.Alpha", "&AOQ-pfel", "Projects.Beta.Deep"):
        assert M.subscribe(f'"{name}"')[0] == "OK"
    assert M.unsubscribe('"&AOQ-pfel"')[0] == "OK"
    for i, (box, flags) in enumerate((("Projects.Alpha", r"(\Seen)"),
                                      ("Projects.Alpha", r"(\Flagged $Work)"),
                                      ("&AOQ-pfel", None),
                                      ("Sent", r"(\Seen \Answered)"))):
        typ, data = M.append(f'"{box}"', flags, None,
                             crlf(mail(f"appended {i}")))
        assert typ == "OK", data
    M.select("INBOX")
    assert M.store("1", "+FLAGS", r"(\Seen \Flagged)")[0] == "OK"
    assert M.store("2", "+FLAGS", r"(Todo)")[0] == "OK"
    assert status(M, "UID", "COPY", "1:2", '"Projects.Beta.Deep"')[0] == "OK"
    assert status(M, "UID", "MOVE", "3", '"&AOQ-pfel"')[0] == "OK"
    assert M.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert M.store("2", "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert status(M, "UID", "EXPUNGE", "1")[0] == "OK"
    M.logout()
    ours, our_subs = wren_all(s)
    our_lists = wren_lists(s)
    s.stop()
    with dovecot_for(s, shared_tmp) as dc:
        boxes = dovecot_boxes(dc)
        subs = dovecot_boxes(dc, subscribed=True)
        theirs = {b: dovecot_box(dc, b) for b in ours}
        their_lists = dovecot_imap(dc, *LIST_CMDS)
    check_dovecot_log(dc)
    assert boxes >= set(ours), (boxes, set(ours))
    assert {"Projects.Renamed", "Projects.Beta.Deep", "&AOQ-pfel",
            "Projects.Alpha"} <= boxes and "Gone" not in boxes, boxes
    assert "Old" not in boxes, boxes
    assert subs == our_subs, (subs, our_subs)
    assert {"Projects.Alpha", "Projects.Beta.Deep"} <= subs
    assert "&AOQ-pfel" not in subs
    for box in ours:
        assert theirs[box] == ours[box], (box, theirs[box], ours[box])
    assert ours["INBOX"][0][2] == {"\\DELETED", "TODO"}, ours["INBOX"]
    compare_lists(our_lists, their_lists)


# --- 2. Dovecot writes, wren reads ---------------------------------------


@needs_dovecot
def test_tree_made_by_dovecot_served_by_wren(srv, shared_tmp):
    s = srv(go=False, mail_root=shared_tmp / "mail")
    with dovecot_for(s, shared_tmp) as dc:
        # doveadm takes UTF-8 names: "Straße" is IMAP's "Stra&AN8-e".
        for name in ("Lists", "Lists.Dev", "Lists.Dev.Archive",
                     "Stra\u00dfe", "Temp", "ToRename"):
            dc.doveadm("mailbox", "create", "-u", ALICE, name)
        dc.doveadm("mailbox", "rename", "-u", ALICE, "ToRename",
                   "Lists.Renamed")
        dc.doveadm("mailbox", "delete", "-u", ALICE, "Temp")
        for name in ("Lists.Dev", "Stra\u00dfe", "INBOX"):
            dc.doveadm("mailbox", "subscribe", "-u", ALICE, name)
        for i, box in enumerate(("INBOX", "INBOX", "Lists.Dev",
                                 "Lists.Dev", "Stra\u00dfe",
                                 "Lists.Dev.Archive")):
            p = subprocess.run(
                ["doveadm", "-c", str(dc.conf), "save", "-u", ALICE, "-m",
                 box], input=mail(f"dovecot {i}"), capture_output=True,
                timeout=30)
            assert p.returncode == 0, p.stderr
        for flags, box, uid in (("\\Seen", "INBOX", 1),
                                ("\\Flagged $Label1", "Lists.Dev", 2),
                                ("\\Answered \\Seen", "Lists.Dev", 1),
                                ("\\Draft", "Stra\u00dfe", 1)):
            dc.doveadm("flags", "add", "-u", ALICE, flags, "mailbox", box,
                       "uid", str(uid))
        dc.doveadm("move", "-u", ALICE, "Lists.Renamed", "mailbox",
                   "INBOX", "uid", "2")
        dc.doveadm("expunge", "-u", ALICE, "mailbox", "Lists.Dev.Archive",
                   "uid", "1")
        boxes = dovecot_boxes(dc)
        subs = dovecot_boxes(dc, subscribed=True)
        assert "Stra&AN8-e" in boxes, boxes
        theirs = {b: dovecot_box(dc, b) for b in boxes}
        their_lists = dovecot_imap(dc, *LIST_CMDS)
    check_dovecot_log(dc)
    start(s)
    ours, our_subs = wren_all(s)
    # wren may add its special-use folders at the first login; every
    # folder Dovecot made is there, the same.
    assert set(ours) >= boxes, (set(ours), boxes)
    for box in boxes:
        assert ours[box] == theirs[box], (box, ours[box], theirs[box])
    assert our_subs >= subs and our_subs - subs <= {
        "Sent", "Drafts", "Trash", "Junk", "Archive"}, (our_subs, subs)
    our_lists = wren_lists(s)
    extra = set(ours) - boxes
    strip = lambda lines: [l for l in lines if not any(  # noqa: E731
        re.search(rb'"\." "?' + re.escape(e.encode()) + rb'"?$', l)
        for e in extra)]
    compare_lists([strip(x) for x in our_lists], their_lists)
    # And wren goes on from Dovecot's UIDs: an APPEND gets UIDNEXT.
    M = login(s)
    typ, data = M.append('"Lists.Dev"', None, None, crlf(mail("by wren")))
    assert typ == "OK", data
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert m and int(m.group(1)) == theirs["Lists.Dev"][1] and \
        int(m.group(2)) == theirs["Lists.Dev"][2], (data, theirs)
    M.logout()
    s.stop()
