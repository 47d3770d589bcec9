/*
 * libFuzzer target for the /etc/hosts editor (src/host/hosts.c): any bytes
 * as the file.  Properties (abort on violation):
 *  - set leaves exactly one dlite line; set is idempotent;
 *  - remove(set(f)) == f byte for byte when f holds no dlite line;
 *  - remove leaves no dlite line and is idempotent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/hosts.h"

static int same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = { "192.168.64.2", "10.0.2.15", "fd00::2", "127.0.0.1" };
	static const char *const names[] = { "local.docker", "dev.local", "a.b.c.example", "x.y" };
	const char *f = (const char *)data;
	const char *addr = addrs[size ? data[0] % 4 : 0];
	const char *name = names[size ? (data[0] >> 2) % 4 : 0];
	size_t sn = 0, s2n = 0, rn = 0, r2n = 0;

	char *s = dl_hosts_set(f, size, addr, name, &sn);
	if (!s)
		return 0; /* out of memory */
	if (dl_hosts_count(s, sn) != 1 || strlen(s) > sn || s[sn] != '\0')
		abort();
	char *s2 = dl_hosts_set(s, sn, addr, name, &s2n);
	if (s2 && !same(s, sn, s2, s2n))
		abort();
	char *r = dl_hosts_remove(s, sn, &rn);
	if (r) {
		if (dl_hosts_count(r, rn) != 0)
			abort();
		if (dl_hosts_count(f, size) == 0 && !same(r, rn, f, size))
			abort();
		char *r2 = dl_hosts_remove(r, rn, &r2n);
		if (r2 && !same(r, rn, r2, r2n))
			abort();
		free(r2);
	}
	free(s);
	free(s2);
	free(r);
	return 0;
}
