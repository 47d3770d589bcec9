/* The OS image on the host: manifest checks and the per-boot initrd. */
#ifndef DLITE_OSIMAGE_H
#define DLITE_OSIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct dl_manifest {
	char image_version[64];
	char kernel_version[64];
	char docker_version[64];
	char kernel_sha256[65];	/* files.vmlinuz as listed ("" if not a sha256) */
};

/* Build an uncompressed newc cpio archive holding the directory "dlite" and
 * the file "dlite/token" (mode 0600) with the given content, followed by the
 * trailer. Returns a malloc'd buffer and its length. Appended to the image's
 * initrd it hands the token to the agent without any argv or log. */
uint8_t *dl_cpio_token(const char *content, size_t len, size_t *outlen);

/* sha256 of a file as 64 lowercase hex chars. */
int dl_sha256_file(const char *path, char hex[65], struct dl_err *e);

/* Read DIR/manifest.json, check that vmlinuz, initrd and root.erofs are listed
 * and that every listed file matches its sha256. */
int dl_manifest_verify(const char *dir, struct dl_manifest *m, struct dl_err *e);
/* Read without checking the hashes (for `version` and `status`). */
int dl_manifest_read(const char *dir, struct dl_manifest *m, struct dl_err *e);
/* File names listed in a manifest text (NULL-terminated, malloc'd). */
char **dl_manifest_files(const char *text, size_t len, struct dl_err *e);

#endif
