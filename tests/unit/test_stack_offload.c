/* The stack's packet I/O with a link that offloads: partial TCP checksums
 * and TSO segments out (with their meta), GSO packets and checksums the
 * link vouches for (CSUM_OK) in, and the TSO size new connections get. A
 * capture link plays the device and records what the stack sends. */
#include <stdlib.h>
#include <string.h>

#include <tern/sim.h>
#include <tern/stack.h>
#include <tern/wire.h>

#include "link/offload.h"
#include "stack/stack.h"
#include "testutil.h"

#define US 0x0a000001u
#define PEER 0x0a000002u
#define T0 ((tern_time)10 * TERN_SEC)
#define CAP 70000

typedef struct rig {
	tern_link link;
	tern_stack *stack;
	int nout;
	uint8_t last[CAP];
	size_t last_len;
	bool has_meta;
	tern_frame_meta meta;
} rig;

static int cap_send(tern_link *l, const tern_iov *iov, int n,
		    const tern_frame_meta *meta, tern_time now)
{
	rig *r = (rig *)l;

	(void)now;
	r->last_len = 0;
	for (int i = 0; i < n; i++) {
		assert_true(r->last_len + iov[i].len <= CAP);
		memcpy(r->last + r->last_len, iov[i].base, iov[i].len);
		r->last_len += iov[i].len;
	}
	r->has_meta = meta != NULL;
	if (meta)
		r->meta = *meta;
	r->nout++;
	return 0;
}

static void cap_destroy(tern_link *l)
{
	(void)l;
}

static const tern_link_ops cap_ops = {.send = cap_send, .destroy = cap_destroy};

/* A stack on a link that takes TSO up to tso_max and partial checksums
 * (tx_csum), or neither. */
static rig *rig_new(uint32_t tso_max, bool tx_csum)
{
	rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->link.ops = &cap_ops;
	r->link.mtu = 1500;
	r->link.tso_max = tso_max;
	r->link.tx_csum = tx_csum;
	r->stack =
		tern_stack_new(&(tern_stack_config){.name = "t", .addr = US});
	assert_non_null(r->stack);
	tern_stack_attach(r->stack, &r->link);
	return r;
}

static void rig_free(rig *r)
{
	tern_stack_free(r->stack);
	free(r);
}

static uint64_t counter(rig *r, int c)
{
	return tern_stack_stats(r->stack)->counters[c];
}

static uint64_t drops(rig *r, int reason)
{
	return tern_stack_stats(r->stack)->drops[reason];
}

/* A segment from PEER:4000 to US:80 with payload bytes, its checksum
 * right unless bad. Returns the packet's length. */
static size_t segment(uint8_t *p, uint8_t flags, uint32_t seq, uint32_t ack,
		      size_t payload, bool bad)
{
	tern_tcp_hdr th = {.sport = 4000,
			   .dport = 80,
			   .seq = seq,
			   .ack = ack,
			   .flags = flags,
			   .win = 65535};
	tern_ipv4_hdr ih = {
		.ttl = 64, .proto = TERN_IPPROTO_TCP, .src = PEER, .dst = US};
	tern_csum c;
	size_t tl;

	if (flags & TERN_TCP_SYN) {
		th.opts.present = TERN_TCPOPT_MSS;
		th.opts.mss = 1000;
	}
	tl = tern_tcp_emit(p + 20, 60, &th);
	for (size_t i = 0; i < payload; i++)
		p[20 + tl + i] = (uint8_t)(i * 13 + 1);
	tern_ipv4_emit(p, 20, &ih, tl + payload);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, PEER, US, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + payload));
	tern_csum_add(&c, p + 20, tl + payload);
	tern_store16(p + 36, (uint16_t)(tern_csum_final(&c) ^ (bad ? 1 : 0)));
	return 20 + tl + payload;
}

/* ---- in: the checksum is skipped only when the link vouches ---- */

