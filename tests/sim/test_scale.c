/* Many connections at once, the smaller version of `make bench`'s million
 * (bench/tern_mem.c): 20,000 connections between two stacks open, each
 * carries a byte each way, all close (the client first: 20,000 TIME_WAIT
 * records), and 2 MSL later nothing is left of them: no connection, no
 * record, and the memory they held back with the allocator. */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 80
#define N 20000

static tern_conn *cli[N], *srv[N];

typedef struct world {
	tern_sim *sim;
	tern_stack *c, *s;
	tern_conn *l;
	tern_time now;
} world;

static tern_stack *make_stack(world *w, tern_link *port, uint32_t addr)
{
	tern_settings set;
	tern_settings_default(&set);
	set.ip_local_port_range[0] = 1024;
	set.ip_local_port_range[1] = 65535;
	set.tcp_max_tw_buckets = N;
	tern_stack_config cfg = {.addr = addr, .settings = &set};
	tern_stack *st = tern_stack_new(&cfg);
	assert_non_null(st);
	assert_int_equal(tern_sim_add_stack(w->sim, st, port), 0);
	return st;
}

static void run_for(world *w, tern_time d)
{
	w->now += d;
	tern_sim_run(w->sim, w->now);
}

static size_t count(tern_stack *st, int state)
{
	size_t counts[TERN_TCP_STATE_COUNT];
	tern_stack_state_counts(st, counts);
	return counts[state];
}

static void open_all(world *w)
{
	tern_endpoint to = {SERVER, PORT};
	int got = 0;

	for (int i = 0; i < N; i++) {
		int err = -1;
		cli[i] = tern_tcp_connect(w->c, &to, NULL, w->now, &err);
		assert_int_equal(err, 0);
		if ((i & 255) == 255 || i == N - 1)
			run_for(w, TERN_MSEC);
		while (got < N && (srv[got] = tern_tcp_accept(w->l, NULL)))
			got++;
	}
	for (int k = 0; k < 100 && got < N; k++) {
		run_for(w, TERN_MSEC);
		while (got < N && (srv[got] = tern_tcp_accept(w->l, NULL)))
			got++;
	}
	assert_int_equal(got, N);
	assert_int_equal(count(w->c, TERN_TCP_ESTABLISHED), N);
	assert_int_equal(count(w->s, TERN_TCP_ESTABLISHED), N);
}

static void byte_each_way(world *w)
{
	char b;

	for (int i = 0; i < N; i++) {
		assert_int_equal(tern_tcp_send(cli[i], "c", 1, w->now), 1);
		assert_int_equal(tern_tcp_send(srv[i], "s", 1, w->now), 1);
	}
	run_for(w, 100 * TERN_MSEC);
	for (int i = 0; i < N; i++) {
		assert_int_equal(tern_tcp_recv(srv[i], &b, 1, w->now), 1);
		assert_int_equal(b, 'c');
		assert_int_equal(tern_tcp_recv(cli[i], &b, 1, w->now), 1);
		assert_int_equal(b, 's');
	}
}

static void test_twenty_thousand(void **state)
{
	(void)state;
	tern_sim_path path = {.delay = TERN_MSEC};
	world w = {0};

	w.sim = tern_sim_new(11);
	tern_link *a = tern_sim_port(w.sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(w.sim, SERVER, 1500);
	assert_true(tern_sim_join(w.sim, a, b, &path, &path) >= 0);
	w.c = make_stack(&w, a, CLIENT);
	w.s = make_stack(&w, b, SERVER);
	w.l = tern_tcp_listen(w.s, PORT, 4096, NULL, 0, NULL);
	size_t c_base = tern_stack_mem_in_use(w.c);

	open_all(&w);
	byte_each_way(&w);
	for (int i = 0; i < N; i++)
		tern_tcp_close(cli[i], w.now);
	run_for(&w, 100 * TERN_MSEC);
	for (int i = 0; i < N; i++)
		tern_tcp_close(srv[i], w.now);
	run_for(&w, 100 * TERN_MSEC);
	assert_int_equal(count(w.c, TERN_TCP_TIME_WAIT), N);
	assert_int_equal(tern_stack_conn_count(w.s), 1); /* the listener */
	size_t c_tw = tern_stack_mem_in_use(w.c);

	run_for(&w, 61 * TERN_SEC);
	assert_int_equal(tern_stack_conn_count(w.c), 0);
	size_t c_end = tern_stack_mem_in_use(w.c);
	/* all that stays is the connection table, grown for N and kept */
	assert_true(c_end - c_base <= 2 * N * sizeof(void *));
	assert_true(c_tw - c_end >= (size_t)N * 60);
	print_message("client: %zu bytes at rest, %zu with %d records\n", c_end,
		      c_tw, N);
	tern_stack_free(w.c);
	tern_stack_free(w.s);
	tern_sim_free(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twenty_thousand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
