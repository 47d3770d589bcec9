/*
 * The DNS responder: dl_dns_answer() (src/core/dnsmsg.c) with queries built
 * and replies parsed by ldns, hand-made malformed messages, and the
 * libevent server (src/daemon/dns.c) over UDP and TCP on loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/dns.h"
#include "dnsmsg.h"

static struct dl_dns_table *table(void)
{
	struct dl_dns_table *t = dl_dns_table_new();
	struct dl_err e = { 0 };
	assert_non_null(t);
	assert_int_equal(dl_dns_table_add(t, "web.docker", "172.17.0.2", NULL, &e), 0);
	assert_int_equal(dl_dns_table_add(t, "Web.Docker.", NULL, "fd00::2", &e), 0); /* merges */
	assert_int_equal(dl_dns_table_add(t, "db.docker", "172.17.0.3", NULL, &e), 0);
	assert_int_equal(dl_dns_table_add(t, "v6only.docker", NULL, "fd00::4", &e), 0);
	assert_int_equal(dl_dns_table_add(t, "api.shop.docker", "172.18.0.5", NULL, &e), 0);
	assert_int_equal(dl_dns_table_add(t, "local.docker", "127.0.0.1", "::1", &e), 0);
	return t;
}

/* Build a query with ldns. */
static size_t mkquery(uint8_t *buf, const char *name, ldns_rr_type type, ldns_rr_class cls,
		      uint16_t id, bool rd, uint16_t edns)
{
	ldns_rdf *d = ldns_dname_new_frm_str(name);
	assert_non_null(d);
	ldns_pkt *p = ldns_pkt_query_new(d, type, cls, rd ? LDNS_RD : 0);
	assert_non_null(p);
	ldns_pkt_set_id(p, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, edns);
	uint8_t *w = NULL;
	size_t n = 0;
	assert_int_equal(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
	memcpy(buf, w, n);
	free(w);
	ldns_pkt_free(p);
	return n;
}

struct reply {
	ldns_pkt *p;
	uint8_t raw[65535];
	size_t len;
};

static ldns_pkt *ask(struct reply *r, const struct dl_dns_table *t, const char *name,
		     ldns_rr_type type)
{
	uint8_t q[512];
	size_t n = mkquery(q, name, type, LDNS_RR_CLASS_IN, 0x1234, true, 0);
	assert_int_equal(dl_dns_answer(q, n, t, "docker", r->raw, sizeof(r->raw), &r->len), 0);
	assert_true(r->len >= 12);
	r->p = NULL;
	assert_int_equal(ldns_wire2pkt(&r->p, r->raw, r->len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r->p), 0x1234);
	assert_true(ldns_pkt_qr(r->p));
	assert_true(ldns_pkt_aa(r->p));
	assert_true(ldns_pkt_rd(r->p));
	assert_false(ldns_pkt_ra(r->p));
	assert_int_equal(ldns_pkt_qdcount(r->p), 1);
	return r->p;
}

static void expect_addr(ldns_pkt *p, size_t idx, ldns_rr_type type, const char *addr)
{
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), idx);
	assert_non_null(rr);
	assert_int_equal(ldns_rr_get_type(rr), type);
	assert_int_equal(ldns_rr_ttl(rr), DL_DNS_TTL);
	char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(s, addr);
	free(s);
}

/* ---- answers ------------------------------------------------------------- */

