/* Opening: SYN and SYN+ACK retransmission (Linux's tcp_syn_retries and
 * tcp_synack_retries), what a listener does with each kind of segment
 * (RFC 9293 3.10.7.2), its backlog, and the MSS option (3.7.1). */
#include "tcp_harness.h"

static const uint8_t SYN = TERN_TCP_SYN;
static const uint8_t SYNACK = TERN_TCP_SYN | TERN_TCP_ACK;
static const uint8_t ACK = TERN_TCP_ACK;
static const uint8_t PA = TERN_TCP_PSH | TERN_TCP_ACK;

/* One peer of a listener: its port, its ISN, our ISS towards it. */
typedef struct peer {
	uint16_t port;
	uint32_t irs, iss;
} peer;

static void use_peer(harness *h, const peer *p)
{
	h->remote.port = p->port;
	h->irs = p->irs;
	h->iss = p->iss;
}

/* The peer's SYN at now; remembers the ISS of the SYN+ACK. */
static void peer_syn(harness *h, peer *p, tern_time now)
{
	use_peer(h, p);
	h_syn_to_listener(h, now);
	p->iss = h->iss;
}

/* The connection a trace saw last enter `state`. */
static uint64_t last_conn_into(const harness *h, int state)
{
	for (int i = h->ntrans - 1; i >= 0; i--)
		if (h->trans[i].to == state)
			return h->trans[i].conn_id;
	return 0;
}

/* ---- SYN_SENT ---- */

/* tcp_syn_retries = 6: the SYN goes again after 1, 2, 4, 8, 16 and 32 s,
 * and the attempt fails 64 s after the last, 127 s after connect(). */
static void test_syn_sent_retries_then_timeout(void **state)
{
	harness *h = *state;
	tern_time t = H_T0, rto = MS(1000);

	h_connect(h, t);
	for (int n = 1; n <= 6; n++) {
		t += rto;
		rto *= 2;
		fire_at(h, t);
		const h_seg *s = expect_seg(h, SYN, 0, 0, 0);
		assert_int_equal(s->mss, 1460);
		expect_none(h);
	}
	assert_int_equal(t, AT(63000));
	fire_at(h, AT(127000));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_TIMEDOUT);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_SYN_RETRANS), 6);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_ATTEMPT_FAILS), 1);
	assert_true(h->events & TERN_EV_ERROR);
	expect_deadline(h, TERN_TIME_NONE);
}

/* RFC 6298 5.7: no sample from a handshake that needed a retransmission
 * (Karn), so data starts with RTO = 3 s; RFC 5681 3.1: and with a
 * one-segment initial window. */
static void test_syn_sent_synack_after_retry(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	fire_at(h, AT(1000));
	expect_seg(h, SYN, 0, 0, 0);
	h_in(h, SYNACK, 0, 1, 0, AT(1100));
	expect_seg(h, ACK, 1, 1, 0);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_info(h).srtt, 0);
	assert_int_equal(h_info(h).rto, MS(3000));
	assert_int_equal(h_info(h).cwnd, 1460);
	assert_int_equal(h_send(h, 2920, AT(2000)), 2920);
	expect_seg(h, ACK, 1, 1, 1460);
	expect_none(h);
	expect_deadline(h, AT(5000));
}

/* RFC 9293 3.10.7.3: an ACK outside (ISS, SND.NXT] draws
 * <SEQ=SEG.ACK><CTL=RST> and changes nothing. */
static void test_syn_sent_bad_ack_draws_rst(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	h_in(h, SYNACK, 0, 1000, 0, AT(100));
	expect_seg(h, TERN_TCP_RST, 1000, 0, 0);
	expect_none(h);
	expect_state(h, TERN_TCP_SYN_SENT);
}

/* ... and a RST acking our SYN refuses the connection. */
static void test_syn_sent_rst_refused(void **state)
{
	harness *h = *state;

	h_connect(h, H_T0);
	h_in(h, TERN_TCP_RST | ACK, 0, 1, 0, AT(100));
	expect_none(h);
	expect_state(h, TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(h->conn), TERN_ERR_REFUSED);
	assert_int_equal(h_recv(h, 1, AT(100)), TERN_ERR_REFUSED);
}

/* ---- SYN_RECEIVED (passive) ---- */

