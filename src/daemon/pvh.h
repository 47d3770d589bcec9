#ifndef DLITE_PVH_H
#define DLITE_PVH_H

#include <stddef.h>

#include "err.h"

/* The kernel QEMU should boot from OS_DIR: OS_DIR/vmlinux (the ELF inside
 * OS_DIR/vmlinuz, with a PVH entry point), extracted once per installed image
 * (a new image is a new folder, so never stale). Fills out with its path and
 * returns 0; < 0 when it cannot be had (not a zstd bzImage, no PVH note, a
 * read-only folder...): the caller boots vmlinuz as before. */
int dl_pvh_kernel(const char *os_dir, char *out, size_t n, struct dl_err *e);

#endif
