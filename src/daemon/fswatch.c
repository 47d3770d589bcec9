#include "daemon/fswatch.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

#ifdef __linux__

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "fsev.h"
#include "proto.h"

#define WINDOW_MS 30	   /* events of a path merged over this long */
#define QUEUE_MAX 65536	   /* paths waiting to be announced */
#define WATCH_MAX 65536	   /* folders watched */
#define INFLIGHT_MAX 32	   /* requests the agent has not answered yet */
#define WALK_STEP 64	   /* folders added per loop turn */
#define CLOSE_GRACE_MS 1000 /* virtiofs closes files a little after the reply */
#define MASK (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	      IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct walk {
	struct walk *next;
	int files; /* a folder that appeared: announce the files found in it */
	char path[]; /* relative to root, "" for root */
};

struct dl_fswatch {
	struct event_base *base;
	struct dl_chan_cfg chan;
	char *root, *skip;
	int pin_dirs, running;
	int ifd;
	struct event *ev_in, *ev_walk, *ev_send;
	char **wds; /* wd -> relative path */
	size_t nwds, nwatch;
	struct walk *walk_head, *walk_tail;
	struct dl_fsq *q;
	struct dl_fsecho *echo;
	struct bufferevent *bev;
	int opening, connected_once;
	char *inflight[INFLIGHT_MAX]; /* FIFO of paths sent */
	size_t in_head, in_n;
	int logged_limit, logged_queue, logged_overflow;
	unsigned long announced, eaten;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct dl_fswatch *dl_fswatch_new(struct event_base *base)
{
	struct dl_fswatch *fw = calloc(1, sizeof(*fw));
	if (fw) {
		fw->base = base;
		fw->ifd = -1;
	}
	return fw;
}

static void walk_push(struct dl_fswatch *fw, const char *path, int files)
{
	struct walk *w = malloc(sizeof(*w) + strlen(path) + 1);
	if (!w)
		return;
	strcpy(w->path, path);
	w->files = files;
	w->next = NULL;
	if (fw->walk_tail)
		fw->walk_tail->next = w;
	else
		fw->walk_head = w;
	fw->walk_tail = w;
	event_active(fw->ev_walk, 0, 0);
}

static void arm_send(struct dl_fswatch *fw)
{
	uint64_t due = dl_fsq_next_due(fw->q), now = now_ms();
	if (due == UINT64_MAX || !fw->bev)
		return;
	struct timeval tv = { 0, 0 };
	if (due > now)
		tv.tv_usec = (suseconds_t)(due - now) * 1000;
	evtimer_add(fw->ev_send, &tv);
}

static void queue(struct dl_fswatch *fw, const char *path, unsigned kinds)
{
	if (dl_fsq_add(fw->q, path, kinds, now_ms()) < 0 && !fw->logged_queue) {
		fw->logged_queue = 1;
		dl_log(DL_LOG_WARN, "file events: more than %d changed paths waiting for the VM; "
				    "some host edits are not forwarded", QUEUE_MAX);
	}
	arm_send(fw);
}

static void join(char *out, size_t n, const char *a, const char *b)
{
	snprintf(out, n, "%s%s%s", a, *a && *b ? "/" : "", b);
}

static void add_watch(struct dl_fswatch *fw, const char *rel, int files)
{
	char abs[PATH_MAX];

	join(abs, sizeof(abs), fw->root, rel);
	if (fw->skip && strcmp(abs, fw->skip) == 0)
		return;
	if (fw->nwatch >= WATCH_MAX) {
		if (!fw->logged_limit)
			dl_log(DL_LOG_WARN, "file events: watching %d folders of the share, the limit; "
					    "edits in further folders fire no events in the VM", WATCH_MAX);
		fw->logged_limit = 1;
		return;
	}
	int wd = inotify_add_watch(fw->ifd, abs, MASK);
	if (wd < 0) {
		if (errno == ENOSPC && !fw->logged_limit) {
			char lim[32] = "?";
			FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "re");
			if (f) {
				if (!fgets(lim, sizeof(lim), f))
					snprintf(lim, sizeof(lim), "?");
				lim[strcspn(lim, "\n")] = '\0';
				fclose(f);
			}
			dl_log(DL_LOG_WARN, "file events: out of inotify watches after %zu folders "
					    "(fs.inotify.max_user_watches=%s); edits in further folders "
					    "fire no events in the VM: raise it with sysctl",
			       fw->nwatch, lim);
			fw->logged_limit = 1;
		}
		return;
	}
	if ((size_t)wd >= fw->nwds) {
		size_t n = fw->nwds ? fw->nwds : 1024;
		while (n <= (size_t)wd)
			n *= 2;
		char **w = realloc(fw->wds, n * sizeof(*w));
		if (!w)
			return;
		memset(w + fw->nwds, 0, (n - fw->nwds) * sizeof(*w));
		fw->wds = w;
		fw->nwds = n;
	}
	if (fw->wds[wd])
		free(fw->wds[wd]); /* the same folder again, maybe renamed */
	else
		fw->nwatch++;
	fw->wds[wd] = strdup(rel);
	if (fw->pin_dirs && *rel)
		queue(fw, rel, DL_FSEV_CREATE);
	DIR *d = opendir(abs);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int type = de->d_type;
		if (type == DT_UNKNOWN)
			type = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? DT_UNKNOWN
			       : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		char sub[PATH_MAX];
		join(sub, sizeof(sub), rel, de->d_name);
		if (type == DT_DIR)
			walk_push(fw, sub, files);
		else if (type == DT_REG && files) /* made before its watch */
			queue(fw, sub, DL_FSEV_CREATE);
	}
	closedir(d);
}

