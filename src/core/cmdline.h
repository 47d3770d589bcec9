/*
 * dlite.* parameters of the kernel command line (guest contract,
 * HACKING.md): the host percent-encodes each value (bytes outside
 * [A-Za-z0-9/._~:@+_-] become %XX), the agent decodes them.  Pure, libc
 * only: built into the static agent too.
 */
#ifndef DLITE_CMDLINE_H
#define DLITE_CMDLINE_H

#include <stddef.h>

/* Percent-encode val into out (cap bytes, NUL-terminated).  Returns the
 * encoded length, or -1 when it does not fit. */
long dl_cmdline_encode(const char *val, char *out, size_t cap);

/*
 * The decoded value of the first "dlite.KEY=" parameter of cmdline (a
 * parameter starts the line or follows a space; it ends at a space or a
 * newline).  "%00" and malformed escapes are kept as they are.  Writes it
 * into value (cap bytes) and returns value, or NULL when the key is absent,
 * too long for the pattern, or the value does not fit.
 */
const char *dl_cmdline_get(const char *cmdline, const char *key, char *value, size_t cap);

#endif
