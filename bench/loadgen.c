/*
 * loadgen: backend server and load generator for bench/proxy and the
 * data-path tests (Linux).
 *
 * Server (one thread, epoll):
 *   loadgen serve (--unix PATH | --tcp PORT) [--udp PORT]
 *   A connection's first bytes choose its mode:
 *     "ECHO\n"    echo everything; on EOF, half-close after the last byte
 *     "SINK\n"    read until EOF, then answer "OK <bytes>\n" and close
 *     "SRC <n>\n" send n bytes (a fixed pattern), then close
 *     otherwise   HTTP: one small response per request head, keep-alive
 *   --udp PORT also echoes datagrams on 127.0.0.1:PORT.
 * Clients (ADDR is --unix PATH or --tcp PORT):
 *   loadgen up ADDR --bytes N        throughput client -> server, prints MB/s
 *   loadgen down ADDR --bytes N      throughput server -> client
 *   loadgen rr ADDR --n N [--keepalive]  request/response latency, µs
 *   loadgen conc ADDR --n N          N connections open at once, one
 *                                    request each; all must be answered
 *   loadgen echo ADDR --bytes N      pseudo-random bytes through ECHO in
 *                                    both directions at once; checks them
 *   loadgen udp --udp PORT --n N     N datagrams, each must come back
 * Output: one line "key=value ..." on stdout; exit 0 if all went well.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			   "Content-Length: 2\r\nApi-Version: 1.45\r\n\r\nOK";
static const char REQ[] = "GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: loadgen\r\n\r\n";

static const char *unix_path;
static int tcp_port, udp_port;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *m)
{
	fprintf(stderr, "loadgen: %s: %s\n", m, strerror(errno));
	exit(1);
}

static int dial(void)
{
	int fd;
	if (unix_path) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
			close(fd);
			return -1;
		}
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(tcp_port) };
		int one = 1;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---------------- server ---------------- */

enum { M_NEW, M_HTTP, M_ECHO, M_SINK, M_SRC };
struct conn {
	int fd, mode, rd_eof, shut;
	size_t inlen;
	char in[4096];
	char *out;
	size_t outlen, outoff, outcap;
	uint64_t count, src_left;
};

static char bigbuf[256 * 1024];
static int ep;

static void out_add(struct conn *c, const char *p, size_t n)
{
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n > c->outcap) {
		if (c->outoff) {
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + n > c->outcap) {
			c->outcap = (c->outlen + n) * 2;
			c->out = realloc(c->out, c->outcap);
		}
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	free(c);
}

static void set_events(struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	int pend = c->outoff < c->outlen || (c->mode == M_SRC && c->src_left);
	if (!c->rd_eof && !(c->mode == M_ECHO && pend))
		ev.events |= EPOLLIN;
	if (pend)
		ev.events |= EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* returns -1 when c was closed */
static int flush_out(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w > 0) {
			c->outoff += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EAGAIN)
			return 0;
		conn_close(c);
		return -1;
	}
	while (c->mode == M_SRC && c->src_left) {
		size_t n = c->src_left < sizeof(bigbuf) ? c->src_left : sizeof(bigbuf);
		ssize_t w = send(c->fd, bigbuf, n, MSG_NOSIGNAL);
		if (w > 0) {
			c->src_left -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EAGAIN)
			return 0;
		conn_close(c);
		return -1;
	}
	if (c->mode == M_SRC || (c->mode == M_SINK && c->rd_eof)) {
		conn_close(c);
		return -1;
	}
	if (c->mode == M_ECHO && c->rd_eof && !c->shut) {
		shutdown(c->fd, SHUT_WR);
		c->shut = 1;
	}
	return 0;
}

