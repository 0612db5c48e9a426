/* SCENARIOS.md 17-20, resets, bad ACKs, aborts, keepalive: every segment
 * and every state change, exactly, derived from RFC 9293 3.10.7, RFC
 * 5961, RFC 1122 4.2.3.6 and Linux's keepalive settings. The client
 * uses port 40000 (then 40001) where the scenario forges segments.
 *
 * Forged segments carry raw numbers; the table shows them relative to
 * the ISN of the end they claim to come from when that end has a SYN on
 * the same ports (xrel), raw otherwise (port 81 has no connection). */
#include "scenario_expect.h"

/* 17. Forged RSTs at 5 (LISTEN), 12 and 14 ms (SYN_SENT), then on the
 * established server at 100 (in the window, not RCV.NXT), 200 (outside
 * the 65535 window) and 300 ms (= RCV.NXT); the client sends "hello" at
 * 400 ms. */
static void test_rst_in_window(void **state)
{
	(void)state;
	scn_run *r = xrun("rst-in-window");
	const xseg segs[] = {
		/* LISTEN: "an incoming RST should be ignored" (3.10.7.2) */
		{C, "RST forged", xrel(r, C, 1000), 0, 0, 5},
		{C, "SYN", 0, 0, 0, 10},
		/* SYN_SENT: a RST without ACK is dropped (3.10.7.3) */
		{S, "RST forged", xrel(r, S, 5000), 0, 0, 12},
		/* ... and so is one whose ACK is not of our SYN */
		{S, "RST|ACK forged", xrel(r, S, 5000), 101, 0, 14},
		{S, "SYN|ACK", 0, 1, 0, 20},
		{C, "ACK", 1, 1, 0, 30},
		/* in the window but not RCV.NXT: challenge ACK
		 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (RFC 5961 3.2) */
		{C, "RST forged", 1001, 0, 0, 100},
		{S, "ACK", 1, 1, 0, 100},
		/* outside the window: dropped in silence */
		{C, "RST forged", 100001, 0, 0, 200},
		/* exactly RCV.NXT: the server's connection is reset */
		{C, "RST forged", 1, 0, 0, 300},
		{C, "PSH|ACK", 1, 1, 5, 400},
		/* it reaches the listener, where an ACK draws
		 * <SEQ=SEG.ACK><CTL=RST> (3.10.7.2) */
		{S, "RST", 1, 0, 0, 410},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 10},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 30},
		/* the RST's seq is RCV.NXT: acceptable */
		{0, ESTABLISHED, CLOSED, "rx RST", 420},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 20},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 40},
		{1, ESTABLISHED, CLOSED, "rx RST", 300},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(tern_tcp_state(r->listener), LISTEN);
	expect_app(r, 1, 0, 0, TERN_ERR_RESET);
	assert_int_equal(r->apps[0].error, TERN_ERR_RESET);
	xdone(r, ok);
}

/* 18. Forged ACKs of data never sent: at 5 ms to the listener, at 12 ms
 * a SYN+ACK acking the client's ISS (SEG.ACK =< ISS) in SYN_SENT, at
 * 100 ms 10000 bytes beyond the established server's SND.NXT; at 200 ms
 * a SYN to port 81 (no listener), at 300 ms a RST there. */
static void test_bad_ack(void **state)
{
	(void)state;
	scn_run *r = xrun("bad-ack");
	const xseg segs[] = {
		{C, "ACK forged", xrel(r, C, 777), xrel(r, S, 12345), 0, 5},
		/* LISTEN: <SEQ=SEG.ACK><CTL=RST> (3.10.7.2); it reaches
		 * the client in SYN_SENT without ACK: dropped */
		{S, "RST", xrel(r, S, 12345), 0, 0, 5},
		{C, "SYN", 0, 0, 0, 10},
		{S, "SYN|ACK forged", xrel(r, S, 5000), 0, 0, 12},
		/* SYN_SENT: <SEQ=SEG.ACK><CTL=RST> (3.10.7.3); seq J is
		 * below the server's RCV.NXT (J+1), so the server, by then
		 * in SYN_RECEIVED, drops it */
		{C, "RST", 0, 0, 0, 12},
		{S, "SYN|ACK", 0, 1, 0, 20},
		{C, "ACK", 1, 1, 0, 30},
		/* SEG.ACK > SND.NXT: "send an ACK, drop the segment"
		 * (3.10.7.4 fifth check, RFC 5961 5.2) */
		{C, "ACK forged", 1, 10001, 0, 100},
		{S, "ACK", 1, 1, 0, 100},
		/* no connection, no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
		 * <CTL=RST,ACK>, the SYN counting one (3.10.7.1) */
		{C, "SYN forged", 3000, 0, 0, 200},
		{S, "RST|ACK", 0, 3001, 0, 200},
		/* no connection, a RST: nothing */
		{C, "RST forged", 3000, 0, 0, 300},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 10},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 30},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 20},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 40},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(tern_tcp_state(r->apps[0].conn), ESTABLISHED);
	assert_int_equal(tern_tcp_state(r->apps[1].conn), ESTABLISHED);
	assert_int_equal(r->apps[0].error, 0);
	assert_int_equal(r->apps[1].error, 0);
	xdone(r, ok);
}

