/*
 * /etc/hosts: the one line dlite owns, "ADDR HOSTNAME # added by dlite".
 * Pure: text in, new malloc'd text out (NUL-terminated, *outlen bytes).
 */
#ifndef DLITE_HOST_HOSTS_H
#define DLITE_HOST_HOSTS_H

#include <stddef.h>

#include "err.h"
#include "names.h"

#define DL_HOSTS_MARK "# added by dlite"

/*
 * Exactly one dlite line afterwards: the first existing dlite line (one that
 * ends with DL_HOSTS_MARK, trailing blanks and CR aside) is replaced in place,
 * further ones (stale, duplicate) are removed, and if there was none the line
 * is appended.  Every other byte is kept.  Appending follows the file's line
 * ending (CRLF if its first line ends so); to a file without a final newline
 * it appends EOL + LINE and no final newline, so dl_hosts_remove() gives the
 * original back byte for byte.  text may be NULL when len is 0.
 * NULL with errno EINVAL (bad addr/hostname) or ENOMEM.
 */
char *dl_hosts_set(const char *text, size_t len, const char *addr, const char *hostname,
		   size_t *outlen);
/* Remove every dlite line and nothing else (and the line break dl_hosts_set
 * added before a last line without one).  NULL only on ENOMEM. */
char *dl_hosts_remove(const char *text, size_t len, size_t *outlen);
/* Number of dlite lines in text. */
size_t dl_hosts_count(const char *text, size_t len);

/* dl_hostname_valid, dl_addr_valid and their checks: src/core/names.h */

#endif
