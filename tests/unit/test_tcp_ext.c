/* The extensions negotiated in the handshake: window scaling (RFC 7323
 * 2), timestamps with RTT measurement (3, 4) and PAWS (5), and the SACK
 * permission (RFC 2018 2). Each is offered by the settings, on only when
 * both ends offer it, and off otherwise.
 *
 * The bench's defaults: tcp_rmem[2] = 6 MB gives our shift 7 (6291456 >>
 * 7 = 49152 fits 16 bits, >> 6 does not); the receive buffer is 128 KB;
 * the peer's MSS is 1460, so with timestamps a segment carries 1448.
 */
#include "tcp_harness.h"

static const uint8_t SA = TERN_TCP_SYN | TERN_TCP_ACK;
static const uint8_t A = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;

#define ALL (TERN_TCPOPT_WSCALE | TERN_TCPOPT_SACK_PERM | TERN_TCPOPT_TIMESTAMP)
#define PEER_TS0 1000u /* the peer's first TSval */

/* The options the peer's next segments carry. */
static void peer_opts(harness *h, uint32_t present, uint8_t ws, uint32_t tsval,
		      uint32_t ecr)
{
	h->peer_opts = (tern_tcp_opts){.present = present, .wscale = ws};
	h->peer_opts.ts_val = tsval;
	h->peer_opts.ts_ecr = ecr;
}

static void peer_ts(harness *h, uint32_t tsval, uint32_t ecr)
{
	h->peer_opts.ts_val = tsval;
	h->peer_opts.ts_ecr = ecr;
}

/* The segment h_connect or h_syn_to_listener just took. */
static const h_seg *last_syn(harness *h)
{
	return &h->segs[0];
}

/* ESTABLISHED, active, the peer offering everything with shift ws at
 * H_T0 + 100 ms. Returns our SYN's TSval: ours at time t is that plus
 * (t - H_T0) in milliseconds. */
static uint32_t established_ext(harness *h, uint8_t ws)
{
	h_connect(h, H_T0);
	uint32_t ts0 = last_syn(h)->opts.ts_val;
	expect_none(h);
	peer_opts(h, ALL, ws, PEER_TS0, ts0);
	h_in(h, SA, 0, 1, 0, AT(100));
	expect_seg(h, A, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	return ts0;
}

/* Our SYN offers all three; the SYN+ACK offering them too turns them
 * on: the ACK carries timestamps only (RFC 7323 3.2: in every segment),
 * echoing the SYN+ACK's, and a window scaled by our shift. */
static void test_active_open_negotiates_all(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	const h_seg *syn = last_syn(h);
	assert_int_equal(syn->opts.present, TERN_TCPOPT_MSS | ALL);
	assert_int_equal(syn->opts.wscale, 7);
	assert_int_equal(syn->opts.ts_ecr, 0);
	assert_int_equal(syn->win, 65535);
	uint32_t ts0 = syn->opts.ts_val;
	expect_none(h);

	peer_opts(h, ALL, 2, PEER_TS0, ts0);
	h_in(h, SA, 0, 1, 0, AT(100));
	const h_seg *s = expect_seg(h, A, 1, 1, 0);
	assert_int_equal(s->opts.present, TERN_TCPOPT_TIMESTAMP);
	assert_int_equal(s->opts.ts_val, ts0 + 100);
	assert_int_equal(s->opts.ts_ecr, PEER_TS0);
	/* 131072 - 127 rounded up to units of 128 */
	assert_int_equal(s->win, 1024);
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.options, TERN_TCPI_OPT_TIMESTAMPS |
					    TERN_TCPI_OPT_SACK |
					    TERN_TCPI_OPT_WSCALE);
	assert_int_equal(i.snd_wscale, 2);
	assert_int_equal(i.rcv_wscale, 7);
	assert_int_equal(i.mss, 1448);
	assert_int_equal(i.snd_wnd, 65535); /* a SYN's window: unscaled */

	/* the peer's windows are scaled from now on */
	peer_ts(h, PEER_TS0 + 1, ts0 + 100);
	h_in_win(h, A, 1, 1, 100, 0, AT(200));
	expect_none(h);
	assert_int_equal(h_info(h).snd_wnd, 400);
}

