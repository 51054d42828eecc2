# SPDX-License-Identifier: ISC
"""Replays of what real mail clients send (issue 13: "a first login
that works"): Thunderbird, macOS Mail and iOS Mail at the first login on
a brand new account (no Maildir yet), when saving a sent message and a
draft, deleting to Trash, and waiting in IDLE. Raw tagged commands over
a socket (imaplib_helpers.Raw), each checked for its tagged OK and the
data the client relies on.

The sequences are written down from the clients' documented and
publicly logged behaviour, not captured here: Thunderbird's from its
IMAP protocol code (comm-central mailnews/imap/src/nsImapProtocol.cpp:
capability discovery, ID, the SPECIAL-USE and subscribed-folder LIST
discovery, SELECT, the UID FETCH of FLAGS then of the headers it
shows, APPEND with UIDPLUS, MOVE to Trash, IDLE), and Apple Mail's
(macOS and iOS) from the sequences mail server operators publish in
their logs (ID sent before authentication with the client's name and
OS, LIST "" "" for the delimiter, LIST with SPECIAL-USE, STATUS of
INBOX, APPEND with a date-time, replacing a draft by STORE \\Deleted
and UID EXPUNGE, MOVE to Trash; iOS Mail does not IDLE on plain IMAP
accounts, it polls, so its replay polls with NOOP). Details a client
varies between versions (the exact header list, upper or lower case
verbs) are kept as the client sends them where known.

Checked against Dovecot 2.3 with WREN_IMAP_REFERENCE=dovecot (see
test_imap_folders.py for the reference configuration).
"""
import re
import shutil
import time

from imaplib_helpers import (
    BOB, BOB_PW, CAROL, CAROL_PW, TIMEOUT, Raw, b64, crlf, fetch_map,
    mail)
from test_imap_folders import (
    SPECIAL, appenduid, list_map, names, start, status_map, tagged_code)
from test_imap_folders import pki, srv  # noqa: F401 (fixtures)

NOTIFY = 2 + 1          # SPEC 5: new mail reaches IDLE within 2 s


class Client:
    """A Raw session that talks like a client: its own tag style,
    synchronizing literals that wait for "+", checked replies."""

    def __init__(self, s, prefix):
        self.r = Raw(s)
        self.s = s
        self.prefix = prefix
        self.n = 0
        self.greeting = self.r.greeting

    def tag(self):
        self.n += 1
        return f"{self.prefix}{self.n}"

    def cmd(self, text, expect="OK"):
        """text: the command after the tag. Returns (untagged lines,
        tagged line)."""
        tag = self.tag()
        self.r.send(f"{tag} {text}\r\n")
        got, tagged = self.r.until(tag, expect=None)
        if expect:
            assert tagged_code(tagged)[0] == expect, (text, tagged, got)
        return got, tagged

    def append(self, box, flags, date, msg, literal_plus=False):
        """APPEND as clients send it: a synchronizing literal (wait for
        "+"), or LITERAL+ when the client uses it."""
        tag = self.tag()
        head = f"{tag} APPEND {box}"
        if flags is not None:
            head += f" ({flags})"
        if date:
            head += f' "{date}"'
        if literal_plus:
            self.r.send(f"{head} {{{len(msg)}+}}\r\n".encode() + msg +
                        b"\r\n")
        else:
            self.r.send(f"{head} {{{len(msg)}}}\r\n")
            line = self.r.line()
            assert line.startswith(b"+"), line
            self.r.send(msg + b"\r\n")
        got, tagged = self.r.until(tag, expect=None)
        assert tagged_code(tagged)[0] == "OK", (head, tagged)
        return got, tagged

    def authenticate_plain(self, user, pw, ir=True):
        if ir:
            return self.cmd("AUTHENTICATE PLAIN " +
                            b64(f"\0{user}\0{pw}"))
        tag = self.tag()
        self.r.send(f"{tag} AUTHENTICATE PLAIN\r\n")
        assert self.r.line().startswith(b"+")
        self.r.send(b64(f"\0{user}\0{pw}") + "\r\n")
        return self.r.until(tag)

    def idle(self):
        tag = self.tag()
        self.r.send(f"{tag} IDLE\r\n")
        line = self.r.line()
        assert line.startswith(b"+"), line
        return tag

    def idle_until(self, pattern, timeout=NOTIFY):
        t0 = time.monotonic()
        seen = []
        while True:
            left = timeout - (time.monotonic() - t0)
            assert left > 0, (pattern, seen)
            self.r.sock.settimeout(left)
            try:
                line = self.r.line()
            except (TimeoutError, OSError):
                raise AssertionError((pattern, seen))
            finally:
                self.r.sock.settimeout(TIMEOUT)
            seen.append(line)
            if re.search(pattern, line):
                return seen

    def done(self, tag):
        self.r.send("DONE\r\n")
        got, tagged = self.r.until(tag, expect=None)
        assert tagged_code(tagged)[0] == "OK", tagged
        return got

    def close(self):
        self.r.close()


