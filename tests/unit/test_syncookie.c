/* SYN cookies and the SYN queue: the cookie's encoding (Linux's format,
 * src/stack/syncookie.c), a listener's SYN queue bounded by
 * tcp_max_syn_backlog, and what tcp_syncookies 0, 1 and 2 do with a SYN
 * that finds it full and with the ACK that brings a cookie back. */
#include "stack/stack.h"
#include "stack/syncookie.h"
#include "tcp_harness.h"

static const uint8_t SYN = TERN_TCP_SYN;
static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;
static const uint8_t RST = TERN_TCP_RST;

#define ALL (TERN_TCPOPT_WSCALE | TERN_TCPOPT_SACK_PERM | TERN_TCPOPT_TIMESTAMP)

static const uint64_t KEY[2][2] = {{1, 2}, {3, 4}};
static const tern_endpoint LOCAL = {0x0a000001u, 80};
static const tern_endpoint REMOTE = {0x0a000002u, 40000};

/* ---- the encoding ---- */

/* Each MSS of the table comes back; an MSS between two entries comes
 * back as the smaller, one below the table as its least (536), as in
 * Linux's cookie_v4_init_sequence. */
static void test_cookie_every_mss(void **state)
{
	static const uint16_t in[] = {536,  1299, 1300, 1439, 1440,
				      1459, 1460, 9000, 100,  0};
	static const uint16_t out[] = {536,  536,  1300, 1300, 1440,
				       1440, 1460, 1460, 536,  536};
	(void)state;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		tern_time now = 1000 * TERN_SEC + i * TERN_MSEC;
		uint16_t mss = 0;
		uint32_t isn = 0x12345678u + (uint32_t)i * 0x01000193u;
		uint32_t c = syncookie_make(KEY, &LOCAL, &REMOTE, isn, in[i],
					    now, &mss);
		assert_int_equal(mss, out[i]);
		assert_int_equal(
			syncookie_check(KEY, &LOCAL, &REMOTE, isn, c, now),
			out[i]);
	}
}

/* MAX_SYNCOOKIE_AGE: good in the minute it was made and the next, not
 * after; a cookie "from the future" neither. */
static void test_cookie_expires_after_two_minutes(void **state)
{
	tern_time made = 30 * TERN_SEC;
	uint16_t mss;
	uint32_t c =
		syncookie_make(KEY, &LOCAL, &REMOTE, 777, 1460, made, &mss);
	(void)state;

	assert_int_equal(syncookie_check(KEY, &LOCAL, &REMOTE, 777, c, made),
			 1460);
	assert_int_equal(
		syncookie_check(KEY, &LOCAL, &REMOTE, 777, c, 119 * TERN_SEC),
		1460);
	assert_int_equal(
		syncookie_check(KEY, &LOCAL, &REMOTE, 777, c, 120 * TERN_SEC),
		0);
	assert_int_equal(
		syncookie_check(KEY, &LOCAL, &REMOTE, 777, c, 3600 * TERN_SEC),
		0);
	/* made in minute 5, checked in minute 4 */
	c = syncookie_make(KEY, &LOCAL, &REMOTE, 777, 1460, 300 * TERN_SEC,
			   &mss);
	assert_int_equal(
		syncookie_check(KEY, &LOCAL, &REMOTE, 777, c, 299 * TERN_SEC),
		0);
}

/* Another 4-tuple, another peer ISN, another ACK or another secret: no
 * cookie. */
static void test_cookie_wrong_inputs_fail(void **state)
{
	static const uint64_t other[2][2] = {{1, 2}, {3, 5}};
	static const uint64_t other0[2][2] = {{9, 2}, {3, 4}};
	tern_time now = 500 * TERN_SEC;
	uint16_t mss;
	uint32_t c =
		syncookie_make(KEY, &LOCAL, &REMOTE, 4242, 1460, now, &mss);
	tern_endpoint l2 = LOCAL, r2 = REMOTE, r3 = REMOTE, l3 = LOCAL;
	(void)state;

	l2.addr++;
	r2.addr ^= 0x100;
	r3.port++;
	l3.port = 81;
	assert_int_equal(syncookie_check(KEY, &LOCAL, &REMOTE, 4242, c, now),
			 1460);
	assert_int_equal(syncookie_check(KEY, &l2, &REMOTE, 4242, c, now), 0);
	assert_int_equal(syncookie_check(KEY, &l3, &REMOTE, 4242, c, now), 0);
	assert_int_equal(syncookie_check(KEY, &LOCAL, &r2, 4242, c, now), 0);
	assert_int_equal(syncookie_check(KEY, &LOCAL, &r3, 4242, c, now), 0);
	/* the peer's ISN is added in plain: one larger by k < 4 would read
	 * as another index of the table (Linux's format has the same
	 * property), so these are off by more, or the other way */
	assert_int_equal(syncookie_check(KEY, &LOCAL, &REMOTE, 4241, c, now),
			 0);
	assert_int_equal(
		syncookie_check(KEY, &LOCAL, &REMOTE, 4242 + 1000, c, now), 0);
	assert_int_equal(syncookie_check(KEY, &REMOTE, &LOCAL, 4242, c, now),
			 0);
	for (uint32_t d = 1; d < 64; d++)
		assert_int_equal(
			syncookie_check(KEY, &LOCAL, &REMOTE, 4242, c + d, now),
			0);
	assert_int_equal(syncookie_check(KEY, &LOCAL, &REMOTE, 4242,
					 c ^ 0x1000000u, now),
			 0);
	assert_int_equal(syncookie_check(other, &LOCAL, &REMOTE, 4242, c, now),
			 0);
	assert_int_equal(syncookie_check(other0, &LOCAL, &REMOTE, 4242, c, now),
			 0);
}

