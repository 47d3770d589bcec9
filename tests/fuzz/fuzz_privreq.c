/*
 * libFuzzer target for bridged mode's helper protocol (src/host/privreq.c,
 * reachable by the served user) and the listing parsers it trusts
 * (src/host/hostnet.c).  Besides crashes and sanitizer reports it checks:
 * an accepted request formats back to a line of at most DL_PRIV_MAX_LINE
 * bytes that parses to the same request; every accepted name matches the
 * fixed patterns; a refused request leaves a one-line message.
 * Built and run by tests/fuzz/run (target privreq).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "host/privreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_priv_req r, r2;
	struct dl_err e = { 0 };
	char line[DL_PRIV_MAX_LINE + 1];

	if (dl_priv_parse((const char *)data, size, &r, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort();
	} else {
		if (!dl_priv_ifname_ok(r.bridge, false) || (r.verb == DL_PRIV_UP && !dl_priv_ifname_ok(r.tap, true)))
			abort();
		int n = dl_priv_format(&r, line, sizeof(line));
		if (n <= 0 || n > DL_PRIV_MAX_LINE || line[n - 1] != '\n')
			abort();
		if (dl_priv_parse(line, (size_t)n, &r2, NULL) < 0 || memcmp(&r, &r2, sizeof(r)) != 0)
			abort();
	}
	/* the same bytes as an ip(8) listing: no crash, and what is read is sane */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct dl_host_net h = { 0 };
	if (dl_host_routes_parse(text, AF_INET, &h, NULL) == 0 && dl_host_addrs_parse(text, &h, NULL) == 0)
		for (size_t i = 0; i < h.nroutes; i++)
			if (h.routes[i].dst.prefix > 32)
				abort();
	dl_host_net_free(&h);
	free(text);
	return 0;
}