def caps_of(lines_or_line):
    text = b" ".join(lines_or_line) if isinstance(lines_or_line, list) \
        else lines_or_line
    m = re.search(rb"CAPABILITY ([^\]\r\n]*)", text)
    assert m, text
    return set(m.group(1).decode().upper().split())


def expunged(lines):
    """What EXPUNGE (or, with QRESYNC enabled, VANISHED) responses
    said went: sequence numbers, or UIDs for VANISHED."""
    out = []
    for g in lines:
        m = re.match(rb"\* (\d+) EXPUNGE$", g)
        if m:
            out.append(int(m.group(1)))
        m = re.match(rb"\* VANISHED ([0-9:,]+)$", g)
        if m:
            out.append(m.group(1).decode())
    return out


def new_account(srv, user=BOB):
    """A started server where user has never logged in (no home)."""
    s = srv(go=False)
    shutil.rmtree(s.home(user))
    return start(s)


def special_boxes(lines):
    """{use: name} from LIST lines with SPECIAL-USE attributes (use
    upper case, without its backslash: SENT, DRAFTS...)."""
    out = {}
    for name, attrs in list_map(lines).items():
        if isinstance(name, str):
            for a in attrs:
                if a in ALL_USES:
                    out[a[1:]] = name
    return out


def message(subject, body="Hello.\n", sender=f"Bob <{BOB}>",
            to="Alice <alice@example.test>"):
    return crlf(mail(subject, body, sender=sender, to=to))


ALL_USES = {u.upper() for u in SPECIAL.values()}
USES = {u[1:] for u in ALL_USES}
HEADERS_TB = ("From To Cc Bcc Subject Date Message-ID Priority X-Priority "
              "References Newsgroups In-Reply-To Content-Type Reply-To")
HEADERS_APPLE = ("DATE FROM TO CC SUBJECT MESSAGE-ID REFERENCES IN-REPLY-TO "
                 "CONTENT-TYPE X-PRIORITY")


# --- Thunderbird -----------------------------------------------------------


def test_thunderbird_first_login_send_draft_trash_idle(srv):
    s = new_account(srv)
    c = Client(s, "")               # Thunderbird tags: 1, 2, 3...
    # Greeting capabilities are used when present, else it asks.
    if b"[CAPABILITY" not in c.greeting:
        c.cmd("capability")
    c.authenticate_plain(BOB, BOB_PW, ir=False)
    got, _ = c.cmd("capability")
    cap = caps_of(got)
    assert {"ID", "UIDPLUS", "MOVE", "SPECIAL-USE", "IDLE",
            "LIST-EXTENDED"} <= cap, cap
    got, _ = c.cmd('ID ("name" "Thunderbird" "version" "115.6.0")')
    assert any(g.startswith(b"* ID ") for g in got), got
    got, _ = c.cmd("namespace")
    # The personal namespace: no prefix, "." as the delimiter.
    assert any(re.match(rb'\* NAMESPACE \(\(""\s*"\."\)\)', g)
               for g in got), got
    # Folder discovery: the special-use folders, then the subscribed
    # ones (LIST-EXTENDED), then all of them.
    got, _ = c.cmd('list (special-use) "" "*"')
    uses = special_boxes(got)
    assert set(uses) == USES, got
    sent_box, drafts_box, trash_box = (uses["SENT"], uses["DRAFTS"],
                                       uses["TRASH"])
    got, _ = c.cmd('list (subscribed) "" "*" return (special-use)')
    assert names(got) >= set(SPECIAL), got
    got, _ = c.cmd('list "" "*"')
    assert {"INBOX"} | set(SPECIAL) <= names(got), got
    got, _ = c.cmd('select "INBOX"')
    assert b"* 0 EXISTS" in got, got
    c.cmd("UID fetch 1:* (FLAGS)")
    # Mail arrives while Thunderbird idles on INBOX.
    tag = c.idle()
    s.put(mail("first mail", sender="Alice <alice@example.test>",
               to=f"Bob <{BOB}>"), user=BOB, sub="new")
    c.idle_until(rb"^\* 1 EXISTS")
    c.done(tag)
    got, _ = c.cmd("UID fetch 1:* (FLAGS)")
    uid = int(re.search(rb"UID (\d+)", b" ".join(got)).group(1))
    got, _ = c.cmd(f"UID fetch {uid} (UID RFC822.SIZE FLAGS "
                   f"BODY.PEEK[HEADER.FIELDS ({HEADERS_TB})])")
    res = fetch_map(got)[1]
    hdr = [v for k, v in res.items() if k.startswith("BODY[HEADER")][0]
    assert b"Subject: first mail" in hdr and int(res["RFC822.SIZE"]) > 0
    # Sending: the copy goes to the \Sent folder, flagged \Seen.
    sent = message("sent by thunderbird")
    _, tagged = c.append(f'"{sent_box}"', "\\Seen", None, sent)
    validity, uids = appenduid(tagged)
    # With UIDPLUS it fetches the new message by UID to show it.
    got, _ = c.cmd(f'select "{sent_box}"')
    assert f"[UIDVALIDITY {validity}]".encode() in b" ".join(got)
    got, _ = c.cmd(f"UID fetch {uids[0]} (UID RFC822.SIZE FLAGS "
                   f"BODY.PEEK[HEADER.FIELDS ({HEADERS_TB})])")
    res = fetch_map(got)[1]
    assert "\\SEEN" in {f.upper() for f in res["FLAGS"]}, res
    # A draft saved twice: the new one appended, the old one deleted
    # and expunged by UID.
    draft = message("draft v1")
    _, tagged = c.append(f'"{drafts_box}"', "\\Seen \\Draft", None,
                         draft)
    _, old = appenduid(tagged)
    _, tagged = c.append(f'"{drafts_box}"', "\\Seen \\Draft", None,
                         message("draft v2"))
    _, new = appenduid(tagged)
    c.cmd(f'select "{drafts_box}"')
    c.cmd(f"UID store {old[0]} +FLAGS (\\Deleted)")
    got, _ = c.cmd(f"UID expunge {old[0]}")
    assert expunged(got) == [1], got
    got, _ = c.cmd("UID fetch 1:* (FLAGS)")
    assert len([g for g in got if b"FETCH" in g]) == 1, got
    # Delete to Trash from INBOX: UID MOVE (MOVE announced).
    c.cmd('select "INBOX"')
    got, tagged = c.cmd(f'UID move {uid} "{trash_box}"')
    assert any(b"[COPYUID " in g for g in got) or b"[COPYUID " in tagged
    assert b"* 1 EXPUNGE" in got, got
    got, _ = c.cmd(f'STATUS "{trash_box}" (MESSAGES)')
    assert status_map(got)[trash_box]["MESSAGES"] == 1, got
    c.cmd("logout")
    c.close()
    s.stop()


