/* RFC 6298: the retransmission timer. SRTT/RTTVAR from samples (2.2,
 * 2.3), the RTO bounds (2.4, Linux's 200 ms and 120 s), the timer's
 * management (5.1 - 5.3), back-off on expiry (5.5) and Karn's rule (3).
 *
 * The bench's handshake takes 100 ms, which is the first sample:
 * SRTT = 100 ms, RTTVAR = 50 ms, RTO = 100 + 4 * 50 = 300 ms.
 */
#include "tcp_harness.h"

static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;

/* 2.1: before any sample the RTO is 1 s. */
static void test_syn_sent_initial_rto(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	expect_rtt(h, 0, 0, MS(1000));
	expect_deadline(h, AT(1000));
}

/* 2.2: the first sample R gives SRTT = R, RTTVAR = R/2,
 * RTO = SRTT + max(G, 4 RTTVAR). */
static void test_syn_sent_first_sample(void **state)
{
	harness *h = *state;

	h_established_client(h);
	expect_rtt(h, MS(100), MS(50), MS(300));
	expect_deadline(h, TERN_TIME_NONE); /* 5.2: nothing outstanding */
}

/* The same on the passive side: the SYN+ACK is timed. */
static void test_syn_received_first_sample(void **state)
{
	harness *h = *state;

	h_established_server(h);
	expect_rtt(h, MS(100), MS(50), MS(300));
}

/* 2.4: an RTO below the minimum is rounded up to it (Linux: 200 ms). */
static void test_syn_sent_small_sample_rto_min(void **state)
{
	harness *h = *state;

	h->rtt = MS(10);
	h_established_client(h);
	expect_rtt(h, MS(10), MS(5), MS(200));
}

/* 2.2: the variance term is at least the clock granularity G (1 ms). */
static void test_syn_sent_sample_granularity(void **state)
{
	harness *h = *state;

	h->cfg.rto_min_ms = 1;
	h_restart(h);
	h->rtt = US(100);
	h_established_client(h);
	expect_rtt(h, US(100), US(50), US(1100));
}

/* 2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'| with the old SRTT, then
 * SRTT <- 7/8 SRTT + 1/8 R'. R' = 200 ms: RTTVAR = 62.5 ms,
 * SRTT = 112.5 ms, RTO = 362.5 ms. */
static void test_established_second_sample(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	h_in(h, TERN_TCP_ACK, 1, 101, 0, AT(1200));
	expect_none(h);
	expect_rtt(h, US(112500), US(62500), US(362500));
}

/* Time never goes back inside the stack: an ACK handed in with a `now`
 * earlier than the send's (a host whose callbacks read a fresh clock
 * while its loop round still holds an older one) is taken as arriving at
 * the send's time. R = 0: RTTVAR = 3/4 50 + 1/4 100 = 62.5 ms,
 * SRTT = 87.5 ms, RTO = 337.5 ms. Without the clamp the sample was
 * negative, read as ~584 years, and the RTO stuck at 120 s. */
static void test_established_clock_going_back_no_negative_sample(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	h_in(h, TERN_TCP_ACK, 1, 101, 0, AT(900));
	expect_rtt(h, US(87500), US(62500), US(337500));
	assert_int_equal(h_send(h, 100, AT(950)), 100);
	expect_seg(h, PA, 101, 1, 100);
	expect_deadline(h, AT(1000) + US(337500));
}

/* 5.1: sending data starts the timer if it is not running; more data
 * while it runs does not restart it. */
static void test_established_send_starts_timer_once(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	expect_deadline(h, AT(1300));
	assert_int_equal(h_send(h, 1460, AT(1050)), 1460);
	expect_seg(h, PA, 101, 1, 1460);
	expect_deadline(h, AT(1300));
}

/* 5.3 and 5.2: each ACK of new data restarts the timer at now + RTO; the
 * ACK of everything stops it. */
