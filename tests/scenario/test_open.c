/* SCENARIOS.md 1-6, opening a connection: every segment and every state
 * change, exactly, derived from RFC 9293 and RFC 6298 (one-way delay
 * 10 ms, initial RTO 1 s, Linux's retry counts). */
#include "scenario_expect.h"

/* 1. RFC 9293 3.5 figure 6: SYN J, SYN+ACK K/J+1, ACK J+1/K+1. */
static void test_handshake(void **state)
{
	(void)state;
	scn_run *r = xrun("handshake");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
	};
	/* conn 0 is the listener, conn 1 the connection it creates */
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	/* the SYN and the SYN+ACK carry MSS = 1500 - 40; the ACK none */
	assert_int_equal(xseg_event(r, 0)->seg.mss, 1460);
	assert_int_equal(xseg_event(r, 1)->seg.mss, 1460);
	assert_int_equal(xseg_event(r, 2)->seg.mss, 0);
	assert_int_equal(r->napps, 2); /* the server accepted */
	assert_int_equal(tern_tcp_state(r->apps[0].conn), ESTABLISHED);
	assert_int_equal(tern_tcp_state(r->apps[1].conn), ESTABLISHED);
	expect_app(r, 0, 0, 0, 0);
	xdone(r, ok);
}

/* 2. RFC 9293 3.5 figure 7: each end gets the other's SYN in SYN_SENT,
 * goes to SYN_RECEIVED and sends SYN+ACK with its own ISN again; the
 * SYN+ACKs complete both ends. Four segments, never LISTEN. */
static void test_simultaneous_open(void **state)
{
	(void)state;
	scn_run *r = xrun("simultaneous-open");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN", 0, 0, 0, 0},
		/* the client's SYN left first, so it arrives first */
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "SYN|ACK", 0, 1, 0, 10},
	};
	static const xstate each[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, SYN_RECEIVED, "rx SYN", 10},
		/* the SYN+ACK acknowledges our SYN (RFC 9293 figure 7) */
		{0, SYN_RECEIVED, ESTABLISHED, "rx SYN+ACK", 20},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, each, N(each));
	ok &= expect_states(r, S, each, N(each));
	/* each SYN and SYN+ACK carries the MSS */
	for (size_t i = 0; i < N(segs); i++)
		assert_int_equal(xseg_event(r, i)->seg.mss, 1460);
	assert_int_equal(tern_tcp_state(r->apps[0].conn), ESTABLISHED);
	assert_int_equal(tern_tcp_state(r->apps[1].conn), ESTABLISHED);
	xdone(r, ok);
}

/* 3. RFC 9293 3.10.7.1: no listener; the SYN has no ACK, so the answer
 * is <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (the SYN counts one). The
 * server never sent a SYN, so its seq is shown raw: 0. */
static void test_rst_closed_port(void **state)
{
	(void)state;
	scn_run *r = xrun("rst-closed-port");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "RST|ACK", 0, 1, 0, 10},
	};
	/* RFC 9293 3.10.7.3: the RST acks our SYN, so it is acceptable */
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, CLOSED, "rx RST", 20},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, NULL, 0);
	expect_app(r, 0, 0, 0, TERN_ERR_REFUSED);
	xdone(r, ok);
}

/* 4. RFC 6298 2.1 and 5.5: RTO 1 s, doubled on each expiry; Linux
 * tcp_syn_retries = 6: SYNs at 0, 1, 3, 7, 15, 31, 63 s, and the last
 * waits 64 s: CLOSED at 127 s. Everything the client sends is lost. */
static void test_syn_timeout(void **state)
{
	(void)state;
	scn_run *r = xrun("syn-timeout");
	static const xseg segs[] = {
		{C, "SYN lost", 0, 0, 0, 0},
		{C, "SYN lost", 0, 0, 0, 1000},
		{C, "SYN lost", 0, 0, 0, 3000},
		{C, "SYN lost", 0, 0, 0, 7000},
		{C, "SYN lost", 0, 0, 0, 15000},
		{C, "SYN lost", 0, 0, 0, 31000},
		{C, "SYN lost", 0, 0, 0, 63000},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, CLOSED, "timeout", 127000},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, NULL, 0);
	expect_app(r, 0, 0, 0, TERN_ERR_TIMEDOUT);
	xdone(r, ok);
}

/* 5. Linux tcp_synack_retries = 5: SYN+ACK again 1, 3, 7, 15, 31 s after
 * the first (at 10 ms), and the half-open connection is dropped 63 s
 * after it. The client, ESTABLISHED, finds each retransmission below
 * RCV.NXT (RFC 9293 3.10.7.4 first check) and answers with an ACK, lost
 * like its first. */
static void test_synack_timeout(void **state)
{
	(void)state;
	scn_run *r = xrun("synack-timeout");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},		 {S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK lost", 1, 1, 0, 20},	 {S, "SYN|ACK", 0, 1, 0, 1010},
		{C, "ACK lost", 1, 1, 0, 1020},	 {S, "SYN|ACK", 0, 1, 0, 3010},
		{C, "ACK lost", 1, 1, 0, 3020},	 {S, "SYN|ACK", 0, 1, 0, 7010},
		{C, "ACK lost", 1, 1, 0, 7020},	 {S, "SYN|ACK", 0, 1, 0, 15010},
		{C, "ACK lost", 1, 1, 0, 15020}, {S, "SYN|ACK", 0, 1, 0, 31010},
		{C, "ACK lost", 1, 1, 0, 31020},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, CLOSED, "timeout", 63010},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(tern_tcp_state(r->listener), LISTEN);
	assert_int_equal(r->napps, 1); /* nothing was ever accepted */
	xdone(r, ok);
}

/* 6. The client forgets its connection at 5 ms (ABORT in SYN_SENT sends
 * nothing, RFC 9293 3.10.5); the SYN+ACK then finds no connection and
 * draws <SEQ=SEG.ACK><CTL=RST> (3.10.7.1), i.e. seq J+1 = the server's
 * RCV.NXT: acceptable, so the half-open connection goes (3.10.7.4 second
 * check) and the listener stays. */
static void test_rst_syn_received(void **state)
{
	(void)state;
	scn_run *r = xrun("rst-syn-received");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "RST", 1, 0, 0, 20},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, CLOSED, "abort", 5},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, CLOSED, "rx RST", 30},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(tern_tcp_state(r->listener), LISTEN);
	xdone(r, ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_rst_closed_port),
		cmocka_unit_test(test_syn_timeout),
		cmocka_unit_test(test_synack_timeout),
		cmocka_unit_test(test_rst_syn_received),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