/* tcp_synack_retries = 5: the SYN+ACK goes again after 1, 2, 4, 8 and
 * 16 s; 32 s after the last (63 s in all) the half-open connection goes
 * silently. The listener is unaffected and takes the next SYN. */
static void test_syn_received_synack_retries_then_drop(void **state)
{
	harness *h = *state;
	tern_time t = H_T0, rto = MS(1000);

	h_listen(h);
	h_syn_to_listener(h, t);
	uint64_t child = last_conn_into(h, TERN_TCP_SYN_RECEIVED);
	assert_int_equal(tern_stack_conn_count(h->stack), 2);
	for (int n = 1; n <= 5; n++) {
		t += rto;
		rto *= 2;
		fire_at(h, t);
		const h_seg *s = expect_seg(h, SYNACK, 0, 1, 0);
		assert_int_equal(s->mss, 1460);
		expect_none(h);
	}
	assert_int_equal(t, AT(31000));
	fire_at(h, AT(63000));
	expect_none(h);
	assert_int_equal(h_last_state(h, child), TERN_TCP_CLOSED);
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
	assert_int_equal(tern_tcp_state(h->listener), TERN_TCP_LISTEN);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_SYN_RETRANS), 5);
	assert_int_equal(h->lev, 0);
	expect_deadline(h, TERN_TIME_NONE);
	/* the same peer tries again */
	h_syn_to_listener(h, AT(64000));
	h_in(h, ACK, 1, 1, 0, AT(64100));
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* RFC 6298 5.7 and RFC 5681 3.1 on the passive side: after a lost
 * SYN+ACK, no sample, RTO 3 s, a one-segment initial window. */
static void test_syn_received_ack_after_retry(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	fire_at(h, AT(1000));
	expect_seg(h, SYNACK, 0, 1, 0);
	h_in(h, ACK, 1, 1, 0, AT(1100));
	expect_none(h);
	h_accept(h);
	assert_int_equal(h_info(h).srtt, 0);
	assert_int_equal(h_info(h).rto, MS(3000));
	assert_int_equal(h_info(h).cwnd, 1460);
}

/* A RST at RCV.NXT: the half-open connection goes silently ("return to
 * LISTEN": the listener never left it). */
static void test_syn_received_rst_drops_child(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	uint64_t child = last_conn_into(h, TERN_TCP_SYN_RECEIVED);
	h_in(h, TERN_TCP_RST, 1, 0, 0, AT(50));
	expect_none(h);
	assert_int_equal(h_last_state(h, child), TERN_TCP_CLOSED);
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
	assert_int_equal(tern_tcp_state(h->listener), TERN_TCP_LISTEN);
	assert_int_equal(h->lev, 0);
	expect_deadline(h, TERN_TIME_NONE);
}

/* RFC 9293 3.10.7.4, fifth step: in SYN_RECEIVED an ACK that does not
 * acknowledge our SYN draws <SEQ=SEG.ACK><CTL=RST>; the handshake can
 * still complete. */
static void test_syn_received_bad_ack_draws_rst(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	h_in(h, ACK, 1, 5, 0, AT(50));
	expect_seg(h, TERN_TCP_RST, 5, 0, 0);
	expect_none(h);
	h_in(h, ACK, 1, 1, 0, AT(100));
	expect_none(h);
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
}

/* Closing a listener (Linux's inet_csk_listen_stop): half-open children
 * vanish, completed ones never accepted are reset. */
static void test_listen_close_resets_unaccepted(void **state)
{
	harness *h = *state;
	peer a = {H_PEER_PORT, H_PEER_ISN, 0}, b = {H_PEER_PORT + 1, 7777, 0};

	h_listen(h);
	peer_syn(h, &a, H_T0);
	h_in(h, ACK, 1, 1, 0, AT(100));
	peer_syn(h, &b, AT(150));
	assert_int_equal(tern_stack_conn_count(h->stack), 3);
	assert_int_equal(tern_tcp_close(h->listener, AT(200)), 0);
	h->listener = NULL;
	use_peer(h, &a);
	expect_seg(h, TERN_TCP_RST | ACK, 1, 1, 0);
	expect_none(h);
	assert_int_equal(tern_stack_conn_count(h->stack), 0);
	assert_int_equal(tern_stack_mem_in_use(h->stack), h->mem0);
	expect_deadline(h, TERN_TIME_NONE);
}

