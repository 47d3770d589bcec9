/* The step list renderer (progress.h). */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/progress.h"

struct dl_prog *dl_prog_current;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static time_t wall(void)
{
	return time(NULL);
}

void dl_prog_setup(struct dl_prog *p, FILE *f, bool tty, bool color, bool utf8, bool quiet,
		   double (*clock)(void), time_t (*wallf)(void))
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->tty = tty;
	p->color = color && tty;
	p->utf8 = utf8;
	p->quiet = quiet;
	p->clock = clock ? clock : mono;
	p->wall = wallf ? wallf : wall;
}

void dl_prog_init(struct dl_prog *p, FILE *f, bool quiet)
{
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	bool tty = isatty(fileno(f)) && term && strcmp(term, "dumb") != 0;
	setlocale(LC_CTYPE, "");
	const char *cs = nl_langinfo(CODESET);
	bool utf8 = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	dl_prog_setup(p, f, tty, !(nc && nc[0]), utf8, quiet, NULL, NULL);
}

void dl_fmt_bytes(char *out, size_t n, double b)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

void dl_fmt_secs(char *out, size_t n, double s)
{
	if (s < 60)
		snprintf(out, n, "%.1f s", s);
	else
		snprintf(out, n, "%d m %02d s", (int)(s / 60), (int)s % 60);
}

static const char *sym(const struct dl_prog *p, enum dl_prog_st st)
{
	static const char *const u[] = { "\u2713", "\u2717", "!" }, *const a[] = { "ok", "FAILED",
										  "warning" };
	return p->utf8 ? u[st] : a[st];
}

static void stamp(struct dl_prog *p)
{
	char t[16];
	time_t now = p->wall();
	struct tm tm;
	strftime(t, sizeof(t), "%H:%M:%S", localtime_r(&now, &tm));
	fprintf(p->f, "[%s] ", t);
}

/* The byte part: "[=====     ]  45% 12.0 MiB/26.7 MiB 3.2 MiB/s ETA 5.0 s" */
static void bytes_part(struct dl_prog *p, bool bar)
{
	char d[24], t[24], r[24], eta[24];
	double el = p->clock() - p->t_bytes0;
	double rate = el > 0.05 ? (double)p->done / el : 0;
	dl_fmt_bytes(d, sizeof(d), (double)p->done);
	if (!p->total) {
		dl_fmt_bytes(r, sizeof(r), rate);
		fprintf(p->f, " %s %s/s", d, r);
		return;
	}
	int pct = (int)(p->done * 100 / p->total);
	if (pct > 100)
		pct = 100;
	dl_fmt_bytes(t, sizeof(t), (double)p->total);
	dl_fmt_bytes(r, sizeof(r), rate);
	if (bar)
		fprintf(p->f, " [%.*s%*s]", pct * 20 / 100, "====================", 20 - pct * 20 / 100,
			"");
	fprintf(p->f, " %3d%% %s/%s %s/s", pct, d, t, r);
	if (rate > 0 && p->done < p->total) {
		dl_fmt_secs(eta, sizeof(eta), (double)(p->total - p->done) / rate);
		fprintf(p->f, " ETA %s", eta);
	}
}

static void draw(struct dl_prog *p)
{
	static const char *const su[] = { "\u280b", "\u2819", "\u2839", "\u2838",
					  "\u283c", "\u2834", "\u2826", "\u2827" };
	static const char sa[] = "|/-\\";
	char el[24];

	p->t_drawn = p->clock();
	dl_fmt_secs(el, sizeof(el), p->t_drawn - p->t_step);
	fprintf(p->f, "\r\033[K%s%s%s %s%s%s  %s", p->color ? "\033[36m" : "",
		p->utf8 ? su[p->spin % 8] : (char[]){ sa[p->spin % 4], 0 }, p->color ? "\033[0m" : "",
		p->step, p->sub[0] ? ": " : "", p->sub, el);
	if (p->bytes)
		bytes_part(p, true);
	p->spin++;
	fflush(p->f);
}

void dl_prog_begin(struct dl_prog *p, const char *fmt, ...)
{
	va_list ap;

	if (p->active)
		dl_prog_end(p, DL_PROG_OK, NULL);
	va_start(ap, fmt);
	vsnprintf(p->step, sizeof(p->step), fmt, ap);
	va_end(ap);
	p->t_step = p->t_printed = p->clock();
	p->active = true;
	p->bytes = false;
	p->done = p->total = 0;
	p->sub[0] = '\0';
	if (p->quiet)
		return;
	if (p->tty)
		draw(p);
	/* plain lines: a step shows when it ends, so bad input that fails the
	 * first step still prints one line (the error) */
}

void dl_prog_sub(struct dl_prog *p, const char *label)
{
	if (!p->active)
		return;
	snprintf(p->sub, sizeof(p->sub), "%s", label);
	p->bytes = false;
	p->done = p->total = 0;
	if (p->quiet)
		return;
	/* plain output (not a TTY) has one line per step, at its end: sub-step
	 * lines would come before a failed step's one error line */
	if (p->tty)
		draw(p);
}

void dl_prog_tick(struct dl_prog *p)
{
	if (p->active && !p->quiet && p->tty && p->clock() - p->t_drawn >= 0.1)
		draw(p);
}

void dl_prog_bytes(struct dl_prog *p, unsigned long long done, unsigned long long total)
{
	if (!p->active)
		return;
	if (!p->bytes) {
		p->bytes = true;
		p->t_bytes0 = p->clock();
	}
	p->done = done;
	p->total = total;
	if (p->quiet)
		return;
	if (p->tty) {
		dl_prog_tick(p);
		return;
	}
	/* plain: a line every 5 s at most */
	if (p->clock() - p->t_printed >= 5.0) {
		p->t_printed = p->clock();
		stamp(p);
		fprintf(p->f, "  %s:", p->step);
		bytes_part(p, false);
		fputc('\n', p->f);
		fflush(p->f);
	}
}

static void final_line(struct dl_prog *p, enum dl_prog_st st, const char *name, double secs,
		       const char *detail)
{
	static const char *const col[] = { "\033[32m", "\033[31m", "\033[33m" };
	char el[24];

	dl_fmt_secs(el, sizeof(el), secs);
	if (p->tty)
		fputs("\r\033[K", p->f);
	else
		stamp(p);
	fprintf(p->f, "%s%s%s %s  %s%s%s\n", p->color ? col[st] : "", sym(p, st),
		p->color ? "\033[0m" : "", name, el, detail && detail[0] ? ": " : "",
		detail ? detail : "");
	fflush(p->f);
}

void dl_prog_end(struct dl_prog *p, enum dl_prog_st st, const char *detail)
{
	if (!p->active)
		return;
	p->active = false;
	if (p->quiet || (!p->tty && st == DL_PROG_FAIL)) /* plain: the error line says it */
		return;
	char d[400] = "";
	if (p->bytes && p->done && !p->sub[0]) {
		char b[24], r[24];
		double el = p->clock() - p->t_bytes0;
		dl_fmt_bytes(b, sizeof(b), (double)p->done);
		dl_fmt_bytes(r, sizeof(r), el > 0.05 ? (double)p->done / el : (double)p->done);
		snprintf(d, sizeof(d), "%s at %s/s%s%s", b, r, detail ? ", " : "", detail ? detail : "");
		detail = d;
	}
	final_line(p, st, p->step, p->clock() - p->t_step, detail);
}

void dl_prog_done(struct dl_prog *p, const char *name, double seconds)
{
	p->active = false;
	if (!p->quiet)
		final_line(p, DL_PROG_OK, name, seconds, NULL);
}
