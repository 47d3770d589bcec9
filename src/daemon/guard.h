/*
 * Floods and fd exhaustion: the daemon's fd limit, and a back-off for
 * libevent listeners that fail to accept (EMFILE...) instead of libevent's
 * default of logging every failed accept() on a listener that stays
 * readable.
 */
#ifndef DLITE_DAEMON_GUARD_H
#define DLITE_DAEMON_GUARD_H

struct event_base;
struct evconnlistener;

/* Soft RLIMIT_NOFILE up to the hard limit (macOS: at most OPEN_MAX);
 * returns the soft limit now in force. */
long dl_raise_nofile(void);
/* The soft limit in force (cached: asked once unless dl_raise_nofile ran). */
long dl_nofile(void);

/* On an accept error: the listener is disabled, a rate-limited warning
 * names `what`, and it is enabled again after 100 ms, doubling while errors
 * go on, up to 2 s.  what must outlive the listener (a string literal). */
int dl_listener_guard(struct event_base *base, struct evconnlistener *l, const char *what);
/* Before evconnlistener_free(). */
void dl_listener_unguard(struct evconnlistener *l);

#endif
