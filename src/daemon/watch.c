/*
 * A thread follows GET /events (dockerapi.c: http-parser over our own
 * docker.sock; the stream is blocking, the daemon's loop is not) and, at start and after
 * every container or network event, lists the containers (and, when a
 * subnets callback is set, the networks). Each listing is handed to the loop
 * through a pipe; the loop reconciles the port forwards, the DNS table and
 * (bridged mode) the routes from it, so everything that touches sockets or
 * runs commands stays in the loop.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/dns.h"
#include "daemon/dockerapi.h"
#include "daemon/names.h"
#include "daemon/log.h"
#include "daemon/ports.h"
#include "daemon/watch.h"

#define MAX_MAPS 1024
#define MAX_SUBNETS 256

struct dl_watch {
	struct event_base *base;
	struct dl_config cfg;
	struct dl_ports *ports;
	struct dl_dns_server *dns;
	struct event *wake_ev;
	int wake[2];
	pthread_t thread;
	bool thread_up;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool active, quit;
	unsigned generation; /* bumps at every start/stop: stale listings are dropped */
	json_t *pending;     /* latest listing from the thread (under mu) */
	json_t *pending_nets; /* latest GET /networks, NULL if it failed (under mu) */
	unsigned pending_gen;
	dl_watch_subnets_fn subnets_cb;
	void *subnets_arg;
	const struct dl_chan_cfg *chan; /* the daemon's, by reference */
};

/* ---- pure: listing -> mappings ---- */

size_t dl_watch_portmaps(json_t *containers, struct dl_portmap *out, size_t max)
{
	size_t i, j, n = 0;
	json_t *c, *p;

	json_array_foreach(containers, i, c) {
		const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		const char *v4, *v6;
		/* the container's own address: the agent connects there, past
		 * docker-proxy (ports.c falls back to the published port) */
		dl_names_addrs(c, &v4, &v6);
		const char *ctr = v4 ? v4 : v6;
		json_array_foreach(json_object_get(c, "Ports"), j, p) {
			json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));
			json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
			const char *type = json_string_value(json_object_get(p, "Type"));
			const char *ip = json_string_value(json_object_get(p, "IP"));
			if (pub <= 0 || pub > 65535 || !type || n >= max)
				continue;
			struct dl_portmap *m = &out[n];
			memset(m, 0, sizeof(*m));
			if (!strcmp(type, "tcp"))
				m->proto = IPPROTO_TCP;
			else if (!strcmp(type, "udp"))
				m->proto = IPPROTO_UDP;
			else
				continue;
			/* docker's 0.0.0.0 and :: both mean "every address": on the
			 * host that is both loopbacks; a specific guest address
			 * maps to the loopback of its family */
			if (!ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") || !ip[0])
				m->host_ip[0] = '\0';
			else if (strchr(ip, ':'))
				snprintf(m->host_ip, sizeof(m->host_ip), "::1");
			else
				snprintf(m->host_ip, sizeof(m->host_ip), "127.0.0.1");
			m->host_port = (uint16_t)pub;
			m->guest_port = (uint16_t)pub;
			if (ctr && priv > 0 && priv <= 65535 && strlen(ctr) < sizeof(m->ctr_addr)) {
				snprintf(m->ctr_addr, sizeof(m->ctr_addr), "%s", ctr);
				m->ctr_port = (uint16_t)priv;
			}
			snprintf(m->owner, sizeof(m->owner), "%s", name && name[0] == '/' ? name + 1 : name ? name : "?");
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				if (out[k].proto == m->proto && out[k].host_port == m->host_port &&
				    !strcmp(out[k].host_ip, m->host_ip))
					dup = true;
			if (!dup)
				n++;
		}
	}
	return n;
}

/* Pure: networks JSON (GET /networks) -> their IPAM subnets, deduplicated. */
size_t dl_watch_subnets(json_t *networks, char (*out)[64], size_t max)
{
	size_t i, j, n = 0;
	json_t *net, *conf;

	json_array_foreach(networks, i, net) {
		json_array_foreach(json_object_get(json_object_get(net, "IPAM"), "Config"), j, conf) {
			const char *sub = json_string_value(json_object_get(conf, "Subnet"));
			bool dup = false;
			if (!sub || !*sub || strlen(sub) >= sizeof(out[0]) || n >= max)
				continue;
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(out[k], sub);
			if (!dup)
				snprintf(out[n++], sizeof(out[0]), "%s", sub);
		}
	}
	return n;
}

