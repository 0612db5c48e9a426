/* Closing: CLOSE and ABORT in every state (RFC 9293 3.10.4, 3.10.5),
 * shutdown(), the closing states' arrivals (3.10.7.4), orphans (RFC 1122
 * 4.2.2.13, Linux's tcp_fin_timeout), TIME_WAIT, and what the application
 * can still read after a reset. */
#include "tcp_harness.h"

static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;
static const uint8_t FA = TERN_TCP_FIN | TERN_TCP_ACK;
static const uint8_t RA = TERN_TCP_RST | TERN_TCP_ACK;

static const tern_time TWO_MSL = MS(60000);

/* ---- ABORT: RST only where the peer holds state (Linux's
 * tcp_need_reset: SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1/2, CLOSE_WAIT) */

/* Aborts at now; the RST (if any) is <SEQ=SND.MAX><ACK=RCV.NXT>. */
static void abort_expect(harness *h, tern_time now, bool rst, uint32_t seq,
			 uint32_t ack)
{
	uint64_t id = h->conn_id;
	uint64_t rsts = h_ctr(h, TERN_CTR_TCP_OUT_RSTS);

	h_abort(h, now);
	if (rst)
		expect_seg(h, RA, seq, ack, 0);
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_OUT_RSTS), rsts + (rst ? 1 : 0));
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
	assert_int_equal(tern_stack_mem_in_use(h->stack), h->mem0);
	expect_deadline(h, TERN_TIME_NONE);
}

static void test_listen_abort(void **state)
{
	harness *h = *state;

	h_listen(h);
	h->conn = h->listener;
	h->listener = NULL;
	h->conn_id = h_info(h).conn_id;
	abort_expect(h, AT(10), false, 0, 0);
}

static void test_syn_sent_abort(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	abort_expect(h, AT(10), false, 0, 0);
}

/* SYN_RECEIVED, active side: a simultaneous open (RFC 9293 figure 7). */
static void test_syn_received_abort(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	h_in(h, TERN_TCP_SYN, 0, 0, 0, AT(50));
	expect_seg(h, TERN_TCP_SYN | ACK, 0, 1, 0);
	expect_state(h, TERN_TCP_SYN_RECEIVED);
	abort_expect(h, AT(60), true, 1, 1);
}

static void test_established_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	abort_expect(h, AT(1000), true, 1, 1);
}

static void test_fin_wait_1_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_fin_wait_1(h, AT(1000));
	abort_expect(h, AT(1010), true, 2, 1);
}

static void test_fin_wait_2_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_fin_wait_2(h, AT(1000));
	abort_expect(h, AT(1010), true, 2, 1);
}

static void test_close_wait_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_close_wait(h, AT(1000));
	abort_expect(h, AT(1100), true, 1, 2);
}

static void test_closing_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_closing(h, AT(1000));
	abort_expect(h, AT(1010), false, 0, 0);
}

static void test_last_ack_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_last_ack(h, AT(1000));
	abort_expect(h, AT(1010), false, 0, 0);
}

static void test_time_wait_abort(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_time_wait(h, AT(1000));
	abort_expect(h, AT(1010), false, 0, 0);
}

/* ---- CLOSE and shutdown ---- */

/* RFC 2525 2.17 (as Linux): close() with unread data resets. */
static void test_established_close_unread_data_resets(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_in(h, PA, 1, 1, 100, AT(1000));
	h_close(h, AT(1010));
	expect_seg(h, RA, 1, 101, 0);
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ABORT_ON_CLOSE), 1);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
	expect_deadline(h, TERN_TIME_NONE);
}

/* In SYN_SENT, close() abandons the attempt without a word. */
static void test_syn_sent_close_abandons(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_connect(h, H_T0);
	id = h->conn_id;
	h_close(h, AT(10));
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
}

/* shutdown(SHUT_WR) in SYN_SENT keeps the FIN, behind the queued data,
 * for after the handshake (regression: it used to be lost). */
static void test_syn_sent_shutdown_wr_fin_after_handshake(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	assert_int_equal(h_send(h, 100, AT(10)), 100);
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, AT(20)), 0);
	expect_none(h);
	expect_state(h, TERN_TCP_SYN_SENT);
	h_in(h, TERN_TCP_SYN | ACK, 0, 1, 0, AT(100));
	expect_seg(h, ACK, 1, 1, 0);
	expect_seg(h, FA | TERN_TCP_PSH, 1, 1, 100);
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_1);
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_SYN_SENT,
			       TERN_TCP_ESTABLISHED));
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_ESTABLISHED,
			       TERN_TCP_FIN_WAIT_1));
	h_in(h, FA, 1, 102, 0, AT(200));
	expect_seg(h, ACK, 102, 2, 0);
	expect_state(h, TERN_TCP_TIME_WAIT);
}