/* The low 6 bits of the timestamp: every window shift (and none), SACK
 * and ECN come back; the value is never ahead of the clock and at most
 * 63 ms behind it (Linux's cookie_init_timestamp). */
static void test_cookie_timestamp_options(void **state)
{
	static const uint32_t clocks[] = {0x40, 0x7f, 0x1000, 0xffffffc5u,
					  0x12345678u};
	(void)state;

	for (size_t k = 0; k < sizeof(clocks) / sizeof(clocks[0]); k++) {
		for (unsigned ws = 0; ws <= 15; ws++) {
			for (unsigned bits = 0; bits < 4; bits++) {
				syncookie_opts o = {(uint8_t)ws, bits & 1,
						    (bits >> 1) & 1};
				syncookie_opts back;
				uint32_t ts = syncookie_ts_make(clocks[k], &o);
				assert_true(clocks[k] - ts < 64);
				syncookie_ts_decode(ts, &back);
				assert_int_equal(back.wscale, ws);
				assert_int_equal(back.sack, o.sack);
				assert_int_equal(back.ecn, o.ecn);
			}
		}
	}
}

/* ---- a listener ---- */

/* A peer of the listener under test: port and ISN. */
static void use_peer(harness *h, uint16_t port, uint32_t isn)
{
	h->remote.port = port;
	h->irs = isn;
}

/* The listener with tcp_max_syn_backlog = 2 and tcp_syncookies = mode,
 * and two half-open connections filling its SYN queue. */
static void queue_full(harness *h, int mode)
{
	h->cfg.tcp_max_syn_backlog = 2;
	h->cfg.tcp_syncookies = mode;
	h_restart(h);
	h_listen(h);
	for (int i = 0; i < 2; i++) {
		use_peer(h, (uint16_t)(1000 + i), 5000u + (uint32_t)i);
		h_syn_to_listener(h, H_T0);
	}
	assert_int_equal(tern_stack_conn_count(h->stack), 3);
}

/* The ISS of the SYN+ACK just sent must be a cookie for the peer. */
static uint16_t cookie_mss(harness *h, uint32_t iss, tern_time now)
{
	return syncookie_check(h->stack->cookie_key, &h->local, &h->remote,
			       h->irs, iss, now);
}

/* tcp_syncookies = 0: the SYN that finds the queue full is dropped
 * (TCPReqQFullDrop, ListenDrops); once a child completes there is room
 * again. */
static void test_syncookies_off_drops_syn_when_queue_full(void **state)
{
	harness *h = *state;

	queue_full(h, 0);
	use_peer(h, 2000, 9000);
	h_in(h, SYN, 0, 0, 0, AT(10));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_REQQ_FULL_DROP), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_LISTEN_DROPS), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_REQQ_FULL_COOKIES), 0);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_SYN_QUEUE_FULL), 1);
	assert_int_equal(tern_stack_conn_count(h->stack), 3);
	/* the first child completes: the retried SYN gets in */
	use_peer(h, 1000, 5000);
	h_syn_to_listener(h, AT(20)); /* the same SYN again: SYN+ACK again */
	h_in(h, ACK, 1, 1, 0, AT(30));
	expect_none(h);
	use_peer(h, 2000, 9000);
	h_syn_to_listener(h, AT(1010));
	assert_int_equal(tern_stack_conn_count(h->stack), 4);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_SENT), 0);
}

/* tcp_syncookies = 1: the SYN past the queue gets a cookie SYN+ACK and
 * costs no memory; the ACK that brings it back makes the connection,
 * LISTEN -> SYN_RECEIVED -> ESTABLISHED, and the data it carries is
 * taken. */
