/*
 * The agent's channel admission (agent/admit.c, compiled in here): who may
 * connect as PID 1, and which silent connection a full budget evicts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../agent/admit.c"

static struct sockaddr_storage in4(const char *a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	in->sin_port = htons(40000);
	inet_pton(AF_INET, a, &in->sin_addr);
	return ss;
}

static struct sockaddr_storage vsock(unsigned cid)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_vm *vm = (struct sockaddr_vm *)&ss;
	vm->svm_family = AF_VSOCK;
	vm->svm_cid = cid;
	return ss;
}

static void peers(void **state)
{
	struct sockaddr_storage ss;
	uint64_t a, b;

	/* host mode (tests, bench): anyone */
	ss = in4("172.17.0.2");
	assert_true(admit_peer(&ss, &a));
	/* PID 1: the gateway (QEMU's hostfwd, the bridge's host) only */
	admit_host_only("10.0.2.2");
	ss = in4("10.0.2.2");
	assert_true(admit_peer(&ss, &a));
	ss = in4("172.17.0.2"); /* a container */
	assert_false(admit_peer(&ss, &b));
	ss = in4("10.0.2.15"); /* a host-network container, over lo */
	assert_false(admit_peer(&ss, &b));
	ss = in4("127.0.0.1");
	assert_false(admit_peer(&ss, &b));
	assert_true(a != b);
	ss = vsock(2);
	assert_true(admit_peer(&ss, &a));
	ss = vsock(3); /* the guest itself (vsock loopback) */
	assert_false(admit_peer(&ss, &b));
	assert_true(a != b);
	/* no gw on the command line: no TCP peer at all */
	admit_host_only(NULL);
	ss = in4("10.0.2.2");
	assert_false(admit_peer(&ss, &a));
	host_only = false;
}

static void budget_evicts_oldest(void **state)
{
	static struct admit_node n[ADMIT_MAX_PENDING + 10];
	struct admit_node *v;

	/* one source: its oldest goes once it has ADMIT_PER_SOURCE waiting */
	for (int i = 0; i < ADMIT_PER_SOURCE; i++) {
		n[i].src = 7;
		assert_null(admit_add(&n[i]));
	}
	n[ADMIT_PER_SOURCE].src = 7;
	v = admit_add(&n[ADMIT_PER_SOURCE]);
	assert_ptr_equal(v, &n[0]);
	admit_done(v);
	/* a header that arrived leaves the budget; done twice is harmless */
	admit_done(&n[5]);
	admit_done(&n[5]);
	n[ADMIT_PER_SOURCE + 1].src = 7;
	assert_null(admit_add(&n[ADMIT_PER_SOURCE + 1]));
	n[ADMIT_PER_SOURCE + 2].src = 7;
	assert_ptr_equal(admit_add(&n[ADMIT_PER_SOURCE + 2]), &n[1]);
	admit_done(&n[1]);
	/* other sources fill the table: then the oldest of all goes */
	int k = ADMIT_PER_SOURCE + 3;
	while (npending < ADMIT_MAX_PENDING) {
		n[k].src = 100 + (uint64_t)k % 3;
		assert_null(admit_add(&n[k]));
		k++;
	}
	n[k].src = 9;
	assert_ptr_equal(admit_add(&n[k]), &n[2]);
	admit_done(&n[2]);
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		admit_done(&n[i]);
	assert_int_equal(npending, 0);
	assert_null(oldest);
	assert_null(newest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peers),
		cmocka_unit_test(budget_evicts_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