static void http_scan(struct conn *c)
{
	char *p;
	while ((p = memmem(c->in, c->inlen, "\r\n\r\n", 4))) {
		size_t used = (size_t)(p - c->in) + 4;
		out_add(c, RESP, sizeof(RESP) - 1);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
	if (c->inlen == sizeof(c->in))
		c->inlen = 0;
}

static void on_conn(struct conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (int iter = 0; iter < 16 && !c->rd_eof; iter++) {
			ssize_t n;
			if (c->mode == M_SINK) {
				n = recv(c->fd, bigbuf, sizeof(bigbuf), 0);
				if (n > 0) {
					c->count += (uint64_t)n;
					continue;
				}
			} else if (c->mode == M_ECHO) {
				if (c->outoff < c->outlen)
					break;
				n = recv(c->fd, bigbuf, sizeof(bigbuf), 0);
				if (n > 0) {
					ssize_t w = send(c->fd, bigbuf, (size_t)n, MSG_NOSIGNAL);
					if (w < 0 && errno != EAGAIN) {
						conn_close(c);
						return;
					}
					if (w < 0)
						w = 0;
					if (w < n) {
						out_add(c, bigbuf + w, (size_t)(n - w));
						break;
					}
					continue;
				}
			} else {
				n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
				if (n > 0) {
					c->inlen += (size_t)n;
					if (c->mode == M_NEW) {
						char *nl = memchr(c->in, '\n', c->inlen);
						if (c->inlen >= 5 && !memcmp(c->in, "ECHO\n", 5))
							c->mode = M_ECHO;
						else if (c->inlen >= 5 && !memcmp(c->in, "SINK\n", 5))
							c->mode = M_SINK;
						else if (c->inlen >= 4 && !memcmp(c->in, "SRC ", 4) && nl) {
							c->mode = M_SRC;
							c->src_left = strtoull(c->in + 4, NULL, 10);
						} else if (c->inlen >= 4 && memcmp(c->in, "ECHO", 4) &&
							   memcmp(c->in, "SINK", 4) && memcmp(c->in, "SRC ", 4))
							c->mode = M_HTTP;
						if (c->mode == M_ECHO || c->mode == M_SINK) {
							size_t rest = c->inlen - 5;
							if (c->mode == M_ECHO)
								out_add(c, c->in + 5, rest);
							else
								c->count += rest;
							c->inlen = 0;
						} else if (c->mode == M_SRC) {
							c->inlen = 0;
							break;
						}
					}
					if (c->mode == M_HTTP)
						http_scan(c);
					continue;
				}
			}
			if (n == 0) {
				c->rd_eof = 1;
				if (c->mode == M_SINK) {
					char line[64];
					int m = snprintf(line, sizeof(line), "OK %llu\n",
							 (unsigned long long)c->count);
					out_add(c, line, (size_t)m);
				} else if (c->mode != M_ECHO && c->mode != M_SRC) {
					conn_close(c);
					return;
				}
				break;
			}
			if (errno == EAGAIN)
				break;
			conn_close(c);
			return;
		}
	}
	if (flush_out(c) < 0)
		return;
	if (c->mode == M_ECHO && c->rd_eof && c->shut) {
		/* wait for the client to close */
		char b[256];
		if (recv(c->fd, b, sizeof(b), MSG_DONTWAIT) == 0 || (events & EPOLLHUP)) {
			conn_close(c);
			return;
		}
	}
	set_events(c);
}

static int serve(void)
{
	int lfd, ufd = -1, one = 1;
	struct epoll_event ev;

	signal(SIGPIPE, SIG_IGN);
	memset(bigbuf, 'x', sizeof(bigbuf));
	if (unix_path) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
		unlink(unix_path);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (bind(lfd, (struct sockaddr *)&un, sizeof(un)) < 0)
			die("bind");
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(tcp_port) };
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			die("bind");
	}
	if (listen(lfd, 4096) < 0)
		die("listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (udp_port) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(udp_port) };
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (bind(ufd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			die("bind udp");
		ev.events = EPOLLIN;
		ev.data.ptr = &ufd;
		epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &ev);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0)
						break;
					if (!unix_path)
						setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct conn *c = calloc(1, sizeof(*c));
					c->fd = fd;
					struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				}
			} else if (evs[i].data.ptr == &ufd) {
				char buf[65536];
				struct sockaddr_storage peer;
				for (;;) {
					socklen_t pl = sizeof(peer);
					ssize_t m = recvfrom(ufd, buf, sizeof(buf), 0,
							     (struct sockaddr *)&peer, &pl);
					if (m < 0)
						break;
					sendto(ufd, buf, (size_t)m, 0, (struct sockaddr *)&peer, pl);
				}
			} else {
				on_conn(evs[i].data.ptr, evs[i].events);
			}
		}
	}
	return 0;
}

