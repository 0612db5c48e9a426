/* The receiving side: delayed ACKs (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2,
 * RFC 5681 4.2), receiver SWS avoidance (3.8.6.2.2), the window's right
 * edge, trimming to the window, and out-of-order reassembly. */
#include "tcp_harness.h"

static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;
static const uint8_t FA = TERN_TCP_FIN | TERN_TCP_ACK;

/* ---- delayed ACK ---- */

/* One full-sized segment: the ACK waits exactly the delayed-ACK time. */
static void test_established_one_segment_ack_after_40ms(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 1460, AT(1000));
	expect_none(h);
	expect_deadline(h, AT(1040));
	h_run(h, AT(1040) - 1);
	expect_none(h);
	fire_at(h, AT(1040));
	expect_seg(h, ACK, 1, 1461, 0);
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_DELAYED_ACKS), 1);
	expect_deadline(h, TERN_TIME_NONE);
}

/* RFC 1122 4.2.3.2: at least every second full-sized segment is
 * acknowledged at once. */
static void test_established_two_segments_ack_at_once(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, ACK, 1, 1, 1460, AT(1000));
	expect_none(h);
	h_in(h, PA, 1461, 1, 1460, AT(1010));
	expect_seg(h, ACK, 1, 2921, 0);
	expect_none(h);
	expect_deadline(h, TERN_TIME_NONE);
}

/* A second small segment does not push the delayed ACK further away. */
static void test_established_small_segments_timer_not_restarted(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	h_in(h, PA, 101, 1, 100, AT(1030));
	expect_none(h);
	fire_at(h, AT(1040));
	expect_seg(h, ACK, 1, 201, 0);
	expect_none(h);
}

/* Data going the other way carries the pending ACK and cancels the
 * timer. */
static void test_established_ack_piggybacked_on_data(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	assert_int_equal(h_send(h, 50, AT(1010)), 50);
	expect_seg(h, PA, 1, 101, 50);
	expect_none(h);
	expect_deadline(h, AT(1310)); /* the RTO, no delayed ACK */
}

/* RFC 5681 4.2: an out-of-order segment draws an immediate duplicate
 * ACK, and the segment filling the hole an immediate ACK. */
static void test_established_ooo_dupack_then_fill_acks_at_once(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1461, 1, 1460, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 4000, AT(1000)), TERN_ERR_AGAIN);
	h_in(h, ACK, 1, 1, 1460, AT(1010));
	expect_seg(h, ACK, 1, 2921, 0);
	expect_none(h);
	expect_deadline(h, TERN_TIME_NONE);
	assert_int_equal(h_recv(h, 4000, AT(1020)), 2920);
}

/* ---- window: SWS avoidance and the right edge ---- */

/* The segment advertises exactly this right edge (RCV.NXT + RCV.WND,
 * relative to the peer's ISN). */
static uint32_t expect_edge(harness *h, const h_seg *s, uint32_t edge)
{
	assert_int_equal(h_right_edge(h, s), edge);
	return edge;
}

/* An 8 KB receive buffer filled up: the ACKs show the right edge fixed
 * at 8193 while the window closes. */
static void fill_8k(harness *h)
{
	h->opts.rcvbuf = 8192;
	h_established_client(h);
	assert_int_equal(h_info(h).rcv_wnd, 8192);
	h_in(h, ACK, 1, 1, 1460, AT(1000));
	h_in(h, ACK, 1461, 1, 1460, AT(1000));
	expect_edge(h, expect_seg(h, ACK, 1, 2921, 0), 8193);
	h_in(h, ACK, 2921, 1, 1460, AT(1010));
	h_in(h, ACK, 4381, 1, 1460, AT(1010));
	expect_edge(h, expect_seg(h, ACK, 1, 5841, 0), 8193);
	h_in(h, ACK, 5841, 1, 1460, AT(1020));
	h_in(h, PA, 7301, 1, 892, AT(1020));
	expect_none(h);
	fire_at(h, AT(1060));
	const h_seg *s = expect_seg(h, ACK, 1, 8193, 0);
	assert_int_equal(s->win, 0);
	expect_none(h);
}

/* Receiver SWS avoidance: reads that would move the right edge by less
 * than min(RCV.BUFF / 2, MSS) send nothing; once it can move by that
 * much, a window update goes (Linux: when the window at least doubles). */
