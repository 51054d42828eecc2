# SPDX-License-Identifier: ISC
"""IMAP folders, APPEND, COPY, MOVE, UIDPLUS, SPECIAL-USE and the first
login of a new account (issue 13; SPEC section 5): every command with
Python's imaplib (raw sockets where imaplib cannot say it), every
refusal with its response code.

RFCs: 3501 (IMAP4rev1: 6.3.3 CREATE, 6.3.4 DELETE, 6.3.5 RENAME incl.
INBOX, 6.3.6/7 SUBSCRIBE/UNSUBSCRIBE, 6.3.8 LIST, 6.3.9 LSUB, 6.3.11
APPEND, 6.4.7 COPY, 5.1.3 modified UTF-7), 3502 MULTIAPPEND, 4315
UIDPLUS, 5258 LIST-EXTENDED, 5819 LIST-STATUS, 6154 SPECIAL-USE, 6851
MOVE, 7888 LITERAL+, 5530 response codes.

The expectations were checked against Dovecot 2.3: run with
WREN_IMAP_REFERENCE=dovecot and the same tests talk to a private
Dovecot (imaplib_helpers.ReferenceDovecot, plus, here, the
special-use mailboxes with auto=subscribe and a maximum message size
equal to wren's message_size_limit, see ref_conf()). Where wren may
differ from Dovecot (texts, which of NO and BAD for a malformed name),
the tests compare response codes and data. Where Dovecot does not do
what issue 13 asks (the greeting's capabilities, INBOX rename, names
"tmp", "new", "cur"), the test checks wren against the RFC and says so.

The hierarchy separator is "." (Maildir++: "a.b" is Maildir/.a.b).
"""
import imaplib
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest

from conftest import SLOW
from imaplib_helpers import (
    ALICE, BOB, REFERENCE, Raw, ReferenceDovecot, caps, crlf, fetch,
    fetch_map, imap_server, login, mail, make_pki, parse, status)

LIMIT = 1000000             # message_size_limit of these servers
SPECIAL = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash",
           "Junk": "\\Junk", "Archive": "\\Archive"}
WANT_CAPS = {"LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "UIDPLUS",
             "MOVE", "MULTIAPPEND", "CHILDREN", "LITERAL+", "NAMESPACE",
             "IDLE", "IMAP4REV1"}


# --- servers ---------------------------------------------------------


def ref_conf():
    """What the reference Dovecot adds to imaplib_helpers' config: the
    special-use mailboxes wren creates at first login, and APPEND
    refused over LIMIT (quota_max_mail_size refuses before the literal
    is read, as wren's message_size_limit does)."""
    boxes = "".join(
        f"  mailbox {name} {{\n    special_use = {use}\n"
        f"    auto = subscribe\n  }}\n" for name, use in SPECIAL.items())
    return (f"namespace inbox {{\n  inbox = yes\n  separator = .\n"
            f"{boxes}}}\n"
            f"mail_plugins = $mail_plugins quota\n"
            f"plugin {{\n  quota = maildir:User quota\n"
            f"  quota_max_mail_size = {LIMIT}\n}}\n")


class FolderReference(ReferenceDovecot):
    def __init__(self, srv):
        super().__init__(srv)
        conf = self.dir / "dovecot.conf"
        conf.write_text(conf.read_text() + ref_conf())


def start(s):
    """Starts wren (and in reference mode the Dovecot serving IMAP)."""
    s.w.start()
    if REFERENCE:
        s.ref = FolderReference(s)
        s.ref.start()
    return s


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def srv(wren, pki):
    """srv(**keys) -> a started IMAPServer with message_size_limit =
    LIMIT (see imaplib_helpers)."""
    made = []

    def make(go=True, mail_root=None, **keys):
        keys.setdefault("message_size_limit", str(LIMIT))
        s = imap_server(wren, pki, mail_root=mail_root, start=False,
                        **keys)
        made.append(s)
        return start(s) if go else s

    yield make
    for s in made:
        if s.ref:
            s.ref.stop()


# --- helpers -----------------------------------------------------------


def tagged_code(line):
    """b"a1 NO [CODE x] text" -> ("NO", "CODE", text)."""
    m = re.match(rb"\S+ (OK|NO|BAD)(?: \[([^\] ]+)[^\]]*\])? ?(.*)$",
                 line, re.I)
    assert m, line
    return (m.group(1).decode().upper(),
            (m.group(2) or b"").decode().upper(), m.group(3).decode())


def expect(r, cmd, result="OK", code=None):
    """Raw r: runs cmd; checks the result (OK/NO/BAD, or a tuple of
    them) and the response code; returns (untagged, tagged line)."""
    got, tagged = r.cmd(cmd, expect=None)
    res, c, text = tagged_code(tagged)
    ok = result if isinstance(result, tuple) else (result,)
    assert res in ok, (cmd, tagged, got)
    if code is not None:
        assert c == code, (cmd, tagged)
    if res != "OK":
        assert text.strip(), ("no text", cmd, tagged)
    return got, tagged


def list_map(lines, what=b"LIST"):
    """Untagged LIST/LSUB lines -> {name (str): set of attrs, upper}.
    Extended data (CHILDINFO) is kept under (name, "EXT")."""
    out = {}
    for line in lines:
        if not line.upper().startswith(b"* " + what + b" "):
            continue
        v = parse(line[len(what) + 3:])
        attrs, name = v[0], v[2]
        name = name.decode() if isinstance(name, bytes) else name
        out[name] = {a.upper() for a in attrs}
        if len(v) > 3:
            out[(name, "EXT")] = v[3]
    return out


def status_map(lines):
    """Untagged STATUS lines -> {name: {ITEM: int}}."""
    out = {}
    for line in lines:
        if not line.upper().startswith(b"* STATUS "):
            continue
        v = parse(line[9:])
        name = v[0].decode() if isinstance(v[0], bytes) else v[0]
        items = v[1]
        out[name] = {items[i].upper(): int(items[i + 1])
                     for i in range(0, len(items), 2)}
    return out


def uid_set(text):
    """"1:3,7" -> [1, 2, 3, 7] (in the order written)."""
    out = []
    for part in text.split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            step = 1 if b >= a else -1
            out += list(range(a, b + step, step))
        else:
            out.append(int(part))
    return out


def folder_dir(s, name, user=ALICE):
    return s.home(user) / "Maildir" / ("." + name)


def snapshot(root):
    """Every path under root (relative) with its type, but no logs."""
    root = Path(root)
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if rel.endswith(".log") or "dovecot.index" in n or \
                    n.startswith("dovecot.list.index") or \
                    n in ("dovecot-uidlist.lock", "maildirsize"):
                continue
            out.add(rel)
    return out


def text(v):
    """A parsed atom or string as str."""
    return v.decode() if isinstance(v, bytes) else v


def names(lines, what=b"LIST"):
    return {k for k in list_map(lines, what) if isinstance(k, str)}


def noselect(attrs):
    """A name that is only part of the hierarchy: \\Noselect, or
    LIST-EXTENDED's \\NonExistent (which implies it, RFC 5258 3)."""
    return bool(attrs & {"\\NOSELECT", "\\NONEXISTENT"})


def code_or_reference(code, dovecot_omits=False):
    """The code wren must send; None (any) where Dovecot 2.3 omits it."""
    return None if (REFERENCE and dovecot_omits) else code


def put_messages(s, n, folder=""):
    """n messages "m0".."m<n-1>" into INBOX (or folder), in order."""
    for i in range(n):
        s.put(mail(f"m{i}", f"body {i}\n"), folder=folder)


