/*
 * Client mode: dlite-agent --connect HOST:PORT --token-file FILE TARGET
 * Opens the channel, sends the header, checks the reply, then relays
 * stdin/stdout (like `socat - TCP:...`), preserving half-close.
 */
#include "agent.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "dlite-agent: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* Numeric addresses only (and "localhost"): a static binary has no NSS. */
static int dial(const char *hostport)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa;
	socklen_t len;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
		in.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&in;
		len = sizeof(in);
	} else if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
		in6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&in6;
		len = sizeof(in6);
	} else {
		return -1;
	}
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, sa, len) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* stdout may be a socket (socat EXEC) or a pipe/file. */
static void close_out(int fd)
{
	if (shutdown(fd, SHUT_WR) < 0)
		close(fd);
}

static int relay(int sock)
{
	static char buf[65536];
	bool in_open = true, out_open = true;

	while (in_open || out_open) {
		struct pollfd p[2] = {
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = out_open ? sock : -1, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0) {
				if (!write_all(sock, buf, (size_t)n))
					return 1;
			} else if (n == 0 || errno != EINTR) {
				in_open = false;
				shutdown(sock, SHUT_WR);
			}
		}
		if (p[1].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n > 0) {
				if (!write_all(1, buf, (size_t)n))
					return 1;
			} else if (n == 0 || errno != EINTR) {
				out_open = false;
				close_out(1);
				if (n < 0)
					return 1;
			}
		}
	}
	return 0;
}

int client_main(const char *hostport, const char *token_file, const char *target)
{
	uint8_t token[DL_TOKEN_LEN], hdr[DL_HDR_LEN], rep[DL_REPLY_LEN];
	size_t len;
	char *data = read_file(token_file, 256, &len);
	struct timeval tv = { .tv_sec = 30 };
	int err;

	if (!data || dl_token_parse((uint8_t *)data, len, token) < 0)
		return fail("cannot read a token from %s", token_file);
	memset(data, 0, len);
	free(data);
	if (dl_hdr_encode(hdr, token, target) < 0)
		return fail("bad target %s (docker, control, tcp:N, udp:N)", target);
	int fd = dial(hostport);
	if (fd < 0)
		return fail("cannot connect to %s", hostport);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!write_all(fd, (char *)hdr, sizeof(hdr)))
		return fail("%s closed the connection", hostport);
	size_t got = 0;
	while (got < sizeof(rep)) {
		ssize_t n = read(fd, rep + got, sizeof(rep) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("refused: no reply from %s (wrong token?)", hostport);
		got += (size_t)n;
	}
	int st = dl_reply_parse(rep, &err);
	if (st < 0)
		return fail("refused: malformed reply from %s", hostport);
	if (st != DL_ST_OK)
		return fail("target unavailable: %s", strerror(err));
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	signal(SIGPIPE, SIG_IGN);
	return relay(fd);
}
