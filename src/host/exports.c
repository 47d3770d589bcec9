#include "exports.h"
#include "lines.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"

#define NFSD "/sbin/nfsd"

char **dl_nfsd_argv_checkexports(void)
{
	return dl_cmd_new(NFSD, "checkexports", (char *)NULL);
}

char **dl_nfsd_argv_update(void)
{
	return dl_cmd_new(NFSD, "update", (char *)NULL);
}

char **dl_nfsd_argv_restart(void)
{
	return dl_cmd_new(NFSD, "restart", (char *)NULL);
}

/* ---- paths ---- */

/* Collapse repeated slashes, drop trailing ones ("/" stays). */
static void norm_path(char *p)
{
	char *w = p;

	for (const char *r = p; *r; r++)
		if (!(*r == '/' && w > p && w[-1] == '/'))
			*w++ = *r;
	while (w > p + 1 && w[-1] == '/')
		w--;
	*w = '\0';
}

/* a is b, or an ancestor of b (component-wise). */
static int covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return 1;
	return strncasecmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* ---- physical lines and dlite blocks ---- */


static int line_is(const char *t, const struct line *l, const char *marker)
{
	size_t a = l->start, b = l->start + l->clen, m = strlen(marker);

	while (a < b && (t[a] == ' ' || t[a] == '\t'))
		a++;
	while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t' || t[b - 1] == '\r'))
		b--;
	return b - a == m && memcmp(t + a, marker, m) == 0;
}

struct block {
	size_t start, end; /* byte range: begin line .. end line with its EOL */
	int end_has_eol;
};

/* Find the dlite blocks; *nb of them in a malloc'd array (NULL if none). */
static int find_blocks(const char *t, size_t len, struct block **out, size_t *nb, struct dl_err *e)
{
	struct block *bs = NULL, cur = { 0, 0, 0 };
	size_t n = 0, lineno = 0, begin_line = 0;
	int in = 0;

	for (size_t pos = 0; pos < len;) {
		struct line l = next_line(t, len, pos);

		lineno++;
		pos += l.clen + l.eollen;
		if (!in && line_is(t, &l, DL_EXPORTS_BEGIN)) {
			in = 1;
			cur.start = l.start;
			begin_line = lineno;
		} else if (in && line_is(t, &l, DL_EXPORTS_END)) {
			struct block *nbs = realloc(bs, (n + 1) * sizeof(*bs));
			if (!nbs) {
				free(bs);
				return dl_fail(e, ENOMEM, "out of memory");
			}
			bs = nbs;
			cur.end = pos;
			cur.end_has_eol = l.eollen > 0;
			bs[n++] = cur;
			in = 0;
		} else if (in && line_is(t, &l, DL_EXPORTS_BEGIN)) {
			free(bs);
			return dl_fail(e, 0, "the exports file has \"%s\" on line %zu inside another dlite block "
				       "(line %zu); remove dlite's lines from it by hand", DL_EXPORTS_BEGIN,
				       lineno, begin_line);
		}
	}
	if (in) {
		free(bs);
		return dl_fail(e, 0, "the exports file has \"%s\" on line %zu but no \"%s\" after it; "
			       "remove dlite's lines from it by hand", DL_EXPORTS_BEGIN, begin_line,
			       DL_EXPORTS_END);
	}
	*out = bs;
	*nb = n;
	return 0;
}

/* ---- conflict check ---- */

