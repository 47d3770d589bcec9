/*
 * console.log (the VM's serial output) kept bounded, and scanned without
 * re-reading it.
 *
 * QEMU writes the file itself (chardev file, append=on: O_APPEND), so the
 * VM's console never waits on the daemon.  Once a second the daemon looks
 * at its size; past max it copies the file to console.log.1 and truncates
 * it to 0 (QEMU's appends then land at the new end): at most 2 x max on
 * disk plus one second of serial output (a 16550 at most a few MB/s under
 * emulation).  Bytes written between the copy and the truncation are
 * lost: a few at most.  hyperkit's pty copy appends too.  vfkit opens its
 * log itself; whether it appends is untested (see README).
 */
#ifndef DLITE_DAEMON_CONSOLE_H
#define DLITE_DAEMON_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

#define DL_CONSOLE_MAX (8u << 20)

/* Start (or, with base NULL, stop) the once-a-second size check. */
void dl_console_keep(struct event_base *base, const char *path, size_t max);
/* One check now (also what the timer runs): rotates when past max. */
void dl_console_bound(const char *path, size_t max);

/* Whether the console has shown the agent's first stamp.  Reads only the
 * bytes added since the last call (a new file, or a truncated one, is read
 * from its start; a stamp seen stays seen until the file is replaced). */
bool dl_console_reached(const char *path);
/* The file is about to be replaced (a new boot): start over. */
void dl_console_forget(void);

#endif
