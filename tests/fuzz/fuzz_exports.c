/*
 * libFuzzer target for the /etc/exports editor (src/host/exports.c): any
 * bytes as the file.  Properties (abort on violation):
 *  - when set succeeds, remove(set(f)) == remove(f): the user's lines are
 *    kept byte for byte; in particular remove(set(f)) == f when f holds no
 *    dlite block;
 *  - set is idempotent and its result passes the conflict check;
 *  - a refusal has a one-line message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/exports.h"

static int same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const shares[] = { "/Users/me", "/Users/me/src", "/Volumes/My Disk",
					      "/home/u" };
	const char *f = (const char *)data;
	const char *share = shares[size ? data[size - 1] % 4 : 0];
	struct dl_err e;
	size_t sn = 0, s2n = 0, rn = 0, fn = 0;

	char *s = dl_exports_set(f, size, share, "192.168.64.0", "255.255.255.0", 501, 20, &sn, &e);
	if (!s) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort();
		return 0;
	}
	char *fr = dl_exports_remove(f, size, &fn, &e);
	char *r = dl_exports_remove(s, sn, &rn, &e);
	if (fr && r && !same(r, rn, fr, fn))
		abort();
	if (fr && same(fr, fn, f, size) && r && !same(r, rn, f, size))
		abort();
	if (dl_exports_check(s, sn, share, &e) < 0)
		abort();
	char *s2 = dl_exports_set(s, sn, share, "192.168.64.0", "255.255.255.0", 501, 20, &s2n, &e);
	if (!s2 || !same(s, sn, s2, s2n))
		abort();
	free(s);
	free(s2);
	free(r);
	free(fr);
	return 0;
}