static void a_and_aaaa(void **state)
{
	struct dl_dns_table *t = table();
	static struct reply r;
	ldns_pkt *p;

	p = ask(&r, t, "web.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	expect_addr(p, 0, LDNS_RR_TYPE_A, "172.17.0.2");
	ldns_pkt_free(p);

	p = ask(&r, t, "web.docker", LDNS_RR_TYPE_AAAA);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	expect_addr(p, 0, LDNS_RR_TYPE_AAAA, "fd00::2");
	ldns_pkt_free(p);

	p = ask(&r, t, "web.docker", LDNS_RR_TYPE_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);

	/* known name lacking the type, other types: NOERROR, no answer */
	p = ask(&r, t, "db.docker", LDNS_RR_TYPE_AAAA);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask(&r, t, "v6only.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask(&r, t, "web.docker", LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* compose service, the hostname */
	p = ask(&r, t, "api.shop.docker", LDNS_RR_TYPE_A);
	expect_addr(p, 0, LDNS_RR_TYPE_A, "172.18.0.5");
	ldns_pkt_free(p);
	p = ask(&r, t, "local.docker", LDNS_RR_TYPE_AAAA);
	expect_addr(p, 0, LDNS_RR_TYPE_AAAA, "::1");
	ldns_pkt_free(p);
	dl_dns_table_free(t);
}

static void rcodes(void **state)
{
	struct dl_dns_table *t = table();
	static struct reply r;
	ldns_pkt *p;

	p = ask(&r, t, "nope.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
	p = ask(&r, t, "a.b.web.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* outside the zone */
	const char *out[] = { "example.com", "xdocker", "docker.com", "web.docker.evil.org", "." };
	for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++) {
		p = ask(&r, t, out[i], LDNS_RR_TYPE_A);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
		assert_int_equal(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
	}

	/* the apex and empty non-terminals exist */
	p = ask(&r, t, "docker", LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	p = ask(&r, t, "shop.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	/* but not a suffix that is not on a label boundary */
	p = ask(&r, t, "hop.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* zone transfers */
	p = ask(&r, t, "docker", LDNS_RR_TYPE_AXFR);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);

	/* no table yet: everything inside is NXDOMAIN */
	p = ask(&r, NULL, "web.docker", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* other classes */
	uint8_t q[512], o[512];
	size_t n = mkquery(q, "version.bind", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 7, false, 0), ol;
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &ol), 0);
	assert_int_equal(ol >= 12, 1);
	assert_int_equal(o[3] & 0x0f, LDNS_RCODE_REFUSED);
	assert_int_equal(o[2] & 0x01, 0); /* RD not set in the query: not in the reply */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 7, false, 0);
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &ol), 0);
	assert_int_equal(o[3] & 0x0f, LDNS_RCODE_REFUSED);
	dl_dns_table_free(t);
}

static void case_insensitive(void **state)
{
	struct dl_dns_table *t = table();
	static struct reply r;

	ldns_pkt *p = ask(&r, t, "WeB.DoCkEr", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	expect_addr(p, 0, LDNS_RR_TYPE_A, "172.17.0.2");
	/* the question comes back in the query's own case (0x20) */
	assert_non_null(memmem(r.raw, r.len, "\x03WeB\x06" "DoCkEr", 11));
	ldns_pkt_free(p);

	uint8_t q[512], o[512];
	size_t n = mkquery(q, "API.Shop.DOCKER", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 9, true, 0), ol;
	assert_int_equal(dl_dns_answer(q, n, t, "Docker.", o, sizeof(o), &ol), 0);
	assert_int_equal(o[3] & 0x0f, LDNS_RCODE_NOERROR);
	assert_int_equal(o[7], 1); /* ancount */
	dl_dns_table_free(t);
}

static void edns(void **state)
{
	struct dl_dns_table *t = table();
	uint8_t q[512], o[512];
	size_t ol;
	ldns_pkt *p = NULL;

	size_t n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1, true, 4096);
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &ol), 0);
	assert_int_equal(ldns_wire2pkt(&p, o, ol), LDNS_STATUS_OK);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), DL_DNS_EDNS_SIZE);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);

	/* without EDNS in the query, none in the reply */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1, true, 0);
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &ol), 0);
	assert_int_equal(o[11], 0); /* arcount */
	dl_dns_table_free(t);
}

static void truncation(void **state)
{
	struct dl_dns_table *t = table();
	uint8_t q[512], o[512];
	size_t ol, full;
	ldns_pkt *p = NULL;

	size_t n = mkquery(q, "web.docker", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN, 5, true, 0);
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &full), 0);
	/* one byte short: no answers, TC */
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, full - 1, &ol), 0);
	assert_true(ol > 0 && ol < full);
	assert_int_equal(ldns_wire2pkt(&p, o, ol), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_id(p), 5);
	ldns_pkt_free(p);
	/* room for the header only */
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, 12, &ol), 0);
	assert_int_equal(ol, 12);
	assert_int_equal(o[2] & 0x02, 0x02);
	/* no room at all: dropped */
	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, 11, &ol), 0);
	assert_int_equal(ol, 0);
	dl_dns_table_free(t);
}

/* ---- malformed ----------------------------------------------------------- */

static void expect_rcode(const uint8_t *q, size_t n, int rcode)
{
	uint8_t o[512];
	size_t ol = 99;
	struct dl_dns_table *t = table();

	assert_int_equal(dl_dns_answer(q, n, t, "docker", o, sizeof(o), &ol), 0);
	dl_dns_table_free(t);
	if (rcode < 0) {
		assert_int_equal(ol, 0);
		return;
	}
	assert_true(ol >= 12);
	assert_int_equal(o[0], q[0]);
	assert_int_equal(o[1], q[1]);
	assert_int_equal(o[2] & 0x80, 0x80);
	assert_int_equal(o[3] & 0x0f, rcode);
}

