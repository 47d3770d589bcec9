#include "names.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>

int dl_hostname_valid(const char *h)
{
	size_t total, label = 0;

	if (!h || !*h || (total = strlen(h)) > 253)
		return 0;
	for (size_t i = 0; i <= total; i++) {
		char c = h[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && label > 0)))
			return 0;
		label++;
	}
	return 1;
}

int dl_addr_valid(const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return addr && (inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1);
}

int dl_hostname_check(const char *h, struct dl_err *e)
{
	if (dl_hostname_valid(h))
		return 0;
	return dl_fail(e, 0, "invalid hostname \"%.253s\": use letters, digits, hyphens and dots only, "
		       "like local.docker", h ? h : "");
}

int dl_addr_check(const char *addr, struct dl_err *e)
{
	if (dl_addr_valid(addr))
		return 0;
	return dl_fail(e, 0, "invalid address \"%.100s\": give a numeric IPv4 or IPv6 address",
		       addr ? addr : "");
}

int dl_domain_check(const char *domain, struct dl_err *e)
{
	if (dl_hostname_valid(domain))
		return 0;
	return dl_fail(e, 0, "invalid DNS domain \"%.100s\": use letters, digits, hyphens and "
		       "dots, like docker", domain ? domain : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dl_dns_domain_check(const char *domain, struct dl_err *e)
{
	char low[254];
	const char *last;
	size_t n;

	if (dl_domain_check(domain, e) < 0)
		return -1;
	n = strlen(domain);
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)domain[i]);
	last = strrchr(low, '.');
	last = last ? last + 1 : low;
	if (strcmp(last, "local") == 0)
		return dl_fail(e, 0, "dns_domain \"%s\" is mDNS's (Bonjour, .local); use docker or "
			       "a domain of your own", domain);
	if (strcmp(last, "localhost") == 0)
		return dl_fail(e, 0, "dns_domain \"%s\" is reserved for the loopback; use docker",
			       domain);
	if (last == low) {
		const char *key = low;
		if (strncmp(low, "xn--", 4) == 0 ||
		    bsearch(&key, dl_public_tlds, dl_public_tlds_n, sizeof(*dl_public_tlds), cmp_str))
			return dl_fail(e, 0, "dns_domain \"%s\" is a public top-level domain: every "
				       "*.%s name would go to dlite; use docker or a domain you own, "
				       "like dev.example.com", domain, low);
	}
	return 0;
}
