/* A bench for TCP engine tests, in smoltcp's manner: build a connection
 * already in a given state, send it one crafted segment, expect exact
 * segments back, with explicit time.
 *
 * One stack (10.0.0.1) sits on a capture link that parses and keeps every
 * frame it sends; the test plays the peer (10.0.0.2), crafting segments
 * with correct checksums. Sequence numbers are relative: the stack's
 * segments are checked against its ISS (learnt from its SYN or SYN+ACK),
 * the peer's are written relative to the peer's ISN, which is chosen close
 * to 2^32 so that most tests cross the sequence wrap. Payload bytes follow
 * a pattern by stream offset, in both directions, so every check of a
 * segment or a read also checks the bytes.
 *
 * Header-only (static inline functions) so that it needs no build change:
 * include it from a tests/unit/test_tcp_*.c file and register tests with
 * H_TEST(fn), which gives each test a fresh bench in *state.
 */
#ifndef TERN_TCP_HARNESS_H
#define TERN_TCP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "testutil.h"
#include <tern/stack.h>
#include <tern/wire.h>

#define H_ADDR 0x0a000001u	/* the stack under test */
#define H_PEER_ADDR 0x0a000002u /* the scripted peer */
#define H_SERVER_PORT 80
#define H_CLIENT_PORT 50000    /* ours, when we connect */
#define H_PEER_PORT 40000      /* the peer's, when it connects */
#define H_PEER_ISN 0xfffffc00u /* the peer's data wraps after 1 KB */

/* Every test starts at 10 s (time 0 means "unset" in places). */
#define H_T0 (10 * TERN_SEC)
/* A time in milliseconds after H_T0, and a duration. */
#define AT(ms) (H_T0 + TERN_MSEC * (ms))
#define MS(ms) (TERN_MSEC * (ms))
#define US(us) (TERN_USEC * (us))

#define H_SEG_MAX 512
#define H_DATA_MAX 1500
#define H_TRANS_MAX 256

/* One segment the stack sent, as parsed from its frame. */
typedef struct h_seg {
	tern_time t;
	uint16_t sport, dport;
	uint32_t seq, ack; /* absolute */
	uint8_t flags;
	uint16_t win;
	uint16_t mss;	    /* MSS option, 0 if absent */
	tern_tcp_opts opts; /* every option, as parsed */
	uint32_t len;
	uint8_t data[H_DATA_MAX];
} h_seg;

/* A segment from the peer, absolute numbers; mss 0 means no option. */
typedef struct h_pkt {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;
	tern_tcp_opts opts; /* further options (mss above adds MSS) */
	const uint8_t *data;
	size_t len;
} h_pkt;

typedef struct h_trans {
	uint64_t conn_id;
	int from, to;
	tern_time t;
} h_trans;

typedef struct harness {
	tern_link link; /* first: the send op casts back */
	tern_stack *stack;
	tern_settings cfg;
	size_t mem0; /* the stack's memory with no connection */

	/* The connection under test, its listener, and its two ends. */
	tern_conn *conn, *listener;
	uint64_t conn_id;
	tern_endpoint local, remote;
	uint32_t iss, irs;
	unsigned events, lev; /* events seen on conn and listener */

	/* How the peer behaves in the helpers below. */
	uint16_t peer_win; /* window of every crafted segment */
	uint16_t peer_mss; /* MSS option on crafted SYNs, 0 for none */
	/* Options of crafted segments: a SYN carries all of these, other
	 * segments the timestamps and SACK blocks only (RFC 7323, 2018). */
	tern_tcp_opts peer_opts;
	tern_time rtt; /* handshake round trip of the helpers */
	int backlog;
	tern_conn_opts opts; /* for connect and listen */

	/* Bytes the application wrote and read, for the payload pattern. */
	uint32_t tx_off, rx_off;

	h_seg *segs;
	int nseg, next;
	int advised; /* tern_link_advise calls (tcp_retries1) */
	h_trans trans[H_TRANS_MAX];
	int ntrans, illegal;
	uint8_t frame[TERN_FRAME_MAX]; /* a frame the stack sent */
	uint8_t payload[9000];	       /* what the peer sends */
} harness;

/* ---- payload patterns ---- */

static inline uint8_t h_peer_byte(uint32_t off)
{
	return (uint8_t)(off * 7u + off / 251u + 3u);
}

static inline uint8_t h_our_byte(uint32_t off)
{
	return (uint8_t)(off * 13u + off / 253u + 5u);
}

