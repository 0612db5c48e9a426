/* The state table (src/tcp/state.c): names, properties, and the legal
 * edges, checked pair by pair against the RFC 9293 3.3.2 diagram with the
 * RST/ABORT/timeout edges of 3.10 and tern's documented choices. (Every
 * edge the engine takes in the other test_tcp_* programs is checked
 * against tcp_edge_legal by the bench's trace hook.) */
#include "tcp_harness.h"

enum {
	CLOSED = TERN_TCP_CLOSED,
	LISTEN = TERN_TCP_LISTEN,
	SYN_SENT = TERN_TCP_SYN_SENT,
	SYN_RECEIVED = TERN_TCP_SYN_RECEIVED,
	ESTABLISHED = TERN_TCP_ESTABLISHED,
	FIN_WAIT_1 = TERN_TCP_FIN_WAIT_1,
	FIN_WAIT_2 = TERN_TCP_FIN_WAIT_2,
	CLOSE_WAIT = TERN_TCP_CLOSE_WAIT,
	CLOSING = TERN_TCP_CLOSING,
	LAST_ACK = TERN_TCP_LAST_ACK,
	TIME_WAIT = TERN_TCP_TIME_WAIT,
	NSTATES = TERN_TCP_STATE_COUNT,
};

static const struct {
	int from, to;
} legal[] = {
	{CLOSED, LISTEN},	     /* OPEN passive */
	{CLOSED, SYN_SENT},	     /* OPEN active */
	{LISTEN, SYN_RECEIVED},	     /* rcv SYN (a cloned child) */
	{LISTEN, CLOSED},	     /* CLOSE */
	{SYN_SENT, SYN_RECEIVED},    /* rcv SYN: simultaneous open */
	{SYN_SENT, ESTABLISHED},     /* rcv SYN+ACK */
	{SYN_SENT, CLOSED},	     /* CLOSE, RST, timeout */
	{SYN_RECEIVED, ESTABLISHED}, /* rcv ACK of SYN */
	{SYN_RECEIVED, FIN_WAIT_1},  /* CLOSE */
	{SYN_RECEIVED, CLOSED},	     /* RST (tern: no return to LISTEN) */
	{ESTABLISHED, FIN_WAIT_1},   /* CLOSE */
	{ESTABLISHED, CLOSE_WAIT},   /* rcv FIN */
	{ESTABLISHED, CLOSED},	     /* RST, ABORT, timeout */
	{FIN_WAIT_1, FIN_WAIT_2},    /* rcv ACK of FIN */
	{FIN_WAIT_1, CLOSING},	     /* rcv FIN */
	{FIN_WAIT_1, TIME_WAIT},     /* rcv FIN + ACK of FIN */
	{FIN_WAIT_1, CLOSED},	     /* RST, ABORT, timeout */
	{FIN_WAIT_2, TIME_WAIT},     /* rcv FIN */
	{FIN_WAIT_2, CLOSED},	     /* RST, ABORT, orphan timeout */
	{CLOSE_WAIT, LAST_ACK},	     /* CLOSE */
	{CLOSE_WAIT, CLOSED},	     /* RST, ABORT, timeout */
	{CLOSING, TIME_WAIT},	     /* rcv ACK of FIN */
	{CLOSING, CLOSED},	     /* RST, ABORT, timeout */
	{LAST_ACK, CLOSED},	     /* rcv ACK of FIN, RST, timeout */
	{TIME_WAIT, CLOSED},	     /* 2 MSL, RST */
};

static bool in_legal(int from, int to)
{
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (legal[i].from == from && legal[i].to == to)
			return true;
	return false;
}

/* All 121 pairs: legal exactly when the list above says so. */
static void test_edges_match_rfc_diagram(void **state)
{
	(void)state;
	for (int from = 0; from < NSTATES; from++)
		for (int to = 0; to < NSTATES; to++)
			if (tcp_edge_legal(from, to) != in_legal(from, to)) {
				print_error("%s -> %s\n",
					    tern_tcp_state_name(from),
					    tern_tcp_state_name(to));
				fail();
			}
}

