/* dockerapi.c: GET over a unix socket against a scripted server (a thread
 * that accepts one connection, reads the request and writes canned pieces,
 * pausing between them so they arrive as separate reads). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/dockerapi.h"

struct server {
	char dir[64], path[128];
	int lfd;
	const char *const *pieces; /* NULL-terminated */
	int hold_ms;		   /* keep the connection open this long at the end */
	char request[1024];
	pthread_t t;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	size_t n = 0;

	if (fd < 0)
		return NULL;
	while (n < sizeof(s->request) - 1 && !strstr(s->request, "\r\n\r\n")) {
		ssize_t r = read(fd, s->request + n, sizeof(s->request) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		s->request[n] = '\0';
	}
	for (const char *const *p = s->pieces; *p; p++) {
		if (send(fd, *p, strlen(*p), MSG_NOSIGNAL) < 0)
			break;
		sleep_ms(20);
	}
	if (s->hold_ms)
		sleep_ms(s->hold_ms);
	close(fd);
	return NULL;
}

static void start(struct server *s, const char *const *pieces, int hold_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/dlite-api.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/docker.sock", s->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->pieces = pieces;
	s->hold_ms = hold_ms;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->t, NULL, serve, s), 0);
}

static void finish(struct server *s)
{
	pthread_join(s->t, NULL);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

static void content_length(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
					 "Content-Length: 10\r\n\r\n[1,", "2,3,", "4]\n", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	char *body = dl_api_get_body(s.path, "/containers/json", 5000, 1 << 20, &e);
	finish(&s);
	assert_non_null(body);
	assert_string_equal(body, "[1,2,3,4]\n");
	assert_non_null(strstr(s.request, "GET /containers/json HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "\r\nHost: docker\r\n"));
	free(body);
}

static void chunked_split_anywhere(void **state)
{
	/* chunk sizes and CRLFs cut across reads; an extension and a trailer */
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
					 "5\r\nhel", "lo\r\n", "1", "0;ext=1\r\n0123456789abcdef\r",
					 "\n0\r\nX-T: 1\r\n", "\r\n", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 2000); /* connection stays open: the last chunk ends it */
	char *body = dl_api_get_body(s.path, "/networks", 5000, 1 << 20, &e);
	assert_non_null(body);
	assert_string_equal(body, "hello0123456789abcdef");
	free(body);
	finish(&s);
}

static void close_delimited(void **state)
{
	static const char *const p[] = { "HTTP/1.0 200 OK\r\n\r\n", "all of ", "it", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	char *body = dl_api_get_body(s.path, "/x", 5000, 1 << 20, &e);
	finish(&s);
	assert_non_null(body);
	assert_string_equal(body, "all of it");
	free(body);
}

static void error_status(void **state)
{
	static const char *const p[] = {
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 23\r\n\r\n",
		"the VM is not running\r\n", NULL
	};
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	assert_null(dl_api_get_body(s.path, "/containers/json", 5000, 1 << 20, &e));
	finish(&s);
	assert_non_null(strstr(e.msg, "HTTP 503"));
}

static void truncated(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
					 "a\r\n01234", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	assert_null(dl_api_get_body(s.path, "/x", 5000, 1 << 20, &e));
	finish(&s);
	assert_non_null(strstr(e.msg, "closed before the end"));
}

static void garbage(void **state)
{
	static const char *const p[] = { "SSH-2.0-OpenSSH\r\n\r\n", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	assert_null(dl_api_get_body(s.path, "/x", 5000, 1 << 20, &e));
	finish(&s);
	assert_non_null(strstr(e.msg, "bad HTTP response"));
}

static void too_big(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
					 "0123456789", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 0);
	assert_null(dl_api_get_body(s.path, "/x", 5000, 4, &e));
	finish(&s);
	assert_non_null(strstr(e.msg, "larger than 4"));
}

static void timeout(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01", NULL };
	struct server s;
	struct dl_err e = { 0 };

	start(&s, p, 1500);
	assert_null(dl_api_get_body(s.path, "/x", 300, 1 << 20, &e));
	assert_int_equal(e.errnum, ETIMEDOUT);
	finish(&s);
}

static void no_server(void **state)
{
	struct dl_err e = { 0 };

	assert_null(dl_api_get_body("/nonexistent/dlite/docker.sock", "/x", 300, 16, &e));
	assert_non_null(strstr(e.msg, "cannot connect"));
}

/* the events stream: pieces as they come, ended by stop() or by on_body */
struct events {
	char got[256];
	int stops_asked;
	int stop_after; /* stop() says true from this call on (0: never) */
	bool refuse;	/* on_body returns false */
};

static bool ev_body(void *arg, const char *data, size_t len)
{
	struct events *v = arg;
	strncat(v->got, data, len < sizeof(v->got) - strlen(v->got) - 1 ? len : 0);
	return !v->refuse;
}

static bool ev_stop(void *arg)
{
	struct events *v = arg;
	return v->stop_after && ++v->stops_asked >= v->stop_after;
}

static void stream_stopped(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
					 "c\r\n{\"Type\":\"a\"}\r\n", "1\r\n\n\r\n", NULL };
	struct server s;
	struct events v = { .stop_after = 6 };
	struct dl_err e = { 0 };
	int status = -1;

	start(&s, p, 4000);
	struct dl_api_get g = { .socket = s.path, .path = "/events", .on_body = ev_body,
				.stop = ev_stop, .arg = &v };
	time_t t0 = time(NULL);
	assert_int_equal(dl_api_get(&g, &status, &e), -1);
	assert_int_equal(status, 200);
	assert_string_equal(v.got, "{\"Type\":\"a\"}\n");
	assert_non_null(strstr(e.msg, "stopped"));
	assert_true(time(NULL) - t0 <= 4); /* idle polls are about a second apart */
	finish(&s);
}

static void stream_refused(void **state)
{
	static const char *const p[] = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
					 "3\r\nabc\r\n", NULL };
	struct server s;
	struct events v = { .refuse = true };
	struct dl_err e = { 0 };

	start(&s, p, 1000);
	struct dl_api_get g = { .socket = s.path, .path = "/events", .on_body = ev_body,
				.stop = ev_stop, .arg = &v };
	assert_int_equal(dl_api_get(&g, NULL, &e), -1);
	assert_string_equal(v.got, "abc");
	assert_non_null(strstr(e.msg, "stopped"));
	finish(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(content_length), cmocka_unit_test(chunked_split_anywhere),
		cmocka_unit_test(close_delimited), cmocka_unit_test(error_status),
		cmocka_unit_test(truncated),	  cmocka_unit_test(garbage),
		cmocka_unit_test(too_big),	  cmocka_unit_test(timeout),
		cmocka_unit_test(no_server),	  cmocka_unit_test(stream_stopped),
		cmocka_unit_test(stream_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
