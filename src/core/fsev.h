/*
 * Host edits of the shared folder, on their way to the guest (pure).
 *
 * dl_fsq: a coalescing queue.  Every host event for a path is merged into
 * one pending entry (its kinds OR-ed, DL_FSEV_* of proto.h) that becomes
 * due window_ms after the path's first event; a burst of writes to one file
 * leaves at most one announcement per window.  Bounded: at max paths a new
 * path is refused (the caller logs it once).  Entries come out in the order
 * their paths were first seen.
 *
 * dl_fsecho: what the agent's own operations look like on the host, so the
 * daemon does not announce them back (no echo).  While a request for a path
 * is in flight the host shows, for the agent's "m" one IN_MODIFY (the mtime
 * set to itself) and for "w" one IN_CLOSE_WRITE; those are eaten, anything
 * beyond is a real edit.  The agent's reply settles it: an event eaten for
 * an operation the agent did not do was a real edit (dl_fsecho_done says
 * to announce the path again).  The close of a file can reach the host a
 * little after the reply (virtiofs releases asynchronously): an expected
 * IN_CLOSE_WRITE is still eaten for grace_ms after the reply.
 */
#ifndef DLITE_FSEV_H
#define DLITE_FSEV_H

#include <stddef.h>
#include <stdint.h>

struct dl_fsq;
struct dl_fsq *dl_fsq_new(size_t max, unsigned window_ms);
void dl_fsq_free(struct dl_fsq *q);
/* 1 = a new entry, 0 = merged into the pending one, -1 = full or no memory. */
int dl_fsq_add(struct dl_fsq *q, const char *path, unsigned kinds, uint64_t now_ms);
/* The oldest entry when it is due at now_ms: 1 and a malloc'd *path (the
 * caller frees it) and *kinds; 0 when none is due. */
int dl_fsq_pop(struct dl_fsq *q, uint64_t now_ms, char **path, unsigned *kinds);
/* When the oldest entry is due (UINT64_MAX when empty). */
uint64_t dl_fsq_next_due(const struct dl_fsq *q);
size_t dl_fsq_len(const struct dl_fsq *q);

enum dl_fsecho_kind { DL_ECHO_MODIFY, DL_ECHO_CLOSE_WRITE };

struct dl_fsecho;
struct dl_fsecho *dl_fsecho_new(unsigned grace_ms);
void dl_fsecho_free(struct dl_fsecho *e);
/* A request for path was sent (expects one of each). 0, or -1 (no memory). */
int dl_fsecho_sent(struct dl_fsecho *e, const char *path);
/* Is a request for path in flight? */
int dl_fsecho_inflight(const struct dl_fsecho *e, const char *path);
/* A host event for path: 1 when it is the agent's own (eat it), else 0. */
int dl_fsecho_eat(struct dl_fsecho *e, const char *path, enum dl_fsecho_kind k,
		  uint64_t now_ms);
/* The agent answered for path (did_m, did_w from its "ok DONE"): returns 1
 * when a real edit was taken for an echo and the path must be announced
 * again, else 0. */
int dl_fsecho_done(struct dl_fsecho *e, const char *path, int did_m, int did_w,
		   uint64_t now_ms);
/* Forget settled entries whose grace has passed; returns how many remain. */
size_t dl_fsecho_expire(struct dl_fsecho *e, uint64_t now_ms);

#endif
