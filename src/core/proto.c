#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* "1".."65535", no sign, no leading zero. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* "A.B.C.D:PORT" or "[V6]:PORT" */
static int parse_addr_port(const char *s, struct dl_target *t)
{
	char a[INET6_ADDRSTRLEN];
	const char *colon;
	size_t n;

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -1;
		n = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
		t->family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		n = (size_t)(colon - s);
		t->family = AF_INET;
	}
	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (inet_pton(t->family, a, t->addr) != 1)
		return -1;
	return parse_port(colon + 1, &t->port);
}

int dl_target_parse(const char *s, struct dl_target *t)
{
	memset(t, 0, sizeof(*t));
	if (strcmp(s, "fsevents") == 0) {
		t->kind = DL_TARGET_FSEVENTS;
		return 0;
	}
	if (strcmp(s, "docker") == 0) {
		t->kind = DL_TARGET_DOCKER;
		return 0;
	}
	if (strcmp(s, "control") == 0) {
		t->kind = DL_TARGET_CONTROL;
		return 0;
	}
	if (strncmp(s, "tcp:", 4) == 0)
		t->kind = DL_TARGET_TCP;
	else if (strncmp(s, "udp:", 4) == 0)
		t->kind = DL_TARGET_UDP;
	else
		return -1;
	s += 4;
	if (strchr(s, ':') && parse_addr_port(s, t) < 0) {
		memset(t, 0, sizeof(*t));
		return -1;
	}
	return t->family ? 0 : parse_port(s, &t->port);
}

int dl_hdr_encode(uint8_t buf[DL_HDR_LEN], const uint8_t token[DL_TOKEN_LEN],
		  const char *target)
{
	struct dl_target t;
	size_t n = strlen(target);

	if (n >= DL_TARGET_LEN || dl_target_parse(target, &t) < 0)
		return -1;
	memset(buf, 0, DL_HDR_LEN);
	memcpy(buf, DL_PROTO_MAGIC, 4);
	buf[4] = DL_PROTO_VERSION >> 8;
	buf[5] = DL_PROTO_VERSION & 0xff;
	/* buf[6..7]: flags, zero in version 1 */
	memcpy(buf + 8, token, DL_TOKEN_LEN);
	memcpy(buf + 8 + DL_TOKEN_LEN, target, n);
	return 0;
}

int dl_hdr_check(const uint8_t buf[DL_HDR_LEN],
		 const uint8_t token[DL_TOKEN_LEN], struct dl_target *t)
{
	uint8_t diff = 0;
	char target[DL_TARGET_LEN];

	if (memcmp(buf, DL_PROTO_MAGIC, 4) != 0)
		return -1;
	if (buf[4] != (DL_PROTO_VERSION >> 8) || buf[5] != (DL_PROTO_VERSION & 0xff))
		return -1;
	if (buf[6] || buf[7])
		return -1;
	for (size_t i = 0; i < DL_TOKEN_LEN; i++)
		diff |= buf[8 + i] ^ token[i];
	if (diff)
		return -1;
	memcpy(target, buf + 8 + DL_TOKEN_LEN, DL_TARGET_LEN);
	if (target[DL_TARGET_LEN - 1] != '\0')
		return -1;
	/* everything after the terminator must be padding */
	size_t n = strlen(target);
	for (size_t i = n; i < DL_TARGET_LEN; i++)
		if (target[i])
			return -1;
	return dl_target_parse(target, t);
}

int dl_caps_has(const char *status, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = status; (p = strstr(p, "caps=")); p += 5) {
		if (p != status && p[-1] != ' ')
			continue;
		for (const char *c = p + 5; *c && *c != ' ';) {
			size_t len = strcspn(c, ", ");
			if (len == n && n && strncmp(c, cap, n) == 0)
				return 1;
			c += len;
			if (*c == ',')
				c++;
		}
	}
	return 0;
}

void dl_reply_encode(uint8_t buf[DL_REPLY_LEN], enum dl_status st, int err)
{
	memcpy(buf, "DLTR", 4);
	buf[4] = (uint8_t)st;
	buf[5] = (uint8_t)(err > 0 && err < 256 ? err : 0);
	buf[6] = buf[7] = 0;
}

int dl_reply_parse(const uint8_t buf[DL_REPLY_LEN], int *err)
{
	if (memcmp(buf, "DLTR", 4) != 0 || buf[4] > DL_ST_UNAVAILABLE)
		return -1;
	*err = buf[5];
	return buf[4];
}