/* 19. First connection: the client sends 1000 bytes the server never
 * reads; the server's application closes at 500 ms. Second connection
 * (port 40001, from 1 s): the client aborts at 1.5 s.
 *
 * The RSTs carry <SEQ=SND.NXT> (RFC 9293 3.10.5) with ACK set, as Linux
 * (tcp_send_active_reset) and BSD send; RFC 9293 3.1 says the ACK
 * field "is always sent" once a connection is established, and a RST's
 * ACK is not looked at in synchronized states (3.5.3). */
static void test_abort(void **state)
{
	(void)state;
	scn_run *r = xrun("abort");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
		{C, "PSH|ACK", 1, 1, 1000, 20},
		{S, "ACK", 1, 1001, 0, 70}, /* delayed ACK */
		/* close() with unread data: RST, not FIN (RFC 2525 2.17,
		 * RFC 1122 4.2.2.13) */
		{S, "RST|ACK", 1, 1001, 0, 500},
		/* second connection: numbers relative to its own ISNs */
		{C, "SYN", 0, 0, 0, 1000},
		{S, "SYN|ACK", 0, 1, 0, 1010},
		{C, "ACK", 1, 1, 0, 1020},
		/* ABORT in ESTABLISHED: RST, straight to CLOSED */
		{C, "RST|ACK", 1, 1, 0, 1500},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
		{0, ESTABLISHED, CLOSED, "rx RST", 510},
		{1, CLOSED, SYN_SENT, "connect", 1000},
		{1, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 1020},
		{1, ESTABLISHED, CLOSED, "abort", 1500},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
		{1, ESTABLISHED, CLOSED, "abort", 500},
		{2, LISTEN, SYN_RECEIVED, "rx SYN", 1010},
		{2, SYN_RECEIVED, ESTABLISHED, "rx ACK", 1030},
		{2, ESTABLISHED, CLOSED, "rx RST", 1510},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(r->napps, 4);
	expect_app(r, 0, 1000, 0, TERN_ERR_RESET); /* "connection reset" */
	expect_app(r, 1, 0, 0, 0);		   /* never read: paused */
	expect_app(r, 3, 0, 0, TERN_ERR_RESET);
	xdone(r, ok);
}

/* 20. Keepalive on the client; nothing the server sends after its
 * SYN+ACK arrives. Idle is counted from the last segment received
 * (20 ms): probes <SEQ=SND.NXT-1>, no data (RFC 1122 4.2.3.6, as Linux)
 * at 7200 s, then every 75 s; the 9th unanswered one is followed 75 s
 * later by the end: "timed out", and a RST as Linux sends. */
static void test_keepalive_dead_peer(void **state)
{
	(void)state;
	scn_run *r = xrun("keepalive-dead-peer");
	xseg segs[3 + 2 * 9 + 1] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
	};
	size_t n = 3;
	for (int k = 0; k < 9; k++) {
		int64_t t = 7200020 + 75000 * (int64_t)k;
		/* the probe is below RCV.NXT: the server acks it
		 * (3.10.7.4 first check), and the ACK is lost */
		segs[n++] = (xseg){C, "ACK", 0, 1, 0, t};
		segs[n++] = (xseg){S, "ACK lost", 1, 1, 0, t + 10};
	}
	segs[n++] = (xseg){C, "RST|ACK", 1, 1, 0, 7875020};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
		{0, ESTABLISHED, CLOSED, "timeout", 7875020},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
		{1, ESTABLISHED, CLOSED, "rx RST", 7875030},
	};
	assert_int_equal(n, N(segs));
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	expect_app(r, 0, 0, 0, TERN_ERR_TIMEDOUT);
	xdone(r, ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_in_window),
		cmocka_unit_test(test_bad_ack),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_keepalive_dead_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
