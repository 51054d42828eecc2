/* SPDX-License-Identifier: ISC */
/*
 * test_dns_pkt.c - the sans-I/O DNS codec (dns/dns_pkt.h): queries as
 * built (RFC 1035 4.1, RFC 6891 OPT), responses parsed against the
 * question, records with compressed names (RFC 1035 4.1.4), and the
 * limits on labels, names, pointers and RDLENGTH.
 *
 * Each table row is a raw message with a one-line description and the
 * trace it must give: one entry per record, then the error, if any.
 * Most rows are malformed or hostile. Messages are copied to heap
 * blocks of exactly their length, so ASan catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns/dns_pkt.h"
#include "testutil.h"

/* Header pieces: id 0x1234, one question. Names are split into
 * separate literals so that a hex escape never eats a letter. */
#define ID		"\x12\x34"
#define F_OK		"\x81\x80"	/* QR RD RA, NOERROR */
#define F_NX		"\x81\x83"	/* NXDOMAIN */
#define F_SERVFAIL	"\x81\x82"
#define F_TC		"\x83\x80"	/* TC set */
#define F_AA		"\x85\x80"
#define N0		"\x00\x00"
#define N1		"\x00\x01"
#define N2		"\x00\x02"
#define N3		"\x00\x03"
#define HDR(f, an, ns)	ID f N1 an ns N0
/* example.com at offset 12, 13 octets: the answers start at 29. */
#define QNAME		"\x07" "example" "\x03" "com" "\x00"
#define QD(t)		QNAME t "\x00\x01"
#define T_A		"\x00\x01"
#define T_CNAME		"\x00\x05"
#define T_SOA		"\x00\x06"
#define T_PTR		"\x00\x0c"
#define T_MX		"\x00\x0f"
#define T_TXT		"\x00\x10"
#define T_AAAA		"\x00\x1c"
#define T_SRV		"\x00\x21"
#define IN		"\x00\x01"
#define TTL300		"\x00\x00\x01\x2c"
#define PQ		"\xc0\x0c"	/* pointer to example.com */
#define RR(owner, type, rdlen)	owner type IN TTL300 rdlen

#define Q_ID	0x1234

struct pkt_case {
	const char	*desc;
	struct text	 in;
	const char	*qname;		/* NULL: example.com */
	uint16_t	 qtype;
	const char	*want;
};

#define P(d, s, t, w)		{ d, TN(s), NULL, t, w }
#define PQN(d, s, q, t, w)	{ d, TN(s), q, t, w }