static void test_syncookies_on_queue_full_cookie_completes(void **state)
{
	harness *h = *state;

	queue_full(h, 1);
	size_t mem = tern_stack_mem_in_use(h->stack);
	use_peer(h, 2000, 9000);
	h_syn_to_listener(h, AT(10));
	assert_int_equal(cookie_mss(h, h->iss, AT(10)), 1460);
	assert_int_equal(tern_stack_mem_in_use(h->stack), mem);
	assert_int_equal(tern_stack_conn_count(h->stack), 3);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_REQQ_FULL_COOKIES), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_SENT), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_PASSIVE_OPENS), 2);

	h_in(h, PA, 1, 1, 100, AT(110));
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_RECV), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_PASSIVE_OPENS), 3);
	assert_true(h->lev & TERN_EV_ACCEPT);
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_LISTEN,
			       TERN_TCP_SYN_RECEIVED));
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_SYN_RECEIVED,
			       TERN_TCP_ESTABLISHED));
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.iss, h->iss);
	assert_int_equal(i.irs, h->irs);
	assert_int_equal(i.mss, 1460);
	assert_int_equal(i.options, 0); /* no timestamps: nothing else */
	assert_int_equal(h_recv(h, 1000, AT(120)), 100);
	/* the delayed ACK of the data */
	fire_at(h, AT(110) + MS(h->cfg.delack_ms));
	expect_seg(h, ACK, 1, 101, 0);
	expect_none(h);
}

/* The SYN's MSS is rounded down to the table's: 1400 -> 1300. */
static void test_syncookie_mss_from_table(void **state)
{
	harness *h = *state;

	queue_full(h, 1);
	use_peer(h, 2000, 9000);
	h->peer_mss = 1400;
	h_syn_to_listener(h, AT(10));
	h_in(h, ACK, 1, 1, 0, AT(20));
	h_accept(h);
	assert_int_equal(h_info(h).mss, 1300);
}

/* With timestamps the SYN+ACK carries what a kept connection's would
 * (MSS, window scale, SACK, timestamps), and the echo brings window
 * scale and SACK back. */
static void test_syncookie_options_through_timestamp(void **state)
{
	harness *h = *state;
	tern_tcp_opts normal, cookie;

	h->peer_opts = (tern_tcp_opts){.present = ALL, .wscale = 9};
	h->peer_opts.ts_val = 5000;
	h->cfg.tcp_max_syn_backlog = 1;
	h_restart(h);
	h_listen(h);
	use_peer(h, 1000, 100);
	h_syn_to_listener(h, H_T0);
	normal = h->segs[0].opts;
	uint16_t normal_win = h->segs[0].win;
	use_peer(h, 2000, 200);
	h_syn_to_listener(h, AT(77));
	cookie = h->segs[0].opts;
	assert_int_equal(h->segs[0].win, normal_win);
	assert_int_equal(cookie.present, normal.present);
	assert_int_equal(cookie.mss, normal.mss);
	assert_int_equal(cookie.wscale, normal.wscale);
	assert_int_equal(cookie.ts_ecr, 5000);
	/* our clock, at most 63 ms back, the options in its low bits */
	assert_true(normal.ts_val + 77 - cookie.ts_val < 64);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_SENT), 1);

	h->peer_opts.ts_val = 5001;
	h->peer_opts.ts_ecr = cookie.ts_val;
	h_in_win(h, ACK, 1, 1, 1000, 0, AT(100));
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.options, TERN_TCPI_OPT_TIMESTAMPS |
					    TERN_TCPI_OPT_SACK |
					    TERN_TCPI_OPT_WSCALE);
	assert_int_equal(i.snd_wscale, 9);
	assert_int_equal(i.rcv_wscale, normal.wscale);
	assert_int_equal(i.snd_wnd, 1000u << 9);
	assert_int_equal(i.mss, 1460 - 12);
}

/* A SYN without timestamps: the cookie SYN+ACK offers only the MSS (no
 * window scale, no SACK), as Linux's. */
static void test_syncookie_without_timestamps_mss_only(void **state)
{
	harness *h = *state;

	h->peer_opts = (tern_tcp_opts){.present = TERN_TCPOPT_WSCALE |
						  TERN_TCPOPT_SACK_PERM,
				       .wscale = 4};
	queue_full(h, 1);
	use_peer(h, 2000, 9000);
	h_syn_to_listener(h, AT(10));
	assert_int_equal(h->segs[0].opts.present, TERN_TCPOPT_MSS);
	h_in(h, ACK, 1, 1, 0, AT(20));
	h_accept(h);
	assert_int_equal(h_info(h).options, 0);
	assert_int_equal(h_info(h).snd_wscale, 0);
}

/* tcp_syncookies = 2: every SYN gets a cookie, no half-open connection
 * is ever kept. */
