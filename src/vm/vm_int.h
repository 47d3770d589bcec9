/* Internal to src/vm: a growable argv and the per-engine builders. */
#ifndef DLITE_VM_INT_H
#define DLITE_VM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "vm.h"

struct dl_av {
	char **v;
	size_t n, cap;
	bool oom;
};

void dl_av_add(struct dl_av *a, const char *s);
void dl_av_addf(struct dl_av *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the NULL-terminated vector over (NULL and everything freed on OOM). */
char **dl_av_finish(struct dl_av *a);

/* "RUN/NAME", malloc'd (NULL on OOM). */
char *dl_vm_runpath(const struct dl_vm_spec *s, const char *name);

int dl_vm_qemu_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a, struct dl_err *e);
int dl_vm_hyperkit_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a, struct dl_err *e);
int dl_vm_vfkit_argv(const struct dl_vm_spec *s, const char *cmdline, struct dl_av *a, struct dl_err *e);

#endif