static const struct pkt_case pkt_cases[] = {
	/* --- good messages --- */
	P("two MX, targets compressed against the question",
	  HDR(F_OK, N2, N0) QD(T_MX)
	  RR(PQ, T_MX, "\x00\x08") "\x00\x0a" "\x03" "mx1" PQ
	  RR(PQ, T_MX, "\x00\x08") "\x00\x14" "\x03" "mx2" PQ, 15,
	  "example.com 300 MX 10 mx1.example.com;"
	  "example.com 300 MX 20 mx2.example.com;"),
	P("MX target through two pointers (mx1's name, then the question)",
	  HDR(F_OK, N2, N0) QD(T_MX)
	  RR(PQ, T_MX, "\x00\x08") "\x00\x0a" "\x03" "mx1" PQ
	  RR(PQ, T_MX, "\x00\x08") "\x00\x0a" "\x03" "mx2" "\xc0\x2b", 15,
	  "example.com 300 MX 10 mx1.example.com;"
	  "example.com 300 MX 10 mx2.mx1.example.com;"),
	P("three MX with the same preference, uncompressed",
	  HDR(F_OK, N3, N0) QD(T_MX)
	  RR(QNAME, T_MX, "\x00\x05") "\x00\x05" "\x01" "a" "\x00"
	  RR(QNAME, T_MX, "\x00\x05") "\x00\x05" "\x01" "b" "\x00"
	  RR(QNAME, T_MX, "\x00\x05") "\x00\x05" "\x01" "c" "\x00", 15,
	  "example.com 300 MX 5 a;example.com 300 MX 5 b;"
	  "example.com 300 MX 5 c;"),
	P("CNAME chain of two, then the A record",
	  HDR(F_OK, N3, N0) QD(T_A)
	  RR(PQ, T_CNAME, "\x00\x04") "\x01" "a" PQ
	  RR("\xc0\x29", T_CNAME, "\x00\x04") "\x01" "b" PQ
	  RR("\xc0\x39", T_A, "\x00\x04") "\xc0\x00\x02\x01", 1,
	  "example.com 300 CNAME a.example.com;"
	  "a.example.com 300 CNAME b.example.com;"
	  "b.example.com 300 A 192.0.2.1;"),
	P("AAAA",
	  HDR(F_OK, N1, N0) QD(T_AAAA)
	  RR(PQ, T_AAAA, "\x00\x10")
	  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x26",
	  28, "example.com 300 AAAA 2001:0db8:0000:0000:0000:0000:0000:0026;"),
	P("TXT with two strings (SPF joins them without a space)",
	  HDR(F_OK, N1, N0) QD(T_TXT)
	  RR(PQ, T_TXT, "\x00\x0c") "\x06" "v=spf1" "\x04" " -al", 16,
	  "example.com 300 TXT [v=spf1 -al];"),
	P("TXT with an empty string",
	  HDR(F_OK, N1, N0) QD(T_TXT)
	  RR(PQ, T_TXT, "\x00\x01") "\x00", 16, "example.com 300 TXT [];"),
	P("PTR",
	  HDR(F_OK, N1, N0) QD(T_PTR)
	  RR(PQ, T_PTR, "\x00\x07") "\x04" "mail" PQ, 12,
	  "example.com 300 PTR mail.example.com;"),
	P("null MX (RFC 7505): preference 0, root target",
	  HDR(F_OK, N1, N0) QD(T_MX)
	  RR(PQ, T_MX, "\x00\x03") "\x00\x00" "\x00", 15,
	  "example.com 300 MX 0 .;"),
	P("NXDOMAIN with the SOA in the authority section",
	  HDR(F_NX, N0, N1) QD(T_MX)
	  RR(PQ, T_SOA, "\x00\x20") "\x02" "ns" PQ "\x04" "host" PQ
	  "\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x02\x58"
	  "\x00\x09\x3a\x80" "\x00\x00\x00\x3c", 15,
	  "rcode=3;ns:example.com 300 SOA ns.example.com min 60;"),
	P("NODATA: no answer at all", HDR(F_OK, N0, N0) QD(T_MX), 15, ""),
	P("SERVFAIL is reported, not an error",
	  HDR(F_SERVFAIL, N0, N0) QD(T_MX), 15, "rcode=2;"),
	P("authoritative answer", HDR(F_AA, N0, N0) QD(T_MX), 15, "aa;"),
	P("a record of an unknown type is skipped",
	  HDR(F_OK, N2, N0) QD(T_A)
	  RR(PQ, "\x00\x63", "\x00\x03") "xyz"
	  RR(PQ, T_A, "\x00\x04") "\x0a\x00\x00\x01", 1,
	  "example.com 300 A 10.0.0.1;"),
	P("a record of class CH is skipped",
	  HDR(F_OK, N2, N0) QD(T_A)
	  PQ T_A "\x00\x03" TTL300 "\x00\x04" "\x0a\x00\x00\x09"
	  RR(PQ, T_A, "\x00\x04") "\x0a\x00\x00\x01", 1,
	  "example.com 300 A 10.0.0.1;"),
	P("a TTL with the top bit set reads 0 (RFC 2181 8)",
	  HDR(F_OK, N1, N0) QD(T_A)
	  PQ T_A IN "\x80\x00\x00\x01" "\x00\x04" "\x0a\x00\x00\x01", 1,
	  "example.com 0 A 10.0.0.1;"),
	PQN("the question in another case matches (0x20 style)",
	  HDR(F_OK, N1, N0) "\x07" "ExAmPlE" "\x03" "COM" "\x00" T_A IN
	  RR(PQ, T_A, "\x00\x04") "\x0a\x00\x00\x01", "example.com.", 1,
	  "ExAmPlE.COM 300 A 10.0.0.1;"),
	P("additional records are not read",
	  ID F_OK N1 N0 N0 N1 QD(T_A) "\x00" "\x00\x29" "\x04\xd0"
	  "\x00\x00\x00\x00" "\x00\x00", 1, ""),
	P("truncated (TC) with the count of a record not sent",
	  HDR(F_TC, N1, N0) QD(T_MX), 15, "tc;err=TRUNCATED"),

	/* --- the header and the question --- */
	P("empty message", "", 1, "init=SHORT"),
	P("11 octets", ID F_OK N1 N0 N0 "\x00", 1, "init=SHORT"),
	P("another id", "\x12\x35" F_OK N1 N0 N0 N0 QD(T_A), 1, "init=ID"),
	P("QR clear: a query, not a response",
	  ID "\x01\x00" N1 N0 N0 N0 QD(T_A), 1, "init=NOT_RESPONSE"),
	P("opcode STATUS", ID "\x90\x00" N1 N0 N0 N0 QD(T_A), 1,
	  "init=OPCODE"),
	P("no question", ID F_OK N0 N0 N0 N0, 1, "init=QDCOUNT"),
	P("two questions", ID F_OK N2 N0 N0 N0 QD(T_A) QD(T_A), 1,
	  "init=QDCOUNT"),
	P("another name", HDR(F_OK, N0, N0) "\x07" "exbmple" "\x03" "com"
	  "\x00" T_A IN, 1, "init=QUESTION"),
	P("a name one label longer",
	  HDR(F_OK, N0, N0) "\x01" "x" QNAME T_A IN, 1, "init=QUESTION"),
	P("another type", HDR(F_OK, N0, N0) QD(T_AAAA), 1, "init=QUESTION"),
	P("class CH", HDR(F_OK, N0, N0) QNAME T_A "\x00\x03", 1,
	  "init=QUESTION"),
	P("question name without its end", HDR(F_OK, N0, N0)
	  "\x07" "example" "\x03" "co", 1, "init=TRUNCATED"),
	P("question without type and class", HDR(F_OK, N0, N0) QNAME
	  "\x00", 1, "init=TRUNCATED"),
	P("question name pointing at itself",
	  HDR(F_OK, N0, N0) "\xc0\x0c" T_A IN, 1, "init=PTR_FORWARD"),
	P("question name pointing into the header",
	  HDR(F_OK, N0, N0) "\xc0\x02" T_A IN, 1, "init=PTR_RANGE"),
	P("question label of 64 (0x40 type)",
	  HDR(F_OK, N0, N0) "\x40" "example" "\x00" T_A IN, 1,
	  "init=LABEL_LONG"),
	P("question label type 0x80",
	  HDR(F_OK, N0, N0) "\x80" "example" "\x00" T_A IN, 1,
	  "init=LABEL_LONG"),
	PQN("question label holding a dot",
	  HDR(F_OK, N0, N0) "\x03" "a.b" "\x00" T_A IN, "a.b", 1,
	  "init=NAME_CHAR"),
	PQN("question label holding a NUL",
	  HDR(F_OK, N0, N0) "\x03" "a\0b" "\x00" T_A IN, "a", 1,
	  "init=NAME_CHAR"),

	/* --- records --- */
	P("answer count larger than the message",
	  HDR(F_OK, "\x00\x05", N0) QD(T_A)
	  RR(PQ, T_A, "\x00\x04") "\x0a\x00\x00\x01", 1,
	  "example.com 300 A 10.0.0.1;err=TRUNCATED"),
	P("answer count 65535, no records",
	  HDR(F_OK, "\xff\xff", "\xff\xff") QD(T_A), 1, "err=TRUNCATED"),
	P("record cut inside its fixed part",
	  HDR(F_OK, N1, N0) QD(T_A) PQ T_A IN "\x00\x00", 1,
	  "err=TRUNCATED"),
	P("RDLENGTH past the end",
	  HDR(F_OK, N1, N0) QD(T_A) RR(PQ, T_A, "\x00\x05") "\x0a\x00\x00\x01",
	  1, "err=TRUNCATED"),
	P("RDLENGTH 65535 past the end",
	  HDR(F_OK, N1, N0) QD(T_TXT) RR(PQ, T_TXT, "\xff\xff") "\x01" "a",
	  16, "err=TRUNCATED"),
	P("owner pointing forward",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xc0\x2d", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01" "\x00", 1, "err=PTR_FORWARD"),
	P("owner pointing at itself (a loop)",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xc0\x1d", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=PTR_FORWARD"),
	P("owner label, then a pointer back to that label (a loop)",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\x01" "a" "\xc0\x1d", T_A,
	  "\x00\x04") "\x0a\x00\x00\x01", 1, "err=PTR_FORWARD"),
	P("pointer past the end",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xc0\xff", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=PTR_RANGE"),
	P("pointer far past the end (0x3fff)",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xff\xff", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=PTR_RANGE"),
	P("pointer into the header",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xc0\x04", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=PTR_RANGE"),
	P("pointer cut after its first octet",
	  HDR(F_OK, N1, N0) QD(T_A) "\xc0", 1, "err=TRUNCATED"),
	P("owner label running past the end",
	  HDR(F_OK, N1, N0) QD(T_A) "\x3f" "abc", 1, "err=TRUNCATED"),
	P("owner label length 0x41",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\x41" "a" "\x00", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=LABEL_LONG"),
	P("owner with a space, in a record we keep",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\x03" "a b" "\x00", T_A, "\x00\x04")
	  "\x0a\x00\x00\x01", 1, "err=NAME_CHAR"),
	P("owner with a space, in a record we skip, is fine",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\x03" "a b" "\x00", "\x00\x63",
	  "\x00\x00"), 1, ""),
	P("owner with a bad pointer, in a record we skip",
	  HDR(F_OK, N1, N0) QD(T_A) RR("\xc0\xee", "\x00\x63", "\x00\x00"),
	  1, "err=PTR_RANGE"),
	P("A with RDLENGTH 5",
	  HDR(F_OK, N1, N0) QD(T_A) RR(PQ, T_A, "\x00\x05")
	  "\x0a\x00\x00\x01\x02", 1, "err=RDLENGTH"),
	P("A with RDLENGTH 3",
	  HDR(F_OK, N1, N0) QD(T_A) RR(PQ, T_A, "\x00\x03") "\x0a\x00\x00",
	  1, "err=RDLENGTH"),
	P("AAAA with RDLENGTH 4",
	  HDR(F_OK, N1, N0) QD(T_AAAA) RR(PQ, T_AAAA, "\x00\x04")
	  "\x0a\x00\x00\x01", 28, "err=RDLENGTH"),
	P("MX with RDLENGTH 2",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x02") "\x00\x0a", 15,
	  "err=RDLENGTH"),
	P("MX name running past its RDLENGTH",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x05") "\x00\x0a"
	  "\x03" "mx1" PQ, 15, "err=RDLENGTH"),
	P("MX with junk after its name",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x06") "\x00\x0a"
	  PQ "zz", 15, "err=RDLENGTH"),
	P("MX target pointing forward",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x04") "\x00\x0a"
	  "\xc0\x2d" "\x00", 15, "err=PTR_FORWARD"),
	P("MX target with a dot inside a label",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x07") "\x00\x0a"
	  "\x03" "a.b" "\x00", 15, "err=NAME_CHAR"),
	P("MX target with a control octet",
	  HDR(F_OK, N1, N0) QD(T_MX) RR(PQ, T_MX, "\x00\x07") "\x00\x0a"
	  "\x03" "a\nb" "\x00", 15, "err=NAME_CHAR"),
	P("CNAME with RDLENGTH 0",
	  HDR(F_OK, N1, N0) QD(T_A) RR(PQ, T_CNAME, "\x00\x00"), 1,
	  "err=RDLENGTH"),
	P("PTR name shorter than RDLENGTH",
	  HDR(F_OK, N1, N0) QD(T_PTR) RR(PQ, T_PTR, "\x00\x03") PQ "\x00",
	  12, "err=RDLENGTH"),
	P("TXT with RDLENGTH 0",
	  HDR(F_OK, N1, N0) QD(T_TXT) RR(PQ, T_TXT, "\x00\x00"), 16,
	  "err=RDLENGTH"),
	P("TXT string longer than its RDLENGTH",
	  HDR(F_OK, N1, N0) QD(T_TXT) RR(PQ, T_TXT, "\x00\x03") "\x05" "ab",
	  16, "err=RDLENGTH"),
	P("SOA with 19 octets after its names",
	  HDR(F_NX, N0, N1) QD(T_MX) RR(PQ, T_SOA, "\x00\x17") PQ PQ
	  "\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x02\x58\x00\x09\x3a\x80"
	  "\x00\x00\x00", 15, "rcode=3;err=RDLENGTH"),
	P("SRV (RFC 2782): priority, weight, port, target",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x0d") "\x00\x00" "\x00\x01" "\x01\xd1"
	  "\x04" "mail" PQ, 33,
	  "example.com 300 SRV 0 1 465 mail.example.com;"),
	P("SRV with the root as target: service not offered",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x07") "\x00\x00" "\x00\x00" "\x00\x00"
	  "\x00", 33, "example.com 300 SRV 0 0 0 .;"),
	P("hostile: SRV of 6 octets, no target at all",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x06") "\x00\x00" "\x00\x01" "\x01\xd1",
	  33, "err=RDLENGTH"),
	P("hostile: SRV target runs past RDLENGTH",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x09") "\x00\x00" "\x00\x01" "\x01\xd1"
	  "\x04" "mail" PQ, 33, "err=RDLENGTH"),
	P("hostile: SRV with octets after its target",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x0a") "\x00\x00" "\x00\x01" "\x01\xd1"
	  "\x01" "a" "\x00" "\xff" "\x00\x00", 33, "err=RDLENGTH"),
	P("hostile: SRV target a pointer to itself",
	  HDR(F_OK, N1, N0) QD(T_SRV)
	  RR(PQ, T_SRV, "\x00\x08") "\x00\x00" "\x00\x01" "\x01\xd1"
	  "\xc0\x2f", 33, "err=PTR_FORWARD"),
	P("a good record, then a bad one: the first is kept",
	  HDR(F_OK, N2, N0) QD(T_A)
	  RR(PQ, T_A, "\x00\x04") "\x0a\x00\x00\x01"
	  RR(PQ, T_A, "\x00\x02") "\x0a\x00", 1,
	  "example.com 300 A 10.0.0.1;err=RDLENGTH"),
};

