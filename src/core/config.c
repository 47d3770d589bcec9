#include "config.h"
#include "names.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ktype { K_INT, K_STR };

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	size_t size; /* for strings */
	int min, max; /* for ints */
};

#define KI(n, lo, hi) { #n, K_INT, offsetof(struct dl_config, n), 0, lo, hi }
#define KS(n) { #n, K_STR, offsetof(struct dl_config, n), sizeof(((struct dl_config *)0)->n), 0, 0 }

static const struct key keys[] = {
	KI(cpus, 1, 64),	KI(memory_gib, 1, 512),	KI(disk_gib, 1, 16384),
	KS(hostname),		KS(share),		KS(ssh_key),
	KS(socket),		KS(engine),		KS(accel),
	KS(network),		KS(bridge_addr),	KS(bridge_host),
	KI(dns_port, 1, 65535),	KS(virtiofsd),		KS(dns_domain),
	KS(file_events),
	KI(port_max_conns, 1, 1000000), KI(port_max_udp, 1, 1000000),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *const dl_config_keys[] = { "cpus", "memory_gib", "disk_gib", "hostname", "share",
				       "ssh_key", "socket", "engine", "accel", "network",
				       "bridge_addr", "bridge_host", "dns_port", "virtiofsd",
				       "dns_domain", "port_max_conns", "port_max_udp",
				       "file_events", NULL };

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

void dl_config_defaults(struct dl_config *c, const char *home, const char *dlite_home)
{
	memset(c, 0, sizeof(*c));
	c->cpus = 2;
	c->memory_gib = 2;
	c->disk_gib = 20;
	snprintf(c->hostname, sizeof(c->hostname), "local.docker");
	if (home)
		snprintf(c->share, sizeof(c->share), "%s", home);
	if (dlite_home)
		snprintf(c->socket, sizeof(c->socket), "%s/docker.sock", dlite_home);
	snprintf(c->engine, sizeof(c->engine), "qemu");
	snprintf(c->accel, sizeof(c->accel), "auto");
	snprintf(c->network, sizeof(c->network), "user");
	c->dns_port = 5354;
	c->port_max_conns = 1024;
	c->port_max_udp = 256;
	snprintf(c->dns_domain, sizeof(c->dns_domain), "docker");
	snprintf(c->file_events, sizeof(c->file_events), "off"); /* opt-in: see supervisor.c */
}

static int one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return 1;
	return 0;
}

int dl_config_validate(const struct dl_config *c, struct dl_err *e)
{
	static const char *const engines[] = { "qemu", "hyperkit", "vfkit", NULL };
	static const char *const accels[] = { "auto", "kvm", "hvf", "tcg", NULL };
	static const char *const nets[] = { "user", "bridged", NULL };

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type != K_INT)
			continue;
		int v = *(const int *)((const char *)c + keys[i].off);
		if (v < keys[i].min || v > keys[i].max)
			return dl_fail(e, 0, "%s: %d is out of range; use %d to %d", keys[i].name, v,
				       keys[i].min, keys[i].max);
	}
	if (!dl_hostname_valid(c->hostname))
		return dl_fail(e, 0,
			       "hostname: \"%s\" is not a valid host name; use letters, digits, "
			       "'-' and dots, like local.docker",
			       c->hostname);
	if (!strchr(c->hostname, '.'))
		return dl_fail(e, 0, "hostname: \"%s\" needs a domain part, like local.docker",
			       c->hostname);
	if (dl_dns_domain_check(c->dns_domain, e) < 0)
		return -1;
	if (c->share[0] && c->share[0] != '/')
		return dl_fail(e, 0, "share: \"%s\" must be an absolute path (or empty for none)",
			       c->share);
	if (strchr(c->share, ',') || strchr(c->share, '\n'))
		return dl_fail(e, 0, "share: \"%s\" contains ',' or a newline, which QEMU cannot "
				     "pass; choose another folder", c->share);
	if (c->virtiofsd[0] && c->virtiofsd[0] != '/' && strcmp(c->virtiofsd, "none"))
		return dl_fail(e, 0, "virtiofsd: \"%s\" must be an absolute path, \"none\" (9p), or "
				     "empty (look for it)", c->virtiofsd);
	if (strcmp(c->file_events, "on") && strcmp(c->file_events, "off"))
		return dl_fail(e, 0, "file_events: \"%s\" is unknown; use on or off", c->file_events);
	if (!one_of(c->engine, engines))
		return dl_fail(e, 0, "engine: \"%s\" is unknown; use qemu, hyperkit or vfkit",
			       c->engine);
	if (!one_of(c->accel, accels))
		return dl_fail(e, 0, "accel: \"%s\" is unknown; use auto, kvm, hvf or tcg", c->accel);
	if (!one_of(c->network, nets))
		return dl_fail(e, 0, "network: \"%s\" is unknown; use user or bridged", c->network);
	if (strcmp(c->network, "bridged") == 0 && (!c->bridge_addr[0] || !c->bridge_host[0]))
		return dl_fail(e, 0, "network: bridged needs bridge_addr and bridge_host; "
				     "run `dlite install --network bridged`");
	if (c->socket[0] != '/')
		return dl_fail(e, 0, "socket: \"%s\" must be an absolute path", c->socket);
	if (strlen(c->socket) >= 104) /* smallest sun_path (macOS) */
		return dl_fail(e, 0, "socket: path is %zu bytes, longer than a unix socket allows "
				     "(103); choose a shorter --socket",
			       strlen(c->socket));
	return 0;
}