static void test_syncookies_always(void **state)
{
	harness *h = *state;

	h->cfg.tcp_syncookies = 2;
	h_restart(h);
	h_listen(h);
	size_t mem = tern_stack_mem_in_use(h->stack);
	for (int i = 0; i < 5; i++) {
		use_peer(h, (uint16_t)(1000 + i), 100u * (uint32_t)i);
		h_syn_to_listener(h, AT(i));
		assert_int_equal(cookie_mss(h, h->iss, AT(i)), 1460);
	}
	assert_int_equal(tern_stack_mem_in_use(h->stack), mem);
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_REQQ_FULL_COOKIES), 5);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_SENT), 5);
	h_in(h, ACK, 1, 1, 0, AT(100)); /* the last peer's */
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* A bad cookie: SyncookiesFailed, and a RST as for any ACK a listener
 * cannot place. Without a recent cookie an ACK is not looked at. */
static void test_syncookie_invalid_ack_reset(void **state)
{
	harness *h = *state;

	h_listen(h);
	use_peer(h, 1000, 100);
	h_in(h, ACK, 1, 1, 0, AT(10));
	expect_seg(h, RST, 1, 0, 0);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_FAILED), 0);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_LISTEN_NO_SYN), 1);
	expect_none(h);

	queue_full(h, 1);
	use_peer(h, 2000, 9000);
	h_syn_to_listener(h, AT(10));
	h_in(h, ACK, 1, 2, 0, AT(20)); /* acks the cookie + 1 */
	expect_seg(h, RST, 2, 0, 0);
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_FAILED), 1);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_SYNCOOKIE_INVALID), 1);
	/* three minutes on, the good cookie is too old and not looked at */
	h_in(h, ACK, 1, 1, 0, AT(180000));
	expect_seg(h, RST, 1, 0, 0);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_FAILED), 1);
}

/* With cookies on, a full accept queue still drops a SYN (Linux checks
 * it after deciding on a cookie) and drops a cookie's ACK (in
 * tcp_v4_syn_recv_sock), without a RST: the peer retries. */
static void test_syncookie_accept_queue_full(void **state)
{
	harness *h = *state;

	h->cfg.tcp_syncookies = 2;
	h_restart(h);
	h->backlog = 0; /* holds one */
	h_listen(h);
	use_peer(h, 1000, 100);
	h_syn_to_listener(h, H_T0);
	uint32_t iss_a = h->iss;
	use_peer(h, 2000, 200);
	h_syn_to_listener(h, H_T0);
	uint32_t iss_b = h->iss;
	use_peer(h, 1000, 100);
	h->iss = iss_a;
	h_in(h, ACK, 1, 1, 0, AT(10));
	use_peer(h, 2000, 200);
	h->iss = iss_b;
	h_in(h, ACK, 1, 1, 0, AT(20));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_RECV), 2);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_LISTEN_OVERFLOWS), 1);
	use_peer(h, 3000, 300);
	h_in(h, SYN, 0, 0, 0, AT(30));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_LISTEN_OVERFLOWS), 2);
	assert_int_equal(h_ctr(h, TERN_CTR_SYNCOOKIES_SENT), 2);
	assert_int_equal(tern_stack_conn_count(h->stack), 2);
	/* after accept(), b's ACK again gets in */
	h_accept(h);
	use_peer(h, 2000, 200);
	h->iss = iss_b;
	h_in(h, ACK, 1, 1, 0, AT(40));
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* The SYN queue holds tcp_max_syn_backlog half-open connections, and
 * frees a place when one completes, dies or is reset. */
static void test_syn_queue_bound(void **state)
{
	harness *h = *state;

	queue_full(h, 0);
	use_peer(h, 1001, 5001);
	h_in(h, RST, 1, 0, 0, AT(10)); /* the second child goes */
	use_peer(h, 3000, 1);
	h_syn_to_listener(h, AT(20));
	use_peer(h, 3001, 2);
	h_in(h, SYN, 0, 0, 0, AT(30));
	expect_none(h);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_SYN_QUEUE_FULL), 1);
	/* the half-open ones time out after tcp_synack_retries */
	while (h_deadline(h) <= AT(70000))
		h_run(h, h_deadline(h));
	h->nseg = h->next = 0;
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
	h_syn_to_listener(h, AT(70000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_every_mss),
		cmocka_unit_test(test_cookie_expires_after_two_minutes),
		cmocka_unit_test(test_cookie_wrong_inputs_fail),
		cmocka_unit_test(test_cookie_timestamp_options),
		H_TEST(test_syncookies_off_drops_syn_when_queue_full),
		H_TEST(test_syncookies_on_queue_full_cookie_completes),
		H_TEST(test_syncookie_mss_from_table),
		H_TEST(test_syncookie_options_through_timestamp),
		H_TEST(test_syncookie_without_timestamps_mss_only),
		H_TEST(test_syncookies_always),
		H_TEST(test_syncookie_invalid_ack_reset),
		H_TEST(test_syncookie_accept_queue_full),
		H_TEST(test_syn_queue_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