/* A SYN without options: the SYN+ACK has the MSS only, nothing is on,
 * and our windows are not scaled. */
static void test_passive_peer_offers_nothing(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	assert_int_equal(last_syn(h)->opts.present, TERN_TCPOPT_MSS);
	assert_int_equal(last_syn(h)->win, 65535);
	h_in(h, A, 1, 1, 0, AT(100));
	h_accept(h);
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.options, 0);
	assert_int_equal(i.rcv_wscale, 0);
	assert_int_equal(i.mss, 1460);
	/* 1460 bytes in, two segments: ACK at once, window unscaled */
	h_in(h, A, 1, 1, 1460, AT(200));
	h_in(h, A, 1461, 1, 1460, AT(200));
	const h_seg *s = expect_seg(h, A, 1, 2921, 0);
	assert_int_equal(s->opts.present, 0);
	assert_int_equal(s->win, 65535);
}

/* RFC 7323 1.3 and 2.2: a SYN+ACK carries an option only if the SYN did.
 * The SYN+ACK's own window is never scaled; the final ACK's is. */
static void test_passive_window_scale_only(void **state)
{
	harness *h = *state;

	h_listen(h);
	peer_opts(h, TERN_TCPOPT_WSCALE, 3, 0, 0);
	h_syn_to_listener(h, H_T0);
	assert_int_equal(last_syn(h)->opts.present,
			 TERN_TCPOPT_MSS | TERN_TCPOPT_WSCALE);
	assert_int_equal(last_syn(h)->opts.wscale, 7);
	assert_int_equal(last_syn(h)->win, 65535);
	h_in_win(h, A, 1, 1, 1000, 0, AT(100));
	h_accept(h);
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.options, TERN_TCPI_OPT_WSCALE);
	assert_int_equal(i.snd_wscale, 3);
	assert_int_equal(i.snd_wnd, 8000);
	assert_int_equal(i.mss, 1460);
}

/* Timestamps on the passive side: the SYN+ACK echoes the SYN's TSval. */
static void test_passive_timestamps_echoed(void **state)
{
	harness *h = *state;

	h_listen(h);
	peer_opts(h, TERN_TCPOPT_TIMESTAMP | TERN_TCPOPT_SACK_PERM, 0, 4242, 0);
	h_syn_to_listener(h, H_T0);
	const h_seg *s = last_syn(h);
	assert_int_equal(s->opts.present, TERN_TCPOPT_MSS |
						  TERN_TCPOPT_TIMESTAMP |
						  TERN_TCPOPT_SACK_PERM);
	assert_int_equal(s->opts.ts_ecr, 4242);
	uint32_t ts0 = s->opts.ts_val;
	peer_ts(h, 4243, ts0);
	h_in(h, A, 1, 1, 0, AT(100));
	h_accept(h);
	assert_int_equal(h_info(h).options,
			 TERN_TCPI_OPT_TIMESTAMPS | TERN_TCPI_OPT_SACK);
	assert_int_equal(h_info(h).mss, 1448);
}

/* RFC 7323 2.3: a shift above 14 is used as 14. */
static void test_window_scale_above_14_is_14(void **state)
{
	harness *h = *state;

	established_ext(h, 15);
	assert_int_equal(h_info(h).snd_wscale, 14);
}

static void extensions_off(harness *h)
{
	h->cfg.tcp_window_scaling = 0;
	h->cfg.tcp_timestamps = 0;
	h->cfg.tcp_sack = 0;
	h_restart(h);
}

