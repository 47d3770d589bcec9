/*
 * Network and share from the kernel command line (guest contract):
 *   dlite.ip=ADDR/PREFIX dlite.gw=ADDR dlite.dns=ADDR dlite.hostname=NAME
 *   dlite.share=PATH dlite.sharefs=9p|virtiofs|nfs dlite.nfs=SERVER:EXPORT
 * Plain ioctls: no ip(8), no netlink library.  Failures are logged only.
 */
#include "agent.h"
#include "cmdline.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHARE_TAG "dlite-share"

const char *cmdline_get(const char *key)
{
	static char *cmdline;
	static char value[4096];

	if (!cmdline)
		cmdline = read_file("/proc/cmdline", 8192, NULL);
	/* returned copies are short-lived: callers strdup what they keep */
	return dl_cmdline_get(cmdline, key, value, sizeof(value));
}

static char *cmdline_dup(const char *key)
{
	const char *v = cmdline_get(key);
	return v ? strdup(v) : NULL;
}

static int if_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static int if_addr(int s, const char *name, struct in_addr addr, unsigned prefix)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -1;
	sin->sin_addr.s_addr = htonl(prefix ? 0xffffffffu << (32 - prefix) : 0);
	return ioctl(s, SIOCSIFNETMASK, &ifr);
}

static int default_route(int s, struct in_addr gw)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
	struct sockaddr_in *via = (struct sockaddr_in *)&rt.rt_gateway;

	dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
	via->sin_addr = gw;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	return ioctl(s, SIOCADDRT, &rt);
}

/* The first interface backed by a device (not lo, not a tunnel), in name
 * order; its driver may still be loading or probing: wait up to 15 s. */
static bool first_nic(char *name, size_t size)
{
	for (int tries = 0; tries < 1500; tries++) {
		DIR *d = opendir("/sys/class/net");
		struct dirent *de;
		bool found = false;

		while (d && (de = readdir(d))) {
			char path[300];
			if (de->d_name[0] == '.' || strcmp(de->d_name, "lo") == 0)
				continue;
			snprintf(path, sizeof(path), "/sys/class/net/%s/device", de->d_name);
			if (access(path, F_OK) < 0)
				continue;
			if (!found || strcmp(de->d_name, name) < 0)
				snprintf(name, size, "%s", de->d_name);
			found = true;
		}
		if (d)
			closedir(d);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static void write_text(const char *path, const char *text)
{
	if (write_file(path, text, strlen(text), 0644) < 0)
		logmsg("write %s: %m", path);
}

static void set_hostname(const char *name, const char *ip)
{
	char hosts[512];
	char shortname[64];

	if (sethostname(name, strlen(name)) < 0)
		logmsg("sethostname %s: %m", name);
	snprintf(shortname, sizeof(shortname), "%.*s", (int)strcspn(name, "."), name);
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "%s\t%s%s%s\n",
		 ip ? ip : "127.0.1.1", name, strcmp(shortname, name) ? " " : "",
		 strcmp(shortname, name) ? shortname : "");
	write_text("/etc/hosts", hosts);
	snprintf(hosts, sizeof(hosts), "%s\n", name);
	write_text("/etc/hostname", hosts);
}

static char nic[IFNAMSIZ];

const char *net_ifname(void)
{
	return nic;
}

void net_setup(void)
{
	char *ip = cmdline_dup("ip"), *gw = cmdline_dup("gw");
	char *dns = cmdline_dup("dns"), *host = cmdline_dup("hostname");
	char addr_only[64] = "";
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0) {
		logmsg("network: socket: %m");
		goto out;
	}
	if (if_up(s, "lo") < 0)
		logmsg("network: lo up: %m");
	if (!first_nic(nic, sizeof(nic))) {
		logmsg("network: no network interface");
		goto out;
	}
	if (ip) {
		struct in_addr a;
		char *slash = strchr(ip, '/');
		unsigned prefix = 24;
		if (slash) {
			*slash = '\0';
			prefix = (unsigned)atoi(slash + 1);
		}
		snprintf(addr_only, sizeof(addr_only), "%s", ip);
		if (inet_pton(AF_INET, ip, &a) != 1 || prefix > 32)
			logmsg("network: bad dlite.ip");
		else if (if_addr(s, nic, a, prefix) < 0)
			logmsg("network: address on %s: %m", nic);
		else
			logmsg("network: %s %s/%u", nic, ip, prefix);
	} else {
		logmsg("network: no dlite.ip on the kernel command line");
	}
	if (if_up(s, nic) < 0)
		logmsg("network: %s up: %m", nic);
	if (gw) {
		struct in_addr a;
		if (inet_pton(AF_INET, gw, &a) != 1)
			logmsg("network: bad dlite.gw");
		else if (default_route(s, a) < 0)
			logmsg("network: default route via %s: %m", gw);
	}
out:
	if (s >= 0)
		close(s);
	if (dns) {
		char text[128];
		snprintf(text, sizeof(text), "nameserver %s\n", dns);
		write_text("/etc/resolv.conf", text);
	}
	set_hostname(host ? host : "dlite", addr_only[0] ? addr_only : NULL);
	free(ip);
	free(gw);
	free(dns);
	free(host);
}

