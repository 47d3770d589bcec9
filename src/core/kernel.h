/*
 * Booting an x86 kernel without its decompressor: a bzImage carries the
 * compressed vmlinux as its payload (boot protocol >= 2.08: payload_offset
 * and payload_length in the setup header). QEMU boots that ELF vmlinux
 * directly through its PVH entry point (the Xen PHYS32_ENTRY note, which
 * Debian's kernels have: CONFIG_PVH), skipping the kernel's own
 * self-decompression — on TCG 1-1.5 s of every boot.  Pure functions; the
 * daemon does the I/O (src/daemon/pvh.c).
 */
#ifndef DLITE_KERNEL_H
#define DLITE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum dl_kcomp { DL_KCOMP_UNKNOWN, DL_KCOMP_ZSTD, DL_KCOMP_GZIP, DL_KCOMP_XZ, DL_KCOMP_LZ4 };

/* Finds the payload of the bzImage in buf[0..len): its offset and length and
 * the compression its magic says. Fails (one line) for anything that is not
 * a bzImage with boot protocol >= 2.08 or whose payload lies outside buf. */
int dl_bzimage_payload(const uint8_t *buf, size_t len, size_t *off, size_t *plen,
		       enum dl_kcomp *comp, struct dl_err *e);

/* 1 when buf[0..len) is a 64-bit little-endian x86-64 ELF file with a
 * PT_NOTE segment holding the Xen note XEN_ELFNOTE_PHYS32_ENTRY (18), i.e.
 * bootable by QEMU's PVH loader; 0 otherwise (never reads outside buf). */
int dl_elf_has_pvh_note(const uint8_t *buf, size_t len);

#endif
