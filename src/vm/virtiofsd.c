/* virtiofsd: candidates, --version, argv (see virtiofsd.h for the options). */
#include "virtiofsd.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_int.h"

char **dl_virtiofsd_candidates(const char *env, const char *path)
{
	struct dl_av a = { 0 };

	if (env && *env) {
		if (strcmp(env, "none") != 0)
			dl_av_add(&a, env);
	} else {
		/* PATH entries that are not absolute (".", "") would depend on
		 * the daemon's working directory: skipped */
		for (const char *p = path ? path : ""; *p;) {
			size_t n = strcspn(p, ":");
			if (n > 0 && p[0] == '/') {
				while (n > 1 && p[n - 1] == '/')
					n--;
				dl_av_addf(&a, "%.*s/virtiofsd", (int)n, p);
			}
			p += strcspn(p, ":");
			if (*p == ':')
				p++;
		}
		dl_av_add(&a, "/usr/libexec/virtiofsd");
		dl_av_add(&a, "/usr/lib/qemu/virtiofsd");
	}
	if (!a.v && !a.oom) /* "none": an empty list */
		return calloc(1, sizeof(char *));
	return dl_av_finish(&a);
}

static const char *parse_uint(const char *p, unsigned *out)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p++ - '0');
		if (v > 1000000)
			return NULL;
	}
	*out = (unsigned)v;
	return p;
}

int dl_virtiofsd_parse_version(const char *text, struct dl_virtiofsd_version *v,
			       struct dl_err *e)
{
	const char *p = text ? text : "";
	size_t line = strcspn(p, "\n");

	memset(v, 0, sizeof(*v));
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "virtiofsd version ", 18) == 0)
		return dl_fail(e, 0, "QEMU's C virtiofsd (%.*s), which runs as root only; "
				     "dlite needs virtiofsd 1.x (the Rust one)",
			       (int)strcspn(p + 18, " \n"), p + 18);
	if (strncmp(p, "virtiofsd ", 10) != 0 || !(p = parse_uint(p + 10, &v->major)) ||
	    *p != '.' || !(p = parse_uint(p + 1, &v->minor)))
		return dl_fail(e, 0, "not a virtiofsd version: \"%.*s\"",
			       (int)(line > 80 ? 80 : line), text ? text : "");
	if (*p == '.' && !parse_uint(p + 1, &v->patch))
		v->patch = 0;
	if (v->major < 1)
		return dl_fail(e, 0, "virtiofsd %u.%u is too old; dlite needs 1.x", v->major,
			       v->minor);
	return 0;
}

static bool at_least(const struct dl_virtiofsd_version *v, unsigned major, unsigned minor)
{
	return v->major > major || (v->major == major && v->minor >= minor);
}

static int check_abs(const char *what, const char *p, struct dl_err *e)
{
	if (!p || p[0] != '/')
		return dl_fail(e, 0, "virtiofsd: the %s must be an absolute path (got %s)", what,
			       p && *p ? p : "none");
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return dl_fail(e, 0, "virtiofsd: the %s contains a control character",
				       what);
	return 0;
}

int dl_virtiofsd_argv(const struct dl_virtiofsd_spec *s, char ***argv_out, struct dl_err *e)
{
	struct dl_av a = { 0 };

	*argv_out = NULL;
	if (!s->binary || !*s->binary)
		return dl_fail(e, 0, "virtiofsd: no binary");
	if (check_abs("socket", s->socket_path, e) < 0 ||
	    check_abs("shared folder", s->shared_dir, e) < 0)
		return -1;
	if (s->version.major < 1)
		return dl_fail(e, 0, "virtiofsd: version %u.%u is not supported", s->version.major,
			       s->version.minor);

	dl_av_add(&a, s->binary);
	dl_av_addf(&a, "--socket-path=%s", s->socket_path);
	dl_av_addf(&a, "--shared-dir=%s", s->shared_dir);
	dl_av_add(&a, "--sandbox=namespace");
	dl_av_add(&a, "--cache=never");
	if (at_least(&s->version, 1, 11))
		dl_av_add(&a, "--allow-mmap");
	if (at_least(&s->version, 1, 13)) {
		if (s->uid >= 0)
			dl_av_addf(&a, "--translate-uid=squash-guest:0:%ld:4294967295", s->uid);
		if (s->gid >= 0)
			dl_av_addf(&a, "--translate-gid=squash-guest:0:%ld:4294967295", s->gid);
	}
	char **v = dl_av_finish(&a);
	if (!v)
		return dl_fail(e, ENOMEM, "virtiofsd: building its command line");
	*argv_out = v;
	return 0;
}