/* NFS can hang for minutes on an unreachable server: mount it from a child
 * so PID 1 keeps serving (the mount is visible to everyone all the same). */
static void mount_nfs(const char *spec, const char *path)
{
	char server[64], opts[256];
	const char *colon = strchr(spec, ':');

	if (!colon || (size_t)(colon - spec) >= sizeof(server)) {
		logmsg("share: bad dlite.nfs=%s (want SERVER:EXPORT)", spec);
		return;
	}
	snprintf(server, sizeof(server), "%.*s", (int)(colon - spec), spec);
	struct in_addr a;
	if (inet_pton(AF_INET, server, &a) != 1) {
		logmsg("share: NFS server must be an IPv4 address: %s", server);
		return;
	}
	snprintf(opts, sizeof(opts),
		 "nfsvers=3,proto=tcp,mountproto=tcp,nolock,addr=%s,mountaddr=%s,"
		 "actimeo=1,timeo=50,retrans=3",
		 server, server);
	pid_t pid = fork();
	if (pid < 0) {
		logmsg("share: fork: %m");
		return;
	}
	if (pid > 0)
		return; /* reaped by the loop like any orphan */
	for (int i = 0; i < 5; i++) {
		if (mount(spec, path, "nfs", 0, opts) == 0) {
			dprintf(2, "dlite-agent: share: %s mounted on %s (nfs)\n", spec, path);
			_exit(0);
		}
		dprintf(2, "dlite-agent: share: mount nfs %s on %s: %m\n", spec, path);
		sleep(2);
	}
	_exit(1);
}

void share_setup(void)
{
	char *path = cmdline_dup("share"), *fs = cmdline_dup("sharefs");
	char *nfs = cmdline_dup("nfs");

	if (!path)
		goto out;
	if (path[0] != '/') {
		logmsg("share: dlite.share must be absolute");
		goto out;
	}
	if (mkdir_p(path, 0755) < 0)
		logmsg("share: mkdir %s: %m", path);
	if (!fs || strcmp(fs, "9p") == 0) {
		if (mount(SHARE_TAG, path, "9p", 0,
			  "trans=virtio,version=9p2000.L,msize=512000,cache=mmap") < 0)
			logmsg("share: mount 9p on %s: %m", path);
		else
			logmsg("share: %s (9p)", path);
	} else if (strcmp(fs, "virtiofs") == 0) {
		if (mount(SHARE_TAG, path, "virtiofs", 0, NULL) < 0)
			logmsg("share: mount virtiofs on %s: %m", path);
		else
			logmsg("share: %s (virtiofs)", path);
	} else if (strcmp(fs, "nfs") == 0) {
		load_modules("", "/lib/dlite/modules-nfs.list");
		if (nfs)
			mount_nfs(nfs, path);
		else
			logmsg("share: sharefs=nfs without dlite.nfs=");
	} else {
		logmsg("share: unknown dlite.sharefs=%s", fs);
	}
out:
	free(path);
	free(fs);
	free(nfs);
}
