/* Step lists for install, start, update: a spinner on a TTY ("✓ step  1.2 s"
 * when done, "✗" when failed, "!" for a warning), byte bars with rate and ETA
 * for downloads, plain timestamped lines when not a TTY (a step when it ends;
 * a failed one only through the error line that follows), nothing with
 * --quiet. The renderer only writes to its FILE and reads its clocks, so
 * tests/unit/test_progress.c drives it with fake ones. */
#ifndef DLITE_CLI_PROGRESS_H
#define DLITE_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

enum dl_prog_st { DL_PROG_OK, DL_PROG_FAIL, DL_PROG_WARN };

struct dl_prog {
	FILE *f;
	bool tty, color, utf8, quiet;
	double (*clock)(void); /* monotonic seconds */
	time_t (*wall)(void);  /* for the timestamps of plain lines */
	char step[160], sub[64];
	double t_step, t_drawn, t_bytes0;
	unsigned long long done, total;
	double t_printed;      /* plain lines: last byte line */
	int spin;
	bool active, bytes;
};

/* Decides tty/color/utf8 from f, $NO_COLOR, $TERM and the locale. */
void dl_prog_init(struct dl_prog *p, FILE *f, bool quiet);
/* The same with everything given (tests). */
void dl_prog_setup(struct dl_prog *p, FILE *f, bool tty, bool color, bool utf8, bool quiet,
		   double (*clock)(void), time_t (*wall)(void));
void dl_prog_begin(struct dl_prog *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A part of the current step (the file being downloaded): shown after the
 * step's name, byte counts start again. */
void dl_prog_sub(struct dl_prog *p, const char *label);
/* Redraw the spinner (TTY; at most every 0.1 s). */
void dl_prog_tick(struct dl_prog *p);
/* Bytes of the current step (total 0 = unknown). */
void dl_prog_bytes(struct dl_prog *p, unsigned long long done, unsigned long long total);
/* End the step; detail (may be NULL) follows the elapsed time. */
void dl_prog_end(struct dl_prog *p, enum dl_prog_st st, const char *detail);
/* End the current step (if any) as done, named name, with a known duration
 * (boot phases timed by the agent's stamps). */
void dl_prog_done(struct dl_prog *p, const char *name, double seconds);

/* "12.0 MiB", "3.2 KiB"; "1 m 05 s" (pure helpers, tested). */
void dl_fmt_bytes(char *out, size_t n, double bytes);
void dl_fmt_secs(char *out, size_t n, double secs);

/* The command's progress, for code deep below it (downloads); NULL if none. */
extern struct dl_prog *dl_prog_current;

#endif
