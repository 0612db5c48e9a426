/* SCENARIOS.md 21, syn-flood: four spoofed SYNs from an address nobody
 * answers fill a SYN queue of four (tcp_max_syn_backlog); the genuine
 * client's SYN, arriving at 10 ms, then gets a SYN cookie and connects
 * at once (tcp_syncookies = 1), or is dropped and gets in only when the
 * spoofed half-open connections time out (tcp_syncookies = 0). The
 * server sends one SYN+ACK retransmission (tcp_synack_retries = 1), so
 * those go 1 + 2 = 3 s after their SYN. One-way delay 10 ms. */
#include <stdlib.h>

#include "catalogue.h"
#include "scenario_expect.h"
#include "stack/stack.h"
#include "stack/syncookie.h"

/* The spoofed SYNs at 1..4 ms, seq 1000000 * i, and the server's
 * SYN+ACKs to them, lost (no port has that address). Their numbers are
 * raw: the client never sent a SYN on those ports. */
#define FLOOD(i)                                                               \
	{C, "SYN forged", 1000000 * (i), 0, 0, (i)},                           \
	{                                                                      \
		S, "SYN|ACK lost", 0, 1000000 * (i) + 1, 0, (i)                \
	}
#define FLOOD_AGAIN(i)                                                         \
	{                                                                      \
		S, "SYN|ACK lost", 0, 1000000 * (i) + 1, 0, 1000 + (i)         \
	}

static const xstate flood_children[] = {
	{0, CLOSED, LISTEN, "listen", 0},
	{1, LISTEN, SYN_RECEIVED, "rx SYN", 1},
	{2, LISTEN, SYN_RECEIVED, "rx SYN", 2},
	{3, LISTEN, SYN_RECEIVED, "rx SYN", 3},
	{4, LISTEN, SYN_RECEIVED, "rx SYN", 4},
};

/* The server's state changes: the four flood children's, then `rest`. */
static bool expect_server_states(const scn_run *r, const xstate *rest, size_t n)
{
	xstate all[N(flood_children) + 16];

	assert_true(n <= 16);
	memcpy(all, flood_children, sizeof(flood_children));
	memcpy(all + N(flood_children), rest, n * sizeof(*rest));
	return expect_states(r, S, all, N(flood_children) + n);
}

static uint64_t ctr(const scn_run *r, int host, int counter)
{
	return tern_stack_stats(r->stack[host])->counters[counter];
}

/* The server's SYN+ACK (segment i) must carry a cookie for the client's
 * SYN: its ISN decodes, for the client's 4-tuple and ISN, at the time it
 * was sent, to the MSS 1460. */
static void expect_cookie(const scn_run *r, size_t i)
{
	const tern_trace_event *synack = xseg_event(r, i);
	const tern_trace_event *syn = xseg_event(r, 0);
	tern_endpoint local = synack->seg.src, remote = synack->seg.dst;
	bool known;
	uint32_t j = scn_isn(r, C, &known);

	assert_true(known);
	assert_int_equal(remote.port, syn->seg.src.port);
	assert_int_equal(syncookie_check(r->stack[S]->cookie_key, &local,
					 &remote, j, synack->seg.seq,
					 synack->t),
			 1460);
	/* another peer ISN, or a minute too late, and it does not */
	assert_int_equal(syncookie_check(r->stack[S]->cookie_key, &local,
					 &remote, j - 100, synack->seg.seq,
					 synack->t),
			 0);
	assert_int_equal(syncookie_check(r->stack[S]->cookie_key, &local,
					 &remote, j, synack->seg.seq,
					 synack->t + 120 * TERN_SEC),
			 0);
}

/* tcp_syncookies = 1: the cookie SYN+ACK at 10 ms; the ACK at 30 ms
 * makes the connection, LISTEN -> SYN_RECEIVED -> ESTABLISHED at once,
 * and the data behind it goes through. */