static void test_established_new_ack_restarts_timer(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 4380, AT(1000)), 4380);
	expect_seg(h, TERN_TCP_ACK, 1, 1, 1460);
	expect_seg(h, TERN_TCP_ACK, 1461, 1, 1460);
	expect_seg(h, PA, 2921, 1, 1460);
	expect_none(h);
	expect_deadline(h, AT(1300));
	/* R = 100 ms: RTTVAR 37.5 ms, RTO 250 ms */
	h_in(h, TERN_TCP_ACK, 1, 1461, 0, AT(1100));
	expect_rtt(h, MS(100), US(37500), MS(250));
	expect_deadline(h, AT(1350));
	h_in(h, TERN_TCP_ACK, 1, 2921, 0, AT(1200));
	expect_deadline(h, AT(1450));
	h_in(h, TERN_TCP_ACK, 1, 4381, 0, AT(1250));
	expect_deadline(h, TERN_TIME_NONE);
	expect_none(h);
}

/* 5.4, 5.5: each expiry retransmits the earliest unacknowledged segment
 * and doubles the RTO, up to the maximum (120 s). tcp_retries2 = 15 is
 * applied as a time, as Linux (tcp_model_timeout: 924.6 s from the first
 * transmission): the 16th expiry, at 993.3 s, gives up. */
static void test_established_rto_backoff_to_max_then_timeout(void **state)
{
	harness *h = *state;
	tern_time t = AT(1000), rto = MS(300);

	h_established_client(h);
	assert_int_equal(h_send(h, 100, t), 100);
	expect_seg(h, PA, 1, 1, 100);
	for (int n = 1; n <= 15; n++) {
		t += rto;
		fire_at(h, t);
		expect_seg(h, PA, 1, 1, 100);
		expect_none(h);
		rto = rto * 2 > MS(120000) ? MS(120000) : rto * 2;
		assert_int_equal(h_info(h).rto, rto);
		assert_int_equal(h_info(h).retransmits, n);
	}
	assert_int_equal(t, AT(1000) + MS(873300));
	fire_at(h, t + MS(120000));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_TIMEDOUT);
	assert_int_equal(h_recv(h, 10, t), TERN_ERR_TIMEDOUT);
	assert_true(h->events & TERN_EV_ERROR);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_RETRANS_SEGS), 15);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ABORT_ON_TIMEOUT), 1);
	expect_deadline(h, TERN_TIME_NONE);
}

/* RFC 1122 4.2.3.5 R1, tcp_retries1 = 3, applied as a time as R2 is
 * (15 x 200 ms = 3 s from the first transmission): the expiries at 0.3,
 * 0.9 and 2.1 s leave the path alone; each one from 4.5 s on tells the
 * link the path is in doubt (Linux's negative advice). */
static void test_established_retries1_advises_link(void **state)
{
	harness *h = *state;
	tern_time t = AT(1000), rto = MS(300);
	const int want[] = {0, 0, 0, 1, 2, 3};

	h_established_client(h);
	assert_int_equal(h_send(h, 100, t), 100);
	expect_seg(h, PA, 1, 1, 100);
	for (int n = 0; n < 6; n++) {
		t += rto;
		fire_at(h, t);
		expect_seg(h, PA, 1, 1, 100);
		assert_int_equal(h->advised, want[n]);
		rto *= 2;
	}
	h_in(h, TERN_TCP_ACK, 1, 101, 0, t + 1);
	expect_deadline(h, TERN_TIME_NONE); /* acknowledged: no more doubt */
	assert_int_equal(h->advised, 3);
}

/* The retransmission limit counts from when the segment first left. A
 * clock that starts at 0, a handshake in no time (RTO 200 ms) and data
 * at 0 make the first expiry come at exactly t = RTO, so the segment
 * "first left" at time 0: that must still be a start, not "unset" (it
 * once was, and the connection then retried for ever). */
