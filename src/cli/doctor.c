/* dlite doctor: results, rendering and the pure evaluators (doctor.h). */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/doctor.h"
#include "host/hosts.h"

void dl_check_add(struct dl_checks *c, const char *name, enum dl_ck st, const char *fix,
		  const char *fmt, ...)
{
	va_list ap;

	if (c->n >= DL_MAX_CHECKS)
		return;
	struct dl_check *k = &c->v[c->n++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->st = st;
	snprintf(k->fix, sizeof(k->fix), "%s", st == DL_CK_OK || st == DL_CK_SKIP || !fix ? "" : fix);
	va_start(ap, fmt);
	vsnprintf(k->detail, sizeof(k->detail), fmt, ap);
	va_end(ap);
}

size_t dl_checks_failed(const struct dl_checks *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].st == DL_CK_FAIL;
	return n;
}

static const char *const st_names[] = { "ok", "warn", "fail", "skip" };

void dl_checks_render(FILE *f, const struct dl_checks *c, bool utf8, bool color)
{
	static const char *const sym_u[] = { "\u2713", "!", "\u2717", "\u2013" };
	static const char *const sym_a[] = { "ok", "!!", "XX", "--" };
	static const char *const col[] = { "\033[32m", "\033[33m", "\033[31m", "\033[2m" };
	size_t w = 0;

	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->v[i].name) > w)
			w = strlen(c->v[i].name);
	for (size_t i = 0; i < c->n; i++) {
		const struct dl_check *k = &c->v[i];
		fprintf(f, "%s%s%s %-*s  %s\n", color ? col[k->st] : "",
			utf8 ? sym_u[k->st] : sym_a[k->st], color ? "\033[0m" : "", (int)w, k->name,
			k->detail);
		if (k->fix[0])
			fprintf(f, "%*s  fix: %s%s%s\n", (int)w + (utf8 ? 1 : 2), "",
				color ? "\033[1m" : "", k->fix, color ? "\033[0m" : "");
	}
	size_t failed = dl_checks_failed(c);
	if (failed)
		fprintf(f, "%zu problem%s found; run the fix lines above, then `dlite doctor` again\n",
			failed, failed == 1 ? "" : "s");
	else
		fprintf(f, "no problems found\n");
}

char *dl_checks_json(const struct dl_checks *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n; i++) {
		const struct dl_check *k = &c->v[i];
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "name", k->name, "status",
						     st_names[k->st], "detail", k->detail, "fix",
						     k->fix));
	}
	size_t failed = dl_checks_failed(c);
	json_t *root = json_pack("{s:b,s:i,s:o}", "ok", failed == 0, "failed", (int)failed,
				 "checks", arr);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return s;
}

void dl_doctor_hosts(struct dl_checks *c, const char *hosts_path, const char *text, size_t len,
		     const char *addr, const char *hostname)
{
	size_t outlen = 0, linelen = 0, n = text ? dl_hosts_count(text, len) : 0;
	char *want = dl_hosts_set(text ? text : "", text ? len : 0, addr, hostname, &outlen);
	char *line = dl_hosts_set("", 0, addr, hostname, &linelen);
	char fix[400];

	/* the line dlite writes, appended (install writes it the same way) */
	snprintf(fix, sizeof(fix), "printf '%%s\\n' '%.*s' | sudo tee -a %s",
		 line ? (int)strcspn(line, "\r\n") : 0, line ? line : "", hosts_path);
	if (!text)
		dl_check_add(c, "hosts", DL_CK_FAIL, fix, "%s cannot be read", hosts_path);
	else if (want && outlen == len && memcmp(want, text, len) == 0)
		dl_check_add(c, "hosts", DL_CK_OK, NULL, "%s maps %s to %s", hosts_path, hostname, addr);
	else if (n == 0)
		dl_check_add(c, "hosts", DL_CK_FAIL, fix, "%s has no dlite line for %s", hosts_path,
			     hostname);
	else
		dl_check_add(c, "hosts", DL_CK_FAIL, "sudo dlite install --yes",
			     "%s has a dlite line, but not \"%s %s\" (or more than one)", hosts_path,
			     addr, hostname);
	free(want);
	free(line);
}

void dl_doctor_link(struct dl_checks *c, const char *link_path, bool exists, const char *target,
		    const char *socket)
{
	char fix[2200];
	snprintf(fix, sizeof(fix), "sudo ln -sfn %s %s", socket, link_path);
	if (!exists)
		dl_check_add(c, "docker.sock link", DL_CK_OK, NULL,
			     "%s is absent (docker uses the dlite context or DOCKER_HOST)", link_path);
	else if (!target)
		dl_check_add(c, "docker.sock link", DL_CK_FAIL, NULL,
			     "%s is not a link (another Docker engine?); stop that engine or keep "
			     "using the dlite context", link_path);
	else if (strcmp(target, socket) == 0)
		dl_check_add(c, "docker.sock link", DL_CK_OK, NULL, "%s -> %s", link_path, target);
	else
		dl_check_add(c, "docker.sock link", DL_CK_FAIL, fix, "%s points to %s, not %s",
			     link_path, target, socket);
}

static void human(char *out, size_t n, unsigned long long b)
{
	if (b >= (1ULL << 30))
		snprintf(out, n, "%.1f GiB", (double)b / (1 << 30));
	else
		snprintf(out, n, "%.0f MiB", (double)b / (1 << 20));
}

void dl_doctor_space(struct dl_checks *c, const char *name, const char *where,
		     unsigned long long avail, unsigned long long total,
		     unsigned long long min_bytes, const char *fix)
{
	char a[32], t[32], m[32];
	human(a, sizeof(a), avail);
	human(t, sizeof(t), total);
	human(m, sizeof(m), min_bytes);
	if (avail >= min_bytes)
		dl_check_add(c, name, DL_CK_OK, NULL, "%s free of %s in %s", a, t, where);
	else
		dl_check_add(c, name, DL_CK_FAIL, fix, "only %s free of %s in %s (less than %s)", a, t,
			     where, m);
}

void dl_doctor_clock(struct dl_checks *c, double offset)
{
	if (fabs(offset) < 2.0)
		dl_check_add(c, "clock", DL_CK_OK, NULL, "the VM's clock is %+.1f s off the host's",
			     offset);
	else
		dl_check_add(c, "clock", DL_CK_FAIL, "dlite restart",
			     "the VM's clock is %+.1f s off the host's (TLS and make go wrong)", offset);
}
