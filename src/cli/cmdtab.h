/* The command table: every command, its flags (argument names, help, the
 * values a completion offers) and every config key. The CLI parses its flags
 * from it (cli_opt_*), `--help` prints it, and src/cli/gen.c turns it into the
 * bash/zsh/fish completions and the dlite(1) man page, so they cannot drift.
 * Pure: built into libdlite.a and unit-tested (tests/unit/test_cmdtab.c).
 * HACKING.md ("Adding a command, flag or config key") says how to extend it. */
#ifndef DLITE_CMDTAB_H
#define DLITE_CMDTAB_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"

struct dl_flag {
	const char *lng;     /* long name without "--" */
	char shrt;	     /* short letter, 0 for none */
	int val;	     /* what cli_opt_next returns (the short letter, or a code) */
	const char *arg;     /* argument name, NULL when the flag takes none */
	const char *choices; /* space-separated values to complete, NULL for free text */
	const char *complete; /* "file", "dir" or NULL: what a completion offers for arg */
	const char *help;    /* one line */
};

struct dl_cmdspec {
	const char *name;
	const char *args;     /* positional arguments for the synopsis ("" for none) */
	const char *help;     /* one line */
	const char *words;    /* space-separated words completed as the first argument */
	bool hidden;	      /* not in usage, completions or the man page */
	bool passthrough;     /* arguments are passed on unparsed (ssh) */
	const struct dl_flag *flags; /* terminated by an entry with lng == NULL */
};

struct dl_keyspec {
	const char *name; /* as in config.json / dl_config_keys */
	const char *arg;  /* value name */
	const char *choices;
	const char *help;
};

extern const struct dl_cmdspec dl_cmdtab[];  /* terminated by name == NULL */
extern const struct dl_keyspec dl_keytab[];  /* terminated by name == NULL */
extern const char dl_man_date[];

const struct dl_cmdspec *dl_cmdspec_find(const char *name);
const struct dl_keyspec *dl_keyspec_find(const char *name);
/* Usage and flag help of one command (what `dlite CMD --help` prints). */
void dl_cmd_usage(FILE *f, const struct dl_cmdspec *c);

/* getopt_long from the table. cli_opt_next returns a flag's val, -1 at the
 * end of the flags, 'h' after printing the usage for --help, or '?' with e
 * set (unknown flag, missing value). */
#define DL_MAX_FLAGS 32
struct dl_opts {
	const struct dl_cmdspec *spec;
	struct option lo[DL_MAX_FLAGS + 2];
	char so[3 * DL_MAX_FLAGS + 4];
	FILE *help_out;
};
int dl_opts_init(struct dl_opts *o, const char *cmd, struct dl_err *e);
int dl_opts_next(struct dl_opts *o, int argc, char **argv, struct dl_err *e);

/* Generators (gen.c): 0, or -1 with e set (e.g. a config key without help). */
int dl_gen(FILE *f, const char *what, struct dl_err *e); /* bash|zsh|fish|man */

#endif
