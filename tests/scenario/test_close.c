/* SCENARIOS.md 10-15, closing: every segment and every state change,
 * exactly, derived from RFC 9293 3.6 and 3.10 (one-way delay 10 ms,
 * delayed ACK 40 ms, RTO 200 ms at least, 2 MSL = 60 s, Linux's
 * tcp_fin_timeout = 60 s). The handshake is as in scenario 1, the
 * client closes at 100 ms unless said otherwise. */
#include "scenario_expect.h"

/* The handshake as in scenario 1, and its states. */
// clang-format off
#define HANDSHAKE                                                              \
	{C, "SYN", 0, 0, 0, 0},                                                \
	{S, "SYN|ACK", 0, 1, 0, 10},                                           \
	{C, "ACK", 1, 1, 0, 20}
#define CLIENT_OPEN                                                            \
	{0, CLOSED, SYN_SENT, "connect", 0},                                   \
	{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20}
#define SERVER_OPEN                                                            \
	{0, CLOSED, LISTEN, "listen", 0},                                      \
	{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},                               \
	{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30}
// clang-format on

#define MSL2 (60 * TERN_SEC)

/* 10. The server's application closes 200 ms after it reads the end of
 * stream: FIN M, ACK M+1, FIN N, ACK N+1 (RFC 9293 figure 12). */
static void test_active_close(void **state)
{
	(void)state;
	scn_run *r = xrun("active-close");
	static const xseg segs[] = {
		HANDSHAKE,
		{C, "FIN|ACK", 1, 1, 0, 100},
		/* the ACK of a FIN waits like any delayed ACK (Linux) */
		{S, "ACK", 1, 2, 0, 150},
		{S, "FIN|ACK", 1, 2, 0, 310},
		/* FIN in FIN_WAIT_2: acknowledged at once */
		{C, "ACK", 2, 2, 0, 320},
	};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{0, FIN_WAIT_1, FIN_WAIT_2, "rx ACK", 160},
		{0, FIN_WAIT_2, TIME_WAIT, "rx FIN", 320},
		{0, TIME_WAIT, CLOSED, "timeout", 60320},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 110},
		{1, CLOSE_WAIT, LAST_ACK, "close", 310},
		{1, LAST_ACK, CLOSED, "rx ACK", 330},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(xtime_in(r, C, 0, TIME_WAIT), MSL2);
	assert_true(r->apps[1].eof);
	xdone(r, ok);
}

/* 11. The server's application closes as soon as it reads the end of
 * stream, inside the delayed-ACK time: FIN M, FIN+ACK N/M+1, ACK N+1;
 * the client goes FIN_WAIT_1 -> TIME_WAIT on a FIN that acks its own
 * (RFC 9293 3.10.7.4 eighth step). */
static void test_close_fin_ack_combined(void **state)
{
	(void)state;
	scn_run *r = xrun("close-fin-ack-combined");
	static const xseg segs[] = {
		HANDSHAKE,
		{C, "FIN|ACK", 1, 1, 0, 100},
		{S, "FIN|ACK", 1, 2, 0, 110},
		{C, "ACK", 2, 2, 0, 120},
	};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{0, FIN_WAIT_1, TIME_WAIT, "rx FIN", 120},
		{0, TIME_WAIT, CLOSED, "timeout", 60120},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 110},
		{1, CLOSE_WAIT, LAST_ACK, "close", 110},
		{1, LAST_ACK, CLOSED, "rx ACK", 130},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(xtime_in(r, C, 0, TIME_WAIT), MSL2);
	xdone(r, ok);
}

/* 12. Both close at 100 ms; the FINs cross; each FIN arrives in
 * FIN_WAIT_1 before the ACK of the receiver's own (-> CLOSING) and is
 * acknowledged at once; each ACK moves its receiver to TIME_WAIT (RFC
 * 9293 figure 13). */
static void test_simultaneous_close(void **state)
{
	(void)state;
	scn_run *r = xrun("simultaneous-close");
	static const xseg segs[] = {
		HANDSHAKE,
		{C, "FIN|ACK", 1, 1, 0, 100},
		{S, "FIN|ACK", 1, 1, 0, 100},
		/* the client's FIN left first, so it arrives first */
		{S, "ACK", 2, 2, 0, 110},
		{C, "ACK", 2, 2, 0, 110},
	};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{0, FIN_WAIT_1, CLOSING, "rx FIN", 110},
		{0, CLOSING, TIME_WAIT, "rx ACK", 120},
		{0, TIME_WAIT, CLOSED, "timeout", 60120},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{1, FIN_WAIT_1, CLOSING, "rx FIN", 110},
		{1, CLOSING, TIME_WAIT, "rx ACK", 120},
		{1, TIME_WAIT, CLOSED, "timeout", 60120},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(xtime_in(r, C, 0, TIME_WAIT), MSL2);
	assert_int_equal(xtime_in(r, S, 1, TIME_WAIT), MSL2);
	xdone(r, ok);
}

