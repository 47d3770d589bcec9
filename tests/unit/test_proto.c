#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>

#include "proto.h"

static const uint8_t tok[DL_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static void roundtrip(void **state)
{
	uint8_t h[DL_HDR_LEN];
	struct dl_target t;

	assert_int_equal(dl_hdr_encode(h, tok, "tcp:8080"), 0);
	assert_int_equal(dl_hdr_check(h, tok, &t), 0);
	assert_int_equal(t.kind, DL_TARGET_TCP);
	assert_int_equal(t.port, 8080);
	assert_int_equal(dl_hdr_encode(h, tok, "docker"), 0);
	assert_int_equal(dl_hdr_check(h, tok, &t), 0);
	assert_int_equal(t.kind, DL_TARGET_DOCKER);
}

static void wrong_token(void **state)
{
	uint8_t h[DL_HDR_LEN], bad[DL_TOKEN_LEN];
	struct dl_target t;

	memcpy(bad, tok, sizeof(bad));
	bad[31] ^= 1;
	assert_int_equal(dl_hdr_encode(h, tok, "control"), 0);
	assert_int_equal(dl_hdr_check(h, bad, &t), -1);
}

static void bad_targets(void **state)
{
	struct dl_target t;
	uint8_t h[DL_HDR_LEN];
	const char *bad[] = { "", "tcp:", "tcp:0", "tcp:65536", "tcp:08", "udp:1x",
			      "dockerx", "tcp:-1", "TCP:80", "unix:/x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(dl_target_parse(bad[i], &t), -1);
		assert_int_equal(dl_hdr_encode(h, tok, bad[i]), -1);
	}
	assert_int_equal(dl_target_parse("udp:65535", &t), 0);
	assert_int_equal(t.port, 65535);
	assert_int_equal(t.family, 0);
}

static void addr_targets(void **state)
{
	struct dl_target t;
	uint8_t h[DL_HDR_LEN];
	const uint8_t v4[4] = { 172, 17, 0, 2 };
	const uint8_t v6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };

	assert_int_equal(dl_target_parse("tcp:172.17.0.2:80", &t), 0);
	assert_int_equal(t.kind, DL_TARGET_TCP);
	assert_int_equal(t.family, AF_INET);
	assert_memory_equal(t.addr, v4, 4);
	assert_int_equal(t.port, 80);
	assert_int_equal(dl_target_parse("udp:[fd00::3]:53", &t), 0);
	assert_int_equal(t.kind, DL_TARGET_UDP);
	assert_int_equal(t.family, AF_INET6);
	assert_memory_equal(t.addr, v6, 16);
	assert_int_equal(t.port, 53);
	/* the longest one fits the header and survives the round trip */
	const char *longest = "udp:[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";
	assert_int_equal(dl_hdr_encode(h, tok, longest), 0);
	assert_int_equal(dl_hdr_check(h, tok, &t), 0);
	assert_int_equal(t.family, AF_INET6);
	assert_int_equal(t.port, 65535);

	const char *bad[] = { "tcp:172.17.0.2:", "tcp:172.17.0.2:0", "tcp:172.17.0.2:65536",
			      "tcp:172.17.0.256:80", "tcp::80", "tcp:1.2.3:80", "tcp:[fd00::3]80",
			      "tcp:fd00::3:80", "tcp:[]:80", "tcp:[fd00::3:80", "udp:[1.2.3.4]:5",
			      "tcp:localhost:80", "tcp:1.2.3.4:80:90", "tcp: 1.2.3.4:80",
			      "tcp:172.17.0.2:080" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(dl_target_parse(bad[i], &t), -1);
		assert_int_equal(t.family, 0);
		assert_int_equal(dl_hdr_encode(h, tok, bad[i]), -1);
	}
}

static void caps(void **state)
{
	const char *st = "ok uptime=3 dockerd=up image_version=1 caps=zz,addr,y x=caps=q";

	assert_true(dl_caps_has(st, "addr"));
	assert_true(dl_caps_has(st, "zz"));
	assert_true(dl_caps_has(st, "y"));
	assert_false(dl_caps_has(st, "q"));  /* not a caps= key of its own */
	assert_false(dl_caps_has(st, "add"));
	assert_false(dl_caps_has(st, ""));
	/* an older agent: no caps at all */
	assert_false(dl_caps_has("ok uptime=3 dockerd=up image_version=1", "addr"));
	assert_true(dl_caps_has("ok caps=" DL_CAPS, "addr"));
}

