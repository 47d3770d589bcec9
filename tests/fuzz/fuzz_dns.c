/*
 * libFuzzer target for the DNS responder (src/core/dnsmsg.c): any bytes as
 * a query against a fixed table.  Besides crashes and sanitizer reports it
 * checks that every reply fits the buffer, is a well-formed DNS message
 * (ldns parses it), has QR set and carries the query's ID.
 * Built and run by tests/fuzz/run.
 */
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

static struct dl_dns_table *table;

static void setup(void)
{
	table = dl_dns_table_new();
	if (!table)
		abort();
	dl_dns_table_add(table, "web.docker", "172.17.0.2", "fd00::2", NULL);
	dl_dns_table_add(table, "db.docker", "172.17.0.3", NULL, NULL);
	dl_dns_table_add(table, "api.shop.docker", NULL, "fd00::5", NULL);
	dl_dns_table_add(table, "local.docker", "127.0.0.1", "::1", NULL);
}

static void check(const uint8_t *q, size_t qlen, size_t cap)
{
	static uint8_t out[65535];
	size_t outlen = 12345;

	if (dl_dns_answer(q, qlen, table, "docker", out, cap, &outlen) < 0)
		return; /* out of memory */
	if (outlen == 0)
		return;
	if (outlen > cap || outlen < 12 || qlen < 12)
		abort();
	if (out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80))
		abort();
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!table)
		setup();
	check(data, size, DL_DNS_UDP_MAX);
	check(data, size, sizeof(((uint8_t[65535]){ 0 })));
	/* a small buffer exercises the truncation path */
	if (size)
		check(data, size, 12 + data[size - 1] % 64);
	return 0;
}