static void test_established_rto_limit_from_time_zero(void **state)
{
	harness *h = *state;
	tern_time t = 0;

	h_connect(h, 0);
	h_in(h, TERN_TCP_SYN | TERN_TCP_ACK, 0, 1, 0, 0);
	expect_seg(h, TERN_TCP_ACK, 1, 1, 0);
	assert_int_equal(h_info(h).rto, MS(200));
	assert_int_equal(h_send(h, 100, 0), 100);
	expect_seg(h, TERN_TCP_PSH | TERN_TCP_ACK, 1, 1, 100);
	while (h_state(h) != TERN_TCP_CLOSED) {
		t = h_deadline(h);
		assert_true(t != TERN_TIME_NONE && t < MS(2000000));
		h_run(h, t);
		while (h_next(h))
			;
	}
	assert_true(t >= MS(924600) && t < MS(924600) + MS(120000));
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_TIMEDOUT);
}

/* Karn's rule (3, and the note after 5.7): the ACK of a retransmitted
 * segment gives no sample, so the backed-off RTO stays until a segment
 * sent once is acknowledged. */
static void test_established_karn_no_sample_from_retransmission(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	fire_at(h, AT(1300));
	expect_seg(h, PA, 1, 1, 100);
	expect_rtt(h, MS(100), MS(50), MS(600));
	h_in(h, TERN_TCP_ACK, 1, 101, 0, AT(1350));
	expect_rtt(h, MS(100), MS(50), MS(600));
	expect_deadline(h, TERN_TIME_NONE);
	/* a fresh segment still runs on the backed-off RTO ... */
	assert_int_equal(h_send(h, 100, AT(2000)), 100);
	expect_seg(h, PA, 101, 1, 100);
	expect_deadline(h, AT(2600));
	/* ... and its ACK is a sample: R = 100 ms collapses the RTO */
	h_in(h, TERN_TCP_ACK, 1, 201, 0, AT(2100));
	expect_rtt(h, MS(100), US(37500), MS(250));
	expect_deadline(h, TERN_TIME_NONE);
	expect_none(h);
}

/* 5.4 with RFC 5681 3.1: after a timeout cwnd is one segment, so only the
 * first segment goes again; its ACK opens cwnd to two (slow start) and
 * the next two follow. */
static void test_established_rto_go_back_n(void **state)
{
	harness *h = *state;

	h_use_reno(h);
	h_established_client(h);
	assert_int_equal(h_send(h, 4380, AT(1000)), 4380);
	expect_seg(h, TERN_TCP_ACK, 1, 1, 1460);
	expect_seg(h, TERN_TCP_ACK, 1461, 1, 1460);
	expect_seg(h, PA, 2921, 1, 1460);
	fire_at(h, AT(1300));
	expect_seg(h, TERN_TCP_ACK, 1, 1, 1460);
	expect_none(h);
	assert_int_equal(h_info(h).cwnd, 1460);
	/* ssthresh = max(FlightSize / 2, 2 SMSS) */
	assert_int_equal(h_info(h).ssthresh, 2920);
	h_in(h, TERN_TCP_ACK, 1, 1461, 0, AT(1400));
	expect_seg(h, TERN_TCP_ACK, 1461, 1, 1460);
	expect_seg(h, PA, 2921, 1, 1460);
	expect_none(h);
	expect_deadline(h, AT(1400) + MS(600));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_syn_sent_initial_rto),
		H_TEST(test_syn_sent_first_sample),
		H_TEST(test_syn_received_first_sample),
		H_TEST(test_syn_sent_small_sample_rto_min),
		H_TEST(test_syn_sent_sample_granularity),
		H_TEST(test_established_second_sample),
		H_TEST(test_established_clock_going_back_no_negative_sample),
		H_TEST(test_established_send_starts_timer_once),
		H_TEST(test_established_new_ack_restarts_timer),
		H_TEST(test_established_rto_backoff_to_max_then_timeout),
		H_TEST(test_established_retries1_advises_link),
		H_TEST(test_established_rto_limit_from_time_zero),
		H_TEST(test_established_karn_no_sample_from_retransmission),
		H_TEST(test_established_rto_go_back_n),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