static void on_walk(evutil_socket_t fd, short what, void *arg)
{
	struct dl_fswatch *fw = arg;

	for (int i = 0; i < WALK_STEP && fw->walk_head; i++) {
		struct walk *w = fw->walk_head;
		fw->walk_head = w->next;
		if (!fw->walk_head)
			fw->walk_tail = NULL;
		add_watch(fw, w->path, w->files);
		free(w);
	}
	if (fw->walk_head)
		event_active(fw->ev_walk, 0, 0);
	else if (dl_log_enabled(DL_LOG_DEBUG))
		dl_log(DL_LOG_DEBUG, "file events: watching %zu folders", fw->nwatch);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct dl_fswatch *fw = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fw->ifd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				if (!fw->logged_overflow)
					dl_log(DL_LOG_WARN, "file events: the kernel's event queue "
							    "overflowed; some host edits were not forwarded");
				fw->logged_overflow = 1;
				continue;
			}
			if (ev->wd < 0 || (size_t)ev->wd >= fw->nwds || !fw->wds[ev->wd])
				continue;
			if (ev->mask & IN_IGNORED) {
				free(fw->wds[ev->wd]);
				fw->wds[ev->wd] = NULL;
				fw->nwatch--;
				continue;
			}
			if (!ev->len)
				continue;
			char path[PATH_MAX];
			join(path, sizeof(path), fw->wds[ev->wd], ev->name);
			unsigned kinds = 0;
			uint64_t now = now_ms();
			if ((ev->mask & IN_MODIFY) &&
			    !dl_fsecho_eat(fw->echo, path, DL_ECHO_MODIFY, now))
				kinds |= DL_FSEV_MODIFY;
			else if ((ev->mask & IN_MODIFY))
				fw->eaten++;
			if ((ev->mask & IN_CLOSE_WRITE) &&
			    !dl_fsecho_eat(fw->echo, path, DL_ECHO_CLOSE_WRITE, now))
				kinds |= DL_FSEV_MODIFY;
			else if ((ev->mask & IN_CLOSE_WRITE))
				fw->eaten++;
			if (ev->mask & IN_CREATE)
				kinds |= DL_FSEV_CREATE;
			if (ev->mask & IN_DELETE)
				kinds |= DL_FSEV_DELETE;
			if (ev->mask & IN_MOVED_FROM)
				kinds |= DL_FSEV_MOVED_FROM;
			if (ev->mask & IN_MOVED_TO)
				kinds |= DL_FSEV_MOVED_TO;
			if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				walk_push(fw, path, 1); /* watches it, and pins it when asked */
				continue;
			}
			if ((ev->mask & IN_ISDIR) && !fw->pin_dirs)
				continue;
			if (kinds)
				queue(fw, path, kinds);
		}
	}
}