static void test_edges_illegal_examples(void **state)
{
	(void)state;
	assert_false(tcp_edge_legal(CLOSED, ESTABLISHED));
	assert_false(tcp_edge_legal(TIME_WAIT, ESTABLISHED));
	assert_false(tcp_edge_legal(LISTEN, FIN_WAIT_1));
	assert_false(tcp_edge_legal(LISTEN, ESTABLISHED));
	assert_false(tcp_edge_legal(FIN_WAIT_2, FIN_WAIT_1));
	assert_false(tcp_edge_legal(CLOSED, CLOSED));
	assert_false(tcp_edge_legal(ESTABLISHED, ESTABLISHED));
	assert_false(tcp_edge_legal(LAST_ACK, TIME_WAIT));
	assert_false(tcp_edge_legal(-1, CLOSED));
	assert_false(tcp_edge_legal(CLOSED, NSTATES));
}

static void test_state_names_and_properties(void **state)
{
	static const char *const names[NSTATES] = {
		"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
		"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
		"CLOSING",     "LAST_ACK",   "TIME_WAIT",
	};

	(void)state;
	for (int s = 0; s < NSTATES; s++)
		assert_string_equal(tern_tcp_state_name(s), names[s]);
	assert_string_equal(tern_tcp_state_name(NSTATES), "UNKNOWN");
	/* RFC 9293 3.3.2: synchronized from SYN_RECEIVED on */
	for (int s = 0; s < NSTATES; s++)
		assert_int_equal(!!(tcp_state_props(s) & TCP_P_SYNCHRONIZED),
				 s >= SYN_RECEIVED);
	/* SEND is an error once our FIN is queued */
	assert_true(tcp_state_props(CLOSE_WAIT) & TCP_P_USER_SEND);
	assert_false(tcp_state_props(FIN_WAIT_1) & TCP_P_USER_SEND);
	assert_false(tcp_state_props(LAST_ACK) & TCP_P_USER_SEND);
}

/* The edges of two whole lives, as the trace saw them. */
static void expect_path(const harness *h, const int *path, int n)
{
	int k = 0;

	for (int i = 0; i < h->ntrans; i++) {
		if (h->trans[i].conn_id != h->conn_id)
			continue;
		assert_true(k + 1 < n);
		assert_int_equal(h->trans[i].from, path[k]);
		assert_int_equal(h->trans[i].to, path[k + 1]);
		k++;
	}
	assert_int_equal(k, n - 1);
}

static void test_established_active_close_path(void **state)
{
	harness *h = *state;
	static const int path[] = {CLOSED,     SYN_SENT,   ESTABLISHED,
				   FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT,
				   CLOSED};

	h_established_client(h);
	h_time_wait(h, AT(1000));
	fire_at(h, AT(61000));
	expect_path(h, path, 7);
}

static void test_established_passive_close_path(void **state)
{
	harness *h = *state;
	static const int path[] = {LISTEN,     SYN_RECEIVED, ESTABLISHED,
				   CLOSE_WAIT, LAST_ACK,     CLOSED};

	h_established_server(h);
	h_close_wait(h, AT(1000));
	assert_int_equal(tern_tcp_shutdown(h->conn, TERN_SHUT_WR, AT(1100)), 0);
	expect_seg(h, TERN_TCP_FIN | TERN_TCP_ACK, 1, 2, 0);
	h_in(h, TERN_TCP_ACK, 2, 2, 0, AT(1200));
	expect_path(h, path, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges_match_rfc_diagram),
		cmocka_unit_test(test_edges_illegal_examples),
		cmocka_unit_test(test_state_names_and_properties),
		H_TEST(test_established_active_close_path),
		H_TEST(test_established_passive_close_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
