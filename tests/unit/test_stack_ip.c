/* The IP layer of the stack: echo replies, fragments reassembled (and
 * overlapping or late ones dropped), ICMP errors applied to connections
 * as RFC 5927 says: validated by sequence number, fatal only to a
 * connection attempt, soft otherwise, and path MTU lowering the MSS. */
#include <stdlib.h>
#include <string.h>

#include <tern/stack.h>
#include <tern/wire.h>

#include "testutil.h"

#define US 0x0a000001u
#define PEER 0x0a000002u
#define T0 (10 * TERN_SEC)

typedef struct frame {
	uint8_t b[2048];
	size_t len;
} frame;

typedef struct rig {
	tern_link link;
	tern_stack *stack;
	frame out[64];
	int nout;
	tern_conn *conn;
} rig;

static int cap_send(tern_link *l, const tern_iov *iov, int n,
		    const tern_frame_meta *meta, tern_time now)
{
	(void)meta;
	rig *r = (rig *)l;
	frame *f = &r->out[r->nout++ % 64];
	(void)now;
	f->len = 0;
	for (int i = 0; i < n; i++) {
		memcpy(f->b + f->len, iov[i].base, iov[i].len);
		f->len += iov[i].len;
	}
	return 0;
}

static void cap_destroy(tern_link *l)
{
	(void)l;
}

static const tern_link_ops cap_ops = {.send = cap_send, .destroy = cap_destroy};

static int setup(void **state)
{
	rig *r = calloc(1, sizeof(*r));
	r->link.ops = &cap_ops;
	r->link.mtu = 1500;
	r->stack =
		tern_stack_new(&(tern_stack_config){.name = "t", .addr = US});
	tern_stack_attach(r->stack, &r->link);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	rig *r = *state;
	tern_stack_free(r->stack);
	free(r);
	return 0;
}

static uint64_t drops(rig *r, int reason)
{
	return tern_stack_stats(r->stack)->drops[reason];
}

/* An IPv4 packet from PEER to US: header (id, fragment fields) + body. */
static size_t ip_packet(uint8_t *buf, uint8_t proto, uint16_t id, bool mf,
			uint16_t off, const uint8_t *body, size_t len)
{
	tern_ipv4_hdr h = {
		.id = id, .ttl = 64, .proto = proto, .src = PEER, .dst = US};
	tern_ipv4_emit(buf, 20, &h, len);
	tern_store16(buf + 6, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
	tern_store16(buf + 10, 0);
	tern_store16(buf + 10, tern_inet_checksum(buf, 20));
	memcpy(buf + 20, body, len);
	return 20 + len;
}

/* A TCP segment (header with MSS option, payload) with its checksum. */
static size_t tcp_segment(uint8_t *buf, uint8_t flags, uint32_t seq,
			  uint32_t ack, size_t payload)
{
	tern_tcp_hdr th = {.sport = 4000,
			   .dport = 80,
			   .seq = seq,
			   .ack = ack,
			   .flags = flags,
			   .win = 8192};
	th.opts.present = TERN_TCPOPT_MSS;
	th.opts.mss = 1460;
	size_t hl = tern_tcp_emit(buf, 60, &th);
	for (size_t i = 0; i < payload; i++)
		buf[hl + i] = (uint8_t)i;
	tern_csum c;
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, PEER, US, TERN_IPPROTO_TCP,
			     (uint16_t)(hl + payload));
	tern_csum_add(&c, buf, hl + payload);
	tern_store16(buf + 16, tern_csum_final(&c));
	return hl + payload;
}

static void input(rig *r, const uint8_t *p, size_t n, tern_time now)
{
	tern_stack_input(r->stack, p, n, now);
}

/* ---- echo ---- */