/* ---- the capture link ---- */

/* Parses a frame the stack sent (checksums verified) and keeps it. */
static inline int h_link_send(tern_link *link, const tern_iov *iov, int iovcnt,
			      const tern_frame_meta *meta, tern_time now)
{
	harness *h = (harness *)link;
	size_t len = 0;
	tern_ipv4_hdr ip;
	tern_tcp_hdr th;
	(void)meta;

	for (int i = 0; i < iovcnt; i++) {
		assert_true(len + iov[i].len <= sizeof(h->frame));
		memcpy(h->frame + len, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	assert_int_equal(tern_ipv4_parse(h->frame, len, &ip), 0);
	assert_int_equal(ip.proto, TERN_IPPROTO_TCP);
	assert_int_equal(ip.src, H_ADDR);
	assert_int_equal(ip.dst, H_PEER_ADDR);
	assert_int_equal(tern_tcp_parse(ip.payload, ip.payload_len, ip.src,
					ip.dst, true, &th),
			 0);
	assert_true(h->nseg < H_SEG_MAX);
	assert_true(th.payload_len <= H_DATA_MAX);
	h_seg *s = &h->segs[h->nseg++];
	s->t = now;
	s->sport = th.sport;
	s->dport = th.dport;
	s->seq = th.seq;
	s->ack = th.ack;
	s->flags = th.flags;
	s->win = th.win;
	s->mss = (th.opts.present & TERN_TCPOPT_MSS) ? th.opts.mss : 0;
	s->opts = th.opts;
	s->len = (uint32_t)th.payload_len;
	memcpy(s->data, th.payload, th.payload_len);
	return 0;
}

static inline void h_link_destroy(tern_link *link)
{
	(void)link;
}

static inline void h_link_advise(tern_link *link, uint32_t dst, tern_time now)
{
	(void)now;
	assert_int_equal(dst, H_PEER_ADDR);
	((harness *)link)->advised++;
}

static const tern_link_ops h_link_ops = {
	.send = h_link_send,
	.destroy = h_link_destroy,
	.advise = h_link_advise,
};

/* Every state change of every connection; each must be a legal edge. */
static inline void h_trace(void *ctx, const tern_trace_event *ev)
{
	harness *h = ctx;

	if (ev->kind != TERN_TRACE_STATE)
		return;
	if (!tcp_edge_legal(ev->state.from, ev->state.to)) {
		print_error("illegal edge %s -> %s\n",
			    tern_tcp_state_name(ev->state.from),
			    tern_tcp_state_name(ev->state.to));
		h->illegal++;
	}
	if (h->ntrans < H_TRANS_MAX)
		h->trans[h->ntrans++] = (h_trans){
			ev->state.conn_id, ev->state.from, ev->state.to, ev->t};
}

static inline void h_on_event(tern_conn *c, unsigned ev, void *user,
			      tern_time now)
{
	harness *h = user;

	(void)now;
	if (c == h->listener)
		h->lev |= ev;
	else
		h->events |= ev;
}

/* ---- set-up ---- */

static inline void h_start_stack(harness *h)
{
	tern_stack_config cfg = {
		.name = "test",
		.addr = H_ADDR,
		.settings = &h->cfg,
		.secret = {0x1234, 0x5678},
	};

	h->stack = tern_stack_new(&cfg);
	assert_non_null(h->stack);
	tern_stack_attach(h->stack, &h->link);
	assert_int_equal(tern_stack_add_trace(h->stack, h_trace, h), 0);
	h->mem0 = tern_stack_mem_in_use(h->stack);
}

static inline int h_setup(void **state)
{
	harness *h = calloc(1, sizeof(*h));

	if (!h)
		return -1;
	h->segs = calloc(H_SEG_MAX, sizeof(h_seg));
	if (!h->segs) {
		free(h);
		return -1;
	}
	h->link.ops = &h_link_ops;
	h->link.mtu = 1500;
	h->link.name = "capture";
	tern_settings_default(&h->cfg);
	h->peer_win = 65535;
	h->peer_mss = 1460;
	h->rtt = MS(100);
	h->backlog = 16;
	h->opts.on_event = h_on_event;
	h->opts.user = h;
	h->irs = H_PEER_ISN;
	h_start_stack(h);
	*state = h;
	return 0;
}

static inline int h_teardown(void **state)
{
	harness *h = *state;
	int illegal = h->illegal;

	tern_stack_free(h->stack);
	free(h->segs);
	free(h);
	return illegal ? -1 : 0;
}

/* A new stack with settings changed by the test (before any
 * connection exists). */
static inline void h_restart(harness *h)
{
	tern_stack_free(h->stack);
	h_start_stack(h);
}

/* A new stack with RFC 5681's congestion control ("reno") for tests
 * whose numbers follow from it (the default is CUBIC). */
static inline void h_use_reno(harness *h)
{
	snprintf(h->cfg.tcp_congestion_control,
		 sizeof(h->cfg.tcp_congestion_control), "reno");
	h_restart(h);
}

#define H_TEST(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

/* ---- the peer ---- */

/* Sends a crafted segment (absolute numbers) to the stack at now. */
static inline void h_inject(harness *h, const h_pkt *p, tern_time now)
{
	uint8_t pkt[TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MAX + 9000];
	tern_tcp_hdr th = {
		.sport = p->sport,
		.dport = p->dport,
		.seq = p->seq,
		.ack = p->ack,
		.flags = p->flags,
		.win = p->win,
	};
	tern_ipv4_hdr ip = {
		.ttl = 64,
		.proto = TERN_IPPROTO_TCP,
		.src = H_PEER_ADDR,
		.dst = H_ADDR,
	};
	tern_csum cs;

	th.opts = p->opts;
	if (p->mss) {
		th.opts.present |= TERN_TCPOPT_MSS;
		th.opts.mss = p->mss;
	}
	uint8_t *tcp = pkt + TERN_IPV4_HDR_MIN;
	size_t tl = tern_tcp_emit(tcp, TERN_TCP_HDR_MAX, &th);
	assert_true(tl > 0 && p->len <= 9000);
	if (p->len)
		memcpy(tcp + tl, p->data, p->len);
	tern_csum_init(&cs);
	tern_csum_add_pseudo(&cs, H_PEER_ADDR, H_ADDR, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + p->len));
	tern_csum_add(&cs, tcp, tl + p->len);
	tern_store16(tcp + 16, tern_csum_final(&cs));
	tern_ipv4_emit(pkt, TERN_IPV4_HDR_MIN, &ip, tl + p->len);
	tern_stack_input(h->stack, pkt, TERN_IPV4_HDR_MIN + tl + p->len, now);
}

/* A segment from the peer of the connection under test: seq relative to
 * the peer's ISN, ack relative to our ISS (ignored without ACK), len
 * bytes of the peer's pattern, the MSS option on a SYN. */
static inline void h_in_win(harness *h, uint8_t flags, uint32_t seq,
			    uint32_t ack, uint16_t win, uint32_t len,
			    tern_time now)
{
	uint32_t off = seq + ((flags & TERN_TCP_SYN) ? 1 : 0) - 1;
	h_pkt p = {
		.sport = h->remote.port,
		.dport = h->local.port,
		.seq = h->irs + seq,
		.ack = (flags & TERN_TCP_ACK) ? h->iss + ack : 0,
		.flags = flags,
		.win = win,
		.mss = (flags & TERN_TCP_SYN) ? h->peer_mss : 0,
		.opts = h->peer_opts,
		.data = h->payload,
		.len = len,
	};

	if (!(flags & TERN_TCP_SYN))
		p.opts.present &= TERN_TCPOPT_TIMESTAMP | TERN_TCPOPT_SACK;

	assert_true(len <= sizeof(h->payload));
	for (uint32_t i = 0; i < len; i++)
		h->payload[i] = h_peer_byte(off + i);
	h_inject(h, &p, now);
}

static inline void h_in(harness *h, uint8_t flags, uint32_t seq, uint32_t ack,
			uint32_t len, tern_time now)
{
	h_in_win(h, flags, seq, ack, h->peer_win, len, now);
}

/* ---- what the stack sent ---- */

static inline const char *h_flags(uint8_t flags)
{
	static char buf[64];

	return tern_tcp_flags_format(flags, buf, sizeof(buf));
}

/* The next captured segment, or NULL. */
static inline const h_seg *h_next(harness *h)
{
	if (h->next == h->nseg) {
		h->next = h->nseg = 0;
		return NULL;
	}
	return &h->segs[h->next++];
}

static inline double h_ms(tern_time t)
{
	return t == TERN_TIME_NONE ? -1.0
				   : (double)(t - H_T0) / (double)TERN_MSEC;
}

static inline void h_describe(const harness *h, const h_seg *s)
{
	print_error("  got %s seq=%u (rel %d) ack=%u (rel %d) len=%u win=%u "
		    "at %.3f ms\n",
		    h_flags(s->flags), s->seq, (int)(s->seq - h->iss), s->ack,
		    (int)(s->ack - h->irs), s->len, s->win, h_ms(s->t));
}

/* The next segment must be flags/seq/ack/len exactly (absolute numbers;
 * ack is compared only when ACK is expected), between our ports, and its
 * payload must be the application's bytes at that stream offset when
 * check_data is true. */
static inline const h_seg *h_expect_abs(harness *h, uint8_t flags, uint32_t seq,
					uint32_t ack, uint32_t len,
					bool check_data, const char *file,
					int line)
{
	const h_seg *s = h_next(h);

	if (!s) {
		print_error("%s:%d: expected %s seq=%u (rel %d) ack=%u (rel "
			    "%d) len=%u, got nothing\n",
			    file, line, h_flags(flags), seq,
			    (int)(seq - h->iss), ack, (int)(ack - h->irs), len);
		_fail(file, line);
	}
	if (s->flags != flags || s->seq != seq || s->len != len ||
	    ((flags & TERN_TCP_ACK) && s->ack != ack) ||
	    s->sport != h->local.port || s->dport != h->remote.port) {
		print_error("%s:%d: expected %s seq=%u (rel %d) ack=%u "
			    "(rel %d) len=%u\n",
			    file, line, h_flags(flags), seq,
			    (int)(seq - h->iss), ack, (int)(ack - h->irs), len);
		h_describe(h, s);
		_fail(file, line);
	}
	uint32_t off = seq - h->iss - 1;
	for (uint32_t i = 0; check_data && i < s->len; i++)
		if (s->data[i] != h_our_byte(off + i)) {
			print_error("%s:%d: payload byte %u wrong\n", file,
				    line, i);
			_fail(file, line);
		}
	return s;
}

/* seq relative to our ISS, ack relative to the peer's ISN. */
#define expect_seg(h, flags, seq, ack, len)                                    \
	h_expect_abs((h), (flags), (h)->iss + (uint32_t)(seq),                 \
		     (h)->irs + (uint32_t)(ack), (len), true, __FILE__,        \
		     __LINE__)
/* Absolute numbers (replies of a listener or of no connection). */
#define expect_seg_abs(h, flags, seq, ack, len)                                \
	h_expect_abs((h), (flags), (seq), (ack), (len), false, __FILE__,       \
		     __LINE__)

static inline void h_expect_none(harness *h, const char *file, int line)
{
	const h_seg *s = h_next(h);

	if (s) {
		print_error("%s:%d: expected no segment\n", file, line);
		h_describe(h, s);
		_fail(file, line);
	}
}
#define expect_none(h) h_expect_none((h), __FILE__, __LINE__)

/* The right edge a segment advertises (relative to the peer's ISN). */
static inline uint32_t h_right_edge(const harness *h, const h_seg *s)
{
	return s->ack - h->irs + s->win;
}

/* ---- time ---- */

static inline tern_time h_deadline(harness *h)
{
	return tern_stack_next_deadline(h->stack);
}

static inline void h_run(harness *h, tern_time now)
{
	tern_stack_run(h->stack, now);
}

static inline void h_expect_deadline(harness *h, tern_time t, const char *file,
				     int line)
{
	tern_time d = h_deadline(h);

	if (d != t) {
		print_error("%s:%d: next deadline at %.6f ms, expected %.6f ms "
			    "(-1: none)\n",
			    file, line, h_ms(d), h_ms(t));
		_fail(file, line);
	}
}

/* The next deadline must be exactly t; runs the timers due then. */
#define expect_deadline(h, t) h_expect_deadline((h), (t), __FILE__, __LINE__)
#define fire_at(h, t)                                                          \
	do {                                                                   \
		expect_deadline((h), (t));                                     \
		h_run((h), (t));                                               \
	} while (0)

/* ---- the application ---- */

static inline tern_tcp_info h_info(harness *h)
{
	tern_tcp_info i;

	tern_tcp_info_get(h->conn, &i);
	return i;
}

/* SRTT, RTTVAR and RTO of the connection under test, exactly. */
static inline void expect_rtt(harness *h, tern_time srtt, tern_time rttvar,
			      tern_time rto)
{
	tern_tcp_info i = h_info(h);

	assert_int_equal(i.srtt, srtt);
	assert_int_equal(i.rttvar, rttvar);
	assert_int_equal(i.rto, rto);
}

static inline int h_state(harness *h)
{
	return tern_tcp_state(h->conn);
}

#define expect_state(h, s)                                                     \
	_assert_int_equal(tern_tcp_state((h)->conn), (s), __FILE__, __LINE__)

static inline uint64_t h_ctr(harness *h, int counter)
{
	return tern_stack_stats(h->stack)->counters[counter];
}

static inline uint64_t h_drops(harness *h, int reason)
{
	return tern_stack_stats(h->stack)->drops[reason];
}

/* The last state the trace saw conn_id reach (CLOSED connections may be
 * freed, so their handles cannot be asked). */
static inline int h_last_state(const harness *h, uint64_t conn_id)
{
	for (int i = h->ntrans - 1; i >= 0; i--)
		if (h->trans[i].conn_id == conn_id)
			return h->trans[i].to;
	return -1;
}

static inline bool h_saw_edge(const harness *h, uint64_t conn_id, int from,
			      int to)
{
	for (int i = 0; i < h->ntrans; i++)
		if (h->trans[i].conn_id == conn_id &&
		    h->trans[i].from == from && h->trans[i].to == to)
			return true;
	return false;
}

/* The application writes n bytes of its pattern; returns what send did. */
static inline ptrdiff_t h_send(harness *h, uint32_t n, tern_time now)
{
	uint8_t *buf = malloc(n ? n : 1);

	assert_non_null(buf);
	for (uint32_t i = 0; i < n; i++)
		buf[i] = h_our_byte(h->tx_off + i);
	ptrdiff_t r = tern_tcp_send(h->conn, buf, n, now);
	free(buf);
	if (r > 0)
		h->tx_off += (uint32_t)r;
	return r;
}

/* The application reads up to n bytes, which must continue the peer's
 * pattern; returns what recv did. */
static inline ptrdiff_t h_recv(harness *h, uint32_t n, tern_time now)
{
	uint8_t *buf = malloc(n ? n : 1);

	assert_non_null(buf);
	ptrdiff_t r = tern_tcp_recv(h->conn, buf, n, now);
	for (ptrdiff_t i = 0; i < r; i++)
		if (buf[i] != h_peer_byte(h->rx_off + (uint32_t)i)) {
			free(buf);
			fail_msg("read byte %td of offset %u wrong", i,
				 h->rx_off);
		}
	free(buf);
	if (r > 0)
		h->rx_off += (uint32_t)r;
	return r;
}

/* close() and abort(): the handle is given up. */
static inline void h_close(harness *h, tern_time now)
{
	assert_int_equal(tern_tcp_close(h->conn, now), 0);
	h->conn = NULL;
}

static inline void h_abort(harness *h, tern_time now)
{
	assert_int_equal(tern_tcp_abort(h->conn, now), 0);
	h->conn = NULL;
}

/* ---- connections in a given state ---- */

/* connect() at now from port 50000 to the peer's port 80: the SYN goes
 * out, and tells us our ISS. */
static inline void h_connect(harness *h, tern_time now)
{
	tern_endpoint remote = {H_PEER_ADDR, H_SERVER_PORT};
	int err = -1;

	h->opts.local_port = H_CLIENT_PORT;
	h->local = (tern_endpoint){H_ADDR, H_CLIENT_PORT};
	h->remote = remote;
	h->conn = tern_tcp_connect(h->stack, &remote, &h->opts, now, &err);
	assert_non_null(h->conn);
	assert_int_equal(err, 0);
	h->conn_id = h_info(h).conn_id;
	const h_seg *s = h_next(h);
	assert_non_null(s);
	assert_int_equal(s->flags, TERN_TCP_SYN);
	assert_int_equal(s->mss, 1460);
	h->iss = s->seq;
	assert_int_equal(h_info(h).iss, h->iss);
	expect_state(h, TERN_TCP_SYN_SENT);
}

/* ESTABLISHED, active: SYN at H_T0, SYN+ACK back h->rtt later, our ACK.
 * The SYN's round trip is the first RTT sample. */
static inline void h_established_client(harness *h)
{
	h_connect(h, H_T0);
	expect_none(h);
	h_in(h, TERN_TCP_SYN | TERN_TCP_ACK, 0, 1, 0, H_T0 + h->rtt);
	expect_seg(h, TERN_TCP_ACK, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* listen() on port 80 at H_T0 (sets h->listener). */
static inline void h_listen(harness *h)
{
	int err = -1;

	h->local = (tern_endpoint){H_ADDR, H_SERVER_PORT};
	h->remote = (tern_endpoint){H_PEER_ADDR, H_PEER_PORT};
	h->listener = tern_tcp_listen(h->stack, H_SERVER_PORT, h->backlog,
				      &h->opts, H_T0, &err);
	assert_non_null(h->listener);
	assert_int_equal(err, 0);
}

/* The peer's SYN at now: the SYN+ACK comes back, and tells our ISS. */
static inline void h_syn_to_listener(harness *h, tern_time now)
{
	h_in(h, TERN_TCP_SYN, 0, 0, 0, now);
	const h_seg *s = h_next(h);
	assert_non_null(s);
	assert_int_equal(s->flags, TERN_TCP_SYN | TERN_TCP_ACK);
	assert_int_equal(s->ack, h->irs + 1);
	assert_int_equal(s->mss, 1460);
	h->iss = s->seq;
	expect_none(h);
}

/* accept() the next connection (sets h->conn). */
static inline void h_accept(harness *h)
{
	int err = -1;

	h->conn = tern_tcp_accept(h->listener, &err);
	assert_non_null(h->conn);
	assert_int_equal(err, 0);
	tern_tcp_set_callback(h->conn, h_on_event, h);
	h->conn_id = h_info(h).conn_id;
}

/* ESTABLISHED, passive: listen and SYN at H_T0, SYN+ACK, the peer's ACK
 * h->rtt later, accept(). */
static inline void h_established_server(harness *h)
{
	h_listen(h);
	h_syn_to_listener(h, H_T0);
	h_in(h, TERN_TCP_ACK, 1, 1, 0, H_T0 + h->rtt);
	expect_none(h);
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_info(h).iss, h->iss);
}

/* Our next sequence and the peer's, relative: where the helpers below
 * start (all our data acknowledged, the peer's in order). */
static inline uint32_t h_snd(harness *h)
{
	return h_info(h).snd_nxt - h->iss;
}

static inline uint32_t h_rcv(harness *h)
{
	return h_info(h).rcv_nxt - h->irs;
}

/* From ESTABLISHED, everything at now: shutdown(SHUT_WR), our FIN out. */
static inline void h_fin_wait_1(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);

	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, now), 0);
	expect_seg(h, TERN_TCP_FIN | TERN_TCP_ACK, snd, rcv, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_1);
}

