/* The one epoll loop, level of abstraction: fd callbacks + a timer list. */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

static int epfd = -1;
static struct timer *timers; /* sorted by due */
static void **graveyard;
static size_t ngrave, capgrave;

int loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

int loop_add(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_mod(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_close(struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
}

void timer_cancel(struct timer *t)
{
	if (!t->armed)
		return;
	for (struct timer **p = &timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
}

void timer_arm(struct timer *t, uint64_t delay_ms)
{
	timer_cancel(t);
	t->due = now_ms() + delay_ms;
	struct timer **p = &timers;
	while (*p && (*p)->due <= t->due)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	t->armed = true;
}

void loop_defer_free(void *p)
{
	if (ngrave == capgrave) {
		size_t cap = capgrave ? capgrave * 2 : 64;
		void **n = realloc(graveyard, cap * sizeof(*n));
		if (!n) {
			/* Out of memory: leaking is safer than a use-after-free. */
			return;
		}
		graveyard = n;
		capgrave = cap;
	}
	graveyard[ngrave++] = p;
}

static int next_timeout(void)
{
	if (!timers)
		return -1;
	uint64_t now = now_ms();
	if (timers->due <= now)
		return 0;
	uint64_t d = timers->due - now;
	return d > 60000 ? 60000 : (int)d;
}

static void run_timers(void)
{
	uint64_t now = now_ms();

	while (timers && timers->due <= now) {
		struct timer *t = timers;
		timers = t->next;
		t->armed = false;
		t->fn(t);
	}
}

void loop_run(void)
{
	struct epoll_event evs[64];

	while (!g.quit) {
		int n = epoll_wait(epfd, evs, 64, next_timeout());
		if (n < 0 && errno != EINTR) {
			logmsg("epoll_wait: %m");
			usleep(100000);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			if (w->fd >= 0)
				w->fn(w, evs[i].events);
		}
		run_timers();
		for (size_t i = 0; i < ngrave; i++)
			free(graveyard[i]);
		ngrave = 0;
	}
}
