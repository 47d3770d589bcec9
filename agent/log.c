#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
uint64_t boot_ms(void) { return clock_ms(CLOCK_BOOTTIME); }

/* One write() per line so lines from us and from services interleave whole. */
static void emit(const char *line, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, line, n);
		if (w <= 0)
			return;
		line += w;
		n -= (size_t)w;
	}
}

void logmsg(const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "dlite-agent: ");

	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	emit(buf, len);
}

void stamp(const char *name)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "dlite-stamp %s %llu\n", name,
			 (unsigned long long)boot_ms());
	if (n > 0 && (size_t)n < sizeof(buf))
		emit(buf, (size_t)n);
}
