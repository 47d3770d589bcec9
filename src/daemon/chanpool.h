/*
 * Channels opened ahead for the docker.sock proxy: header sent, reply OK,
 * the agent already connected to dockerd, so an accepted client is relayed
 * at once instead of after a connect + header round trip.  Refilled in a
 * batch at a low mark (else topped up shortly after a take), idle ones
 * recycled after a minute, backing off while they die young.
 */
#ifndef DLITE_DAEMON_CHANPOOL_H
#define DLITE_DAEMON_CHANPOOL_H

#include "daemon/chan.h"

#define DL_CHANPOOL_N 16

struct event_base;
struct dl_chanpool;

/* cfg by reference; target e.g. "docker".  Starts "up". */
struct dl_chanpool *dl_chanpool_new(struct event_base *base, const struct dl_chan_cfg *cfg,
				    const char *target);
/* Down: close every pooled channel, open none.  Up: fill. */
void dl_chanpool_set_up(struct dl_chanpool *p, int up);
/* The configuration changed (new address or token): close and refill. */
void dl_chanpool_reset(struct dl_chanpool *p);
/* A live pooled channel (non-blocking fd, the caller owns it), or -1. */
int dl_chanpool_take(struct dl_chanpool *p);
/* The agent answered an open just now (pool opens count by themselves). */
void dl_chanpool_alive(struct dl_chanpool *p);
/* It answered one within the last ms milliseconds. */
int dl_chanpool_fresh(const struct dl_chanpool *p, int ms);
unsigned dl_chanpool_count(const struct dl_chanpool *p);
/* Opens in flight finish into the void. */
void dl_chanpool_free(struct dl_chanpool *p);

#endif
