/* The sending side: Nagle (RFC 1122 4.2.3.4), sender SWS avoidance
 * (RFC 9293 3.8.6.2.1), the send window and its updates (3.10.7.4, the
 * SND.WL1/SND.WL2 rule), and zero windows with the persist timer
 * (3.8.6.1, RFC 1122 4.2.2.17). */
#include "tcp_harness.h"

static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;

/* ---- Nagle ---- */

/* With data unacknowledged a small write waits for the ACK, then goes
 * together with what followed it. */
static void test_established_nagle_holds_small_write(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	assert_int_equal(h_send(h, 100, AT(1001)), 100);
	assert_int_equal(h_send(h, 50, AT(1002)), 50);
	expect_none(h);
	h_in(h, ACK, 1, 101, 0, AT(1100));
	expect_seg(h, PA, 101, 1, 150);
	expect_none(h);
}

/* TCP_NODELAY: the small write goes at once. */
static void test_established_nodelay_sends_at_once(void **state)
{
	harness *h = *state;

	h->opts.nodelay = true;
	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	assert_int_equal(h_send(h, 100, AT(1001)), 100);
	expect_seg(h, PA, 101, 1, 100);
	expect_none(h);
}

/* Setting TCP_NODELAY pushes what Nagle held (as Linux). */
static void test_established_set_nodelay_pushes_held(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	assert_int_equal(h_send(h, 100, AT(1001)), 100);
	expect_none(h);
	assert_int_equal(tern_tcp_set_nodelay(h->conn, true, AT(1002)), 0);
	expect_seg(h, PA, 101, 1, 100);
	expect_none(h);
}

/* A full-sized segment is never held; only the short tail waits, until
 * nothing is unacknowledged. */
static void test_established_nagle_full_segment_not_held(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 100, AT(1000)), 100);
	expect_seg(h, PA, 1, 1, 100);
	assert_int_equal(h_send(h, 1500, AT(1001)), 1500);
	expect_seg(h, ACK, 101, 1, 1460);
	expect_none(h);
	h_in(h, ACK, 1, 101, 0, AT(1100));
	expect_none(h); /* 1460 still unacknowledged */
	h_in(h, ACK, 1, 1561, 0, AT(1101));
	expect_seg(h, PA, 1561, 1, 40);
	expect_none(h);
}

/* ---- sender SWS avoidance ---- */

/* The peer offered 2000 at the handshake; 3000 bytes are queued. After a
 * full segment only 540 fit: less than half the largest window seen and
 * not all that is queued, so nothing goes (3.8.6.2.1), and the ACK that
 * leaves the window at 540 starts the persist (override) timer. */
static void sws_blocked(harness *h)
{
	h->peer_win = 2000;
	h_established_client(h);
	assert_int_equal(h_send(h, 3000, AT(1000)), 3000);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_none(h);
	h_in_win(h, ACK, 1, 1461, 540, 0, AT(1100));
	expect_none(h);
	assert_int_equal(h_info(h).rto, MS(250));
	expect_deadline(h, AT(1350));
}

/* The window grows: a full segment goes, the 80-byte tail waits. */
static void test_established_sws_waits_for_window(void **state)
{
	harness *h = *state;

	sws_blocked(h);
	h_in_win(h, ACK, 1, 1461, 2000, 0, AT(1200));
	expect_seg(h, ACK, 1461, 1, 1460);
	expect_none(h);
	expect_deadline(h, AT(1450)); /* RTO */
}

/* The override timeout: what fits goes. */
static void test_established_sws_override_timeout(void **state)
{
	harness *h = *state;

	sws_blocked(h);
	fire_at(h, AT(1350));
	expect_seg(h, ACK, 1461, 1, 540);
	expect_none(h);
	expect_deadline(h, AT(1600));
}

/* ---- the send window ---- */

/* Nothing is ever sent beyond SND.UNA + SND.WND. */
static void test_established_never_beyond_window(void **state)
{
	harness *h = *state;

	h->peer_win = 3000;
	h_established_client(h);
	assert_int_equal(h_send(h, 10000, AT(1000)), 10000);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_seg(h, ACK, 1461, 1, 1460);
	expect_none(h); /* 80 more would fit: SWS */
	h_in(h, ACK, 1, 2921, 0, AT(1100));
	expect_seg(h, ACK, 2921, 1, 1460);
	expect_seg(h, ACK, 4381, 1, 1460);
	expect_none(h);
	h_in_win(h, ACK, 1, 5841, 1000, 0, AT(1200));
	expect_none(h);
	expect_deadline(h, AT(1200) + h_info(h).rto); /* persist */
}

/* SND.WL1: a segment the peer sent earlier (lower SEG.SEQ), arriving
 * late, does not change the window. */
