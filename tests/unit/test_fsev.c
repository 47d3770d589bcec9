#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fsev.h"
#include "proto.h"

static void line_roundtrip(void **state)
{
	char line[DL_FSEV_LINE_MAX], path[4096];
	unsigned k;

	int n = dl_fsev_encode(line, sizeof(line), DL_FSEV_CREATE | DL_FSEV_MODIFY,
			       "src/a b%\n\xc3\xa9.js");
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "cm src/a%20b%25%0A%C3%A9.js\n");
	line[n - 1] = '\0';
	assert_int_equal(dl_fsev_decode(line, &k, path, sizeof(path)), 0);
	assert_int_equal(k, DL_FSEV_CREATE | DL_FSEV_MODIFY);
	assert_string_equal(path, "src/a b%\n\xc3\xa9.js");
	assert_int_equal(dl_fsev_decode("dft x/y", &k, path, sizeof(path)), 0);
	assert_int_equal(k, DL_FSEV_DELETE | DL_FSEV_MOVED_FROM | DL_FSEV_MOVED_TO);
	/* too small a buffer is refused, never truncated */
	assert_int_equal(dl_fsev_encode(line, 6, DL_FSEV_MODIFY, "abcdef"), -1);
	assert_int_equal(dl_fsev_decode("m abcdef", &k, path, 6), -1);
}

static void line_rejects(void **state)
{
	char line[64], path[64];
	unsigned k;
	const char *bad_paths[] = { "", "/etc/passwd", "..", "a/../b", "a//b", "a/", "./a", "a/.", NULL };
	const char *bad_lines[] = { "m", "m ", "x a", " a", "m a b", "m a%2", "m a%zz", "m a%00",
				    "m ../a", "m /a", "ma", NULL };

	for (int i = 0; bad_paths[i]; i++)
		assert_int_equal(dl_fsev_encode(line, sizeof(line), DL_FSEV_MODIFY, bad_paths[i]), -1);
	assert_int_equal(dl_fsev_encode(line, sizeof(line), 0, "a"), -1);
	for (int i = 0; bad_lines[i]; i++)
		assert_int_equal(dl_fsev_decode(bad_lines[i], &k, path, sizeof(path)), -1);
	/* "..." and ".x" are ordinary names */
	assert_int_equal(dl_fsev_decode("m .../.x", &k, path, sizeof(path)), 0);
}

static void target_and_caps(void **state)
{
	struct dl_target t;
	assert_int_equal(dl_target_parse("fsevents", &t), 0);
	assert_int_equal(t.kind, DL_TARGET_FSEVENTS);
	assert_true(dl_caps_has("ok uptime=1 caps=" DL_CAPS, "fsevents"));
	assert_true(dl_caps_has("ok uptime=1 caps=" DL_CAPS, "addr"));
	assert_false(dl_caps_has("ok caps=addr", "fsevents"));
}

static void queue_coalesces(void **state)
{
	struct dl_fsq *q = dl_fsq_new(3, 50);
	char *p;
	unsigned k;

	assert_int_equal(dl_fsq_add(q, "a", DL_FSEV_CREATE, 1000), 1);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(dl_fsq_add(q, "a", DL_FSEV_MODIFY, 1000 + (uint64_t)i / 1000), 0);
	assert_int_equal(dl_fsq_add(q, "b", DL_FSEV_MODIFY, 1010), 1);
	assert_int_equal(dl_fsq_add(q, "c", DL_FSEV_DELETE, 1020), 1);
	assert_int_equal(dl_fsq_add(q, "d", DL_FSEV_DELETE, 1020), -1); /* full */
	assert_int_equal(dl_fsq_add(q, "c", DL_FSEV_MODIFY, 1020), 0);  /* merge still ok */
	assert_int_equal(dl_fsq_len(q), 3);
	assert_int_equal(dl_fsq_next_due(q), 1050);
	assert_int_equal(dl_fsq_pop(q, 1049, &p, &k), 0);
	assert_int_equal(dl_fsq_pop(q, 1050, &p, &k), 1);
	assert_string_equal(p, "a");
	assert_int_equal(k, DL_FSEV_CREATE | DL_FSEV_MODIFY);
	free(p);
	assert_int_equal(dl_fsq_next_due(q), 1060);
	/* a new event for a popped path starts a new window */
	assert_int_equal(dl_fsq_add(q, "a", DL_FSEV_MODIFY, 1055), 1);
	assert_int_equal(dl_fsq_pop(q, 2000, &p, &k), 1);
	assert_string_equal(p, "b");
	free(p);
	assert_int_equal(dl_fsq_pop(q, 2000, &p, &k), 1);
	assert_string_equal(p, "c");
	assert_int_equal(k, DL_FSEV_DELETE | DL_FSEV_MODIFY);
	free(p);
	assert_int_equal(dl_fsq_pop(q, 2000, &p, &k), 1);
	assert_string_equal(p, "a");
	free(p);
	assert_int_equal(dl_fsq_pop(q, 2000, &p, &k), 0);
	assert_int_equal(dl_fsq_next_due(q), UINT64_MAX);
	/* many paths: the table grows and keeps them all */
	dl_fsq_free(q);
	q = dl_fsq_new(5000, 0);
	char name[16];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(dl_fsq_add(q, name, DL_FSEV_MODIFY, 1), 1);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(dl_fsq_add(q, name, DL_FSEV_CREATE, 1), 0);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(dl_fsq_pop(q, 1, &p, &k), 1);
		assert_string_equal(p, name);
		free(p);
	}
	dl_fsq_free(q);
}

