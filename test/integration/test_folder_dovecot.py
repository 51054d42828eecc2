# SPDX-License-Identifier: ISC
"""The folder module (src/store/folder.c) and Dovecot 2.3 on one Maildir.

A tree of Maildir++ folders and a subscriptions file made through
wren's folder functions must be listed by Dovecot as wren lists it
(LIST, LSUB, LIST (SUBSCRIBED) ... RETURN (CHILDREN)), and a tree made
by Dovecot (CREATE, DELETE, RENAME, SUBSCRIBE over IMAP) must be listed
by wren as Dovecot lists it.

wren's side runs through a small driver compiled here from the folder
module's sources (no session is needed: the module is what is under
test); Dovecot's through `doveadm exec imap`, a pre-authenticated IMAP
session on stdin, against a private instance. Special-use attributes
are left out of the comparison: this Dovecot has no special_use
settings. Order is not compared (Dovecot's comes from its index).
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, WREN_BIN, PrivateDovecot, dovecot_available

pytestmark = pytest.mark.skipif(not dovecot_available(),
                                reason="needs dovecot and doveadm as root")

DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "store/folder.h"

static struct folder_list l;

int
main(int argc, char **argv)
{
	const char *root = argv[1], *cmd = argv[2];
	struct err e;
	int rc = 0;

	e.msg[0] = '\0';
	if (strcmp(cmd, "provision") == 0) {
		rc = folder_provision(root, &e);
	} else if (strcmp(cmd, "create") == 0) {
		rc = folder_create(root, argv[3], strlen(argv[3]), &e);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = folder_delete(root, argv[3], strlen(argv[3]), &e);
	} else if (strcmp(cmd, "reap") == 0) {
		while ((rc = folder_reap_step(root, 3, &e)) == 1) {
		}
	} else if (strcmp(cmd, "rename") == 0) {
		rc = folder_rename(root, argv[3], strlen(argv[3]), argv[4],
		    strlen(argv[4]), &l, &e);
	} else if (strcmp(cmd, "sub") == 0 || strcmp(cmd, "unsub") == 0) {
		rc = folder_subscribe(root, argv[3], strlen(argv[3]),
		    cmd[0] == 's', &e);
	} else if (strcmp(cmd, "list") == 0) {
		rc = folder_list(root, FOLDER_L_SUBSCRIBED, &l, &e);
		for (size_t i = 0; rc == 0 && i < l.n; i++) {
			printf("%u\t%s\n", l.e[i].attr, l.e[i].name);
		}
	}
	if (rc != 0) {
		fprintf(stderr, "%d %s\n", rc, e.msg);
	}
	return rc == 0 ? 0 : 1;
}
"""

A_NODIR, A_IMPLIED, A_HASCHILDREN, A_SUBSCRIBED = 0x1, 0x2, 0x4, 0x8


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    conf = Path(WREN_BIN).parent / "config.h"
    if not conf.exists():
        cands = sorted(ROOT.glob("build/*/config.h"))
        if not cands:
            pytest.skip("no build/*/config.h: run make first")
        conf = cands[0]
    d = tmp_path_factory.mktemp("folderdrv")
    (d / "drv.c").write_text(DRIVER)
    src = ROOT / "src"
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run(
        [cc, "-std=c99", "-D_GNU_SOURCE", "-O1", f"-I{conf.parent}",
         f"-I{src}", "-o", str(d / "drv"), str(d / "drv.c"),
         str(src / "store/folder.c"), str(src / "store/folder_name.c"),
         str(src / "store/subs.c"), str(src / "core/fmt.c"),
         str(src / "core/err.c")], check=True, timeout=120)
    return d / "drv"


@pytest.fixture
def box():
    """A private Dovecot with home/Maildir (Maildir++, its defaults)."""
    top = Path(tempfile.mkdtemp(prefix="wren-fold-", dir="/tmp"))
    os.chmod(top, 0o755)
    home = top / "home"
    home.mkdir()
    passwd = top / "passwd"
    passwd.write_text("u:{PLAIN}p\n")
    dv = PrivateDovecot(top, passwd, home, "maildir:~/Maildir")
    with dv:
        yield dv, home / "Maildir"
    shutil.rmtree(top, ignore_errors=True)


