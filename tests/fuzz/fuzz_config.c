/*
 * libFuzzer target for config.json (src/core/config.c): any bytes as the
 * file.  Properties (abort on violation): an accepted file validates, its
 * dump parses again to the same settings and the same dump (round trip);
 * config get of every key works; config set of a key to the value get
 * returned succeeds and changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_config c, c2, c3;
	struct dl_err e;

	if (dl_config_parse((const char *)data, size, "/home/u", "/home/u/.dlite", &c, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort(); /* every refusal has a one-line message */
		return 0;
	}
	if (dl_config_validate(&c, &e) < 0)
		abort();
	char *d = dl_config_dump(&c);
	if (!d)
		return 0;
	if (dl_config_parse(d, strlen(d), "/x", "/y", &c2, &e) < 0)
		abort();
	char *d2 = dl_config_dump(&c2);
	if (!d2 || strcmp(d, d2) != 0)
		abort();
	for (const char *const *k = dl_config_keys; *k; k++) {
		char v[2048];
		if (dl_config_get(&c, *k, v, sizeof(v), &e) < 0)
			abort();
		c3 = c;
		if (dl_config_set(&c3, *k, v, &e) < 0)
			abort();
		char *d3 = dl_config_dump(&c3);
		if (!d3 || strcmp(d, d3) != 0)
			abort();
		free(d3);
	}
	free(d);
	free(d2);
	return 0;
}