static void test_echo_request_answered(void **state)
{
	rig *r = *state;
	uint8_t icmp[64] = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07}, pkt[128];

	memcpy(icmp + 8, "ping data", 9);
	tern_store16(icmp + 2, tern_inet_checksum(icmp, 17));
	input(r, pkt, ip_packet(pkt, 1, 99, false, 0, icmp, 17), T0);
	assert_int_equal(r->nout, 1);
	tern_ipv4_hdr h;
	assert_int_equal(tern_ipv4_parse(r->out[0].b, r->out[0].len, &h), 0);
	assert_int_equal(h.src, US);
	assert_int_equal(h.dst, PEER);
	assert_int_equal(h.proto, 1);
	assert_int_equal(h.payload_len, 17);
	assert_int_equal(h.payload[0], 0);		  /* echo reply */
	assert_memory_equal(h.payload + 4, icmp + 4, 13); /* id, seq, data */
	assert_int_equal(tern_inet_checksum(h.payload, 17), 0);
}

/* A 4000-byte echo request arrives in three fragments; the reply leaves
 * in fragments of the link's size (offsets in 8-byte units, MF on all but
 * the last, DF clear) that put together are the whole reply. */
static void test_big_echo_fragmented_both_ways(void **state)
{
	rig *r = *state;
	static uint8_t icmp[4008], pkt[1600], whole[4008];
	size_t len = sizeof(icmp), got = 0;

	icmp[0] = 8;
	tern_store16(icmp + 4, 0x4242);
	for (size_t i = 8; i < len; i++)
		icmp[i] = (uint8_t)i;
	tern_store16(icmp + 2, tern_inet_checksum(icmp, len));
	for (size_t off = 0; off < len; off += 1480) {
		size_t n = len - off < 1480 ? len - off : 1480;
		input(r, pkt,
		      ip_packet(pkt, 1, 5, off + n < len, (uint16_t)off,
				icmp + off, n),
		      T0);
	}
	assert_int_equal(r->nout, 3);
	for (int i = 0; i < r->nout; i++) {
		tern_ipv4_hdr h;
		assert_true(r->out[i].len <= 1500);
		assert_int_equal(
			tern_ipv4_parse(r->out[i].b, r->out[i].len, &h), 0);
		assert_false(h.df);
		assert_int_equal(h.mf, i < r->nout - 1);
		assert_int_equal(h.frag_off, got);
		assert_int_equal(h.frag_off % 8, 0);
		memcpy(whole + got, h.payload, h.payload_len);
		got += h.payload_len;
	}
	assert_int_equal(got, len);
	assert_int_equal(whole[0], 0); /* echo reply */
	assert_memory_equal(whole + 4, icmp + 4, len - 4);
	assert_int_equal(tern_inet_checksum(whole, len), 0);
}

/* ---- fragments ---- */

static tern_conn *listen80(rig *r)
{
	return tern_tcp_listen(r->stack, 80, 8, NULL, T0, NULL);
}

/* A SYN split in two fragments (RFC 791 3.2) is answered as if whole;
 * the second arriving first changes nothing. */
static void test_fragmented_syn_reassembled(void **state)
{
	rig *r = *state;
	uint8_t seg[64], a[128], b[128];
	size_t n = tcp_segment(seg, TERN_TCP_SYN, 1000, 0, 0); /* 24 bytes */

	listen80(r);
	size_t la = ip_packet(a, 6, 7, true, 0, seg, 16);
	size_t lb = ip_packet(b, 6, 7, false, 16, seg + 16, n - 16);
	input(r, b, lb, T0);
	assert_int_equal(r->nout, 0);
	input(r, a, la, T0);
	assert_int_equal(r->nout, 1);
	tern_ipv4_hdr h;
	tern_tcp_hdr th;
	assert_int_equal(tern_ipv4_parse(r->out[0].b, r->out[0].len, &h), 0);
	assert_int_equal(tern_tcp_parse(h.payload, h.payload_len, h.src, h.dst,
					true, &th),
			 0);
	assert_int_equal(th.flags, TERN_TCP_SYN | TERN_TCP_ACK);
	assert_int_equal(th.ack, 1001);
	assert_int_equal(
		tern_stack_stats(r->stack)->counters[TERN_CTR_IP_REASM_OKS], 1);
}

