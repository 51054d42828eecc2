# SPDX-License-Identifier: ISC
"""mbsync (isync) over several folders, both ways (issue 13: "mbsync
syncs several folders both ways (Patterns *), with flag changes, moves
and deletions, and a second run transfers nothing").

The far side is the server over IMAPS (Patterns *, Create Both, Expunge
Both), the near side a local Maildir tree (SubFolders Verbatim: IMAP
"Work.Projects" is local Work/Projects). Changes are made on both sides
between runs: new messages and folders, flags, a message moved between
folders, deletions; after a run, every folder holds the same messages
(by Subject) with the same flags on both sides, and the run after that
sends no command that changes the server or fetches a message (its
network debug output, -Dn) and changes no local file.

Checked against Dovecot 2.3 with WREN_IMAP_REFERENCE=dovecot (see
test_imap_folders.py for the reference configuration).
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import SLOW
from imaplib_helpers import (
    ALICE, ALICE_PW, fetch, login, make_pki, mail, put, status)
from test_imap_folders import list_map
from test_imap_folders import srv  # noqa: F401 (fixture)

needs_mbsync = pytest.mark.skipif(not shutil.which("mbsync"),
                                  reason="needs isync (mbsync)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # mbsync 1.4 matches the host name against DNS names only.
    return make_pki(tmp_path_factory.mktemp("pki"),
                    extra_san="DNS:127.0.0.1")


def mbsyncrc(tmp, s, local):
    rc = tmp / "mbsyncrc"
    rc.write_text(f"""
IMAPAccount wren
Host 127.0.0.1
Port {s.imaps}
User {ALICE}
Pass {ALICE_PW}
SSLType IMAPS
CertificateFile {s.pki / "cert.pem"}
Timeout {int(30 * SLOW)}

IMAPStore remote
Account wren

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
""")
    return rc


def mbsync(rc, timeout=120, net=False):
    """Runs the channel; net: with mbsync's network debug output (the
    IMAP commands it sends)."""
    p = subprocess.run(["mbsync", "-c", str(rc), "-Dn" if net else "-V",
                        "all"],
                       capture_output=True, text=True,
                       timeout=timeout * SLOW)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    return out


CHANGING = re.compile(r"^\S+ (UID )?(APPEND|STORE|EXPUNGE|MOVE|COPY|CREATE|"
                      r"DELETE|RENAME)\b|BODY\.PEEK\[\]|BODY\[\]",
                      re.I)


def imap_commands(out):
    """The IMAP commands in mbsync's -Dn output (lines ">>> tag cmd")."""
    return [m.group(1) for m in re.finditer(r">>> (\S+ [^\r\n]*)", out)]


def transfers(out):
    """Commands that change the server or carry a message."""
    return [c for c in imap_commands(out) if CHANGING.search(c)]


LETTER = {"S": "\\SEEN", "F": "\\FLAGGED", "R": "\\ANSWERED",
          "D": "\\DRAFT", "T": "\\DELETED"}


def subject_of(data):
    m = re.search(rb"(?mi)^Subject: (.*?)\r?$", data)
    assert m, data[:200]
    return m.group(1).decode()


def local_view(local):
    """{folder (IMAP name): {subject: flags}} of the local tree; files
    flagged T (trashed, not yet expunged) left out."""
    out = {}
    for dirpath, dirs, files in os.walk(local):
        d = os.path.relpath(dirpath, local)
        if os.path.basename(d) not in ("cur", "new"):
            continue
        box = os.path.dirname(d).replace(os.sep, ".")
        msgs = out.setdefault(box, {})
        for n in files:
            letters = n.split(":2,", 1)[1] if ":2," in n else ""
            if "T" in letters:
                continue
            with open(os.path.join(dirpath, n), "rb") as f:
                subj = subject_of(f.read())
            msgs[subj] = {LETTER[x] for x in letters if x in LETTER}
    return out


def server_view(s):
    """The same through IMAP: {mailbox: {subject: flags}}."""
    M = login(s)
    typ, data = M.list('""', "*")
    assert typ == "OK", data
    boxes = [k for k, v in list_map([b"* LIST " + d for d in data
                                     if d]).items()
             if isinstance(k, str) and not v & {"\\NOSELECT",
                                                "\\NONEXISTENT"}]
    out = {}
    for box in boxes:
        typ, data = M.select(f'"{box}"')
        assert typ == "OK", (box, data)
        msgs = out.setdefault(box, {})
        if int(data[0]) == 0:
            continue
        for v in fetch(M, "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS "
                                 "(SUBJECT)])").values():
            flags = {f.upper() for f in v["FLAGS"]} - {"\\RECENT"}
            if "\\DELETED" in flags:
                continue
            msgs[subject_of(v["BODY[HEADER.FIELDS (SUBJECT)]"])] = flags
    M.logout()
    return out


