# SPDX-License-Identifier: ISC
"""What the benchmark scripts share: a free loopback port, a
process's resident memory, and a journalled ext4 of its own for the
mail (loop_fs)."""
import os
import shutil
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def loop_fs(base):
    """A fresh ext4 (defaults: ordered data, 5 s journal commit, as an
    SD card's root file system) in a sparse image, loop-mounted at
    base/fs, so that /proc/diskstats of its loop device counts the mail
    store's writes and nothing else. Root only; None if not possible."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        return None
    img, mnt = f"{base}/fs.img", f"{base}/fs"
    os.makedirs(mnt)
    with open(img, "wb") as f:
        f.truncate(2 << 30)
    # Inode tables and journal written now, not by ext4lazyinit later.
    if subprocess.run(["mkfs.ext4", "-q", "-F", "-E",
                       "lazy_itable_init=0,lazy_journal_init=0", img],
                      capture_output=True, timeout=300).returncode != 0 or \
            subprocess.run(["mount", "-o", "loop", img, mnt],
                           capture_output=True, timeout=60).returncode != 0:
        os.unlink(img)
        return None
    os.chmod(mnt, 0o755)
    return mnt
