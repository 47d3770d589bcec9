/*
 * bulksrv: the container end of bench/ports (built `cc -static`, copied into
 * an image FROM bb). Listens on 0.0.0.0:PORT and speaks the bulk half of
 * bench/loadgen's protocol, so `loadgen up|down --tcp P` is the client:
 *   "SINK\n"    read until EOF, then answer "OK <bytes>\n" and close
 *   "SRC <n>\n" send n bytes, then close
 *   "PAT <n> <id>\n" send n bytes (n a multiple of 8) of 64-bit little-endian
 *               words (id << 40) + i, i = 0, 1, ...: a stream whose every
 *               byte says where it belongs (bench/load checks them)
 * One process per connection (fork): a benchmark runs one at a time.
 *   bulksrv PORT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[256 * 1024];

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve(int fd)
{
	char head[64];
	size_t hl = 0;
	unsigned long long count = 0, id = 0;

	/* the request line, byte by byte (it is short, and what follows is data) */
	while (hl < sizeof(head) - 1) {
		ssize_t r = read(fd, head + hl, 1);
		if (r <= 0)
			return;
		if (head[hl++] == '\n')
			break;
	}
	head[hl] = '\0';
	if (!strcmp(head, "SINK\n")) {
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
			if (r > 0)
				count += (unsigned long long)r;
		int m = snprintf(head, sizeof(head), "OK %llu\n", count);
		write_all(fd, head, (size_t)m);
	} else if (sscanf(head, "PAT %llu %llu", &count, &id) == 2) {
		unsigned long long w = id << 40;
		while (count >= 8) {
			size_t n = count < sizeof(buf) ? count : sizeof(buf);
			n -= n % 8;
			for (size_t i = 0; i < n; i += 8, w++)
				for (int b = 0; b < 8; b++)
					buf[i + b] = (char)(w >> (8 * b));
			if (write_all(fd, buf, n) < 0)
				break;
			count -= n;
		}
	} else if (sscanf(head, "SRC %llu", &count) == 1) {
		while (count) {
			size_t n = count < sizeof(buf) ? count : sizeof(buf);
			if (write_all(fd, buf, n) < 0)
				break;
			count -= n;
		}
	}
}

int main(int argc, char **argv)
{
	int one = 1, lfd;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (argc != 2) {
		fprintf(stderr, "usage: bulksrv PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	memset(buf, 'x', sizeof(buf));
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 64) < 0) {
		perror("bulksrv: listen");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pid_t p = fork();
		if (p == 0) {
			close(lfd);
			serve(fd);
			_exit(0);
		}
		close(fd);
	}
}
