/* The stack's input path: every malformed packet is counted under its own
 * reason in tern_stack_stats(), reported to the trace hooks, and changes
 * nothing else; random and mutated packets never crash it. */
#include <string.h>

#include <tern/stack.h>
#include <tern/wire.h>

#include "testutil.h"

#define US 0x0a000001u
#define PEER 0x0a000002u

typedef struct rig {
	tern_stack *stack;
	int last_drop;
	int drops_traced;
} rig;

static void hook(void *ctx, const tern_trace_event *ev)
{
	rig *r = ctx;
	if (ev->kind == TERN_TRACE_DROP) {
		r->last_drop = ev->drop.reason;
		r->drops_traced++;
	}
}

static int setup(void **state)
{
	static rig r;
	memset(&r, 0, sizeof(r));
	r.stack = tern_stack_new(&(tern_stack_config){.name = "t", .addr = US});
	tern_stack_add_trace(r.stack, hook, &r);
	*state = &r;
	return 0;
}

static int teardown(void **state)
{
	rig *r = *state;
	tern_stack_free(r->stack);
	return 0;
}

/* Recomputes the TCP checksum of a packet built by make_syn (or changed since). */
static void fix_tcp_csum(uint8_t *buf, size_t len)
{
	tern_csum c;
	tern_store16(buf + 36, 0);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, tern_load32(buf + 12), tern_load32(buf + 16),
			     TERN_IPPROTO_TCP, (uint16_t)(len - 20));
	tern_csum_add(&c, buf + 20, len - 20);
	tern_store16(buf + 36, tern_csum_final(&c));
}

/* A valid SYN from PEER:1234 to US:80 with an MSS option: 20 + 24 bytes.
 * Returns the length. */
static size_t make_syn(uint8_t *buf)
{
	tern_tcp_hdr th = {.sport = 1234,
			   .dport = 80,
			   .seq = 1000,
			   .flags = TERN_TCP_SYN,
			   .win = 8192};
	th.opts.present = TERN_TCPOPT_MSS;
	th.opts.mss = 1460;
	tern_ipv4_hdr ih = {
		.ttl = 64, .proto = TERN_IPPROTO_TCP, .src = PEER, .dst = US};
	size_t tl = tern_tcp_emit(buf + 20, 40, &th);
	tern_ipv4_emit(buf, 20, &ih, tl);
	fix_tcp_csum(buf, 20 + tl);
	return 20 + tl;
}

static void fix_ip_csum(uint8_t *buf)
{
	size_t ihl = (size_t)(buf[0] & 15) * 4;
	tern_store16(buf + 10, 0);
	tern_store16(buf + 10, tern_inet_checksum(buf, ihl));
}

/* Feeds one packet; asserts exactly one drop, of `reason`, counted and
 * traced, and no connection or counter of a delivered segment. */
static void expect_drop(rig *r, const uint8_t *pkt, size_t len, int reason)
{
	const tern_stats *st = tern_stack_stats(r->stack);
	uint64_t before = st->drops[reason];
	uint64_t segs = st->counters[TERN_CTR_TCP_IN_SEGS];
	int traced = r->drops_traced;

	tern_stack_input(r->stack, pkt, len, 0);
	if (st->drops[reason] != before + 1)
		fail_msg("expected drop reason %s, last was %s",
			 tern_drop_reason_name(reason),
			 tern_drop_reason_name(r->last_drop));
	assert_int_equal(r->drops_traced, traced + 1);
	assert_int_equal(r->last_drop, reason);
	if (reason != TERN_DROP_TCP_NO_SOCKET)
		assert_int_equal(st->counters[TERN_CTR_TCP_IN_SEGS], segs);
	assert_int_equal(tern_stack_conn_count(r->stack), 0);
}

static void test_ip_reasons(void **state)
{
	rig *r = *state;
	uint8_t p[128];
	size_t n;

	n = make_syn(p);
	expect_drop(r, p, 10, TERN_DROP_IP_TRUNCATED);
	p[0] = 0x65; /* version 6 */
	expect_drop(r, p, n, TERN_DROP_IP_VERSION);
	n = make_syn(p);
	p[0] = 0x44; /* IHL 4 */
	expect_drop(r, p, n, TERN_DROP_IP_IHL);
	p[0] = 0x4f; /* IHL 15: 60 bytes of header in a 44-byte packet */
	expect_drop(r, p, n, TERN_DROP_IP_HDR_TRUNCATED);
	n = make_syn(p);
	expect_drop(r, p, n - 1, TERN_DROP_IP_TOTAL_LEN);
	p[8] ^= 1; /* TTL changed, checksum not */
	expect_drop(r, p, n, TERN_DROP_IP_CHECKSUM);
}