/* ---------------- clients ---------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int read_resp(int fd)
{
	char buf[1024];
	size_t got = 0, want = sizeof(RESP) - 1;
	while (got < want) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return got == want ? 0 : -1;
}

static int cmd_rr(long n, int keepalive)
{
	double *lat = malloc(sizeof(double) * (size_t)n);
	int fd = -1;
	for (long i = 0; i < n; i++) {
		double t0 = now_s();
		if (!keepalive || fd < 0) {
			if ((fd = dial()) < 0)
				die("connect");
		}
		if (write_all(fd, REQ, sizeof(REQ) - 1) < 0 || read_resp(fd) < 0)
			die("request");
		if (!keepalive) {
			close(fd);
			fd = -1;
		}
		lat[i] = (now_s() - t0) * 1e6;
	}
	qsort(lat, (size_t)n, sizeof(double), cmp_d);
	printf("n=%ld median_us=%.1f p99_us=%.1f\n", n, lat[n / 2], lat[(n * 99) / 100]);
	return 0;
}

static int cmd_up(uint64_t bytes)
{
	static char buf[256 * 1024];
	char line[64] = "";
	memset(buf, 'u', sizeof(buf));
	int fd = dial();
	if (fd < 0)
		die("connect");
	double t0 = now_s();
	write_all(fd, "SINK\n", 5);
	for (uint64_t left = bytes; left;) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		if (write_all(fd, buf, n) < 0)
			die("send");
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	ssize_t r = recv(fd, line, sizeof(line) - 1, MSG_WAITALL);
	double dt = now_s() - t0;
	line[r > 0 ? r : 0] = '\0';
	unsigned long long got = 0;
	if (sscanf(line, "OK %llu", &got) != 1 || got != bytes) {
		fprintf(stderr, "loadgen: sink got %llu of %llu bytes\n", got, (unsigned long long)bytes);
		return 1;
	}
	printf("bytes=%llu secs=%.3f mbps=%.1f\n", (unsigned long long)bytes, dt, bytes / dt / 1e6);
	return 0;
}

static int cmd_down(uint64_t bytes)
{
	static char buf[256 * 1024];
	char req[64];
	int fd = dial();
	if (fd < 0)
		die("connect");
	double t0 = now_s();
	int m = snprintf(req, sizeof(req), "SRC %llu\n", (unsigned long long)bytes);
	write_all(fd, req, (size_t)m);
	uint64_t got = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	double dt = now_s() - t0;
	if (got != bytes) {
		fprintf(stderr, "loadgen: got %llu of %llu bytes\n", (unsigned long long)got,
			(unsigned long long)bytes);
		return 1;
	}
	printf("bytes=%llu secs=%.3f mbps=%.1f\n", (unsigned long long)bytes, dt, bytes / dt / 1e6);
	return 0;
}

static int cmd_conc(long n)
{
	int *fds = malloc(sizeof(int) * (size_t)n);
	long ok = 0;
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		if ((fds[i] = dial()) < 0)
			die("connect");
	}
	for (long i = 0; i < n; i++)
		if (write_all(fds[i], REQ, sizeof(REQ) - 1) < 0)
			die("send");
	for (long i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		if (poll(&p, 1, 20000) == 1 && read_resp(fds[i]) == 0)
			ok++;
	}
	for (long i = 0; i < n; i++)
		close(fds[i]);
	printf("conns=%ld answered=%ld secs=%.2f\n", n, ok, now_s() - t0);
	return ok == n ? 0 : 1;
}

/* echo: a writer thread sends a pseudo-random stream and half-closes; the
 * main thread reads the echo and checks every byte */
