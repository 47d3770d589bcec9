/*
 * Full-duplex byte relay between two stream fds inside a libevent loop.
 *
 * - byte-transparent; half-close preserved: EOF read on one side becomes
 *   shutdown(SHUT_WR) on the other, and the other direction keeps going
 *   until it ends too; then both fds are closed and done(arg) is called;
 * - back-pressure: a side is not read while its bytes wait for the peer;
 * - Linux: zero-copy splice() through a pipe taken from a small pool only
 *   while bytes are in flight (an idle relay holds no pipe); elsewhere, or
 *   for fds that do not splice, a 64 KiB buffer per direction (allocated on
 *   first use, from a free list);
 * - no thread per connection; each wake-up moves at most a bounded number of
 *   bytes, so one busy relay cannot starve the others (level-triggered
 *   events bring it back on the next loop turn);
 * - a reset or write error on either side (ECONNRESET, EPIPE, ...) closes
 *   both sides at once.
 *
 * The relay owns both fds (sets them non-blocking).  The process must
 * ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)); dlite's daemon does.
 */
#ifndef DLITE_DAEMON_RELAY_H
#define DLITE_DAEMON_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct dl_relay;

/* Returns NULL with errno (ENOMEM) — the fds are then still the caller's. */
struct dl_relay *dl_relay_new(struct event_base *base, int a, int b,
			      void (*done)(void *arg), void *arg);

/* Tear down now: close both fds; done is NOT called. */
void dl_relay_free(struct dl_relay *r);

/* Bytes moved so far: a->b and b->a. */
void dl_relay_bytes(const struct dl_relay *r, uint64_t *ab, uint64_t *ba);

/* Process-wide: 0 disables splice (portable buffer path everywhere; for
 * tests and benchmarks); default on where the OS has splice. */
void dl_relay_set_splice(int on);

/* Relays alive now (for status and tests). */
unsigned long dl_relay_active(void);

#endif
