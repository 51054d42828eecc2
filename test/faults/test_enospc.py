# SPDX-License-Identifier: ISC
"""A full disk (issue 17, fault injection): a small file system (a
4 MB tmpfs, and an 8 MB ext4 image with its journal on a loop device)
holds the data directory (the queue) and every Maildir. Messages streamed in
without SIZE fill it up: inbound (port 25, a local account) and
submission (a remote recipient, so the queue) both answer 452 4.3.1
(RFC 3463: mail system full) once it is full, the sessions go on, new
connections are served, nothing half-written stays in tmp/; once space
is freed mail flows again, and every message that got a 250 is stored
whole and, for the remote one, delivered after the MX comes up.

Needs root (mount); the file system is unmounted by the test (umount -l;
the loop device goes with it: mount -o loop sets autoclear).
"""
import os
import re
import shutil
import smtplib
import subprocess
from pathlib import Path

import pytest

from conftest import check_commit_path
from faultlib import make_message, parse_stored, scaled, scan, transact
from outbound import (ALICE, ALICE_PW, dns, mx, mx_port, outbound, pki,
                      queue_ids, wait_for)

__all__ = ["dns", "mx", "mx_port", "outbound", "pki"]

BOB = "bob@remote.test"
SIZE = 96 * 1024
TRIES = 80


@pytest.fixture(params=["tmpfs", "ext4"])
def small_fs(tmp_path, request):
    """A small file system at tmp_path/small: a 4 MB tmpfs, or an 8 MB
    ext4 image (with its journal) on a loop device (made with -m 0: wren runs as root here, and root
    may write into the reserved blocks)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a file system")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if request.param == "tmpfs":
        cmd = ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs",
               str(mnt)]
    else:
        if not shutil.which("mkfs.ext4"):
            pytest.skip("no mkfs.ext4")
        img = tmp_path / "small.img"
        with open(img, "wb") as f:
            f.truncate(8 * 1024 * 1024)
        p = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-N", "256",
                            str(img)],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            pytest.skip(f"mkfs.ext4: {p.stderr.strip()}")
        cmd = ["mount", "-o", "loop", str(img), str(mnt)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a {request.param}: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], timeout=30)


def all_files(d):
    d = Path(d)
    return sorted(p for p in d.rglob("*") if p.is_file()) \
        if d.is_dir() else []


def test_disk_full_452_then_flows_again(outbound, mx, small_fs,
                                        commit_path, request):
    m = mx(start=False)             # remote mail stays queued
    w = outbound(start=False, retry_schedule="1s 2s",
                 data_dir=str(small_fs / "data"),
                 mail_home=f"{small_fs}/mail/%d/%n",
                 message_size_limit="2m")
    ballast = small_fs / "ballast"
    ballast.write_bytes(b"\0" * (1024 * 1024))
    w.start()
    check_commit_path(w, commit_path)
    md = small_fs / "mail" / "example.test" / "alice" / "Maildir"
    auth = (ALICE, ALICE_PW)

    def local(tag, **kw):
        data, sha = make_message(tag, SIZE, to=ALICE)
        return transact(w.smtp, "s@remote.example", [ALICE], data, **kw)

    def remote(tag, **kw):
        data, sha = make_message(tag, SIZE, to=BOB)
        return transact(w.sub, ALICE, [BOB], data, auth=auth, **kw)

    acked_local, acked_remote, full = [], [], {"local": 0, "remote": 0}
    for i in range(TRIES):
        kind = "local" if i % 2 == 0 else "remote"
        tag = f"fill{i}"
        code, text = (local if kind == "local" else remote)(tag)
        assert code in (250, 452), (tag, code, text)
        if code == 250:
            (acked_local if kind == "local" else acked_remote).append(tag)
        else:
            assert b"4.3.1" in text, text
            full[kind] += 1
            if all(full.values()):
                break
    assert all(full.values()), f"never full: {full}"

    # Full: both paths still answer 452 4.3.1, with and without SIZE=,
    # and one session carries on after it.
    with smtplib.SMTP("127.0.0.1", w.smtp, timeout=scaled(30)) as s:
        s.ehlo()
        for n in range(2):
            data, _ = make_message(f"full{n}", SIZE, to=ALICE)
            code, text = transact(w.smtp, "s@remote.example", [ALICE], data,
                                  size_option=n == 1, smtp=s)
            assert code == 452 and b"4.3.1" in text, (code, text)
        assert s.noop()[0] == 250
    code, text = remote("full-remote", size_option=True)
    assert code == 452 and b"4.3.1" in text, (code, text)
    assert list((md / "tmp").iterdir()) == []
    assert all_files(small_fs / "data" / "queue" / "tmp") == []

    # Space again: mail flows.
    ballast.unlink()
    code, text = local("after-local")
    assert code == 250, (code, text)
    acked_local.append("after-local")
    code, text = remote("after-remote")
    assert code == 250, (code, text)
    acked_remote.append("after-remote")

    got = scan(md)
    assert None not in got
    for tag, files in got.items():
        assert len(files) == 1 and files[0][1], (tag, files)
    assert sorted(got) == sorted(acked_local), \
        (set(got) ^ set(acked_local))

    m.start()
    wait_for(lambda: not queue_ids(w), 60, "the queue to drain",
             interval=0.2)
    seen = {}
    for d in list(m.delivered):
        tag, claimed, actual = parse_stored(d.data)
        assert claimed == actual, tag
        seen[tag] = seen.get(tag, 0) + 1
    assert sorted(seen) == sorted(acked_remote), \
        (set(seen) ^ set(acked_remote))
    assert all(n == 1 for n in seen.values()), seen
    refused = re.findall(r"message not stored: [^\n]*|not delivered: "
                         r"[^\n]*", w.log())
    fs = request.node.callspec.params["small_fs"]
    print(f"ENOSPC ({commit_path}, {fs}): {len(acked_local)} local and "
          f"{len(acked_remote)} remote acknowledged, 452 after "
          f"{full}; log: {sorted(set(refused))}")
    assert w.stop() == 0