static void test_input_csum_ok_only(void **state)
{
	rig *r = rig_new(0, false);
	uint8_t p[100];
	size_t n = segment(p, TERN_TCP_SYN, 1000, 0, 0, true);
	tern_frame_meta none = {0};
	tern_frame_meta partial = {.flags = TERN_FRAME_CSUM_PARTIAL,
				   .csum_start = 20,
				   .csum_offset = 16};
	tern_frame_meta ok = {.flags = TERN_FRAME_CSUM_OK};

	(void)state;
	assert_non_null(tern_tcp_listen(r->stack, 80, 8, NULL, T0, NULL));
	tern_stack_input(r->stack, p, n, T0);
	tern_stack_input_meta(r->stack, p, n, NULL, T0);
	tern_stack_input_meta(r->stack, p, n, &none, T0);
	tern_stack_input_meta(r->stack, p, n, &partial, T0);
	assert_int_equal(drops(r, TERN_DROP_TCP_CHECKSUM), 4);
	assert_int_equal(r->nout, 0);
	/* Vouched for: taken, answered with SYN+ACK. */
	tern_stack_input_meta(r->stack, p, n, &ok, T0);
	assert_int_equal(drops(r, TERN_DROP_TCP_CHECKSUM), 4);
	assert_int_equal(counter(r, TERN_CTR_TCP_PASSIVE_OPENS), 1);
	assert_int_equal(r->nout, 1);
	rig_free(r);
}

/* A GRO packet longer than the MTU: taken whole, counted as the segments
 * it holds (TcpInSegs, as Linux counts it). */
static void test_input_gso_packet(void **state)
{
	rig *r = rig_new(0, false);
	static uint8_t p[CAP];
	char got[5000];
	tern_frame_meta gro = {.gso_size = 1000, .flags = TERN_FRAME_CSUM_OK};
	tern_tcp_hdr synack;
	tern_ipv4_hdr ih;
	tern_conn *l, *c;
	size_t n;

	(void)state;
	l = tern_tcp_listen(r->stack, 80, 8, NULL, T0, NULL);
	tern_stack_input(r->stack, p, segment(p, TERN_TCP_SYN, 1000, 0, 0, 0),
			 T0);
	assert_int_equal(tern_ipv4_parse(r->last, r->last_len, &ih), 0);
	assert_int_equal(tern_tcp_parse(ih.payload, ih.payload_len, ih.src,
					ih.dst, true, &synack),
			 0);
	tern_stack_input(r->stack, p,
			 segment(p, TERN_TCP_ACK, 1001, synack.seq + 1, 0, 0),
			 T0);
	c = tern_tcp_accept(l, NULL);
	assert_non_null(c);
	uint64_t segs = counter(r, TERN_CTR_TCP_IN_SEGS);
	n = segment(p, TERN_TCP_ACK | TERN_TCP_PSH, 1001, synack.seq + 1, 4000,
		    true);
	assert_true(n > r->link.mtu);
	tern_stack_input_meta(r->stack, p, n, &gro, T0 + 1);
	assert_int_equal(counter(r, TERN_CTR_TCP_IN_SEGS), segs + 4);
	assert_int_equal(tern_tcp_recv(c, got, sizeof(got), T0 + 1), 4000);
	assert_memory_equal(got, p + 40, 4000);
	rig_free(r);
}

/* ---- out: partial checksums and TSO segments ---- */

static void check_tcp(const uint8_t *f, size_t len, tern_tcp_hdr *th)
{
	tern_ipv4_hdr ih;

	assert_int_equal(tern_ipv4_parse(f, len, &ih), 0);
	assert_int_equal(tern_tcp_parse(ih.payload, ih.payload_len, ih.src,
					ih.dst, true, th),
			 0);
}

/* With tx_csum the field holds the pseudo-header sum; the device's sum
 * over the segment then gives the right checksum. Without, it is whole
 * and no meta goes with the frame. */
