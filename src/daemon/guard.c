#include "daemon/guard.h"
#include "daemon/log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/listener.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define MAX_GUARDS 16

static long nofile;

long dl_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return nofile = 1024;
	rlim_t want = rl.rlim_max;
#ifdef OPEN_MAX
	if (want == RLIM_INFINITY || want > OPEN_MAX)
		want = OPEN_MAX; /* macOS refuses more than that */
#endif
	if (want != RLIM_INFINITY && want > rl.rlim_cur) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			dl_log(DL_LOG_INFO, "fd limit raised from %llu to %llu", (unsigned long long)was,
			       (unsigned long long)want);
		else
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
	return nofile;
}

long dl_nofile(void)
{
	struct rlimit rl;

	if (nofile)
		return nofile;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
	return nofile;
}

struct guard {
	struct evconnlistener *l;
	struct event *timer;
	const char *what;
	unsigned backoff_ms;
	struct timeval last_err;
};
static struct guard guards[MAX_GUARDS];

static struct guard *find(struct evconnlistener *l)
{
	for (int i = 0; i < MAX_GUARDS; i++)
		if (guards[i].l == l)
			return &guards[i];
	return NULL;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;
	evconnlistener_enable(g->l);
}

static void error_cb(struct evconnlistener *l, void *arg)
{
	struct guard *g = find(l);
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval now, tv;

	if (!g)
		return;
	gettimeofday(&now, NULL);
	/* errors in a row double the pause; after a calm second, start over */
	if (g->backoff_ms && now.tv_sec - g->last_err.tv_sec <= 1 + g->backoff_ms / 1000)
		g->backoff_ms = g->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : g->backoff_ms * 2;
	else
		g->backoff_ms = BACKOFF_MIN_MS;
	g->last_err = now;
	dl_log_rl(DL_LOG_WARN, g->what, "%s: accept: %s; not accepting for %u ms", g->what,
		  strerror(err), g->backoff_ms);
	evconnlistener_disable(l);
	tv.tv_sec = g->backoff_ms / 1000;
	tv.tv_usec = (g->backoff_ms % 1000) * 1000;
	evtimer_add(g->timer, &tv);
}

int dl_listener_guard(struct event_base *base, struct evconnlistener *l, const char *what)
{
	struct guard *g = find(NULL);

	if (!g || !l)
		return -1;
	g->timer = evtimer_new(base, resume_cb, g);
	if (!g->timer)
		return -1;
	g->l = l;
	g->what = what;
	g->backoff_ms = 0;
	evconnlistener_set_error_cb(l, error_cb);
	return 0;
}

void dl_listener_unguard(struct evconnlistener *l)
{
	struct guard *g = l ? find(l) : NULL;

	if (!g)
		return;
	event_free(g->timer);
	memset(g, 0, sizeof(*g));
}