struct echo_arg {
	int fd;
	uint64_t bytes;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* the test stream: byte i is a pure function of i */
static void fill(char *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (off + i) / 8 + 0x9E3779B97F4A7C15ull;
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
		x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
		x ^= x >> 31;
		buf[i] = (char)(x >> (8 * ((off + i) % 8)));
	}
}

static void *echo_writer(void *p)
{
	struct echo_arg *a = p;
	static char buf[65536 + 8];
	uint64_t s = 0x9E3779B97F4A7C15ull, left = a->bytes, off = 0;
	while (left) {
		/* odd sizes so the stream is cut in many places */
		size_t n = 1 + (rng_next(&s) % 65536);
		if (n > left)
			n = left;
		fill(buf, n, off);
		off += n;
		if (write_all(a->fd, buf, n) < 0)
			die("send");
		left -= n;
	}
	shutdown(a->fd, SHUT_WR);
	return NULL;
}

static int cmd_echo(uint64_t bytes)
{
	static char buf[65536], want[65536 + 8];
	struct echo_arg a = { .bytes = bytes };
	pthread_t th;
	uint64_t got = 0;

	if ((a.fd = dial()) < 0)
		die("connect");
	write_all(a.fd, "ECHO\n", 5);
	double t0 = now_s();
	pthread_create(&th, NULL, echo_writer, &a);
	for (;;) {
		ssize_t n = recv(a.fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fill(want, (size_t)n, got);
		if (memcmp(buf, want, (size_t)n)) {
			fprintf(stderr, "loadgen: echo mismatch in bytes %llu..%llu\n",
				(unsigned long long)got, (unsigned long long)(got + (uint64_t)n));
			return 1;
		}
		got += (uint64_t)n;
	}
	pthread_join(th, NULL);
	double dt = now_s() - t0;
	printf("sent=%llu received=%llu secs=%.2f\n", (unsigned long long)bytes,
	       (unsigned long long)got, dt);
	return got == bytes ? 0 : 1;
}

static int cmd_udp(long n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(udp_port) };
	char buf[2048], back[2048];
	long ok = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	for (long i = 0; i < n; i++) {
		size_t len = 1 + (size_t)(i * 37 % 1400);
		memset(buf, 'a' + (int)(i % 26), len);
		snprintf(buf, len, "%ld", i);
		for (int tries = 0; tries < 3; tries++) {
			send(fd, buf, len, 0);
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 1000) == 1) {
				ssize_t m = recv(fd, back, sizeof(back), 0);
				if (m == (ssize_t)len && !memcmp(buf, back, len)) {
					ok++;
					break;
				}
			}
		}
	}
	printf("datagrams=%ld echoed=%ld\n", n, ok);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	uint64_t bytes = 1 << 20;
	long n = 1000;
	int keepalive = 0;

	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--unix"))
			unix_path = v, i++;
		else if (!strcmp(argv[i], "--tcp"))
			tcp_port = atoi(v), i++;
		else if (!strcmp(argv[i], "--udp"))
			udp_port = atoi(v), i++;
		else if (!strcmp(argv[i], "--bytes"))
			bytes = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--n"))
			n = atol(v), i++;
		else if (!strcmp(argv[i], "--keepalive"))
			keepalive = 1;
		else {
			fprintf(stderr, "loadgen: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "serve"))
		return serve();
	if (!strcmp(cmd, "udp"))
		return cmd_udp(n);
	if (!unix_path && !tcp_port) {
		fprintf(stderr, "loadgen: need --unix PATH or --tcp PORT\n");
		return 2;
	}
	if (!strcmp(cmd, "rr"))
		return cmd_rr(n, keepalive);
	if (!strcmp(cmd, "up"))
		return cmd_up(bytes);
	if (!strcmp(cmd, "down"))
		return cmd_down(bytes);
	if (!strcmp(cmd, "conc"))
		return cmd_conc(n);
	if (!strcmp(cmd, "echo"))
		return cmd_echo(bytes);
	fprintf(stderr, "usage: loadgen serve|up|down|rr|conc|echo|udp ...\n");
	return 2;
}
