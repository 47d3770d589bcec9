/*
 * flood: connection floods for tests/e2e/t_flood.sh (static: it also runs
 * inside a busybox container).
 *
 *   flood hold ADDR PORT N SECS   N silent TCP connections (nothing is ever
 *                                 sent), each reconnected as soon as it is
 *                                 dropped or refused, for SECS seconds
 *   flood tcp ADDR PORT N SECS    N TCP connections opened at once, held
 *                                 open and silent for SECS seconds
 *   flood udp ADDR PORT N         one datagram from each of N source ports
 *
 * Prints one line "key=value ..." at the end or on SIGTERM (and "started" on stderr once
 * the first round of connects is out).  ADDR is numeric IPv4 or a unix
 * socket's path (stream modes).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage to;
static socklen_t tolen;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&to, tolen) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -2; /* refused at once (or no route) */
	}
	return fd;
}

/* hold and tcp: a slot is connecting (POLLOUT) or established (POLLIN). */
static int run_tcp(int n, double secs, int reconnect)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	char *est = calloc((size_t)n, 1);
	long connects = 0, established = 0, refused = 0, drops = 0, peak = 0, held = 0;
	double end = now_s() + secs;
	int first = 1;

	if (!p || !est)
		return 1;
	for (int i = 0; i < n; i++)
		p[i].fd = -1;
	while (!stop && now_s() < end) {
		for (int i = 0; i < n; i++) {
			if (p[i].fd >= 0 || (!reconnect && !first))
				continue;
			int fd = dial();
			connects++;
			if (fd == -2) {
				refused++;
				continue;
			}
			p[i].fd = fd;
			p[i].events = POLLOUT;
			est[i] = 0;
		}
		if (first) {
			fprintf(stderr, "started\n");
			first = 0;
		}
		int r = poll(p, (nfds_t)n, 50);
		if (r < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n && r > 0; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			int err = 0;
			socklen_t len = sizeof(err);
			if (!est[i]) {
				getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err || (p[i].revents & (POLLERR | POLLHUP))) {
					refused++;
					close(p[i].fd);
					p[i].fd = -1;
					continue;
				}
				est[i] = 1;
				established++;
				held++;
				if (held > peak)
					peak = held;
				p[i].events = POLLIN;
				continue;
			}
			char b[64];
			ssize_t m = recv(p[i].fd, b, sizeof(b), MSG_DONTWAIT);
			if (m > 0 || (m < 0 && errno == EAGAIN))
				continue;
			drops++;
			held--;
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	printf("connects=%ld established=%ld refused=%ld drops=%ld peak_held=%ld held_at_end=%ld\n",
	       connects, established, refused, drops, peak, held);
	return 0;
}

static int run_udp(int n)
{
	long sent = 0;

	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 1;
		if (sendto(fd, "flood\n", 6, 0, (struct sockaddr *)&to, tolen) == 6)
			sent++;
		close(fd);
	}
	printf("sent=%ld\n", sent);
	return sent == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	struct sockaddr_in *in = (struct sockaddr_in *)&to;
	struct sockaddr_un *un = (struct sockaddr_un *)&to;

	if (argc < 5) {
usage:
		fprintf(stderr, "usage: flood hold|tcp ADDR PORT N SECS | flood udp ADDR PORT N\n"
				"       (ADDR a unix socket path: PORT is ignored)\n");
		return 2;
	}
	if (argv[2][0] == '/') {
		if (strlen(argv[2]) >= sizeof(un->sun_path))
			goto usage;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, argv[2]);
		tolen = sizeof(*un);
	} else {
		if (inet_pton(AF_INET, argv[2], &in->sin_addr) != 1)
			goto usage;
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)atoi(argv[3]));
		tolen = sizeof(*in);
	}
	int n = atoi(argv[4]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (strcmp(argv[1], "udp") == 0)
		return run_udp(n);
	if (argc < 6)
		return 2;
	double secs = atof(argv[5]);
	if (strcmp(argv[1], "hold") == 0)
		return run_tcp(n, secs, 1);
	if (strcmp(argv[1], "tcp") == 0)
		return run_tcp(n, secs, 0);
	return 2;
}