/* The peer's SYN again (our SYN+ACK was lost): the SYN+ACK goes again at
 * once, same ISS. Being a retransmission, it cannot be timed (RFC 6298
 * 3, Karn; Linux counts it in req->num_retrans and takes no sample). */
static void test_syn_received_dup_syn_resends_synack(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_syn_to_listener(h, H_T0);
	h_in(h, SYN, 0, 0, 0, AT(900));
	expect_seg(h, SYNACK, 0, 1, 0);
	expect_none(h);
	expect_deadline(h, AT(1000)); /* the timer is not restarted */
	h_in(h, ACK, 1, 1, 0, AT(1000));
	expect_none(h);
	h_accept(h);
	expect_state(h, TERN_TCP_ESTABLISHED);
	assert_int_equal(h_info(h).srtt, 0);
	assert_int_equal(h_info(h).rto, MS(1000));
}

/* Text in a SYN is not queued (as Linux): the SYN+ACK acknowledges the
 * SYN only, and the peer sends the bytes again. */
static void test_listen_syn_data_not_delivered(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_in(h, SYN, 0, 0, 100, H_T0);
	const h_seg *s = h_next(h);
	assert_non_null(s);
	assert_int_equal(s->flags, SYNACK);
	assert_int_equal(s->ack, h->irs + 1);
	h->iss = s->seq;
	h_in(h, ACK, 1, 1, 0, AT(100));
	h_accept(h);
	assert_int_equal(h_recv(h, 200, AT(100)), TERN_ERR_AGAIN);
	h_in(h, PA, 1, 1, 100, AT(200));
	assert_int_equal(h_recv(h, 200, AT(200)), 100);
	fire_at(h, AT(240));
	expect_seg(h, ACK, 1, 101, 0);
}

/* 3.10.7.2: a RST to a listener is ignored. */
static void test_listen_rst_ignored(void **state)
{
	harness *h = *state;

	h_listen(h);
	h_in(h, TERN_TCP_RST, 0, 0, 0, AT(10));
	h_in(h, TERN_TCP_RST | ACK, 0, 0, 0, AT(20));
	expect_none(h);
	assert_int_equal(tern_tcp_state(h->listener), TERN_TCP_LISTEN);
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
	h_syn_to_listener(h, AT(30));
}

/* 3.10.7.2: an ACK (a SYN+ACK too) to a listener draws
 * <SEQ=SEG.ACK><CTL=RST>. */
static void test_listen_ack_draws_rst(void **state)
{
	harness *h = *state;
	h_pkt p = {
		.sport = H_PEER_PORT,
		.dport = H_SERVER_PORT,
		.seq = 5000,
		.ack = 777,
		.flags = ACK,
		.win = 1000,
	};

	h_listen(h);
	h_inject(h, &p, AT(10));
	expect_seg_abs(h, TERN_TCP_RST, 777, 0, 0);
	p.flags = SYNACK;
	p.ack = 12345;
	h_inject(h, &p, AT(20));
	expect_seg_abs(h, TERN_TCP_RST, 12345, 0, 0);
	expect_none(h);
	assert_int_equal(tern_tcp_state(h->listener), TERN_TCP_LISTEN);
	assert_int_equal(tern_stack_conn_count(h->stack), 1);
}

/* Linux: with the accept queue full, a SYN is dropped (the peer will
 * retry) and counted in ListenOverflows. The queue holds backlog + 1
 * (sk_acceptq_is_full), so listen(fd, 0) admits exactly one. */
static void test_listen_backlog_full_drops_syn(void **state)
{
	harness *h = *state;
	peer a = {H_PEER_PORT, H_PEER_ISN, 0}, b = {H_PEER_PORT + 1, 7777, 0};

	h->backlog = 0;
	h_listen(h);
	peer_syn(h, &a, H_T0);
	h_in(h, ACK, 1, 1, 0, AT(100));
	assert_true(h->lev & TERN_EV_ACCEPT);
	use_peer(h, &b);
	h_in(h, SYN, 0, 0, 0, AT(200));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_LISTEN_OVERFLOWS), 1);
	assert_int_equal(h_drops(h, TERN_DROP_TCP_LISTEN_OVERFLOW), 1);
	assert_int_equal(tern_stack_conn_count(h->stack), 2);
	/* once accept() makes room, b's retried SYN gets in */
	h_accept(h);
	peer_syn(h, &b, AT(1200));
}