def wren(drv, root, *args):
    p = subprocess.run([str(drv), str(root), *args], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return p.stdout


def imap(dv, root, *cmds):
    """Runs cmds in one pre-authenticated Dovecot IMAP session; returns
    the untagged lines. The tree is handed to Dovecot's user first."""
    subprocess.run(["chown", "-R", "nobody:nogroup", str(root.parent)],
                   check=True)
    script = "".join(f"t{i} {c}\r\n" for i, c in enumerate(cmds))
    script += "z LOGOUT\r\n"
    p = subprocess.run(["doveadm", "-c", str(dv.conf), "exec", "imap",
                        "-u", "u"], input=script, capture_output=True,
                       text=True, timeout=30)
    lines = p.stdout.splitlines()
    for i in range(len(cmds)):
        tagged = [x for x in lines if x.startswith(f"t{i} ")]
        assert tagged and tagged[0].split()[1] == "OK", (cmds[i], p.stdout,
                                                       p.stderr)
    return lines


def parse_list(lines, verb):
    """{name: set(attributes)} from LIST or LSUB lines (names quoted by
    Dovecot only when needed; no literals in these trees)."""
    out = {}
    for x in lines:
        if not x.startswith(f"* {verb} ("):
            continue
        attrs, rest = x[len(verb) + 4:].split(")", 1)
        name = rest.split(" ", 2)[2]
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[name] = set(attrs.split()) if attrs else set()
    return out


def wren_list(drv, root):
    """{name: attr} as the folder module lists it."""
    out = {}
    for line in wren(drv, root, "list").splitlines():
        a, name = line.split("\t", 1)
        out[name] = int(a)
    return out


def as_list(w):
    """wren's listing in the attributes Dovecot gives in a plain LIST."""
    out = {}
    for name, a in w.items():
        if a & A_NODIR and not a & A_IMPLIED:
            continue        # subscribed only: not in LIST
        if a & A_IMPLIED:
            out[name] = {"\\Noselect", "\\HasChildren"}
        else:
            out[name] = {"\\HasChildren" if a & A_HASCHILDREN
                         else "\\HasNoChildren"}
    return out


def as_subscribed(w):
    """wren's listing as LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)."""
    out = {}
    for name, a in w.items():
        attrs = set()
        if a & A_SUBSCRIBED:
            attrs.add("\\Subscribed")
        if a & A_NODIR:
            attrs.add("\\NonExistent")
        attrs.add("\\HasChildren" if a & A_HASCHILDREN
                  else "\\HasNoChildren")
        if a & A_SUBSCRIBED:
            out[name] = attrs
    return out


def compare(drv, dv, root):
    """Dovecot's three listings equal wren's; returns wren's."""
    lines = imap(dv, root, 'LIST "" "*"', 'LSUB "" "*"',
                 'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)')
    part, parts = [], []
    for x in lines:
        if x.startswith("t"):
            parts.append(part)
            part = []
        elif x.startswith("* "):
            part.append(x)
    w = wren_list(drv, root)
    assert parse_list(parts[0], "LIST") == as_list(w)
    assert set(parse_list(parts[1], "LSUB")) == \
        {n for n, a in w.items() if a & A_SUBSCRIBED}
    assert parse_list(parts[2], "LIST") == as_subscribed(w)
    return w


def test_wren_tree_listed_by_dovecot(driver, box):
    dv, root = box
    wren(driver, root, "provision")
    for name in ("a.b.c", "INBOX.x", "caf&AOk-", "Work", "Work.2025",
                 "p", "p.c1", "p.c1.d", "x&-y", "k."):
        wren(driver, root, "create", name)
    wren(driver, root, "delete", "Work")          # its child stays
    wren(driver, root, "rename", "p", "z")
    wren(driver, root, "create", "i.j")
    wren(driver, root, "rename", "i", "i2")      # an implied parent
    wren(driver, root, "sub", "z.c1")
    wren(driver, root, "sub", "ghost")
    wren(driver, root, "sub", "inbox")
    wren(driver, root, "unsub", "Junk")
    wren(driver, root, "reap")
    assert not (root / "wren-deleted").exists()
    w = compare(driver, dv, root)
    assert "Work.2025" in w and w["Work"] & A_IMPLIED
    assert "k" in w and "z.c1.d" in w and "p" not in w
    assert w["i2"] & A_IMPLIED and "i2.j" in w and "i" not in w


def test_dovecot_tree_listed_by_wren(driver, box):
    dv, root = box
    imap(dv, root, "CREATE Sent", "CREATE a.b.c", "CREATE INBOX.x",
         'CREATE "caf&AOk-"', "CREATE q", "CREATE q.r", "CREATE m",
         "CREATE m.n", 'CREATE "x%y"', "SUBSCRIBE Sent",
         "SUBSCRIBE a.b.c", "SUBSCRIBE m.n", "SUBSCRIBE INBOX",
         "UNSUBSCRIBE Sent", "DELETE q", 'RENAME m "m2"')
    # Dovecot 2.3's own list index keeps a deleted parent as a
    # selectable "q" (\HasChildren) though .q is gone and SELECT q
    # fails; rebuilt from the directory it says \Noselect \HasChildren,
    # as wren does. Compare with the file system's truth.
    for f in root.glob("dovecot.list.index*"):
        f.unlink()
    w = compare(driver, dv, root)
    assert "q" in w and w["q"] & A_IMPLIED
    assert "m2.n" in w and "x%y" in w


def test_subscriptions_written_by_each(driver, box):
    """The file itself: wren writes what Dovecot writes."""
    dv, root = box
    wren(driver, root, "provision")
    wren(driver, root, "sub", "a.b")
    mine = (root / "subscriptions").read_bytes()
    assert mine == b"V\t2\n\nSent\nDrafts\nTrash\nJunk\nArchive\na\tb\n"
    (root / "subscriptions").unlink()
    imap(dv, root, "CREATE a.b")     # Dovecot subscribes only folders
    imap(dv, root, *(f"SUBSCRIBE {n}" for n in
                     ("Sent", "Drafts", "Trash", "Junk", "Archive", "a.b")))
    assert (root / "subscriptions").read_bytes() == mine
