#include "cmdline.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h" /* dl_hexval */

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("/._~:@+-", c));
}

long dl_cmdline_encode(const char *val, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)val; *s; s++) {
		if (o + (plain(*s) ? 1 : 3) >= cap)
			return -1;
		if (plain(*s)) {
			out[o++] = (char)*s;
		} else {
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		}
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (long)o;
}

const char *dl_cmdline_get(const char *cmdline, const char *key, char *value, size_t cap)
{
	char pat[64];

	if (!cmdline || !cap || snprintf(pat, sizeof(pat), "dlite.%s=", key) >= (int)sizeof(pat))
		return NULL;
	size_t plen = strlen(pat);
	for (const char *p = cmdline; (p = strstr(p, pat)); p += plen) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		p += plen;
		size_t n = strcspn(p, " \n");
		if (n >= cap)
			return NULL;
		size_t o = 0;
		for (size_t i = 0; i < n; i++) {
			int hi, lo;
			if (p[i] == '%' && i + 2 < n &&
			    (hi = dl_hexval((uint8_t)p[i + 1])) >= 0 &&
			    (lo = dl_hexval((uint8_t)p[i + 2])) >= 0 && (hi || lo)) {
				value[o++] = (char)(hi << 4 | lo);
				i += 2;
			} else {
				value[o++] = p[i];
			}
		}
		value[o] = '\0';
		return value;
	}
	return NULL;
}
