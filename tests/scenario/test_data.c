/* SCENARIOS.md 7-9, data: every segment and every state change, exactly,
 * derived from RFC 9293, RFC 5681 (MSS 1460, initial window 3 segments,
 * ACK every second full segment, else after 40 ms), RFC 6298 (RTO 1 s
 * initially, 200 ms at least), RFC 6582 and Nagle (RFC 1122 4.2.3.4).
 * One-way delay 10 ms throughout. */
#include "scenario_expect.h"

/* Client: connect, rx SYN+ACK. Server: listen, then its connection. */
static const xstate open_client[] = {
	{0, CLOSED, SYN_SENT, "connect", 0},
	{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
};
static const xstate open_server[] = {
	{0, CLOSED, LISTEN, "listen", 0},
	{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
	{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
};

/* 7. Each side writes 3000 bytes as soon as it can: two full segments,
 * then an 80-byte tail that Nagle holds while data is unacknowledged. */
static void test_data_transfer(void **state)
{
	(void)state;
	scn_run *r = xrun("data-transfer");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
		{C, "ACK", 1, 1, 1460, 20},
		{C, "ACK", 1461, 1, 1460, 20},
		/* the server writes once it accepts (the ACK at 30 ms) */
		{S, "ACK", 1, 1, 1460, 30},
		{S, "ACK", 1461, 1, 1460, 30},
		/* second full segment in: ACK at once; its own 80-byte
		 * tail is held by Nagle, so the ACK goes alone */
		{S, "ACK", 2921, 2921, 0, 30},
		{C, "ACK", 2921, 2921, 0, 40},
		/* the server's ACK acks all the client sent: Nagle lets
		 * the tail go; PSH as it empties the send buffer */
		{C, "PSH|ACK", 2921, 2921, 80, 40},
		{S, "PSH|ACK", 2921, 2921, 80, 50},
		/* one small segment each: delayed ACKs, 40 ms later */
		{S, "ACK", 3001, 3001, 0, 90},
		{C, "ACK", 3001, 3001, 0, 100},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, open_client, N(open_client));
	ok &= expect_states(r, S, open_server, N(open_server));
	expect_app(r, 0, 3000, 3000, 0);
	expect_app(r, 1, 3000, 3000, 0);
	xdone(r, ok);
}

/* 8. 20000 bytes over scripted faults (client data segments are counted
 * as they leave, retransmissions included): the 3rd is lost, the 7th is
 * duplicated (the copy 1 ms behind), the 9th held back 5 ms; the
 * server's 6th pure ACK is lost.
 *
 * RFC 5681 3.2 step 1: "On the first and second duplicate ACKs received
 * at a sender, a TCP SHOULD send a segment of previously unsent data per
 * [RFC3042] provided that the receiver's advertised window allows, the
 * total FlightSize would remain less than or equal to cwnd plus 2*SMSS"
 * (Linux does this too). So the 7th and 8th data segments are new data
 * sent on the first two duplicate ACKs, and the fast retransmission is
 * the 9th. Step 2: ssthresh = max(FlightSize / 2, 2*SMSS) without the
 * limited-transmit data = max(5840 / 2, 2920) = 2920; step 3: cwnd =
 * ssthresh + 3*SMSS = 7300.
 *
 * The engine (src/tcp/ack.c on_dupack) implements steps 2-4 only: it
 * sends nothing on the first two duplicate ACKs, so its 7th data segment
 * is the fast retransmission and everything after 60 ms shifts. This
 * test fails until limited transmit is in. (In that run the recorder,
 * scenarios/run.c mark_lost, also pairs the lost original of 2921 with
 * the network's copy of its retransmission: the original shows as
 * delivered and no copy is listed.) */
static void test_lossy_transfer(void **state)
{
	(void)state;
	scn_run *r = xrun("lossy-transfer");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
		/* initial window: 3 segments (RFC 5681 eq. 1: 4380) */
		{C, "ACK", 1, 1, 1460, 20},
		{C, "ACK", 1461, 1, 1460, 20},
		{C, "ACK lost", 2921, 1, 1460, 20},
		{S, "ACK", 1, 2921, 0, 30},
		/* slow start: cwnd 4380 + 1460; 1460 still in flight */
		{C, "ACK", 4381, 1, 1460, 40},
		{C, "ACK", 5841, 1, 1460, 40},
		{C, "ACK", 7301, 1, 1460, 40},
		/* out of order: an immediate duplicate ACK each
		 * (RFC 5681 4.2) */
		{S, "ACK", 1, 2921, 0, 50},
		{S, "ACK", 1, 2921, 0, 50},
		{S, "ACK", 1, 2921, 0, 50},
		/* dup ACKs 1 and 2: limited transmit; 3: fast retransmit,
		 * which the network holds 5 ms */
		{C, "ACK", 8761, 1, 1460, 60},
		{C, "ACK", 10221, 1, 1460, 60},
		{C, "ACK", 2921, 1, 1460, 60},
		/* two identical dup ACKs; the harness knows each packet by
		 * its IPv4 ID, so it knows the second was lost */
		{S, "ACK", 1, 2921, 0, 70},
		{S, "ACK lost", 1, 2921, 0, 70}, /* its 6th pure ACK */
		{C, "ACK copy", 8761, 1, 1460, 71},
		{S, "ACK", 1, 2921, 0, 71},
		/* the retransmission fills the hole: ACK at once */
		{S, "ACK", 1, 11681, 0, 75},
		/* 4th dup ACK (80 ms): cwnd 8760, nothing fits; 5th
		 * (81 ms): cwnd 10220, one new segment (RFC 5681 step 4) */
		{C, "ACK", 11681, 1, 1460, 81},
		/* full ACK of recover = 11681 (RFC 6582): cwnd =
		 * min(ssthresh, FlightSize + SMSS) = 2920, 1460 in flight */
		{C, "ACK", 13141, 1, 1460, 85},
		{S, "ACK", 1, 14601, 0, 95},
		/* cwnd = ssthresh: 2920 bytes acked reach cwnd, +1 SMSS
		 * (RFC 5681 3.1 byte counting): 3 segments */
		{C, "ACK", 14601, 1, 1460, 105},
		{C, "ACK", 16061, 1, 1460, 105},
		{C, "ACK", 17521, 1, 1460, 105},
		{S, "ACK", 1, 17521, 0, 115},
		/* the last 1020 bytes carry the FIN (the application has
		 * closed): Linux sends a FIN-bearing segment past Nagle */
		{C, "FIN|PSH|ACK", 18981, 1, 1020, 125},
		/* the server closes on EOF: its ACK rides on its FIN */
		{S, "FIN|ACK", 1, 20002, 0, 135},
		{C, "ACK", 20002, 2, 0, 145},
	};
	/* the client's application closes once all 20000 bytes are queued:
	 * the full ACK at 85 ms makes room for the last 696 */
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
		{0, ESTABLISHED, FIN_WAIT_1, "close", 85},
		{0, FIN_WAIT_1, TIME_WAIT, "rx FIN", 145},
		{0, TIME_WAIT, CLOSED, "timeout", 60145},
	};
	static const xstate server[] = {
		{0, CLOSED, LISTEN, "listen", 0},
		{1, LISTEN, SYN_RECEIVED, "rx SYN", 10},
		{1, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
		{1, ESTABLISHED, CLOSE_WAIT, "rx FIN", 135},
		{1, CLOSE_WAIT, LAST_ACK, "close", 135},
		{1, LAST_ACK, CLOSED, "rx ACK", 155},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_states(r, S, server, N(server));
	xdone(r, ok);
}

/* 8, what the application sees, whatever the segments: every byte once,
 * in order; both ends closed. */
static void test_lossy_transfer_delivery(void **state)
{
	(void)state;
	scn_run *r = xrun("lossy-transfer");
	expect_app(r, 0, 20000, 0, 0);
	expect_app(r, 1, 0, 20000, 0);
	assert_true(r->apps[1].eof);
	assert_int_equal(tern_tcp_state(r->listener), LISTEN);
	scn_free(r);
}

/* 9. The server's application does not read until 2 s; its buffer is
 * 4096 bytes, so that is the window its SYN+ACK offers. */
static void test_zero_window(void **state)
{
	(void)state;
	scn_run *r = xrun("zero-window");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		{S, "SYN|ACK", 0, 1, 0, 10},
		{C, "ACK", 1, 1, 0, 20},
		/* two full segments fit the 4096 window; 1176 bytes would
		 * too, but sender SWS avoidance (RFC 9293 3.8.6.2.1) waits
		 * for a full segment or half the peer's largest window */
		{C, "ACK", 1, 1, 1460, 20},
		{C, "ACK", 1461, 1, 1460, 20},
		{S, "ACK", 1, 2921, 0, 30}, /* window 1176 */
		/* nothing in flight, nothing sendable: the persist timer
		 * (RTO = 200 ms) is the "override timeout" of 3.8.6.2.1,
		 * and what fits goes (as Linux) */
		{C, "ACK", 2921, 1, 1176, 240},
		/* a lone small segment: delayed ACK; window 0 */
		{S, "ACK", 1, 4097, 0, 290},
		/* zero-window probes of one new octet (3.8.6.1), each
		 * refused at once with window 0; the interval doubles
		 * from 200 ms (RFC 1122 4.2.2.17) */
		{C, "ACK", 4097, 1, 1, 500},
		{S, "ACK", 1, 4097, 0, 510},
		{C, "ACK", 4097, 1, 1, 900},
		{S, "ACK", 1, 4097, 0, 910},
		{C, "ACK", 4097, 1, 1, 1700},
		{S, "ACK", 1, 4097, 0, 1710},
		/* the application reads 4096 bytes: window update */
		{S, "ACK", 1, 4097, 0, 2000},
		{C, "ACK", 4097, 1, 1460, 2010},
		{C, "ACK", 5557, 1, 1460, 2010},
		/* 2 full segments: ACK at once, before the application
		 * reads the second: window 4096 - 1460 */
		{S, "ACK", 1, 7017, 0, 2020},
		{C, "ACK", 7017, 1, 1460, 2030},
		/* the read doubles the window (1176 -> 4096): update at
		 * once (Linux's rule, tcp_cleanup_rbuf) */
		{S, "ACK", 1, 8477, 0, 2040},
		/* Nagle holds the last 64 bytes behind this one */
		{C, "ACK", 8477, 1, 1460, 2050},
		{S, "ACK", 1, 9937, 0, 2100}, /* delayed ACK */
		{C, "PSH|ACK", 9937, 1, 64, 2110},
		{S, "ACK", 1, 10001, 0, 2160}, /* delayed ACK */
	};
	static const xwin wins[] = {
		{1, 4096},
		{5, 1176},
		{7, 0},
		{9, 0},
		{11, 0},
		{13, 0},
		{14, 4096},
		{17, 2636},
		{19, 4096},
		{21, 4096},
		/* 64 bytes do not move the right edge: receiver SWS
		 * avoidance (3.8.6.2.2) */
		{23, 4032},
	};
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_windows(r, wins, N(wins));
	ok &= expect_states(r, C, open_client, N(open_client));
	ok &= expect_states(r, S, open_server, N(open_server));
	expect_app(r, 0, 10000, 0, 0);
	expect_app(r, 1, 0, 10000, 0);
	xdone(r, ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_transfer),
		cmocka_unit_test(test_lossy_transfer),
		cmocka_unit_test(test_lossy_transfer_delivery),
		cmocka_unit_test(test_zero_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
