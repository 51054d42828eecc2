# SPDX-License-Identifier: ISC
"""A made-up mail corpus for the junk filter's tests and bench: ham and
spam drawn from overlapping vocabularies with realistic headers and MIME
shapes (plain, quoted-printable, base64, multipart/alternative with
HTML), from a fixed seed, so every run sees the same messages.

Both classes share the common words and many topic words: ham mentions
offers and prices now and then, spam borrows business words; senders'
mailers and domains overlap too. What separates them is how often each
word comes, as in real mail, not two disjoint word lists."""
import base64
import quopri
import random

COMMON = """the of and to a in is it you that he was for on are with as
his they be at one have this from or had by not word but what some we
can out other were all there when up use your how said an each she
which do their time if will way about many then them write would like
so these her long make thing see him two has look more day could go
come did number sound no most people my over know water than call first
who may down side been now find any new work part take get place made
live where after back little only round man year came show every good
me give our under name very through just form sentence great think say
help low line differ turn cause much mean before move right boy old too
same tell does set three want air well also play small end put home
read hand port large spell add even land here must big high such follow
act why ask men change went light kind off need house picture try us
again animal point mother world near build self earth father""".split()

HAM_TOPICS = """meeting agenda minutes project deadline review draft
report quarterly budget team schedule thursday friday monday tuesday
conference call slides notes patch release version branch merge commit
build test failure fixed regression kernel driver compile config server
backup disk router firmware lunch dinner weekend family kids school
birthday party photos holiday trip train flight hotel booking invoice
receipt attached document spreadsheet feedback thanks regards cheers
question answer proposal contract client customer support ticket issue
bug ticket milestone sprint roadmap hiring interview candidate garden
recipe book library concert tickets neighbour plumber repair insurance
mortgage pension tax return accountant doctor appointment dentist""".split()

SPAM_TOPICS = """free winner won prize cash bonus offer limited exclusive
guaranteed risk viagra cialis pills pharmacy discount cheap lowest price
save unsubscribe click here now urgent act immediately congratulations
selected lottery claim reward million dollars bitcoin crypto investment
returns profit earn income home opportunity loan credit approved debt
consolidation weight loss diet miracle casino bet jackpot spins deposit
replica watches luxury brand sale clearance deal hurry expires today
account suspended verify password login security alert bank paypal
refund inheritance beneficiary transfer funds nigerian prince dating
singles hot meet tonight enlargement supplement order shipping""".split()

# Words both kinds use, but not equally often.
SHARED = """offer price order account password security invoice payment
meeting customer support team deal update please confirm today money
business website online service email message link information""".split()

HAM_FROM = ["alice.martin", "bob", "j.smith", "maria.garcia", "team",
            "noreply", "dev-list", "hr", "support", "newsletter", "carol"]
HAM_DOMAINS = ["example.org", "company.test", "lists.debian.test",
               "university.test", "bank.test", "shop.test", "family.test"]
SPAM_FROM = ["winner", "promo", "support", "info", "deals", "admin",
             "security", "noreply", "sales", "service", "newsletter"]
SPAM_DOMAINS = ["bestdeals-online.test", "cheap-meds.test", "secure-login"
                "-verify.test", "lottery-intl.test", "crypto-gains.test",
                "shop.test", "mail-promo.test", "bank-alerts.test"]
MAILERS = ["Mozilla Thunderbird", "Microsoft Outlook 16.0", "Apple Mail",
           "Roundcube Webmail", "PHPMailer 6.5", "Mutt/2.2"]


def words(rng, n, spam):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.55:
            out.append(rng.choice(COMMON))
        elif r < 0.70:
            out.append(rng.choice(SHARED))
        elif r < (0.93 if spam else 0.95):
            out.append(rng.choice(SPAM_TOPICS if spam else HAM_TOPICS))
        else:       # borrowed from the other kind
            out.append(rng.choice(HAM_TOPICS if spam else SPAM_TOPICS))
    return out