/* ---- the thread ---- */

#define MAX_LISTING (64u << 20)

static json_t *get_array(struct dl_watch *w, const char *path)
{
	char *body = dl_api_get_body(w->cfg.socket, path, 10000, MAX_LISTING, NULL);
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	free(body);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static void list_and_post(struct dl_watch *w, unsigned gen)
{
	json_t *j = get_array(w, "/containers/json");
	if (!j)
		return;
	/* networks only when someone routes to them (bridged mode) */
	json_t *nets = w->subnets_cb ? get_array(w, "/networks") : NULL;
	pthread_mutex_lock(&w->mu);
	json_decref(w->pending);
	json_decref(w->pending_nets);
	w->pending = j;
	w->pending_nets = nets;
	w->pending_gen = gen;
	pthread_mutex_unlock(&w->mu);
	if (write(w->wake[1], "x", 1) < 0) {
		/* the loop is already due to look */
	}
}

struct stream {
	struct dl_watch *w;
	unsigned gen;
	char *line;
	size_t len;
};

static bool stale(void *arg)
{
	struct stream *s = arg;
	pthread_mutex_lock(&s->w->mu);
	bool st = !s->w->active || s->w->quit || s->w->generation != s->gen;
	pthread_mutex_unlock(&s->w->mu);
	return st;
}

/* A piece of the events stream (one JSON object per line). */
static bool on_events(void *arg, const char *data, size_t n)
{
	struct stream *s = arg;
	bool relevant = false;

	if (!dl_buf_append(&s->line, &s->len, data, n))
		return false;
	char *nl;
	while ((nl = memchr(s->line, '\n', s->len))) {
		*nl = '\0';
		json_t *ev = json_loads(s->line, 0, NULL);
		const char *type = json_string_value(json_object_get(ev, "Type"));
		if (type && (!strcmp(type, "container") || !strcmp(type, "network")))
			relevant = true;
		json_decref(ev);
		size_t rest = s->len - (size_t)(nl + 1 - s->line);
		memmove(s->line, nl + 1, rest);
		s->len = rest;
	}
	if (relevant)
		list_and_post(s->w, s->gen);
	return !stale(s);
}

static void *watch_thread(void *arg)
{
	struct dl_watch *w = arg;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->quit && !w->active)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		unsigned gen = w->generation;
		pthread_mutex_unlock(&w->mu);

		struct stream s = { .w = w, .gen = gen };
		struct dl_api_get g = {
			.socket = w->cfg.socket,
			.path = "/events?filters=%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%7D",
			.connect_timeout_ms = 5000,
			.on_body = on_events,
			.stop = stale,
			.arg = &s,
		};
		/* list first, then follow: an event between the two is covered
		 * by the listing after the next event */
		list_and_post(w, gen);
		dl_api_get(&g, NULL, NULL);
		free(s.line);
		/* stream ended (VM stopped, dockerd restarted): pause, then again */
		pthread_mutex_lock(&w->mu);
		if (!w->quit && w->active && w->generation == gen) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* ---- the loop side ---- */

static void apply_networks(struct dl_watch *w, json_t *nets)
{
	static char subnets[MAX_SUBNETS][64];
	const char *ptrs[MAX_SUBNETS];
	size_t n = dl_watch_subnets(nets, subnets, MAX_SUBNETS);

	for (size_t i = 0; i < n; i++)
		ptrs[i] = subnets[i];
	w->subnets_cb(w->subnets_arg, ptrs, n);
}

static void apply(struct dl_watch *w, json_t *list)
{
	static struct dl_portmap maps[MAX_MAPS];
	size_t n = list ? dl_watch_portmaps(list, maps, MAX_MAPS) : 0;

	int failed = dl_ports_set(w->ports, maps, n);
	if (failed > 0)
		dl_log(DL_LOG_WARN, "ports: %d published port(s) could not be forwarded; see `dlite status`",
		       failed);
	if (w->dns)
		dl_watch_dns_apply(w->dns, &w->cfg, list);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct dl_watch *w = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	json_t *list = w->pending, *nets = w->pending_nets;
	bool fresh = w->active && w->pending_gen == w->generation;
	w->pending = w->pending_nets = NULL;
	pthread_mutex_unlock(&w->mu);
	if (list && fresh)
		apply(w, list);
	if (nets && fresh && w->subnets_cb)
		apply_networks(w, nets);
	json_decref(list);
	json_decref(nets);
}

static bool bridged(const struct dl_watch *w)
{
	return strcmp(w->cfg.network, "bridged") == 0;
}

struct dl_watch *dl_watch_new(struct event_base *base, const struct dl_config *cfg,
			      struct dl_err *e)
{
	struct dl_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return dl_fail(e, ENOMEM, "watch"), NULL;
	w->base = base;
	w->cfg = *cfg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (dl_pipe(w->wake, 1) < 0) {
		free(w);
		return dl_fail(e, errno, "pipe"), NULL;
	}
	w->ports = dl_ports_new(base, NULL); /* channel set by dl_watch_start() */
	if (w->ports)
		dl_ports_set_caps(w->ports, (unsigned)cfg->port_max_conns, (unsigned)cfg->port_max_udp);
	/* bridged: the responder's address lives on the bridge, which exists
	 * while the VM runs; dl_watch_start() opens it then */
	if (!bridged(w)) {
		w->dns = dl_watch_dns_new(base, cfg, e);
		if (!w->dns)
			dl_log(DL_LOG_WARN, "%s; container names will not resolve (set dns_port to a free port)", e->msg);
	}
	w->wake_ev = event_new(base, w->wake[0], EV_READ | EV_PERSIST, on_wake, w);
	event_add(w->wake_ev, NULL);
	if (pthread_create(&w->thread, NULL, watch_thread, w) == 0)
		w->thread_up = true;
	return w;
}

void dl_watch_start(struct dl_watch *w, const struct dl_chan_cfg *chan)
{
	w->chan = chan;
	dl_ports_set_chan(w->ports, chan);
	pthread_mutex_lock(&w->mu);
	w->active = true;
	w->generation++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (!w->dns) {
		struct dl_err e = { 0 };
		if (!(w->dns = dl_watch_dns_new(w->base, &w->cfg, &e)))
			dl_log(DL_LOG_WARN, "dns: %s; container names will not resolve", e.msg);
	}
	if (w->dns)
		dl_watch_dns_apply(w->dns, &w->cfg, NULL);
}

void dl_watch_set_subnets_cb(struct dl_watch *w, dl_watch_subnets_fn fn, void *arg)
{
	w->subnets_cb = fn;
	w->subnets_arg = arg;
}

unsigned dl_watch_dns_port(const struct dl_watch *w)
{
	return w->dns ? dl_dns_server_port(w->dns) : 0;
}

void dl_watch_stop(struct dl_watch *w)
{
	pthread_mutex_lock(&w->mu);
	w->active = false;
	w->generation++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	dl_ports_set(w->ports, NULL, 0);
	if (w->dns && bridged(w)) {
		dl_watch_dns_free(w->dns); /* its address goes away with the bridge */
		w->dns = NULL;
	} else if (w->dns) {
		dl_watch_dns_apply(w->dns, &w->cfg, NULL);
	}
}

json_t *dl_watch_ports_json(struct dl_watch *w)
{
	static struct dl_port_status st[MAX_MAPS];
	size_t n = dl_ports_status(w->ports, st, MAX_MAPS);
	json_t *a = json_array();

	for (size_t i = 0; i < n && i < MAX_MAPS; i++) {
		json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:s,s:i,s:s}", "proto",
				      st[i].map.proto == IPPROTO_UDP ? "udp" : "tcp", "host_ip",
				      st[i].map.host_ip[0] ? st[i].map.host_ip : "127.0.0.1,::1",
				      "host_port", st[i].map.host_port, "guest_port",
				      st[i].map.guest_port, "container", st[i].map.owner, "connections",
				      (int)st[i].conns, "target", st[i].target);
		if (!st[i].ok)
			json_object_set_new(o, "error", json_string(st[i].error));
		json_array_append_new(a, o);
	}
	return a;
}

void dl_watch_free(struct dl_watch *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->thread_up)
		pthread_join(w->thread, NULL);
	event_free(w->wake_ev);
	close(w->wake[0]);
	close(w->wake[1]);
	dl_ports_free(w->ports);
	if (w->dns)
		dl_watch_dns_free(w->dns);
	json_decref(w->pending);
	json_decref(w->pending_nets);
	free(w);
}
