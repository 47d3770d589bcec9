#ifndef DLITE_CLI_OSINSTALL_H
#define DLITE_CLI_OSINSTALL_H

#include "err.h"
#include "osimage.h"

/* Fetch or copy the image at src (folder, or https/file URL of the folder
 * or its manifest.json) into dest.new, verify every sha256, fsync it all.
 * pin (64 hex digits, or NULL): the sha256 manifest.json must have (--sha256),
 * the way to trust a download. Leaves dest.new. */
int os_install(const char *src, const char *dest, const char *pin, struct dl_manifest *m,
	       struct dl_err *e);
/* previous <- current <- staged, so that current is a complete image at
 * every instant (a crash at any point leaves one): renameat2(RENAME_EXCHANGE)
 * of staged and current (renamex_np RENAME_SWAP on macOS), then the old one
 * becomes previous the same way, with the directory fsync'd after each
 * step. Where the file system cannot exchange, two renames (a moment without
 * current). */
int os_swap_in(const char *staged, const char *current, const char *previous, struct dl_err *e);
/* Refuse plain http:// (one line); https://, file:// and paths pass. */
int os_check_source(const char *src, struct dl_err *e);
/* --sha256 HEX: 64 hex digits. */
int os_check_pin(const char *pin, struct dl_err *e);
/* The OS lock (paths.os_lock), exclusive and without waiting: held by
 * update, rollback, rebuild and install while they swap files; the daemon
 * holds it shared while a VM runs and takes it again before a crash
 * restart. Returns the fd (keep it open until done) or -1. */
int os_lock(const char *lock_path, struct dl_err *e);
/* Before a start: the installed image is what its manifest says. Hashing
 * it (~0.3 s) is skipped when every file has the size, mtime and inode
 * recorded in DIR/.verified when it was last checked (at install/update).
 * A damaged image is refused, naming the file. */
int os_check_installed(const char *dir, struct dl_err *e);
int os_rmdir(const char *dir);
/* Where to take the image from: --os, -v with $DLITE_OS_URL, or the one
 * built next to dlite. */
int os_source(const char *os, const char *version, char *out, size_t n, struct dl_err *e);
/* os_install() plus the -v check: leaves dest.new ready for os_swap_in(). */
int os_stage(const char *src, const char *version, const char *dest, const char *pin,
	     struct dl_manifest *m, struct dl_err *e);

#endif
