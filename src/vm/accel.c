/* Accelerator decisions and console scanning; see accel.h. */
#include "accel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const accel_names[] = { "auto", "kvm", "hvf", "tcg" };

const char *dl_accel_name(enum dl_accel a)
{
	return (unsigned)a < 4 ? accel_names[a] : "?";
}

int dl_accel_parse(const char *s, enum dl_accel *out)
{
	for (unsigned i = 0; i < 4; i++)
		if (s && strcmp(s, accel_names[i]) == 0) {
			*out = (enum dl_accel)i;
			return 0;
		}
	return -1;
}

/* ---- memo ---------------------------------------------------------------- */

static bool word_ok(const char *w, size_t n, size_t cap)
{
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)w[i]))
			return false;
	return true;
}

int dl_accel_memo_parse(const char *text, size_t len, struct dl_accel_memo *m, struct dl_err *e)
{
	const char *w[5];
	size_t wl[5];
	int nw = 0;
	size_t i = 0;

	memset(m, 0, sizeof(*m));
	if (len && text[len - 1] == '\n')
		len--;
	if (memchr(text, '\n', len) || memchr(text, '\0', len))
		return dl_fail(e, 0, "accel memo: more than one line");
	while (i < len) {
		while (i < len && text[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t st = i;
		while (i < len && text[i] != ' ')
			i++;
		if (nw == 5)
			return dl_fail(e, 0, "accel memo: too many fields");
		w[nw] = text + st;
		wl[nw++] = i - st;
	}
	if (nw != 4)
		return dl_fail(e, 0, "accel memo: want \"ACCEL ok|fail QEMU_VERSION KERNEL_SHA\"");
	char acc[8];
	if (wl[0] >= sizeof(acc))
		return dl_fail(e, 0, "accel memo: unknown accelerator");
	memcpy(acc, w[0], wl[0]);
	acc[wl[0]] = '\0';
	if (dl_accel_parse(acc, &m->accel) < 0 || m->accel == DL_ACCEL_AUTO)
		return dl_fail(e, 0, "accel memo: unknown accelerator %s", acc);
	if (wl[1] == 2 && memcmp(w[1], "ok", 2) == 0)
		m->ok = true;
	else if (wl[1] == 4 && memcmp(w[1], "fail", 4) == 0)
		m->ok = false;
	else
		return dl_fail(e, 0, "accel memo: result must be ok or fail");
	if (!word_ok(w[2], wl[2], sizeof(m->qemu_version)) ||
	    !word_ok(w[3], wl[3], sizeof(m->kernel_sha)))
		return dl_fail(e, 0, "accel memo: bad version or sha field");
	memcpy(m->qemu_version, w[2], wl[2]);
	memcpy(m->kernel_sha, w[3], wl[3]);
	return 0;
}

char *dl_accel_memo_format(const struct dl_accel_memo *m)
{
	char *s = NULL;
	if (asprintf(&s, "%s %s %s %s\n", dl_accel_name(m->accel), m->ok ? "ok" : "fail",
		     m->qemu_version[0] ? m->qemu_version : "-",
		     m->kernel_sha[0] ? m->kernel_sha : "-") < 0)
		return NULL;
	return s;
}

static int set_word(char *dst, size_t cap, const char *src, struct dl_err *e)
{
	if (!src || !*src) {
		strcpy(dst, "-");
		return 0;
	}
	size_t n = strlen(src);
	if (!word_ok(src, n, cap))
		return dl_fail(e, 0, "accel memo: bad field %s", src);
	memcpy(dst, src, n + 1);
	return 0;
}

int dl_accel_memo_set(struct dl_accel_memo *m, enum dl_accel a, bool ok,
		      const struct dl_accel_host *h, struct dl_err *e)
{
	memset(m, 0, sizeof(*m));
	if (a == DL_ACCEL_AUTO || (unsigned)a > DL_ACCEL_TCG)
		return dl_fail(e, 0, "accel memo: needs a concrete accelerator");
	m->accel = a;
	m->ok = ok;
	if (set_word(m->qemu_version, sizeof(m->qemu_version), h->qemu_version, e) < 0 ||
	    set_word(m->kernel_sha, sizeof(m->kernel_sha), h->kernel_sha, e) < 0)
		return -1;
	return 0;
}

static bool same(const char *memo, const char *now)
{
	return strcmp(memo, (now && *now) ? now : "-") == 0;
}

bool dl_accel_memo_applies(const struct dl_accel_memo *m, const struct dl_accel_host *h)
{
	return m && same(m->qemu_version, h->qemu_version) && same(m->kernel_sha, h->kernel_sha);
}

/* ---- plan ---------------------------------------------------------------- */

static bool memo_says(const struct dl_accel_memo *m, const struct dl_accel_host *h,
		      enum dl_accel a, bool ok)
{
	return m && dl_accel_memo_applies(m, h) && m->accel == a && m->ok == ok;
}

int dl_accel_plan(enum dl_accel requested, const struct dl_accel_host *h,
		  const struct dl_accel_memo *memo, struct dl_accel_plan *p, struct dl_err *e)
{
	memset(p, 0, sizeof(*p));
	p->probe_seconds = DL_ACCEL_PROBE_SECONDS;
	switch (requested) {
	case DL_ACCEL_KVM:
		if (h->os != DL_HOST_LINUX)
			return dl_fail(e, 0, "accel: kvm needs Linux; use hvf or tcg");
		if (!h->kvm_usable)
			return dl_fail(e, 0, "accel: /dev/kvm is missing or not usable by this user "
					     "(add yourself to the kvm group, or use --accel tcg)");
		p->try[p->n++] = DL_ACCEL_KVM;
		return 0;
	case DL_ACCEL_HVF:
		if (h->os != DL_HOST_MACOS)
			return dl_fail(e, 0, "accel: hvf needs macOS; use kvm or tcg");
		if (!h->hvf_usable)
			return dl_fail(e, 0, "accel: Hypervisor.framework is not available on this Mac");
		p->try[p->n++] = DL_ACCEL_HVF;
		return 0;
	case DL_ACCEL_TCG:
		p->try[p->n++] = DL_ACCEL_TCG;
		return 0;
	case DL_ACCEL_AUTO:
		break;
	default:
		return dl_fail(e, 0, "accel: unknown accelerator %d", (int)requested);
	}

	enum dl_accel hw = h->os == DL_HOST_MACOS ? DL_ACCEL_HVF : DL_ACCEL_KVM;
	bool usable = h->os == DL_HOST_MACOS ? h->hvf_usable : h->kvm_usable;
	if (usable && !memo_says(memo, h, hw, false)) {
		p->try[p->n++] = hw;
		p->probe = !memo_says(memo, h, hw, true);
	}
	p->try[p->n++] = DL_ACCEL_TCG;
	return 0;
}

char *dl_accel_fallback_warning(enum dl_accel from, enum dl_accel to, int seconds)
{
	char *s = NULL;
	if (asprintf(&s,
		     "dlite: warning: the VM did not boot with %s within %d s; using %s (slower) "
		     "and remembering it (dlite config set accel %s to force a retry)",
		     dl_accel_name(from), seconds, dl_accel_name(to), dl_accel_name(from)) < 0)
		return NULL;
	return s;
}

/* ---- console ------------------------------------------------------------- */

/* Find `needle` (length nl) in text[0..len). */
static const char *memfind(const char *text, size_t len, const char *needle, size_t nl)
{
	if (nl == 0 || len < nl)
		return NULL;
	for (size_t i = 0; i + nl <= len; i++) {
		const char *p = memchr(text + i, needle[0], len - nl + 1 - i);
		if (!p)
			return NULL;
		if (memcmp(p, needle, nl) == 0)
			return p;
		i = (size_t)(p - text);
	}
	return NULL;
}

int dl_console_stamp(const char *text, size_t len, const char *name, long *ms)
{
	static const char pre[] = "dlite-stamp ";
	size_t nn = strlen(name);
	int found = 0;
	size_t off = 0;

	if (!text || nn == 0)
		return 0;
	while (off < len) {
		const char *p = memfind(text + off, len - off, pre, sizeof(pre) - 1);
		if (!p)
			break;
		size_t at = (size_t)(p - text) + sizeof(pre) - 1;
		off = at;
		if (len - at < nn + 2 || memcmp(text + at, name, nn) != 0 || text[at + nn] != ' ')
			continue;
		size_t d = at + nn + 1, st = d;
		long v = 0;
		while (d < len && isdigit((unsigned char)text[d]) && d - st < 15)
			v = v * 10 + (text[d++] - '0');
		if (d == st || (d < len && text[d] != '\n' && text[d] != '\r' && text[d] != ' '))
			continue;
		/* a stamp still being written (no line end yet) counts too */
		found = 1;
		if (ms)
			*ms = v;
	}
	return found;
}

bool dl_console_reached_agent(const char *text, size_t len)
{
	return dl_console_stamp(text, len, "agent", NULL) == 1;
}

bool dl_console_failed(const char *text, size_t len)
{
	static const char *const bad[] = {
		"Kernel panic - not syncing",
		"dlite-agent: fatal:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (memfind(text, len, bad[i], strlen(bad[i])))
			return true;
	return false;
}
