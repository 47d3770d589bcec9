/* hyperkit's NFS share: dlite's block in /etc/exports and nfsd (see nfs.h).
 * Used by the daemon (export at start) and by `dlite uninstall`. */
#include "lib/nfs.h"
#include "lib/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/atomic.h"
#include "paths.h"
#include "host/cmd.h"
#include "host/exports.h"

#define DL_NFSD_TIMEOUT_MS 20000

/* ---- pure helpers ---- */

int dl_nfs_vmnet_net(const char *cidr, char net[16], char mask[16], struct dl_err *e)
{
	char addr[64];
	const char *slash = strchr(cidr, '/');
	struct in_addr a, m;
	char *end;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return dl_fail(e, 0, "bad VM address %s: use A.B.C.D/PREFIX", cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	errno = 0;
	long prefix = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &a) != 1 || errno || *end || slash[1] < '0' ||
	    slash[1] > '9' || prefix < 1 || prefix > 32)
		return dl_fail(e, 0, "bad VM address %s: use A.B.C.D/PREFIX", cidr);
	m.s_addr = htonl((uint32_t)(0xffffffffu << (32 - prefix)));
	a.s_addr &= m.s_addr;
	inet_ntop(AF_INET, &a, net, 16);
	inet_ntop(AF_INET, &m, mask, 16);
	return 0;
}

char *dl_nfs_exports_plan(const char *text, size_t len, const char *share,
			     const char *guest_cidr, uid_t uid, gid_t gid, size_t *outlen,
			     struct dl_err *e)
{
	char net[16], mask[16];

	if (dl_nfs_vmnet_net(guest_cidr, net, mask, e) < 0)
		return NULL;
	return dl_exports_set(text, len, share, net, mask, uid, gid, outlen, e);
}

/* ---- running nfsd ---- */


/* nfsd runs on macOS against the real /etc/exports, or through $DLITE_NFSD
 * (a stand-in for tests, anywhere).  Otherwise it is skipped. */
static bool nfsd_wanted(void)
{
	const char *alt = getenv("DLITE_NFSD");
	if (alt && *alt)
		return true;
#ifdef __APPLE__
	return dl_sysroot()[0] == '\0';
#else
	return false;
#endif
}

/* Run an nfsd command from the exports.h builders; 0, or -1 with out set. */
static int nfsd_run(char **cmd, char *out, size_t outlen)
{
	const char *alt = getenv("DLITE_NFSD");
	int r = -1;

	if (!cmd) {
		snprintf(out, outlen, "out of memory");
		return -1;
	}
	if (alt && *alt) {
		char *a0 = strdup(alt);
		if (a0) {
			free(cmd[0]);
			cmd[0] = a0;
		}
	}
	r = dl_run_capture((const char *const *)cmd, out, outlen, DL_NFSD_TIMEOUT_MS);
	dl_cmd_free(cmd);
	return r == 0 ? 0 : -1;
}

/* nfsd update, else nfsd restart (nfsd was not running). */
static int nfsd_reload(struct dl_err *e)
{
	char out[512];
	if (nfsd_run(dl_nfsd_argv_update(), out, sizeof(out)) == 0 ||
	    nfsd_run(dl_nfsd_argv_restart(), out, sizeof(out)) == 0)
		return 0;
	return dl_fail(e, 0, "the NFS server did not take /etc/exports (%s); run `sudo nfsd enable` "
		       "and `sudo nfsd update`", out[0] ? out : "no output");
}

static int exports_read(char *path, size_t n, char **text, size_t *len, bool *missing,
			struct dl_err *e)
{
	*text = NULL;
	*len = 0;
	*missing = false;
	if (dl_syspath(path, n, "/etc/exports", e) < 0)
		return -1;
	struct dl_err re = { 0 };
	if (dl_read_file(path, text, len, 16u << 20, &re) < 0) {
		if (re.errnum != ENOENT)
			return dl_fail(e, re.errnum, "%s", re.msg);
		*missing = true;
		*text = NULL;
		*len = 0;
	}
	return 0;
}

int dl_nfs_export(const char *share, const char *guest_cidr, uid_t uid, gid_t gid,
			 struct dl_err *e)
{
	char path[DL_PATH_MAX + 64], out[512];
	char *text, *next;
	size_t len, nlen;
	bool missing;
	struct dl_err ignore = { 0 };

	if (dl_syspath(path, sizeof(path), "/etc/exports", e) < 0)
		return dl_err_wrap(e, "hyperkit NFS share");
	/* locked from the read to the last write (also the restore below) */
	int lock cleanup_close = dl_file_lock(path, e);
	if (lock < 0)
		return dl_err_wrap(e, "hyperkit NFS share");
	if (exports_read(path, sizeof(path), &text, &len, &missing, e) < 0)
		return dl_err_wrap(e, "hyperkit NFS share");
	next = dl_nfs_exports_plan(text, len, share, guest_cidr, uid, gid, &nlen, e);
	if (!next) {
		free(text);
		return dl_err_wrap(e, "hyperkit NFS share: cannot export %s", share);
	}
	if (!missing && nlen == len && memcmp(next, text, len) == 0) {
		free(text), free(next);
		return 0; /* already exported as wanted: no root needed */
	}
	if (dl_atomic_write(path, next, nlen, 0644, e) < 0) {
		/* the block alone, for the message */
		size_t blen = 0;
		char *block = dl_nfs_exports_plan(NULL, 0, share, guest_cidr, uid, gid, &blen,
						     &ignore);
		char *nl = block ? strstr(block, "\n") : NULL;
		char *line = nl ? nl + 1 : NULL;
		if (line)
			line[strcspn(line, "\n")] = '\0';
		dl_err_wrap(e, "hyperkit NFS share: %s needs, as root, the line [%s] between "
			    "'" DL_EXPORTS_BEGIN "' and '" DL_EXPORTS_END "' lines, then `sudo "
			    "nfsd update`", path, line ? line : "?");
		free(block), free(text), free(next);
		return -1;
	}
	free(next);
	if (nfsd_wanted()) {
		if (nfsd_run(dl_nfsd_argv_checkexports(), out, sizeof(out)) < 0) {
			/* put the file back as it was */
			if (missing)
				unlink(path);
			else
				dl_atomic_write(path, text, len, 0644, NULL);
			free(text);
			return dl_fail(e, 0, "hyperkit NFS share: `nfsd checkexports` rejects the export "
				       "of %s (%s); /etc/exports is unchanged: fix the conflicting "
				       "entry, or set another share with `dlite config set share`",
				       share, out[0] ? out : "no output");
		}
		free(text);
		return nfsd_reload(e);
	}
	free(text);
	return 0;
}

int dl_nfs_unexport(struct dl_err *e)
{
	char path[DL_PATH_MAX + 64];
	char *text, *next;
	size_t len, nlen;
	bool missing;

	if (dl_syspath(path, sizeof(path), "/etc/exports", e) < 0)
		return -1;
	int lock cleanup_close = dl_file_lock(path, e);
	if (lock < 0)
		return -1;
	if (exports_read(path, sizeof(path), &text, &len, &missing, e) < 0)
		return -1;
	if (missing || !strstr(text, DL_EXPORTS_BEGIN)) {
		free(text);
		return 0;
	}
	next = dl_exports_remove(text, len, &nlen, e);
	free(text);
	if (!next)
		return -1;
	int r = dl_atomic_write(path, next, nlen, 0644, e);
	free(next);
	if (r < 0)
		return dl_err_wrap(e, "cannot remove dlite's NFS export");
	if (nfsd_wanted())
		return nfsd_reload(e);
	return 0;
}
