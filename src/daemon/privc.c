/* The daemon's side of bridged mode's privileged helper: one connection per
 * request (see src/host/privreq.h for the protocol). */
#include "daemon/privc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/chan.h"
#include "host/atomic.h"

int dl_privc_request(const struct dl_priv_req *r, int *fd, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[DL_PRIV_MAX_LINE + 1], reply[700], rel[64];
	struct timeval tv = { .tv_sec = 30 };
	int len = dl_priv_format(r, line, sizeof(line));

	if (fd)
		*fd = -1;
	if (len < 0)
		return dl_fail(e, 0, "internal: cannot write a helper request");
	if (getuid() == 0)
		return dl_fail(e, 0, "the daemon runs as the user in bridged mode too (root's part is "
			       "dlite's helper): run `dlite start` without sudo");
	snprintf(rel, sizeof(rel), DL_PRIV_SOCK_FMT, (unsigned)getuid());
	if (dl_syspath(sa.sun_path, sizeof(sa.sun_path), rel, e) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return dl_fail(e, errno, "socket");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(s);
		return dl_fail(e, err, "bridged mode needs dlite's helper (root) on %s; set it up with "
			       "`sudo dlite install --network bridged`", sa.sun_path);
	}
	if (send(s, line, (size_t)len, MSG_NOSIGNAL) != len) {
		int err = errno;
		close(s);
		return dl_fail(e, err, "cannot send to the helper on %s", sa.sun_path);
	}
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = reply, .iov_len = sizeof(reply) - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
	int err = errno, got = -1;
	close(s);
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (n <= 0)
		return dl_fail(e, n < 0 ? err : 0, "no reply from the helper on %s", sa.sun_path);
	reply[n] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strcmp(reply, "ok") != 0) {
		if (got >= 0)
			close(got);
		return dl_fail(e, 0, "helper: %.600s", strncmp(reply, "error ", 6) ? reply : reply + 6);
	}
	if (fd)
		*fd = got;
	else if (got >= 0)
		close(got);
	return 0;
}