/* 13. The client sends a 100-byte request and shuts down its sending
 * side; the server answers 5000 bytes once it reads the end of stream,
 * and closes once they are queued. */
static void test_half_close(void **state)
{
	(void)state;
	scn_run *r = xrun("half-close");
	static const xseg segs[] = {
		HANDSHAKE,
		{C, "PSH|ACK", 1, 1, 100, 20},
		/* shutdown(WR): the FIN follows at once (not data, so not
		 * held by Nagle) */
		{C, "FIN|ACK", 101, 1, 0, 20},
		/* the FIN's delayed ACK rides on the answer: initial window
		 * of 3 segments */
		{S, "ACK", 1, 102, 1460, 30},
		{S, "ACK", 1461, 102, 1460, 30},
		{S, "ACK", 2921, 102, 1460, 30},
		/* the first acks the client's FIN (-> FIN_WAIT_2); the
		 * second full segment draws an ACK at once */
		{C, "ACK", 102, 2921, 0, 40},
		/* the last 620 bytes and the FIN: Nagle would hold them
		 * until 4381 is acked, but a FIN-bearing segment goes at
		 * once, as Linux (tcp_nagle_test); RFC 9293 3.7.4 makes
		 * Nagle a SHOULD and nothing can join a closed stream */
		{S, "FIN|PSH|ACK", 4381, 102, 620, 50},
		/* FIN in FIN_WAIT_2: acknowledged at once, with the data
		 * (3rd segment's pending delayed ACK included) */
		{C, "ACK", 102, 5002, 0, 60},
	};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "shutdown", 20},
		{0, FIN_WAIT_1, FIN_WAIT_2, "rx ACK", 40},
		{0, FIN_WAIT_2, TIME_WAIT, "rx FIN", 60},
		{0, TIME_WAIT, CLOSED, "timeout", 60060},
	};
	/* The server sends its first segments from CLOSE_WAIT; close() at
	 * once moves it to LAST_ACK with data still queued (RFC 9293
	 * figure 5: "CLOSE / snd FIN"; Linux tcp_close_state); the FIN
	 * leaves after the data. */
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 30},
		{1, CLOSE_WAIT, LAST_ACK, "close", 30},
		{1, LAST_ACK, CLOSED, "rx ACK", 70},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	expect_app(r, 0, 100, 5000, 0);
	expect_app(r, 1, 5000, 100, 0);
	assert_int_equal(xtime_in(r, C, 0, TIME_WAIT), MSL2);
	xdone(r, ok);
}

/* 14. The server sends 1000 bytes (duplicated by the network; the copy
 * arrives 370 ms late) and closes 200 ms after the client's FIN. The
 * client's ACKs of the server's FIN (320 ms) and of the old copy
 * (400 ms) are lost. */
static void test_time_wait(void **state)
{
	(void)state;
	scn_run *r = xrun("time-wait");
	static const xseg segs[] = {
		HANDSHAKE,
		{S, "PSH|ACK", 1, 1, 1000, 30},
		{C, "ACK", 1, 1001, 0, 80}, /* delayed ACK */
		{C, "FIN|ACK", 1, 1001, 0, 100},
		{S, "ACK", 1001, 2, 0, 150},
		{S, "FIN|ACK", 1001, 2, 0, 310},
		{C, "ACK lost", 2, 1002, 0, 320},
		/* (b) the old copy: below RCV.NXT, so not acceptable: ACK
		 * and drop (RFC 9293 3.10.7.4 first check) */
		{S, "PSH|ACK copy", 1, 1, 1000, 400},
		{C, "ACK lost", 2, 1002, 0, 400},
		/* (a) RTO: max(200 ms, SRTT + 4 RTTVAR) = 200 ms after the
		 * FIN; the end in TIME_WAIT acks it again */
		{S, "FIN|ACK", 1001, 2, 0, 510},
		{C, "ACK", 2, 1002, 0, 520},
	};
	/* TIME_WAIT restarts on the retransmitted FIN: CLOSED 2 MSL after
	 * 520 ms, not after 320 ms */
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{0, FIN_WAIT_1, FIN_WAIT_2, "rx ACK", 160},
		{0, FIN_WAIT_2, TIME_WAIT, "rx FIN", 320},
		{0, TIME_WAIT, CLOSED, "timeout", 60520},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 110},
		{1, CLOSE_WAIT, LAST_ACK, "close", 310},
		{1, LAST_ACK, CLOSED, "rx ACK", 530},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	/* the copy was absorbed: the application read the 1000 bytes once */
	expect_app(r, 0, 0, 1000, 0);
	xdone(r, ok);
}