/* Settings off: nothing offered, and an offer from the peer ignored. */
static void test_settings_off_never_offered(void **state)
{
	harness *h = *state;

	extensions_off(h);
	h_connect(h, H_T0);
	assert_int_equal(last_syn(h)->opts.present, TERN_TCPOPT_MSS);
	expect_none(h);
	peer_opts(h, ALL, 2, PEER_TS0, 0);
	h_in(h, SA, 0, 1, 0, AT(100));
	const h_seg *s = expect_seg(h, A, 1, 1, 0);
	assert_int_equal(s->opts.present, 0);
	assert_int_equal(s->win, 65535);
	assert_int_equal(h_info(h).options, 0);
	assert_int_equal(h_info(h).mss, 1460);
}

/* ... and on the passive side. */
static void test_settings_off_passive(void **state)
{
	harness *h = *state;

	extensions_off(h);
	h_listen(h);
	peer_opts(h, ALL, 2, PEER_TS0, 0);
	h_syn_to_listener(h, H_T0);
	assert_int_equal(last_syn(h)->opts.present, TERN_TCPOPT_MSS);
}

/* RFC 9293 3.7.1: the 12 bytes of timestamps in every segment come off
 * what a segment carries: 1448 bytes, not 1460. */
static void test_timestamps_take_12_bytes(void **state)
{
	harness *h = *state;

	uint32_t ts0 = established_ext(h, 2);
	assert_int_equal(h_send(h, 2896, AT(1000)), 2896);
	const h_seg *s = expect_seg(h, A, 1, 1, 1448);
	assert_int_equal(s->opts.ts_val, ts0 + 1000);
	expect_seg(h, PA, 1449, 1, 1448);
	expect_none(h);
}

/* The peer's first data, TSval 1010, is taken (and TS.Recent with it). */
static void paws_setup(harness *h)
{
	uint32_t ts0 = established_ext(h, 2);

	peer_ts(h, PEER_TS0 + 10, ts0 + 100);
	h_in(h, A, 1, 1, 100, AT(200));
	expect_none(h); /* one small segment: the ACK is delayed */
	assert_int_equal(h_rcv(h), 101);
}

/* RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent is an
 * old duplicate: dropped, counted, and answered with an ACK that still
 * echoes TS.Recent. The same segment with a fresh TSval is taken. */
static void test_paws_drops_old_timestamp(void **state)
{
	harness *h = *state;

	paws_setup(h);
	peer_ts(h, PEER_TS0 + 5, 0);
	h_in(h, A, 101, 1, 100, AT(210));
	const h_seg *s = expect_seg(h, A, 1, 101, 0);
	assert_int_equal(s->opts.ts_ecr, PEER_TS0 + 10);
	expect_none(h);
	assert_int_equal(h_rcv(h), 101);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_PAWS), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_PAWS_ESTAB), 1);

	peer_ts(h, PEER_TS0 + 11, 0);
	h_in(h, A, 101, 1, 100, AT(220));
	assert_int_equal(h_rcv(h), 201);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_PAWS), 1);
}

/* R1 applies to every segment but a RST: an old TSval on a RST at
 * RCV.NXT does not save the connection. */
static void test_paws_spares_rst(void **state)
{
	harness *h = *state;

	paws_setup(h);
	peer_ts(h, PEER_TS0 - 500, 0);
	h_in(h, TERN_TCP_RST, 101, 0, 0, AT(210));
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_PAWS), 0);
}

/* 5.5: after 24 days without a segment TS.Recent is no longer valid, and
 * an older TSval (the peer's clock may have wrapped) is taken; 23 days
 * is not enough. */
