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

/* Two stacks on a 5 ms link, both allocating through the counter, a
 * listener on the server and a connection from the client. */
typedef struct pair {
	counter cnt;
	tern_allocator alloc;
	tern_sim *sim;
	tern_stack *st[2];
	tern_conn *l, *c;
} pair;

static void pair_up(pair *p, uint64_t seed)
{
	tern_endpoint to = {SERVER, PORT};

	memset(p, 0, sizeof(*p));
	p->alloc = (tern_allocator){count_alloc, count_free, &p->cnt};
	p->sim = tern_sim_new(seed);
	tern_link *a = tern_sim_port(p->sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(p->sim, SERVER, 1500);
	tern_sim_path path = {.delay = 5 * TERN_MSEC};
	assert_true(tern_sim_join(p->sim, a, b, &path, &path) >= 0);
	for (int i = 0; i < 2; i++) {
		tern_stack_config cfg = {
			.addr = i ? SERVER : CLIENT,
			.alloc = &p->alloc,
			.secret = {1, (uint64_t)i},
		};
		p->st[i] = tern_stack_new(&cfg);
		assert_non_null(p->st[i]);
		tern_sim_add_stack(p->sim, p->st[i], i ? b : a);
	}
	p->l = tern_tcp_listen(p->st[1], PORT, 4, NULL, 0, NULL);
	p->c = tern_tcp_connect(p->st[0], &to, NULL, 0, NULL);
	assert_non_null(p->c);
}

/* Frees it all; every byte must have gone back to the allocator. */
static void pair_down(pair *p)
{
	tern_stack_free(p->st[0]);
	tern_stack_free(p->st[1]);
	tern_sim_free(p->sim);
	assert_int_equal(p->cnt.live, 0);
	assert_int_equal(p->cnt.allocs, p->cnt.frees);
}

static void test_buffers_reused_round_after_round(void **state)
{
	static pair p;
	uint8_t buf[4096] = {0};
	tern_conn *srv = NULL;
	unsigned after_first = 0;

	(void)state;
	pair_up(&p, 5);
	/* 200 rounds: 4 KB written, carried, read; both buffers empty */
	for (int round = 0; round < 200; round++) {
		tern_time t = (tern_time)(round + 1) * 20 * TERN_MSEC;
		tern_sim_run(p.sim, t);
		if (!srv)
			srv = tern_tcp_accept(p.l, NULL);
		if (srv)
			while (tern_tcp_recv(srv, buf, sizeof(buf), t) > 0)
				;
		assert_int_equal(tern_tcp_send(p.c, buf, sizeof(buf), t),
				 (ptrdiff_t)sizeof(buf));
		if (round == 10)
			after_first = p.cnt.allocs;
	}
	print_message("%u allocations after round 10, %u by round 200\n",
		      after_first, p.cnt.allocs);
	assert_int_equal(p.cnt.allocs, after_first);
	pair_down(&p);
}

/* Buffers that grow with the connection (send: twice cwnd; receive: as
 * the application reads) move their data to a new buffer each time, so
 * they grow by doubling: a bulk transfer of 64 MB, whose cwnd grows a
 * segment an ACK through slow start, makes a few dozen allocations, not
 * one an ACK (there were thousands, and a quadratic copy). */
static void test_growing_buffers_double(void **state)
{
	static pair p;
	static uint8_t buf[65536];
	tern_conn *srv = NULL;
	uint64_t got = 0;
	tern_tcp_info i;

	(void)state;
	pair_up(&p, 6);
	unsigned base = p.cnt.allocs;
	for (tern_time t = 0; got < (64u << 20) && t < 60 * TERN_SEC;) {
		t += TERN_MSEC;
		tern_sim_run(p.sim, t);
		if (!srv)
			srv = tern_tcp_accept(p.l, NULL);
		while (tern_tcp_send(p.c, buf, sizeof(buf), t) > 0)
			;
		ptrdiff_t r;
		while (srv && (r = tern_tcp_recv(srv, buf, sizeof(buf), t)) > 0)
			got += (uint64_t)r;
	}
	assert_int_equal(tern_tcp_info_get(p.c, &i), 0);
	print_message("64 MB: %u allocations, send buffer %u\n",
		      p.cnt.allocs - base, i.snd_buf_size);
	assert_true(got >= (64u << 20));
	assert_true(i.snd_buf_size > 16384);
	assert_true(p.cnt.allocs - base < 64);
	pair_down(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffers_reused_round_after_round),
		cmocka_unit_test(test_growing_buffers_double),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
