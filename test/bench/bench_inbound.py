#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""`make bench`: inbound mail on port 25 with every inbound check on
(issue #19), side by side with every check off, in one run.

N messages of SIZE bytes over S parallel sessions (one message per
connection, as smtp-source sends by default) from 127.0.0.2 to a local
account, each with its own DKIM signature (rsa-2048, relaxed/relaxed,
python3-dkim, signed before the timed part) against a fake DNS
(python3-dnslib, test/integration/outbound.py's FakeDNS) that gives,
for each sender domain:

  SPF pass for the HELO name and the MAIL FROM domain (ip4:127.0.0.2),
  the DKIM key, DMARC p=reject (passing: both aligned),
and a DNSBL zone (bl.test) that does not list the client.

"on, one domain": every message from signer.test after WARM messages
       of warm-up: wren answers from its DNS cache (TTLs clamped to at
       least DNS_TTL_MIN, 5 s), a burst from one sender;
"on, a domain per message": each from d<i>.test, so every message
       costs its own SPF, DKIM key and DMARC lookups (the DNSBL
       verdict of the one client address is cached): the cold case;
both with the client outside mynetworks, greet_delay = 0 (the greeting
       delay is a deliberate wait, not work: it would only measure
       itself), dnsbl_zones = bl.test, inbound_auth = yes with a Public
       Suffix List compiled by wren map, junk_filter = yes with the
       account trained over IMAP (TRAIN spam and TRAIN ham moved, as
       bench_junk.py does), so every message is scored (X-Wren-Junk).
"off": one domain, the client inside mynetworks (exempt from SPF and the DNSBL,
       which have no switch of their own), inbound_auth = no,
       dnsbl_zones empty, junk_filter = no.

Reported: messages/s (250 after DATA, timed from the first connection
to the last reply), on/off, wren's CPU seconds over the timed part
(utime + stime of /proc/PID/stat), DKIM signatures verified (RSA
verifies) per second, and the DNS queries wren made. The delivered
messages are read afterwards: the figures count only if every one says
spf=pass, dkim=pass and dmarc=pass and carries a junk score.

    bench_inbound.py WREN_BIN DIR [--count N] [--size B] [--sessions S]
"""
import argparse
import base64
import os
import random
import re
import shutil
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

import dkim

from bench_junk import PASS, USERS, Server, train

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from junk_corpus import COMMON, HAM_TOPICS  # noqa: E402
from outbound import FakeDNS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KEY = ROOT / "test/data/dkim/rsa2048.pem"
CLIENT = "127.0.0.2"
DOMAIN = "signer.test"
SEL = "s1"
RCPT = USERS[0]
TIMEOUT = 60                    # every socket operation
WAIT = 900                      # the whole timed part


def publish(z, dom, pub):
    spf = {"TXT": [f"v=spf1 ip4:{CLIENT} -all"]}
    rec = f"v=DKIM1; k=rsa; p={pub}"
    z.update({dom: spf, f"client.{dom}": spf,
              f"{SEL}._domainkey.{dom}":
              {"TXT": [[rec[i:i + 255] for i in range(0, len(rec), 255)]]},
              f"_dmarc.{dom}": {"TXT": ["v=DMARC1; p=reject"]}})


def messages(n, size, domain):
    """n (sender domain, message) of about size bytes with the
    DKIM-Signature field (about 500 bytes at rsa-2048), each signed on
    its own; domain(i) names the i-th sender's domain."""
    key = KEY.read_bytes()
    words = COMMON + HAM_TOPICS
    out = []
    for i in range(n):
        rng = random.Random(i)
        dom = domain(i)
        head = (f"From: News <news@{dom}>\r\nTo: <{RCPT}>\r\n"
                f"Subject: bench {i} {' '.join(rng.sample(words, 4))}\r\n"
                f"Date: Tue, 08 Dec 2026 01:00:00 +0000\r\n"
                f"Message-ID: <bench{i}.{time.time_ns()}@{dom}>\r\n"
                ).encode()
        body, line = [], []
        total = len(head) + 500
        while total < size:
            line.append(rng.choice(words))
            if len(" ".join(line)) > 66:
                text = " ".join(line) + "\r\n"
                body.append(text)
                total += len(text)
                line = []
        msg = head + b"\r\n" + "".join(body).encode()
        sig = dkim.sign(msg, SEL.encode(), dom.encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject",
                                         b"date", b"message-id"])
        out.append((dom, sig + msg))
    return out


def cpu_secs(pid):
    # Fields after the command name (which may hold spaces): utime and
    # stime are the 14th and 15th of the whole line.
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def send_all(port, msgs, sessions):
    """Sends msgs over `sessions` threads, one connection per message;
    (elapsed seconds, replies that were not 250)."""
    lock = threading.Lock()
    todo = list(reversed(msgs))
    bad = []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                dom, data = todo.pop()
            try:
                with smtplib.SMTP("127.0.0.1", port,
                                  local_hostname=f"client.{dom}",
                                  timeout=TIMEOUT,
                                  source_address=(CLIENT, 0)) as s:
                    s.sendmail(f"bounce@{dom}", [RCPT], data)
            except (OSError, smtplib.SMTPException) as e:
                with lock:
                    bad.append(repr(e))
    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1, WAIT - (time.monotonic() - t0)))
        if t.is_alive():
            raise SystemExit(f"timed out after {WAIT}s sending")
    return time.monotonic() - t0, bad