int dl_config_parse(const char *text, size_t len, const char *home, const char *dlite_home,
		    struct dl_config *c, struct dl_err *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *k;
	json_t *v;

	dl_config_defaults(c, home, dlite_home);
	if (!root)
		return dl_fail(e, 0, "not valid JSON (line %d: %s); fix it or run "
				     "`dlite install --yes` to write a new one",
			       jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return dl_fail(e, 0, "must hold a JSON object; fix it or run "
				     "`dlite install --yes`");
	}
	json_object_foreach(root, k, v) {
		const struct key *key = find_key(k);
		if (strcmp(k, "version") == 0)
			continue;
		if (!key) {
			dl_fail(e, 0, "unknown key \"%s\"; remove it", k);
			json_decref(root);
			return -1;
		}
		char *dst = (char *)c + key->off;
		if (key->type == K_INT) {
			if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
			    json_integer_value(v) > INT_MAX) {
				dl_fail(e, 0, "\"%s\" must be an integer", k);
				json_decref(root);
				return -1;
			}
			*(int *)dst = (int)json_integer_value(v);
		} else {
			if (!json_is_string(v) || json_string_length(v) >= key->size ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				dl_fail(e, 0, "\"%s\" must be a string shorter than %zu bytes", k,
					key->size);
				json_decref(root);
				return -1;
			}
			memcpy(dst, json_string_value(v), json_string_length(v) + 1);
		}
	}
	json_decref(root);
	return dl_config_validate(c, e);
}

char *dl_config_dump(const struct dl_config *c)
{
	json_t *root = json_object();
	char *out, *withnl;

	json_object_set_new(root, "version", json_integer(1));
	for (size_t i = 0; i < NKEYS; i++) {
		const char *src = (const char *)c + keys[i].off;
		json_object_set_new(root, keys[i].name,
				    keys[i].type == K_INT ? json_integer(*(const int *)src)
							  : json_string(src));
	}
	out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!out)
		return NULL;
	withnl = malloc(strlen(out) + 2);
	if (withnl)
		sprintf(withnl, "%s\n", out);
	free(out);
	return withnl;
}

int dl_config_get(const struct dl_config *c, const char *key, char *out, size_t n,
		  struct dl_err *e)
{
	const struct key *k = find_key(key);

	if (!k)
		return dl_fail(e, 0, "unknown key \"%s\"; see `dlite config get`", key);
	const char *src = (const char *)c + k->off;
	if (k->type == K_INT)
		snprintf(out, n, "%d", *(const int *)src);
	else
		snprintf(out, n, "%s", src);
	return 0;
}

int dl_config_set(struct dl_config *c, const char *key, const char *value, struct dl_err *e)
{
	const struct key *k = find_key(key);
	struct dl_config tmp = *c;

	if (!k)
		return dl_fail(e, 0, "unknown key \"%s\"; see `dlite config get`", key);
	char *dst = (char *)&tmp + k->off;
	if (k->type == K_INT) {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < INT_MIN || v > INT_MAX)
			return dl_fail(e, 0, "%s: \"%s\" is not a number", key, value);
		*(int *)dst = (int)v;
	} else {
		if (strlen(value) >= k->size)
			return dl_fail(e, 0, "%s: value is too long (max %zu bytes)", key, k->size - 1);
		strcpy(dst, value);
	}
	if (dl_config_validate(&tmp, e) < 0)
		return -1;
	*c = tmp;
	return 0;
}
