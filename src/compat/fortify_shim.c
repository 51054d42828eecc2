/*
 * fortify_shim.c - the _FORTIFY_SOURCE helpers that Debian's static
 * libbearssl.a (built against glibc) calls, for musl, which lacks them.
 * Linked only into musl cross builds. Same contract as glibc's: abort
 * when the copy would overrun the destination.
 */
#include <stdlib.h>
#include <string.h>

void	*__memcpy_chk(void *, const void *, size_t, size_t);
void	*__memmove_chk(void *, const void *, size_t, size_t);
void	*__memset_chk(void *, int, size_t, size_t);

void *
__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memcpy(d, s, n);
}

void *
__memmove_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memmove(d, s, n);
}

void *
__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen) {
		abort();
	}
	return memset(d, c, n);
}