def delivered(base):
    md = Path(base) / "mail" / "example.test" / RCPT.split("@")[0] / \
        "Maildir"
    got = [p.read_bytes() for d in (md / "new", md / ".Junk" / "new")
           if d.is_dir() for p in d.iterdir()]
    return [m for m in got if b"\nSubject: bench " in m]


def setup(wren, base):
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    with open(f"{base}/users", "w") as f:
        f.write("".join(f"{u}:{{PLAIN}}{PASS}\n" for u in USERS))
    for kind in ("users", "aliases", "virtual"):
        if not os.path.exists(f"{base}/{kind}"):
            open(f"{base}/{kind}", "w").close()
        subprocess.run([wren, "map", "-t", kind, f"{base}/{kind}"],
                       check=True, capture_output=True, timeout=60)


def run(a, dns, base, warm, msgs, **keys):
    """One server: warm-up, then the timed part; the figures."""
    srv = Server(a.wren, base, hostname="mail.example.test",
                 dns_servers=dns.address, greet_delay="0",
                 max_connections_per_ip="64", **keys)
    srv.start()
    try:
        if keys.get("junk_filter") == "yes":
            train(srv, RCPT, a.train, 1)
        _, bad = send_all(srv.smtp, warm, a.sessions)
        if bad:
            raise SystemExit(f"warm-up refused: {bad[:3]} {srv.logpath}")
        before = len(delivered(base))
        q0 = len(dns.queries)
        c0 = cpu_secs(srv.proc.pid)
        dt, bad = send_all(srv.smtp, msgs, a.sessions)
        cpu = cpu_secs(srv.proc.pid) - c0
        queries = len(dns.queries) - q0
    finally:
        srv.stop()
    if bad:
        raise SystemExit(f"{len(bad)} refused: {bad[:3]} {srv.logpath}")
    got = delivered(base)
    if len(got) - before != len(msgs):
        raise SystemExit(f"{len(got) - before} of {len(msgs)} delivered: "
                         f"{srv.logpath}")
    return dt, cpu, queries, got


