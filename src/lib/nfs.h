#ifndef DLITE_LIB_NFS_H
#define DLITE_LIB_NFS_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* ---- hyperkit's NFS export ---- */

/* Pure: "192.168.64.2/24" -> net "192.168.64.0", mask "255.255.255.0"
 * (IPv4, prefix 1..32).  0 or -1 with *e. */
int dl_nfs_vmnet_net(const char *cidr, char net[16], char mask[16], struct dl_err *e);

/*
 * Pure: /etc/exports text (NULL, 0: missing) -> the text with dlite's block
 * exporting share to the VM's network (guest_cidr's subnet), -alldirs,
 * -mapall=uid:gid.  NULL with *e quoting the conflicting line when another
 * export names share, a parent or a child of it (dl_exports_set).
 */
char *dl_nfs_exports_plan(const char *text, size_t len, const char *share,
			     const char *guest_cidr, uid_t uid, gid_t gid, size_t *outlen,
			     struct dl_err *e);

/*
 * $DLITE_SYSROOT/etc/exports gets the plan; nothing is written or run when
 * it is already there (so only the first start needs root).  Then
 * `nfsd checkexports` (on failure the previous text is put back and the
 * message quotes nfsd) and `nfsd update` (else `nfsd restart`).  nfsd runs on
 * macOS when DLITE_SYSROOT is unset, or wherever $DLITE_NFSD names a
 * stand-in (tests).  0 or -1 with *e.
 */
int dl_nfs_export(const char *share, const char *guest_cidr, uid_t uid, gid_t gid,
			 struct dl_err *e);
/* Remove dlite's block (uninstall), then `nfsd update` as above. 0 or -1. */
int dl_nfs_unexport(struct dl_err *e);

#endif
