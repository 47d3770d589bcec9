/* config.json: the user's settings, validated on every load. */
#ifndef DLITE_CONFIG_H
#define DLITE_CONFIG_H

#include "err.h"

#define DL_HOSTNAME_MAX 253

struct dl_config {
	int cpus;
	int memory_gib;
	int disk_gib;
	char hostname[DL_HOSTNAME_MAX + 1];
	char share[1024];	/* "" = no share */
	char ssh_key[1024];	/* path of the public key installed in the VM */
	char socket[1024];	/* docker.sock path */
	char engine[16];	/* qemu | hyperkit | vfkit */
	char accel[8];		/* auto | kvm | hvf | tcg */
	char network[16];	/* user | bridged */
	char bridge_addr[64];	/* bridged: the VM's address/prefix, e.g. 192.168.127.2/24 */
	char bridge_host[64];	/* bridged: the host side address on the bridge */
	int dns_port;		/* DNS responder port on the host's loopback (user) or bridge */
	char virtiofsd[1024];	/* qemu share: "" = look for it, "none" = 9p, or its path */
	int port_max_conns;	/* TCP relays per published port (oldest idle closed beyond) */
	int port_max_udp;	/* UDP client addresses per published port (idem) */
	char dns_domain[DL_HOSTNAME_MAX + 1]; /* zone answered for containers: "docker" */
	char file_events[4];	/* on | off: host edits of the share fire inotify events in the VM */
};

void dl_config_defaults(struct dl_config *c, const char *home, const char *dlite_home);
/* Range and syntax checks; the message names the key and what to do. */
int dl_config_validate(const struct dl_config *c, struct dl_err *e);
/* Parse JSON text (unknown keys are an error, missing keys take defaults). */
int dl_config_parse(const char *text, size_t len, const char *home, const char *dlite_home,
		    struct dl_config *c, struct dl_err *e);
/* Serialise (pretty, sorted keys, final newline); caller frees. */
char *dl_config_dump(const struct dl_config *c);
/* config get/set by key name, value as text. */
int dl_config_get(const struct dl_config *c, const char *key, char *out, size_t n,
		  struct dl_err *e);
int dl_config_set(struct dl_config *c, const char *key, const char *value, struct dl_err *e);
/* NULL-terminated list of key names. */
extern const char *const dl_config_keys[];

#endif
