/*
 * dlite-agent: the guest's PID 1 and the host <-> guest channel server.
 *
 * One process, one epoll loop (loop.c), no threads: the channel server
 * (chan.c, control.c), the service supervisor (svc.c) and the power button
 * all hang off it.  Boot-time work before the loop (init.c, disk.c, net.c)
 * is plain sequential code.
 */
#ifndef DLITE_AGENT_H
#define DLITE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* ---- global state ------------------------------------------------------ */

struct agent {
	uint8_t token[DL_TOKEN_LEN];
	bool pid1;               /* real guest init (vs host mode) */
	const char *docker_sock; /* target of "docker" */
	volatile bool quit;      /* host mode: leave the loop */
	const char *data_state;  /* "ok", "formatted", "unknown" */
	char docker_version[64];
	char image_version[64];
};
extern struct agent g;

#define DATA_MNT "/mnt/data"

/* ---- log.c --------------------------------------------------------------- */

/* Lines go to fd 2 (/dev/console in the guest) as "dlite-agent: ...". */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "dlite-stamp NAME MS" with MS = CLOCK_BOOTTIME in milliseconds. */
void stamp(const char *name);
uint64_t now_ms(void);  /* CLOCK_MONOTONIC, for timers */
uint64_t boot_ms(void); /* CLOCK_BOOTTIME, for stamps and uptime */

/* ---- loop.c -------------------------------------------------------------- */

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);
struct watch {
	int fd; /* -1 once closed: pending events for it are skipped */
	watch_fn fn;
	void *data;
};

struct timer;
typedef void (*timer_fn)(struct timer *t);
struct timer {
	uint64_t due; /* now_ms() deadline */
	timer_fn fn;
	void *data;
	struct timer *next;
	bool armed;
};

int loop_init(void);
int loop_add(struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
/* Remove from epoll and close the fd; w->fd becomes -1. */
void loop_close(struct watch *w);
void timer_arm(struct timer *t, uint64_t delay_ms);
void timer_cancel(struct timer *t);
/* free(p) once the current batch of events has been dispatched, so that an
 * event later in the same batch never touches freed memory. */
void loop_defer_free(void *p);
void loop_run(void);

/* ---- chan.c -------------------------------------------------------------- */

/* dev: bind the listener to that interface (NULL or "": any). */
int chan_listen_tcp(const char *host, uint16_t port, const char *dev);
int chan_listen_vsock(uint32_t port);

/* ---- admit.c: who may connect, budget of header-less connections ---- */

#define ADMIT_PER_SOURCE 256  /* waiting for their header, per peer address */
#define ADMIT_MAX_PENDING 512 /* all sources together */
struct sockaddr_storage;
struct admit_node {
	uint64_t src;
	struct admit_node *prev, *next;
	bool linked;
};
/* PID 1: only the host (TCP peer gw, vsock CID 2) may connect. */
void admit_host_only(const char *gw);
/* Whether this peer may use the channel; *src: its budget key. */
bool admit_peer(const struct sockaddr_storage *ss, uint64_t *src);
/* n (src set) starts waiting for its header; returns a waiting connection
 * to evict (the oldest of n's source when over its budget, else the oldest
 * of all when the table is full), or NULL. */
struct admit_node *admit_add(struct admit_node *n);
/* n has its header (or is closed); harmless when not waiting. */
void admit_done(struct admit_node *n);

/* ---- control.c ----------------------------------------------------------- */

struct ctl;
/* close_fn closes the whole connection (used when a reply completes
 * asynchronously and the client had already sent EOF). */
struct ctl *ctl_new(struct watch *client, void (*close_fn)(void *), void *arg);
/* Called on every event of the client fd; returns false when the
 * connection is finished and must be closed. */
bool ctl_event(struct ctl *c);
void ctl_free(struct ctl *c);

/* Minimal HTTP/1.0 GET over a unix socket (dockerd's _ping, /version). */
typedef void (*http_fn)(void *arg, int status, const char *body);
struct http;
struct http *http_get(const char *sock, const char *path, unsigned timeout_ms,
		      http_fn fn, void *arg);
void http_cancel(struct http *h);

/* ---- fsev.c -------------------------------------------------------------- */

/* One "fsevents" request line -> its reply line (proto.h). */
void fsev_request(const char *line, char *out, size_t len);
/* Serve an "fsevents" connection on fd with blocking I/O until EOF, then
 * _exit: run in a child of its own (file system calls on the share may be
 * slow or hang; the loop must not). */
void fsev_serve(int fd) __attribute__((noreturn));

/* ---- svc.c (PID 1 only) -------------------------------------------------- */

void svc_signals_init(void); /* signalfd; also used by host mode */
void svc_start_containerd(bool with_docker);
void svc_start_all(bool with_docker);
bool svc_dockerd_up(void);
unsigned svc_dockerd_restarts(void);
/* Clean shutdown: dockerd, containerd, sshd, the rest, unmount, power off.
 * In host mode it just leaves the loop. */
void agent_poweroff(const char *why);
void power_button_watch(void);
/* fork+exec argv with stdout/stderr on the console; returns pid or -1. */
pid_t spawn(char *const argv[], int out_fd);
/* Run argv to completion (boot time only, before the loop). */
int run_wait(char *const argv[]);
typedef void (*exit_fn)(void *arg, pid_t pid, int status);
void pid_watch(pid_t pid, exit_fn fn, void *arg);

/* ---- init.c / disk.c / net.c (PID 1 only) ------------------------------ */

void pid1_main(void);
/* finit_module() every path in PREFIX/LIST (paths taken under PREFIX). */
void load_modules(const char *prefix, const char *list);
void wait_fs(const char *fs);
/* Data disk: detect, format on marker, mount, bind. Sets g.data_state.
 * Returns true when docker can be started. */
bool data_disk_setup(const char *root_dev);
void ensure_docker_user(void);
void net_setup(void);
void share_setup(void);
/* The interface net_setup() configured ("" when none). */
const char *net_ifname(void);
/* kernel command line value for "dlite.KEY=", or NULL */
const char *cmdline_get(const char *key);

/* ---- small file helpers (util.c) ---------------------------------------- */

/* Read a whole small file (NUL-terminated, at most max bytes); malloc'd. */
char *read_file(const char *path, size_t max, size_t *len);
/* Write via temp file + fsync + rename (the guest's own /etc). */
int write_file(const char *path, const char *data, size_t len, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
int set_nonblock(int fd);

#endif
