/* Keeping the guest clock right (see clock.h). */
#include "daemon/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon/log.h"

#define REQ_MS 1000 /* deadline of one request to the agent */
#define SUSPEND_JUMP_S 1.0

struct dl_clock {
	struct event_base *base;
	const struct dl_chan_cfg *chan;
	struct event *timer;
	struct dl_chan_req *req;
	bool on, gettime_ok;
	double next_sync, suspended, due;
	double period; /* adaptive: DL_CLOCK_PERIOD_MIN_S .. DL_CLOCK_PERIOD_S */
	struct timespec asked; /* host time when gettime went out */
};

static double ts_s(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_s(&t);
}

double dl_clock_suspended(void)
{
	struct timespec a, b;
#if defined(__linux__)
	clock_gettime(CLOCK_BOOTTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
#elif defined(__APPLE__)
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_UPTIME_RAW, &b);
#else
	a = b = (struct timespec){ 0, 0 };
#endif
	return ts_s(&a) - ts_s(&b);
}

/* Next wake-up: the local check, or the guest check if sooner. */
static void arm(struct dl_clock *c)
{
	double d = c->next_sync - mono();
	if (d > DL_CLOCK_CHECK_S)
		d = DL_CLOCK_CHECK_S;
	if (d < 0.2)
		d = 0.2;
	struct timeval tv = { (time_t)d, (suseconds_t)((d - (double)(time_t)d) * 1e6) };
	c->due = mono() + d;
	evtimer_add(c->timer, &tv);
}

static void on_set(const char *reply, int err, void *arg)
{
	struct dl_clock *c = arg;

	c->req = NULL;
	if (err)
		dl_log(DL_LOG_WARN, "clock: the agent did not take the time: %s",
		       *reply ? reply : strerror(err));
}

static void set_time(struct dl_clock *c)
{
	struct timespec host;
	char req[64];

	clock_gettime(CLOCK_REALTIME, &host);
	snprintf(req, sizeof(req), "time %lld.%09ld", (long long)host.tv_sec, host.tv_nsec);
	c->req = dl_chan_request(c->base, c->chan, req, REQ_MS, on_set, c);
}

static void on_gettime(const char *reply, int err, void *arg)
{
	struct dl_clock *c = arg;
	struct timespec b;

	c->req = NULL;
	if (err == EPROTO && strncmp(reply, "err", 3) == 0) {
		c->gettime_ok = false; /* an older agent: set unconditionally */
	} else if (err) {
		/* no answer in time (a frozen or busy VM): try at the next check */
		c->next_sync = mono() + DL_CLOCK_CHECK_S;
		return;
	} else {
		clock_gettime(CLOCK_REALTIME, &b);
		double mid = (ts_s(&c->asked) + ts_s(&b)) / 2, guest = strtod(reply + 3, NULL);
		if (guest > 0 && guest - mid < DL_CLOCK_MAX_SKEW_S && mid - guest < DL_CLOCK_MAX_SKEW_S) {
			/* steady: look less often */
			c->period = c->period * 2 > DL_CLOCK_PERIOD_S ? DL_CLOCK_PERIOD_S : c->period * 2;
			c->next_sync = mono() + c->period;
			return;
		}
		dl_log(DL_LOG_INFO, "clock: guest is off by %.3f s; setting it", guest - mid);
	}
	/* drifting (a loaded TCG guest loses time): look again soon */
	c->period = DL_CLOCK_PERIOD_MIN_S;
	c->next_sync = mono() + c->period;
	set_time(c);
}

static void check_now(struct dl_clock *c)
{
	if (c->req)
		return; /* one at a time */
	c->next_sync = mono() + c->period;
	if (!c->gettime_ok) {
		set_time(c);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &c->asked);
	c->req = dl_chan_request(c->base, c->chan, "gettime", REQ_MS, on_gettime, c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dl_clock *c = arg;
	double susp = dl_clock_suspended();

	if (!c->on)
		return;
	if (susp - c->suspended > SUSPEND_JUMP_S) {
		dl_log(DL_LOG_INFO, "clock: the host was suspended for %.0f s; checking the guest",
		       susp - c->suspended);
		c->next_sync = 0;
		c->period = DL_CLOCK_PERIOD_MIN_S;
	} else if (mono() - c->due > SUSPEND_JUMP_S) {
		/* the daemon itself was stopped (SIGSTOP, a frozen cgroup, a
		 * suspend that CLOCK_MONOTONIC counts): the VM likely too */
		dl_log(DL_LOG_INFO, "clock: the daemon was stopped for %.0f s; checking the guest",
		       mono() - c->due);
		c->next_sync = 0;
		c->period = DL_CLOCK_PERIOD_MIN_S;
	}
	c->suspended = susp;
	if (mono() >= c->next_sync)
		check_now(c);
	arm(c);
}

struct dl_clock *dl_clock_new(struct event_base *base, const struct dl_chan_cfg *chan)
{
	struct dl_clock *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base = base;
	c->chan = chan;
	c->gettime_ok = true;
	c->timer = evtimer_new(base, on_timer, c);
	return c;
}

void dl_clock_start(struct dl_clock *c)
{
	c->on = true;
	c->gettime_ok = true;
	c->period = DL_CLOCK_PERIOD_MIN_S;
	c->suspended = dl_clock_suspended();
	check_now(c);
	arm(c);
}

void dl_clock_kick(struct dl_clock *c)
{
	if (c && c->on) {
		c->next_sync = 0;
		c->period = DL_CLOCK_PERIOD_MIN_S;
	}
}

void dl_clock_stop(struct dl_clock *c)
{
	c->on = false;
	evtimer_del(c->timer);
	dl_chan_req_cancel(c->req);
	c->req = NULL;
}

void dl_clock_free(struct dl_clock *c)
{
	if (!c)
		return;
	dl_clock_stop(c);
	event_free(c->timer);
	free(c);
}
