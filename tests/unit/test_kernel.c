/* core/kernel.c: the bzImage payload and the PVH note, on synthetic images. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "kernel.h"

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* setup_sects 3 -> protected-mode code at 2048; payload at +100, 200 bytes */
static size_t bzimage(uint8_t *b, size_t cap, uint16_t version, const char *magic, size_t mlen)
{
	memset(b, 0, cap);
	b[0x1f1] = 3;
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, version);
	put32(b + 0x248, 100);
	put32(b + 0x24c, 200);
	memcpy(b + 2048 + 100, magic, mlen);
	return 2048 + 100 + 200 + 16;
}

static void payload_found(void **state)
{
	uint8_t b[4096];
	size_t off, n, len = bzimage(b, sizeof(b), 0x20f, "\x28\xb5\x2f\xfd", 4);
	enum dl_kcomp c;
	struct dl_err e = { 0 };

	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), 0);
	assert_int_equal(off, 2148);
	assert_int_equal(n, 200);
	assert_int_equal(c, DL_KCOMP_ZSTD);
	len = bzimage(b, sizeof(b), 0x20f, "\xfd" "7zXZ\0", 6);
	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), 0);
	assert_int_equal(c, DL_KCOMP_XZ);
	len = bzimage(b, sizeof(b), 0x20f, "\x1f\x8b", 2);
	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), 0);
	assert_int_equal(c, DL_KCOMP_GZIP);
	len = bzimage(b, sizeof(b), 0x20f, "ABCD", 4);
	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), 0);
	assert_int_equal(c, DL_KCOMP_UNKNOWN);
}

static void payload_refused(void **state)
{
	uint8_t b[4096];
	size_t off, n, len;
	enum dl_kcomp c;
	struct dl_err e = { 0 };

	/* not a bzImage */
	memset(b, 0, sizeof(b));
	assert_int_equal(dl_bzimage_payload(b, sizeof(b), &off, &n, &c, &e), -1);
	assert_non_null(strstr(e.msg, "not a bzImage"));
	/* too short for the header */
	assert_int_equal(dl_bzimage_payload(b, 0x100, &off, &n, &c, &e), -1);
	/* old boot protocol */
	len = bzimage(b, sizeof(b), 0x206, "\x28\xb5\x2f\xfd", 4);
	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), -1);
	assert_non_null(strstr(e.msg, "2.06"));
	/* payload past the end of the file (truncated image) */
	len = bzimage(b, sizeof(b), 0x20f, "\x28\xb5\x2f\xfd", 4);
	assert_int_equal(dl_bzimage_payload(b, 2048 + 100 + 199, &off, &n, &c, &e), -1);
	assert_non_null(strstr(e.msg, "outside"));
	/* huge offset must not wrap */
	put32(b + 0x248, 0xffffffffu);
	assert_int_equal(dl_bzimage_payload(b, len, &off, &n, &c, &e), -1);
}

/* ELF64 header + one PT_NOTE program header + notes at 0x100 */
static size_t elf(uint8_t *b, size_t cap, uint32_t type, const char *name)
{
	memset(b, 0, cap);
	memcpy(b, "\177ELF", 4);
	b[4] = 2; b[5] = 1; b[6] = 1;
	put16(b + 18, 62);
	put64(b + 32, 64);         /* e_phoff */
	put16(b + 54, 56);         /* e_phentsize */
	put16(b + 56, 1);          /* e_phnum */
	uint8_t *ph = b + 64;
	put32(ph, 4);              /* PT_NOTE */
	put64(ph + 8, 0x100);      /* p_offset */
	/* a first, unrelated note (GNU build id), then the Xen one */
	uint8_t *n = b + 0x100;
	put32(n, 4); put32(n + 4, 20); put32(n + 8, 3); memcpy(n + 12, "GNU", 4);
	n += 12 + 4 + 20;
	put32(n, 4); put32(n + 4, 8); put32(n + 8, type); memcpy(n + 12, name, 4);
	n += 12 + 4 + 8;
	put64(ph + 32, (uint64_t)(n - (b + 0x100))); /* p_filesz */
	return (size_t)(n - b);
}

static void pvh_note(void **state)
{
	uint8_t b[1024];
	size_t len = elf(b, sizeof(b), 18, "Xen");

	assert_int_equal(dl_elf_has_pvh_note(b, len), 1);
	/* another Xen note only (e.g. ENTRY, 1): not bootable through PVH */
	len = elf(b, sizeof(b), 1, "Xen");
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
	/* type 18 under another name */
	len = elf(b, sizeof(b), 18, "Foo");
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
	/* truncated inside the notes */
	len = elf(b, sizeof(b), 18, "Xen");
	assert_int_equal(dl_elf_has_pvh_note(b, len - 4), 0);
	/* 32-bit ELF, wrong machine, not ELF, tiny */
	b[4] = 1;
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
	len = elf(b, sizeof(b), 18, "Xen");
	put16(b + 18, 183);
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
	assert_int_equal(dl_elf_has_pvh_note((const uint8_t *)"MZ\x90", 3), 0);
	/* program headers pointing past the end */
	len = elf(b, sizeof(b), 18, "Xen");
	put64(b + 32, 0xfffffffffffffff0ull);
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
	len = elf(b, sizeof(b), 18, "Xen");
	put16(b + 56, 0xffff);
	assert_int_equal(dl_elf_has_pvh_note(b, len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(payload_found),
		cmocka_unit_test(payload_refused),
		cmocka_unit_test(pvh_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