static void test_established_rcv_sws_small_reads(void **state)
{
	harness *h = *state;

	fill_8k(h);
	assert_int_equal(h_recv(h, 100, AT(1100)), 100);
	assert_int_equal(h_recv(h, 1000, AT(1110)), 1000);
	expect_none(h);
	assert_int_equal(h_recv(h, 359, AT(1120)), 359);
	expect_none(h);
	assert_int_equal(h_recv(h, 1, AT(1130)), 1); /* 1460 read */
	const h_seg *s = expect_seg(h, ACK, 1, 8193, 0);
	assert_int_equal(s->win, 1460);
	expect_none(h);
	/* 1000 more would move the edge by less than an MSS */
	assert_int_equal(h_recv(h, 1000, AT(1140)), 1000);
	expect_none(h);
	assert_int_equal(h_recv(h, 8192, AT(1150)), 8192 - 2460);
	s = expect_seg(h, ACK, 1, 8193, 0);
	assert_int_equal(s->win, 8192);
	expect_none(h);
	expect_deadline(h, TERN_TIME_NONE);
}

/* The right edge never moves left: the window shrinks as data arrives
 * unread, the edge stays; data beyond it is cut off and the ACK says
 * where the edge is. */
static void test_established_beyond_window_trimmed(void **state)
{
	harness *h = *state;

	h->opts.rcvbuf = 4096;
	h_established_client(h);
	h_in(h, PA, 1, 1, 1000, AT(1000));
	fire_at(h, AT(1040));
	expect_edge(h, expect_seg(h, ACK, 1, 1001, 0), 4097);
	h_in(h, PA, 1001, 1, 4000, AT(1100));
	const h_seg *s = expect_seg(h, ACK, 1, 4097, 0);
	assert_int_equal(s->win, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 9000, AT(1200)), 4096);
	s = expect_seg(h, ACK, 1, 4097, 0);
	assert_int_equal(s->win, 4096);
}

/* RFC 9293 3.10.7.4: with a zero window a segment at RCV.NXT is still
 * processed for its ACK, its text dropped, and answered with our
 * (zero) window: the answer to a window probe. */
static void test_established_zero_window_probe_answered(void **state)
{
	harness *h = *state;

	fill_8k(h);
	h_in(h, PA, 8193, 1, 1, AT(2000));
	const h_seg *s = expect_seg(h, ACK, 1, 8193, 0);
	assert_int_equal(s->win, 0);
	expect_none(h);
	assert_int_equal(h_info(h).bytes_received, 8192);
	/* a small read leaves the edge, so the next probe hears 0 again */
	assert_int_equal(h_recv(h, 100, AT(2100)), 100);
	expect_none(h);
	h_in(h, PA, 8193, 1, 1, AT(2200));
	s = expect_seg(h, ACK, 1, 8193, 0);
	assert_int_equal(s->win, 0);
}

/* A bare FIN at RCV.NXT into a zero window needs no buffer: it is taken
 * (Linux does the same; RFC 9293's table would make it wait for the
 * window), the application reads the data, then the end of stream. A FIN
 * riding on text the window cannot take waits. */
static void test_established_zero_window_bare_fin_taken(void **state)
{
	harness *h = *state;

	fill_8k(h);
	h_in(h, PA | TERN_TCP_FIN, 8193, 1, 1, AT(2000));
	expect_seg(h, ACK, 1, 8193, 0);
	expect_state(h, TERN_TCP_ESTABLISHED);
	h_in(h, ACK | TERN_TCP_FIN, 8193, 1, 0, AT(2100));
	expect_state(h, TERN_TCP_CLOSE_WAIT);
	assert_int_equal(h_info(h).rcv_nxt, h->irs + 8194);
	assert_int_equal(h_recv(h, 9000, AT(2200)), 8192);
	assert_int_equal(h_recv(h, 9000, AT(2200)), 0);
}

/* ---- out-of-order reassembly ---- */

/* Duplicates and overlaps (with the queue and with RCV.NXT) are kept
 * once: the application reads every byte once, in order. */
static void test_established_ooo_overlaps_delivered_once(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 101, 1, 100, AT(1000)); /* [101,201) */
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, PA, 101, 1, 100, AT(1001)); /* the same again */
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, PA, 51, 1, 100, AT(1002)); /* [51,151) */
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, PA, 301, 1, 100, AT(1003)); /* [301,401) */
	expect_seg(h, ACK, 1, 1, 0);
	assert_int_equal(h_recv(h, 1000, AT(1004)), TERN_ERR_AGAIN);
	h_in(h, PA, 1, 1, 60, AT(1005)); /* [1,61): up to 201 */
	expect_seg(h, ACK, 1, 201, 0);
	h_in(h, PA, 151, 1, 200, AT(1006)); /* [151,351): up to 401 */
	expect_seg(h, ACK, 1, 401, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 1000, AT(1007)), 400);
	assert_int_equal(h_recv(h, 1000, AT(1007)), TERN_ERR_AGAIN);
	assert_int_equal(h_info(h).bytes_received, 400);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_OFO_QUEUE), 4);
}

