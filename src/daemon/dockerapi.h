/* A blocking HTTP/1.1 GET to the docker API over a unix socket, for the watch
 * thread: the response is parsed by http-parser (status line, headers,
 * Content-Length, chunked or close-delimited bodies); the body reaches the
 * caller de-chunked, piece by piece, as it arrives (GET /events streams). */
#ifndef DLITE_DAEMON_DOCKERAPI_H
#define DLITE_DAEMON_DOCKERAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct dl_api_get {
	const char *socket;	/* unix socket path */
	const char *path;	/* "/containers/json" */
	int connect_timeout_ms;	/* 0: 5000 */
	int timeout_ms;		/* whole request; 0: none (a stream) */
	/* body data of a 2xx response; return false to stop (the call then
	 * fails with "stopped") */
	bool (*on_body)(void *arg, const char *data, size_t len);
	/* asked after every read and about once a second while nothing comes;
	 * true ends the call ("stopped") */
	bool (*stop)(void *arg);
	void *arg;
};

/* 0 when a complete 2xx response was read; < 0 otherwise (connect or read
 * failed, non-2xx status, malformed HTTP, timeout, stopped). *status (may
 * be NULL) gets the HTTP status, 0 if none was read. */
int dl_api_get(const struct dl_api_get *g, int *status, struct dl_err *e);

/* Appends data[0..n) to the NUL-terminated buffer *p of *len bytes
 * (realloc); false when out of memory, *p and *len unchanged. */
bool dl_buf_append(char **p, size_t *len, const char *data, size_t n);

/* The whole body of a 2xx response, NUL-terminated, at most max bytes;
 * NULL on failure. */
char *dl_api_get_body(const char *socket, const char *path, int timeout_ms, size_t max,
		      struct dl_err *e);

#endif
