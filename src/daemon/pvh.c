/* Extracting vmlinux from vmlinuz for QEMU's PVH boot (see core/kernel.h).
 * libzstd: Debian's x86 kernels are zstd-compressed (CONFIG_KERNEL_ZSTD). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "kernel.h"
#include "pvh.h"

struct map {
	uint8_t *p;
	size_t len;
};

static int map_file(const char *path, struct map *m, struct dl_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return dl_fail(e, errno, "open %s", path);
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return dl_fail(e, errno, "%s is empty or unreadable", path);
	}
	m->len = (size_t)st.st_size;
	m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED)
		return dl_fail(e, errno, "mmap %s", path);
	return 0;
}

static int usable(const char *path)
{
	struct map m;

	if (map_file(path, &m, NULL) < 0)
		return 0;
	int ok = dl_elf_has_pvh_note(m.p, m.len);
	munmap(m.p, m.len);
	return ok;
}

/* Decompress src[0..n) (one zstd frame) into fd. */
static int unzstd(const uint8_t *src, size_t n, int fd, struct dl_err *e)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	size_t cap = ZSTD_DStreamOutSize();
	uint8_t *buf = malloc(cap);
	ZSTD_inBuffer in = { src, n, 0 };
	size_t r = 1;
	int rc = 0;

	if (!z || !buf) {
		rc = dl_fail(e, ENOMEM, "zstd");
		goto out;
	}
	/* the kernel is compressed with zstd -22 --ultra: a window of up to
	 * 2^27 bytes (transient: freed with the stream) */
	ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 27);
	while (in.pos < in.size && r != 0) {
		ZSTD_outBuffer o = { buf, cap, 0 };
		r = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(r)) {
			rc = dl_fail(e, 0, "zstd: %s", ZSTD_getErrorName(r));
			goto out;
		}
		for (size_t w = 0; w < o.pos;) {
			ssize_t k = write(fd, buf + w, o.pos - w);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				rc = dl_fail(e, errno, "write");
				goto out;
			}
			w += (size_t)k;
		}
	}
	if (r != 0)
		rc = dl_fail(e, 0, "zstd: truncated payload");
out:
	free(buf);
	ZSTD_freeDStream(z);
	return rc;
}

int dl_pvh_kernel(const char *os_dir, char *out, size_t n, struct dl_err *e)
{
	char bz[1100], elf[1100], tmp[1120];
	struct map m;
	size_t off, plen;
	enum dl_kcomp comp;
	int fd, rc;

	if ((size_t)snprintf(elf, sizeof(elf), "%s/vmlinux", os_dir) >= sizeof(elf) ||
	    (size_t)snprintf(bz, sizeof(bz), "%s/vmlinuz", os_dir) >= sizeof(bz) ||
	    strlen(elf) >= n)
		return dl_fail(e, ENAMETOOLONG, "%s: path too long", os_dir);
	if (!usable(elf)) {
		if (map_file(bz, &m, e) < 0)
			return -1;
		if (dl_bzimage_payload(m.p, m.len, &off, &plen, &comp, e) < 0) {
			munmap(m.p, m.len);
			return dl_err_wrap(e, "%s", bz);
		}
		if (comp != DL_KCOMP_ZSTD) {
			munmap(m.p, m.len);
			return dl_fail(e, 0, "%s: payload not zstd-compressed", bz);
		}
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", elf, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			munmap(m.p, m.len);
			return dl_fail(e, errno, "create %s", tmp);
		}
		rc = unzstd(m.p + off, plen, fd, e);
		munmap(m.p, m.len);
		if (close(fd) < 0 && rc == 0)
			rc = dl_fail(e, errno, "write %s", tmp);
		if (rc == 0 && !usable(tmp))
			rc = dl_fail(e, 0, "%s: the kernel inside has no PVH entry point", bz);
		if (rc == 0 && rename(tmp, elf) < 0)
			rc = dl_fail(e, errno, "rename %s", tmp);
		if (rc < 0) {
			unlink(tmp);
			return rc;
		}
	}
	snprintf(out, n, "%s", elf);
	return 0;
}
