/* Loss recovery: fast retransmit and fast recovery (RFC 5681 3.2), with
 * NewReno's partial acknowledgments (RFC 6582 3.2), and what is not a
 * duplicate ACK (RFC 5681 2). */
#include "tcp_harness.h"

static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;

#define B 4381u /* first byte of the flight under test */

/* Slow start to cwnd = 6 segments (three ACKs of one segment each), then
 * a flight of six segments S0..S5 at 2 s: seq B + 1460 k. */
static void six_in_flight(harness *h)
{
	h->cfg.tcp_initcwnd = 0; /* RFC 5681 3.1: 3 segments */
	h_use_reno(h);
	h_established_client(h);
	assert_int_equal(h_send(h, 4380, AT(1000)), 4380);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_seg(h, ACK, 1461, 1, 1460);
	expect_seg(h, PA, 2921, 1, 1460);
	h_in(h, ACK, 1, 1461, 0, AT(1100));
	h_in(h, ACK, 1, 2921, 0, AT(1101));
	h_in(h, ACK, 1, 4381, 0, AT(1102));
	expect_none(h);
	assert_int_equal(h_info(h).cwnd, 8760);
	assert_int_equal(h_send(h, 8760, AT(2000)), 8760);
	for (uint32_t k = 0; k < 6; k++)
		expect_seg(h, k == 5 ? PA : ACK, B + 1460 * k, 1, 1460);
	expect_none(h);
}

static void dupack(harness *h, tern_time now)
{
	h_in(h, ACK, 1, B, 0, now);
}

/* S0 and S2 lost. The third duplicate ACK retransmits S0 (ssthresh =
 * FlightSize / 2, cwnd = ssthresh + 3 SMSS); later ones inflate cwnd. The
 * partial ACK up to S2 retransmits S2 at once (RFC 6582 3.2 step 4);
 * the full ACK ends recovery with cwnd = min(ssthresh, max(FlightSize,
 * SMSS) + SMSS) (step 3, option 1). */
static void test_established_fast_retransmit_newreno(void **state)
{
	harness *h = *state;

	six_in_flight(h);
	dupack(h, AT(2100));
	dupack(h, AT(2101));
	expect_none(h);
	dupack(h, AT(2102));
	expect_seg(h, ACK, B, 1, 1460);
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 1);
	assert_int_equal(h_info(h).ssthresh, 4380);
	assert_int_equal(h_info(h).cwnd, 4380 + 3 * 1460);
	dupack(h, AT(2103));
	expect_none(h);
	assert_int_equal(h_info(h).cwnd, 4380 + 4 * 1460);
	/* partial ACK: S0 and S1 */
	h_in(h, ACK, 1, B + 2920, 0, AT(2200));
	expect_seg(h, ACK, B + 2920, 1, 1460);
	expect_none(h);
	assert_int_equal(h_info(h).cwnd, 4380 + 4 * 1460 - 2920 + 1460);
	expect_deadline(h, AT(2200) + h_info(h).rto);
	/* full ACK */
	h_in(h, ACK, 1, B + 8760, 0, AT(2300));
	expect_none(h);
	assert_int_equal(h_info(h).cwnd, 2920);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 1);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_RETRANS_SEGS), 2);
	expect_deadline(h, TERN_TIME_NONE);
}

/* During recovery (cwnd inflated) new data may go. */
static void test_established_recovery_sends_new_data(void **state)
{
	harness *h = *state;

	six_in_flight(h);
	dupack(h, AT(2100));
	dupack(h, AT(2101));
	dupack(h, AT(2102));
	expect_seg(h, ACK, B, 1, 1460);
	assert_int_equal(h_send(h, 1460, AT(2103)), 1460);
	expect_none(h); /* cwnd 8760 = FlightSize */
	dupack(h, AT(2104));
	expect_seg(h, PA, B + 8760, 1, 1460);
	expect_none(h);
}

/* RFC 5681 2: an ACK that changes the window, or carries data, is not a
 * duplicate ACK; and 3.2: the count runs "without any intervening ACKs
 * which move SND.UNA", so such ACKs do not reset it either (nor does
 * Linux: only FLAG_SND_UNA_ADVANCED does). The third real duplicate
 * triggers the fast retransmit. */
static void test_established_dupacks_around_window_update(void **state)
{
	harness *h = *state;

	six_in_flight(h);
	dupack(h, AT(2100));
	h_in_win(h, ACK, 1, B, 60000, 0, AT(2101)); /* window update */
	h_in_win(h, PA, 1, B, 60000, 10, AT(2102)); /* data */
	h_in_win(h, ACK, 11, B, 60000, 0, AT(2103));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 0);
	h_in_win(h, ACK, 11, B, 60000, 0, AT(2104));
	expect_seg(h, ACK, B, 11, 1460);
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_established_fast_retransmit_newreno),
		H_TEST(test_established_recovery_sends_new_data),
		H_TEST(test_established_dupacks_around_window_update),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
