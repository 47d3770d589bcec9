/*
 * virtiofsd beside QEMU: where the daemon looks for it, what its --version
 * means, and its command line.  Pure, like the rest of src/vm: no stat(),
 * no getenv(); the daemon (src/daemon/vfsd.c) does the looking and running.
 *
 * Only the Rust virtiofsd (gitlab.com/virtio-fs/virtiofsd, "virtiofsd 1.x")
 * is used.  QEMU's old C virtiofsd (Debian 12's /usr/lib/qemu/virtiofsd,
 * "virtiofsd version 7.2...") runs as root only and takes other options; it
 * is recognised and passed over.
 *
 * The command line, and why (the daemon runs as the user, not root):
 *   --sandbox=namespace  an unprivileged user namespace with the user's own
 *                        uid/gid mapped, pivot_root into the share: the guest
 *                        cannot reach outside it.  "chroot" is root-only.
 *   --cache=never        no attribute/entry/page cache in the guest, so a
 *                        host edit is seen by the next access (auto caches
 *                        attributes for 1 s: an appended line stays unseen).
 *   --allow-mmap         (>= 1.11) shared writable mmap despite cache=never
 *                        (sqlite, some package managers); the guest kernel
 *                        needs FUSE_DIRECT_IO_ALLOW_MMAP (6.6+).
 *   --translate-uid/gid=squash-guest:0:UID:4294967295  (>= 1.13) every guest
 *                        uid/gid becomes the user's on the host: what a
 *                        container's root creates is the user's, and a chown
 *                        in the guest succeeds as a no-op instead of EINVAL
 *                        (only the user's ids exist in the namespace).
 * Left at their defaults: xattr off (user xattrs only would work
 * unprivileged; off also spares a getxattr per write), announce-submounts
 * on, inode-file-handles never (needs CAP_DAC_READ_SEARCH), no thread pool.
 */
#ifndef DLITE_VM_VIRTIOFSD_H
#define DLITE_VM_VIRTIOFSD_H

#include "err.h"

#define DL_VIRTIOFSD_ENV   "DLITE_VIRTIOFSD"	/* path of the binary, or "none" */
#define DL_VIRTIOFSD_SOCK  "virtiofsd.sock"	/* in the run dir */
#define DL_VIRTIOFSD_LOG   "virtiofsd.log"	/* in the run dir: its stderr */
/* What virtiofsd logs once its sandbox is up and it waits for QEMU. */
#define DL_VIRTIOFSD_READY "Waiting for vhost-user socket connection"

struct dl_virtiofsd_version {
	unsigned major, minor, patch;
};

/*
 * The binaries to try, in order (NULL-terminated, malloc'd; free with
 * dl_argv_free; NULL on OOM).  env is $DLITE_VIRTIOFSD: when set and not
 * empty it is the only candidate, and "none" means no candidate (9p);
 * otherwise "virtiofsd" in each absolute folder of path (PATH), then
 * /usr/libexec/virtiofsd, then /usr/lib/qemu/virtiofsd.
 */
char **dl_virtiofsd_candidates(const char *env, const char *path);

/* `virtiofsd --version` output: "virtiofsd 1.13.2" → {1, 13, 2}.  Anything
 * else fails with a one-line reason (QEMU's C virtiofsd named as such). */
int dl_virtiofsd_parse_version(const char *text, struct dl_virtiofsd_version *v,
			       struct dl_err *e);

struct dl_virtiofsd_spec {
	const char *binary;		/* required */
	struct dl_virtiofsd_version version;	/* picks the options it knows */
	const char *socket_path;	/* required, absolute */
	const char *shared_dir;		/* required, absolute */
	long uid, gid;			/* host owner of what the guest creates; < 0: none */
};

/* The argv (NULL-terminated, malloc'd; dl_argv_free).  0, or < 0 with *e. */
int dl_virtiofsd_argv(const struct dl_virtiofsd_spec *s, char ***argv_out, struct dl_err *e);

#endif
