/* What the agent's status line says about the guest's resources (pure). */
#ifndef DLITE_GUESTINFO_H
#define DLITE_GUESTINFO_H

#include <jansson.h>
#include <stddef.h>

/* The value of " KEY=value" in an agent status line ("ok k=v k=v ...")
 * into out (NUL-terminated, truncated to n-1 bytes).  0, or -1 when the
 * key is absent. */
int dl_status_value(const char *status, const char *key, char *out, size_t n);

/* From an agent status line: {"disk_used":N,"disk_fs_size":N,
 * "disk_free":N,"platforms":["linux/amd64",...]}, each key only when the
 * agent sent it (an older agent sends none: the object is empty).  NULL
 * on out of memory. */
json_t *dl_guestinfo_json(const char *status);

/* "1.5 GiB", "200 MiB", "12 KiB", "0 B": binary units, one decimal from
 * GiB up. */
void dl_human_bytes(unsigned long long bytes, char *out, size_t n);

#endif