static void quote_entry(char *out, size_t n, const char *t, size_t a, size_t b)
{
	size_t o = 0;

	while (b > a && (t[b - 1] == '\n' || t[b - 1] == '\r' || t[b - 1] == ' ' || t[b - 1] == '\t'))
		b--;
	for (size_t i = a; i < b && o + 4 < n; i++) {
		char c = t[i];
		if (c == '\r')
			continue;
		out[o++] = c == '\n' || c == '\t' ? ' ' : c;
	}
	if (a < b && o + 4 >= n) {
		o = n - 4 < o ? n - 4 : o;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int dl_exports_check(const char *t, size_t len, const char *share, struct dl_err *e)
{
	char want[PATH_MAX], tok[PATH_MAX], quoted[300];
	struct block *bs = NULL;
	size_t nb = 0, bi = 0, pos = 0, lineno = 1;

	if (!share || share[0] != '/' || strlen(share) >= sizeof(want))
		return dl_fail(e, 0, "the share must be an absolute path, not \"%.200s\"",
			       share ? share : "");
	strcpy(want, share);
	norm_path(want);
	if (!t)
		len = 0;
	if (find_blocks(t, len, &bs, &nb, e) < 0)
		return -1;

	while (pos < len) {
		size_t entry = pos, entry_line = lineno, tn = 0;
		int quote = 0, active = 0, paths_done = 0, conflict = 0, ended = 0;

		while (bi < nb && bs[bi].end <= pos)
			bi++;
		if (bi < nb && pos == bs[bi].start) {
			for (size_t i = pos; i < bs[bi].end; i++)
				lineno += t[i] == '\n';
			pos = bs[bi++].end;
			continue;
		}
		while (!ended) {
			char c = pos < len ? t[pos] : '\n';
			int eol = pos >= len || c == '\n';

			if (!quote && c == '\\' && pos + 1 < len &&
			    (t[pos + 1] == '\n' || (t[pos + 1] == '\r' && pos + 2 < len && t[pos + 2] == '\n'))) {
				pos += t[pos + 1] == '\n' ? 2 : 3; /* continuation: a blank */
				lineno++;
				c = ' ';
				eol = 0;
			} else if (!quote && !active && c == '#') {
				/* Comment: to the end of the logical line. */
				for (;;) {
					while (pos < len && t[pos] != '\n')
						pos++;
					if (pos < len && (t[pos - 1] == '\\' ||
					    (t[pos - 1] == '\r' && pos > 1 && t[pos - 2] == '\\'))) {
						pos++;
						lineno++;
						continue;
					}
					break;
				}
				continue;
			} else if (eol) {
				if (pos < len) {
					pos++;
					lineno++;
				}
				ended = 1;
				quote = 0;
			} else {
				pos++;
			}
			if (!eol && (quote || !(c == ' ' || c == '\t' || c == '\r'))) {
				if (c == '"') {
					quote = !quote;
					active = 1;
					continue;
				}
				if (c == '\\' && pos < len && t[pos] != '\n')
					c = t[pos++];
				if (tn + 1 < sizeof(tok))
					tok[tn++] = c;
				active = 1;
				continue;
			}
			/* Blank or end: the token (if any) is complete. */
			if (!active)
				continue;
			tok[tn] = '\0';
			if (!paths_done && tok[0] == '/') {
				norm_path(tok);
				if (!conflict && (covers(tok, want) || covers(want, tok)))
					conflict = 1;
			} else {
				paths_done = 1;
			}
			tn = 0;
			active = 0;
		}
		if (conflict) {
			free(bs);
			quote_entry(quoted, sizeof(quoted), t, entry, pos);
			return dl_fail(e, 0, "line %zu of the exports file also exports %s or a folder "
				       "above or below it: '%s'; remove that line or choose another share "
				       "(dlite install -S DIR)", entry_line, want, quoted);
		}
	}
	free(bs);
	return 0;
}

/* ---- edits ---- */

static int ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return 0;
	*out = ntohl(a.s_addr);
	return 1;
}

/* Copy t without its blocks, inserting ins (if not NULL) where the first was. */
static char *rebuild(const char *t, size_t len, const struct block *bs, size_t nb, const char *ins,
		     size_t *outlen, struct dl_err *e)
{
	size_t insn = ins ? strlen(ins) : 0, o = 0, pos = 0;
	char *out = malloc(len + insn + 3);

	if (!out) {
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i <= nb; i++) {
		size_t stop = i < nb ? bs[i].start : len;

		if (stop > pos)
			memcpy(out + o, t + pos, stop - pos);
		o += stop - pos;
		if (i == nb)
			break;
		pos = bs[i].end;
		if (ins && i == 0) {
			memcpy(out + o, ins, insn);
			o += insn;
			if (bs[i].end_has_eol)
				out[o++] = '\n';
		} else if (!bs[i].end_has_eol && o > 0 && out[o - 1] == '\n') {
			/* A last block without EOL: drop the EOL we added before it. */
			o--;
			if (o > 0 && out[o - 1] == '\r')
				o--;
		}
	}
	if (ins && nb == 0) {
		int final = len == 0 || t[len - 1] == '\n';

		if (!final) {
			/* after a last line ending in a lone CR, "\r\n": the removal
			 * takes back an EOL with its CR, leaving the user's CR */
			if (t[len - 1] == '\r')
				out[o++] = '\r';
			out[o++] = '\n';
		}
		memcpy(out + o, ins, insn);
		o += insn;
		if (final)
			out[o++] = '\n';
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

char *dl_exports_set(const char *text, size_t len, const char *share, const char *client_net,
		     const char *mask, uid_t uid, gid_t gid, size_t *outlen, struct dl_err *e)
{
	char path[PATH_MAX], *ins, *out;
	struct block *bs = NULL;
	uint32_t net, m;
	size_t nb = 0;
	int n;

	if (!text)
		len = 0;
	if (!share || share[0] != '/' || strlen(share) >= sizeof(path) ||
	    strpbrk(share, "\"\\\n\r\t") || strchr(share, '#')) {
		dl_fail(e, 0, "cannot export \"%.200s\": the share must be an absolute path without "
			"quotes, backslashes, tabs, newlines or '#'", share ? share : "");
		return NULL;
	}
	if (!ipv4(client_net, &net) || !ipv4(mask, &m) || ((~m) & (~m + 1)) != 0 ||
	    (net & ~m) != 0) {
		dl_fail(e, 0, "cannot export to network %.60s mask %.60s: give an IPv4 network "
			"address and a matching netmask, like 192.168.64.0 255.255.255.0",
			client_net ? client_net : "", mask ? mask : "");
		return NULL;
	}
	strcpy(path, share);
	norm_path(path);
	if (dl_exports_check(text, len, path, e) < 0)
		return NULL;
	if (find_blocks(text, len, &bs, &nb, e) < 0)
		return NULL;
	n = asprintf(&ins, DL_EXPORTS_BEGIN "\n\"%s\" -network %s -mask %s -alldirs -mapall=%lu:%lu\n"
		     DL_EXPORTS_END, path, client_net, mask, (unsigned long)uid, (unsigned long)gid);
	if (n < 0) {
		free(bs);
		dl_fail(e, ENOMEM, "out of memory");
		return NULL;
	}
	size_t on = 0;
	out = rebuild(text, len, bs, nb, ins, &on, e);
	free(ins);
	free(bs);
	/* The block must stand alone: a user's line continued by a trailing
	 * backslash would swallow it (nfsd would read dlite's export as part of
	 * that line), which the check of the result sees as a conflict. */
	if (out && dl_exports_check(out, on, path, e) < 0) {
		free(out);
		dl_fail(e, 0, "the exports file has a line ending in a backslash (continued) just "
			"before where dlite's entry goes; finish or remove that line");
		return NULL;
	}
	if (outlen)
		*outlen = on;
	return out;
}

char *dl_exports_remove(const char *text, size_t len, size_t *outlen, struct dl_err *e)
{
	struct block *bs = NULL;
	size_t nb = 0;
	char *out;

	if (!text)
		len = 0;
	if (find_blocks(text, len, &bs, &nb, e) < 0)
		return NULL;
	out = rebuild(text, len, bs, nb, NULL, outlen, e);
	free(bs);
	return out;
}