static void test_established_older_segment_keeps_window(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in_win(h, PA, 101, 1, 30000, 100, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	assert_int_equal(h_info(h).snd_wnd, 30000);
	h_in_win(h, PA, 1, 1, 5000, 100, AT(1001));
	expect_seg(h, ACK, 1, 201, 0);
	assert_int_equal(h_info(h).snd_wnd, 30000);
}

/* SND.WL2: with the same SEG.SEQ, an older ACK does not either. */
static void test_established_older_ack_keeps_window(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 2920, AT(1000)), 2920);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_seg(h, PA, 1461, 1, 1460);
	h_in_win(h, ACK, 1, 2921, 40000, 0, AT(1100));
	assert_int_equal(h_info(h).snd_wnd, 40000);
	h_in_win(h, ACK, 1, 1461, 1000, 0, AT(1101));
	assert_int_equal(h_info(h).snd_wnd, 40000);
	expect_none(h);
}

/* ---- zero window and the persist timer ---- */

/* 1000 bytes acknowledged with a zero window (RTO now 250 ms), then 500
 * more queued at 1.2 s: nothing goes, the persist timer runs. */
static void zero_window(harness *h)
{
	h_established_client(h);
	assert_int_equal(h_send(h, 1000, AT(1000)), 1000);
	expect_seg(h, PA, 1, 1, 1000);
	h_in_win(h, ACK, 1, 1001, 0, 0, AT(1100));
	assert_int_equal(h_info(h).rto, MS(250));
	expect_deadline(h, TERN_TIME_NONE);
	assert_int_equal(h_send(h, 500, AT(1200)), 500);
	expect_none(h);
	expect_deadline(h, AT(1450));
}

/* Probes of one octet after RTO, then 2, 4, 8 ... RTO, at most 120 s
 * apart; answered, they go on for ever (RFC 1122 4.2.2.17), and their
 * answers, however many, are not duplicate ACKs: no fast retransmit. */
static void test_established_zero_window_probes_back_off(void **state)
{
	harness *h = *state;
	tern_time t = AT(1450), gap = MS(250);

	zero_window(h);
	for (int n = 1; n <= 14; n++) {
		fire_at(h, t);
		expect_seg(h, ACK, 1001, 1, 1);
		expect_none(h);
		h_in_win(h, ACK, 1, 1001, 0, 0, t + MS(10));
		expect_none(h);
		gap = gap * 2 > MS(120000) ? MS(120000) : gap * 2;
		t += gap;
		expect_deadline(h, t);
	}
	assert_int_equal(gap, MS(120000));
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_PERSIST_PROBES), 14);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 0);
	/* a probe sent again is a probe, not a retransmission */
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_RETRANS_SEGS), 0);
}

/* Probes nobody answers: after tcp_retries2 (15) of them in a row the
 * connection times out (Linux's tcp_probe_timer); no 16th probe. */
static void test_established_zero_window_unanswered_probes_give_up(void **state)
{
	harness *h = *state;

	zero_window(h);
	for (int n = 1; n <= 15; n++) {
		fire_at(h, h_deadline(h));
		expect_seg(h, ACK, 1001, 1, 1);
		expect_none(h);
	}
	expect_state(h, TERN_TCP_ESTABLISHED);
	h_run(h, h_deadline(h));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_TIMEDOUT);
}

/* The window opens: the queued data goes at once, from SND.UNA, and the
 * retransmission timer takes over with an RTO not backed off. */
static void test_established_zero_window_opens(void **state)
{
	harness *h = *state;

	zero_window(h);
	fire_at(h, AT(1450));
	expect_seg(h, ACK, 1001, 1, 1);
	h_in_win(h, ACK, 1, 1001, 0, 0, AT(1460));
	fire_at(h, AT(1950));
	expect_seg(h, ACK, 1001, 1, 1);
	h_in_win(h, ACK, 1, 1001, 65535, 0, AT(2000));
	expect_seg(h, PA, 1001, 1, 500);
	expect_none(h);
	expect_deadline(h, AT(2250));
	h_in(h, ACK, 1, 1501, 0, AT(2100));
	expect_deadline(h, TERN_TIME_NONE);
}

/* The peer takes the probe's octet and still offers no window: the next
 * probe carries the next octet. */
static void test_established_zero_window_probe_octet_taken(void **state)
{
	harness *h = *state;

	zero_window(h);
	fire_at(h, AT(1450));
	expect_seg(h, ACK, 1001, 1, 1);
	h_in_win(h, ACK, 1, 1002, 0, 0, AT(1460));
	expect_none(h);
	fire_at(h, AT(1950));
	expect_seg(h, ACK, 1002, 1, 1);
	expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_established_nagle_holds_small_write),
		H_TEST(test_established_nodelay_sends_at_once),
		H_TEST(test_established_set_nodelay_pushes_held),
		H_TEST(test_established_nagle_full_segment_not_held),
		H_TEST(test_established_sws_waits_for_window),
		H_TEST(test_established_sws_override_timeout),
		H_TEST(test_established_never_beyond_window),
		H_TEST(test_established_older_segment_keeps_window),
		H_TEST(test_established_older_ack_keeps_window),
		H_TEST(test_established_zero_window_probes_back_off),
		H_TEST(test_established_zero_window_opens),
		H_TEST(test_established_zero_window_unanswered_probes_give_up),
		H_TEST(test_established_zero_window_probe_octet_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