def tally(got):
    """Per check, how many messages say pass; junk scores given."""
    out = {}
    for m in ("spf", "dkim", "dmarc"):
        out[m] = sum(1 for raw in got
                     if re.search(rb"\b%s=pass\b" % m.encode(), raw))
    # SCREEN_SPF_MAX evaluations at once: a MAIL beyond them is not
    # evaluated (logged "spf: every evaluator busy").
    out["spf_busy"] = sum(1 for raw in got if b"spf=temperror" in raw)
    out["scored"] = sum(1 for raw in got
                        if re.search(rb"^X-Wren-Junk: [0-9.]+\r?$", raw,
                                     re.M))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wren")
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument("--train", type=int, default=50)
    a = ap.parse_args()
    top = os.path.abspath(a.dir)
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)

    der = subprocess.run(["openssl", "rsa", "-in", str(KEY), "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True, timeout=60).stdout
    pub = base64.b64encode(der).decode()
    n = a.warm + a.count
    t0 = time.monotonic()
    one = messages(n, a.size, lambda i: DOMAIN)
    many = messages(n, a.size, lambda i: f"d{i}.test")
    sign_s = time.monotonic() - t0
    size = sum(len(m) for _, m in one) // n

    psl = f"{top}/public_suffix_list.dat"
    with open(psl, "w") as f:
        f.write("// ===BEGIN ICANN DOMAINS===\ntest\n")
    subprocess.run([a.wren, "map", "-t", "public_suffix", psl],
                   check=True, capture_output=True, timeout=60)

    z = {}
    for dom in {DOMAIN} | {d for d, _ in many}:
        publish(z, dom, pub)
    on = {"mynetworks": "127.0.0.1/32", "dnsbl_zones": "bl.test*1",
          "dnsbl_threshold": "1", "inbound_auth": "yes",
          "public_suffix_list": psl, "junk_filter": "yes"}
    off = {"mynetworks": "127.0.0.0/8", "dnsbl_zones": "",
           "inbound_auth": "no", "junk_filter": "no"}
    dns = FakeDNS(z).start()
    res = {}
    try:
        for name, msgs, keys in (("one", one, on), ("many", many, on),
                                 ("off", one, off)):
            base = f"{top}/{name}"
            setup(a.wren, base)
            res[name] = run(a, dns, base, msgs[:a.warm], msgs[a.warm:],
                            **keys)
    finally:
        dns.stop()

    print(f"inbound: {a.count} x {size} B over {a.sessions} sessions, one "
          f"message per connection, from {CLIENT}, after {a.warm} of "
          f"warm-up; each message DKIM-signed beforehand (python3-dkim, "
          f"{2 * n} in {sign_s:.1f} s); greet_delay = 0 in every run (the "
          f"greeting delay is a deliberate wait)", flush=True)
    print("inbound: on = SPF (HELO and MAIL FROM) pass, DKIM rsa-2048 "
          "pass, DMARC p=reject pass, a DNSBL not listing the client, "
          f"junk filter trained with {a.train} spam + {a.train} ham; "
          "off = client in mynetworks, inbound_auth = no, no DNSBL, "
          "junk_filter = no", flush=True)
    off_rate = a.count / res["off"][0]
    off_cpu = res["off"][1]
    for name, what in (("one", "on, one sender domain (DNS cached)"),
                       ("many", "on, a new sender domain per message"),
                       ("off", "off")):
        dt, cpu, q, got = res[name]
        rate = a.count / dt
        line = (f"inbound: {what}: {rate:.0f} msg/s, wren CPU {cpu:.2f} "
                f"s ({1000 * cpu / a.count:.2f} ms/msg), {q} DNS queries")
        if name != "off":
            t = tally(got)
            k = len(got)
            if t["spf"] + t["spf_busy"] != k or t["dkim"] != k or \
                    t["dmarc"] != k or t["scored"] == 0:
                raise SystemExit(f"checks did not all pass: {t} of {k}: "
                                 f"{top}/{name}")
            line += (f"; on/off {rate / off_rate:.2f}x msg/s, "
                     f"{cpu / off_cpu if off_cpu else 0:.2f}x CPU; "
                     f"{rate:.0f} RSA-2048 verifies/s (one a message; "
                     f"{a.count / cpu if cpu else 0:.0f} per wren CPU "
                     f"second, all its other work included); of {k} "
                     f"(warm-up included) {k - t['scored']} not junk-"
                     f"scored (X-Wren-Junk: none: no scanner free), "
                     f"{t['spf_busy']} spf=temperror (every SPF "
                     f"evaluator busy)")
        print(line, flush=True)

if __name__ == "__main__":
    sys.exit(main())
