/* Walking a text file line by line, keeping each line's end-of-line bytes so
 * that edits of /etc files preserve every byte they don't mean to change. */
#ifndef DLITE_HOST_LINES_H
#define DLITE_HOST_LINES_H

#include <stddef.h>
#include <string.h>

/* One physical line: [start, start+clen) content, then eollen bytes of EOL
 * ("\n" or "\r\n"; 0 for a last line without one). */
struct line {
	size_t start, clen, eollen;
};

static inline struct line next_line(const char *t, size_t len, size_t pos)
{
	struct line l = { pos, 0, 0 };
	const char *nl = pos < len ? memchr(t + pos, '\n', len - pos) : NULL;

	if (!nl) {
		l.clen = len - pos;
		return l;
	}
	l.clen = (size_t)(nl - (t + pos));
	l.eollen = 1;
	if (l.clen && t[pos + l.clen - 1] == '\r') {
		l.clen--;
		l.eollen = 2;
	}
	return l;
}

#endif