static const char *const perr_names[] = {
	"OK", "NAME", "SPACE", "SHORT", "ID", "NOT_RESPONSE", "OPCODE",
	"QDCOUNT", "QUESTION", "TRUNCATED", "LABEL_LONG", "NAME_LONG",
	"NAME_CHAR", "PTR_FORWARD", "PTR_RANGE", "PTR_LOOP", "RDLENGTH"
};

static const char *
perr_name(enum dns_perr pe)
{
	static const enum dns_perr order[] = {
		DNS_PE_OK, DNS_PE_NAME, DNS_PE_SPACE, DNS_PE_SHORT, DNS_PE_ID,
		DNS_PE_NOT_RESPONSE, DNS_PE_OPCODE, DNS_PE_QDCOUNT,
		DNS_PE_QUESTION, DNS_PE_TRUNCATED, DNS_PE_LABEL_LONG,
		DNS_PE_NAME_LONG, DNS_PE_NAME_CHAR,
		DNS_PE_PTR_FORWARD, DNS_PE_PTR_RANGE, DNS_PE_PTR_LOOP,
		DNS_PE_RDLENGTH
	};

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (order[i] == pe) {
			return perr_names[i];
		}
	}
	return "?";
}

static const char *
type_text(uint16_t t)
{
	switch (t) {
	case 1: return "A";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	default: return "?";
	}
}

