/* inwatch DIR...: print every inotify event on the given directories as
 * "MS DIR EVENT[,EVENT...] NAME" lines (flushed each; MS = CLOCK_REALTIME
 * in milliseconds when the event was read), for the file-event
 * tests. Built static on the host and run in a busybox container. */
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static const struct { unsigned m; const char *n; } names[] = {
	{ IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
	{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" },
	{ IN_OPEN, "OPEN" }, { IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" },
	{ IN_CREATE, "CREATE" }, { IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" },
	{ IN_MOVE_SELF, "MOVE_SELF" }, { IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_ISDIR, "ISDIR" },
};

int main(int argc, char **argv)
{
	const char *dirs[64] = { 0 };
	char buf[65536] __attribute__((aligned(8)));
	int fd = inotify_init1(IN_CLOEXEC);

	if (fd < 0 || argc < 2 || argc > 64) {
		fprintf(stderr, "usage: inwatch DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int wd = inotify_add_watch(fd, argv[i], IN_ALL_EVENTS);
		if (wd < 0 || wd >= 64) {
			perror(argv[i]);
			return 1;
		}
		dirs[wd] = argv[i];
	}
	printf("ready\n");
	fflush(stdout);
	fsync(1);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			char ev_names[256] = "";
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (ev->mask & names[i].m) {
					if (ev_names[0])
						strcat(ev_names, ",");
					strcat(ev_names, names[i].n);
				}
			printf("%lld %s %s %s\n", ms, ev->wd >= 0 && ev->wd < 64 && dirs[ev->wd] ? dirs[ev->wd] : "?",
			       ev_names, ev->len ? ev->name : ".");
			p += sizeof(*ev) + ev->len;
		}
		fflush(stdout);
		fsync(1); /* a file on a 9p share in writeback mode: to the host now */
	}
}