/* Overlapping fragments: the whole datagram goes (and nothing answers). */
static void test_overlapping_fragments_dropped(void **state)
{
	rig *r = *state;
	uint8_t seg[64], a[128], b[128], c[128];
	size_t n = tcp_segment(seg, TERN_TCP_SYN, 1000, 0, 0);

	listen80(r);
	input(r, a, ip_packet(a, 6, 8, true, 0, seg, 16), T0);
	input(r, b, ip_packet(b, 6, 8, true, 8, seg + 8, 8), T0);
	input(r, c, ip_packet(c, 6, 8, false, 16, seg + 16, n - 16), T0);
	assert_int_equal(r->nout, 0);
	assert_true(drops(r, TERN_DROP_IP_FRAG_OVERLAP) >= 1);
	assert_int_equal(tern_stack_conn_count(r->stack), 1); /* listener */
}

/* An incomplete datagram is dropped 30 s after its first fragment, as a
 * timeout: the stack's next deadline says when. */
static void test_fragment_timeout(void **state)
{
	rig *r = *state;
	uint8_t seg[64], a[128];

	tcp_segment(seg, TERN_TCP_SYN, 1000, 0, 0);
	input(r, a, ip_packet(a, 6, 9, true, 0, seg, 16), T0);
	assert_int_equal(tern_stack_next_deadline(r->stack),
			 T0 + 30 * TERN_SEC);
	tern_stack_run(r->stack, T0 + 30 * TERN_SEC);
	assert_int_equal(drops(r, TERN_DROP_IP_FRAG_TIMEOUT), 1);
	assert_int_equal(tern_stack_next_deadline(r->stack), TERN_TIME_NONE);
}

/* ---- ICMP errors ---- */

/* An ICMP error from PEER quoting the first 28 bytes of one of our
 * frames, its TCP sequence number changed by `seq_delta`. */
static void icmp_error(rig *r, uint8_t type, uint8_t code, uint16_t mtu,
		       const frame *quoted, uint32_t seq_delta, tern_time now)
{
	uint8_t icmp[64] = {type, code}, pkt[128];

	tern_store16(icmp + 6, mtu);
	memcpy(icmp + 8, quoted->b, 28);
	tern_store32(icmp + 8 + 24, tern_load32(quoted->b + 24) + seq_delta);
	tern_store16(icmp + 2, 0);
	tern_store16(icmp + 2, tern_inet_checksum(icmp, 36));
	input(r, pkt, ip_packet(pkt, 1, 77, false, 0, icmp, 36), now);
}

static tern_conn *connect80(rig *r)
{
	tern_endpoint to = {PEER, 80};
	r->conn = tern_tcp_connect(r->stack, &to, NULL, T0, NULL);
	assert_non_null(r->conn);
	assert_int_equal(r->nout, 1);
	return r->conn;
}

/* RFC 1122 4.2.3.9, Linux: a hard error ends a connection attempt; the
 * quote names our ISN. */
static void test_syn_sent_port_unreachable_refused(void **state)
{
	rig *r = *state;
	tern_conn *c = connect80(r);

	icmp_error(r, 3, 3, 0, &r->out[0], 0, T0 + TERN_MSEC);
	assert_int_equal(tern_tcp_state(c), TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(c), TERN_ERR_REFUSED);
}

/* RFC 5927 4.1: a quote outside SND.UNA .. SND.NXT is not ours: ignored. */
static void test_icmp_outside_window_ignored(void **state)
{
	rig *r = *state;
	tern_conn *c = connect80(r);

	icmp_error(r, 3, 3, 0, &r->out[0], 1000, T0 + TERN_MSEC);
	assert_int_equal(tern_tcp_state(c), TERN_TCP_SYN_SENT);
	assert_int_equal(drops(r, TERN_DROP_ICMP_INVALID), 1);
}

