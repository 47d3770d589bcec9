/* bzImage payload and PVH note parsing: see kernel.h. */
#include <string.h>

#include "kernel.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int dl_bzimage_payload(const uint8_t *buf, size_t len, size_t *off, size_t *plen,
		       enum dl_kcomp *comp, struct dl_err *e)
{
	/* setup header (Documentation/arch/x86/boot.rst) */
	if (len < 0x250 || memcmp(buf + 0x202, "HdrS", 4) != 0)
		return dl_fail(e, 0, "not a bzImage (no HdrS setup header)");
	uint16_t version = le16(buf + 0x206);
	if (version < 0x208)
		return dl_fail(e, 0, "bzImage boot protocol %u.%02u has no payload fields (needs 2.08)",
			       version >> 8, version & 0xff);
	size_t setup_sects = buf[0x1f1] ? buf[0x1f1] : 4;
	size_t pm = (setup_sects + 1) * 512;
	size_t o = pm + le32(buf + 0x248), n = le32(buf + 0x24c);
	if (pm > len || o < pm || o > len || n > len - o || n < 4)
		return dl_fail(e, 0, "bzImage payload (offset %zu, %zu bytes) outside the %zu-byte file",
			       o, n, len);
	const uint8_t *p = buf + o;
	if (memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		*comp = DL_KCOMP_ZSTD;
	else if (p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		*comp = DL_KCOMP_GZIP;
	else if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		*comp = DL_KCOMP_XZ;
	else if (memcmp(p, "\x02\x21\x4c\x18", 4) == 0)
		*comp = DL_KCOMP_LZ4;
	else
		*comp = DL_KCOMP_UNKNOWN;
	*off = o;
	*plen = n;
	return 0;
}

int dl_elf_has_pvh_note(const uint8_t *buf, size_t len)
{
	/* ELF64, little-endian, EM_X86_64 (62) */
	if (len < 64 || memcmp(buf, "\177ELF", 4) != 0 || buf[4] != 2 || buf[5] != 1 ||
	    le16(buf + 18) != 62)
		return 0;
	uint64_t phoff = le64(buf + 32);
	uint16_t phentsize = le16(buf + 54), phnum = le16(buf + 56);
	if (phentsize < 56 || phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return 0;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (size_t)i * phentsize;
		if (le32(ph) != 4 /* PT_NOTE */)
			continue;
		uint64_t o = le64(ph + 8), n = le64(ph + 32);
		if (o > len || n > len - o)
			continue;
		/* notes: namesz, descsz, type, name (4-aligned), desc (4-aligned) */
		for (uint64_t at = o; at + 12 <= o + n;) {
			const uint8_t *nt = buf + at;
			uint64_t namesz = le32(nt), descsz = le32(nt + 4);
			uint32_t type = le32(nt + 8);
			uint64_t next = at + 12 + ((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull);
			if (next > o + n)
				break;
			if (namesz == 4 && memcmp(nt + 12, "Xen", 4) == 0 && type == 18)
				return 1;
			at = next;
		}
	}
	return 0;
}