static void test_syn_flood(void **state)
{
	(void)state;
	scn_run *r = xrun("syn-flood");
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		FLOOD(1),
		FLOOD(2),
		FLOOD(3),
		FLOOD(4),
		{S, "SYN|ACK", 0, 1, 0, 10}, /* the cookie */
		{C, "ACK", 1, 1, 0, 20},
		{C, "PSH|ACK", 1, 1, 100, 20},
		{S, "ACK", 1, 101, 0, 70},
		FLOOD_AGAIN(1),
		FLOOD_AGAIN(2),
		FLOOD_AGAIN(3),
		FLOOD_AGAIN(4),
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 20},
	};
	static const xstate server[] = {
		{5, LISTEN, SYN_RECEIVED, "rx cookie", 30},
		{5, SYN_RECEIVED, ESTABLISHED, "rx ACK", 30},
		{1, SYN_RECEIVED, CLOSED, "timeout", 3001},
		{2, SYN_RECEIVED, CLOSED, "timeout", 3002},
		{3, SYN_RECEIVED, CLOSED, "timeout", 3003},
		{4, SYN_RECEIVED, CLOSED, "timeout", 3004},
	};

	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_server_states(r, server, N(server));
	expect_cookie(r, 9);
	assert_int_equal(ctr(r, S, TERN_CTR_TCP_REQQ_FULL_COOKIES), 1);
	assert_int_equal(ctr(r, S, TERN_CTR_SYNCOOKIES_SENT), 1);
	assert_int_equal(ctr(r, S, TERN_CTR_SYNCOOKIES_RECV), 1);
	assert_int_equal(ctr(r, S, TERN_CTR_SYNCOOKIES_FAILED), 0);
	assert_int_equal(ctr(r, S, TERN_CTR_TCP_REQQ_FULL_DROP), 0);
	assert_int_equal(r->napps, 2);
	expect_app(r, 0, 100, 0, 0);
	expect_app(r, 1, 0, 100, 0);
	xdone(r, ok);
}

/* tcp_syncookies = 0: the client's SYN and its first retransmission (at
 * 1 s) find the queue full and are dropped (TCPReqQFullDrop); the
 * spoofed connections go at 3.001-3.004 s and the SYN sent at 3 s, in at
 * 3.010 s, gets a place. */
static void test_syn_flood_without_cookies(void **state)
{
	(void)state;
	scn_run *r = NULL;
	static const xseg segs[] = {
		{C, "SYN", 0, 0, 0, 0},
		FLOOD(1),
		FLOOD(2),
		FLOOD(3),
		FLOOD(4),
		{C, "SYN", 0, 0, 0, 1000},
		FLOOD_AGAIN(1),
		FLOOD_AGAIN(2),
		FLOOD_AGAIN(3),
		FLOOD_AGAIN(4),
		{C, "SYN", 0, 0, 0, 3000},
		{S, "SYN|ACK", 0, 1, 0, 3010},
		{C, "ACK", 1, 1, 0, 3020},
		{C, "PSH|ACK", 1, 1, 100, 3020},
		{S, "ACK", 1, 101, 0, 3070},
	};
	static const xstate client[] = {
		{0, CLOSED, SYN_SENT, "connect", 0},
		{0, SYN_SENT, ESTABLISHED, "rx SYN+ACK", 3020},
	};
	static const xstate server[] = {
		{1, SYN_RECEIVED, CLOSED, "timeout", 3001},
		{2, SYN_RECEIVED, CLOSED, "timeout", 3002},
		{3, SYN_RECEIVED, CLOSED, "timeout", 3003},
		{4, SYN_RECEIVED, CLOSED, "timeout", 3004},
		{5, LISTEN, SYN_RECEIVED, "rx SYN", 3010},
		{5, SYN_RECEIVED, ESTABLISHED, "rx ACK", 3030},
	};

	assert_int_equal(scn_execute(&scn_syn_flood_no_cookies,
				     &(scn_params){.seed = 1}, &r),
			 0);
	bool ok = expect_segments(r, segs, N(segs));
	ok &= expect_states(r, C, client, N(client));
	ok &= expect_server_states(r, server, N(server));
	assert_int_equal(ctr(r, S, TERN_CTR_TCP_REQQ_FULL_DROP), 2);
	assert_int_equal(ctr(r, S, TERN_CTR_TCP_LISTEN_DROPS), 2);
	assert_int_equal(tern_stack_stats(r->stack[S])
				 ->drops[TERN_DROP_TCP_SYN_QUEUE_FULL],
			 2);
	assert_int_equal(ctr(r, S, TERN_CTR_SYNCOOKIES_SENT), 0);
	expect_app(r, 0, 100, 0, 0);
	expect_app(r, 1, 0, 100, 0);
	xdone(r, ok);
}

/* The timeline names each connection's ISN apart: the server's for the
 * genuine client is K, those for the four forged SYNs K2 to K5 (they are
 * four other numbers, not K). */
static void test_syn_flood_timeline_names_each_isn(void **state)
{
	(void)state;
	scn_run *r = xrun("syn-flood");
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	scn_print_timeline(r, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "SYN+ACK seq=K ack=J+1 "));
	assert_null(strstr(text, "seq=K ack=1000001"));
	for (int i = 1; i <= 4; i++) {
		char want[48];
		snprintf(want, sizeof(want), "SYN+ACK seq=K%d ack=%d000001 ",
			 i + 1, i);
		assert_non_null(strstr(text, want));
	}
	free(text);
	scn_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_flood),
		cmocka_unit_test(test_syn_flood_without_cookies),
		cmocka_unit_test(test_syn_flood_timeline_names_each_isn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