static void test_output_partial_checksum(void **state)
{
	tern_endpoint to = {PEER, 80};
	tern_tcp_hdr th;
	rig *r;

	(void)state;
	r = rig_new(0, true);
	assert_non_null(tern_tcp_connect(r->stack, &to, NULL, T0, NULL));
	assert_int_equal(r->nout, 1);
	assert_true(r->has_meta);
	assert_int_equal(r->meta.flags, TERN_FRAME_CSUM_PARTIAL);
	assert_int_equal(r->meta.csum_start, 20);
	assert_int_equal(r->meta.csum_offset, 16);
	assert_int_equal(r->meta.gso_size, 0);
	tern_ipv4_hdr ih;
	assert_int_equal(tern_ipv4_parse(r->last, r->last_len, &ih), 0);
	assert_int_equal(tern_tcp_parse(ih.payload, ih.payload_len, ih.src,
					ih.dst, true, &th),
			 TERN_DROP_TCP_CHECKSUM);
	tern_csum c;
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, US, PEER, TERN_IPPROTO_TCP,
			     (uint16_t)ih.payload_len);
	assert_int_equal(tern_load16(r->last + 36),
			 (uint16_t)~tern_csum_final(&c));
	assert_true(frame_csum_complete(r->last, r->last_len, &r->meta));
	check_tcp(r->last, r->last_len, &th);
	assert_true(th.flags & TERN_TCP_SYN);
	rig_free(r);

	r = rig_new(0, false);
	assert_non_null(tern_tcp_connect(r->stack, &to, NULL, T0, NULL));
	assert_false(r->has_meta);
	check_tcp(r->last, r->last_len, &th);
	rig_free(r);
}

/* A segment longer than the connection's MSS goes as one TSO packet with
 * gso_size = the MSS, counted in TcpOutSegs as the segments it becomes. */
static void test_output_tso_segment(void **state)
{
	static uint8_t data[3000];
	rig *r = rig_new(65535, true);
	tern_endpoint a = {US, 80}, b = {PEER, 4000};
	tcp_seg seg = {.seq = 1,
		       .ack = 1,
		       .flags = TERN_TCP_ACK,
		       .win = 1000,
		       .len = 3000,
		       .ndata = 2,
		       .data = {{data, 1001}, {data + 1001, 1999}}};
	tern_tcp_hdr th;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 5);
	stack_send_tcp(r->stack, &a, &b, &seg, 1000, T0);
	assert_true(r->has_meta);
	assert_int_equal(r->meta.gso_size, 1000);
	assert_int_equal(r->meta.flags, TERN_FRAME_CSUM_PARTIAL);
	assert_int_equal(r->last_len, 20 + 20 + 3000);
	assert_int_equal(counter(r, TERN_CTR_TCP_OUT_SEGS), 3);
	assert_true(frame_csum_complete(r->last, r->last_len, &r->meta));
	check_tcp(r->last, r->last_len, &th);
	assert_memory_equal(th.payload, data, 3000);
	/* One MSS, or no MSS known (a RST): no TSO. */
	seg.len = 1000;
	seg.ndata = 1;
	seg.data[0].len = 1000;
	stack_send_tcp(r->stack, &a, &b, &seg, 1000, T0);
	assert_int_equal(r->meta.gso_size, 0);
	seg.len = 3000;
	seg.ndata = 2;
	seg.data[0].len = 1001;
	stack_send_tcp(r->stack, &a, &b, &seg, 0, T0);
	assert_int_equal(r->meta.gso_size, 0);
	assert_int_equal(counter(r, TERN_CTR_TCP_OUT_SEGS), 5);
	rig_free(r);
}

/* tcp_tcb.tso_max of new connections: the link's largest TSO packet less
 * 20 bytes of IP and 60 of TCP header room; 0 without TSO. Passive
 * children too. */
static void test_conn_tso_max(void **state)
{
	tern_endpoint to = {PEER, 80};
	uint8_t p[100];
	tern_conn *c;
	rig *r;

	(void)state;
	r = rig_new(65535, true);
	c = tern_tcp_connect(r->stack, &to, NULL, T0, NULL);
	assert_int_equal(c->tcb.tso_max, 65535 - 80);
	assert_non_null(tern_tcp_listen(r->stack, 80, 8, NULL, T0, NULL));
	tern_stack_input(r->stack, p, segment(p, TERN_TCP_SYN, 7, 0, 0, 0), T0);
	assert_int_equal(counter(r, TERN_CTR_TCP_PASSIVE_OPENS), 1);
	for (c = r->stack->all; c; c = c->all_next)
		assert_int_equal(c->tcb.tso_max, 65535 - 80);
	rig_free(r);
	r = rig_new(0, true);
	c = tern_tcp_connect(r->stack, &to, NULL, T0, NULL);
	assert_int_equal(c->tcb.tso_max, 0);
	rig_free(r);
}

