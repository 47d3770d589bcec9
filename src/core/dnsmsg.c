/* The DNS responder's pure core; see dnsmsg.h. */
#include "dnsmsg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HDR_LEN 12

/* ---- table --------------------------------------------------------------- */

struct dl_dns_table *dl_dns_table_new(void)
{
	return calloc(1, sizeof(struct dl_dns_table));
}

void dl_dns_table_free(struct dl_dns_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->recs[i].name);
	free(t->recs);
	free(t);
}

/* Lowercase copy of name without its trailing dot; NULL if not a plain
 * host name (labels of [a-z0-9_-], 1..63 bytes, total <= 253). */
static char *norm_name(const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	size_t lab = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (lab == 0)
				goto bad;
			lab = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++lab > 63)
				goto bad;
		} else {
			goto bad;
		}
		s[i] = (char)tolower(c);
	}
	if (lab == 0)
		goto bad;
	s[n] = '\0';
	return s;
bad:
	free(s);
	return NULL;
}

static struct dl_dns_record *find(const struct dl_dns_table *t, const char *name, size_t len)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->recs[i].name) == len && strncasecmp(t->recs[i].name, name, len) == 0)
			return &t->recs[i];
	return NULL;
}

const struct dl_dns_record *dl_dns_table_find(const struct dl_dns_table *t, const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	return find(t, name, n);
}

int dl_dns_table_add(struct dl_dns_table *t, const char *name, const char *v4, const char *v6,
		     struct dl_err *e)
{
	uint8_t a4[4], a6[16];

	if (!name)
		return dl_fail(e, 0, "dns: record without a name");
	if (v4 && inet_pton(AF_INET, v4, a4) != 1)
		return dl_fail(e, 0, "dns: %s: bad IPv4 address %s", name, v4);
	if (v6 && inet_pton(AF_INET6, v6, a6) != 1)
		return dl_fail(e, 0, "dns: %s: bad IPv6 address %s", name, v6);
	char *nn = norm_name(name);
	if (!nn)
		return dl_fail(e, 0, "dns: not a valid DNS name: %s", name);
	struct dl_dns_record *r = find(t, nn, strlen(nn));
	if (r) {
		free(nn);
	} else {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			struct dl_dns_record *v = realloc(t->recs, cap * sizeof(*v));
			if (!v) {
				free(nn);
				return dl_fail(e, ENOMEM, "dns: table");
			}
			t->recs = v;
			t->cap = cap;
		}
		r = &t->recs[t->n++];
		memset(r, 0, sizeof(*r));
		r->name = nn;
	}
	if (v4) {
		memcpy(r->v4, a4, 4);
		r->has_v4 = true;
	}
	if (v6) {
		memcpy(r->v6, a6, 16);
		r->has_v6 = true;
	}
	return 0;
}

/* Is there a record strictly below `name` (an empty non-terminal)? */
static bool has_below(const struct dl_dns_table *t, const char *name, size_t len)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		const char *rn = t->recs[i].name;
		size_t rl = strlen(rn);
		if (rl > len + 1 && rn[rl - len - 1] == '.' && strncasecmp(rn + rl - len, name, len) == 0)
			return true;
	}
	return false;
}

/* ---- answer -------------------------------------------------------------- */

/* A header-only reply: ID, opcode and RD from the query. */
static int header_reply(const uint8_t *q, uint8_t rcode, uint8_t *out, size_t outcap,
			size_t *outlen)
{
	if (outcap < HDR_LEN)
		return 0;
	memset(out, 0, HDR_LEN);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(0x80 | (q[2] & 0x78) | (q[2] & 0x01)); /* QR, opcode, RD */
	out[3] = rcode & 0x0f;
	*outlen = HDR_LEN;
	return 0;
}

static ldns_rr *addr_rr(const ldns_rdf *owner, ldns_rr_type type, const uint8_t *addr)
{
	ldns_rr *rr = ldns_rr_new();
	if (!rr)
		return NULL;
	ldns_rdf *own = ldns_rdf_clone(owner);
	ldns_rdf *data = ldns_rdf_new_frm_data(type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A
								      : LDNS_RDF_TYPE_AAAA,
					       type == LDNS_RR_TYPE_A ? 4 : 16, addr);
	if (!own || !data) {
		ldns_rdf_deep_free(own);
		ldns_rdf_deep_free(data);
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, own);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, DL_DNS_TTL);
	if (!ldns_rr_push_rdf(rr, data)) {
		ldns_rdf_deep_free(data);
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/* Build the reply packet; with_answers false for the truncated retry. */
static ldns_pkt *build(const ldns_pkt *qp, const ldns_rr *question, uint8_t rcode,
		       const struct dl_dns_record *rec, ldns_rr_type qtype, bool with_answers)
{
	ldns_pkt *r = ldns_pkt_new();
	if (!r)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(qp));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(r, ldns_pkt_rd(qp));
	ldns_pkt_set_cd(r, ldns_pkt_cd(qp));
	ldns_pkt_set_rcode(r, rcode);
	if (ldns_pkt_edns(qp))
		ldns_pkt_set_edns_udp_size(r, DL_DNS_EDNS_SIZE);
	if (question) {
		ldns_rr *qc = ldns_rr_clone(question);
		if (!qc || !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, qc)) {
			ldns_rr_free(qc);
			ldns_pkt_free(r);
			return NULL;
		}
	}
	if (!rec || !question)
		return r;
	if (!with_answers) {
		ldns_pkt_set_tc(r, true);
		return r;
	}
	const ldns_rdf *owner = ldns_rr_owner(question);
	bool any = qtype == LDNS_RR_TYPE_ANY;
	for (int pass = 0; pass < 2; pass++) {
		ldns_rr_type t = pass == 0 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
		bool have = pass == 0 ? rec->has_v4 : rec->has_v6;
		if (!have || !(any || qtype == t))
			continue;
		ldns_rr *rr = addr_rr(owner, t, pass == 0 ? rec->v4 : rec->v6);
		if (!rr || !ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			ldns_pkt_free(r);
			return NULL;
		}
	}
	return r;
}