/* Parses msg[0..len) as the answer to (Q_ID, qname, qtype) and
 * writes its trace into tr. */
static void
parse_trace(const uint8_t *msg, size_t len, const char *qname,
    uint16_t qtype, char *tr)
{
	struct dns_msg m;
	struct dns_rr rr;
	int rc;

	tr[0] = '\0';
	if (dns_msg_init(&m, msg, len, Q_ID, qname, qtype) == -1) {
		trace_add(tr, "init=%s", perr_name(m.err));
		assert_int_equal(dns_msg_next(&m, &rr), -1);
		return;
	}
	if (m.rcode != 0) {
		trace_add(tr, "rcode=%u;", m.rcode);
	}
	if (m.tc) {
		trace_add(tr, "tc;");
	}
	if (m.aa) {
		trace_add(tr, "aa;");
	}
	while ((rc = dns_msg_next(&m, &rr)) == 1) {
		char txt[512];

		trace_add(tr, "%s%s %u %s", rr.section == DNS_SEC_AUTHORITY ?
		    "ns:" : "", rr.owner, rr.ttl, type_text(rr.type));
		switch (rr.type) {
		case 1:
			trace_add(tr, " %u.%u.%u.%u", rr.addr[0], rr.addr[1],
			    rr.addr[2], rr.addr[3]);
			break;
		case 28:
			for (int i = 0; i < 16; i += 2) {
				trace_add(tr, "%s%02x%02x", i ? ":" : " ",
				    rr.addr[i], rr.addr[i + 1]);
			}
			break;
		case 15:
			trace_add(tr, " %u %s", rr.pref, rr.target);
			break;
		case 33:
			trace_add(tr, " %u %u %u %s", rr.pref, rr.weight,
			    rr.port, rr.target);
			break;
		case 5:
		case 12:
			trace_add(tr, " %s", rr.target);
			break;
		case 6:
			trace_add(tr, " %s min %u", rr.target, rr.soa_min);
			break;
		case 16:
			assert_true(dns_txt_join(&rr, txt, sizeof txt) >= 0);
			trace_add(tr, " [%s]", txt);
			break;
		default:
			break;
		}
		trace_add(tr, ";");
	}
	if (rc == -1) {
		trace_add(tr, "err=%s", perr_name(m.err));
		/* Sticky. */
		assert_int_equal(dns_msg_next(&m, &rr), -1);
		assert_int_equal(dns_msg_next(&m, &rr), -1);
	} else {
		assert_int_equal(dns_msg_next(&m, &rr), 0);
	}
}

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pkt_cases / sizeof pkt_cases[0]; i++) {
		const struct pkt_case *c = &pkt_cases[i];
		char tr[TRACE_MAX];
		size_t len;
		char *msg = build(&c->in, &len);

		parse_trace((const uint8_t *)msg, len, c->qname != NULL ?
		    c->qname : "example.com", c->qtype, tr);
		if (strcmp(tr, c->want) != 0) {
			fail_msg("%s: got \"%s\", want \"%s\"", c->desc, tr,
			    c->want);
		}
		/* Every shorter prefix must fail or stop, never overrun. */
		for (size_t cut = 0; cut < len; cut++) {
			char *p = dup_exact(msg, cut);

			parse_trace((const uint8_t *)p, cut,
			    c->qname != NULL ? c->qname : "example.com",
			    c->qtype, tr);
			free(p);
		}
		free(msg);
	}
}