def subjects(M, box):
    """{uid: subject} of box (imaplib)."""
    typ, data = M.select(box)
    assert typ == "OK", (box, data)
    if int(data[0]) == 0:
        return {}
    out = {}
    for v in fetch(M, "1:*",
                   "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").values():
        subj = v["BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip()
        out[int(v["UID"])] = subj.split(":", 1)[1].strip()
    return out


# --- 1. capabilities, first login -----------------------------------------


def test_capabilities_in_greeting_and_after_login(srv):
    s = srv()
    r = Raw(s)
    m = re.match(rb"\* OK \[CAPABILITY ([^\]]*)\]", r.greeting)
    assert m, r.greeting
    greeting = set(m.group(1).decode().upper().split())
    if not REFERENCE:
        # Issue 13: announced in the greeting as well (Dovecot lists
        # only its pre-login capabilities there).
        assert WANT_CAPS <= greeting, WANT_CAPS - greeting
    _, tagged = r.login()
    m = re.search(rb"\[CAPABILITY ([^\]]*)\]", tagged)
    assert m, tagged                    # clients skip a CAPABILITY then
    after = set(m.group(1).decode().upper().split())
    assert WANT_CAPS <= after, WANT_CAPS - after
    got, _ = r.cmd("CAPABILITY")
    cap = set(got[0].decode().upper().split()[2:])
    assert WANT_CAPS <= cap, WANT_CAPS - cap
    assert cap == after, (cap ^ after)
    r.close()
    M = login(s)
    assert WANT_CAPS <= caps(M)
    M.logout()
    s.stop()


def test_first_login_of_a_new_account(srv):
    """Bob has no home at all: LOGIN creates the Maildir (mode 0700),
    INBOX can be selected, and Sent, Drafts, Trash, Junk and Archive
    exist with their SPECIAL-USE attributes (RFC 6154), subscribed."""
    s = srv(go=False)
    shutil.rmtree(s.home(BOB))
    start(s)
    r = Raw(s)
    r.login(BOB)
    got, tagged = expect(r, "SELECT INBOX")
    assert b"* 0 EXISTS" in got, got
    assert re.search(rb"\[READ-WRITE\]", tagged), tagged
    got, _ = expect(r, 'LIST "" "*"')
    boxes = list_map(got)
    assert set(boxes) == {"INBOX"} | set(SPECIAL), boxes
    for name, use in SPECIAL.items():
        assert use.upper() in boxes[name], (name, boxes[name])
        assert not noselect(boxes[name]), (name, boxes[name])
    assert not any(a in boxes["INBOX"] for a in
                   ("\\SENT", "\\DRAFTS", "\\TRASH", "\\JUNK",
                    "\\ARCHIVE", "\\NOSELECT"))
    got, _ = expect(r, 'LSUB "" "*"')
    assert names(got, b"LSUB") >= set(SPECIAL), got
    for name in SPECIAL:                # each one usable right away
        got, _ = expect(r, f"SELECT {name}")
        assert b"* 0 EXISTS" in got, (name, got)
    expect(r, "LOGOUT")
    r.close()
    md = s.home(BOB) / "Maildir"
    for sub in ("cur", "new", "tmp"):
        assert (md / sub).is_dir(), sub
    if not REFERENCE:       # Dovecot takes the mode from the parent
        for p in (md, md / "cur", md / "new", md / "tmp"):
            assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    for name in SPECIAL:
        for sub in ("cur", "new", "tmp"):
            assert (md / ("." + name) / sub).is_dir(), (name, sub)
    # A second login finds it all as it was.
    M = login(s, BOB, select="INBOX")
    typ, data = M.list()
    assert typ == "OK" and len([d for d in data if d]) == 6, data
    M.logout()
    s.stop()


def test_special_folders_made_for_an_existing_maildir(srv):
    """An account whose Maildir exists (mail was delivered before its
    first IMAP login, or another server made it) but has no Sent,
    Drafts, Trash, Junk or Archive gets them at login, as Dovecot's
    auto = subscribe does; the other tests rely on it."""
    s = srv(go=False)
    s.put(mail("delivered before any login"))
    md = s.home(ALICE) / "Maildir"
    assert not any((md / ("." + n)).exists() for n in SPECIAL)
    start(s)
    r = Raw(s)
    r.login()
    got, _ = expect(r, 'LIST "" "*"')
    boxes = list_map(got)
    for name, use in SPECIAL.items():
        assert use.upper() in boxes.get(name, set()), (name, boxes)
    got, _ = expect(r, "SELECT INBOX")
    assert b"* 1 EXISTS" in got, got
    m = crlf(mail("saved"))
    for name in SPECIAL:
        expect(r, f"APPEND {name} {{{len(m)}+}}\r\n".encode() + m)
    r.close()
    s.stop()


def test_status_unknown_item_is_bad_before_lookup(srv):
    s = srv()
    r = Raw(s)
    r.login()
    expect(r, "STATUS INBOX (MESSAGES FOO)", "BAD")
    expect(r, "STATUS Nope (MESSAGES FOO)", "BAD")
    expect(r, "STATUS Nope (MESSAGES)", "NO",
           code_or_reference("NONEXISTENT", dovecot_omits=True))
    got, _ = expect(r, "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)")
    assert status_map(got) == {"INBOX": {"MESSAGES": 0, "UIDNEXT": 1,
                                         "UNSEEN": 0}}, got
    r.close()
    s.stop()


# --- 2. CREATE, DELETE, RENAME --------------------------------------------


def test_create_and_delete(srv):
    s = srv()
    r = Raw(s)
    r.login()
    expect(r, "CREATE Foo")
    for sub in ("cur", "new", "tmp"):
        assert (folder_dir(s, "Foo") / sub).is_dir()
    expect(r, "CREATE Foo", "NO", "ALREADYEXISTS")
    expect(r, "CREATE INBOX", "NO", "ALREADYEXISTS")
    expect(r, "CREATE inbox", "NO", "ALREADYEXISTS")    # INBOX any case
    # (Dovecot's auto=subscribe makes Sent only when first opened.)
    expect(r, "EXAMINE Sent")
    expect(r, "CREATE Sent", "NO", "ALREADYEXISTS")
    # Superior names are implied (RFC 3501 6.3.3): listed, not
    # selectable; Maildir++ has no directory for them.
    expect(r, "CREATE A.B.C")
    assert (folder_dir(s, "A.B.C") / "cur").is_dir()
    got, _ = expect(r, 'LIST "" "A*"')
    boxes = list_map(got)
    assert {"A", "A.B", "A.B.C", "Archive"} <= set(boxes), boxes
    assert noselect(boxes["A"]) and noselect(boxes["A.B"]), boxes
    assert "\\HASCHILDREN" in boxes["A"], boxes
    assert not noselect(boxes["A.B.C"]), boxes
    expect(r, "SELECT A", "NO")
    # Below INBOX: an ordinary folder, INBOX written in capitals, as
    # Dovecot lays it out (Maildir/.INBOX.x); INBOX now has a child.
    expect(r, "CREATE inbox.x")
    assert folder_dir(s, "INBOX.x").is_dir()
    got, _ = expect(r, 'LIST "" "INBOX*"')
    boxes = list_map(got)
    assert set(boxes) == {"INBOX", "INBOX.x"}, boxes
    assert "\\HASCHILDREN" in boxes["INBOX"], boxes
    expect(r, "DELETE INBOX.x")
    # A trailing separator only says a child may follow (6.3.3).
    expect(r, "CREATE Trail.")
    got, _ = expect(r, 'LIST "" "Trail*"')
    assert names(got) == {"Trail"}, got
    # The new mailbox is empty, with its own UIDVALIDITY.
    got, _ = expect(r, "SELECT Foo")
    assert b"* 0 EXISTS" in got and b"[UIDNEXT 1]" in b" ".join(got), got
    expect(r, "CLOSE")
    # DELETE.
    expect(r, "DELETE Foo")
    assert not folder_dir(s, "Foo").exists()
    expect(r, "DELETE Foo", "NO", "NONEXISTENT")
    expect(r, "DELETE Nope", "NO", "NONEXISTENT")
    expect(r, "DELETE A", "NO")          # only implied: nothing to delete
    expect(r, "DELETE A.B.C")
    got, _ = expect(r, 'LIST "" "A*"')
    assert names(got) == {"Archive"}, got
    _, tagged = expect(r, "DELETE INBOX", "NO")     # 6.3.4: an error
    got, _ = expect(r, 'LIST "" INBOX')
    assert names(got) == {"INBOX"}, got
    # A mailbox with messages goes with them.
    s.put(mail("in gone"), folder="Gone")
    expect(r, "DELETE Gone")
    assert not folder_dir(s, "Gone").exists()
    expect(r, "SELECT Gone", "NO",
           code_or_reference("NONEXISTENT", dovecot_omits=True))
    r.close()
    M = login(s)            # imaplib's view: the same
    assert M.create("Bar")[0] == "OK"
    assert M.create("Bar")[0] == "NO"
    assert M.delete("Bar")[0] == "OK"
    assert M.delete("Bar")[0] == "NO"
    M.logout()
    s.stop()


def test_rename_with_children_and_refusals(srv):
    s = srv()
    s.put(mail("in foo"), folder="Foo")
    s.put(mail("in kid"), folder="Foo.Kid")
    r = Raw(s)
    r.login()
    got, _ = expect(r, "SELECT Foo")
    validity = re.search(rb"UIDVALIDITY (\d+)", b" ".join(got)).group(1)
    expect(r, "CLOSE")
    expect(r, "RENAME Foo Bar")
    assert not folder_dir(s, "Foo").exists()
    assert not folder_dir(s, "Foo.Kid").exists()
    assert folder_dir(s, "Bar").is_dir() and \
        folder_dir(s, "Bar.Kid").is_dir()
    got, _ = expect(r, 'LIST "" "*"')
    boxes = names(got)
    assert {"Bar", "Bar.Kid"} <= boxes and not {"Foo", "Foo.Kid"} & boxes
    got, _ = expect(r, "SELECT Bar.Kid")
    assert b"* 1 EXISTS" in got, got
    got, _ = expect(r, "SELECT Bar")
    assert b"* 1 EXISTS" in got, got
    # UIDs and UIDVALIDITY go with the mailbox.
    assert re.search(rb"UIDVALIDITY (\d+)", b" ".join(got)).group(1) == \
        validity
    expect(r, "CLOSE")
    expect(r, "CREATE Other")
    expect(r, "RENAME Bar Other", "NO", "ALREADYEXISTS")
    expect(r, "RENAME Nope Baz", "NO", "NONEXISTENT")
    expect(r, "RENAME Bar INBOX", "NO", "ALREADYEXISTS")
    # Under itself: never (Dovecot says so without a code).
    expect(r, "RENAME Bar Bar.Sub", "NO",
           code_or_reference("CANNOT", dovecot_omits=True))
    expect(r, "RENAME Bar Bar.Kid.X", "NO",
           code_or_reference("CANNOT", dovecot_omits=True))
    # Into a new hierarchy (superiors implied).
    expect(r, "RENAME Other X.Y.Other")
    got, _ = expect(r, 'LIST "" "X*"')
    boxes = list_map(got)
    assert not noselect(boxes["X.Y.Other"]) and noselect(boxes["X"])
    r.close()
    M = login(s)
    assert M.rename("Bar", "Baz")[0] == "OK"
    assert M.rename("Bar", "Baz")[0] == "NO"
    M.logout()
    s.stop()


def test_rename_inbox(srv):
    """RFC 3501 6.3.5: renaming INBOX moves all its messages to a new
    mailbox with the new name, leaving INBOX empty (Dovecot refuses
    with NO [CANNOT] on Maildir; wren implements the RFC)."""
    s = srv()
    put_messages(s, 3)
    s.put(mail("inbox kept"), folder="Sent")
    r = Raw(s)
    r.login()
    if REFERENCE:
        expect(r, "RENAME INBOX Old", "NO", "CANNOT")
        r.close()
        return
    expect(r, "RENAME INBOX Old")
    got, _ = expect(r, "SELECT INBOX")
    assert b"* 0 EXISTS" in got, got
    got, _ = expect(r, "SELECT Old")
    assert b"* 3 EXISTS" in got, got
    # Folders below INBOX's Maildir (Sent...) are not INBOX's children.
    got, _ = expect(r, "SELECT Sent")
    assert b"* 1 EXISTS" in got, got
    got, _ = expect(r, 'LIST "" "*"')
    assert {"INBOX", "Old", "Sent"} <= names(got), got
    expect(r, "RENAME INBOX Old", "NO", "ALREADYEXISTS")
    r.close()
    M = login(s)
    assert sorted(subjects(M, "Old").values()) == ["m0", "m1", "m2"]
    assert subjects(M, "INBOX") == {}
    # New mail still reaches INBOX.
    s.put(mail("after rename"))
    assert list(subjects(M, "INBOX").values()) == ["after rename"]
    M.logout()
    s.stop()


# --- 3. SUBSCRIBE, LSUB ----------------------------------------------------


def test_subscribe_unsubscribe_lsub(srv):
    s = srv()
    r = Raw(s)
    r.login()
    for name in ("Foo", "A.B", "Lone"):
        expect(r, f"CREATE {name}")
    expect(r, "SUBSCRIBE Foo")
    expect(r, "SUBSCRIBE A.B")
    got, _ = expect(r, 'LSUB "" "*"')
    subs = names(got, b"LSUB")
    assert {"Foo", "A.B"} <= subs and "Lone" not in subs, got
    # LSUB "%": A is not subscribed but has a subscribed child, so it is
    # listed as \Noselect (RFC 3501 6.3.9).
    got, _ = expect(r, 'LSUB "" "%"')
    lsub = list_map(got, b"LSUB")
    if "A" in lsub:
        assert "\\NOSELECT" in lsub["A"], lsub
    assert "A.B" not in lsub and "Foo" in lsub, lsub
    # On disk, in Dovecot's subscriptions file (version 2: "V\t2", an
    # empty line, then one name a line with the hierarchy separator
    # written as a tab).
    text = (s.home(ALICE) / "Maildir" / "subscriptions").read_text()
    lines = text.split("\n")
    assert lines[:2] == ["V\t2", ""], text
    assert "Foo" in lines and "A\tB" in lines, text
    expect(r, "UNSUBSCRIBE Foo")
    got, _ = expect(r, 'LSUB "" "*"')
    assert "Foo" not in names(got, b"LSUB"), got
    assert "Foo" not in (s.home(ALICE) / "Maildir" /
                         "subscriptions").read_text().split("\n")
    expect(r, "UNSUBSCRIBE Foo", ("OK", "NO"))    # twice: harmless
    # A missing mailbox: refused (Dovecot) or allowed (RFC 3501 6.3.6
    # lets a server keep it); never an error of syntax.
    expect(r, "SUBSCRIBE Nope", ("OK", "NO"))
    expect(r, "UNSUBSCRIBE Nope", ("OK", "NO"))
    # A subscription survives the session and a restart.
    expect(r, "SUBSCRIBE Lone")
    r.close()
    if not REFERENCE:
        s.restart()
    M = login(s)
    typ, data = M.lsub()
    assert typ == "OK", data
    got = names([b"* LSUB " + d for d in data if d], b"LSUB")
    assert {"Lone", "A.B"} <= got and "Foo" not in got, got
    M.logout()
    s.stop()


def test_lsub_parents_of_a_deep_subscription(srv):
    """Only the leaf of a chain is subscribed, beside 40 subscribed
    siblings: LSUB "%" at each level shows the parent \\Noselect (RFC
    3501 6.3.9), "*" the leaf alone; RECURSIVEMATCH gives each parent
    CHILDINFO, with RETURN (STATUS) too (RFC 5258 3.5, RFC 5819)."""
    s = srv()
    r = Raw(s)
    r.login()
    chain = ["D1", "D1.D2", "D1.D2.D3", "D1.D2.D3.D4"]
    for name in chain:
        expect(r, f"CREATE {name}")
    for i in range(40):
        expect(r, f"CREATE D1.S{i:02d}")
        expect(r, f"SUBSCRIBE D1.S{i:02d}")
    expect(r, "SUBSCRIBE D1.D2.D3.D4")
    for parent, child in zip(chain, chain[1:]):
        pat = parent.rsplit(".", 1)[0] + ".%" if "." in parent else "%"
        got, _ = expect(r, f'LSUB "" "{pat}"')
        lsub = list_map(got, b"LSUB")
        if parent in lsub or not REFERENCE:
            assert "\\NOSELECT" in lsub[parent], (pat, lsub)
        assert child not in lsub, (pat, lsub)
    got, _ = expect(r, 'LSUB "" "D1.D2.D3.%"')
    lsub = list_map(got, b"LSUB")
    assert "\\NOSELECT" not in lsub["D1.D2.D3.D4"], lsub
    got, _ = expect(r, 'LSUB "" "*"')
    subs = names(got, b"LSUB")
    assert "D1.D2.D3.D4" in subs and not {"D1", "D1.D2"} & subs, got
    for ret in ("", " RETURN (STATUS (MESSAGES))"):
        got, _ = expect(r, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "D1.%"'
                        + ret)
        boxes = list_map(got)
        ext = boxes.get(("D1.D2", "EXT"))
        assert ext and text(ext[0]).upper() == "CHILDINFO", (ret, got)
        assert {f"D1.S{i:02d}" for i in range(40)} <= set(boxes), got
    r.close()
    s.stop()


@pytest.mark.parametrize("name", ["New", "TMP", "Cur", "a.Tmp", "NeW.x"])
def test_maildir_names_in_other_cases(srv, name):
    """Only "tmp", "new" and "cur" as written are Maildir's own names:
    the same in another case is an ordinary folder, as Dovecot 2.3
    takes them (its internal names are compared with strcmp)."""
    s = srv()
    r = Raw(s)
    r.login()
    expect(r, f'CREATE "{name}"')
    got, _ = expect(r, f'LIST "" "{name}"')
    assert names(got) == {name}, got
    assert folder_dir(s, name).is_dir()
    expect(r, f'SELECT "{name}"')
    r.close()
    s.stop()


# --- 4. LIST ---------------------------------------------------------------


def tree(r):
    for name in ("A", "A.B", "A.B.C", "A.D", "Other"):
        expect(r, f"CREATE {name}")


def test_list_patterns_and_children(srv):
    s = srv()
    r = Raw(s)
    r.login()
    tree(r)
    every = {"INBOX", "A", "A.B", "A.B.C", "A.D", "Other"} | set(SPECIAL)
    got, _ = expect(r, 'LIST "" "*"')
    boxes = list_map(got)
    assert set(boxes) == every, boxes
    # Each line: (attrs) "." name.
    for line in got:
        assert re.match(rb'\* LIST \([^)]*\) "\." ', line), line
    assert "\\HASCHILDREN" in boxes["A"] and "\\HASCHILDREN" in \
        boxes["A.B"]
    for leaf in ("A.B.C", "A.D", "Other", "INBOX"):
        assert "\\HASNOCHILDREN" in boxes[leaf], (leaf, boxes[leaf])
    got, _ = expect(r, 'LIST "" "%"')
    assert names(got) == {"INBOX", "A", "Other"} | set(SPECIAL), got
    got, _ = expect(r, 'LIST "" "A.%"')
    assert names(got) == {"A.B", "A.D"}, got
    got, _ = expect(r, 'LIST "" "A.*"')
    assert names(got) == {"A.B", "A.B.C", "A.D"}, got
    got, _ = expect(r, 'LIST "" "*.C"')
    assert names(got) == {"A.B.C"}, got
    got, _ = expect(r, 'LIST "" "%.%"')
    assert names(got) == {"A.B", "A.D"}, got
    got, _ = expect(r, 'LIST "A." "%"')         # reference + pattern
    assert names(got) == {"A.B", "A.D"}, got
    got, _ = expect(r, 'LIST "" "inbox"')       # INBOX in any case
    assert names(got) == {"INBOX"}, got
    got, _ = expect(r, 'LIST "" "Nope*"')
    assert got == [], got
    # The empty pattern: the hierarchy delimiter and root.
    got, _ = expect(r, 'LIST "" ""')
    assert len(got) == 1 and re.match(
        rb'\* LIST \(\\Noselect\) "\." ""$', got[0], re.I), got
    # After DELETE of the only child, the parent has no children.
    expect(r, "DELETE A.D")
    expect(r, "DELETE A.B.C")
    got, _ = expect(r, 'LIST "" "A*"')
    boxes = list_map(got)
    assert "A.B" not in boxes or "\\HASNOCHILDREN" in boxes["A.B"], boxes
    r.close()
    s.stop()


def test_special_use_attributes(srv):
    s = srv()
    r = Raw(s)
    r.login()
    tree(r)
    for cmd in ('LIST "" "*"', 'LIST "" "*" RETURN (SPECIAL-USE)',
                'LIST "" "%" RETURN (SPECIAL-USE)'):
        got, _ = expect(r, cmd)
        boxes = list_map(got)
        for name, use in SPECIAL.items():
            assert use.upper() in boxes[name], (cmd, name, boxes[name])
        for name in ("INBOX", "A", "Other"):
            assert not boxes[name] & {u.upper() for u in
                                      SPECIAL.values()}, (cmd, name)
    # Selection option: only the special-use mailboxes (RFC 6154 3).
    got, _ = expect(r, 'LIST (SPECIAL-USE) "" "*"')
    boxes = list_map(got)
    assert set(boxes) == set(SPECIAL), boxes
    for name, use in SPECIAL.items():
        assert use.upper() in boxes[name], (name, boxes[name])
    got, _ = expect(r, 'LIST (SPECIAL-USE) "" "S*"')
    assert names(got) == {"Sent"}, got
    # LSUB carries them too (Dovecot does; clients look there).
    got, _ = expect(r, 'LSUB "" "*"')
    lsub = list_map(got, b"LSUB")
    assert "\\SENT" in lsub["Sent"], lsub
    r.close()
    M = login(s)            # imaplib: the same attributes
    typ, data = M.list('""', "*")
    assert typ == "OK"
    boxes = list_map([b"* LIST " + d for d in data if d])
    assert "\\DRAFTS" in boxes["Drafts"], boxes
    M.logout()
    s.stop()


def test_list_extended_selection_and_return(srv):
    """RFC 5258: (SUBSCRIBED), RECURSIVEMATCH, RETURN (SUBSCRIBED),
    RETURN (CHILDREN), several patterns."""
    s = srv()
    r = Raw(s)
    r.login()
    tree(r)
    expect(r, "SUBSCRIBE A.B.C")
    expect(r, "SUBSCRIBE Other")
    expect(r, "SUBSCRIBE A.D")
    expect(r, "UNSUBSCRIBE A.D")
    got, _ = expect(r, 'LIST (SUBSCRIBED) "" "*"')
    boxes = list_map(got)
    want = {"A.B.C", "Other"} | set(SPECIAL)
    assert names(got) == want, boxes
    for name in want:
        assert "\\SUBSCRIBED" in boxes[name], (name, boxes)
    # Subscribed but gone: listed with \NonExistent (RFC 5258 3.1).
    expect(r, "DELETE Other")
    got, _ = expect(r, 'LIST (SUBSCRIBED) "" "*"')
    boxes = list_map(got)
    assert "\\SUBSCRIBED" in boxes["Other"], boxes
    assert "\\NONEXISTENT" in boxes["Other"], boxes
    expect(r, "UNSUBSCRIBE Other")
    # RETURN (SUBSCRIBED): every mailbox, the subscribed ones marked.
    got, _ = expect(r, 'LIST "" "*" RETURN (SUBSCRIBED)')
    boxes = list_map(got)
    assert {"INBOX", "A.B.C", "A.D", "Junk"} <= set(boxes), boxes
    assert "\\SUBSCRIBED" in boxes["A.B.C"] and \
        "\\SUBSCRIBED" in boxes["Sent"], boxes
    assert "\\SUBSCRIBED" not in boxes["A.D"], boxes
    assert "\\SUBSCRIBED" not in boxes["A"], boxes
    # RETURN (CHILDREN).
    got, _ = expect(r, 'LIST "" "*" RETURN (CHILDREN)')
    boxes = list_map(got)
    assert "\\HASCHILDREN" in boxes["A"], boxes
    assert "\\HASNOCHILDREN" in boxes["A.D"], boxes
    # RECURSIVEMATCH: A.B is not subscribed but its child is:
    # CHILDINFO ("SUBSCRIBED") (RFC 5258 3.5).
    got, _ = expect(r, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "A.%"')
    boxes = list_map(got)
    assert "A.B" in boxes, boxes
    ext = boxes.get(("A.B", "EXT"))
    assert ext and text(ext[0]).upper() == "CHILDINFO" and \
        [text(x).upper() for x in ext[1]] == ["SUBSCRIBED"], (got, ext)
    assert "A.D" not in boxes, boxes
    # Several patterns at once.
    got, _ = expect(r, 'LIST "" ("INBOX" "A.%")')
    assert names(got) == {"INBOX", "A.B", "A.D"}, got
    # Nonsense options: BAD.
    expect(r, 'LIST (FROB) "" "*"', "BAD")
    expect(r, 'LIST "" "*" RETURN (FROB)', "BAD")
    expect(r, 'LIST (RECURSIVEMATCH) "" "*"', "BAD")   # alone: 3.
    r.close()
    s.stop()


def test_list_status(srv):
    """RFC 5819: LIST ... RETURN (STATUS (...)): a STATUS for each
    selectable mailbox, none for a \\Noselect one."""
    s = srv()
    put_messages(s, 3)
    s.put(mail("read"), folder="Sent", flags="S")
    s.put(mail("unread"), folder="Sent")
    r = Raw(s)
    r.login()
    expect(r, "CREATE A.B")
    got, _ = expect(r, 'LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT '
                       'UNSEEN))')
    st = status_map(got)
    boxes = list_map(got)
    assert set(st) == set(boxes) - {"A"}, (st, boxes)
    assert st["INBOX"] == {"MESSAGES": 3, "UIDNEXT": 4, "UNSEEN": 3}, st
    assert st["Sent"]["MESSAGES"] == 2 and st["Sent"]["UNSEEN"] == 1, st
    assert st["A.B"] == {"MESSAGES": 0, "UIDNEXT": 1, "UNSEEN": 0}, st
    # Each STATUS follows its LIST line.
    for i, line in enumerate(got):
        if line.upper().startswith(b"* STATUS "):
            prev = got[i - 1]
            assert prev.upper().startswith(b"* LIST "), got
    # Combined with a selection option and other return options.
    got, _ = expect(r, 'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN '
                       'STATUS (MESSAGES))')
    st = status_map(got)
    assert st["Sent"] == {"MESSAGES": 2}, st
    boxes = list_map(got)
    assert set(st) <= set(boxes), (st, boxes)     # only those listed
    assert all("\\SUBSCRIBED" in boxes[b] for b in st), boxes
    expect(r, 'LIST "" "*" RETURN (STATUS (MESSAGES FOO))', "BAD")
    r.close()
    s.stop()


# --- 5. modified UTF-7 ---------------------------------------------------


def test_modified_utf7_names(srv):
    """RFC 3501 5.1.3: names travel in modified UTF-7 and are stored so
    (Dovecot's Maildir++ keeps them so on disk: .&AOQ-pfel)."""
    s = srv()
    r = Raw(s)
    r.login()
    for name in ("&AOQ-pfel", "A&-B", "Stra&AN8-e.&ZeVnLIqe-",
                 "&2D3eAA-"):                   # U+1F600, a surrogate pair
        expect(r, f'CREATE "{name}"')
        assert folder_dir(s, name).is_dir(), name
        got, _ = expect(r, f'LIST "" "{name}"')
        assert names(got) == {name}, got
        expect(r, f'SELECT "{name}"')
        expect(r, "CLOSE")
    got, _ = expect(r, 'LIST "" "Stra&AN8-e.%"')
    assert names(got) == {"Stra&AN8-e.&ZeVnLIqe-"}, got
    # Not valid modified UTF-7: refused, nothing created.
    for bad in ("&Jjo", "&AOQ", "&AGE-", "&AOQAOQ-x&"):
        expect(r, f'CREATE "{bad}"', ("NO", "BAD"))
        assert not folder_dir(s, bad).exists(), bad
    # imaplib with a name it must quote.
    M = login(s)
    assert M.create('"&AOQ- mit Leerzeichen"')[0] == "OK"
    typ, data = M.list('""', '"&AOQ- mit*"')
    assert typ == "OK" and b"&AOQ- mit Leerzeichen" in data[0], data
    M.logout()
    r.close()
    s.stop()


# --- 6. APPEND ------------------------------------------------------------


def internaldate(v):
    """A FETCH INTERNALDATE value -> seconds since the epoch."""
    t = imaplib.Internaldate2tuple(b'INTERNALDATE "' + bytes(v) + b'"')
    assert t, v
    return time.mktime(t)


def appenduid(line):
    """(uidvalidity, [uids]) from a line with [APPENDUID v set]."""
    m = re.search(rb"\[APPENDUID (\d+) ([0-9:,]+)\]", line)
    assert m, line
    return int(m.group(1)), uid_set(m.group(2).decode())


def folder_files(s, name):
    d = s.home(ALICE) / "Maildir"
    if name != "INBOX":
        d = d / ("." + name)
    return sorted(p for sub in ("cur", "new") for p in (d / sub).iterdir())


def test_append_flags_date_literals_appenduid(srv):
    s = srv()
    one = crlf(mail("appended one", "first\n"))
    two = crlf(mail("appended two", "second\n"))
    three = crlf(mail("appended three", "third\n"))
    # imaplib: a synchronizing literal, flags and a date-time.
    M = login(s)
    typ, data = M.append("Sent", r"(\Seen $Work)",
                         '"05-Mar-2024 10:11:12 +0100"', one)
    assert typ == "OK", data
    validity, uids = appenduid(b"x OK " + data[0])
    assert len(uids) == 1
    M.logout()
    r = Raw(s)
    r.login()
    # By hand: {n} waits for "+", {n+} (LITERAL+) does not.
    tag = r.tag()
    r.send(f'{tag} APPEND Sent (\\Draft) {{{len(two)}}}\r\n')
    assert r.line().startswith(b"+"), "no continuation"
    r.send(two + b"\r\n")
    got, tagged = r.until(tag)
    v2, uids2 = appenduid(tagged)
    tag = r.tag()
    r.send(f"{tag} APPEND Sent () {{{len(three)}+}}\r\n".encode() +
           three + b"\r\n")
    got, tagged = r.until(tag)
    assert not any(g.startswith(b"+") for g in got), got
    v3, uids3 = appenduid(tagged)
    assert validity == v2 == v3, (validity, v2, v3)
    assert uids[0] < uids2[0] < uids3[0], (uids, uids2, uids3)
    # What SELECT and FETCH say.
    got, _ = expect(r, "SELECT Sent")
    joined_ = b" ".join(got)
    assert b"* 3 EXISTS" in got, got
    assert f"[UIDVALIDITY {validity}]".encode() in joined_, got
    assert f"[UIDNEXT {uids3[0] + 1}]".encode() in joined_, got
    got, _ = expect(r, "UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])")
    res = {int(v["UID"]): v for v in fetch_map(got).values()}
    assert sorted(res) == [uids[0], uids2[0], uids3[0]]
    f1 = {f.upper() for f in res[uids[0]]["FLAGS"]} - {"\\RECENT"}
    assert f1 == {"\\SEEN", "$WORK"}, f1
    assert {f.upper() for f in res[uids2[0]]["FLAGS"]} - {"\\RECENT"} \
        == {"\\DRAFT"}
    assert {f.upper() for f in res[uids3[0]]["FLAGS"]} - {"\\RECENT"} \
        == set()
    assert internaldate(res[uids[0]]["INTERNALDATE"]) == \
        time.mktime(imaplib.Internaldate2tuple(
            b'INTERNALDATE "05-Mar-2024 10:11:12 +0100"'))
    assert abs(internaldate(res[uids3[0]]["INTERNALDATE"]) -
               time.time()) < 120 * SLOW
    assert res[uids[0]]["BODY[]"] == one
    assert res[uids2[0]]["BODY[]"] == two
    assert res[uids3[0]]["BODY[]"] == three
    # Durable before the OK: the files are there, flags in the names.
    files = folder_files(s, "Sent")
    assert len(files) == 3, files
    bodies = {p.read_bytes().replace(b"\r\n", b"\n"): p for p in files}
    assert one.replace(b"\r\n", b"\n") in bodies
    p1 = bodies[one.replace(b"\r\n", b"\n")]
    assert ":2," in p1.name and "S" in p1.name.split(":2,")[1], p1
    # APPEND to the selected mailbox: EXISTS comes (now or at NOOP).
    tag = r.tag()
    r.send(f"{tag} APPEND Sent {{{len(one)}+}}\r\n".encode() + one +
           b"\r\n")
    got, _ = r.until(tag)
    got2, _ = expect(r, "NOOP")
    assert b"* 4 EXISTS" in got + got2, (got, got2)
    # Syntax errors: BAD.
    expect(r, 'APPEND Sent "32-Foo-2024 99:00:00 +0000" {1+}\r\nx', "BAD")
    expect(r, "APPEND Sent (\\Seen", "BAD")
    r.close()
    s.stop()


def test_multiappend(srv):
    """RFC 3502: several messages in one APPEND, all or none;
    APPENDUID with the UIDs of all of them (RFC 4315 3)."""
    s = srv()
    a = crlf(mail("multi a"))
    b = crlf(mail("multi b"))
    c = crlf(mail("multi c"))
    r = Raw(s)
    r.login()
    tag = r.tag()
    r.send(f"{tag} APPEND Drafts (\\Seen) {{{len(a)}+}}\r\n".encode() + a +
           f' (\\Draft) "01-Feb-2024 08:00:00 +0000" {{{len(b)}+}}\r\n'
           .encode() + b + f" {{{len(c)}+}}\r\n".encode() + c + b"\r\n")
    _, tagged = r.until(tag)
    validity, uids = appenduid(tagged)
    assert len(uids) == 3 and uids == sorted(uids), uids
    M = login(s)
    subs = subjects(M, "Drafts")
    assert [subs[u] for u in uids] == ["multi a", "multi b", "multi c"]
    fl = fetch(M, "1:*", "(UID FLAGS)", uid=False)
    flags = {int(v["UID"]): {f.upper() for f in v["FLAGS"]} - {"\\RECENT"}
             for v in fl.values()}
    assert flags == {uids[0]: {"\\SEEN"}, uids[1]: {"\\DRAFT"},
                     uids[2]: set()}, flags
    M.logout()
    # One of them too big: none is appended (and no "+" for it).
    tag = r.tag()
    r.send(f"{tag} APPEND Drafts {{{len(a)}+}}\r\n".encode() + a +
           f" {{{LIMIT + 1}}}\r\n".encode())
    line = r.line()
    assert not line.startswith(b"+"), line
    while line.startswith(b"* "):
        line = r.line()
    res, _, text_ = tagged_code(line)
    assert res in ("NO", "BAD") and line.startswith(tag.encode()), line
    expect(r, "NOOP")
    got, _ = expect(r, "STATUS Drafts (MESSAGES)")
    assert status_map(got)["Drafts"]["MESSAGES"] == 3, got
    # To a missing mailbox: TRYCREATE, none appended.
    tag = r.tag()
    r.send(f"{tag} APPEND Nope {{{len(a)}+}}\r\n".encode() + a +
           f" {{{len(b)}+}}\r\n".encode() + b + b"\r\n")
    _, tagged = r.until(tag, expect=None)
    assert tagged_code(tagged)[:2] == ("NO", "TRYCREATE"), tagged
    r.close()
    s.stop()


def test_append_over_limit_refused_before_the_literal(srv):
    s = srv()
    r = Raw(s)
    r.login()
    # A synchronizing literal over message_size_limit: the tagged
    # refusal comes instead of "+"; nothing of the literal is read.
    r.send(f"a1 APPEND Sent {{{LIMIT + 1}}}\r\n")
    line = r.line()
    assert not line.startswith(b"+"), line
    res, code, text_ = tagged_code(line)
    assert line.startswith(b"a1 ") and res in ("NO", "BAD"), line
    assert text_.strip(), line
    if res == "NO":         # RFC 7889 says TOOBIG; Dovecot says LIMIT
        assert code in ("TOOBIG", "LIMIT"), line
    expect(r, "NOOP")       # the next line is a command again
    r.send("a2 APPEND Sent {5000000000}\r\n")           # absurd
    line = r.line()
    assert line.startswith(b"a2 ") and not line.startswith(b"+"), line
    expect(r, "NOOP")
    # Just under the limit: accepted.
    body = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * \
        ((LIMIT - 2000) // 1000)
    assert len(body) < LIMIT
    tag = r.tag()
    r.send(f"{tag} APPEND Sent {{{len(body)}}}\r\n")
    assert r.line().startswith(b"+")
    r.send(body + b"\r\n")
    _, tagged = r.until(tag)
    got, _ = expect(r, "STATUS Sent (MESSAGES)")
    assert status_map(got)["Sent"]["MESSAGES"] == 1, got
    # A non-synchronizing literal over the limit (RFC 7888 4): refused;
    # the server then reads and drops it or closes the connection.
    try:
        # A server that closes may do so while the literal is still
        # being sent: the send then meets a reset (ASan builds often).
        r.send(f"a3 APPEND Sent {{{LIMIT + 1}+}}\r\n".encode() +
               b"y" * (LIMIT + 1) + b"\r\n")
        lines = []
        while True:
            line = r.line()
            lines.append(line)
            if line.startswith(b"a3 ") or line.startswith(b"* BYE"):
                break
        assert re.match(rb"(a3 (NO|BAD)|\* BYE)", lines[-1]), lines
        if lines[-1].startswith(b"a3 "):
            expect(r, "NOOP")
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass
    r.close()
    M = login(s)
    assert subjects(M, "Sent") == {1: "big"} or \
        list(subjects(M, "Sent").values()) == ["big"]
    M.logout()
    s.stop()


def test_append_to_a_missing_mailbox_is_trycreate(srv):
    s = srv()
    m = crlf(mail("nowhere"))
    M = login(s)
    typ, data = M.append("Nope", None, None, m)
    assert typ == "NO" and b"[TRYCREATE]" in data[0], data
    assert not folder_dir(s, "Nope").exists()
    # What a client does next (RFC 3501 6.3.11): CREATE, then again.
    assert M.create("Nope")[0] == "OK"
    typ, data = M.append("Nope", None, None, m)
    assert typ == "OK", data
    assert list(subjects(M, "Nope").values()) == ["nowhere"]
    M.logout()
    s.stop()


# --- 7. COPY, MOVE, UIDPLUS ------------------------------------------------


def copyuid(line):
    """(uidvalidity, [source uids], [dest uids]) of [COPYUID v s d]."""
    m = re.search(rb"\[COPYUID (\d+) ([0-9:,]+) ([0-9:,]+)\]", line)
    assert m, line
    src, dst = uid_set(m.group(2).decode()), uid_set(m.group(3).decode())
    assert len(src) == len(dst), line
    return int(m.group(1)), src, dst


def inodes(s, name):
    return {p.stat().st_ino for p in folder_files(s, name)}


def test_copy_copyuid_order_and_hard_links(srv):
    s = srv()
    put_messages(s, 5)
    M = login(s, select="INBOX")
    assert M.uid("STORE", "2", "+FLAGS", r"(\Flagged $Work)")[0] == "OK"
    src_inodes = inodes(s, "INBOX")
    # UID COPY with the source set out of order: each source UID pairs
    # with the destination UID at the same place (RFC 4315 3).
    # (imaplib's uid() keeps untagged data only: the tagged line's
    # COPYUID comes back from _simple_command.)
    typ, data = status(M, "UID", "COPY", "5,2,4", "Archive")
    assert typ == "OK", data
    validity, src, dst = copyuid(b"x OK " + data[0])
    assert sorted(src) == [2, 4, 5], src
    orig = subjects(M, "INBOX")
    copied = subjects(M, "Archive")
    assert {u: copied[d] for u, d in zip(src, dst)} == \
        {u: orig[u] for u in src}, (src, dst, copied)
    typ, data = M.select("Archive")
    assert int(M.response("UIDVALIDITY")[1][0]) == validity
    fl = {int(v["UID"]): {f.upper() for f in v["FLAGS"]}
          for v in fetch(M, "1:*", "(UID FLAGS)").values()}
    assert {"\\FLAGGED", "$WORK"} <= fl[dst[src.index(2)]], fl
    # One inode, no second write (hard links on this file system).
    assert inodes(s, "Archive") <= src_inodes
    # COPY by sequence numbers; the source is unchanged.
    M.select("INBOX")
    typ, data = M.copy("1:2", "Trash")
    assert typ == "OK", data
    _, src, dst = copyuid(b"x OK " + data[0])
    assert src == [1, 2] and len(dst) == 2, (src, dst)
    assert sorted(subjects(M, "Trash").values()) == ["m0", "m1"]
    assert len(subjects(M, "INBOX")) == 5
    # A copy into the selected mailbox itself.
    typ, data = status(M, "UID", "COPY", "1", "INBOX")
    assert typ == "OK", data
    _, src, dst = copyuid(b"x OK " + data[0])
    assert dst[0] >= 6
    M.logout()
    s.stop()


def test_copy_and_move_refusals(srv):
    s = srv()
    put_messages(s, 3)
    r = Raw(s)
    r.login()
    # Not in the selected state: BAD.
    expect(r, "COPY 1 Trash", "BAD")
    expect(r, "MOVE 1 Trash", "BAD")
    expect(r, "UID EXPUNGE 1", "BAD")
    expect(r, "SELECT INBOX")
    expect(r, "COPY 1 Nope", "NO", "TRYCREATE")
    expect(r, "UID COPY 1:3 Nope", "NO", "TRYCREATE")
    expect(r, "MOVE 1 Nope", "NO", "TRYCREATE")
    expect(r, "UID MOVE 1 Nope", "NO", "TRYCREATE")
    assert not folder_dir(s, "Nope").exists()
    got, _ = expect(r, "NOOP")
    assert not any(b"EXPUNGE" in g for g in got), got
    expect(r, "COPY 99 Trash", "BAD")       # no such message number
    expect(r, "COPY x Trash", "BAD")
    expect(r, "COPY 1", "BAD")
    # UIDs that do not exist: nothing to do, OK (RFC 3501 6.4.8).
    got, tagged = expect(r, "UID COPY 99 Trash")
    assert b"COPYUID" not in tagged, tagged
    # A read-only mailbox: COPY is fine; MOVE cannot expunge (RFC 3501
    # 6.3.2: no change to the mailbox; Dovecot 2.3 moves all the same).
    expect(r, "EXAMINE INBOX")
    expect(r, "COPY 1 Trash")
    got, _ = expect(r, "STATUS Trash (MESSAGES)")
    assert status_map(got)["Trash"]["MESSAGES"] == 1, got
    if not REFERENCE:
        expect(r, "MOVE 1 Trash", "NO")
        got, _ = expect(r, "STATUS Trash (MESSAGES)")
        assert status_map(got)["Trash"]["MESSAGES"] == 1, got
        assert len(folder_files(s, "INBOX")) == 3
    r.close()
    s.stop()


def test_move_and_uid_move(srv):
    """RFC 6851: COPYUID in an untagged OK before the EXPUNGEs, the
    messages gone from the source, the file moved (one inode)."""
    s = srv()
    put_messages(s, 5)
    r = Raw(s)
    r.login()
    expect(r, "SELECT INBOX")
    expect(r, "UID STORE 4 +FLAGS (\\Seen \\Answered)")
    before = {p.stat().st_ino for p in folder_files(s, "INBOX")}
    got, tagged = expect(r, "UID MOVE 4,1 Trash")
    cu = [g for g in got if b"[COPYUID " in g]
    assert len(cu) == 1 or b"[COPYUID " in tagged, (got, tagged)
    validity, src, dst = copyuid(cu[0] if cu else tagged)
    assert sorted(src) == [1, 4], src
    exp = [g for g in got if re.match(rb"\* \d+ EXPUNGE", g)]
    assert len(exp) == 2, got
    if cu:
        assert got.index(cu[0]) < got.index(exp[0]), got
    # Sequence numbers shift as each EXPUNGE says: 4 then 1, or 1 then 3.
    assert [int(g.split()[1]) for g in exp] in ([4, 1], [1, 3]), exp
    got, _ = expect(r, "UID SEARCH ALL")
    assert got == [b"* SEARCH 2 3 5"], got
    r.close()
    M = login(s)
    trash = subjects(M, "Trash")
    assert {u: trash[d] for u, d in zip(src, dst)} == \
        {1: "m0", 4: "m3"}, (src, dst, trash)
    M.select("Trash")
    fl = {int(v["UID"]): {f.upper() for f in v["FLAGS"]}
          for v in fetch(M, "1:*", "(UID FLAGS)").values()}
    assert {"\\SEEN", "\\ANSWERED"} <= fl[dst[src.index(4)]], fl
    assert inodes(s, "Trash") <= before
    assert len(folder_files(s, "INBOX")) == 3
    # MOVE by sequence number (imaplib has no move(): _simple_command).
    M.select("INBOX")
    typ, data = status(M, "MOVE", "1", "Junk")
    assert typ == "OK", data
    assert sorted(subjects(M, "Junk").values()) == ["m1"]
    assert sorted(subjects(M, "INBOX").values()) == ["m2", "m4"]
    # MOVE within the same mailbox is refused or a no-op, never a loss.
    M.select("INBOX")
    typ, data = status(M, "MOVE", "1", "INBOX")
    assert typ in ("OK", "NO"), data
    assert len(subjects(M, "INBOX")) == 2
    M.logout()
    s.stop()


def test_uid_expunge(srv):
    """RFC 4315 2.1: only the \\Deleted messages in the UID set go."""
    s = srv()
    put_messages(s, 5)
    r = Raw(s)
    r.login()
    expect(r, "SELECT INBOX")
    expect(r, "STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    got, _ = expect(r, "UID EXPUNGE 2,5")
    assert [g for g in got if b"EXPUNGE" in g] == [b"* 2 EXPUNGE"], got
    got, _ = expect(r, "UID SEARCH DELETED")
    assert got == [b"* SEARCH 1 3"], got
    got, _ = expect(r, "UID SEARCH ALL")
    assert got == [b"* SEARCH 1 3 4 5"], got
    assert len(folder_files(s, "INBOX")) == 4
    got, _ = expect(r, "UID EXPUNGE 1:*")
    assert sorted(int(g.split()[1]) for g in got if b"EXPUNGE" in g) \
        in ([1, 1], [1, 2]), got
    got, _ = expect(r, "UID SEARCH ALL")
    assert got == [b"* SEARCH 4 5"], got
    expect(r, "UID EXPUNGE x", "BAD")
    # Read-only: nothing is expunged (NO, or an OK that does nothing).
    expect(r, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    expect(r, "EXAMINE INBOX")
    got, _ = expect(r, "UID EXPUNGE 4", ("OK", "NO"))
    assert not any(b"EXPUNGE" in g for g in got), got
    assert len(folder_files(s, "INBOX")) == 2
    r.close()
    s.stop()


# --- 8. names cannot escape --------------------------------------------


TOKEN = f"esc{os.getpid()}x{int(time.time()) % 100000}"

# (name as bytes, Dovecot 2.3 refuses it too, the response code of the
# refused CREATE and RENAME). Every one must be refused by wren with NO
# and a text; [CANNOT] (RFC 5530: can never succeed) where Dovecot
# says so, or [LIMIT] for a length or depth over a bound (Dovecot says
# CANNOT), and for the names only wren refuses: Dovecot (Maildir++
# with ".") accepts "tmp", "new" and "cur" (they become .tmp etc.) and
# any depth within its length limit. Control characters and 8-bit
# octets: NO (Dovecot: "not valid mUTF-7", no code) or BAD.
BAD_NAMES = [
    (b"..", True, ("CANNOT",)),
    (b"../" + TOKEN.encode(), True, ("CANNOT",)),
    (b"../../" + TOKEN.encode(), True, ("CANNOT",)),
    (b"Sent/../../" + TOKEN.encode(), True, ("CANNOT",)),
    (b"/tmp/" + TOKEN.encode(), True, ("CANNOT",)),
    (b"/etc", True, ("CANNOT",)),
    (b"~root", True, ("CANNOT",)),
    (b"~/" + TOKEN.encode(), True, ("CANNOT",)),
    (b"a/b", True, ("CANNOT",)),
    (b".hidden", True, ("CANNOT",)),
    (b"a..b", True, ("CANNOT",)),
    (b"a\x01b", True, None),
    (b"a\tb", True, None),
    (b"a\x7fb", True, None),
    (b"a\x1b[31mred", True, None),
    (b"tmp", False, ("CANNOT",)),
    (b"new", False, ("CANNOT",)),
    (b"cur", False, ("CANNOT",)),
    ("\u00e4pfel".encode(), True, None),    # 8-bit: UTF-8, not mUTF-7
    (b"\xe4pfel", True, None),              # 8-bit: Latin-1
    (b"\xff\xfe", True, None),
    (b"x" * 300, True, ("CANNOT", "LIMIT")),        # over-long
    (b"y" * 5000, True, ("CANNOT", "LIMIT")),
    (b".".join([b"d"] * 120), False, ("CANNOT", "LIMIT")),  # over-deep
    (b".".join([b"e"] * 40), False, ("CANNOT", "LIMIT")),
]


def astring(name):
    """A name as a non-synchronizing literal (RFC 7888) when it cannot
    be quoted, else quoted."""
    if re.fullmatch(rb'[\x20-\x7e]*', name) and b'"' not in name and \
            b"\\" not in name:
        return b'"' + name + b'"'
    return b"{%d+}\r\n" % len(name) + name


def escape_roots(s):
    """The directories whose trees must not change: the test's own
    tree (both accounts' homes, wren's data) and the mail root."""
    return [s.w.dir.parent, s.mail_root]


def escaped_anywhere():
    """Files named with TOKEN where an escape would have put them."""
    found = []
    for d in ("/", "/tmp", "/etc", "/root", os.getcwd()):
        try:
            found += [os.path.join(d, n) for n in os.listdir(d)
                      if TOKEN in n]
        except OSError:
            pass
    return found


@pytest.mark.parametrize("name,dovecot_refuses,code", BAD_NAMES,
                         ids=[repr(n[:24]) for n, _, _ in BAD_NAMES])
def test_names_cannot_escape(srv, name, dovecot_refuses, code):
    s = srv()
    msg = crlf(mail("escapee"))
    r = Raw(s)
    r.login()
    expect(r, "CREATE Src")
    got, _ = expect(r, 'LIST "" "*"')
    listed = names(got)
    expect(r, "SELECT INBOX")
    expect(r, "CLOSE")
    before = [snapshot(d) for d in escape_roots(s)]
    must = not (REFERENCE and not dovecot_refuses)
    arg = astring(name)
    for cmd in (b"CREATE " + arg, b"RENAME Src " + arg,
                b"APPEND " + arg + b" {%d+}\r\n" % len(msg) + msg):
        got, tagged = r.cmd(cmd, expect=None)
        res, c, text_ = tagged_code(tagged)
        if must:
            # NO, or BAD where the name is not even valid syntax for
            # the server (8-bit in a quoted string cannot happen here:
            # those go as literals).
            assert res in ("NO", "BAD"), (cmd[:60], tagged)
            assert len(text_.strip()) >= 4, ("no clear text", tagged)
            if code and not cmd.startswith(b"APPEND"):
                assert res == "NO" and c in code, (cmd[:60], tagged)
        if res != "OK":
            assert c not in ("SERVERBUG",), tagged
    if must:
        for cmd in (b"SELECT " + arg, b"DELETE " + arg, b"STATUS " + arg +
                    b" (MESSAGES)"):
            got, tagged = r.cmd(cmd, expect=None)
            assert tagged_code(tagged)[0] in ("NO", "BAD"), (cmd[:60],
                                                             tagged)
        got, _ = expect(r, 'LIST "" "*"')
        assert names(got) == listed, got
        after = [snapshot(d) for d in escape_roots(s)]
        for b, a, d in zip(before, after, escape_roots(s)):
            assert a == b, (d, sorted(a ^ b)[:20])
    assert not escaped_anywhere(), escaped_anywhere()
    expect(r, "NOOP")       # the session goes on
    r.close()
    s.stop()


# --- 9. other sessions see what APPEND, COPY and MOVE did -----------------


NOTIFY = 2 * SLOW           # SPEC 5: within 2 seconds


def idle_until(r, tag_re, timeout=NOTIFY):
    """Reads untagged lines of an IDLE session until one matches."""
    seen = []
    deadline = time.monotonic() + timeout + 1
    while True:
        left = deadline - time.monotonic()
        assert left > 0, (tag_re, seen)
        r.sock.settimeout(left)
        try:
            line = r.line()
        except (TimeoutError, OSError):
            raise AssertionError((tag_re, seen))
        seen.append(line)
        if re.search(tag_re, line):
            r.sock.settimeout(10 * SLOW)
            return seen


def noop_until(r, pattern, timeout=NOTIFY):
    seen = []
    deadline = time.monotonic() + timeout + 1
    while True:
        got, _ = expect(r, "NOOP")
        seen += got
        if any(re.search(pattern, g) for g in got):
            return seen
        assert time.monotonic() < deadline, (pattern, seen)
        time.sleep(0.1)


def test_other_sessions_see_append_copy_move(srv):
    """The sessions on a folder other than INBOX hear of what another
    session did there: APPEND and COPY (EXISTS), MOVE out (EXPUNGE),
    flags (FETCH), in IDLE or at the next NOOP."""
    s = srv()
    put_messages(s, 3)
    s.put(mail("old sent"), folder="Sent")
    idler = Raw(s)
    idler.login()
    expect(idler, "SELECT Trash")
    tag = idler.tag()
    idler.send(f"{tag} IDLE\r\n")
    assert idler.line().startswith(b"+")
    watcher = Raw(s)                    # on INBOX, polling
    watcher.login()
    expect(watcher, "SELECT INBOX")
    sent = Raw(s)                       # on Sent, polling
    sent.login()
    expect(sent, "SELECT Sent")
    actor = Raw(s)
    actor.login()
    expect(actor, "SELECT INBOX")
    # MOVE INBOX -> Trash: the idler sees EXISTS, the watcher EXPUNGE.
    expect(actor, "UID MOVE 2 Trash")
    idle_until(idler, rb"^\* 1 EXISTS")
    noop_until(watcher, rb"^\* 2 EXPUNGE")
    # COPY into Trash: another EXISTS for the idler.
    expect(actor, "UID COPY 1 Trash")
    idle_until(idler, rb"^\* 2 EXISTS")
    # APPEND to Sent: the session on Sent sees it.
    m = crlf(mail("new sent"))
    tag2 = actor.tag()
    actor.send(f"{tag2} APPEND Sent (\\Seen) {{{len(m)}+}}\r\n".encode() +
               m + b"\r\n")
    actor.until(tag2)
    noop_until(sent, rb"^\* 2 EXISTS")
    # Flags changed in Sent by another session: FETCH FLAGS.
    expect(actor, "SELECT Sent")
    expect(actor, "STORE 1 +FLAGS (\\Flagged)")
    noop_until(sent, rb"^\* 1 FETCH \(.*\\Flagged")
    idler.send("DONE\r\n")
    idler.until(tag)
    for r in (idler, watcher, sent, actor):
        r.close()
    s.stop()


def test_list_references_and_patterns_cannot_escape(srv):
    """LIST and LSUB with references or patterns that point outside the
    account (RFC 3501 6.3.8 lets a server interpret a reference; this
    one must never leave the account's Maildir): nothing but the
    account's own mailboxes, never bob's."""
    s = srv()
    s.put(mail("bob's secret"), user=BOB, folder="BobSecret")
    r = Raw(s)
    r.login()
    got, _ = expect(r, 'LIST "" "*"')
    own = names(got)
    for ref, pat in (("..", "*"), ("../", "*"), ("../../", "*"),
                     ("/", "*"), ("/etc/", "*"), ("~root/", "*"),
                     ("~/", "*"), ("~bob@example.test/", "*"),
                     ("", "../*"), ("", "/*"), ("", "~*"), (".", "*"),
                     ("", "%/%"), ("", "../bob/*"),
                     ("../bob/Maildir/", "*")):
        for verb in (b"LIST", b"LSUB"):
            got, tagged = r.cmd(f'{verb.decode()} "{ref}" "{pat}"',
                                expect=None)
            assert tagged_code(tagged)[0] in ("OK", "NO", "BAD"), tagged
            listed = names(got, verb)
            assert listed <= own, (ref, pat, listed)
            assert not any(b"BobSecret" in g for g in got), got
    for name in ("../bob/Maildir/.BobSecret", "~bob@example.test/BobSecret",
                 "../bob", "/" + str(s.home(BOB) / "Maildir")):
        for cmd in (f'SELECT "{name}"', f'STATUS "{name}" (MESSAGES)',
                    f'EXAMINE "{name}"'):
            expect(r, cmd, ("NO", "BAD"))
    r.close()
    s.stop()