/* SYN_RECEIVED after a simultaneous open. RFC 9293 3.10.4: "If no
 * SENDs have been issued and there is no pending data to send, then form
 * a FIN segment and send it, and enter FIN-WAIT-1 state ..." */
static void simultaneous_open(harness *h)
{
	h_connect(h, H_T0);
	h_in(h, TERN_TCP_SYN, 0, 0, 0, AT(50));
	expect_seg(h, TERN_TCP_SYN | ACK, 0, 1, 0);
	expect_state(h, TERN_TCP_SYN_RECEIVED);
}

static void test_syn_received_shutdown_sends_fin(void **state)
{
	harness *h = *state;

	simultaneous_open(h);
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, AT(60)), 0);
	expect_seg(h, FA, 1, 1, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_1);
	h_in(h, ACK, 1, 2, 0, AT(100));
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_2);
}

/* "... otherwise, queue for processing after entering ESTABLISHED
 * state": with data queued, nothing goes before the handshake completes;
 * then the data and the FIN. */
static void test_syn_received_shutdown_with_data_waits(void **state)
{
	harness *h = *state;

	simultaneous_open(h);
	assert_int_equal(h_send(h, 100, AT(55)), 100);
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, AT(60)), 0);
	expect_none(h);
	expect_state(h, TERN_TCP_SYN_RECEIVED);
	assert_int_equal(h_send(h, 10, AT(61)), TERN_ERR_PIPE);
	h_in(h, TERN_TCP_SYN | ACK, 0, 1, 0, AT(100));
	expect_seg(h, FA | TERN_TCP_PSH, 1, 1, 100);
	expect_none(h);
	expect_state(h, TERN_TCP_FIN_WAIT_1);
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_SYN_RECEIVED,
			       TERN_TCP_ESTABLISHED));
}

/* Our SYN+ACK after a simultaneous open is lost, and the application
 * closes: FIN_WAIT_1 with our SYN unacknowledged. The retransmission
 * timer must send the SYN+ACK again (go-back-N from SND.UNA = ISS would
 * find nothing to send), and the peer's SYN+ACK is taken as the ACK of
 * our SYN there too. */
static void test_fin_wait_1_resends_unacked_syn(void **state)
{
	harness *h = *state;

	simultaneous_open(h);
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, AT(60)), 0);
	expect_seg(h, FA, 1, 1, 0);
	expect_state(h, TERN_TCP_FIN_WAIT_1);
	fire_at(h, AT(1000)); /* the RTO armed by our first SYN */
	expect_seg(h, TERN_TCP_SYN | ACK, 0, 1, 0);
	expect_none(h);
	h_in(h, TERN_TCP_SYN | ACK, 0, 1, 0, AT(1050));
	assert_int_equal(h_info(h).snd_una, h->iss + 1);
	h_in(h, ACK, 1, 2, 0, AT(1060));
	expect_state(h, TERN_TCP_FIN_WAIT_2);
}

/* An orphan's unacknowledged FIN is retried by tcp_orphan_retries (0:
 * 8 while the RTO can still grow): as a time, (2^9 - 1) x 200 ms =
 * 102.2 s after it first left, against tcp_retries2's 924.6 s for a
 * connection whose application still holds it (Linux's
 * tcp_write_timeout). */
static tern_time fin_unanswered_until_closed(harness *h, bool orphan)
{
	h_established_client(h);
	tern_time t0 = AT(1000);
	if (orphan) {
		h_close(h, t0);
		expect_seg(h, FA, 1, 1, 0);
	} else {
		h_fin_wait_1(h, t0);
	}
	tern_time t = t0;
	while (h_last_state(h, h->conn_id) != TERN_TCP_CLOSED) {
		t = h_deadline(h);
		assert_true(t != TERN_TIME_NONE && t < t0 + MS(2000000));
		h_run(h, t);
		while (h_next(h))
			;
	}
	return t - t0;
}

static void test_fin_wait_1_orphan_retries(void **state)
{
	harness *h = *state;
	tern_time took = fin_unanswered_until_closed(h, true);

	assert_true(took >= MS(102200) && took < MS(102200) + MS(120000));
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ABORT_ON_TIMEOUT), 1);
}

static void test_fin_wait_1_held_uses_retries2(void **state)
{
	harness *h = *state;
	tern_time took = fin_unanswered_until_closed(h, false);

	assert_true(took >= MS(924600) && took < MS(924600) + MS(120000));
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_TIMEDOUT);
}