static void test_ip_layer_reasons(void **state)
{
	rig *r = *state;
	uint8_t p[128];
	size_t n = make_syn(p);

	tern_store32(p + 16, 0x0a000009); /* not our address */
	fix_ip_csum(p);
	expect_drop(r, p, n, TERN_DROP_IP_NOT_LOCAL);
	n = make_syn(p);
	tern_store32(p + 12, 0xe0000001); /* multicast source */
	fix_ip_csum(p);
	expect_drop(r, p, n, TERN_DROP_IP_BAD_SRC);
	n = make_syn(p);
	p[9] = 17; /* UDP */
	fix_ip_csum(p);
	expect_drop(r, p, n, TERN_DROP_IP_PROTO);
}

/* Shortens the IP packet to len bytes of TCP, fixing both checksums. */
static size_t cut_tcp(uint8_t *p, size_t tcp_len)
{
	tern_store16(p + 2, (uint16_t)(20 + tcp_len));
	fix_ip_csum(p);
	return 20 + tcp_len;
}

static void test_tcp_reasons(void **state)
{
	rig *r = *state;
	uint8_t p[128];
	size_t n;

	n = cut_tcp((make_syn(p), p), 12);
	expect_drop(r, p, n, TERN_DROP_TCP_TRUNCATED);
	n = make_syn(p);
	p[32] = 0x40; /* data offset 4 */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_DOFF_SHORT);
	p[32] = 0xf0; /* data offset 15: 60 bytes in a 24-byte segment */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_DOFF_LONG);
	n = make_syn(p);
	p[41] = 0; /* MSS option length 0 */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_OPT_LEN);
	p[41] = 1;
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_OPT_LEN);
	p[41] = 9; /* past the header */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_OPT_OVERFLOW);
	p[41] = 3; /* MSS is 4 bytes */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_OPT_MALFORMED);
	n = make_syn(p);
	p[36] ^= 0x55;
	expect_drop(r, p, n, TERN_DROP_TCP_CHECKSUM);
	n = make_syn(p);
	tern_store16(p + 20, 0); /* source port 0 */
	fix_tcp_csum(p, n);
	expect_drop(r, p, n, TERN_DROP_TCP_PORT_ZERO);
}

/* A SYN to a closed port is a drop too, answered with a RST. */
static void test_no_socket(void **state)
{
	rig *r = *state;
	uint8_t p[128];
	size_t n = make_syn(p);
	const tern_stats *st = tern_stack_stats(r->stack);

	expect_drop(r, p, n, TERN_DROP_TCP_NO_SOCKET);
	assert_int_equal(st->counters[TERN_CTR_TCP_OUT_RSTS], 1);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random bytes, and valid packets with random bytes changed (checksums
 * then fixed, so the mutations reach the TCP rules), against a stack
 * with a listener: nothing crashes (ASan watches), every packet ends up
 * delivered or counted. */
static void test_garbage_never_crashes(void **state)
{
	rig *r = *state;
	uint8_t p[256];
	const tern_stats *st = tern_stack_stats(r->stack);

	tern_tcp_listen(r->stack, 80, 8, NULL, 0, NULL);
	for (int i = 0; i < 200000; i++) {
		size_t n;
		if (i % 2) {
			n = xorshift() % sizeof(p);
			for (size_t j = 0; j < n; j++)
				p[j] = (uint8_t)xorshift();
		} else {
			n = make_syn(p);
			int k = 1 + (int)(xorshift() % 4);
			while (k--)
				p[xorshift() % n] = (uint8_t)xorshift();
			if (xorshift() % 2) {
				fix_ip_csum(p);
				fix_tcp_csum(p, n);
			}
		}
		tern_stack_input(r->stack, p, n, (tern_time)i * TERN_MSEC);
		tern_stack_run(r->stack, (tern_time)i * TERN_MSEC);
	}
	uint64_t dropped = 0;
	for (int i = 1; i < TERN_DROP_COUNT; i++)
		dropped += st->drops[i];
	assert_true(dropped > 100000);
	assert_int_equal(st->counters[TERN_CTR_IP_IN_RECEIVES], 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ip_reasons, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ip_layer_reasons, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_reasons, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_never_crashes,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
