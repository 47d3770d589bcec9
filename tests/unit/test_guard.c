/*
 * Flood guards of the daemon: rate-limited warnings and daemon.log rotation
 * (src/daemon/log.c), listener back-off at EMFILE (src/daemon/guard.c),
 * console.log bounding and its incremental probe (src/daemon/console.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "daemon/console.h"
#include "daemon/guard.h"
#include "daemon/log.h"

static char dir[64];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* Run fn with fd 2 on the file at path (O_APPEND, as `dlite start` opens
 * daemon.log); fd 2 is restored after. */
static int saved_err = -1;
static void stderr_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	if (saved_err < 0)
		saved_err = dup(2);
	dup2(fd, 2);
	close(fd);
}
static void stderr_back(void)
{
	dup2(saved_err, 2);
}

static long count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	long n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!needle || strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static off_t size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void rate_limit(void **state)
{
	char log[128];

	path_in(log, sizeof(log), "rl.log");
	stderr_to(log);
	for (int i = 0; i < 10000; i++)
		dl_log_rl(DL_LOG_WARN, "test cause", "accept failed %d", i);
	dl_log_rl(DL_LOG_WARN, "other cause", "another thing");
	sleep(1);
	dl_log_rl(DL_LOG_WARN, "test cause", "accept failed again");
	stderr_back();
	/* one line in the first second, one after it with the count */
	assert_int_equal(count_lines(log, "accept failed"), 2);
	assert_int_equal(count_lines(log, "(9999 more like it suppressed)"), 1);
	assert_int_equal(count_lines(log, "another thing"), 1);
}

static void rotation(void **state)
{
	char log[128], old[140];

	path_in(log, sizeof(log), "daemon.log");
	snprintf(old, sizeof(old), "%s.1", log);
	stderr_to(log);
	dl_log_rotate_at(log, 64 * 1024);
	for (int i = 0; i < 5000; i++)
		dl_log(DL_LOG_INFO, "line %d of a flood of lines that must not fill the disk", i);
	dl_log_rotate_at(NULL, 0);
	stderr_back();
	assert_true(size_of(log) > 0 && size_of(log) <= 64 * 1024);
	assert_true(size_of(old) > 0 && size_of(old) <= 64 * 1024);
	/* the newest line is in the live file */
	assert_int_equal(count_lines(log, "line 4999 "), 1);
}

static void rotation_not_a_file(void **state)
{
	char log[128], old[140];

	/* fd 2 is not that file (the journal, a pipe): nothing is renamed */
	path_in(log, sizeof(log), "other.log");
	snprintf(old, sizeof(old), "%s.1", log);
	close(open(log, O_WRONLY | O_CREAT, 0600));
	dl_log_rotate_at(log, 10);
	dl_log(DL_LOG_INFO, "to the test's own stderr");
	dl_log_rotate_at(NULL, 0);
	assert_int_equal(size_of(old), -1);
}

static int accepted;
static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	accepted++;
	close(fd);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void run_for(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *ev = evtimer_new(base, stop_cb, base);
	evtimer_add(ev, &tv);
	event_base_dispatch(base);
	event_free(ev);
}

static void listener_backoff(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char log[128];
	int cl[20];
	struct rlimit rl, low;

	path_in(sa.sun_path, sizeof(sa.sun_path), "l.sock");
	path_in(log, sizeof(log), "backoff.log");
	struct evconnlistener *l = evconnlistener_new_bind(
		base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 64, (struct sockaddr *)&sa, sizeof(sa));
	assert_non_null(l);
	assert_int_equal(dl_listener_guard(base, l, "test listener"), 0);
	for (int i = 0; i < 20; i++) {
		cl[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(connect(cl[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	/* no fd left: every accept() fails with EMFILE */
	int top = dup(0);
	close(top);
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = (rlim_t)top;
	stderr_to(log);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	run_for(base, 700);
	setrlimit(RLIMIT_NOFILE, &rl);
	stderr_back();
	assert_int_equal(accepted, 0);
	/* without the guard libevent logs each failed accept, thousands a second */
	long lines = count_lines(log, NULL);
	assert_true(lines >= 1 && lines <= 2);
	assert_int_equal(count_lines(log, "test listener: accept: Too many open files"), lines);
	/* fds again: the listener comes back by itself */
	run_for(base, 2500);
	assert_int_equal(accepted, 20);
	for (int i = 0; i < 20; i++)
		close(cl[i]);
	dl_listener_unguard(l);
	evconnlistener_free(l);
	event_base_free(base);
}

static void console_bounded_and_scanned(void **state)
{
	char con[128], old[140], line[200];

	path_in(con, sizeof(con), "console.log");
	snprintf(old, sizeof(old), "%s.1", con);
	/* QEMU's side: an O_APPEND writer that never reopens */
	int w = open(con, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(w >= 0);
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(line, sizeof(line), "[    %d.000] kernel line that is not a stamp\n", i);
		assert_int_equal(write(w, line, (size_t)n), n);
	}
	assert_false(dl_console_reached(con));
	dl_console_bound(con, 16 * 1024);
	assert_int_equal(size_of(con), 0);
	assert_true(size_of(old) > 16 * 1024);
	/* the writer goes on at the new end, not at its old offset */
	assert_int_equal(write(w, "dlite-st", 8), 8);
	assert_false(dl_console_reached(con)); /* half a stamp */
	assert_int_equal(write(w, "amp agent 1234\n", 15), 15);
	assert_true(dl_console_reached(con));
	assert_int_equal(size_of(con), 23);
	dl_console_bound(con, 16 * 1024); /* under the limit: untouched */
	assert_int_equal(size_of(con), 23);
	close(w);
	/* a new file (next boot) is read from its start again */
	unlink(con);
	dl_console_forget();
	w = open(con, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_false(dl_console_reached(con));
	close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rate_limit),
		cmocka_unit_test(rotation),
		cmocka_unit_test(rotation_not_a_file),
		cmocka_unit_test(listener_backoff),
		cmocka_unit_test(console_bounded_and_scanned),
	};
	snprintf(dir, sizeof(dir), "/tmp/dlite-guard.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return r;
}