/* ---- two stacks on the simulator's offloading ports ---- */

struct pair {
	tern_sim *sim;
	tern_stack *a, *b;
};

static void pair_open(struct pair *p, bool offload, const tern_sim_path *ab)
{
	tern_link *pa, *pb;

	p->sim = tern_sim_new(9);
	pa = tern_sim_port(p->sim, US, 1500);
	pb = tern_sim_port(p->sim, PEER, 1500);
	assert_int_equal(tern_sim_port_set_offload(pa, offload), 0);
	assert_int_equal(tern_sim_port_set_offload(pb, offload), 0);
	assert_int_equal(tern_sim_join(p->sim, pa, pb, ab, NULL), 0);
	p->a = tern_stack_new(
		&(tern_stack_config){.name = "a", .addr = US, .secret = {1}});
	p->b = tern_stack_new(
		&(tern_stack_config){.name = "b", .addr = PEER, .secret = {2}});
	tern_sim_add_stack(p->sim, p->a, pa);
	tern_sim_add_stack(p->sim, p->b, pb);
}

static void pair_close(struct pair *p)
{
	tern_stack_free(p->a);
	tern_stack_free(p->b);
	tern_sim_free(p->sim);
}

/* a sends n bytes to b; returns how many b read, into got. */
static size_t transfer(struct pair *p, const uint8_t *data, size_t n,
		       uint8_t *got)
{
	tern_endpoint to = {PEER, 80};
	tern_conn *l = tern_tcp_listen(p->b, 80, 4, NULL, 0, NULL);
	tern_conn *c = tern_tcp_connect(p->a, &to, NULL, 0, NULL);
	tern_conn *s = NULL;
	size_t sent = 0, recvd = 0;

	assert_non_null(l);
	assert_non_null(c);
	for (int round = 0; round < 20000 && recvd < n; round++) {
		tern_time now = tern_sim_now(p->sim);
		ptrdiff_t r;
		if (sent < n &&
		    (r = tern_tcp_send(c, data + sent, n - sent, now)) > 0)
			sent += (size_t)r;
		if (!s)
			s = tern_tcp_accept(l, NULL);
		while (s &&
		       (r = tern_tcp_recv(s, got + recvd, n - recvd, now)) > 0)
			recvd += (size_t)r;
		tern_sim_run(p->sim, now + TERN_MSEC);
	}
	return recvd;
}

/* The partial checksums a sends arrive flagged CSUM_OK and b takes them
 * unverified: were they verified, every segment would be dropped. */
static void test_sim_offload_transfer(void **state)
{
	static uint8_t data[300000], got[300000];
	struct pair p;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 11 + i / 4099);
	pair_open(&p, true, NULL);
	assert_int_equal(transfer(&p, data, sizeof(data), got), sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(tern_stack_stats(p.b)->drops[TERN_DROP_TCP_CHECKSUM],
			 0);
	pair_close(&p);
}

/* Corruption on an offloading path is still caught: the frames it hits
 * (TSO segments whole, when the engine sends them) arrive with complete
 * checksums and without CSUM_OK, and the data arrives intact. */
static void test_sim_offload_corruption_caught(void **state)
{
	static uint8_t data[300000], got[300000];
	tern_sim_path bad = {.corrupt = 0.2};
	tern_sim_path_stats ps;
	struct pair p;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + 1);
	pair_open(&p, true, &bad);
	assert_int_equal(transfer(&p, data, sizeof(data), got), sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(tern_sim_path_stats_get(p.sim, 0, 0, &ps), 0);
	assert_true(ps.corrupted > 0);
	const tern_stats *st = tern_stack_stats(p.b);
	assert_true(st->drops[TERN_DROP_TCP_CHECKSUM] +
			    st->drops[TERN_DROP_IP_CHECKSUM] >
		    0);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input_csum_ok_only),
		cmocka_unit_test(test_input_gso_packet),
		cmocka_unit_test(test_output_partial_checksum),
		cmocka_unit_test(test_output_tso_segment),
		cmocka_unit_test(test_conn_tso_max),
		cmocka_unit_test(test_sim_offload_transfer),
		cmocka_unit_test(test_sim_offload_corruption_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