static void malformed(void **state)
{
	uint8_t q[512];
	size_t n;

	/* shorter than a header: dropped */
	expect_rcode((const uint8_t *)"\x12\x34\x01\x00", 4, -1);
	expect_rcode((const uint8_t *)"", 0, -1);
	assert_int_equal(dl_dns_answer(NULL, 0, NULL, "docker", q, sizeof(q), &n), 0);
	assert_int_equal(n, 0);

	/* header says one question, there is none */
	uint8_t noq[12] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	expect_rcode(noq, sizeof(noq), LDNS_RCODE_FORMERR);

	/* zero questions */
	uint8_t zq[12] = { 0xab, 0xce, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };
	expect_rcode(zq, sizeof(zq), LDNS_RCODE_FORMERR);

	/* two questions */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 3, true, 0);
	memcpy(q + n, q + 12, n - 12);
	q[5] = 2;
	expect_rcode(q, n + (n - 12), LDNS_RCODE_FORMERR);

	/* truncated in the name, in the type */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 3, true, 0);
	expect_rcode(q, 16, LDNS_RCODE_FORMERR);
	expect_rcode(q, n - 3, LDNS_RCODE_FORMERR);

	/* a response: never answered */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 3, true, 0);
	q[2] |= 0x80;
	expect_rcode(q, n, -1);

	/* opcode STATUS / UPDATE: not implemented */
	n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 3, true, 0);
	q[2] = (uint8_t)((q[2] & ~0x78) | (2 << 3));
	expect_rcode(q, n, LDNS_RCODE_NOTIMPL);
	q[2] = (uint8_t)((q[2] & ~0x78) | (5 << 3));
	expect_rcode(q, n, LDNS_RCODE_NOTIMPL);

	/* label longer than 63 */
	uint8_t ll[12 + 1 + 64 + 1 + 4] = { 1, 2, 1, 0, 0, 1 };
	ll[12] = 64;
	memset(ll + 13, 'a', 64);
	expect_rcode(ll, sizeof(ll), LDNS_RCODE_FORMERR);

	/* random bytes after a valid header */
	uint8_t junk[40] = { 9, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	for (size_t i = 12; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	uint8_t o[512];
	size_t ol;
	assert_int_equal(dl_dns_answer(junk, sizeof(junk), NULL, "docker", o, sizeof(o), &ol), 0);
	assert_true(ol == 0 || ol >= 12);
}

static void compression_loops(void **state)
{
	/* name = pointer to itself */
	uint8_t self[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	expect_rcode(self, sizeof(self), LDNS_RCODE_FORMERR);

	/* two pointers pointing at each other */
	uint8_t pair[] = { 0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1 };
	expect_rcode(pair, sizeof(pair), LDNS_RCODE_FORMERR);

	/* label then a pointer back to the label (infinite name) */
	uint8_t back[] = { 0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1 };
	expect_rcode(back, sizeof(back), LDNS_RCODE_FORMERR);

	/* pointer past the end */
	uint8_t past[] = { 0, 4, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 200, 0, 1, 0, 1 };
	expect_rcode(past, sizeof(past), LDNS_RCODE_FORMERR);

	/* pointer into the header (reads header bytes as labels) */
	uint8_t hdr[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1 };
	uint8_t o[512];
	size_t ol;
	assert_int_equal(dl_dns_answer(hdr, sizeof(hdr), NULL, "docker", o, sizeof(o), &ol), 0);
	assert_true(ol == 0 || ol >= 12);

	/* a name longer than 255 bytes (64 labels of 3) */
	uint8_t chain[12 + 2 * 130 + 4 + 64];
	memset(chain, 0, sizeof(chain));
	chain[2] = 1;
	chain[5] = 1;
	size_t at = 12;
	/* 64 labels "\x03abc" then root, then a question pointing at the start */
	for (int i = 0; i < 64 && at + 4 < sizeof(chain) - 8; i++) {
		memcpy(chain + at, "\x03" "abc", 4);
		at += 4;
	}
	chain[at++] = 0;
	chain[at++] = 0;
	chain[at++] = 1;
	chain[at++] = 0;
	chain[at++] = 1;
	expect_rcode(chain, at, LDNS_RCODE_FORMERR);
}

static void table_rules(void **state)
{
	struct dl_dns_table *t = dl_dns_table_new();
	struct dl_err e = { 0 };

	assert_int_equal(dl_dns_table_add(t, "my_app-1.proj.docker", "10.0.0.1", NULL, &e), 0);
	assert_non_null(dl_dns_table_find(t, "MY_APP-1.Proj.Docker."));
	assert_string_equal(dl_dns_table_find(t, "my_app-1.proj.docker")->name, "my_app-1.proj.docker");
	assert_int_equal(dl_dns_table_add(t, "bad name.docker", "10.0.0.1", NULL, &e), -1);
	assert_int_equal(dl_dns_table_add(t, "a..docker", "10.0.0.1", NULL, &e), -1);
	assert_int_equal(dl_dns_table_add(t, "", "10.0.0.1", NULL, &e), -1);
	assert_int_equal(dl_dns_table_add(t, ".", "10.0.0.1", NULL, &e), -1);
	assert_int_equal(dl_dns_table_add(t, "x.docker", "10.0.0.256", NULL, &e), -1);
	assert_int_equal(dl_dns_table_add(t, "x.docker", NULL, "fd00::g", &e), -1);
	char lab[80];
	memset(lab, 'a', 64);
	strcpy(lab + 64, ".docker");
	assert_int_equal(dl_dns_table_add(t, lab, "10.0.0.1", NULL, &e), -1);
	/* replace an address */
	assert_int_equal(dl_dns_table_add(t, "my_app-1.proj.docker", "10.0.0.9", NULL, &e), 0);
	assert_int_equal(t->n, 1);
	assert_int_equal(t->recs[0].v4[3], 9);
	assert_false(t->recs[0].has_v6);
	/* many records */
	for (int i = 0; i < 500; i++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "c%d.docker", i);
		assert_int_equal(dl_dns_table_add(t, nm, "10.1.0.1", NULL, &e), 0);
	}
	assert_int_equal(t->n, 501);
	assert_non_null(dl_dns_table_find(t, "c499.docker"));
	assert_null(dl_dns_table_find(t, "c500.docker"));
	dl_dns_table_free(t);
	dl_dns_table_free(NULL);
}

/* ---- the server over loopback -------------------------------------------- */

static void pump(struct event_base *b)
{
	for (int i = 0; i < 20; i++)
		event_base_loop(b, EVLOOP_NONBLOCK);
}

static ssize_t recv_wait(struct event_base *b, int fd, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 200; i++) {
		pump(b);
		ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return n;
		usleep(2000);
	}
	return -1;
}