static void echo_eaten_once(void **state)
{
	struct dl_fsecho *e = dl_fsecho_new(1000);

	/* nothing in flight: every host event is real */
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 0), 0);
	assert_int_equal(dl_fsecho_sent(e, "a"), 0);
	assert_true(dl_fsecho_inflight(e, "a"));
	assert_false(dl_fsecho_inflight(e, "b"));
	assert_int_equal(dl_fsecho_eat(e, "b", DL_ECHO_MODIFY, 0), 0);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 0), 1);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 0), 0); /* a real write */
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_CLOSE_WRITE, 0), 1);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_CLOSE_WRITE, 0), 0);
	assert_int_equal(dl_fsecho_done(e, "a", 1, 1, 10), 0);
	assert_false(dl_fsecho_inflight(e, "a"));
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 20), 0);
	assert_int_equal(dl_fsecho_expire(e, 20), 0);
	dl_fsecho_free(e);
}

static void echo_late_close(void **state)
{
	struct dl_fsecho *e = dl_fsecho_new(1000);

	assert_int_equal(dl_fsecho_sent(e, "a"), 0);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 0), 1);
	assert_int_equal(dl_fsecho_done(e, "a", 1, 1, 100), 0);
	/* the modify expectation ends with the reply, the close one has grace */
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 150), 0);
	assert_int_equal(dl_fsecho_expire(e, 500), 1);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_CLOSE_WRITE, 500), 1);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_CLOSE_WRITE, 600), 0);
	assert_int_equal(dl_fsecho_expire(e, 600), 0);
	/* a close that never comes is forgotten after the grace */
	assert_int_equal(dl_fsecho_sent(e, "b"), 0);
	assert_int_equal(dl_fsecho_done(e, "b", 1, 1, 1000), 0);
	assert_int_equal(dl_fsecho_expire(e, 1999), 1);
	assert_int_equal(dl_fsecho_eat(e, "b", DL_ECHO_CLOSE_WRITE, 2000), 0);
	assert_int_equal(dl_fsecho_expire(e, 2000), 0);
	dl_fsecho_free(e);
}

static void echo_wrongly_eaten(void **state)
{
	struct dl_fsecho *e = dl_fsecho_new(1000);

	/* the agent could not set the mtime: the modify we ate was real */
	assert_int_equal(dl_fsecho_sent(e, "a"), 0);
	assert_int_equal(dl_fsecho_eat(e, "a", DL_ECHO_MODIFY, 0), 1);
	assert_int_equal(dl_fsecho_done(e, "a", 0, 1, 10), 1);
	/* nothing eaten, nothing done: nothing to redo */
	assert_int_equal(dl_fsecho_sent(e, "b"), 0);
	assert_int_equal(dl_fsecho_done(e, "b", 0, 0, 10), 0);
	assert_int_equal(dl_fsecho_eat(e, "b", DL_ECHO_CLOSE_WRITE, 11), 0);
	/* a close eaten for an open the agent did not do */
	assert_int_equal(dl_fsecho_sent(e, "c"), 0);
	assert_int_equal(dl_fsecho_eat(e, "c", DL_ECHO_CLOSE_WRITE, 0), 1);
	assert_int_equal(dl_fsecho_done(e, "c", 1, 0, 10), 1);
	assert_int_equal(dl_fsecho_done(e, "zz", 1, 1, 10), 0); /* unknown path */
	dl_fsecho_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_roundtrip),   cmocka_unit_test(line_rejects),
		cmocka_unit_test(target_and_caps),  cmocka_unit_test(queue_coalesces),
		cmocka_unit_test(echo_eaten_once),  cmocka_unit_test(echo_late_close),
		cmocka_unit_test(echo_wrongly_eaten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
