/*
 * The DNS responder's pure core: a table of names and the answer to one
 * query, wire format by ldns.  No sockets here (src/daemon/dns.c serves it).
 *
 * Authoritative for `domain` (e.g. "docker"):
 *   - A / AAAA (and ANY) for a name in the table -> the address(es), TTL 0
 *     so answers follow docker events at once;
 *   - a name in the table lacking the type, any other type, the domain
 *     apex, or an empty non-terminal (e.g. "proj.docker" when
 *     "web.proj.docker" exists) -> NOERROR, no answer;
 *   - any other name inside the domain -> NXDOMAIN;
 *   - names outside it, or class other than IN -> REFUSED;
 *   - opcode other than QUERY -> NOTIMP; a readable header with a body
 *     that does not parse, or a question count other than 1 -> FORMERR;
 *   - fewer than 12 bytes, or a message with QR set -> dropped.
 * The reply copies the ID, opcode, RD and the question (in the query's
 * case, for 0x20-randomising resolvers), sets QR and AA, and carries an
 * EDNS0 OPT record when the query had one.  Names compare case-insensitively.
 */
#ifndef DLITE_DNSMSG_H
#define DLITE_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DL_DNS_TTL       0
#define DL_DNS_UDP_MAX   512	/* reply size over UDP without EDNS */
#define DL_DNS_EDNS_SIZE 1232	/* what we advertise in our OPT record */

struct dl_dns_record {
	char *name;		/* lowercase FQDN without the trailing dot */
	bool has_v4, has_v6;
	uint8_t v4[4];
	uint8_t v6[16];
};

struct dl_dns_table {
	struct dl_dns_record *recs;
	size_t n, cap;
};

struct dl_dns_table *dl_dns_table_new(void);
void dl_dns_table_free(struct dl_dns_table *t);
/* Add or update `name` (any case, trailing dot allowed) with an IPv4 and/or
 * IPv6 address in text form (NULL: leave that family as it is).  A second
 * add of the same name fills in the other family or replaces the address. */
int dl_dns_table_add(struct dl_dns_table *t, const char *name, const char *v4, const char *v6,
		     struct dl_err *e);
/* Exact, case-insensitive lookup (name without trailing dot, any case). */
const struct dl_dns_record *dl_dns_table_find(const struct dl_dns_table *t, const char *name);

/* Answer the query q[0..qlen) from table t (may be NULL: empty) for zone
 * `domain` (no trailing dot).  Writes at most outcap bytes to out; a reply
 * that does not fit is sent without its answers and with TC set.
 * Returns 0 with *outlen > 0 (send it) or *outlen == 0 (drop the query),
 * or -1 on an internal failure (out of memory). */
int dl_dns_answer(const uint8_t *q, size_t qlen, const struct dl_dns_table *t, const char *domain,
		  uint8_t *out, size_t outcap, size_t *outlen);

#endif
