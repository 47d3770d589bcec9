/* The daemon's asynchronous control requests (src/daemon/chan.c) against a
 * fake agent on a unix socket: the reply, an "err" reply, a frozen agent
 * (connected, never answers) hitting the deadline without blocking the
 * loop, a refused connection, and cancelling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/chan.h"
#include "proto.h"
#include "testio.h"

static const uint8_t token[DL_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

struct fake {
	int lfd, nconn;
	char path[108];
	const char *answer; /* NULL: frozen (never accepts) */
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (int i = 0; i < f->nconn; i++) {
		int c = accept(f->lfd, NULL, NULL);
		uint8_t hdr[DL_HDR_LEN], rep[DL_REPLY_LEN];
		struct dl_target t;
		char line[256];
		size_t n = 0;

		if (c < 0)
			break;
		if (read_full(c, hdr, sizeof(hdr)) < 0 || dl_hdr_check(hdr, token, &t) < 0 ||
		    t.kind != DL_TARGET_CONTROL) {
			close(c);
			continue;
		}
		dl_reply_encode(rep, DL_ST_OK, 0);
		if (write(c, rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
			close(c);
			continue;
		}
		while (n < sizeof(line) - 1 && read(c, line + n, 1) == 1 && line[n] != '\n')
			n++;
		if (write(c, f->answer, strlen(f->answer)) < 0)
			n = 0;
		close(c);
	}
	return NULL;
}

static void fake_listen(struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "/tmp/dlite-test-chanreq.%d", (int)getpid());
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
}

static void cfg_for(struct dl_chan_cfg *c, const struct fake *f)
{
	memset(c, 0, sizeof(*c));
	c->kind = DL_CHAN_UNIX;
	snprintf(c->path, sizeof(c->path), "%s", f->path);
	memcpy(c->token, token, sizeof(token));
}

struct res {
	int done, err, ticks;
	char reply[256];
	struct event_base *base;
};

static void on_reply(const char *reply, int err, void *arg)
{
	struct res *r = arg;
	r->done++;
	r->err = err;
	snprintf(r->reply, sizeof(r->reply), "%s", reply);
	event_base_loopbreak(r->base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	((struct res *)arg)->ticks++;
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void run(struct dl_chan_cfg *c, const char *line, int ms, struct res *r)
{
	struct event_base *base = event_base_new();
	struct timeval ten = { 0, 10000 };
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, r);

	memset(r, 0, sizeof(*r));
	r->base = base;
	event_add(tick, &ten);
	assert_non_null(dl_chan_request(base, c, line, ms, on_reply, r));
	assert_int_equal(r->done, 0); /* never from inside dl_chan_request() */
	event_base_dispatch(base);
	event_free(tick);
	event_base_free(base);
}

static void answers(void **state)
{
	struct fake f = { .nconn = 2, .answer = "ok 1234.5\n" };
	struct dl_chan_cfg c;
	struct res r;
	pthread_t th;

	fake_listen(&f);
	cfg_for(&c, &f);
	assert_int_equal(pthread_create(&th, NULL, fake_main, &f), 0);
	run(&c, "gettime", 2000, &r);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.err, 0);
	assert_string_equal(r.reply, "ok 1234.5");
	f.answer = "err unknown request\n";
	run(&c, "bogus", 2000, &r);
	assert_int_equal(r.err, EPROTO);
	assert_string_equal(r.reply, "err unknown request");
	pthread_join(th, NULL);
	close(f.lfd);
	unlink(f.path);
}

/* Connected (the kernel's backlog) but never served: ETIMEDOUT at the
 * deadline, and the loop ran its timer all along. */
static void frozen(void **state)
{
	struct fake f = { 0 };
	struct dl_chan_cfg c;
	struct res r;

	fake_listen(&f);
	cfg_for(&c, &f);
	double t0 = mono();
	run(&c, "ready", 300, &r);
	double took = mono() - t0;
	assert_int_equal(r.err, ETIMEDOUT);
	assert_string_equal(r.reply, "");
	assert_true(took >= 0.25 && took < 2.0);
	assert_true(r.ticks >= 10); /* ~30 at 10 ms: the loop was never blocked */
	close(f.lfd);
	unlink(f.path);
}

static void refused(void **state)
{
	struct fake f = { 0 };
	struct dl_chan_cfg c;
	struct res r;

	fake_listen(&f);
	close(f.lfd);
	unlink(f.path); /* nobody there */
	cfg_for(&c, &f);
	run(&c, "ready", 1000, &r);
	assert_int_equal(r.done, 1);
	assert_true(r.err != 0 && r.err != ETIMEDOUT);
}

static void quit_later(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Cancelled at once, and after the loop ran a while (connected, header
 * sent, no reply): no callback either time. */
static void cancel(void **state)
{
	struct fake f = { 0 };
	struct dl_chan_cfg c;
	struct res r = { 0 };
	struct event_base *base = event_base_new();
	struct timeval t = { 0, 200000 };

	fake_listen(&f);
	cfg_for(&c, &f);
	r.base = base;
	struct dl_chan_req *a = dl_chan_request(base, &c, "ready", 5000, on_reply, &r);
	assert_non_null(a);
	dl_chan_req_cancel(a); /* still opening */
	struct dl_chan_req *b = dl_chan_request(base, &c, "ready", 5000, on_reply, &r);
	assert_non_null(b);
	event_base_once(base, -1, EV_TIMEOUT, quit_later, base, &t);
	event_base_dispatch(base); /* b is connected, waiting */
	dl_chan_req_cancel(b);
	event_base_once(base, -1, EV_TIMEOUT, quit_later, base, &t);
	event_base_dispatch(base);
	assert_int_equal(r.done, 0);
	event_base_free(base);
	close(f.lfd);
	unlink(f.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers),
		cmocka_unit_test(frozen),
		cmocka_unit_test(refused),
		cmocka_unit_test(cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