/* A name of exactly 255 wire octets is built and parsed; one octet
 * more is refused by both. */
static void
test_name_limits(void **state)
{
	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		uint8_t msg[600];
		char name[300];
		size_t n = 0, o = DNS_HDR_LEN, len;
		struct dns_msg m;
		struct dns_rr rr;

		/* Labels of 63, 63, 63 and 61 (+1) octets, and the root:
		 * 255 (256) octets. */
		memcpy(msg, ID "\x81\x80" N1 N0 N0 N0, DNS_HDR_LEN);
		for (int l = 0; l < 4; l++) {
			size_t ll = l < 3 ? 63 : 61 + (size_t)extra;

			msg[o++] = (uint8_t)ll;
			for (size_t k = 0; k < ll; k++) {
				name[n++] = (char)('a' + l);
				msg[o++] = (uint8_t)('a' + l);
			}
			name[n++] = '.';
		}
		name[--n] = '\0';
		msg[o++] = 0;
		memcpy(msg + o, "\x00\x01\x00\x01", 4);
		o += 4;
		assert_int_equal(dns_query_build(msg + 300, 300, &len, Q_ID,
		    name, 1, 0), extra ? DNS_PE_NAME_LONG : DNS_PE_OK);
		if (extra) {
			assert_int_equal(dns_msg_init(&m, msg, o, Q_ID, name,
			    1), -1);
			assert_int_equal(m.err, DNS_PE_NAME_LONG);
			continue;
		}
		assert_int_equal(len, DNS_HDR_LEN + 255 + 4);
		assert_int_equal(o, DNS_HDR_LEN + 255 + 4);
		assert_int_equal(strlen(name), DNS_NAME_MAX - 1);
		assert_int_equal(dns_msg_init(&m, msg, o, Q_ID, name, 1), 0);
		assert_int_equal(dns_msg_next(&m, &rr), 0);
	}
}

