/*
 * libFuzzer target for the agent's control-line protocol (the "control"
 * target, src/core/proto.c dl_ctl_parse, used by agent/control.c): the
 * input is split into lines the way the agent does (at '\n', at most 256
 * bytes each).  Properties (abort on violation): a TIME request has
 * 0 <= sec and 0 <= nsec < 1e9, and "time SEC.NSEC" printed back (as the
 * daemon sends it) parses to the same value; a known word parses only when
 * it is the whole line (a CR aside).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void check_line(const char *line)
{
	struct dl_ctl_req r, r2;
	char back[64];

	enum dl_ctl_kind k = dl_ctl_parse(line, &r);
	if (k != r.kind || k < DL_CTL_UNKNOWN || k > DL_CTL_POWEROFF)
		abort();
	size_t n = strlen(line);
	if (n && line[n - 1] == '\r')
		n--;
	switch (k) {
	case DL_CTL_PING:
		if (n != 4)
			abort();
		break;
	case DL_CTL_POWEROFF:
		if (n != 8 || memcmp(line, "poweroff", 8))
			abort();
		break;
	case DL_CTL_TIME:
		if (r.sec < 0 || r.nsec < 0 || r.nsec > 999999999)
			abort();
		snprintf(back, sizeof(back), "time %lld.%09ld", r.sec, r.nsec);
		if (dl_ctl_parse(back, &r2) != DL_CTL_TIME || r2.sec != r.sec || r2.nsec != r.nsec)
			abort();
		break;
	case DL_CTL_BADTIME:
	case DL_CTL_UNKNOWN:
		if (r.sec || r.nsec)
			abort();
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[257];
	size_t len = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' || len == 256) {
			line[len] = '\0';
			check_line(line);
			len = 0;
			if (data[i] == '\n')
				continue;
		}
		line[len++] = (char)data[i];
	}
	line[len] = '\0';
	check_line(line);
	return 0;
}