/* SYN+ACK from PEER answering our SYN (in out[0]). */
static void establish(rig *r)
{
	uint8_t seg[64], pkt[128];
	uint32_t iss = tern_load32(r->out[0].b + 24);
	size_t n =
		tcp_segment(seg, TERN_TCP_SYN | TERN_TCP_ACK, 5000, iss + 1, 0);
	tern_store16(seg, 80); /* from PEER:80 to our port */
	tern_store16(seg + 2, tern_load16(r->out[0].b + 20));
	tern_store16(seg + 16, 0);
	tern_csum c;
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, PEER, US, 6, (uint16_t)n);
	tern_csum_add(&c, seg, n);
	tern_store16(seg + 16, tern_csum_final(&c));
	input(r, pkt, ip_packet(pkt, 6, 1, false, 0, seg, n),
	      T0 + 10 * TERN_MSEC);
	assert_int_equal(tern_tcp_state(r->conn), TERN_TCP_ESTABLISHED);
}

/* RFC 5927 4.2: in a synchronized state an error is soft: nothing
 * happens, until the connection times out; then it says why. */
static void test_established_icmp_soft_then_reported(void **state)
{
	rig *r = *state;
	uint8_t data[100] = {0};

	connect80(r);
	establish(r);
	int before = r->nout;
	assert_int_equal(tern_tcp_send(r->conn, data, 100, T0 + TERN_SEC), 100);
	icmp_error(r, 3, 1, 0, &r->out[before], 0, T0 + TERN_SEC + TERN_MSEC);
	assert_int_equal(tern_tcp_state(r->conn), TERN_TCP_ESTABLISHED);
	assert_int_equal(tern_tcp_error(r->conn), 0);
	tern_time t;
	while (tern_tcp_state(r->conn) != TERN_TCP_CLOSED &&
	       (t = tern_stack_next_deadline(r->stack)) < T0 + 2000 * TERN_SEC)
		tern_stack_run(r->stack, t);
	assert_int_equal(tern_tcp_state(r->conn), TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(r->conn), TERN_ERR_HOSTUNREACH);
}

/* RFC 1191: "fragmentation needed" with a next-hop MTU of 1000: what is
 * in flight goes again in 960-byte segments. */
static void test_frag_needed_lowers_mss(void **state)
{
	rig *r = *state;
	static uint8_t data[3000];

	connect80(r);
	establish(r);
	int before = r->nout;
	assert_int_equal(tern_tcp_send(r->conn, data, 2920, T0 + TERN_SEC),
			 2920);
	assert_int_equal(r->nout, before + 2); /* two full 1460-byte ones */
	icmp_error(r, 3, 4, 1000, &r->out[before], 0,
		   T0 + TERN_SEC + TERN_MSEC);
	tern_tcp_info i;
	tern_tcp_info_get(r->conn, &i);
	assert_int_equal(i.mss, 960);
	assert_true(r->nout > before + 2);
	tern_ipv4_hdr h;
	assert_int_equal(tern_ipv4_parse(r->out[before + 2].b,
					 r->out[before + 2].len, &h),
			 0);
	assert_int_equal(h.payload_len, 20 + 960);
	/* and a forged tiny MTU is floored at 552 (Linux's min_pmtu) */
	icmp_error(r, 3, 4, 68, &r->out[before], 0,
		   T0 + TERN_SEC + 2 * TERN_MSEC);
	tern_tcp_info_get(r->conn, &i);
	assert_int_equal(i.mss, 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_request_answered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_big_echo_fragmented_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmented_syn_reassembled,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_overlapping_fragments_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_syn_sent_port_unreachable_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_icmp_outside_window_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_established_icmp_soft_then_reported, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_frag_needed_lowers_mss,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