def sentences(rng, n, spam):
    text = []
    for _ in range(n):
        w = words(rng, rng.randint(6, 16), spam)
        text.append(" ".join(w).capitalize() + rng.choice(".!?." if spam
                                                          else "..?"))
    return text


def message(rng, i, spam, to="alice@example.test"):
    """One message as bytes (CRLF line ends)."""
    dom = rng.choice(SPAM_DOMAINS if spam else HAM_DOMAINS)
    frm = f"{rng.choice(SPAM_FROM if spam else HAM_FROM)}@{dom}"
    subj = " ".join(words(rng, rng.randint(3, 8), spam)).capitalize()
    if spam and rng.random() < 0.3:
        subj = subj.upper() + "!!!"
    day = rng.randint(1, 28)
    hdr = [f"From: {frm}", f"To: {to}", f"Subject: {subj}",
           f"Date: Mon, {day} Nov 2026 {rng.randint(0, 23):02d}:"
           f"{rng.randint(0, 59):02d}:00 +0000",
           f"Message-ID: <{'s' if spam else 'h'}{i}.{rng.getrandbits(40):x}"
           f"@{dom}>", "MIME-Version: 1.0"]
    if rng.random() < 0.5:
        hdr.append(f"X-Mailer: {rng.choice(MAILERS)}")
    paras = ["\n".join(sentences(rng, rng.randint(2, 5), spam))
             for _ in range(rng.randint(1, 4))]
    if spam and rng.random() < 0.5:
        url = f"http://www.{dom}/{rng.choice(SPAM_TOPICS)}?id={i}"
        paras.append(f"Visit {url} now.")
    elif not spam and rng.random() < 0.2:
        paras.append(f"See https://{dom}/docs/{rng.choice(HAM_TOPICS)}")
    plain = "\n\n".join(paras) + "\n"
    shape = rng.random()
    if spam and shape < 0.4:
        html = "<html><body>" + "".join(
            f'<p><font color="#ff0000">{p}</font></p>' for p in paras) + \
            "</body></html>\n"
        b = "b" + format(rng.getrandbits(48), "x")
        hdr.append(f'Content-Type: multipart/alternative; boundary="{b}"')
        body = (f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n"
                f"{plain}\n--{b}\nContent-Type: text/html; charset=utf-8\n"
                "Content-Transfer-Encoding: base64\n\n" +
                base64.encodebytes(html.encode()).decode() +
                f"--{b}--\n")
    elif shape < 0.6:
        hdr.append("Content-Type: text/plain; charset=utf-8")
        hdr.append("Content-Transfer-Encoding: quoted-printable")
        body = quopri.encodestring(plain.encode()).decode()
    elif not spam and shape > 0.9:
        b = "b" + format(rng.getrandbits(48), "x")
        hdr.append(f'Content-Type: multipart/mixed; boundary="{b}"')
        att = base64.encodebytes(bytes(rng.getrandbits(8)
                                       for _ in range(600))).decode()
        body = (f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n"
                f"{plain}\n--{b}\nContent-Type: application/pdf\n"
                "Content-Transfer-Encoding: base64\n\n" + att +
                f"--{b}--\n")
    else:
        hdr.append("Content-Type: text/plain; charset=utf-8")
        body = plain
    text = "\n".join(hdr) + "\n\n" + body
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def corpus(seed, n_ham, n_spam, start=0):
    """[(is_spam, bytes)], ham and spam interleaved, from seed."""
    rng = random.Random(seed)
    out = []
    for i in range(max(n_ham, n_spam)):
        if i < n_ham:
            out.append((False, message(rng, start + i, False)))
        if i < n_spam:
            out.append((True, message(rng, start + i, True)))
    return out


def db_counts(path):
    """(ham messages, spam messages, tokens) from a wren-junk.db, or
    None when there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    assert data[:8] == b"wrenjunk", data[:8]
    le = lambda o: int.from_bytes(data[o:o + 4], "little")
    return le(12), le(16), le(20)
