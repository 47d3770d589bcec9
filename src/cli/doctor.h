/* dlite doctor: check results and their rendering (pure; the facts are
 * gathered in cmd_doctor.c). One line per check, the fixing command for
 * each failure, --json. Unit-tested in tests/unit/test_doctor.c. */
#ifndef DLITE_CLI_DOCTOR_H
#define DLITE_CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum dl_ck { DL_CK_OK, DL_CK_WARN, DL_CK_FAIL, DL_CK_SKIP };

struct dl_check {
	char name[32];	  /* short id, also the JSON "name" */
	enum dl_ck st;
	char detail[480]; /* what was found (the cause, for a failure) */
	char fix[480];	  /* the command that fixes it ("" when none) */
};

#define DL_MAX_CHECKS 40
struct dl_checks {
	struct dl_check v[DL_MAX_CHECKS];
	size_t n;
};

void dl_check_add(struct dl_checks *c, const char *name, enum dl_ck st, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Number of failures (warnings and skips do not count). */
size_t dl_checks_failed(const struct dl_checks *c);
/* Text: "✓ name  detail" / "✗ name  detail" + "    fix: cmd". utf8 false:
 * "ok", "!!", "XX", "--" instead of the symbols; color adds ANSI colours. */
void dl_checks_render(FILE *f, const struct dl_checks *c, bool utf8, bool color);
/* {"ok":bool,"failed":N,"checks":[{"name","status","detail","fix"}]}; malloc'd. */
char *dl_checks_json(const struct dl_checks *c);

/* Evaluators: facts in, one check out. */
/* The hosts file text holds exactly dlite's line for hostname -> addr. */
void dl_doctor_hosts(struct dl_checks *c, const char *hosts_path, const char *text, size_t len,
		     const char *addr, const char *hostname);
/* /var/run/docker.sock: target is readlink's result (NULL: no link; is_other:
 * a file that is no link). */
void dl_doctor_link(struct dl_checks *c, const char *link_path, bool exists, const char *target,
		    const char *socket);
/* Free space: ok when at least min_bytes free. */
void dl_doctor_space(struct dl_checks *c, const char *name, const char *where,
		     unsigned long long avail, unsigned long long total,
		     unsigned long long min_bytes, const char *fix);
/* Clock offset in seconds between the VM and the host. */
void dl_doctor_clock(struct dl_checks *c, double offset);

#endif