def same(local, server):
    """Non-empty folders agree (an empty folder may exist on one side
    only until a message is there)."""
    lv, sv = local_view(local), server_view(server)
    lv = {k: v for k, v in lv.items() if v}
    sv = {k: v for k, v in sv.items() if v}
    assert lv == sv, (lv, sv)
    return sv


def local_file(local, box, subject):
    for sub in ("cur", "new"):
        d = local / box.replace(".", "/") / sub
        for p in d.iterdir():
            if subject_of(p.read_bytes()) == subject:
                return p
    raise AssertionError((box, subject))


def set_letters(p, letters):
    """Renames a local message to carry these flags (as a MUA does);
    from new/ to cur/ if needed. Returns the new path."""
    base = p.name.split(":2,")[0]
    dst = p.parent.parent / "cur" / (base + ":2," + "".join(sorted(
        letters)))
    os.rename(p, dst)
    return dst


def letters_of(p):
    return p.name.split(":2,", 1)[1] if ":2," in p.name else ""


@needs_mbsync
def test_mbsync_several_folders_both_ways(srv, tmp_path):
    s = srv()
    # The server's starting tree: INBOX, Sent, Work and Work.Projects.
    for i in range(3):
        s.put(mail(f"inbox {i}"), flags="S" if i == 0 else "")
    s.put(mail("sent 0"), folder="Sent", flags="S")
    s.put(mail("sent 1"), folder="Sent", flags="S")
    s.put(mail("work 0"), folder="Work", flags="F")
    s.put(mail("project 0"), folder="Work.Projects")
    s.put(mail("project 1"), folder="Work.Projects", flags="RS")
    local = tmp_path / "local"
    local.mkdir()
    rc = mbsyncrc(tmp_path, s, local)
    out = mbsync(rc)
    view = same(local, s)
    assert set(view) >= {"INBOX", "Sent", "Work", "Work.Projects"}, view
    assert view["Work.Projects"] == {"project 0": set(),
                                     "project 1": {"\\ANSWERED",
                                                   "\\SEEN"}}, view
    assert (local / "Work" / "Projects" / "cur").is_dir()

    # Near side changes: a new folder with a message, a new message in
    # INBOX, flags, a deletion, a move from INBOX to Work.
    (local / "Local").mkdir()
    for sub in ("cur", "new", "tmp"):
        (local / "Local" / sub).mkdir()
    put(local / "Local", mail("made locally"), sub="new")
    put(local / "INBOX", mail("inbox local"), sub="new")
    set_letters(local_file(local, "INBOX", "inbox 1"), "FS")
    p = local_file(local, "Sent", "sent 1")
    os.unlink(p)
    p = local_file(local, "INBOX", "inbox 2")
    data = p.read_bytes()
    os.unlink(p)
    put(local / "Work", data, sub="cur", flags=letters_of(p), raw=True,
        sizes=False)
    # Far side changes through IMAP: flags, a move, a deletion, a new
    # folder, an APPEND.
    M = login(s, select="INBOX")
    for uid, subj in ((int(v["UID"]), subject_of(
            v["BODY[HEADER.FIELDS (SUBJECT)]"])) for v in fetch(
            M, "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").values()):
        if subj == "inbox 0":
            assert M.uid("STORE", str(uid), "+FLAGS", r"(\Flagged)")[0] \
                == "OK"
    M.select("Work.Projects")
    typ, data = status(M, "MOVE", "1", "Sent")          # project 0
    assert typ == "OK", data
    assert M.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"  # project 1
    assert M.expunge()[0] == "OK"
    assert M.create("Server.Made")[0] == "OK"
    assert M.append("Server.Made", r"(\Seen)", None,
                    mail("made on the server").replace(b"\n", b"\r\n")
                    )[0] == "OK"
    M.logout()

    out = mbsync(rc)
    view = same(local, s)
    assert view["Local"] == {"made locally": set()}, view
    assert view["Server.Made"] == {"made on the server": {"\\SEEN"}}
    assert set(view["INBOX"]) == {"inbox 0", "inbox 1", "inbox local"}
    assert view["INBOX"]["inbox 0"] == {"\\SEEN", "\\FLAGGED"}, view
    assert view["INBOX"]["inbox 1"] == {"\\SEEN", "\\FLAGGED"}, view
    assert set(view["Work"]) == {"work 0", "inbox 2"}, view
    assert set(view["Sent"]) == {"sent 0", "project 0"}, view
    assert "Work.Projects" not in view, view        # empty now
    assert (local / "Server" / "Made" / "cur").is_dir()

    # A second run transfers nothing, and changes no file.
    before = sorted(str(p.relative_to(local)) for p in local.rglob("*")
                    if p.is_file() and p.parent.name in ("cur", "new"))
    out = mbsync(rc, net=True)
    assert imap_commands(out), out
    assert transfers(out) == [], out
    after = sorted(str(p.relative_to(local)) for p in local.rglob("*")
                   if p.is_file() and p.parent.name in ("cur", "new"))
    assert after == before
    assert same(local, s) == view
    s.stop()
