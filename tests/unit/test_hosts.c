#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/hosts.h"
#include "golden.h"

#define ADDR "192.168.64.2"
#define HOST "local.docker"

/* Inputs under tests/golden/hosts/: CASE.in; expected CASE.set (after
 * dl_hosts_set ADDR HOST) and CASE.removed (after dl_hosts_remove of that). */
static const char *cases[] = {
	"plain",	"no-final-newline",	 "crlf",  "crlf-no-final-newline",
	"duplicates",	"tabs",			 "stale-last-no-newline",
	"empty",	"already",		 "near-miss",
};

/* Inputs without dlite lines: install + uninstall must give them back exactly. */
static int clean(const char *in, size_t len)
{
	return dl_hosts_count(in, len) == 0;
}

static void golden_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char rel[256];
		size_t len = 0, slen = 0, slen2 = 0, rlen = 0;
		char *in, *set, *set2, *rm;

		snprintf(rel, sizeof(rel), "hosts/%s.in", cases[i]);
		in = golden_read(rel, &len);

		set = dl_hosts_set(in, len, ADDR, HOST, &slen);
		assert_non_null(set);
		assert_int_equal(strlen(set), slen);
		snprintf(rel, sizeof(rel), "hosts/%s.set", cases[i]);
		golden_check(rel, set, slen);
		assert_int_equal(dl_hosts_count(set, slen), 1);

		/* Idempotent. */
		set2 = dl_hosts_set(set, slen, ADDR, HOST, &slen2);
		assert_non_null(set2);
		assert_int_equal(slen2, slen);
		assert_memory_equal(set2, set, slen);

		rm = dl_hosts_remove(set, slen, &rlen);
		assert_non_null(rm);
		snprintf(rel, sizeof(rel), "hosts/%s.removed", cases[i]);
		golden_check(rel, rm, rlen);
		assert_int_equal(dl_hosts_count(rm, rlen), 0);
		if (clean(in, len)) {
			/* install + uninstall round trip is byte-identical */
			assert_int_equal(rlen, len);
			assert_memory_equal(rm, in, len);
		}
		free(in);
		free(set);
		free(set2);
		free(rm);
	}
}

static void replaced_in_place(void **state)
{
	const char *in = "a\n9.9.9.9 old.docker # added by dlite\nb\n";
	size_t n;
	char *out = dl_hosts_set(in, strlen(in), "10.0.0.2", "new.docker", &n);

	assert_string_equal(out, "a\n10.0.0.2 new.docker # added by dlite\nb\n");
	free(out);
	/* IPv6 address */
	out = dl_hosts_set(in, strlen(in), "fd00::2", "local.docker", &n);
	assert_string_equal(out, "a\nfd00::2 local.docker # added by dlite\nb\n");
	free(out);
}

static void ten_thousand_lines(void **state)
{
	size_t cap = 10000 * 40, len = 0, slen, rlen;
	char *in = malloc(cap), *set, *rm;

	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(in + len, cap - len, "10.%d.%d.%d\thost%05d.lan\n", i / 65536,
					(i / 256) % 256, i % 256, i);
	set = dl_hosts_set(in, len, ADDR, HOST, &slen);
	assert_non_null(set);
	assert_memory_equal(set, in, len);
	assert_string_equal(set + len, ADDR " " HOST " # added by dlite\n");
	rm = dl_hosts_remove(set, slen, &rlen);
	assert_int_equal(rlen, len);
	assert_memory_equal(rm, in, len);
	free(set);
	free(rm);

	/* a stale line in the middle of it is cleaned, the new one replaces it */
	memcpy(in + 40 * 5000, "#", 1); /* keep some variety: comment one line */
	set = dl_hosts_set(in, len, "10.9.9.9", "x.docker", &slen);
	rm = dl_hosts_set(set, slen, ADDR, HOST, &rlen);
	assert_int_equal(dl_hosts_count(rm, rlen), 1);
	assert_int_equal(rlen, slen + strlen(ADDR HOST) - strlen("10.9.9.9x.docker"));
	free(set);
	free(rm);
	free(in);
}