# --- macOS Mail --------------------------------------------------------


def test_macos_mail_first_login_send_draft_trash_idle(srv):
    s = new_account(srv)
    c = Client(s, "")
    # Apple Mail identifies itself before authenticating.
    got, _ = c.cmd('ID ("name" "Mac OS X Mail" "version" '
                   '"16.0 (3774.300.61.1.2)" "os" "macOS" "os-version" '
                   '"14.3 (23D56)" "vendor" "Apple Inc.")')
    got, _ = c.cmd("CAPABILITY")
    cap = caps_of(got)
    c.cmd(f'LOGIN "{BOB}" "{BOB_PW}"')
    got, _ = c.cmd("CAPABILITY")
    cap = caps_of(got)
    assert {"UIDPLUS", "MOVE", "SPECIAL-USE", "IDLE"} <= cap, cap
    if "ENABLE" in cap and "QRESYNC" in cap:
        c.cmd("ENABLE QRESYNC")
    got, _ = c.cmd('LIST "" ""')
    assert re.match(rb'\* LIST \(\\Noselect\) "\." ""', got[0], re.I), got
    got, _ = c.cmd('LIST "" "*" RETURN (SPECIAL-USE)')
    uses = special_boxes(got)
    assert set(uses) == USES, got
    sent_box, drafts_box, trash_box = (uses["SENT"], uses["DRAFTS"],
                                       uses["TRASH"])
    got, _ = c.cmd('LSUB "" "*"')
    assert names(got, b"LSUB") >= set(SPECIAL), got
    got, _ = c.cmd("STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)")
    st = status_map(got)["INBOX"]
    assert st["MESSAGES"] == 0 and st["UIDNEXT"] == 1, st
    got, _ = c.cmd("SELECT INBOX")
    assert b"* 0 EXISTS" in got, got
    s.put(mail("to bob on a mac", to=f"Bob <{BOB}>"), user=BOB, sub="new")
    tag = c.idle()
    c.idle_until(rb"^\* 1 EXISTS")
    c.done(tag)
    got, _ = c.cmd("UID FETCH 1:* (FLAGS)")
    uid = int(re.search(rb"UID (\d+)", b" ".join(got)).group(1))
    got, _ = c.cmd(f"UID FETCH {uid}:* (UID FLAGS INTERNALDATE "
                   f"RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADERS_APPLE})])")
    res = fetch_map(got)[1]
    hdr = [v for k, v in res.items() if k.startswith("BODY[HEADER")][0]
    assert b"to bob on a mac" in hdr, hdr
    # A draft autosaved, then replaced (STORE \Deleted, UID EXPUNGE).
    drafts = drafts_box
    date = "07-Dec-2026 16:00:00 +0000"
    _, tagged = c.append(drafts, "\\Seen \\Draft", date,
                         message("mac draft v1"))
    _, (d1,) = appenduid(tagged)
    _, tagged = c.append(drafts, "\\Seen \\Draft", date,
                         message("mac draft v2"))
    _, (d2,) = appenduid(tagged)
    got, _ = c.cmd(f"SELECT {drafts}")
    c.cmd(f"UID STORE {d1} +FLAGS.SILENT (\\Deleted)")
    got, _ = c.cmd(f"UID EXPUNGE {d1}")
    assert expunged(got) in ([1], [str(d1)]), got
    # Sent: the draft becomes a sent message; the draft goes.
    _, tagged = c.append(sent_box, "\\Seen", date,
                         message("mac draft v2"))
    c.cmd(f"UID STORE {d2} +FLAGS.SILENT (\\Deleted)")
    c.cmd(f"UID EXPUNGE {d2}")
    got, _ = c.cmd(f"STATUS {drafts} (MESSAGES)")
    assert status_map(got)[drafts]["MESSAGES"] == 0, got
    # Delete to Trash.
    c.cmd("SELECT INBOX")
    got, tagged = c.cmd(f"UID MOVE {uid} {trash_box}")
    assert expunged(got) in ([1], [str(uid)]), got
    got, _ = c.cmd(f"STATUS {trash_box} (MESSAGES)")
    assert status_map(got)[trash_box]["MESSAGES"] == 1
    c.cmd("LOGOUT")
    c.close()
    s.stop()