/* CLOSE_WAIT: close() sends the FIN (LAST_ACK); its ACK ends it all. */
static void test_close_wait_close_then_last_ack(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_close_wait(h, AT(1000));
	h_close(h, AT(1100));
	expect_seg(h, FA, 1, 2, 0);
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_LAST_ACK);
	h_in(h, ACK, 2, 2, 0, AT(1200));
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
}

/* LAST_ACK, the handle still held: CLOSED, no error, end of stream. */
static void test_last_ack_ack_closes(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_last_ack(h, AT(1000));
	h_in(h, ACK, 2, 2, 0, AT(1100));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), 0);
	assert_int_equal(h_recv(h, 10, AT(1100)), 0);
	assert_false(h->events & TERN_EV_ERROR);
	expect_deadline(h, TERN_TIME_NONE);
}

/* CLOSING: the ACK of our FIN leads to TIME_WAIT for 2 MSL. */
static void test_closing_ack_time_wait(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_closing(h, AT(1000));
	h_in(h, ACK, 2, 2, 0, AT(1100));
	expect_none(h);
	expect_state(h, TERN_TCP_TIME_WAIT);
	expect_deadline(h, AT(1100) + TWO_MSL);
}

/* Our FIN is retransmitted like data (RFC 6298): in FIN_WAIT_1 ... */
static void test_fin_wait_1_rto_resends_fin(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_fin_wait_1(h, AT(1000));
	fire_at(h, AT(1300));
	expect_seg(h, FA, 1, 1, 0);
	expect_none(h);
	h_in(h, ACK, 1, 2, 0, AT(1400));
	expect_state(h, TERN_TCP_FIN_WAIT_2);
	expect_deadline(h, TERN_TIME_NONE);
}

/* ... and in LAST_ACK. */
static void test_last_ack_rto_resends_fin(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_last_ack(h, AT(1000));
	fire_at(h, AT(1300));
	expect_seg(h, FA, 1, 2, 0);
	expect_none(h);
	fire_at(h, AT(1900));
	expect_seg(h, FA, 1, 2, 0);
	h_in(h, ACK, 2, 2, 0, AT(2000));
	expect_state(h, TERN_TCP_CLOSED);
}

/* FIN_WAIT_1: a FIN that also acknowledges ours goes straight to
 * TIME_WAIT ("if our FIN has been ACKed (perhaps in this segment)"). */
static void test_fin_wait_1_fin_ack_to_time_wait(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_fin_wait_1(h, AT(1000));
	h_in(h, FA, 1, 2, 0, AT(1100));
	expect_seg(h, ACK, 2, 2, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_TIME_WAIT);
	assert_true(h_saw_edge(h, h->conn_id, TERN_TCP_FIN_WAIT_1,
			       TERN_TCP_TIME_WAIT));
	assert_false(h_saw_edge(h, h->conn_id, TERN_TCP_FIN_WAIT_1,
				TERN_TCP_FIN_WAIT_2));
	expect_deadline(h, AT(1100) + TWO_MSL);
}

/* RFC 1122 4.2.2.13: data arriving after close() cannot be delivered:
 * RST (Linux: TCPAbortOnData), in FIN_WAIT_2 ... */
static void test_fin_wait_2_data_after_close_resets(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_close(h, AT(1000));
	expect_seg(h, FA, 1, 1, 0);
	h_in(h, ACK, 1, 2, 0, AT(1100));
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_FIN_WAIT_2);
	h_in(h, PA, 1, 2, 100, AT(1200));
	expect_seg(h, RA, 2, 1, 0);
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ABORT_ON_DATA), 1);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
}

/* ... and in FIN_WAIT_1. */
static void test_fin_wait_1_data_after_close_resets(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_close(h, AT(1000));
	expect_seg(h, FA, 1, 1, 0);
	h_in(h, PA, 1, 1, 100, AT(1050));
	expect_seg(h, RA, 2, 1, 0);
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
}

/* After shutdown(SHUT_WR) the application still reads: data is fine. */
static void test_fin_wait_2_data_after_shutdown_delivered(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_fin_wait_2(h, AT(1000));
	h_in(h, PA, 1, 2, 100, AT(1100));
	expect_none(h);
	fire_at(h, AT(1140));
	expect_seg(h, ACK, 2, 101, 0);
	assert_int_equal(h_recv(h, 1000, AT(1200)), 100);
	expect_state(h, TERN_TCP_FIN_WAIT_2);
}

/* Linux's tcp_fin_timeout: an orphan waits in FIN_WAIT_2 60 s for the
 * peer's FIN, then goes without a word. */
static void test_fin_wait_2_orphan_times_out(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_close(h, AT(1000));
	expect_seg(h, FA, 1, 1, 0);
	h_in(h, ACK, 1, 2, 0, AT(1100));
	expect_none(h);
	fire_at(h, AT(61100));
	expect_none(h);
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
	expect_deadline(h, TERN_TIME_NONE);
}