/* Serialize into out; 1 if it did not fit, 0 done, -1 error. */
static int emit(const ldns_pkt *r, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_pkt2wire(&wire, r, &size) != LDNS_STATUS_OK || !wire)
		return -1;
	if (size > outcap) {
		free(wire);
		return 1;
	}
	memcpy(out, wire, size);
	*outlen = size;
	free(wire);
	return 0;
}

/* Presentation form of a dname, lowercase ASCII, no trailing dot; the root
 * is "".  NULL on OOM. */
static char *dname_str(const ldns_rdf *d)
{
	char *s = ldns_rdf2str(d);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n && s[n - 1] == '.')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

int dl_dns_answer(const uint8_t *q, size_t qlen, const struct dl_dns_table *t, const char *domain,
		  uint8_t *out, size_t outcap, size_t *outlen)
{
	ldns_pkt *qp = NULL, *r = NULL;
	ldns_rdf *zone = NULL;
	char *qname = NULL;
	const struct dl_dns_record *rec = NULL;
	int ret = 0;

	*outlen = 0;
	if (!q || qlen < HDR_LEN)
		return 0;			/* garbage: drop */
	if (q[2] & 0x80)
		return 0;			/* a response: never answer those */
	if (((q[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY)
		return header_reply(q, LDNS_RCODE_NOTIMPL, out, outcap, outlen);
	if (ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK || !qp)
		return header_reply(q, LDNS_RCODE_FORMERR, out, outcap, outlen);
	if (ldns_pkt_qdcount(qp) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(qp)) != 1) {
		ret = header_reply(q, LDNS_RCODE_FORMERR, out, outcap, outlen);
		goto out;
	}

	const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
	const ldns_rdf *owner = ldns_rr_owner(question);
	ldns_rr_type qtype = ldns_rr_get_type(question);
	uint8_t rcode;

	zone = ldns_dname_new_frm_str(domain && *domain ? domain : ".");
	if (!zone || !owner || ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME) {
		ret = zone ? header_reply(q, LDNS_RCODE_FORMERR, out, outcap, outlen) : -1;
		goto out;
	}
	bool inside = domain && *domain &&
		      (ldns_dname_compare(owner, zone) == 0 || ldns_dname_is_subdomain(owner, zone));
	if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN || !inside) {
		rcode = LDNS_RCODE_REFUSED;
	} else if (qtype == LDNS_RR_TYPE_AXFR || qtype == LDNS_RR_TYPE_IXFR) {
		rcode = LDNS_RCODE_REFUSED;
	} else {
		qname = dname_str(owner);
		if (!qname) {
			ret = -1;
			goto out;
		}
		size_t ql = strlen(qname);
		rec = find(t, qname, ql);
		if (rec || ldns_dname_compare(owner, zone) == 0 || has_below(t, qname, ql))
			rcode = LDNS_RCODE_NOERROR;
		else
			rcode = LDNS_RCODE_NXDOMAIN;
	}

	r = build(qp, question, rcode, rec, qtype, true);
	if (!r) {
		ret = -1;
		goto out;
	}
	int st = emit(r, out, outcap, outlen);
	if (st == 1) {
		/* too big: retry without answers and with TC */
		ldns_pkt_free(r);
		r = build(qp, question, rcode, rec, qtype, false);
		if (!r) {
			ret = -1;
			goto out;
		}
		st = emit(r, out, outcap, outlen);
		if (st == 1) {
			ret = header_reply(q, rcode, out, outcap, outlen);
			if (*outlen)
				out[2] |= 0x02 | 0x04; /* TC, AA */
			goto out;
		}
	}
	if (st < 0)
		ret = -1;
out:
	ldns_pkt_free(r);
	ldns_pkt_free(qp);
	ldns_rdf_deep_free(zone);
	free(qname);
	return ret;
}
