# SPDX-License-Identifier: ISC
"""Inbound SMTP when the disk is full: 452 4.3.1, no file left behind,
the server keeps serving (a tmpfs of a few KB stands in for a full SD
card; needs root to mount it)."""
import os
import smtplib
import subprocess

import pytest

from conftest import SLOW, free_port, run_wren


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount tmpfs")
def test_disk_full_is_452_and_nothing_is_left(wren, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                        "tmpfs", str(mnt)], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {p.stderr.strip()}")
    try:
        port = free_port()
        w = wren(smtp_listen=f"127.0.0.1:{port}",
                 mail_home=f"{mnt}/%d/%n", message_size_limit="1m")
        (w.dir / "users").write_text("alice@example.test:{PLAIN}x\n"
                                     "bob@example.test:{PLAIN}x\n")
        assert run_wren("map", "-t", "users",
                        str(w.dir / "users")).returncode == 0
        w.start()
        big = ("Subject: big\r\n\r\n" + ("x" * 76 + "\r\n") * 2000)
        with smtplib.SMTP("127.0.0.1", port, timeout=30 * SLOW) as s:
            with pytest.raises(smtplib.SMTPDataError) as ex:
                s.sendmail("s@remote.example", ["alice@example.test"], big)
            assert ex.value.smtp_code == 452
            assert b"4.3.1" in ex.value.smtp_error
            # The session goes on; a small message still fits.
            s.sendmail("s@remote.example", ["bob@example.test"],
                       "Subject: small\r\n\r\nhi\r\n")
        alice = mnt / "example.test" / "alice" / "Maildir"
        assert os.listdir(alice / "tmp") == []
        assert os.listdir(alice / "new") == []
        bob = mnt / "example.test" / "bob" / "Maildir" / "new"
        assert len(os.listdir(bob)) == 1
        assert w.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)], timeout=30)
