#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages are one line: a newline or other control byte quoted from the
 * user's input (a key in config.json, a path) becomes '?'. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int dl_fail(struct dl_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!e)
		return -1;
	e->errnum = errnum;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(errnum));
	one_line(e->msg);
	return -1;
}

int dl_err_wrap(struct dl_err *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	size_t n = strlen(prefix);
	if (n > sizeof(e->msg) - 3)
		n = sizeof(e->msg) - 3;
	memcpy(e->msg, prefix, n);
	memcpy(e->msg + n, ": ", 2);
	size_t room = sizeof(e->msg) - n - 2;
	size_t m = strnlen(old, room - 1);
	memcpy(e->msg + n + 2, old, m);
	e->msg[n + 2 + m] = '\0';
	one_line(e->msg);
	return -1;
}

void dl_freep(void *p)
{
	free(*(void **)p);
}

void dl_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
