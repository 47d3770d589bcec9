/* CPUs, memory and disk: re-read at each VM start, the disk grown when the
 * config asks for more (the guest's disk figures and platforms for status
 * come from the agent's status line, kept by the supervisor). */
#ifndef DLITE_DAEMON_RESOURCES_H
#define DLITE_DAEMON_RESOURCES_H

#include <jansson.h>

#include "config.h"
#include "daemon/chan.h"
#include "err.h"
#include "paths.h"

/* Before a boot: take cpus, memory_gib and disk_gib from config.json (so
 * `dlite config set` needs no daemon restart; the other keys do) and
 * extend the sparse disk.img to disk_gib when it is smaller (the agent
 * grows the file system online).  0, or -1 with *e. */
int dl_resources_prepare(const struct dl_paths *p, struct dl_config *cfg, struct dl_err *e);

/* TCG translation-block cache for QEMU in MiB ($DLITE_TCG_TB_MIB, for
 * bench/memory, else DL_TCG_TB_MIB; 0 = QEMU's default). */
unsigned dl_resources_tb_mib(void);

#endif