# --- iOS Mail -------------------------------------------------------------


def test_ios_mail_first_login_send_draft_trash(srv):
    s = new_account(srv, CAROL)
    c = Client(s, "")
    c.cmd('ID ("name" "iPhone Mail" "version" "21C66" "os" "iOS" '
          '"os-version" "17.2 (21C66)")')
    got, _ = c.cmd("CAPABILITY")
    assert "AUTH=PLAIN" in caps_of(got)
    c.authenticate_plain(CAROL, CAROL_PW, ir=True)
    got, _ = c.cmd("CAPABILITY")
    cap = caps_of(got)
    assert {"UIDPLUS", "SPECIAL-USE", "MOVE"} <= cap, cap
    c.cmd('ID ("name" "iPhone Mail" "version" "21C66" "os" "iOS" '
          '"os-version" "17.2 (21C66)")')
    got, _ = c.cmd('LIST "" ""')
    got, _ = c.cmd('LIST "" "*" RETURN (SPECIAL-USE)')
    uses = special_boxes(got)
    assert set(uses) == USES, got
    sent_box, drafts_box, trash_box = (uses["SENT"], uses["DRAFTS"],
                                       uses["TRASH"])
    got, _ = c.cmd("LSUB \"\" \"*\"")
    got, _ = c.cmd('SELECT "INBOX"')
    assert b"* 0 EXISTS" in got, got
    c.cmd("UID FETCH 1:* (FLAGS)")
    # iOS polls (no IDLE on a plain IMAP account): NOOP until it shows.
    s.put(mail("to carol's phone", to="Carol <carol@example.org>"),
          user=CAROL, sub="new")
    deadline = time.monotonic() + NOTIFY
    while True:
        got, _ = c.cmd("NOOP")
        if b"* 1 EXISTS" in got:
            break
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    got, _ = c.cmd("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE "
                   f"BODY.PEEK[HEADER.FIELDS ({HEADERS_APPLE})])")
    res = list(fetch_map(got).values())[0]
    uid = int(res["UID"])
    # Sent and a draft, each with a date-time; iOS uses LITERAL+ when
    # announced.
    lp = "LITERAL+" in cap
    date = "07-Dec-2026 17:00:00 +0100"
    _, tagged = c.append(f'"{sent_box}"', "\\Seen", date,
                         message("from the phone", sender="Carol "
                                 "<carol@example.org>"), literal_plus=lp)
    appenduid(tagged)
    _, tagged = c.append(f'"{drafts_box}"', "\\Seen \\Draft", date,
                         message("phone draft", sender="Carol "
                                 "<carol@example.org>"), literal_plus=lp)
    appenduid(tagged)
    # Swipe to Trash: UID MOVE.
    got, tagged = c.cmd(f'UID MOVE {uid} "{trash_box}"')
    assert b"* 1 EXPUNGE" in got, got
    for box, unseen in ((sent_box, 0), (drafts_box, 0), (trash_box, 1)):
        got, _ = c.cmd(f'STATUS "{box}" (MESSAGES UNSEEN)')
        assert status_map(got)[box] == {"MESSAGES": 1,
                                        "UNSEEN": unseen}, got
    c.cmd("LOGOUT")
    c.close()
    s.stop()