static void null_and_binary(void **state)
{
	size_t n;
	char *out = dl_hosts_set(NULL, 0, ADDR, HOST, &n);
	const char bin[] = "a\0b\n";

	assert_string_equal(out, ADDR " " HOST " # added by dlite\n");
	free(out);
	out = dl_hosts_remove(NULL, 0, &n);
	assert_int_equal(n, 0);
	free(out);
	/* NUL bytes are just bytes */
	out = dl_hosts_set(bin, sizeof(bin) - 1, ADDR, HOST, &n);
	assert_int_equal(n, 4 + strlen(ADDR " " HOST " # added by dlite\n"));
	assert_memory_equal(out, bin, 4);
	free(out);
}

static void bad_input(void **state)
{
	size_t n;

	errno = 0;
	assert_null(dl_hosts_set("", 0, "1.2.3", HOST, &n));
	assert_int_equal(errno, EINVAL);
	assert_null(dl_hosts_set("", 0, ADDR, "local docker", &n));
	assert_null(dl_hosts_set("", 0, ADDR, "a\nb", &n));
	assert_null(dl_hosts_set("", 0, NULL, HOST, &n));
}

static void hostnames(void **state)
{
	const char *good[] = { "local.docker", "a", "A-1.b2", "docker", "xn--bcher-kva.example",
			       "0.docker" };
	const char *bad[] = { "", "local docker", "-a.docker", "a-.docker", "a..b", ".a", "a.",
			      "a_b", "a\tb", "ä.docker", "local.docker # x" };
	char big[300];
	struct dl_err e;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(dl_hostname_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_false(dl_hostname_valid(bad[i]));
	assert_false(dl_hostname_valid(NULL));
	memset(big, 'a', 63);
	big[63] = '\0';
	assert_true(dl_hostname_valid(big));
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_false(dl_hostname_valid(big)); /* label > 63 */
	for (int i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0';
	assert_true(dl_hostname_valid(big));
	big[253] = 'a';
	big[254] = '\0';
	assert_false(dl_hostname_valid(big)); /* > 253 */

	assert_int_equal(dl_hostname_check("local docker", &e), -1);
	assert_non_null(strstr(e.msg, "local docker"));
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(dl_hostname_check("local.docker", &e), 0);
}

static void addresses(void **state)
{
	struct dl_err e;

	assert_true(dl_addr_valid("192.168.64.2"));
	assert_true(dl_addr_valid("::1"));
	assert_true(dl_addr_valid("fd00:d0c::2"));
	assert_false(dl_addr_valid("192.168.64"));
	assert_false(dl_addr_valid("256.1.1.1"));
	assert_false(dl_addr_valid("local.docker"));
	assert_false(dl_addr_valid("1.2.3.4 "));
	assert_false(dl_addr_valid(""));
	assert_false(dl_addr_valid(NULL));
	assert_int_equal(dl_addr_check("x", &e), -1);
	assert_non_null(strstr(e.msg, "IPv4"));
}

/* Found by tests/fuzz/fuzz_hosts.c: a text ending in a lone CR (no LF):
 * the removal gave it back without the CR. */
static void lone_cr_kept(void **state)
{
	const char *in[] = { "127.0.0.1 x\r", "a\nb\r", "a\r\nb\r", "a\r\nb" };

	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
		size_t sn, rn;
		char *s = dl_hosts_set(in[i], strlen(in[i]), "10.0.0.1", "local.docker", &sn);
		assert_non_null(s);
		assert_int_equal(dl_hosts_count(s, sn), 1);
		char *r = dl_hosts_remove(s, sn, &rn);
		assert_non_null(r);
		assert_int_equal(rn, strlen(in[i]));
		assert_memory_equal(r, in[i], rn);
		free(s);
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_cases),	     cmocka_unit_test(replaced_in_place),
		cmocka_unit_test(ten_thousand_lines), cmocka_unit_test(null_and_binary),
		cmocka_unit_test(bad_input),	     cmocka_unit_test(hostnames),
		cmocka_unit_test(addresses),
		cmocka_unit_test(lone_cr_kept),
	};
	return cmocka_run_group_tests_name("hosts", tests, NULL, NULL);
}
