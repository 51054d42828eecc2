/* TEMPORARY until imap_search.c lands: weak stand-ins. */
#include "imap/imap_int.h"

__attribute__((weak)) void
imap_search_start(struct imap_session *s)
{
	imap_tagged(s, "NO", "SEARCH not ready");
}

__attribute__((weak)) void
imap_search_step(struct imap_session *s)
{
	imap_job_done(s);
}
