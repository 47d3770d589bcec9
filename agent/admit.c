/*
 * Channel admission: who may connect, and how many connections that have
 * not sent their header yet each source may hold.
 *
 * As PID 1 only the host may use the channel: the TCP listener is bound to
 * the NIC (SO_BINDTODEVICE, so a container's connection to 10.0.2.15, which
 * arrives on docker0 or lo, finds no listener and gets a reset) and a peer
 * other than dlite.gw (QEMU user networking's 10.0.2.2, or the bridge's
 * host address) is closed at once; over vsock only the host's CID 2.
 *
 * Silent connections must not lock the host out.  The host's own
 * connections send their header at once, so a full budget evicts the
 * *oldest* waiting connection of that source (or, the whole table being
 * full, the oldest of all) instead of refusing the newcomer: a header that
 * arrives within a few milliseconds always gets through, however many
 * silent connections keep coming.  Connections past their header (the
 * daemon's pre-opened pool) are outside the budget.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static struct in_addr host_addr;
static bool host_only; /* PID 1: peers other than the host are refused */
static struct admit_node *oldest, *newest;
static unsigned npending;

void admit_host_only(const char *gw)
{
	host_only = true;
	if (!gw || inet_pton(AF_INET, gw, &host_addr) != 1)
		host_addr.s_addr = htonl(INADDR_ANY); /* no TCP peer matches */
}

bool admit_peer(const struct sockaddr_storage *ss, uint64_t *src)
{
	switch (ss->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		*src = (uint64_t)1 << 32 | ntohl(in->sin_addr.s_addr);
		return !host_only || in->sin_addr.s_addr == host_addr.s_addr;
	}
	case AF_VSOCK: {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)ss;
		*src = (uint64_t)2 << 32 | vm->svm_cid;
		return !host_only || vm->svm_cid == VMADDR_CID_HOST;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		uint64_t h = 1469598103934665603ull; /* FNV-1a of the address */
		for (int i = 0; i < 16; i++)
			h = (h ^ in6->sin6_addr.s6_addr[i]) * 1099511628211ull;
		*src = h | (uint64_t)1 << 63;
		return !host_only;
	}
	default:
		*src = 0;
		return !host_only;
	}
}

static void unlink_node(struct admit_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		oldest = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		newest = n->prev;
	n->prev = n->next = NULL;
	n->linked = false;
	npending--;
}

struct admit_node *admit_add(struct admit_node *n)
{
	struct admit_node *victim = NULL, *first_same = NULL;
	unsigned same = 0;

	for (struct admit_node *p = oldest; p; p = p->next) {
		if (p->src == n->src && same++ == 0)
			first_same = p;
	}
	if (same >= ADMIT_PER_SOURCE)
		victim = first_same;
	else if (npending >= ADMIT_MAX_PENDING)
		victim = oldest;
	n->prev = newest;
	n->next = NULL;
	if (newest)
		newest->next = n;
	else
		oldest = n;
	newest = n;
	n->linked = true;
	npending++;
	return victim;
}

void admit_done(struct admit_node *n)
{
	if (n->linked)
		unlink_node(n);
}
