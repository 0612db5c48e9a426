/* The stack keeps freed buffers for the next request of their size
 * (stack.c, stack_buf_alloc): a connection whose receiver drains its
 * buffer every round trip, and whose sender's buffer empties every round
 * trip, allocates its buffers once, not once a round trip; and the kept
 * buffers go back to the allocator with the stack. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 5001

typedef struct counter {
	unsigned allocs, frees;
	size_t live;
} counter;

static void *count_alloc(void *ctx, size_t size)
{
	counter *c = ctx;

	c->allocs++;
	c->live += size;
	return malloc(size);
}

static void count_free(void *ctx, void *p, size_t size)
{
	counter *c = ctx;

	c->frees++;
	c->live -= size;
	free(p);
}

static void test_buffers_reused_round_after_round(void **state)
{
	counter cnt = {0};
	tern_allocator alloc = {count_alloc, count_free, &cnt};
	tern_endpoint to = {SERVER, PORT};
	uint8_t buf[4096] = {0};

	(void)state;
	tern_sim *sim = tern_sim_new(5);
	tern_link *a = tern_sim_port(sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(sim, SERVER, 1500);
	tern_sim_path path = {.delay = 5 * TERN_MSEC};
	assert_true(tern_sim_join(sim, a, b, &path, &path) >= 0);
	tern_stack *st[2];
	for (int i = 0; i < 2; i++) {
		tern_stack_config cfg = {
			.addr = i ? SERVER : CLIENT,
			.alloc = &alloc,
			.secret = {1, (uint64_t)i},
		};
		st[i] = tern_stack_new(&cfg);
		assert_non_null(st[i]);
		tern_sim_add_stack(sim, st[i], i ? b : a);
	}
	tern_conn *l = tern_tcp_listen(st[1], PORT, 4, NULL, 0, NULL);
	tern_conn *c = tern_tcp_connect(st[0], &to, NULL, 0, NULL);
	tern_conn *srv = NULL;
	tern_time t = 0;
	unsigned after_first = 0;
	/* 200 rounds: 4 KB written, carried, read; both buffers empty */
	for (int round = 0; round < 200; round++) {
		t += 20 * TERN_MSEC;
		tern_sim_run(sim, t);
		if (!srv)
			srv = tern_tcp_accept(l, NULL);
		if (srv)
			while (tern_tcp_recv(srv, buf, sizeof(buf), t) > 0)
				;
		assert_int_equal(tern_tcp_send(c, buf, sizeof(buf), t),
				 (ptrdiff_t)sizeof(buf));
		if (round == 10)
			after_first = cnt.allocs;
	}
	print_message("%u allocations after round 10, %u by round 200\n",
		      after_first, cnt.allocs);
	assert_int_equal(cnt.allocs, after_first);
	tern_stack_free(st[0]);
	tern_stack_free(st[1]);
	tern_sim_free(sim);
	assert_int_equal(cnt.live, 0);
	assert_int_equal(cnt.allocs, cnt.frees);
}

/* Buffers that grow with the connection (send: twice cwnd; receive: as
 * the application reads) move their data to a new buffer each time, so
 * they grow by doubling: a bulk transfer of 64 MB, whose cwnd grows a
 * segment an ACK through slow start, makes a few dozen allocations, not
 * one an ACK (there were thousands, and a quadratic copy). */
static void test_growing_buffers_double(void **state)
{
	counter cnt = {0};
	tern_allocator alloc = {count_alloc, count_free, &cnt};
	tern_endpoint to = {SERVER, PORT};
	static uint8_t buf[65536];
	uint64_t got = 0;

	(void)state;
	tern_sim *sim = tern_sim_new(6);
	tern_link *a = tern_sim_port(sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(sim, SERVER, 1500);
	tern_sim_path path = {.delay = 5 * TERN_MSEC};
	assert_true(tern_sim_join(sim, a, b, &path, &path) >= 0);
	tern_stack *st[2];
	for (int i = 0; i < 2; i++) {
		tern_stack_config cfg = {
			.addr = i ? SERVER : CLIENT,
			.alloc = &alloc,
			.secret = {1, (uint64_t)i},
		};
		st[i] = tern_stack_new(&cfg);
		assert_non_null(st[i]);
		tern_sim_add_stack(sim, st[i], i ? b : a);
	}
	tern_conn *l = tern_tcp_listen(st[1], PORT, 4, NULL, 0, NULL);
	tern_conn *c = tern_tcp_connect(st[0], &to, NULL, 0, NULL);
	tern_conn *srv = NULL;
	unsigned base = cnt.allocs;
	for (tern_time t = 0; got < (64u << 20) && t < 60 * TERN_SEC;) {
		t += TERN_MSEC;
		tern_sim_run(sim, t);
		if (!srv)
			srv = tern_tcp_accept(l, NULL);
		while (tern_tcp_send(c, buf, sizeof(buf), t) > 0)
			;
		ptrdiff_t r;
		while (srv && (r = tern_tcp_recv(srv, buf, sizeof(buf), t)) > 0)
			got += (uint64_t)r;
	}
	tern_tcp_info i;
	assert_int_equal(tern_tcp_info_get(c, &i), 0);
	print_message("64 MB: %u allocations, send buffer %u, receive "
		      "buffer grew too\n",
		      cnt.allocs - base, i.snd_buf_size);
	assert_true(got >= (64u << 20));
	assert_true(i.snd_buf_size > 16384);
	assert_true(cnt.allocs - base < 64);
	tern_stack_free(st[0]);
	tern_stack_free(st[1]);
	tern_sim_free(sim);
	assert_int_equal(cnt.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffers_reused_round_after_round),
		cmocka_unit_test(test_growing_buffers_double),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
