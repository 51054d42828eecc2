#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: CONDSTORE/QRESYNC (RFC 7162) costs of wren.

A COUNT-message INBOX (maildir_corpus.py), on a fresh loop-mounted ext4
as root (its own device in /proc/diskstats), else on DIR's file system:

  1. wren-modseq at the first SELECT: its size per message (a snapshot,
     written once per folder) and the SELECT's time.
  2. Disk writes per flag change (bench_imap.py's store_wear: N single
     UID STORE +FLAGS (\\Seen) back to back, a sync every N/10, then K
     each followed by sync): /proc/PID/io write_bytes and wchar, device
     bytes over idle; and wren-modseq's growth per change once the
     batch is written (2 s).
  3. A phone-style resync: a client remembers HIGHESTMODSEQ, another
     session makes 100 flag changes and 10 expunges, then the client
     does ENABLE QRESYNC + SELECT (QRESYNC (uidvalidity modseq)): time
     and bytes received, against the plain resync without QRESYNC
     (SELECT + UID FETCH 1:* (FLAGS)).

    bench_condstore.py WREN_BIN DIR [--count N] [--stores N]
                       [--isolated K] [--no-loop]
"""
import argparse
import os
import re
import shutil
import subprocess
import time

from bench_imap import (PASS, SYNC, Raw, Wren, disk_of, store_wear)
from benchlib import loop_fs
from maildir_corpus import fill


def size(path):
    """The file's size; 0 without it (a wren without CONDSTORE, run for
    a baseline)."""
    return os.path.getsize(path) if os.path.exists(path) else 0


def received(c, text):
    """Runs a command on Raw c; returns (seconds, bytes received)."""
    t0 = time.monotonic()
    lines, tagged = c.cmd(text)
    return time.monotonic() - t0, sum(map(len, lines)) + len(tagged), lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--isolated", type=int, default=50)
    ap.add_argument("--no-loop", action="store_true")
    a = ap.parse_args()
    base = os.path.abspath(a.dir)
    if os.path.ismount(f"{base}/fs"):
        subprocess.run(["umount", f"{base}/fs"], timeout=120)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    f"{base}/key.pem", "-out", f"{base}/cert.pem", "-days",
                    "30", "-subj", "/CN=localhost"], check=True,
                   capture_output=True, timeout=60)
    with open(f"{base}/users", "w") as f:
        f.write(f"{SYNC}:{{PLAIN}}{PASS}\n")
    subprocess.run([a.wren, "map", "-t", "users", f"{base}/users"],
                   check=True, capture_output=True, timeout=60)
    fs = None if a.no_loop else loop_fs(base)
    try:
        run(a, base, fs or base)
    finally:
        if fs:
            subprocess.run(["umount", fs], timeout=120)
            os.unlink(f"{base}/fs.img")


def run(a, base, mail):
    wren = Wren(a.wren, base, f"{mail}/wren")
    md = wren.maildir(SYNC)
    n, nbytes, _ = fill([(md, None)], a.count, 1)
    dev = disk_of(mail)
    ms = f"{md}/wren-modseq"
    wren.start()
    try:
        c = Raw(wren.imap)
        c.login(SYNC)
        dt, _, _ = received(c, "SELECT INBOX (CONDSTORE)")
        size0 = size(ms)
        print(f"condstore: first SELECT of {n} messages {dt:.3f} s; "
              f"wren-modseq {size0} B = {size0 / n:.1f} B per message "
              f"(once per folder)", flush=True)
        c.close()
        time.sleep(0.5)
        s0 = size(ms)
        w = store_wear(wren.imap, lambda: wren.pid, dev, a.stores,
                       a.isolated)
        time.sleep(2.5)         # the last batch
        grow = (size(ms) - s0) / (w["n"] + w["k"])
        print(f"condstore: per flag change, {w['n']} back to back: wren "
              f"write_bytes {w['write_bytes']:.0f} B, wchar "
              f"{w['wchar']:.0f} B, device {dev} {w['dev']:.0f} B "
              f"({max(0, w['dev'] - w['idle']):.0f} B over idle); alone "
              f"(sync after each of {w['k']}): device {w['dev1']:.0f} B "
              f"({max(0, w['dev1'] - w['idle1']):.0f} B over idle); "
              f"wren-modseq grew {grow:.1f} B per change", flush=True)

        if size0 == 0:
            return              # no CONDSTORE: the baseline ends here
        # 3. Phone-style resync.
        phone = Raw(wren.imap)
        phone.login(SYNC)
        phone.cmd("ENABLE QRESYNC")
        lines, _ = phone.cmd("SELECT INBOX")
        text = b" ".join(lines).decode()
        uv = int(re.search(r"UIDVALIDITY (\d+)", text).group(1))
        hm = int(re.search(r"HIGHESTMODSEQ (\d+)", text).group(1))
        phone.close()
        other = Raw(wren.imap)
        other.login(SYNC)
        other.cmd("SELECT INBOX")
        for uid in range(2001, 2101):
            other.cmd(f"UID STORE {uid} FLAGS (\\Flagged)")
        other.cmd("UID STORE 3001:3010 +FLAGS.SILENT (\\Deleted)")
        other.cmd("UID EXPUNGE 3001:3010")
        other.close()
        phone = Raw(wren.imap)
        phone.login(SYNC)
        phone.cmd("ENABLE QRESYNC")
        t_q, b_q, lines = received(phone, f"SELECT INBOX (QRESYNC ({uv} "
                                          f"{hm}))")
        fetched = sum(1 for x in lines if b" FETCH " in x)
        vanished = [x for x in lines if x.startswith(b"* VANISHED")]
        phone.close()
        full = Raw(wren.imap)
        full.login(SYNC)
        t1, b1, _ = received(full, "SELECT INBOX")
        t2, b2, _ = received(full, "UID FETCH 1:* (FLAGS)")
        full.close()
        print(f"condstore: phone resync after 100 flag changes and 10 "
              f"expunges in {n}: SELECT QRESYNC {t_q * 1000:.1f} ms, "
              f"{b_q} B received ({fetched} FETCH, "
              f"{vanished[0].strip().decode() if vanished else 'no VANISHED'}"
              f"); without QRESYNC (SELECT + UID FETCH 1:* (FLAGS)) "
              f"{(t1 + t2) * 1000:.1f} ms, {b1 + b2} B", flush=True)
    finally:
        wren.stop()


if __name__ == "__main__":
    main()