/* A half-closed connection the application holds waits in FIN_WAIT_2
 * for ever (RFC 9293); close() starts the 60 s. */
static void test_fin_wait_2_close_starts_fin_timeout(void **state)
{
	harness *h = *state;
	uint64_t id;

	h_established_client(h);
	id = h->conn_id;
	h_fin_wait_2(h, AT(1000));
	expect_deadline(h, TERN_TIME_NONE);
	h_close(h, AT(5000));
	expect_none(h);
	fire_at(h, AT(65000));
	assert_int_equal(h_last_state(h, id), TERN_TCP_CLOSED);
	expect_none(h);
}

/* ---- TIME_WAIT ---- */

/* The peer's FIN again (our ACK was lost): ACK it again and restart the
 * 2 MSL wait; when that ends, CLOSED without a word. */
static void test_time_wait_fin_again_restarts_2msl(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_time_wait(h, AT(1000));
	expect_deadline(h, AT(1000) + TWO_MSL);
	h_in(h, FA, 1, 2, 0, AT(11000));
	expect_seg(h, ACK, 2, 2, 0);
	expect_none(h);
	expect_deadline(h, AT(11000) + TWO_MSL);
	fire_at(h, AT(11000) + TWO_MSL);
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), 0);
}

/* A RST in TIME_WAIT ends the wait: the connection had completed, so no
 * error is reported, and unread data stays readable (regression). */
static void test_time_wait_rst_no_error_data_readable(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	fire_at(h, AT(1040));
	expect_seg(h, ACK, 1, 101, 0);
	h_fin_wait_1(h, AT(1100));
	h_in(h, FA, 101, 2, 0, AT(1200));
	expect_seg(h, ACK, 2, 102, 0);
	expect_state(h, TERN_TCP_TIME_WAIT);
	h_in(h, TERN_TCP_RST, 102, 0, 0, AT(1300));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), 0);
	assert_false(h->events & TERN_EV_ERROR);
	assert_int_equal(h_recv(h, 1000, AT(1400)), 100);
	assert_int_equal(h_recv(h, 1000, AT(1400)), 0);
}

/* Data received before a reset stays readable; the error comes after
 * it (as Linux; RFC 9293 would flush it). */
static void test_established_rst_data_readable_then_error(void **state)
{
	harness *h = *state;

	h_established_client(h);
	h_in(h, PA, 1, 1, 100, AT(1000));
	h_in(h, TERN_TCP_RST, 101, 0, 0, AT(1010));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(h_recv(h, 60, AT(1100)), 60);
	assert_int_equal(h_recv(h, 1000, AT(1100)), 40);
	assert_int_equal(h_recv(h, 1000, AT(1100)), TERN_ERR_RESET);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_RESET);
	expect_deadline(h, TERN_TIME_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_listen_abort),
		H_TEST(test_syn_sent_abort),
		H_TEST(test_syn_received_abort),
		H_TEST(test_established_abort),
		H_TEST(test_fin_wait_1_abort),
		H_TEST(test_fin_wait_2_abort),
		H_TEST(test_close_wait_abort),
		H_TEST(test_closing_abort),
		H_TEST(test_last_ack_abort),
		H_TEST(test_time_wait_abort),
		H_TEST(test_established_close_unread_data_resets),
		H_TEST(test_syn_sent_close_abandons),
		H_TEST(test_syn_sent_shutdown_wr_fin_after_handshake),
		H_TEST(test_syn_received_shutdown_sends_fin),
		H_TEST(test_syn_received_shutdown_with_data_waits),
		H_TEST(test_close_wait_close_then_last_ack),
		H_TEST(test_last_ack_ack_closes),
		H_TEST(test_closing_ack_time_wait),
		H_TEST(test_fin_wait_1_rto_resends_fin),
		H_TEST(test_fin_wait_1_resends_unacked_syn),
		H_TEST(test_fin_wait_1_orphan_retries),
		H_TEST(test_fin_wait_1_held_uses_retries2),
		H_TEST(test_last_ack_rto_resends_fin),
		H_TEST(test_fin_wait_1_fin_ack_to_time_wait),
		H_TEST(test_fin_wait_2_data_after_close_resets),
		H_TEST(test_fin_wait_1_data_after_close_resets),
		H_TEST(test_fin_wait_2_data_after_shutdown_delivered),
		H_TEST(test_fin_wait_2_orphan_times_out),
		H_TEST(test_fin_wait_2_close_starts_fin_timeout),
		H_TEST(test_time_wait_fin_again_restarts_2msl),
		H_TEST(test_time_wait_rst_no_error_data_readable),
		H_TEST(test_established_rst_data_readable_then_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
