/*
 * LD_PRELOAD shim for tests/faults/t_host_update_crash.sh: counts the calls
 * that move an OS image (rename, renameat2, rmdir, unlink) and kills the
 * process with SIGKILL just before call number $CRASHAT_N (1-based), as a
 * power cut at that step would; each call is logged to $CRASHAT_LOG.
 * Build: cc -shared -fPIC -o crashat.so crashat.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count;

static void step(const char *what, const char *a, const char *b)
{
	const char *n = getenv("CRASHAT_N"), *log = getenv("CRASHAT_LOG");

	/* only the OS folder's moves count */
	if (!strstr(a, "/os/") && !(b && strstr(b, "/os/")))
		return;
	count++;
	if (log) {
		FILE *f = fopen(log, "a");
		if (f) {
			fprintf(f, "%d %s %s %s\n", count, what, a, b ? b : "");
			fclose(f);
		}
	}
	if (n && atoi(n) == count)
		kill(getpid(), SIGKILL);
}

int rename(const char *a, const char *b)
{
	static int (*real)(const char *, const char *);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "rename");
	step("rename", a, b);
	return real(a, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "renameat2");
	step("renameat2", a, b);
	return real(da, a, db, b, flags);
}

int rmdir(const char *a)
{
	static int (*real)(const char *);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "rmdir");
	step("rmdir", a, NULL);
	return real(a);
}
