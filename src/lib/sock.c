/* Socket helpers (see sock.h). */
#include "lib/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

int dl_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int dl_pipe(int p[2], int nonblock)
{
#ifdef __linux__
	return pipe2(p, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
#else
	if (pipe(p) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(p[i], F_SETFD, FD_CLOEXEC);
		if (nonblock)
			dl_set_nonblock(p[i], 1);
	}
	return 0;
#endif
}

static void set_nosigpipe(int fd)
{
#ifdef SO_NOSIGPIPE
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
#endif
}

#if !defined(SOCK_NONBLOCK) || !defined(__linux__)
/* Where the kernel can't do it atomically; closes fd on failure. */
static int cloexec_nonblock(int fd)
{
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || dl_set_nonblock(fd, 1) < 0) {
		int s = errno;
		close(fd);
		errno = s;
		return -1;
	}
	return 0;
}
#endif

int dl_socket_nb(int domain, int type)
{
	int fd;
#ifdef SOCK_NONBLOCK
	fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
	fd = socket(domain, type, 0);
	if (fd >= 0 && cloexec_nonblock(fd) < 0)
		return -1;
#endif
	if (fd >= 0)
		set_nosigpipe(fd);
	return fd;
}

int dl_accept_nb(int lfd, struct sockaddr *sa, socklen_t *len)
{
	int fd;
#ifdef __linux__
	fd = accept4(lfd, sa, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	fd = accept(lfd, sa, len);
	if (fd >= 0 && cloexec_nonblock(fd) < 0)
		return -1;
#endif
	if (fd >= 0)
		set_nosigpipe(fd);
	return fd;
}

void dl_set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