/* 15. The client closes (an orphan); the server's application never
 * does. 60 s after entering FIN_WAIT_2 the client drops the connection
 * without a word (Linux tcp_fin_timeout); the server stays in
 * CLOSE_WAIT. */
static void test_fin_wait_2_timeout(void **state)
{
	(void)state;
	scn_run *r = xrun("fin-wait-2-timeout");
	static const xseg segs[] = {
		HANDSHAKE,
		{C, "FIN|ACK", 1, 1, 0, 100},
		{S, "ACK", 1, 2, 0, 150}, /* delayed ACK of the FIN */
	};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 100},
		{0, FIN_WAIT_1, FIN_WAIT_2, "rx ACK", 160},
		{0, FIN_WAIT_2, CLOSED, "timeout", 60160},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 110},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_int_equal(xtime_in(r, C, 0, FIN_WAIT_2), 60 * TERN_SEC);
	assert_int_equal(tern_tcp_state(r->apps[1].conn), CLOSE_WAIT);
	xdone(r, ok);
}

/* 16: the server never reads (4096-byte buffer); the client queues its
 * 16384-byte send buffer behind the full window and closes. Derived:
 * two full segments fill 2920 of the window; the 1176-byte tail waits
 * for the sender-SWS override timer (RTO 200 ms after the last ACK, at
 * 0.240); the window closes (0.290) and the client, all data queued,
 * closes at 0.300: FIN_WAIT_1, the FIN behind 16384 bytes. Probes of one
 * octet follow at RTO = 200 ms doubling: 0.5, 0.9, 1.7, 3.3, 6.5, 12.9,
 * 25.7, 51.3, 102.5, 204.9 s, each answered with window 0 (10 ms later),
 * FIN_WAIT_2's tcp_fin_timeout not applying. With the backoff at its
 * 120 s maximum (324.9 s) the orphan is reset, at exactly the server's
 * RCV.NXT (the window's right edge, not past the unaccepted probe
 * octet), and the server closes on it. */
static void test_fin_wait_1_zero_window(void **state)
{
	(void)state;
	scn_run *r = xrun("fin-wait-1-zero-window");
	static const int64_t probe_ms[] = {500,	  900,	 1700,	3300,	6500,
					   12900, 25700, 51300, 102500, 204900};
	xseg segs[8 + 2 * 10 + 1] = {
		HANDSHAKE,
		{C, "ACK", 1, 1, 1460, 20},
		{C, "ACK", 1461, 1, 1460, 20},
		{S, "ACK", 1, 2921, 0, 30},
		{C, "ACK", 2921, 1, 1176, 240},
		{S, "ACK", 1, 4097, 0, 290},
	};
	xwin wins[1 + 10];
	size_t n = 8;
	wins[0] = (xwin){7, 0};
	for (size_t i = 0; i < 10; i++) {
		segs[n++] = (xseg){C, "ACK", 4097, 1, 1, probe_ms[i]};
		wins[1 + i] = (xwin){n, 0};
		segs[n++] = (xseg){S, "ACK", 1, 4097, 0, probe_ms[i] + 10};
	}
	segs[n++] = (xseg){C, "RST|ACK", 4097, 1, 0, 324900};
	static const xstate client[] = {
		CLIENT_OPEN,
		{0, ESTABLISHED, FIN_WAIT_1, "close", 300},
		{0, FIN_WAIT_1, CLOSED, "timeout", 324900},
	};
	static const xstate server[] = {
		SERVER_OPEN,
		{1, ESTABLISHED, CLOSED, "rx RST", 324910},
	};
	bool ok = expect_segments(r, segs, n);
	ok &= expect_windows(r, wins, N(wins));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	assert_true(xtime_in(r, C, 0, FIN_WAIT_1) > 300 * TERN_SEC);
	assert_int_equal(tern_stack_conn_count(r->stack[C]), 0);
	xdone(r, ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_close),
		cmocka_unit_test(test_close_fin_ack_combined),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_time_wait),
		cmocka_unit_test(test_fin_wait_2_timeout),
		cmocka_unit_test(test_fin_wait_1_zero_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