/* Pointers each going back to the one before: DNS_PTR_HOPS_MAX of
 * them are followed, one more is refused. */
static void
test_pointer_hops(void **state)
{
	(void)state;
	for (int hops = DNS_PTR_HOPS_MAX; hops <= DNS_PTR_HOPS_MAX + 1;
	    hops++) {
		uint8_t msg[512];
		size_t o, blob, last, rd;
		struct dns_msg m;
		struct dns_rr rr;

		memcpy(msg, ID "\x81\x80" N1 N2 N0 N0, DNS_HDR_LEN);
		o = DNS_HDR_LEN;
		memcpy(msg + o, QD(T_A), 17);
		o += 17;
		/* Record 1, type 99 (skipped): a root, then a chain of
		 * pointers, each to the previous one. */
		memcpy(msg + o, PQ "\x00\x63" IN TTL300, 10);
		o += 10;
		rd = o;
		o += 2;
		blob = o;
		msg[o++] = 0;
		last = blob;
		/* hops - 1 pointers here; the owner of record 2 is the
		 * last hop. */
		for (int k = 0; k < hops - 1; k++) {
			msg[o] = 0xc0;
			msg[o + 1] = (uint8_t)last;
			last = o;
			o += 2;
		}
		msg[rd] = (uint8_t)((o - blob) >> 8);
		msg[rd + 1] = (uint8_t)(o - blob);
		msg[o++] = 0xc0;
		msg[o++] = (uint8_t)last;
		memcpy(msg + o, T_A IN TTL300 "\x00\x04" "\x0a\x00\x00\x01",
		    14);
		o += 14;
		assert_true(o < 256);
		assert_int_equal(dns_msg_init(&m, msg, o, Q_ID, "example.com",
		    1), 0);
		if (hops <= DNS_PTR_HOPS_MAX) {
			assert_int_equal(dns_msg_next(&m, &rr), 1);
			assert_string_equal(rr.owner, ".");
			assert_int_equal(dns_msg_next(&m, &rr), 0);
		} else {
			assert_int_equal(dns_msg_next(&m, &rr), -1);
			assert_int_equal(m.err, DNS_PE_PTR_LOOP);
		}
	}
}