static void conn_drop(struct dl_fswatch *fw);
static void conn_open(struct dl_fswatch *fw);

static void on_send(evutil_socket_t fd, short what, void *arg)
{
	struct dl_fswatch *fw = arg;
	char *path;
	unsigned kinds;
	char line[DL_FSEV_LINE_MAX];
	uint64_t now = now_ms();

	if (!fw->bev) {
		conn_open(fw);
		return;
	}
	while (fw->in_n < INFLIGHT_MAX && dl_fsq_pop(fw->q, now, &path, &kinds) == 1) {
		if (dl_fsecho_inflight(fw->echo, path)) {
			dl_fsq_add(fw->q, path, kinds, now); /* after its answer */
			free(path);
			continue;
		}
		if (dl_fsev_encode(line, sizeof(line), kinds, path) < 0 ||
		    dl_fsecho_sent(fw->echo, path) < 0) {
			free(path);
			continue;
		}
		evbuffer_add(bufferevent_get_output(fw->bev), line, strlen(line));
		fw->inflight[(fw->in_head + fw->in_n++) % INFLIGHT_MAX] = path;
		fw->announced++;
	}
	arm_send(fw);
}

static void on_reply(struct bufferevent *bev, void *arg)
{
	struct dl_fswatch *fw = arg;
	char *line;
	size_t n;

	/* every echo of what was answered is queued by now: read it first */
	on_inotify(fw->ifd, EV_READ, fw);
	while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF))) {
		if (!fw->in_n) {
			free(line);
			break;
		}
		char *path = fw->inflight[fw->in_head];
		fw->in_head = (fw->in_head + 1) % INFLIGHT_MAX;
		fw->in_n--;
		int ok = strncmp(line, "ok ", 3) == 0;
		if (!ok)
			dl_log(DL_LOG_DEBUG, "file events: %s: %s", path, line);
		if (dl_fsecho_done(fw->echo, path, ok && strchr(line + 3, 'm'),
				   ok && strchr(line + 3, 'w'), now_ms()))
			queue(fw, path, DL_FSEV_MODIFY);
		free(path);
		free(line);
	}
	dl_fsecho_expire(fw->echo, now_ms());
	on_send(-1, 0, fw);
}

static void on_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct dl_fswatch *fw = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		dl_log(DL_LOG_WARN, "file events: the agent closed the connection; reconnecting");
		conn_drop(fw);
		struct timeval tv = { 1, 0 };
		evtimer_add(fw->ev_send, &tv); /* on_send reconnects */
	}
}

