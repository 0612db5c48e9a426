/* Blind in-window attacks (RFC 5961): RSTs (3.2), SYNs (4.2) and ACKs
 * (5.2) that do not fit; out-of-window segments and the rate limit on
 * answering them (10; Linux's tcp_invalid_ratelimit), which with ACKs
 * carrying SND.MAX keeps two ends from an ACK war. */
#include "stack/stack.h"
#include "tcp_harness.h"

static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;
static const uint8_t RST = TERN_TCP_RST;

/* ---- RST (3.2) ---- */

/* In the window but not at RCV.NXT: a challenge ACK, nothing else. */
static void test_established_rst_in_window_challenged(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, RST, 101, 0, 0, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS), 1);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_RST_IN_WINDOW), 1);
	assert_int_equal(tern_tcp_error(h->conn), 0);
}

/* Outside the window (either side): dropped without a word. */
static void test_established_rst_out_of_window_dropped(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, RST, 1 + 65535, 0, 0, AT(1000));
	h_in(h, RST, 0, 0, 0, AT(1001));
	h_in(h, RST | ACK, 0, 1, 0, AT(1002));
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_RST_OUT_OF_WINDOW), 3);
}

/* Exactly at RCV.NXT: the connection is reset. */
static void test_established_rst_at_rcv_nxt_resets(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, RST, 1, 0, 0, AT(1000));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_RESET);
	assert_int_equal(h_recv(h, 10, AT(1000)), TERN_ERR_RESET);
	assert_true(h->events & TERN_EV_ERROR);
	assert_true(h->events & TERN_EV_CLOSED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ESTAB_RESETS), 1);
	expect_deadline(h, TERN_TIME_NONE);
}

/* ---- SYN (4.2) ---- */

/* A SYN in the window draws a challenge ACK; the connection stays. */
static void test_established_syn_challenged(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, TERN_TCP_SYN, 5, 0, 0, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_SYN_CHALLENGE), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS), 1);
}

/* The peer's SYN+ACK again (our ACK was lost): it is old, and answered
 * with an ACK. */
static void test_established_synack_again_acked(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, TERN_TCP_SYN | ACK, 0, 1, 0, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* ---- ACK (5.2 and RFC 9293 3.10.7.4) ---- */

/* SEG.ACK > SND.NXT: ACK, drop the segment (its text too). */
static void test_established_ack_of_unsent_dropped(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1000, 100, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 200, AT(1000)), TERN_ERR_AGAIN);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_BAD_ACK), 1);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* SEG.ACK < SND.UNA - MAX.SND.WND: ACK, drop. With a 1000-byte window
 * and 2000 bytes acknowledged, 1000 is too old and 1001 is fine. */
static void test_established_ack_too_old_dropped(void **state)
{
	harness *h = *state;

	h->peer_win = 1000;
	h_established_client(h);
	assert_int_equal(h_send(h, 1000, AT(1000)), 1000);
	expect_seg(h, PA, 1, 1, 1000);
	h_in(h, ACK, 1, 1001, 0, AT(1100));
	assert_int_equal(h_send(h, 1000, AT(1200)), 1000);
	expect_seg(h, PA, 1001, 1, 1000);
	h_in(h, ACK, 1, 2001, 0, AT(1300));
	expect_none(h);
	h_in(h, PA, 1, 1000, 10, AT(1400));
	expect_seg(h, ACK, 2001, 1, 0);
	expect_none(h);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_OLD_ACK), 1);
	/* a challenge ACK, as Linux's tcp_ack sends it */
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS), 1);
	assert_int_equal(h_recv(h, 100, AT(1400)), TERN_ERR_AGAIN);
	h_in(h, PA, 1, 1001, 10, AT(1500));
	expect_none(h); /* in order: the ACK is delayed */
	assert_int_equal(h_recv(h, 100, AT(1500)), 10);
}

/* ---- out-of-window segments and the ACK war ---- */

/* An out-of-window pure ACK is answered at most once per 500 ms; one
 * with data always (it tells the sender its retransmission was not
 * needed). */
static void test_established_oow_ack_answers_rate_limited(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, ACK, 100000, 1, 0, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, ACK, 100000, 1, 0, AT(1100));
	h_in(h, ACK, 100000, 1, 0, AT(1499));
	expect_none(h);
	h_in(h, ACK, 100000, 1, 0, AT(1500));
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, ACK, 100000, 1, 0, AT(1600));
	expect_none(h);
	h_in(h, PA, 100000, 1, 10, AT(1601));
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, PA, 100000, 1, 10, AT(1602));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_OUT_OF_WINDOW), 7);
}

