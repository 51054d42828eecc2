#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""A reproducible synthetic Maildir for the IMAP benchmarks.

COUNT messages, each a function of (SEED, its number) only: sizes
log-uniform over 2-50 KB, about 35 % MIME multipart (18 % mixed with a
base64 attachment, 10 % alternative text + HTML, 5 % mixed holding an
alternative and an attachment, 2 % a forwarded message/rfc822), the
rest text/plain (a tenth of it quoted-printable). Headers vary the way
ENVELOPE and BODYSTRUCTURE care about: display names quoted, with
commas or RFC 2047 encoded, several To/Cc, groups, Reply-To, Sender,
In-Reply-To, encoded subjects and quotes in subjects. About 70 % carry
\\Seen, 5 % \\Flagged, 3 % \\Answered.

Files are written to cur/ with LF line ends and named as wren's (and
Dovecot's LDA) deliveries are, <sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,
W=<CRLF size>:2,<flags>, so servers read sizes from names; names sort
in delivery order.

    maildir_corpus.py MAILDIR [MAILDIR...] [--count N] [--seed S]

Every MAILDIR gets an identical copy (new/ cur/ tmp/ emptied first).
"""
import argparse
import base64
import os
import random
import sys
import time

WORDS = ("ledger harbour granite willow copper lantern meadow orbit "
         "parcel quartz ribbon saddle thimble umbrella velvet walnut "
         "yonder zephyr anchor beacon cobalt dynamo ember fathom gadget "
         "hazel igloo jasper kettle lagoon mosaic nectar oyster pepper "
         "quiver rustic sonnet tundra utopia vortex wander xenon yarrow "
         "zinnia schedule invoice agenda minutes backup firmware router "
         "sensor battery garden bicycle holiday recipe concert ticket "
         "payment receipt shipment warranty update patch release").split()
PEOPLE = [
    ('Ada Lovelace', 'ada@analytical.example'),
    ('"Hopper, Grace"', 'grace@navy.example'),
    ('=?UTF-8?Q?Ren=C3=A9e_Fa=C3=A7ade?=', 'renee@paris.example'),
    ('', 'noreply@shop.example'),
    ('Linus T.', 'linus@kernel.example'),
    ('"Dr. Who (TARDIS)"', 'doctor@gallifrey.example'),
    ('=?ISO-8859-1?B?SvxyZ2Vu?=', 'juergen@berlin.example'),
    ('Margaret Hamilton', 'margaret@apollo.example'),
    ('"O\'Brien, Miles"', 'miles@ds9.example'),
    ('Katherine Johnson', 'kj@nasa.example'),
    ('Mailing List', 'list-owner@lists.example'),
    ('"Quote \\"Q\\" Master"', 'qm@quotes.example'),
]
ZONES = ["+0000", "+0100", "-0500", "+0530", "-0800", "+0900", "+1200"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
HOST = "bench.example.test"


def addr(p):
    name, a = p
    return f"{name} <{a}>" if name else a


def rfc2822_date(ts, zone):
    sign = 1 if zone[0] == "+" else -1
    off = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
    t = time.gmtime(ts + off)
    return (f"{DAYS[t.tm_wday]}, {t.tm_mday} {MONTHS[t.tm_mon - 1]} "
            f"{t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} "
            f"{zone}")


class Corpus:
    def __init__(self, seed):
        self.seed = seed
        rng = random.Random(f"lines-{seed}")
        self.lines = [" ".join(rng.choice(WORDS) for _ in range(
            rng.randint(5, 11))).capitalize() + rng.choice(".,;:!?")
            for _ in range(4096)]

    def text(self, rng, nbytes):
        out, n = [], 0
        while n < nbytes:
            k = rng.randint(4, 12)
            para = rng.choices(self.lines, k=k)
            out.extend(para)
            out.append("")
            n += sum(len(x) + 1 for x in para) + 1
        return "\n".join(out) + "\n"

    def qp(self, rng, nbytes):
        out = []
        for line in self.text(rng, nbytes).split("\n"):
            if line and rng.random() < 0.2:
                line += " caf=C3=A9 na=C3=AFve d=C3=A9j=C3=A0 vu"
            while len(line) > 74:
                out.append(line[:73] + "=")
                line = line[73:]
            out.append(line)
        return "\n".join(out)

    @staticmethod
    def b64(rng, nbytes):
        raw = rng.randbytes(max(64, nbytes * 3 // 4))
        return base64.encodebytes(raw).decode()

    def html(self, rng, nbytes):
        paras = self.text(rng, nbytes).strip("\n").split("\n\n")
        return ("<html><head><meta charset=\"utf-8\"></head><body>\n" +
                "\n".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>"
                          for p in paras) + "\n</body></html>\n")

    def headers(self, rng, i, ts):
        frm = rng.choice(PEOPLE)
        sent = ts - rng.randint(1, 600)
        zone = rng.choice(ZONES)
        h = [f"Return-Path: <{frm[1]}>",
             f"Received: from mx{i % 7}.example.net (mx{i % 7}.example.net"
             f" [198.51.100.{i % 250 + 1}])\n\tby {HOST} (wren) with ESMTPS"
             f" id Q{i:06d}\n\tfor <sync@example.test>; "
             f"{rfc2822_date(ts, '+0000')}",
             f"Date: {rfc2822_date(sent, zone)}",
             f"From: {addr(frm)}"]
        r = rng.random()
        if r < 0.03:
            h.append("To: undisclosed-recipients:;")
        elif r < 0.06:
            h.append("To: Team: ada@analytical.example, "
                     "\"Hopper, Grace\" <grace@navy.example>;, "
                     "sync@example.test")
        elif r < 0.25:
            h.append("To: Sync User <sync@example.test>,\n "
                     + ",\n ".join(addr(rng.choice(PEOPLE))
                                   for _ in range(rng.randint(1, 4))))
        else:
            h.append("To: Sync User <sync@example.test>")
        if rng.random() < 0.25:
            h.append("Cc: " + ", ".join(addr(rng.choice(PEOPLE))
                                        for _ in range(rng.randint(1, 3))))
        if rng.random() < 0.08:
            h.append(f"Reply-To: {addr(rng.choice(PEOPLE))}")
        if rng.random() < 0.04:
            h.append("Sender: list-bounces@lists.example")
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
        r = rng.random()
        if r < 0.10:
            subj = ("=?UTF-8?B?" + base64.b64encode(
                f"Réunion {words} №{i}".encode()).decode() + "?=")
        elif r < 0.13:
            subj = f'The "{words}" question #{i}'
        elif r < 0.30:
            subj = f"Re: {words.capitalize()} #{i}"
        elif r < 0.31:
            subj = f"Long {words} " + " ".join(
                rng.choice(WORDS) for _ in range(30)) + f"\n #{i}"
        else:
            subj = f"{words.capitalize()} #{i}"
        h.append(f"Subject: {subj}")
        h.append(f"Message-ID: <{ts}.{i}.{rng.getrandbits(32):08x}"
                 f"@{frm[1].split('@')[1]}>")
        if i > 0 and rng.random() < 0.2:
            h.append(f"In-Reply-To: <{ts - 1800}.{i - 1}.0@example.net>")
        if rng.random() < 0.3:
            h.append(f"X-Mailer: BenchMailer {rng.randint(1, 9)}.{i % 10}")
        h.append("MIME-Version: 1.0")
        return "\n".join(h) + "\n"

    def body(self, rng, i, room):
        k = rng.random()
        b = f"----=_Part_{i}_{rng.getrandbits(24):06x}"
        if k < 0.18:
            t = self.text(rng, min(room // 3, rng.randint(200, 3000)))
            att = self.b64(rng, max(100, room - len(t) - 400))
            return (f"Content-Type: multipart/mixed; boundary=\"{b}\"\n\n"
                    f"This is a multi-part message in MIME format.\n\n"
                    f"--{b}\nContent-Type: text/plain; charset=us-ascii\n"
                    f"Content-Transfer-Encoding: 7bit\n\n{t}\n"
                    f"--{b}\nContent-Type: application/pdf; "
                    f"name=\"scan{i}.pdf\"\nContent-Disposition: attachment;"
                    f" filename=\"scan{i}.pdf\"\n"
                    f"Content-Transfer-Encoding: base64\n\n{att}\n--{b}--\n")
        if k < 0.28:
            t = self.text(rng, room * 2 // 5)
            return (f"Content-Type: multipart/alternative; boundary=\"{b}\""
                    f"\n\n--{b}\nContent-Type: text/plain; charset=utf-8\n"
                    f"Content-Transfer-Encoding: 8bit\n\n{t}\n"
                    f"--{b}\nContent-Type: text/html; charset=utf-8\n\n"
                    f"{self.html(rng, room * 2 // 5)}\n--{b}--\n")
        if k < 0.33:
            a = f"{b}_alt"
            t = self.text(rng, room // 5)
            att = self.b64(rng, room // 2)
            return (f"Content-Type: multipart/mixed; boundary=\"{b}\"\n\n"
                    f"--{b}\nContent-Type: multipart/alternative; "
                    f"boundary=\"{a}\"\n\n--{a}\nContent-Type: text/plain;"
                    f" charset=utf-8\nContent-Transfer-Encoding: "
                    f"quoted-printable\n\n{self.qp(rng, room // 5)}\n--{a}\n"
                    f"Content-Type: text/html; charset=utf-8\n\n"
                    f"{self.html(rng, room // 5)}\n--{a}--\n\n--{b}\n"
                    f"Content-Type: image/png\nContent-Disposition: inline; "
                    f"filename=\"chart{i}.png\"\nContent-ID: <chart{i}@x>\n"
                    f"Content-Transfer-Encoding: base64\n\n{att}\n--{b}--\n"
                    f"{t[:200]}")
        if k < 0.35:
            inner = (f"From: {addr(rng.choice(PEOPLE))}\nTo: someone@"
                     f"example.net\nSubject: Fwd original #{i}\nDate: "
                     f"{rfc2822_date(1600000000 + i, '+0200')}\n"
                     f"Message-ID: <orig{i}@example.net>\nMIME-Version: "
                     f"1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
                     f"{self.text(rng, room // 2)}")
            return (f"Content-Type: multipart/mixed; boundary=\"{b}\"\n\n"
                    f"--{b}\nContent-Type: text/plain\n\n"
                    f"{self.text(rng, room // 3)}\n--{b}\n"
                    f"Content-Type: message/rfc822\nContent-Disposition: "
                    f"attachment\n\n{inner}\n--{b}--\n")
        if k < 0.42:
            return ("Content-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: quoted-printable\n\n"
                    + self.qp(rng, room) + "\n")
        return ("Content-Type: text/plain; charset=us-ascii; format=flowed"
                "\n\n" + self.text(rng, room))

    def message(self, i):
        """(file name, bytes) of message i."""
        rng = random.Random(f"{self.seed}-{i}")
        target = int(2048 * 25 ** rng.random())
        ts = 1700000000 + i * 1800 + rng.randint(0, 1799)
        hdr = self.headers(rng, i, ts)
        body = self.body(rng, i, max(300, target - len(hdr) - 60))
        data = (hdr + body).encode()
        answered = rng.random() < 0.03
        flagged = rng.random() < 0.05
        seen = rng.random() < 0.7
        # Maildir info flags are in ASCII order.
        flags = ("F" if flagged else "") + ("R" if answered else "") + \
            ("S" if seen else "")
        w = len(data) + data.count(b"\n")
        name = (f"{ts}.M{rng.randint(0, 999999)}P4242Q{i}.{HOST},"
                f"S={len(data)},W={w}:2,{flags}")
        return name, data


def fill(targets, count, seed):
    """Writes the corpus into each (Maildir, (uid, gid) or None) of
    targets; returns (messages, bytes, kinds)."""
    for md, own in targets:
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
            for e in os.scandir(os.path.join(md, sub)):
                os.unlink(e.path)
        if own:
            for d in (md, *(os.path.join(md, s) for s in ("new", "cur",
                                                            "tmp"))):
                os.chown(d, *own)
    c = Corpus(seed)
    total, multi = 0, 0
    for i in range(count):
        name, data = c.message(i)
        total += len(data)
        multi += b"Content-Type: multipart/" in data[:data.find(b"\n\n")]
        for md, own in targets:
            p = os.path.join(md, "cur", name)
            with open(p, "wb") as f:
                f.write(data)
            if own:
                os.chown(p, *own)
    return count, total, multi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir", nargs="+")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.monotonic()
    n, b, m = fill([(d, None) for d in a.maildir], a.count, a.seed)
    print(f"{n} messages, {b / 1e6:.1f} MB, {m} multipart, "
          f"{time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
