/* CPUs, memory, disk at each start; the guest's figures for status. */
#include "daemon/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "host/atomic.h"

/* -accel tcg,tb-size: 0 keeps QEMU's default (1 GiB, resident as it
 * fills).  256 was taken out while a 9p data loss was diagnosed (file
 * events turned out to be the cause, bench/README.md); memory comes back
 * within 200 MiB without it.  $DLITE_TCG_TB_MIB sets one, for bench/memory. */
#define DL_TCG_TB_MIB 0u

int dl_resources_prepare(const struct dl_paths *p, struct dl_config *cfg, struct dl_err *e)
{
	char *text = NULL;
	size_t len = 0;
	struct dl_config now;
	struct stat st;

	if (dl_read_file(p->config, &text, &len, 1 << 20, NULL) == 0 &&
	    dl_config_parse(text, len, p->user_home, p->home, &now, NULL) == 0) {
		if (now.cpus != cfg->cpus || now.memory_gib != cfg->memory_gib ||
		    now.disk_gib != cfg->disk_gib)
			dl_log(DL_LOG_INFO, "vm: config: %d CPUs, %d GiB memory, %d GiB disk", now.cpus,
			       now.memory_gib, now.disk_gib);
		cfg->cpus = now.cpus;
		cfg->memory_gib = now.memory_gib;
		cfg->disk_gib = now.disk_gib;
	}
	free(text);
	if (stat(p->disk, &st) < 0)
		return dl_fail(e, errno, "data disk %s is missing; run `dlite rebuild`", p->disk);
	off_t want = (off_t)cfg->disk_gib << 30;
	if (st.st_size < want) {
		if (truncate(p->disk, want) < 0)
			return dl_fail(e, errno, "cannot grow the data disk %s to %d GiB", p->disk,
				       cfg->disk_gib);
		dl_log(DL_LOG_INFO, "vm: data disk grown from %lld to %d GiB (sparse); the guest "
				    "grows its file system at boot",
		       (long long)(st.st_size >> 30), cfg->disk_gib);
	}
	return 0;
}

unsigned dl_resources_tb_mib(void)
{
	const char *v = getenv("DLITE_TCG_TB_MIB");
	char *end;

	if (v && *v) {
		unsigned long n = strtoul(v, &end, 10);
		if (*end == '\0' && n <= 4096)
			return (unsigned)n;
	}
	return DL_TCG_TB_MIB;
}