static int rcode_of(const uint8_t *m)
{
	return m[3] & 0x0f;
}

static void server(void **state)
{
	struct event_base *b = event_base_new();
	struct dl_err e = { 0 };
	assert_null(dl_dns_server_new(b, "not-an-ip", 0, &e));
	struct dl_dns_server *s = dl_dns_server_new(b, "127.0.0.1", 0, &e);
	if (!s)
		fail_msg("%s", e.msg);
	uint16_t port = dl_dns_server_port(s);
	assert_true(port != 0);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	uint8_t q[512], buf[2048];

	/* no table yet: REFUSED */
	size_t n = mkquery(q, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 42, true, 0);
	assert_int_equal(send(u, q, n, 0), (ssize_t)n);
	ssize_t r = recv_wait(b, u, buf, sizeof(buf));
	assert_true(r >= 12);
	assert_int_equal(rcode_of(buf), LDNS_RCODE_REFUSED);

	assert_int_equal(dl_dns_server_set_table(s, table(), "docker.", &e), 0);
	assert_int_equal(send(u, q, n, 0), (ssize_t)n);
	r = recv_wait(b, u, buf, sizeof(buf));
	assert_true(r > 12);
	assert_int_equal(rcode_of(buf), LDNS_RCODE_NOERROR);
	assert_int_equal(buf[0] << 8 | buf[1], 42);
	assert_int_equal(buf[7], 1);

	/* garbage gets no reply, and the server carries on */
	assert_int_equal(send(u, "xx", 2, 0), 2);
	pump(b);
	assert_int_equal(recv(u, buf, sizeof(buf), MSG_DONTWAIT), -1);
	n = mkquery(q, "nope.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 43, true, 0);
	assert_int_equal(send(u, q, n, 0), (ssize_t)n);
	r = recv_wait(b, u, buf, sizeof(buf));
	assert_int_equal(rcode_of(buf), LDNS_RCODE_NXDOMAIN);

	/* swap the table: answers follow */
	struct dl_dns_table *t2 = dl_dns_table_new();
	assert_int_equal(dl_dns_table_add(t2, "nope.docker", "10.9.9.9", NULL, &e), 0);
	assert_int_equal(dl_dns_server_set_table(s, t2, "docker", &e), 0);
	assert_int_equal(send(u, q, n, 0), (ssize_t)n);
	r = recv_wait(b, u, buf, sizeof(buf));
	assert_int_equal(rcode_of(buf), LDNS_RCODE_NOERROR);
	assert_int_equal(buf[7], 1);
	close(u);

	/* TCP: two pipelined queries in one write, then a split one */
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(tcp, (struct sockaddr *)&sa, sizeof(sa)), 0);
	uint8_t two[1024];
	size_t n1 = mkquery(two + 2, "nope.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 100, true, 0);
	two[0] = 0;
	two[1] = (uint8_t)n1;
	size_t n2 = mkquery(two + 4 + n1, "web.docker", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 101, true, 0);
	two[2 + n1] = 0;
	two[3 + n1] = (uint8_t)n2;
	assert_int_equal(write(tcp, two, 4 + n1 + n2), (ssize_t)(4 + n1 + n2));
	uint8_t acc[4096];
	size_t got = 0;
	for (int i = 0; i < 50 && got < 4; i++) {
		r = recv_wait(b, tcp, acc + got, sizeof(acc) - got);
		if (r > 0)
			got += (size_t)r;
	}
	/* first reply */
	for (int i = 0; i < 50; i++) {
		size_t l1 = (size_t)acc[0] << 8 | acc[1];
		if (got >= 2 + l1 + 2 && got >= 2 + l1 + 2 + ((size_t)acc[2 + l1] << 8 | acc[3 + l1]))
			break;
		r = recv_wait(b, tcp, acc + got, sizeof(acc) - got);
		if (r > 0)
			got += (size_t)r;
	}
	size_t l1 = (size_t)acc[0] << 8 | acc[1];
	assert_int_equal(acc[2] << 8 | acc[3], 100);
	assert_int_equal(rcode_of(acc + 2), LDNS_RCODE_NOERROR);
	assert_int_equal(acc[2 + l1 + 2] << 8 | acc[2 + l1 + 3], 101);
	assert_int_equal(rcode_of(acc + 2 + l1 + 2), LDNS_RCODE_NXDOMAIN); /* t2 lacks web */

	/* split write */
	assert_int_equal(write(tcp, two, 3), 3);
	pump(b);
	assert_int_equal(write(tcp, two + 3, n1 - 1), (ssize_t)(n1 - 1));
	r = recv_wait(b, tcp, acc, sizeof(acc));
	assert_true(r >= 14);
	assert_int_equal(acc[2] << 8 | acc[3], 100);
	close(tcp);
	pump(b);
	assert_true(dl_dns_server_count(s) >= 6);

	/* the port is taken now: a second server on it fails cleanly */
	struct dl_dns_server *s2 = dl_dns_server_new(b, "127.0.0.1", port, &e);
	assert_null(s2);
	assert_non_null(strstr(e.msg, "dns:"));

	dl_dns_server_free(s);
	event_base_free(b);
}

static void server_v6(void **state)
{
	struct event_base *b = event_base_new();
	struct dl_err e = { 0 };
	struct dl_dns_server *s = dl_dns_server_new(b, "::1", 0, &e);
	if (!s) {
		/* no IPv6 loopback in this sandbox */
		event_base_free(b);
		skip();
	}
	assert_int_equal(dl_dns_server_set_table(s, table(), "docker", &e), 0);
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(dl_dns_server_port(s)) };
	sa.sin6_addr = in6addr_loopback;
	int u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	uint8_t q[512], buf[2048];
	size_t n = mkquery(q, "local.docker", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 7, true, 0);
	assert_int_equal(send(u, q, n, 0), (ssize_t)n);
	ssize_t r = recv_wait(b, u, buf, sizeof(buf));
	assert_true(r > 12);
	assert_int_equal(rcode_of(buf), LDNS_RCODE_NOERROR);
	close(u);
	dl_dns_server_free(s);
	event_base_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_and_aaaa),
		cmocka_unit_test(rcodes),
		cmocka_unit_test(case_insensitive),
		cmocka_unit_test(edns),
		cmocka_unit_test(truncation),
		cmocka_unit_test(malformed),
		cmocka_unit_test(compression_loops),
		cmocka_unit_test(table_rules),
		cmocka_unit_test(server),
		cmocka_unit_test(server_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
