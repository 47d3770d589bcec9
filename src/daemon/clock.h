/*
 * The guest clock follows the host's: checked when the VM becomes ready,
 * then at an adaptive period: DL_CLOCK_PERIOD_MIN_S after a check that
 * found it off (a loaded TCG guest loses tens of ms a second), doubling
 * after each check that found it right, up to DL_CLOCK_PERIOD_S (a steady
 * guest costs one request a minute); and at once when the host comes back
 * from a suspend (the gap between the clock that counts suspended time and
 * the one that does not grows: CLOCK_BOOTTIME vs CLOCK_MONOTONIC on Linux,
 * CLOCK_MONOTONIC vs CLOCK_UPTIME_RAW on macOS; looked at every
 * DL_CLOCK_CHECK_S, a cheap local read), when that local check itself ran
 * late (the daemon was stopped with the VM) and after the VM did not
 * answer (dl_clock_kick).  A check asks the agent for its
 * time ("gettime", asynchronous, with a deadline) and sets it ("time S.N")
 * when it is off by more than DL_CLOCK_MAX_SKEW_S; an older agent without
 * gettime gets its time set at every check.
 */
#ifndef DLITE_DAEMON_CLOCK_H
#define DLITE_DAEMON_CLOCK_H

#include "daemon/chan.h"

#define DL_CLOCK_PERIOD_S 60
#define DL_CLOCK_PERIOD_MIN_S 2
#define DL_CLOCK_CHECK_S 5
#define DL_CLOCK_MAX_SKEW_S 0.05

struct event_base;
struct dl_clock;

/* chan is held by reference (the daemon's one channel configuration). */
struct dl_clock *dl_clock_new(struct event_base *base, const struct dl_chan_cfg *chan);
/* The VM is ready: check now, then as above. */
void dl_clock_start(struct dl_clock *c);
/* The VM did not answer for a while (the proxy saw a timeout): check at
 * the next DL_CLOCK_CHECK_S, and again until the agent answers. */
void dl_clock_kick(struct dl_clock *c);
/* The VM is going away: no more checks (a request in flight is dropped). */
void dl_clock_stop(struct dl_clock *c);
void dl_clock_free(struct dl_clock *c);

/* Seconds the host spent suspended so far (the clock gap above). */
double dl_clock_suspended(void);

#endif
