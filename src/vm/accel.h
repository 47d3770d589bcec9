/*
 * Accelerator choice: pure decisions for the daemon's probe.
 *
 * The daemon gathers the facts (host OS and arch, whether /dev/kvm opens
 * read-write, the QEMU version, the guest kernel's sha256 from
 * manifest.json), reads the remembered result ($DLITE_HOME/accel, one line,
 * see dl_accel_memo_*), and asks dl_accel_plan() what to try, in order.
 *
 * When plan.probe is set the first choice is unproven on this host: the
 * daemon boots with it and watches console.log (dl_console_*); if the
 * guest has not written "dlite-stamp agent" within plan.probe_seconds (or
 * the console shows a kernel panic, or the VM process exits), it kills the
 * VM, prints one warning line (dl_accel_fallback_warning), boots with the
 * next entry, and remembers "<accel> fail <qemu-version> <kernel-sha>".  A
 * success is remembered as "<accel> ok ...".  A memo only applies while
 * the QEMU version and the kernel sha are the same.
 */
#ifndef DLITE_VM_ACCEL_H
#define DLITE_VM_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "vm.h"

#define DL_ACCEL_PROBE_SECONDS 20	/* KVM reaches the agent in ~1 s */

const char *dl_accel_name(enum dl_accel a);	/* "auto" "kvm" "hvf" "tcg" */
int dl_accel_parse(const char *s, enum dl_accel *out);

enum dl_hostos { DL_HOST_LINUX = 0, DL_HOST_MACOS };

struct dl_accel_host {
	enum dl_hostos os;
	enum dl_arch arch;
	bool kvm_usable;	/* /dev/kvm exists and opens O_RDWR */
	bool hvf_usable;	/* macOS: kern.hv_support == 1 */
	const char *qemu_version;	/* "7.2.22" (from qemu -version), NULL if unknown */
	const char *kernel_sha;		/* guest vmlinuz sha256, NULL if unknown */
};

/* What the daemon remembers after a probe. */
struct dl_accel_memo {
	enum dl_accel accel;
	bool ok;
	char qemu_version[64];
	char kernel_sha[72];
};

/* Parse "kvm ok 7.2.22 <sha>\n" (trailing newline optional, one line).
 * Returns 0, or < 0 for a malformed memo (the caller then ignores it). */
int dl_accel_memo_parse(const char *text, size_t len, struct dl_accel_memo *m, struct dl_err *e);
/* Format a memo as one line with "\n"; malloc'd (NULL on OOM). */
char *dl_accel_memo_format(const struct dl_accel_memo *m);
/* Fill a memo for a probe result on this host. */
int dl_accel_memo_set(struct dl_accel_memo *m, enum dl_accel a, bool ok,
		      const struct dl_accel_host *h, struct dl_err *e);
/* Does the memo speak about this host's QEMU and kernel? */
bool dl_accel_memo_applies(const struct dl_accel_memo *m, const struct dl_accel_host *h);

struct dl_accel_plan {
	enum dl_accel try[3];	/* in order; never AUTO */
	int n;
	bool probe;		/* try[0] unproven: watch for the agent stamp */
	int probe_seconds;
};

/* requested: the config's accel (AUTO or explicit).  memo may be NULL.
 * Explicit choices are honoured as the only entry (an error when the host
 * cannot have them: hvf off macOS, kvm without a usable /dev/kvm).
 * AUTO: macOS -> hvf (if usable), tcg; Linux -> kvm if usable and not
 * remembered as failing here, then tcg. */
int dl_accel_plan(enum dl_accel requested, const struct dl_accel_host *h,
		  const struct dl_accel_memo *memo, struct dl_accel_plan *plan, struct dl_err *e);

/* The one-line warning printed when falling back from `from` to `to`. */
char *dl_accel_fallback_warning(enum dl_accel from, enum dl_accel to, int seconds);

/* Console scanning (text of console.log, not necessarily NUL-terminated).
 * dl_console_stamp: 1 if a line "dlite-stamp NAME MS" is present (the last
 * one wins; *ms set when ms != NULL), 0 if not.  Lines may end in \r\n and
 * the stamp may follow other text on the line (kernel messages interleave). */
int dl_console_stamp(const char *text, size_t len, const char *name, long *ms);
bool dl_console_reached_agent(const char *text, size_t len);
/* 1 if the kernel panicked or the agent reported a fatal error: no point
 * waiting for the stamp. */
bool dl_console_failed(const char *text, size_t len);

#endif