/* Old data (a needless retransmission) is always answered. */
static void test_established_old_data_always_answered(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	fire_at(h, AT(1040));
	expect_seg(h, ACK, 1, 101, 0);
	for (int i = 0; i < 3; i++) {
		h_in(h, PA, 1, 1, 100, AT(1100) + MS(i));
		expect_seg(h, ACK, 1, 101, 0);
	}
	expect_none(h);
	assert_int_equal(h_recv(h, 1000, AT(1200)), 100);
}

/* After a timeout SND.NXT goes back to SND.UNA, but a pure ACK carries
 * the highest sequence sent: the peer may have all of it, and an ACK
 * below its RCV.NXT would be out of its window and answered, and so on
 * for ever (the ACK war this regression test guards against). */
static void test_established_ack_after_rto_carries_snd_max(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 4380, AT(1000)), 4380);
	for (int i = 0; i < 3; i++)
		assert_non_null(h_next(h));
	fire_at(h, AT(1300));
	expect_seg(h, ACK, 1, 1, 1460);
	assert_int_equal(h_info(h).snd_nxt - h->iss, 1461);
	h_in(h, PA, 1, 1, 100, AT(1310));
	fire_at(h, AT(1350));
	expect_seg(h, ACK, 4381, 101, 0);
	expect_none(h);
}

/* ---- the stack's limit on challenge ACKs (RFC 5961 10) ---- */

/* n RSTs in the window, not at RCV.NXT, at t: returns the challenge ACKs
 * they drew. */
static int rst_burst(harness *h, int n, tern_time t)
{
	int acks = 0;

	for (int i = 0; i < n; i++)
		h_in(h, RST, 101 + (uint32_t)i, 0, 0, t);
	while (h_next(h))
		acks++;
	return acks;
}

/* The budget Linux's tcp_send_challenge_ack() draws for a new second:
 * get_random_u32_inclusive(half, limit + half - 1), half = (limit + 1)
 * / 2, here from a copy of the stack's own generator, which the stack
 * will draw from next. */
static uint32_t next_budget(const tern_stack *s, uint32_t limit)
{
	tern_stack copy = *s;

	return (limit + 1) / 2 + stack_random_below(&copy, limit);
}

/* tcp_challenge_ack_limit = 10: a burst in one second draws exactly the
 * budget the generator gives (between 5 and 14), counted in
 * TCPChallengeACK; the suppressed ones are counted nowhere, as in Linux.
 * The next second has a new budget; SYNs draw on it too. */
static void test_challenge_ack_limit_per_second(void **state)
{
	harness *h = *state;

	h->cfg.tcp_challenge_ack_limit = 10;
	h_restart(h);
	h_established_client(h);
	uint32_t budget = next_budget(h->stack, 10);
	assert_true(budget >= 5 && budget <= 14);
	assert_int_equal(rst_burst(h, 30, AT(1000)), budget);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS), budget);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_RST_IN_WINDOW), 30);
	/* still the same second of the clock (11 s): nothing more */
	h_in(h, TERN_TCP_SYN, 5, 0, 0, AT(1999));
	expect_none(h);
	uint32_t second = next_budget(h->stack, 10);
	assert_true(second >= 5 && second <= 14);
	h_in(h, TERN_TCP_SYN, 5, 0, 0, AT(2000));
	expect_seg(h, ACK, 1, 1, 0);
	assert_int_equal(rst_burst(h, 30, AT(2500)), second - 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS),
			 budget + second);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* The default, 2^31 - 1 (Linux since 6.0): no limit. */
static void test_challenge_ack_no_limit_by_default(void **state)
{
	harness *h = *state;

	assert_int_equal(h->cfg.tcp_challenge_ack_limit, 2147483647);
	h_established_client(h);
	assert_int_equal(rst_burst(h, 200, AT(1000)), 200);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_CHALLENGE_ACKS), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_established_rst_in_window_challenged),
		H_TEST(test_established_rst_out_of_window_dropped),
		H_TEST(test_established_rst_at_rcv_nxt_resets),
		H_TEST(test_established_syn_challenged),
		H_TEST(test_established_synack_again_acked),
		H_TEST(test_established_ack_of_unsent_dropped),
		H_TEST(test_established_ack_too_old_dropped),
		H_TEST(test_established_oow_ack_answers_rate_limited),
		H_TEST(test_established_old_data_always_answered),
		H_TEST(test_established_ack_after_rto_carries_snd_max),
		H_TEST(test_challenge_ack_limit_per_second),
		H_TEST(test_challenge_ack_no_limit_by_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
