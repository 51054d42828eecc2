#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: inbound SMTP to Maildir.

N messages of SIZE bytes over S parallel sessions with Postfix's
smtp-source, timed until new/ holds all of them; reported as messages/s
and as a ratio to the disk's single-thread fsync floor measured in the
same run (fsync_floor), with wren's peak RSS and the bytes it wrote to
disk per message (/proc/PID/io write_bytes). Medians of RUNS runs.

    bench_smtp.py WREN_BIN FSYNC_FLOOR_BIN DIR [--count N] [--runs R]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

from benchlib import free_port, loop_fs, rss_kib


def write_bytes(pid):
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("floor")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    top = os.path.abspath(a.dir)
    if os.path.ismount(f"{top}/fs"):            # left by an earlier run
        subprocess.run(["umount", f"{top}/fs"], timeout=120)
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    # The disk a Raspberry Pi's SD card gives: ext4 with its journal
    # (a loop-mounted image, root only). Then this machine's own file
    # system, whatever it is (here ext4 without a journal, where every
    # file creation scans the inodes deleted in the last minute: the
    # bench deletes 2,000 files before each run).
    fs = loop_fs(top)
    try:
        if fs:
            bench(a, f"{fs}/smtp", "journalled ext4 (loop image)")
        bench(a, f"{top}/smtp", "the bench dir's file system")
    finally:
        if fs:
            subprocess.run(["umount", fs], timeout=120)
            os.unlink(f"{top}/fs.img")


def bench(a, base, where):
    os.makedirs(base)
    floors = []
    for i in range(a.runs):
        out = subprocess.run([a.floor, f"{base}/floor{i}", "500", "4096"],
                             capture_output=True, text=True, check=True,
                             timeout=600).stdout
        floors.append(float(out))
    floor = statistics.median(floors)

    with open(f"{base}/users", "w") as f:
        f.write("bench@example.test:{PLAIN}benchpass\n")
    subprocess.run([a.wren, "map", "-t", "users", f"{base}/users"],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    conf = f"{base}/wren.conf"
    with open(conf, "w") as f:
        f.write(f"hostname = mail.example.test\ndomains = example.test\n"
                f"data_dir = {base}/data\nmail_home = {base}/mail/%d/%n\n"
                f"users = {base}/users\naliases = {base}/aliases\n"
                f"virtual = {base}/virtual\n"
                f"smtp_listen = 127.0.0.1:{port}\nsubmission_listen =\n"
                f"submissions_listen =\nimap_listen =\nimaps_listen =\n"
                f"max_connections = 64\nuser =\nlog = stderr\n"
                f"log_level = warn\n")
    log = open(f"{base}/wren.log", "wb")
    proc = subprocess.Popen([a.wren, "serve", "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    new = f"{base}/mail/example.test/bench/Maildir/new"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        rates, peaks, per_msg = [], [], []
        for r in range(a.runs + 1):            # the first run warms up
            if os.path.isdir(new):
                # Moved aside, not deleted: freed inodes would slow the
                # next run's file creations (see main).
                os.rename(new, f"{new}.run{r}")
                os.mkdir(new, 0o700)
            peak = [rss_kib(proc.pid)]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], rss_kib(proc.pid))
                    time.sleep(0.05)
            t = threading.Thread(target=sample)
            t.start()
            w0 = write_bytes(proc.pid)
            t0 = time.monotonic()
            subprocess.run(["smtp-source", "-s", str(a.sessions), "-m",
                            str(a.count), "-l", str(a.size), "-f",
                            "sender@remote.example", "-t",
                            "bench@example.test", f"127.0.0.1:{port}"],
                           check=True, timeout=900, capture_output=True)
            while len(os.listdir(new)) < a.count:
                if time.monotonic() - t0 > 900:
                    raise SystemExit("timeout waiting for delivery")
                time.sleep(0.02)
            dt = time.monotonic() - t0
            stop.set()
            t.join()
            w1 = write_bytes(proc.pid)
            if r == 0:
                continue
            rates.append(a.count / dt)
            peaks.append(peak[0])
            per_msg.append((w1 - w0) / a.count)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    rate = statistics.median(rates)
    print(f"smtp: on {where}:")
    print(f"smtp: {a.count} x {a.size} B over {a.sessions} sessions "
          f"(smtp-source): median {rate:.0f} msg/s "
          f"[{min(rates):.0f}-{max(rates):.0f}] over {a.runs} runs")
    print(f"smtp: disk fsync floor (1 thread, create+write+fsync+rename+"
          f"dir fsync): median {floor:.0f} ops/s; wren/floor = "
          f"{rate / floor:.2f}x")
    print(f"smtp: peak RSS {statistics.median(peaks)} KiB; written per "
          f"message {statistics.median(per_msg):.0f} bytes "
          f"(message {a.size} B + headers)")


if __name__ == "__main__":
    sys.exit(main())
