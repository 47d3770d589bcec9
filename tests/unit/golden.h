/*
 * Golden files for cmocka tests: tests/golden/<rel>, relative to the repo
 * root (the unit runner runs from there).  DLITE_UPDATE_GOLDEN=1 rewrites the
 * expected file instead of comparing.  Header-only; include after cmocka.h.
 */
#ifndef DLITE_TESTS_GOLDEN_H
#define DLITE_TESTS_GOLDEN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GOLDEN_DIR "tests/golden/"

/* Whole file as a malloc'd NUL-terminated buffer; fails the test if missing. */
static inline char *golden_read(const char *rel, size_t *len)
{
	char path[1024];
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	FILE *f;

	if (len)
		*len = 0;
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", rel);
	f = fopen(path, "rb");
	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		fail_msg("golden: cannot open %s (%s); run from the repo root, or create it with "
			 "DLITE_UPDATE_GOLDEN=1", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t r;
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			assert_non_null(nb);
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static inline void golden_mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
}

/* Compare data with tests/golden/<rel> byte for byte (or rewrite it). */
static inline void golden_check(const char *rel, const char *data, size_t len)
{
	const char *upd = getenv("DLITE_UPDATE_GOLDEN");
	char path[1024];
	size_t glen = 0, i;
	char *want;

	assert_non_null(data);
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", rel);
	if (upd && strcmp(upd, "1") == 0) {
		FILE *f;
		golden_mkdirs(path);
		f = fopen(path, "wb");
		if (!f)
			fail_msg("golden: cannot write %s: %s", path, strerror(errno));
		assert_int_equal(fwrite(data, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		return;
	}
	want = golden_read(rel, &glen);
	for (i = 0; i < len && i < glen && data[i] == want[i]; i++)
		;
	if (i != len || len != glen) {
		size_t line = 1;
		for (size_t j = 0; j < i; j++)
			line += want[j] == '\n';
		free(want);
		fail_msg("golden: output differs from %s at byte %zu (line %zu; got %zu bytes, want "
			 "%zu); DLITE_UPDATE_GOLDEN=1 rewrites it", path, i, line, len, glen);
	}
	free(want);
}

/* For NUL-terminated strings. */
static inline void golden_check_str(const char *rel, const char *s)
{
	assert_non_null(s);
	golden_check(rel, s, strlen(s));
}

#endif