static void test_paws_after_24_days_idle(void **state)
{
	harness *h = *state;
	const tern_time day = 24 * 3600 * (tern_time)1000;

	paws_setup(h);
	expect_deadline(h, AT(240)); /* the delayed ACK */
	h_run(h, AT(240));
	expect_seg(h, A, 1, 101, 0);
	peer_ts(h, 7, 0);
	h_in(h, A, 101, 1, 100, AT(200 + 23 * day));
	expect_seg(h, A, 1, 101, 0);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_PAWS), 1);
	h_in(h, A, 101, 1, 100, AT(200 + 24 * day + 1));
	assert_int_equal(h_rcv(h), 201);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_PAWS), 1);
}

/* 100 bytes at 1000 ms, lost; the RTO (300 ms from the handshake's
 * 100 ms sample) sends them again at 1300 ms, backed off to 600 ms.
 * Returns the TSval of the original (the retransmission's is 300 more). */
static uint32_t retransmitted_once(harness *h)
{
	established_ext(h, 2);
	expect_rtt(h, MS(100), MS(50), MS(300));
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	uint32_t t1 = expect_seg(h, PA, 1, 1, 100)->opts.ts_val;
	expect_deadline(h, AT(1300));
	h_run(h, AT(1300));
	const h_seg *s = expect_seg(h, PA, 1, 1, 100);
	assert_int_equal(s->opts.ts_val, t1 + 300);
	expect_rtt(h, MS(100), MS(50), MS(600));
	return t1;
}

/* RFC 7323 4.1: the echo of the retransmission measures its round trip,
 * 50 ms, where Karn's rule would take no sample. RTTVAR = 50 (|100 - 50|
 * is 50), SRTT = 100 - 50/8, RTO = 93.75 + 200 ms. */
static void test_ts_sample_from_retransmission(void **state)
{
	harness *h = *state;

	uint32_t t1 = retransmitted_once(h);
	peer_ts(h, PEER_TS0 + 1, t1 + 300);
	h_in(h, A, 1, 101, 0, AT(1350));
	expect_rtt(h, US(93750), MS(50), US(293750));
}

/* An echo of the original: its ACK was lost and the retransmission was
 * spurious (RFC 3522). The time since the original includes our timeout:
 * no sample, the backed-off RTO stays. Taking it (350 ms) would grow the
 * RTO with every backoff, up to 120 s under heavy loss (seed 227 of the
 * random runs did exactly that). */
static void test_ts_echo_of_original_gives_no_sample(void **state)
{
	harness *h = *state;

	uint32_t t1 = retransmitted_once(h);
	peer_ts(h, PEER_TS0 + 1, t1);
	h_in(h, A, 1, 101, 0, AT(1350));
	expect_rtt(h, MS(100), MS(50), MS(600));
}

/* RFC 7323 appendix G: with a sample per ACK each weighs less, divided
 * by ExpectedSamples = ceil(FlightSize / (2 * SMSS)) = ceil(4344 / 2896)
 * = 2. R = 40 ms: RTTVAR = 50 + (60 - 50) / 8 = 51.25, SRTT = 100 -
 * 60 / 16 = 96.25, RTO = 96.25 + 205 = 301.25 ms. */
static void test_ts_samples_weighted_by_flight(void **state)
{
	harness *h = *state;

	established_ext(h, 2);
	assert_int_equal(h_send(h, 4344, AT(1000)), 4344);
	uint32_t t1 = expect_seg(h, A, 1, 1, 1448)->opts.ts_val;
	expect_seg(h, A, 1449, 1, 1448);
	expect_seg(h, PA, 2897, 1, 1448);
	peer_ts(h, PEER_TS0 + 1, t1);
	h_in(h, A, 1, 2897, 0, AT(1040));
	expect_rtt(h, US(96250), US(51250), US(301250));
}

/* Our window field counts units of 128 and is rounded up from the edge
 * we chose: after 2896 bytes, 128049 bytes of window is 1001 units (a
 * field of 1000 would move the edge left). */