static void conn_opened(int fd, int err, void *arg)
{
	struct dl_fswatch *fw = arg;

	fw->opening = 0;
	if (fd < 0) {
		if (fw->running) {
			dl_log(DL_LOG_WARN, "file events: cannot reach the agent (%s); retrying",
			       strerror(err));
			struct timeval tv = { 2, 0 };
			evtimer_add(fw->ev_send, &tv);
		}
		return;
	}
	if (!fw->running) {
		close(fd);
		return;
	}
	fw->bev = bufferevent_socket_new(fw->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!fw->bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(fw->bev, on_reply, NULL, on_conn_event, fw);
	bufferevent_enable(fw->bev, EV_READ | EV_WRITE);
	/* the folders the agent held went with the last connection */
	for (size_t wd = 0; fw->pin_dirs && fw->connected_once && wd < fw->nwds; wd++)
		if (fw->wds[wd] && *fw->wds[wd])
			queue(fw, fw->wds[wd], DL_FSEV_CREATE);
	fw->connected_once = 1;
	on_send(-1, 0, fw);
}

static void conn_open(struct dl_fswatch *fw)
{
	if (fw->opening || fw->bev || !fw->running)
		return;
	fw->opening = 1;
	if (dl_chan_open(fw->base, &fw->chan, "fsevents", conn_opened, fw) < 0)
		fw->opening = 0;
}

static void conn_drop(struct dl_fswatch *fw)
{
	if (fw->bev)
		bufferevent_free(fw->bev);
	fw->bev = NULL;
	for (; fw->in_n; fw->in_n--, fw->in_head = (fw->in_head + 1) % INFLIGHT_MAX) {
		char *path = fw->inflight[fw->in_head];
		dl_fsecho_done(fw->echo, path, 0, 0, now_ms());
		queue(fw, path, DL_FSEV_MODIFY); /* unanswered: say it again */
		free(path);
	}
}

void dl_fswatch_start(struct dl_fswatch *fw, const struct dl_chan_cfg *chan, const char *root,
		      const char *skip, int pin_dirs)
{
	dl_fswatch_stop(fw);
	fw->chan = *chan;
	fw->root = strdup(root);
	fw->skip = skip ? strdup(skip) : NULL;
	fw->pin_dirs = pin_dirs;
	fw->connected_once = 0;
	fw->q = dl_fsq_new(QUEUE_MAX, WINDOW_MS);
	fw->echo = dl_fsecho_new(CLOSE_GRACE_MS);
	fw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!fw->root || !fw->q || !fw->echo || fw->ifd < 0) {
		dl_log(DL_LOG_WARN, "file events: off (inotify: %s)", strerror(errno));
		dl_fswatch_stop(fw);
		return;
	}
	fw->ev_in = event_new(fw->base, fw->ifd, EV_READ | EV_PERSIST, on_inotify, fw);
	fw->ev_walk = event_new(fw->base, -1, 0, on_walk, fw);
	fw->ev_send = evtimer_new(fw->base, on_send, fw);
	event_add(fw->ev_in, NULL);
	fw->running = 1;
	walk_push(fw, "", 0);
	conn_open(fw);
	dl_log(DL_LOG_INFO, "file events: host edits of %s fire events in the VM", root);
}

void dl_fswatch_stop(struct dl_fswatch *fw)
{
	if (!fw)
		return;
	fw->running = 0;
	conn_drop(fw);
	if (fw->ev_in)
		event_free(fw->ev_in);
	if (fw->ev_walk)
		event_free(fw->ev_walk);
	if (fw->ev_send)
		event_free(fw->ev_send);
	fw->ev_in = fw->ev_walk = fw->ev_send = NULL;
	if (fw->ifd >= 0)
		close(fw->ifd);
	fw->ifd = -1;
	for (size_t i = 0; i < fw->nwds; i++)
		free(fw->wds[i]);
	free(fw->wds);
	fw->wds = NULL;
	fw->nwds = fw->nwatch = 0;
	while (fw->walk_head) {
		struct walk *w = fw->walk_head;
		fw->walk_head = w->next;
		free(w);
	}
	fw->walk_tail = NULL;
	dl_fsq_free(fw->q);
	dl_fsecho_free(fw->echo);
	fw->q = NULL;
	fw->echo = NULL;
	free(fw->root);
	free(fw->skip);
	fw->root = fw->skip = NULL;
}

#else /* not Linux: FSEvents on macOS is not written yet */

struct dl_fswatch {
	int logged;
};

struct dl_fswatch *dl_fswatch_new(struct event_base *base)
{
	(void)base;
	return calloc(1, sizeof(struct dl_fswatch));
}

void dl_fswatch_start(struct dl_fswatch *fw, const struct dl_chan_cfg *chan, const char *root,
		      const char *skip, int pin_dirs)
{
	(void)chan, (void)skip, (void)pin_dirs;
	if (!fw->logged)
		dl_log(DL_LOG_INFO, "file events: not forwarded on this platform yet (%s)", root);
	fw->logged = 1;
}

void dl_fswatch_stop(struct dl_fswatch *fw)
{
	(void)fw;
}

#endif

void dl_fswatch_free(struct dl_fswatch *fw)
{
	dl_fswatch_stop(fw);
	free(fw);
}
