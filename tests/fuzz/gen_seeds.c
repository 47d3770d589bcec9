/* Writes the seed corpus for fuzz_dns into the directory argv[1]. */
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

static int n;
static const char *dir;

static void put(const uint8_t *b, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%03d", dir, n++);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len) {
		perror(path);
		_exit(1);
	}
	fclose(f);
}

static void query(const char *name, ldns_rr_type t, ldns_rr_class c, uint16_t edns)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), t, c, LDNS_RD);
	uint8_t *w = NULL;
	size_t len = 0;
	ldns_pkt_set_id(p, (uint16_t)(0x1000 + n));
	if (edns)
		ldns_pkt_set_edns_udp_size(p, edns);
	if (ldns_pkt2wire(&w, p, &len) != LDNS_STATUS_OK)
		_exit(1);
	put(w, len);
	if (len > 14)
		put(w, len - 3); /* truncated */
	free(w);
	ldns_pkt_free(p);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	dir = argv[1];
	query("web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	query("WEB.docker", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 4096);
	query("api.shop.docker", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN, 0);
	query("shop.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232);
	query("nope.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	query("docker", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	query("example.com", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, 0);
	query("version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 0);
	query("docker", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	static const uint8_t raw[][20] = {
		{ 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 },	  /* self pointer */
		{ 0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1 }, /* loop */
		{ 0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1 },
		{ 0, 4, 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 },	  /* STATUS */
		{ 0, 5, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 },	  /* response */
		{ 0, 6, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1 },  /* 2 questions */
	};
	static const size_t rawlen[] = { 18, 20, 20, 17, 17, 20 };
	for (size_t i = 0; i < sizeof(rawlen) / sizeof(*rawlen); i++)
		put(raw[i], rawlen[i]);
	put((const uint8_t *)"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	put((const uint8_t *)"\x12\x34", 2);
	return 0;
}
