/* SPDX-License-Identifier: ISC */
/*
 * features.h - combinations of Kconfig features that cannot work.
 * Kconfig's `depends on` prevents them; this catches a hand-edited
 * config.h. Included by every file through limits.h.
 */
#ifndef WREN_FEATURES_H
#define WREN_FEATURES_H

#if WREN_SUBMISSION && !WREN_SMTP
#error "SUBMISSION needs SMTP"
#endif
#if WREN_OUTBOUND && !WREN_SMTP
#error "OUTBOUND needs SMTP"
#endif
#if WREN_DKIM && !WREN_OUTBOUND
#error "DKIM needs OUTBOUND"
#endif
#if WREN_IMAP_HCACHE && !WREN_IMAP
#error "IMAP_HCACHE needs IMAP"
#endif
#if WREN_IMAP_REV2 && !WREN_IMAP_SORT
#error "IMAP_REV2 needs IMAP_SORT (rev2 answers SEARCH with ESEARCH)"
#endif
#if WREN_COMPRESS && !WREN_IMAP
#error "COMPRESS needs IMAP"
#endif
#if CONFIG_BUF_SIZE < 1024
#error "BUF_SIZE must hold a 1000-octet SMTP text line"
#endif

#endif
