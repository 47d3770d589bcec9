/*
 * `dlite helper --uid UID`: bridged mode's privileged helper (root), in the
 * manner of OpenBSD's vmd.  It serves one user's daemon over a unix socket
 * in a root-owned folder (DL_PRIV_SOCK_FMT), one request per connection,
 * sequentially:
 *  - the peer's uid (SO_PEERCRED / getpeereid) must be UID;
 *  - the line is parsed and every word checked (src/host/privreq.c), then
 *    re-validated against the host's routes and addresses as they are now
 *    (src/host/hostnet.c), read with ip(8) for every request;
 *  - commands are fixed argv lists run with PATH=/usr/sbin:/usr/bin:/sbin:/bin;
 *    the tap is opened here and its fd handed back (SCM_RIGHTS), owned by
 *    UID, so QEMU runs as the user and needs no access to /dev/net/tun.
 * It reads no file of the user's, executes nothing named by the user, and
 * creates nothing outside its own folder (and /etc/resolver on macOS).
 */
#include "daemon/privd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if.h>
#include <linux/if_tun.h>
#endif

#include "lib/run.h"
#include "host/atomic.h"
#include "host/cmd.h"
#include "host/privreq.h"
#include "host/resolver.h"

#define MAX_BRIDGES 8
#define LISTING (256 << 10)
#define CMD(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct bridge_state {
	char name[16];
	struct dl_cidr net;
	unsigned char host[16];
};

static struct bridge_state bridges[MAX_BRIDGES];
static unsigned served_uid;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("dlite-helper: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int run(const char *const *argv, struct dl_err *e)
{
	char out[512];
	char *text = dl_cmd_format((char *const *)argv);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	int rc = dl_run_capture(argv, out, sizeof(out), DL_RUN_TIMEOUT_MS);
	out[strcspn(out, "\n")] = '\0';
	logf_("%s%s%s", text ? text : argv[0], rc ? ": " : "", rc ? (out[0] ? out : "failed") : "");
	if (rc)
		dl_fail(e, 0, "%s: %s", text ? text : argv[0], out[0] ? out : "failed");
	free(text);
	return rc ? -1 : 0;
}

/* An ip(8) listing, lines kept (dl_run_capture joins them); fails closed
 * when the program fails or the listing does not fit. */
static int listing(const char *const *argv, char *buf, struct dl_err *e)
{
	if (dl_run_output(argv, buf, LISTING, DL_RUN_TIMEOUT_MS, DL_RUN_LINES) != 0 ||
	    strlen(buf) >= LISTING - 1)
		return dl_fail(e, 0, "cannot list the host's routes and addresses (%s %s %s)", argv[0],
			       argv[1], argv[2]);
	return 0;
}

/* The host's routes and addresses, now. */
static int host_net(struct dl_host_net *h, struct dl_err *e)
{
	char *buf = malloc(LISTING);
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (!buf)
		return dl_fail(e, ENOMEM, "out of memory");
	if (listing(CMD("ip", "-o", "-4", "route", "show"), buf, e) == 0 &&
	    dl_host_routes_parse(buf, AF_INET, h, e) == 0 &&
	    listing(CMD("ip", "-o", "-6", "route", "show"), buf, e) == 0 &&
	    dl_host_routes_parse(buf, AF_INET6, h, e) == 0 &&
	    listing(CMD("ip", "-o", "addr", "show"), buf, e) == 0 && dl_host_addrs_parse(buf, h, e) == 0)
		rc = 0;
	free(buf);
	if (rc < 0)
		dl_host_net_free(h);
	return rc;
}

static struct bridge_state *find(const char *name, bool create)
{
	struct bridge_state *free_slot = NULL;
	for (size_t i = 0; i < MAX_BRIDGES; i++) {
		if (!strcmp(bridges[i].name, name))
			return &bridges[i];
		if (!bridges[i].name[0] && !free_slot)
			free_slot = &bridges[i];
	}
	if (create && free_slot)
		snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
	return create ? free_slot : NULL;
}

static bool link_is(const char *name, const char *kind)
{
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/class/net/%s%s", name, kind);
	return lstat(p, &st) == 0;
}

#ifdef __linux__
static int open_tap(const char *name, struct dl_err *e)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return dl_fail(e, errno, "cannot open /dev/net/tun (`modprobe tun`)");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOWNER, (unsigned long)served_uid) < 0) {
		int err = errno;
		close(fd);
		return dl_fail(e, err, "cannot create tap %s", name);
	}
	return fd;
}

