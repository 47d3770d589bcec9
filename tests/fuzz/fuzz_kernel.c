/*
 * libFuzzer target for the kernel side of booting: the bzImage payload
 * finder and the PVH note check (src/core/kernel.c, which read the installed
 * OS image), and the kernel command-line decoder the agent runs on
 * /proc/cmdline (src/core/cmdline.c).  Properties (abort on violation): a
 * found payload lies inside the buffer; a decoded value is never longer than
 * its raw text; every value (no NUL) encoded by the host and put on a
 * command line decodes to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_err e;
	size_t off = 0, plen = 0;
	enum dl_kcomp comp;

	if (dl_bzimage_payload(data, size, &off, &plen, &comp, &e) == 0 &&
	    (off > size || plen > size - off))
		abort();
	dl_elf_has_pvh_note(data, size);

	/* the input as /proc/cmdline */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	static const char *const keys[] = { "ip", "share", "hostname", "sharefs", "x" };
	char v[4096];
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *r = dl_cmdline_get(s, keys[i], v, sizeof(v));
		if (r && (r != v || strlen(v) > size))
			abort();
	}
	dl_cmdline_get(s, "share", v, 1 + size % 64); /* small buffers */

	/* the input (up to its first NUL) as a value: encode, then decode from a
	 * command line holding other parameters around it */
	size_t cap = 3 * strlen(s) + 1;
	char *enc = malloc(cap), *line = malloc(cap + 64), *dec = malloc(cap);
	if (enc && line && dec) {
		if (dl_cmdline_encode(s, enc, cap) < 0 || strpbrk(enc, " \n"))
			abort();
		strcpy(line, "console=ttyS0 xdlite.share=no dlite.share=");
		strcat(line, enc);
		strcat(line, " dlite.share=2nd\n");
		const char *r = dl_cmdline_get(line, "share", dec, cap);
		if (*s && (!r || strcmp(r, s) != 0))
			abort();
		if (dl_cmdline_encode(s, enc, strlen(enc)) >= 0) /* one byte short */
			abort();
	}
	free(enc);
	free(line);
	free(dec);
	free(s);
	return 0;
}
