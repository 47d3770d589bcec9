/*
 * Other architectures: binfmt_misc handlers for the QEMU user-mode
 * interpreters the image ships (image/build.sh writes BINFMT_LIST, one
 * "PLATFORM :name:M::magic:mask:interpreter:flags" line each, from Debian's
 * qemu-user binfmt.d files).  The flags include F (fix-binary): the kernel
 * opens the interpreter now, so it also runs inside containers, whose root
 * has no /usr/libexec/qemu-binfmt.  status lists the platforms whose
 * handler is registered and enabled, the VM's own first.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#define BINFMT_LIST "/usr/lib/dlite/binfmt.list"
#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"
#define MAX_HANDLERS 8

static struct {
	char name[32];
	char platform[48];
} handlers[MAX_HANDLERS];
static unsigned nhandlers;

void binfmt_setup(void)
{
	char *text = read_file(BINFMT_LIST, 1 << 16, NULL);

	if (!text)
		return; /* an image without interpreters */
	if (access(BINFMT_DIR "/register", W_OK) < 0) {
		wait_fs("binfmt_misc");
		if (mount("binfmt_misc", BINFMT_DIR, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0 && errno != EBUSY) {
			logmsg("binfmt: mount " BINFMT_DIR ": %m");
			free(text);
			return;
		}
	}
	for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *reg = strchr(l, ' ');
		if (!reg || reg[1] != ':' || nhandlers == MAX_HANDLERS)
			continue;
		*reg++ = '\0';
		size_t nlen = strcspn(reg + 1, ":");
		if (nlen == 0 || nlen >= sizeof(handlers[0].name))
			continue;
		int fd = open(BINFMT_DIR "/register", O_WRONLY | O_CLOEXEC);
		ssize_t w = fd >= 0 ? write(fd, reg, strlen(reg)) : -1;
		if (w < 0 && errno != EEXIST)
			logmsg("binfmt: register %.*s: %m", (int)nlen, reg + 1);
		if (fd >= 0)
			close(fd);
		if (w < 0 && errno != EEXIST)
			continue;
		memcpy(handlers[nhandlers].name, reg + 1, nlen);
		handlers[nhandlers].name[nlen] = '\0';
		snprintf(handlers[nhandlers].platform, sizeof(handlers[0].platform), "%s", l);
		nhandlers++;
	}
	free(text);
}

int binfmt_status(char *buf, size_t n)
{
	struct utsname u;
	const char *native = "unknown";

	if (uname(&u) == 0)
		native = strcmp(u.machine, "x86_64") == 0    ? "linux/amd64"
			 : strcmp(u.machine, "aarch64") == 0 ? "linux/arm64"
							     : u.machine;
	int off = snprintf(buf, n, " platforms=%s", native);
	for (unsigned i = 0; i < nhandlers && off > 0 && (size_t)off < n; i++) {
		char path[96], state[16] = "";
		snprintf(path, sizeof(path), BINFMT_DIR "/%s", handlers[i].name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t r = fd >= 0 ? read(fd, state, sizeof(state) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (r > 0 && strncmp(state, "enabled", 7) == 0)
			off += snprintf(buf + off, n - (size_t)off, ",%s", handlers[i].platform);
	}
	return off;
}
