/*
 * One error rule for all of dlite (after crun's): a fallible function takes a
 * `struct dl_err *` and returns < 0 on failure, having filled it with a
 * one-line message (and errno, if any).  Callers add context with
 * dl_err_wrap() and return.  The CLI prints "dlite: <msg>" and exits 1.
 */
#ifndef DLITE_ERR_H
#define DLITE_ERR_H

#include <stddef.h>

struct dl_err {
	int errnum;
	char msg[512];
};

/* Fill *e (may be NULL) and return -1. errnum 0 means "no errno". */
int dl_fail(struct dl_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the existing message with context; returns -1. */
int dl_err_wrap(struct dl_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define DL_CLEANUP(f) __attribute__((cleanup(f)))
void dl_freep(void *p);
void dl_closep(int *fd);
#define cleanup_free DL_CLEANUP(dl_freep)
#define cleanup_close DL_CLEANUP(dl_closep)

#endif
