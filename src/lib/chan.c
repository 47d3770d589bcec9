/* The channel client: addresses, and the blocking dialer and control
 * request the CLI (`dlite ssh`) and tests use (see chan.h). */
#include "lib/chan.h"
#include "lib/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/vm_sockets.h>
#endif

/* ---- addresses ---- */

int dl_chan_sockaddr(const struct dl_chan_cfg *cfg, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	switch (cfg->kind) {
	case DL_CHAN_TCP: {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, cfg->host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(cfg->port);
			*len = sizeof(*s4);
			return 0;
		}
		if (inet_pton(AF_INET6, cfg->host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(cfg->port);
			*len = sizeof(*s6);
			return 0;
		}
		errno = EINVAL;
		return -1;
	}
	case DL_CHAN_VSOCK: {
#ifdef __linux__
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;
		vm->svm_family = AF_VSOCK;
		vm->svm_cid = cfg->cid;
		vm->svm_port = cfg->port;
		*len = sizeof(*vm);
		return 0;
#else
		errno = EAFNOSUPPORT;
		return -1;
#endif
	}
	case DL_CHAN_UNIX:
	case DL_CHAN_HYPERKIT: {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		size_t n = strnlen(cfg->path, sizeof(cfg->path));
		if (n == 0 || n >= sizeof(un->sun_path) || n >= sizeof(cfg->path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, cfg->path, n);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	}
	errno = EINVAL;
	return -1;
}

const char *dl_chan_cfg_str(const struct dl_chan_cfg *cfg, char *buf, size_t len)
{
	switch (cfg->kind) {
	case DL_CHAN_TCP:
		if (strchr(cfg->host, ':'))
			snprintf(buf, len, "tcp:[%s]:%u", cfg->host, cfg->port);
		else
			snprintf(buf, len, "tcp:%s:%u", cfg->host, cfg->port);
		break;
	case DL_CHAN_VSOCK:
		snprintf(buf, len, "vsock:%u:%u", cfg->cid, cfg->port);
		break;
	case DL_CHAN_UNIX:
		snprintf(buf, len, "unix:%s", cfg->path);
		break;
	case DL_CHAN_HYPERKIT:
		snprintf(buf, len, "hyperkit:%s:%u:%u", cfg->path, cfg->cid, cfg->port);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

size_t dl_chan_preamble(const struct dl_chan_cfg *cfg, uint8_t buf[DL_CHAN_PREAMBLE_MAX])
{
	if (cfg->kind != DL_CHAN_HYPERKIT)
		return 0;
	int n = snprintf((char *)buf, DL_CHAN_PREAMBLE_MAX, "%08x.%08x\n", cfg->cid,
			 (unsigned)cfg->port);
	return n > 0 && n < DL_CHAN_PREAMBLE_MAX ? (size_t)n : 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *s < '0' || *s > '9' || *end || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int dl_chan_cfg_parse(struct dl_chan_cfg *cfg, const char *spec, struct dl_err *e)
{
	uint8_t token[DL_TOKEN_LEN];

	memcpy(token, cfg->token, sizeof(token));
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->token, token, sizeof(token));
	if (strncmp(spec, "unix:", 5) == 0) {
		size_t n = strlen(spec + 5);
		if (n == 0 || n >= sizeof(cfg->path) ||
		    n >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return dl_fail(e, 0, "channel socket path is empty or too long: %s", spec);
		cfg->kind = DL_CHAN_UNIX;
		memcpy(cfg->path, spec + 5, n + 1);
		return 0;
	}
	if (strncmp(spec, "hyperkit:", 9) == 0) {
		/* hyperkit:PATH:CID:PORT; PATH may hold colons, CID and PORT not */
		const char *p = spec + 9, *c2 = strrchr(p, ':'), *c1;
		uint16_t port;
		char *end;
		if (!c2 || parse_port(c2 + 1, &port) < 0)
			return dl_fail(e, 0, "bad channel %s: use hyperkit:PATH:CID:PORT", spec);
		size_t i = (size_t)(c2 - p);
		while (i > 0 && p[i - 1] != ':')
			i--;
		if (i < 2) /* no second colon, or an empty PATH */
			return dl_fail(e, 0, "bad channel %s: use hyperkit:PATH:CID:PORT", spec);
		c1 = p + i - 1;
		errno = 0;
		unsigned long cid = strtoul(c1 + 1, &end, 10);
		if (errno || end != c2 || c1 + 1 == c2 || c1[1] < '0' || c1[1] > '9' ||
		    cid > 0xffffffffUL)
			return dl_fail(e, 0, "bad channel %s: use hyperkit:PATH:CID:PORT", spec);
		size_t n = (size_t)(c1 - p);
		if (n >= sizeof(cfg->path) || n >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return dl_fail(e, 0, "channel socket path is too long: %s", spec);
		cfg->kind = DL_CHAN_HYPERKIT;
		memcpy(cfg->path, p, n);
		cfg->path[n] = '\0';
		cfg->cid = (unsigned)cid;
		cfg->port = port;
		return 0;
	}
	if (strncmp(spec, "vsock:", 6) == 0) {
		const char *p = spec + 6, *colon = strchr(p, ':');
		uint16_t port;
		char *end;
		if (!colon || parse_port(colon + 1, &port) < 0)
			return dl_fail(e, 0, "bad channel %s: use vsock:CID:PORT", spec);
		errno = 0;
		unsigned long cid = strtoul(p, &end, 10);
		if (errno || end != colon || p == colon || cid > 0xffffffffUL)
			return dl_fail(e, 0, "bad channel %s: use vsock:CID:PORT", spec);
		cfg->kind = DL_CHAN_VSOCK;
		cfg->cid = (unsigned)cid;
		cfg->port = port;
		return 0;
	}
	if (strncmp(spec, "tcp:", 4) == 0) {
		const char *p = spec + 4, *portstr;
		char host[sizeof(cfg->host)];
		struct in6_addr a6;
		if (*p == '[') {
			const char *close_br = strchr(p, ']');
			if (!close_br || close_br[1] != ':' || (size_t)(close_br - p - 1) >= sizeof(host))
				return dl_fail(e, 0, "bad channel %s: use tcp:[ADDR6]:PORT", spec);
			memcpy(host, p + 1, (size_t)(close_br - p - 1));
			host[close_br - p - 1] = '\0';
			portstr = close_br + 2;
		} else {
			const char *colon = strrchr(p, ':');
			if (!colon) {
				snprintf(host, sizeof(host), "127.0.0.1");
				portstr = p;
			} else {
				if ((size_t)(colon - p) >= sizeof(host))
					return dl_fail(e, 0, "bad channel %s: host too long", spec);
				memcpy(host, p, (size_t)(colon - p));
				host[colon - p] = '\0';
				portstr = colon + 1;
			}
		}
		if (parse_port(portstr, &cfg->port) < 0)
			return dl_fail(e, 0, "bad channel %s: bad port", spec);
		if (inet_pton(AF_INET, host, &a6) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
			return dl_fail(e, 0, "bad channel %s: host must be a numeric address", spec);
		cfg->kind = DL_CHAN_TCP;
		memcpy(cfg->host, host, sizeof(host));
		return 0;
	}
	return dl_fail(e, 0, "bad channel %s: use tcp:HOST:PORT, vsock:CID:PORT, unix:PATH or "
		       "hyperkit:PATH:CID:PORT", spec);
}

/* ---- blocking API ---- */

static int wait_fd(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (deadline->tv_sec - now.tv_sec) * 1000 +
			  (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int dial_nb(const struct dl_chan_cfg *cfg, const char *target,
		   const struct timespec *deadline, struct dl_err *e)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t hdr[DL_CHAN_PREAMBLE_MAX + DL_HDR_LEN], reply[DL_REPLY_LEN];
	char where[160];
	size_t off, hlen = dl_chan_preamble(cfg, hdr);
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	dl_chan_cfg_str(cfg, where, sizeof(where));
	if (dl_hdr_encode(hdr + hlen, cfg->token, target) < 0)
		return dl_fail(e, 0, "bad channel target '%s'", target);
	hlen += DL_HDR_LEN;
	if (dl_chan_sockaddr(cfg, &ss, &sslen) < 0)
		return dl_fail(e, errno, "bad channel address %s", where);
	fd = dl_socket_nb(ss.ss_family, SOCK_STREAM);
	if (fd < 0)
		return dl_fail(e, errno, "socket for the agent channel");
	if (cfg->kind == DL_CHAN_TCP)
		dl_set_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		if (wait_fd(fd, POLLOUT, deadline) < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			goto fail;
		if (err) {
			errno = err;
			goto fail;
		}
	}
	for (off = 0; off < hlen;) {
#ifdef MSG_NOSIGNAL
		ssize_t n = send(fd, hdr + off, hlen - off, MSG_NOSIGNAL);
#else
		ssize_t n = send(fd, hdr + off, hlen - off, 0);
#endif
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				goto fail;
		} else if (!(n < 0 && errno == EINTR))
			goto fail;
	}
	for (off = 0; off < DL_REPLY_LEN;) {
		ssize_t n = recv(fd, reply + off, DL_REPLY_LEN - off, 0);
		if (n > 0)
			off += (size_t)n;
		else if (n == 0) {
			close(fd);
			return dl_fail(e, 0, "the agent at %s closed the channel (%s)", where,
				       cfg->kind == DL_CHAN_HYPERKIT ? "is the guest up yet? wrong token?"
								     : "wrong token?");
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				goto fail;
		} else if (errno != EINTR)
			goto fail;
	}
	switch (dl_reply_parse(reply, &err)) {
	case DL_ST_OK:
		return fd;
	case DL_ST_UNAVAILABLE:
		close(fd);
		return dl_fail(e, err, "the agent cannot reach '%s'", target);
	default:
		close(fd);
		return dl_fail(e, 0, "bad reply from the agent at %s", where);
	}
fail:
	err = errno;
	close(fd);
	return dl_fail(e, err, "cannot reach the dlite agent at %s (is the VM running? try `dlite start`)", where);
}

static void deadline_in(struct timespec *d, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	if (timeout_ms <= 0)
		timeout_ms = 10000;
	d->tv_sec += timeout_ms / 1000;
	d->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (d->tv_nsec >= 1000000000L) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000L;
	}
}

int dl_chan_dial(const struct dl_chan_cfg *cfg, const char *target, int timeout_ms,
		 struct dl_err *e)
{
	struct timespec deadline;
	deadline_in(&deadline, timeout_ms);
	int fd = dial_nb(cfg, target, &deadline, e);
	if (fd >= 0 && dl_set_nonblock(fd, 0) < 0) {
		int err = errno;
		close(fd);
		return dl_fail(e, err, "channel socket");
	}
	return fd;
}

int dl_chan_control(const struct dl_chan_cfg *cfg, const char *request_line, char *reply,
		    size_t replylen, int timeout_ms, struct dl_err *e)
{
	struct timespec deadline;
	char line[1024];
	size_t reqlen = strlen(request_line), off = 0, got = 0;
	int fd;

	if (replylen)
		reply[0] = '\0';
	if (reqlen == 0 || reqlen >= sizeof(line) - 1 || memchr(request_line, '\n', reqlen))
		return dl_fail(e, 0, "bad control request");
	memcpy(line, request_line, reqlen);
	line[reqlen++] = '\n';
	deadline_in(&deadline, timeout_ms);
	fd = dial_nb(cfg, "control", &deadline, e);
	if (fd < 0)
		return -1;
	while (off < reqlen) {
#ifdef MSG_NOSIGNAL
		ssize_t n = send(fd, line + off, reqlen - off, MSG_NOSIGNAL);
#else
		ssize_t n = send(fd, line + off, reqlen - off, 0);
#endif
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, &deadline) < 0)
				goto fail;
		} else if (!(n < 0 && errno == EINTR))
			goto fail;
	}
	for (;;) {
		if (got >= sizeof(line) - 1) {
			close(fd);
			return dl_fail(e, 0, "control reply too long");
		}
		ssize_t n = recv(fd, line + got, sizeof(line) - 1 - got, 0);
		if (n > 0) {
			char *nl = memchr(line + got, '\n', (size_t)n);
			got += (size_t)n;
			if (nl) {
				*nl = '\0';
				got = (size_t)(nl - line);
				break;
			}
		} else if (n == 0) {
			if (got == 0) {
				close(fd);
				return dl_fail(e, 0, "the agent closed the control channel without a reply");
			}
			break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, &deadline) < 0)
				goto fail;
		} else if (errno != EINTR)
			goto fail;
	}
	close(fd);
	line[got] = '\0';
	if (got && line[got - 1] == '\r')
		line[--got] = '\0';
	if (replylen)
		snprintf(reply, replylen, "%s", line);
	if (strncmp(line, "ok", 2) == 0 && (line[2] == '\0' || line[2] == ' '))
		return 0;
	return dl_fail(e, 0, "agent: %s", line);
fail: {
	int err = errno;
	close(fd);
	return dl_fail(e, err, "control request '%s'", request_line);
}
}

int dl_chan_probe_caps(struct dl_chan_cfg *cfg, char *status, size_t len, int timeout_ms)
{
	char reply[1024];
	int r = dl_chan_control(cfg, "status", reply, sizeof(reply), timeout_ms, NULL);

	cfg->addr_targets = r == 0 && dl_caps_has(reply, "addr");
	if (status && len)
		snprintf(status, len, "%s", r == 0 ? reply : "");
	return r;
}