/* Reading the buffer empty while out-of-order data waits beyond it
 * must leave that data where the hole's bytes will join it (regression:
 * the ring's head went back to 0 when it emptied). */
static void test_established_ooo_survives_read_to_empty(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	h_in(h, PA, 201, 1, 100, AT(1001));
	expect_seg(h, ACK, 1, 101, 0);
	assert_int_equal(h_recv(h, 1000, AT(1002)), 100);
	h_in(h, PA, 101, 1, 100, AT(1003));
	expect_seg(h, ACK, 1, 301, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 1000, AT(1004)), 200);
}

/* A segment bridging two queued ranges merges them. */
static void test_established_ooo_bridge_merges_ranges(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 101, 1, 100, AT(1000));
	h_in(h, PA, 301, 1, 100, AT(1001));
	h_in(h, PA, 151, 1, 200, AT(1002));
	h_in(h, PA, 1, 1, 100, AT(1003));
	for (int i = 0; i < 3; i++)
		expect_seg(h, ACK, 1, 1, 0);
	expect_seg(h, ACK, 1, 401, 0);
	expect_none(h);
	assert_int_equal(h_recv(h, 1000, AT(1004)), 400);
}

/* RFC 9293 3.10.7.4, eighth step: a FIN is processed only once all the
 * text before it has arrived. */
static void test_established_ooo_fin_waits_for_hole(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, FA, 101, 1, 100, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_recv(h, 1000, AT(1001)), TERN_ERR_AGAIN);
	h_in(h, PA, 1, 1, 100, AT(1010));
	expect_seg(h, ACK, 1, 202, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSE_WAIT);
	assert_int_equal(h_recv(h, 1000, AT(1020)), 200);
	assert_int_equal(h_recv(h, 1000, AT(1020)), 0);
}

/* TCP_OOO_MAX (64) ranges: a 65th disjoint one is dropped (its dup ACK
 * still goes), one that touches a range still merges in, and once holes
 * fill the dropped segment's retransmission is taken: everything arrives
 * in order. */
static void test_established_ooo_table_full_recovers(void **state)
{
	harness *h = *state;
	tern_time t = AT(1000);

	h_established_client(h);
	for (uint32_t k = 0; k <= TCP_OOO_MAX; k++) {
		h_in(h, PA, 101 + 200 * k, 1, 100, t++);
		expect_seg(h, ACK, 1, 1, 0);
	}
	assert_int_equal(h_drops(h, TERN_DROP_TCP_OOO_FULL), 1);
	h_in(h, PA, 201, 1, 100, t++); /* joins ranges 0 and 1 */
	expect_seg(h, ACK, 1, 1, 0);
	h_in(h, PA, 101 + 200 * TCP_OOO_MAX, 1, 100, t++); /* room now */
	expect_seg(h, ACK, 1, 1, 0);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_OOO_FULL), 1);
	h_in(h, PA, 1, 1, 100, t++);
	expect_seg(h, ACK, 1, 401, 0);
	for (uint32_t k = 2; k <= TCP_OOO_MAX; k++) {
		h_in(h, PA, 1 + 200 * k, 1, 100, t++);
		expect_seg(h, ACK, 1, 201 + 200 * k, 0);
	}
	expect_none(h);
	assert_int_equal(h_recv(h, 65536, t), 200 * (TCP_OOO_MAX + 1));
	assert_int_equal(h_recv(h, 65536, t), TERN_ERR_AGAIN);
}

/* Header prediction (fast.c): in-order data with the window unchanged is
 * taken by the fast path, and gives what the general path gives (the
 * delayed-ACK rules, the bytes); a segment announcing a new window, or
 * one out of order, takes the general path. */
static void test_header_prediction_data(void **state)
{
	harness *h = *state;

	h_established_server(h);
	h_in(h, ACK, 1, 1, 1460, AT(1000));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_HITS), 1);
	h_in(h, PA, 1461, 1, 1460, AT(1001));
	expect_seg(h, ACK, 1, 2921, 0);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_HITS), 2);
	h_in_win(h, ACK, 2921, 1, 1000, 100, AT(1002)); /* new window */
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_HITS), 2);
	assert_int_equal(h_info(h).snd_wnd, 1000);
	h_in(h, ACK, 3121, 1, 100, AT(1003)); /* out of order */
	expect_seg(h, ACK, 1, 3021, 0);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_HITS), 2);
	assert_int_equal(h_recv(h, 9000, AT(1004)), 3020);
}