static void garbage_after_target(void **state)
{
	uint8_t h[DL_HDR_LEN];
	struct dl_target t;

	assert_int_equal(dl_hdr_encode(h, tok, "docker"), 0);
	h[DL_HDR_LEN - 2] = 'x';
	assert_int_equal(dl_hdr_check(h, tok, &t), -1);
	assert_int_equal(dl_hdr_encode(h, tok, "docker"), 0);
	h[4] = 9; /* version */
	assert_int_equal(dl_hdr_check(h, tok, &t), -1);
	assert_int_equal(dl_hdr_encode(h, tok, "docker"), 0);
	h[0] = 'X';
	assert_int_equal(dl_hdr_check(h, tok, &t), -1);
}

static void token_file(void **state)
{
	uint8_t out[DL_TOKEN_LEN];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F\n";

	assert_int_equal(dl_token_parse((const uint8_t *)hex, strlen(hex), out), 0);
	assert_int_equal(out[31], 0x1f);
	assert_int_equal(dl_token_parse((const uint8_t *)hex, 10, out), -1);
	assert_int_equal(dl_token_parse((const uint8_t *)"zz", 2, out), -1);
}

static void reply(void **state)
{
	uint8_t r[DL_REPLY_LEN];
	int e;

	dl_reply_encode(r, DL_ST_UNAVAILABLE, 111);
	assert_int_equal(dl_reply_parse(r, &e), DL_ST_UNAVAILABLE);
	assert_int_equal(e, 111);
	r[0] = 0;
	assert_int_equal(dl_reply_parse(r, &e), -1);
}

/* The control line protocol (dl_ctl_parse, used by the agent). */
static void control_lines(void **state)
{
	struct dl_ctl_req r;

	assert_int_equal(dl_ctl_parse("ping", &r), DL_CTL_PING);
	assert_int_equal(dl_ctl_parse("ping\r", &r), DL_CTL_PING);
	assert_int_equal(dl_ctl_parse("ping ", &r), DL_CTL_UNKNOWN);
	assert_int_equal(dl_ctl_parse("pingx", &r), DL_CTL_UNKNOWN);
	assert_int_equal(dl_ctl_parse("", &r), DL_CTL_UNKNOWN);
	assert_int_equal(dl_ctl_parse("ready", &r), DL_CTL_READY);
	assert_int_equal(dl_ctl_parse("status", &r), DL_CTL_STATUS);
	assert_int_equal(dl_ctl_parse("gettime", &r), DL_CTL_GETTIME);
	assert_int_equal(dl_ctl_parse("poweroff", &r), DL_CTL_POWEROFF);
	assert_int_equal(dl_ctl_parse("time 1700000000.123456789", &r), DL_CTL_TIME);
	assert_int_equal(r.sec, 1700000000LL);
	assert_int_equal(r.nsec, 123456789);
	assert_int_equal(dl_ctl_parse("time 12.5\r", &r), DL_CTL_TIME);
	assert_int_equal(r.sec, 12);
	assert_int_equal(r.nsec, 500000000);
	assert_int_equal(dl_ctl_parse("time 7", &r), DL_CTL_TIME);
	assert_int_equal(r.nsec, 0);
	const char *bad[] = { "time ", "time -1", "time +1", "time  1", "time 1.1234567890",
			      "time 1x", "time 1.2.3", "time 99999999999999999999", "time .5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(dl_ctl_parse(bad[i], &r), DL_CTL_BADTIME);
		assert_int_equal(r.sec, 0); /* nothing half-parsed (found by fuzz_control) */
		assert_int_equal(r.nsec, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),	    cmocka_unit_test(wrong_token),
		cmocka_unit_test(bad_targets),	    cmocka_unit_test(addr_targets),
		cmocka_unit_test(caps),
		cmocka_unit_test(garbage_after_target),
		cmocka_unit_test(token_file),	    cmocka_unit_test(reply),
		cmocka_unit_test(control_lines),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
