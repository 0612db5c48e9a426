/* Receive buffer autotuning: a reader that keeps up over a 100 Mbit/s
 * path with a 50 ms round trip (625 KB in flight fills it). With the
 * default 128 KB buffer the window would hold the transfer to 128 KB a
 * round trip, 21 Mbit/s; grown as the application reads (Linux's
 * tcp_moderate_rcvbuf), it holds the path's 625 KB and leaves the rate
 * to congestion control, and never passes tcp_rmem[2].
 * Off, or with a buffer the application chose, it stays as it was. */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 5001

typedef struct result {
	double mbps; /* over the last 5 of 10 s */
	uint32_t rcvbuf;
} result;

static tern_stack *make_stack(tern_sim *sim, tern_link *port, uint32_t addr,
			      int moderate)
{
	tern_settings set;
	tern_settings_default(&set);
	/* the sender never limits */
	set.tcp_wmem[1] = set.tcp_wmem[2] = 8 << 20;
	set.tcp_moderate_rcvbuf = moderate;
	tern_stack_config cfg = {.addr = addr, .settings = &set};
	tern_stack *st = tern_stack_new(&cfg);
	assert_non_null(st);
	assert_int_equal(tern_sim_add_stack(sim, st, port), 0);
	return st;
}

static result transfer(int moderate, uint32_t rcvbuf)
{
	static uint8_t buf[65536];
	tern_sim_path path = {.delay = 25 * TERN_MSEC, .rate_bps = 100000000};
	tern_sim_path back = {.delay = 25 * TERN_MSEC};
	tern_conn_opts lo = {.rcvbuf = rcvbuf};
	tern_endpoint to = {SERVER, PORT};
	uint64_t got = 0, got_half = 0;
	tern_tcp_info info;

	tern_sim *sim = tern_sim_new(4);
	tern_link *a = tern_sim_port(sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(sim, SERVER, 1500);
	assert_true(tern_sim_join(sim, a, b, &path, &back) >= 0);
	tern_stack *c = make_stack(sim, a, CLIENT, moderate);
	tern_stack *s = make_stack(sim, b, SERVER, moderate);
	tern_conn *l = tern_tcp_listen(s, PORT, 4, &lo, 0, NULL);
	tern_conn *cl = tern_tcp_connect(c, &to, NULL, 0, NULL);
	tern_conn *srv = NULL;
	for (tern_time t = 0; t < 10 * TERN_SEC;) {
		t += 5 * TERN_MSEC;
		tern_sim_run(sim, t);
		if (!srv)
			srv = tern_tcp_accept(l, NULL);
		while (tern_tcp_send(cl, buf, sizeof(buf), t) > 0)
			;
		ptrdiff_t r;
		while (srv && (r = tern_tcp_recv(srv, buf, sizeof(buf), t)) > 0)
			got += (uint64_t)r;
		if (t == 5 * TERN_SEC)
			got_half = got;
	}
	assert_int_equal(tern_tcp_info_get(srv, &info), 0);
	result res = {(double)(got - got_half) * 8 / 5 / 1e6,
		      info.rcv_buf_size};
	tern_stack_free(c);
	tern_stack_free(s);
	tern_sim_free(sim);
	print_message("moderate %d, rcvbuf %u: %.1f Mbit/s, buffer %u\n",
		      moderate, rcvbuf, res.mbps, res.rcvbuf);
	return res;
}

static void test_autotuning_opens_the_window(void **state)
{
	(void)state;
	result r = transfer(1, 0);
	/* a 128 KB window allows 21 Mbit/s at most here; what is left is
	 * the sender's congestion window (CUBIC after an early loss) */
	assert_true(r.mbps > 40);
	assert_true(r.rcvbuf >= 625000 && r.rcvbuf <= 6291456);
}

static void test_autotuning_off(void **state)
{
	(void)state;
	result r = transfer(0, 0);
	assert_true(r.mbps < 25);
	assert_int_equal(r.rcvbuf, 131072);
}

static void test_application_buffer_never_grows(void **state)
{
	(void)state;
	result r = transfer(1, 131072);
	assert_true(r.mbps < 25);
	assert_int_equal(r.rcvbuf, 131072);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autotuning_opens_the_window),
		cmocka_unit_test(test_autotuning_off),
		cmocka_unit_test(test_application_buffer_never_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