int dl_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dl_token_parse(const uint8_t *data, size_t len, uint8_t token[DL_TOKEN_LEN])
{
	if (len == DL_TOKEN_LEN) {
		memcpy(token, data, DL_TOKEN_LEN);
		return 0;
	}
	if (len == 2 * DL_TOKEN_LEN + 1 && data[len - 1] == '\n')
		len--;
	if (len != 2 * DL_TOKEN_LEN)
		return -1;
	for (size_t i = 0; i < DL_TOKEN_LEN; i++) {
		int hi = dl_hexval(data[2 * i]), lo = dl_hexval(data[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		token[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool line_is(const char *line, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(line, word, n) == 0;
}

/* "SEC" or "SEC.FRACTION": digits only (no sign, no blanks), SEC < 2^63,
 * FRACTION up to 9 digits. */
static int parse_time(const char *s, size_t n, long long *sec, long *nsec)
{
	size_t i = 0;
	unsigned long long v = 0;
	long ns = 0;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (unsigned long long)(INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		long mult = 100000000;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (!mult)
				return -1; /* more than 9 digits */
			ns += (s[i] - '0') * mult;
			mult /= 10;
		}
	}
	if (i != n)
		return -1;
	*sec = (long long)v;
	*nsec = ns;
	return 0;
}

enum dl_ctl_kind dl_ctl_parse(const char *line, struct dl_ctl_req *r)
{
	size_t n = strlen(line);

	memset(r, 0, sizeof(*r));
	if (n && line[n - 1] == '\r')
		n--;
	if (line_is(line, n, "ping"))
		r->kind = DL_CTL_PING;
	else if (line_is(line, n, "ready"))
		r->kind = DL_CTL_READY;
	else if (line_is(line, n, "status"))
		r->kind = DL_CTL_STATUS;
	else if (line_is(line, n, "gettime"))
		r->kind = DL_CTL_GETTIME;
	else if (line_is(line, n, "poweroff"))
		r->kind = DL_CTL_POWEROFF;
	else if (n >= 5 && memcmp(line, "time ", 5) == 0)
		r->kind = parse_time(line + 5, n - 5, &r->sec, &r->nsec) == 0 ? DL_CTL_TIME
									    : DL_CTL_BADTIME;
	else
		r->kind = DL_CTL_UNKNOWN;
	return r->kind;
}

static const char fsev_letters[] = "cmdft"; /* bit i = letter i */

/* Relative, no empty, "." or ".." component, no NUL. */
static int clean_relpath(const char *p)
{
	if (!*p || *p == '/')
		return -1;
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return -1;
		c += n;
		if (*c == '/' && !*++c)
			return -1; /* trailing slash */
	}
	return 0;
}

int dl_fsev_encode(char *buf, size_t len, unsigned kinds, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!(kinds & 31) || clean_relpath(path) < 0)
		return -1;
	for (int i = 0; i < 5; i++)
		if (kinds & (1u << i)) {
			if (o + 1 >= len)
				return -1;
			buf[o++] = fsev_letters[i];
		}
	if (o + 1 >= len)
		return -1;
	buf[o++] = ' ';
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("/._-~+@,", *p);
		if (o + (plain ? 1 : 3) + 1 >= len)
			return -1;
		if (plain) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o++] = '\n';
	buf[o] = '\0';
	return (int)o;
}

int dl_fsev_decode(const char *line, unsigned *kinds, char *path, size_t len)
{
	const char *p = line;
	size_t o = 0;

	*kinds = 0;
	for (; *p && *p != ' '; p++) {
		const char *l = strchr(fsev_letters, *p);
		if (!l)
			return -1;
		*kinds |= 1u << (l - fsev_letters);
	}
	if (!*kinds || *p++ != ' ')
		return -1;
	for (; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = dl_hexval((uint8_t)p[1]), lo = hi < 0 ? -1 : dl_hexval((uint8_t)p[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = hi << 4 | lo;
			p += 2;
		} else if (c <= ' ' || c == 127) {
			return -1;
		}
		if (o + 1 >= len)
			return -1;
		path[o++] = (char)c;
	}
	if (len == 0)
		return -1;
	path[o] = '\0';
	return clean_relpath(path);
}
