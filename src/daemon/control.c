/* The control server (see control.h). */
#include "daemon/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/guard.h"
#include "daemon/supervisor.h"

struct dl_ctl {
	struct event_base *base;
	struct evconnlistener *l;
	struct dl_super *s;
	void (*quit)(void *arg);
	void *arg;
	char path[108];
};

static void free_when_flushed(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void reply(struct bufferevent *bev, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	bufferevent_disable(bev, EV_READ);
	evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", s ? s : "{\"ok\":false}");
	free(s);
	bufferevent_setcb(bev, NULL, free_when_flushed, NULL, NULL);
	bufferevent_enable(bev, EV_WRITE);
}

static void reply_done(void *arg, bool ok, const char *msg, double seconds)
{
	struct bufferevent *bev = arg;

	if (ok && msg && !strcmp(msg, "joined")) /* a start that found a boot under way */
		reply(bev, json_pack("{s:b,s:f,s:b}", "ok", 1, "seconds", seconds, "joined", 1));
	else if (ok)
		reply(bev, json_pack("{s:b,s:f}", "ok", 1, "seconds", seconds));
	else
		reply(bev, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* quit: leave once the VM is off, whether the client still waits or not */
static void quit_done(void *arg, bool ok, const char *msg, double seconds)
{
	struct dl_ctl *c = arg;
	c->quit(c->arg);
}

static void ctl_read(struct bufferevent *bev, void *arg)
{
	struct dl_ctl *c = arg;
	size_t n;
	char *line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF);

	if (!line) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 4096)
			bufferevent_free(bev);
		return;
	}
	if (!strcmp(line, "start"))
		dl_super_start(c->s, reply_done, bev);
	else if (!strcmp(line, "stop"))
		dl_super_stop(c->s, reply_done, bev);
	else if (!strcmp(line, "status"))
		reply(bev, dl_super_status(c->s));
	else if (!strcmp(line, "ping"))
		reply(bev, json_pack("{s:b}", "ok", 1));
	else if (!strcmp(line, "quit")) {
		if (dl_super_stopped(c->s)) {
			dl_super_stop(c->s, NULL, NULL); /* no restart either */
			reply(bev, json_pack("{s:b}", "ok", 1));
			c->quit(c->arg);
		} else {
			dl_super_stop(c->s, reply_done, bev);
			dl_super_stop(c->s, quit_done, c);
		}
	} else
		reply(bev, json_pack("{s:b,s:s}", "ok", 0, "error", "unknown request"));
	free(line);
}

static void ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct dl_ctl *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		dl_super_forget(c->s, bev);
		bufferevent_free(bev);
	}
}

static void ctl_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		       int len, void *arg)
{
	struct dl_ctl *c = arg;
#ifdef SO_PEERCRED
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.uid != getuid() &&
	    cred.uid != 0) {
		close(fd);
		return;
	}
#endif
	struct bufferevent *bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, ctl_read, NULL, ctl_event, c);
	bufferevent_enable(bev, EV_READ);
}

struct dl_ctl *dl_ctl_new(struct event_base *base, const char *path, struct dl_super *s,
			  void (*quit)(void *arg), void *arg, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct dl_ctl *c;

	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(c->path)) {
		dl_fail(e, ENAMETOOLONG, "control socket %s", path);
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		dl_fail(e, ENOMEM, "control socket");
		return NULL;
	}
	c->base = base;
	c->s = s;
	c->quit = quit;
	c->arg = arg;
	strcpy(c->path, path);
	strcpy(sa.sun_path, path);
	unlink(path); /* the daemon holds the lock: any socket file there is stale */
	mode_t old = umask(0077);
	c->l = evconnlistener_new_bind(base, ctl_accept, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
				       16, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!c->l) {
		dl_fail(e, errno, "cannot listen on %s", path);
		free(c);
		return NULL;
	}
	dl_listener_guard(base, c->l, "control socket");
	return c;
}

void dl_ctl_free(struct dl_ctl *c)
{
	if (!c)
		return;
	dl_listener_unguard(c->l);
	evconnlistener_free(c->l);
	unlink(c->path);
	free(c);
}
