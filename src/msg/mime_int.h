/* SPDX-License-Identifier: ISC */
/*
 * mime_int.h - private to mime.c and mime_imap.c: a bounded string
 * builder and the RFC 5322 / RFC 2045 lexer (3.2.2 CFWS, 3.2.3 atoms,
 * 3.2.4 quoted strings, 5.1 tokens) both halves share. The lexer
 * follows Dovecot's rfc822-parser.c return convention: 1 = more input
 * follows, 0 = end of input reached, -1 = syntax error.
 */
#ifndef WREN_MIME_INT_H
#define WREN_MIME_INT_H

#include <stddef.h>

/* Bounded builder over caller storage; `over` records a cut. */
struct mime_sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 over;
};

struct mime_lex {
	const unsigned char	*data;
	const unsigned char	*end;
	struct mime_sb		*comment;	/* last (comment) or NULL */
};

void	mime_sb_init(struct mime_sb *, char *buf, size_t cap);
void	mime_sb_add(struct mime_sb *, const void *s, size_t len);
void	mime_sb_addc(struct mime_sb *, char c);

/* atext of RFC 5322 3.2.3 (8-bit octets count as atext, as in
 * Dovecot), and MIME token characters of RFC 2045 5.1. */
int	mime_is_atext(unsigned char c);
int	mime_is_token(unsigned char c);

int	mime_lex_skip(struct mime_lex *);
int	mime_lex_atom(struct mime_lex *, struct mime_sb *);
int	mime_lex_dot_atom(struct mime_lex *, struct mime_sb *);
int	mime_lex_token(struct mime_lex *, struct mime_sb *);
int	mime_lex_quoted(struct mime_lex *, struct mime_sb *);
int	mime_lex_phrase(struct mime_lex *, struct mime_sb *);
int	mime_lex_domain(struct mime_lex *, struct mime_sb *);

int	mime_strcaseeq(const char *a, size_t alen, const char *b);

/* *(";" parameter) of RFC 2045 5.1 with RFC 2231 3-4 continuations
 * merged (not decoded) as Dovecot's rfc2231_parse: out gets
 * "name\0value\0" pairs, *count their number. -1 if some parameter was
 * broken (the others are kept), 0 otherwise. */
int	mime_lex_params(struct mime_lex *, struct mime_sb *out,
	    unsigned *count);

#endif
