#ifndef DLITE_CLI_OSINSTALL_H
#define DLITE_CLI_OSINSTALL_H

#include "err.h"
#include "osimage.h"

/* Fetch or copy the image at src (folder, or http(s)/file URL of the folder
 * or its manifest.json) into dest.new, verify every sha256. Leaves dest.new. */
int os_install(const char *src, const char *dest, struct dl_manifest *m, struct dl_err *e);
/* previous <- current <- staged, by rename. */
int os_swap_in(const char *staged, const char *current, const char *previous, struct dl_err *e);
int os_rmdir(const char *dir);
/* Where to take the image from: --os, -v with $DLITE_OS_URL, or the one
 * built next to dlite. */
int os_source(const char *os, const char *version, char *out, size_t n, struct dl_err *e);
/* os_install() plus the -v check: leaves dest.new ready for os_swap_in(). */
int os_stage(const char *src, const char *version, const char *dest, struct dl_manifest *m,
	     struct dl_err *e);

#endif