/* ... and the peer acknowledges the FIN. */
static inline void h_fin_wait_2(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);

	h_fin_wait_1(h, now);
	h_in(h, TERN_TCP_ACK, rcv, snd + 1, 0, now);
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_2);
}

/* ... and the peer's FIN: our ACK, TIME_WAIT. */
static inline void h_time_wait(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);

	h_fin_wait_2(h, now);
	h_in(h, TERN_TCP_FIN | TERN_TCP_ACK, rcv, snd + 1, 0, now);
	expect_seg(h, TERN_TCP_ACK, snd + 1, rcv + 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_TIME_WAIT);
}

/* FIN_WAIT_1, then the peer's FIN crosses ours: CLOSING. */
static inline void h_closing(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);

	h_fin_wait_1(h, now);
	h_in(h, TERN_TCP_FIN | TERN_TCP_ACK, rcv, snd, 0, now);
	expect_seg(h, TERN_TCP_ACK, snd + 1, rcv + 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSING);
}

/* From ESTABLISHED: the peer's FIN at now; our ACK of it is delayed
 * (Linux's pingpong mode) and goes out at now + delack, where this ends. */
static inline void h_close_wait(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);
	tern_time delack = MS(h->cfg.delack_ms);

	h_in(h, TERN_TCP_FIN | TERN_TCP_ACK, rcv, snd, 0, now);
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSE_WAIT);
	fire_at(h, now + delack);
	expect_seg(h, TERN_TCP_ACK, snd, rcv + 1, 0);
	expect_none(h);
}

/* From ESTABLISHED, at now: the peer's FIN, then shutdown(SHUT_WR) before
 * the delayed ACK: one FIN+ACK acknowledges theirs (the three-segment
 * close). */
static inline void h_last_ack(harness *h, tern_time now)
{
	uint32_t snd = h_snd(h), rcv = h_rcv(h);

	h_in(h, TERN_TCP_FIN | TERN_TCP_ACK, rcv, snd, 0, now);
	expect_none(h);
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, now), 0);
	expect_seg(h, TERN_TCP_FIN | TERN_TCP_ACK, snd, rcv + 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_LAST_ACK);
}

#endif
