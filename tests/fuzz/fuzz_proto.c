/*
 * libFuzzer target for the channel header and target parser
 * (src/core/proto.c), which every local user reaches through the agent's
 * port: dl_hdr_check, dl_target_parse, dl_reply_parse, dl_token_parse,
 * dl_caps_has.  Properties (abort on violation):
 *  - a header that checks re-encodes to the same bytes (dl_hdr_encode);
 *  - a parsed target, printed back, parses to the same target;
 *  - a wrong token is always refused.
 * Built and run by tests/fuzz/run.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

static void target_print(const struct dl_target *t, char *s, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	const char *k = t->kind == DL_TARGET_TCP ? "tcp" : "udp";

	if (t->kind == DL_TARGET_DOCKER)
		snprintf(s, n, "docker");
	else if (t->kind == DL_TARGET_CONTROL)
		snprintf(s, n, "control");
	else if (t->kind == DL_TARGET_FSEVENTS)
		snprintf(s, n, "fsevents");
	else if (!t->family)
		snprintf(s, n, "%s:%u", k, t->port);
	else if (!inet_ntop(t->family, t->addr, a, sizeof(a)))
		abort();
	else if (t->family == AF_INET6)
		snprintf(s, n, "%s:[%s]:%u", k, a, t->port);
	else
		snprintf(s, n, "%s:%s:%u", k, a, t->port);
}

static void check_target(const char *s)
{
	struct dl_target t, t2;
	char back[128];

	if (dl_target_parse(s, &t) < 0)
		return;
	if (t.kind < DL_TARGET_DOCKER || t.kind > DL_TARGET_FSEVENTS)
		abort();
	if ((t.kind == DL_TARGET_TCP || t.kind == DL_TARGET_UDP) && t.port == 0)
		abort();
	target_print(&t, back, sizeof(back));
	if (dl_target_parse(back, &t2) < 0 || memcmp(&t, &t2, sizeof(t)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_target t;
	uint8_t tok[DL_TOKEN_LEN], hdr[DL_HDR_LEN], again[DL_HDR_LEN];
	int err;

	/* the whole input as a target string */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_target(s);
	dl_caps_has(s, "addr");
	free(s);

	if (size >= DL_REPLY_LEN) {
		int st = dl_reply_parse(data, &err);
		if (st >= 0 && (st > DL_ST_UNAVAILABLE || err < 0 || err > 255))
			abort();
	}
	if (dl_token_parse(data, size, tok) == 0 && size != DL_TOKEN_LEN &&
	    size != 2 * DL_TOKEN_LEN && size != 2 * DL_TOKEN_LEN + 1)
		abort();

	/* the input as a header: magic and version forced half of the time so
	 * the target field is reached; token = the header's own token (accepted)
	 * or that token with one bit flipped (always refused) */
	if (size < DL_HDR_LEN)
		return 0;
	memcpy(hdr, data, DL_HDR_LEN);
	if (size > DL_HDR_LEN && (data[DL_HDR_LEN] & 1)) {
		memcpy(hdr, DL_PROTO_MAGIC, 4);
		hdr[4] = DL_PROTO_VERSION >> 8;
		hdr[5] = DL_PROTO_VERSION & 0xff;
		hdr[6] = hdr[7] = 0;
	}
	memcpy(tok, hdr + 8, DL_TOKEN_LEN);
	if (dl_hdr_check(hdr, tok, &t) == 0) {
		char target[DL_TARGET_LEN];
		memcpy(target, hdr + 8 + DL_TOKEN_LEN, DL_TARGET_LEN);
		if (dl_hdr_encode(again, tok, target) < 0 || memcmp(again, hdr, DL_HDR_LEN) != 0)
			abort();
		check_target(target);
	}
	tok[size % DL_TOKEN_LEN] ^= (uint8_t)(1u << (size % 8));
	if (dl_hdr_check(hdr, tok, &t) == 0)
		abort();
	return 0;
}
