#include <stdio.h>
#include <string.h>

#include "daemon/dns.h"
#include "daemon/log.h"
#include "daemon/names.h"

const char *dl_names_domain(const struct dl_config *cfg)
{
	return cfg->dns_domain;
}

static void vm_addr(const struct dl_config *cfg, char *out, size_t n)
{
	if (strcmp(cfg->network, "bridged") == 0) {
		snprintf(out, n, "%s", cfg->bridge_addr);
		out[strcspn(out, "/")] = '\0';
	} else {
		snprintf(out, n, "127.0.0.1");
	}
}

static void add(struct dl_dns_table *t, const char *name, const char *domain, const char *v4,
		const char *v6)
{
	char fq[300];
	struct dl_err e;

	if (snprintf(fq, sizeof(fq), "%s.%s", name, domain) >= (int)sizeof(fq))
		return;
	if (dl_dns_table_add(t, fq, v4 && *v4 ? v4 : NULL, v6 && *v6 ? v6 : NULL, &e) < 0)
		dl_log(DL_LOG_DEBUG, "dns: skipping %s: %s", fq, e.msg);
}

void dl_names_addrs(json_t *c, const char **v4, const char **v6)
{
	json_t *nets = json_object_get(json_object_get(c, "NetworkSettings"), "Networks");
	const char *k;
	json_t *n;

	*v4 = *v6 = NULL;
	json_object_foreach(nets, k, n) {
		const char *a = json_string_value(json_object_get(n, "IPAddress"));
		const char *b = json_string_value(json_object_get(n, "GlobalIPv6Address"));
		if (!*v4 && a && *a)
			*v4 = a;
		if (!*v6 && b && *b)
			*v6 = b;
	}
}

struct dl_dns_table *dl_names_table(const struct dl_config *cfg, json_t *list)
{
	struct dl_dns_table *t = dl_dns_table_new();
	const char *domain = dl_names_domain(cfg);
	char addr[64];
	size_t i;
	json_t *c;

	if (!t)
		return NULL;
	vm_addr(cfg, addr, sizeof(addr));
	dl_dns_table_add(t, cfg->hostname, addr, strcmp(addr, "127.0.0.1") ? NULL : "::1", NULL);
	json_array_foreach(list, i, c) {
		const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		const char *v4, *v6;
		dl_names_addrs(c, &v4, &v6);
		if (!name || (!v4 && !v6))
			continue;
		if (name[0] == '/')
			name++;
		add(t, name, domain, v4, v6);
		json_t *labels = json_object_get(c, "Labels");
		const char *svc = json_string_value(json_object_get(labels, "com.docker.compose.service"));
		const char *proj = json_string_value(json_object_get(labels, "com.docker.compose.project"));
		if (svc && proj) {
			char sp[256];
			snprintf(sp, sizeof(sp), "%s.%s", svc, proj);
			add(t, sp, domain, v4, v6);
		}
	}
	return t;
}

struct dl_dns_server *dl_watch_dns_new(struct event_base *base, const struct dl_config *cfg,
				       struct dl_err *e)
{
	char addr[64] = "127.0.0.1";

	if (strcmp(cfg->network, "bridged") == 0) {
		snprintf(addr, sizeof(addr), "%s", cfg->bridge_host);
		addr[strcspn(addr, "/")] = '\0';
	}
	struct dl_dns_server *s = dl_dns_server_new(base, addr, (uint16_t)cfg->dns_port, e);
	if (s) {
		dl_log(DL_LOG_INFO, "dns: answering *.%s on %s port %u", dl_names_domain(cfg), addr,
		       dl_dns_server_port(s));
		dl_watch_dns_apply(s, cfg, NULL);
	}
	return s;
}

void dl_watch_dns_apply(struct dl_dns_server *s, const struct dl_config *cfg, json_t *list)
{
	struct dl_err e;

	if (dl_dns_server_set_table(s, dl_names_table(cfg, list), dl_names_domain(cfg), &e) < 0)
		dl_log(DL_LOG_WARN, "dns: %s", e.msg);
}

void dl_watch_dns_free(struct dl_dns_server *s)
{
	dl_dns_server_free(s);
}