static int do_up(const struct dl_priv_req *r, int *fd, struct dl_err *e)
{
	struct dl_host_net h;
	char cidr[64], a[64];

	if (host_net(&h, e) < 0)
		return -1;
	int rc = dl_priv_bridge_check(&r->net, r->addr, r->bridge, &h, e);
	dl_host_net_free(&h);
	if (rc < 0)
		return -1;
	if (link_is(r->bridge, "") && !link_is(r->bridge, "/bridge"))
		return dl_fail(e, 0, "refused: %s exists and is not a bridge", r->bridge);
	if (link_is(r->tap, "") && !link_is(r->tap, "/tun_flags"))
		return dl_fail(e, 0, "refused: %s exists and is not a tap", r->tap);
	struct bridge_state *b = find(r->bridge, true);
	if (!b)
		return dl_fail(e, 0, "refused: at most %d bridges", MAX_BRIDGES);
	inet_ntop(AF_INET, r->addr, a, sizeof(a));
	snprintf(cidr, sizeof(cidr), "%s/%u", a, r->net.prefix);
	if ((!link_is(r->bridge, "") && run(CMD("ip", "link", "add", r->bridge, "type", "bridge"), e) < 0) ||
	    run(CMD("ip", "addr", "replace", cidr, "dev", r->bridge), e) < 0 ||
	    run(CMD("ip", "link", "set", r->bridge, "up"), e) < 0)
		return -1;
	b->net = r->net;
	memcpy(b->host, r->addr, sizeof(b->host));
	if ((*fd = open_tap(r->tap, e)) < 0)
		return -1;
	if (run(CMD("ip", "link", "set", r->tap, "master", r->bridge, "up"), e) < 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

static int do_down(const struct dl_priv_req *r, struct dl_err *e)
{
	struct bridge_state *b = find(r->bridge, false);
	if (b)
		memset(b, 0, sizeof(*b));
	if (!link_is(r->bridge, ""))
		return 0;
	if (!link_is(r->bridge, "/bridge"))
		return dl_fail(e, 0, "refused: %s is not a bridge", r->bridge);
	return run(CMD("ip", "link", "del", r->bridge), e);
}

static int do_route(const struct dl_priv_req *r, struct dl_err *e)
{
	struct bridge_state *b = find(r->bridge, false);
	char subnet[64], via[64];

	if (!b)
		return dl_fail(e, 0, "refused: bridge %s is not up (send `up` first)", r->bridge);
	inet_ntop(r->net.family, r->net.addr, subnet, sizeof(subnet));
	snprintf(subnet + strlen(subnet), 8, "/%u", r->net.prefix);
	inet_ntop(r->net.family, r->addr, via, sizeof(via));
	if (r->verb == DL_PRIV_ROUTE_DEL)
		return run(CMD("ip", "route", "del", subnet, "via", via, "dev", r->bridge), e);
	struct dl_host_net h;
	if (host_net(&h, e) < 0)
		return -1;
	int rc = dl_priv_route_check(&r->net, r->addr, r->bridge, &b->net, &h, e);
	dl_host_net_free(&h);
	if (rc < 0)
		return -1;
	return run(CMD("ip", "route", "replace", subnet, "via", via, "dev", r->bridge), e);
}

static int run_list(char ***cmds, struct dl_err *e)
{
	int rc = cmds ? 0 : -1;
	for (size_t i = 0; cmds && cmds[i] && rc == 0; i++)
		rc = run((const char *const *)cmds[i], e);
	dl_cmds_free(cmds);
	return rc;
}

static int do_dns(const struct dl_priv_req *r, struct dl_err *e)
{
	struct bridge_state *b = find(r->bridge, false);
	char a[64], out[256];

	bool resolved = dl_run_capture(CMD("resolvectl", "--no-pager", "status"), out, sizeof(out), DL_RUN_TIMEOUT_MS) == 0;
	if (r->verb == DL_PRIV_DNS_OFF) /* resolved forgets a link's settings with the link */
		return resolved && link_is(r->bridge, "") ?
			run_list(dl_resolved_revert_cmds(r->bridge, e), e) : 0;
	if (!b || memcmp(b->host, r->addr, 4) != 0)
		return dl_fail(e, 0, "refused: the DNS server must be the host's address on %s",
			       r->bridge);
	if (!resolved)
		return dl_fail(e, 0, "no systemd-resolved on this host");
	inet_ntop(AF_INET, r->addr, a, sizeof(a));
	return run_list(dl_resolved_cmds(r->bridge, a, r->port, r->domain, e), e);
}
#else
/* macOS: vmnet owns the bridge; the helper routes and writes /etc/resolver. */
static int do_up(const struct dl_priv_req *r, int *fd, struct dl_err *e)
{
	return dl_fail(e, 0, "refused: bridges are vmnet's on this system");
}

static int do_down(const struct dl_priv_req *r, struct dl_err *e)
{
	return 0;
}

static int do_route(const struct dl_priv_req *r, struct dl_err *e)
{
	return dl_fail(e, 0, "refused: routes through the helper are Linux-only for now");
}

static int do_dns(const struct dl_priv_req *r, struct dl_err *e)
{
	char rel[512], path[1200], a[64];
	char *text = NULL;

	if (dl_resolver_path(rel, sizeof(rel), r->domain, e) < 0 ||
	    dl_syspath(path, sizeof(path), rel, e) < 0)
		return -1;
	if (r->verb == DL_PRIV_DNS_OFF)
		return unlink(path) == 0 || errno == ENOENT ? 0 : dl_fail(e, errno, "unlink %s", path);
	inet_ntop(AF_INET, r->addr, a, sizeof(a));
	if (!(text = dl_resolver_file(r->domain, a, r->port, e)))
		return -1;
	int rc = dl_atomic_write(path, text, strlen(text), 0644, e);
	free(text);
	return rc;
}
#endif

/* One connection: credentials, one line, one reply. */
static void serve(int c)
{
	char buf[DL_PRIV_MAX_LINE + 1], reply[600];
	struct dl_err e = { 0 };
	struct dl_priv_req r;
	size_t len = 0;
	int fd = -1, rc = -1;
	uid_t peer = (uid_t)-1;
	struct timeval tv = { .tv_sec = 2 };

#ifdef SO_PEERCRED
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		peer = cred.uid;
#else
	gid_t g;
	if (getpeereid(c, &peer, &g) < 0)
		peer = (uid_t)-1;
#endif
	if (peer != served_uid) {
		logf_("refused a connection from uid %d", (int)peer);
		snprintf(reply, sizeof(reply), "error uid %d is not served by this helper (it serves "
			 "uid %u)\n", (int)peer, served_uid);
		(void)!write(c, reply, strlen(reply));
		return;
	}
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < sizeof(buf) && (len == 0 || buf[len - 1] != '\n')) {
		ssize_t n = read(c, buf + len, sizeof(buf) - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (dl_priv_parse(buf, len, &r, &e) == 0) {
		logf_("uid %u: %.*s", served_uid, (int)len - 1, buf);
		switch (r.verb) {
		case DL_PRIV_UP: rc = do_up(&r, &fd, &e); break;
		case DL_PRIV_DOWN: rc = do_down(&r, &e); break;
		case DL_PRIV_ROUTE_ADD:
		case DL_PRIV_ROUTE_DEL: rc = do_route(&r, &e); break;
		case DL_PRIV_DNS:
		case DL_PRIV_DNS_OFF: rc = do_dns(&r, &e); break;
		}
	}
	if (rc < 0)
		logf_("uid %u: %s", served_uid, e.msg);
	snprintf(reply, sizeof(reply), rc == 0 ? "ok\n" : "error %s\n", e.msg);
	struct iovec iov = { .iov_base = reply, .iov_len = strlen(reply) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	(void)!sendmsg(c, &m, MSG_NOSIGNAL);
	if (fd >= 0)
		close(fd);
}

/* The socket's folder: root's, not a symlink, writable by root only. */
static int own_dir(const char *sock, struct dl_err *e)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", sock);
	*strrchr(dir, '/') = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return dl_fail(e, errno, "cannot create %s", dir);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return dl_fail(e, 0, "%s must be a folder of root's that only root can write; "
			       "remove it and start the helper again", dir);
	return 0;
}

int dl_privd_run(unsigned uid, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char rel[64];

	if (geteuid() != 0)
		return dl_fail(e, 0, "the helper runs as root (the system's service manager starts it; "
			       "`sudo dlite install --network bridged` sets that up)");
	if (uid == 0)
		return dl_fail(e, 0, "the helper serves a user's daemon, not root's: give --uid UID");
	served_uid = uid;
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	signal(SIGPIPE, SIG_IGN);
	snprintf(rel, sizeof(rel), DL_PRIV_SOCK_FMT, uid);
	if (dl_syspath(sa.sun_path, sizeof(sa.sun_path), rel, e) < 0 || own_dir(sa.sun_path, e) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return dl_fail(e, errno, "socket");
	unlink(sa.sun_path); /* a stale one: the folder is root's */
	mode_t old = umask(077);
	int rc = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chown(sa.sun_path, uid, 0) < 0 || listen(s, 8) < 0) {
		int err = errno;
		close(s);
		return dl_fail(e, err, "cannot listen on %s", sa.sun_path);
	}
	logf_("serving uid %u on %s", uid, sa.sun_path);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				sleep(1);
				continue;
			}
			int err = errno;
			close(s);
			return dl_fail(e, err, "accept on %s", sa.sun_path);
		}
		fcntl(c, F_SETFD, FD_CLOEXEC);
		serve(c);
		close(c);
	}
}