struct build_case {
	const char	*desc;
	const char	*name;
	uint16_t	 qtype;
	int		 edns;
	size_t		 cap;
	enum dns_perr	 want;
	struct text	 out;
};

#define B_OK(d, n, t, e, o)	{ d, n, t, e, 512, DNS_PE_OK, TN(o) }
#define B_ERR(d, n, cap, w)	{ d, n, 1, 0, cap, w, T("") }

static const struct build_case build_cases[] = {
	B_OK("MX query", "example.com", 15, 0,
	    ID "\x01\x00" N1 N0 N0 N0 QD(T_MX)),
	B_OK("trailing dot", "example.com.", 15, 0,
	    ID "\x01\x00" N1 N0 N0 N0 QD(T_MX)),
	B_OK("with EDNS0 OPT, 1232 octets", "example.com", 1, 1,
	    ID "\x01\x00" N1 N0 N0 N1 QD(T_A) "\x00" "\x00\x29" "\x04\xd0"
	    "\x00\x00\x00\x00" "\x00\x00"),
	B_OK("root", ".", 2, 0, ID "\x01\x00" N1 N0 N0 N0 "\x00" "\x00\x02"
	    IN),
	B_OK("case kept", "ExAmple.COM", 1, 0,
	    ID "\x01\x00" N1 N0 N0 N0 "\x07" "ExAmple" "\x03" "COM" "\x00"
	    T_A IN),
	B_ERR("empty label", "a..b", 512, DNS_PE_NAME),
	B_ERR("leading dot", ".a", 512, DNS_PE_NAME),
	B_ERR("two trailing dots", "a..", 512, DNS_PE_NAME),
	B_ERR("space", "a b.c", 512, DNS_PE_NAME),
	B_ERR("control octet", "a\tb", 512, DNS_PE_NAME),
	B_ERR("label of 64",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com", 512, DNS_PE_LABEL_LONG),
	B_ERR("buffer smaller than a header", "a", 11, DNS_PE_SPACE),
	B_ERR("buffer without room for the type", "a", 12 + 3 + 3,
	    DNS_PE_SPACE),
	B_ERR("buffer without room for the name", "abc", 14, DNS_PE_SPACE),
};

static void
test_build(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0];
	    i++) {
		const struct build_case *c = &build_cases[i];
		uint8_t *buf = malloc(c->cap);
		size_t len = 99, wlen;
		char *want = build(&c->out, &wlen);
		enum dns_perr pe;

		assert_non_null(buf);
		pe = dns_query_build(buf, c->cap, &len, Q_ID, c->name,
		    c->qtype, c->edns);
		if (pe != c->want) {
			fail_msg("%s: got %s, want %s", c->desc, perr_name(pe),
			    perr_name(c->want));
		}
		if (pe == DNS_PE_OK) {
			expect_bytes(c->desc, "build", (char *)buf, len, want,
			    wlen);
			assert_int_equal(dns_name_check(c->name), DNS_PE_OK);
		} else {
			assert_int_equal(len, 0);
			if (c->want != DNS_PE_SPACE) {
				assert_int_equal(dns_name_check(c->name),
				    c->want);
			}
		}
		free(want);
		free(buf);
	}
}