/* Linux: the ACK completing a handshake while the accept queue is full
 * is dropped; the connection stays in SYN_RECEIVED, its SYN+ACK goes
 * again on time, and the peer's next ACK gets it in. */
static void test_syn_received_ack_with_full_queue_dropped(void **state)
{
	harness *h = *state;
	peer a = {H_PEER_PORT, H_PEER_ISN, 0}, b = {H_PEER_PORT + 1, 7777, 0};

	h->backlog = 0; /* holds one, as listen(fd, 0) in Linux */
	h_listen(h);
	peer_syn(h, &a, H_T0);
	peer_syn(h, &b, AT(10));
	use_peer(h, &a);
	h_in(h, ACK, 1, 1, 0, AT(100));
	use_peer(h, &b);
	h_in(h, ACK, 1, 1, 0, AT(110));
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_LISTEN_OVERFLOWS), 1);
	uint64_t bid = last_conn_into(h, TERN_TCP_SYN_RECEIVED);
	assert_int_equal(h_last_state(h, bid), TERN_TCP_SYN_RECEIVED);
	fire_at(h, AT(1010));
	expect_seg(h, SYNACK, 0, 1, 0);
	expect_none(h);
	h_accept(h); /* a */
	h_in(h, ACK, 1, 1, 0, AT(1100));
	assert_int_equal(h_last_state(h, bid), TERN_TCP_ESTABLISHED);
	h_accept(h); /* b */
	assert_int_equal(h->conn_id, bid);
}

/* ---- MSS (RFC 9293 3.7.1) ---- */

/* Sends n bytes at 1 s and expects segments of mss bytes. */
static void expect_segments_of(harness *h, uint32_t mss, int count)
{
	assert_int_equal(h_info(h).mss, mss);
	assert_int_equal(h_send(h, mss * (uint32_t)count, AT(1000)),
			 mss * count);
	for (int i = 0; i < count; i++)
		expect_seg(h, i == count - 1 ? PA : ACK, 1 + mss * (uint32_t)i,
			   1, mss);
	expect_none(h);
}

/* Without the option the peer takes 536. */
static void test_syn_sent_no_mss_option_536(void **state)
{
	harness *h = *state;

	h->peer_mss = 0;
	h_established_client(h);
	expect_segments_of(h, 536, 3);
}

static void test_syn_sent_peer_mss_1000(void **state)
{
	harness *h = *state;

	h->peer_mss = 1000;
	h_established_client(h);
	expect_segments_of(h, 1000, 3);
}

/* Eff.snd.MSS = min(SendMSS, our MTU - 40). */
static void test_syn_sent_peer_mss_9000_ours(void **state)
{
	harness *h = *state;

	h->peer_mss = 9000;
	h_established_client(h);
	expect_segments_of(h, 1460, 3);
}

/* Linux's tcp_min_snd_mss: never below 48. */
static void test_syn_sent_tiny_mss_clamped_48(void **state)
{
	harness *h = *state;

	h->peer_mss = 10;
	h_established_client(h);
	expect_segments_of(h, 48, 4);
}

static void test_listen_syn_without_mss_536(void **state)
{
	harness *h = *state;

	h->peer_mss = 0;
	h_established_server(h);
	expect_segments_of(h, 536, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_syn_sent_retries_then_timeout),
		H_TEST(test_syn_sent_synack_after_retry),
		H_TEST(test_syn_sent_bad_ack_draws_rst),
		H_TEST(test_syn_sent_rst_refused),
		H_TEST(test_syn_received_synack_retries_then_drop),
		H_TEST(test_syn_received_ack_after_retry),
		H_TEST(test_syn_received_rst_drops_child),
		H_TEST(test_syn_received_bad_ack_draws_rst),
		H_TEST(test_listen_close_resets_unaccepted),
		H_TEST(test_syn_received_dup_syn_resends_synack),
		H_TEST(test_listen_syn_data_not_delivered),
		H_TEST(test_listen_rst_ignored),
		H_TEST(test_listen_ack_draws_rst),
		H_TEST(test_listen_backlog_full_drops_syn),
		H_TEST(test_syn_received_ack_with_full_queue_dropped),
		H_TEST(test_syn_sent_no_mss_option_536),
		H_TEST(test_syn_sent_peer_mss_1000),
		H_TEST(test_syn_sent_peer_mss_9000_ours),
		H_TEST(test_syn_sent_tiny_mss_clamped_48),
		H_TEST(test_listen_syn_without_mss_536),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
