#include "hosts.h"
#include "lines.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_dlite_line(const char *t, const struct line *l)
{
	size_t n = l->clen, m = sizeof(DL_HOSTS_MARK) - 1;

	while (n && (t[l->start + n - 1] == ' ' || t[l->start + n - 1] == '\t' ||
		     t[l->start + n - 1] == '\r'))
		n--;
	return n >= m && memcmp(t + l->start + n - m, DL_HOSTS_MARK, m) == 0;
}

size_t dl_hosts_count(const char *text, size_t len)
{
	size_t n = 0;

	for (size_t pos = 0; pos < len;) {
		struct line l = next_line(text, len, pos);
		n += is_dlite_line(text, &l);
		pos += l.clen + l.eollen;
	}
	return n;
}

/*
 * Copy text without dlite lines into out (room for len bytes); the first
 * dlite line's content is replaced by repl (if not NULL).  Returns bytes
 * written; *replaced says whether a line was found.
 */
static size_t filter(const char *t, size_t len, const char *repl, char *out, int *replaced)
{
	size_t o = 0;

	*replaced = 0;
	for (size_t pos = 0; pos < len;) {
		struct line l = next_line(t, len, pos);

		pos += l.clen + l.eollen;
		if (!is_dlite_line(t, &l)) {
			memcpy(out + o, t + l.start, l.clen + l.eollen);
			o += l.clen + l.eollen;
			continue;
		}
		if (repl && !*replaced) {
			size_t rn = strlen(repl);
			memcpy(out + o, repl, rn);
			o += rn;
			memcpy(out + o, t + l.start + l.clen, l.eollen);
			o += l.eollen;
			*replaced = 1;
			continue;
		}
		/* Dropped.  A last line without EOL: the EOL before it goes too (it is
		 * the one dl_hosts_set added when it appended to such a file). */
		if (l.eollen == 0 && o > 0 && out[o - 1] == '\n') {
			o--;
			if (o > 0 && out[o - 1] == '\r')
				o--;
		}
	}
	return o;
}

char *dl_hosts_set(const char *text, size_t len, const char *addr, const char *hostname,
		   size_t *outlen)
{
	char line[64 + 256 + sizeof(DL_HOSTS_MARK)];
	size_t ln, o;
	int replaced, crlf = 0;
	char *out;

	if (!dl_addr_valid(addr) || !dl_hostname_valid(hostname)) {
		errno = EINVAL;
		return NULL;
	}
	if (!text)
		len = 0;
	ln = (size_t)snprintf(line, sizeof(line), "%s %s " DL_HOSTS_MARK, addr, hostname);
	out = malloc(len + ln + 4);
	if (!out)
		return NULL;
	o = filter(text, len, line, out, &replaced);
	if (!replaced) {
		const char *nl = len ? memchr(text, '\n', len) : NULL;
		int final = len == 0 || text[len - 1] == '\n';

		crlf = nl && nl > text && nl[-1] == '\r';
		if (!final) {
			/* a lone CR ending the text gets "\r\n" too: the removal takes
			 * back an EOL with its CR, leaving the user's CR */
			if (crlf || text[len - 1] == '\r')
				out[o++] = '\r';
			out[o++] = '\n';
		}
		memcpy(out + o, line, ln);
		o += ln;
		if (final) {
			if (crlf)
				out[o++] = '\r';
			out[o++] = '\n';
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

char *dl_hosts_remove(const char *text, size_t len, size_t *outlen)
{
	int replaced;
	char *out;
	size_t o;

	if (!text)
		len = 0;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	o = filter(text, len, NULL, out, &replaced);
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}