static void
test_helpers(void **state)
{
	static const uint8_t rd[] = "\x03" "abc" "\x00" "\x02" "de";
	struct dns_rr rr;
	char out[8];

	(void)state;
	assert_true(dns_name_eq("Example.COM", "example.com."));
	assert_true(dns_name_eq(".", ""));
	assert_false(dns_name_eq("example.com", "example.co"));
	assert_false(dns_name_eq("a.example.com", "example.com"));
	memset(&rr, 0, sizeof rr);
	rr.rdata = rd;
	rr.rdlen = sizeof rd - 1;
	assert_int_equal(dns_txt_join(&rr, out, sizeof out), 5);
	assert_string_equal(out, "abcde");
	assert_int_equal(dns_txt_join(&rr, out, 4), -1);
	assert_string_equal(out, "abc");
	assert_int_equal(dns_txt_join(&rr, out, 0), -1);
	for (int pe = 0; pe <= DNS_PE_RDLENGTH + 1; pe++) {
		assert_non_null(dns_strerror((enum dns_perr)pe));
	}
	assert_string_equal(dns_strerror((enum dns_perr)99),
	    "unknown error");
}

static void
test_reverse(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 10 };
	static const uint8_t v4b[4] = { 10, 0, 99, 255 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0x1f };
	char out[128];

	(void)state;
	assert_int_equal(dns_reverse_name(v4, 4, NULL, out, sizeof out), 23);
	assert_string_equal(out, "10.2.0.192.in-addr.arpa");
	assert_true(dns_reverse_name(v4b, 4, "zen.spamhaus.org", out,
	    sizeof out) > 0);
	assert_string_equal(out, "255.99.0.10.zen.spamhaus.org");
	assert_int_equal(dns_reverse_name(v6, 16, NULL, out, sizeof out), 72);
	assert_string_equal(out, "f.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dns_name_check(out), DNS_PE_OK);
	assert_int_equal(dns_reverse_name(v6, 16, NULL, out, 72), -1);
	assert_int_equal(dns_reverse_name(v4, 4, NULL, out, 16), -1);
	assert_int_equal(dns_reverse_name(v4, 5, NULL, out, sizeof out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_pointer_hops),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_reverse),
	};

	return cmocka_run_group_tests_name("dns_pkt", tests, NULL, NULL);
}