static void test_our_window_scaled_and_rounded_up(void **state)
{
	harness *h = *state;

	uint32_t ts0 = established_ext(h, 2);
	peer_ts(h, PEER_TS0 + 1, ts0 + 100);
	h_in(h, A, 1, 1, 1448, AT(200));
	h_in(h, A, 1449, 1, 1448, AT(200));
	const h_seg *s = expect_seg(h, A, 1, 2897, 0);
	assert_int_equal(s->win, 1001);
	assert_int_equal(s->opts.ts_ecr, PEER_TS0 + 1);
	expect_none(h);
}

/* Persist with a scaled zero window (RFC 9293 3.8.6.1): the probe goes,
 * and a window update of 8 units (1024 bytes at shift 7) lets the
 * remaining 656 bytes go at once. Unscaled, 8 would be 8 bytes. */
static void test_persist_scaled_zero_window(void **state)
{
	harness *h = *state;

	established_ext(h, 7);
	assert_int_equal(h_send(h, 5000, AT(1000)), 5000);
	expect_seg(h, A, 1, 1, 1448);
	expect_seg(h, A, 1449, 1, 1448);
	expect_seg(h, A, 2897, 1, 1448);
	expect_none(h);
	peer_ts(h, PEER_TS0 + 1, 0);
	h_in_win(h, A, 1, 4345, 0, 0, AT(1100));
	expect_none(h);
	tern_time probe = h_deadline(h);
	h_run(h, probe);
	expect_seg(h, A, 4345, 1, 1);
	expect_none(h);
	h_in_win(h, A, 1, 4345, 0, 0, probe + MS(10));
	expect_none(h);
	h_in_win(h, A, 1, 4345, 8, 0, probe + MS(20));
	expect_seg(h, PA, 4345, 1, 656);
	expect_none(h);
	assert_int_equal(h_info(h).snd_wnd, 1024);
}

/* RFC 7661: an application that sends 1448 bytes a round trip uses a
 * tenth of the initial window, and its ACKs do not grow cwnd (nor the
 * send buffer, which follows cwnd); one that fills the window does. */
static void test_app_limited_cwnd_stays(void **state)
{
	harness *h = *state;
	tern_time t = AT(1000);

	established_ext(h, 2);
	uint32_t iw = h_info(h).cwnd;
	assert_int_equal(iw, 10 * 1448);
	for (uint32_t k = 0; k < 20; k++, t += MS(100)) {
		assert_int_equal(h_send(h, 1448, t), 1448);
		expect_seg(h, PA, 1 + k * 1448, 1, 1448);
		h_in(h, A, 1, 1 + (k + 1) * 1448, 0, t + MS(50));
	}
	assert_int_equal(h_info(h).cwnd, iw);
	assert_int_equal(h_info(h).snd_buf_size, 16384);
	/* a full window: each ACK of it grows cwnd (slow start) */
	assert_int_equal(h_send(h, 10 * 1448, t), 10 * 1448);
	while (h_next(h))
		;
	h_in(h, A, 1, 1 + 25 * 1448, 0, t + MS(50));
	assert_int_equal(h_info(h).cwnd, iw + 5 * 1448);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_active_open_negotiates_all),
		H_TEST(test_passive_peer_offers_nothing),
		H_TEST(test_passive_window_scale_only),
		H_TEST(test_passive_timestamps_echoed),
		H_TEST(test_window_scale_above_14_is_14),
		H_TEST(test_settings_off_never_offered),
		H_TEST(test_settings_off_passive),
		H_TEST(test_timestamps_take_12_bytes),
		H_TEST(test_paws_drops_old_timestamp),
		H_TEST(test_paws_spares_rst),
		H_TEST(test_paws_after_24_days_idle),
		H_TEST(test_ts_sample_from_retransmission),
		H_TEST(test_ts_echo_of_original_gives_no_sample),
		H_TEST(test_ts_samples_weighted_by_flight),
		H_TEST(test_our_window_scaled_and_rounded_up),
		H_TEST(test_persist_scaled_zero_window),
		H_TEST(test_app_limited_cwnd_stays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