/* ... and a pure ACK of new data, as the sender sees it. */
static void test_header_prediction_ack(void **state)
{
	harness *h = *state;

	h_established_client(h);
	assert_int_equal(h_send(h, 2920, AT(1000)), 2920);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_seg(h, PA, 1461, 1, 1460);
	h_in(h, ACK, 1, 1461, 0, AT(1100));
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_ACKS), 1);
	h_in(h, ACK, 1, 2921, 0, AT(1101));
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_ACKS), 2);
	assert_int_equal(h_info(h).snd_una - h->iss, 2921);
	expect_deadline(h, TERN_TIME_NONE);
	/* a duplicate ACK is no prediction */
	assert_int_equal(h_send(h, 100, AT(1200)), 100);
	expect_seg(h, PA, 2921, 1, 100);
	h_in(h, ACK, 1, 2921, 0, AT(1201));
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_HP_ACKS), 2);
}

/* tern_stack_batch(): six full segments in one batch draw one ACK, at
 * its end, where without the batch every second one draws its own. */
static void test_batch_one_ack_for_the_batch(void **state)
{
	harness *h = *state;

	h_established_server(h);
	tern_stack_batch(h->stack, true, AT(1000));
	for (uint32_t k = 0; k < 6; k++)
		h_in(h, ACK, 1 + 1460 * k, 1, 1460, AT(1000));
	expect_none(h);
	tern_stack_batch(h->stack, false, AT(1000));
	expect_seg(h, ACK, 1, 1 + 6 * 1460, 0);
	expect_none(h);
	expect_deadline(h, TERN_TIME_NONE);
	/* outside a batch: an ACK every second segment */
	for (uint32_t k = 6; k < 10; k++)
		h_in(h, ACK, 1 + 1460 * k, 1, 1460, AT(1001));
	expect_seg(h, ACK, 1, 1 + 8 * 1460, 0);
	expect_seg(h, ACK, 1, 1 + 10 * 1460, 0);
	expect_none(h);
}

/* Out-of-order segments in a batch: one duplicate ACK at its end. */
static void test_batch_out_of_order_one_dupack(void **state)
{
	harness *h = *state;

	h_established_server(h);
	tern_stack_batch(h->stack, true, AT(1000));
	for (uint32_t k = 1; k < 4; k++)
		h_in(h, ACK, 1 + 1460 * k, 1, 1460, AT(1000));
	tern_stack_batch(h->stack, false, AT(1000));
	expect_seg(h, ACK, 1, 1, 0);
	expect_none(h);
}

/* A connection that goes away inside the batch (a child nobody
 * accepted, reset) leaves the batch's list: its end sends nothing. */
static void test_batch_connection_gone(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	h_in(h, ACK, 1, 1, 0, AT(100));
	tern_stack_batch(h->stack, true, AT(1000));
	h_in(h, ACK, 1461, 1, 1460, AT(1000)); /* out of order: ACK due */
	h_in(h, TERN_TCP_RST, 1, 0, 0, AT(1000));
	assert_int_equal(tern_stack_conn_count(h->stack), 1); /* listener */
	tern_stack_batch(h->stack, false, AT(1000));
	expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_established_one_segment_ack_after_40ms),
		H_TEST(test_established_two_segments_ack_at_once),
		H_TEST(test_established_small_segments_timer_not_restarted),
		H_TEST(test_established_ack_piggybacked_on_data),
		H_TEST(test_established_ooo_dupack_then_fill_acks_at_once),
		H_TEST(test_established_rcv_sws_small_reads),
		H_TEST(test_established_beyond_window_trimmed),
		H_TEST(test_established_zero_window_probe_answered),
		H_TEST(test_established_zero_window_bare_fin_taken),
		H_TEST(test_established_ooo_overlaps_delivered_once),
		H_TEST(test_established_ooo_survives_read_to_empty),
		H_TEST(test_established_ooo_bridge_merges_ranges),
		H_TEST(test_established_ooo_fin_waits_for_hole),
		H_TEST(test_established_ooo_table_full_recovers),
		H_TEST(test_header_prediction_data),
		H_TEST(test_header_prediction_ack),
		H_TEST(test_batch_one_ack_for_the_batch),
		H_TEST(test_batch_out_of_order_one_dupack),
		H_TEST(test_batch_connection_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
