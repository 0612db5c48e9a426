/* Window scaling through more than 4 GB: one connection carries 4.5 GiB,
 * so both sequence spaces' numbers wrap past 2^32, with a 1 MiB receive
 * buffer (a window that needs scaling), timestamps and SACK on, and 64
 * KB segments over offloading simulator ports, so that it takes seconds.
 * Every byte is checked against the sender's pattern. */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 5001
#define TOTAL (4608ull << 20) /* 4.5 GiB */
#define CHUNK 65536

/* The stream's byte at offset o is table[o % PERIOD]: a prime period,
 * so no segment or buffer boundary lines up with it. */
#define PERIOD 65521u
static uint8_t table[PERIOD + CHUNK];

static void make_table(void)
{
	for (uint32_t i = 0; i < sizeof(table); i++)
		table[i] = (uint8_t)((i % PERIOD) * 131u + (i % PERIOD) / 251u);
}

static const uint8_t *pattern_at(uint64_t off)
{
	return table + off % PERIOD;
}

typedef struct xfer {
	tern_conn *client, *listener, *server;
	uint64_t sent, got;
	uint32_t max_wnd;
	bool bad;
	uint8_t in[CHUNK];
} xfer;

static tern_stack *make_stack(tern_sim *sim, tern_link *port, uint32_t addr,
			      int i)
{
	tern_settings set;
	tern_settings_default(&set);
	set.tcp_rmem[1] = 1 << 20;
	set.tcp_wmem[1] = 1 << 20;
	tern_stack_config cfg = {
		.addr = addr,
		.settings = &set,
		.secret = {3, (uint64_t)i},
	};
	tern_stack *st = tern_stack_new(&cfg);
	assert_non_null(st);
	assert_int_equal(tern_sim_add_stack(sim, st, port), 0);
	return st;
}

static void send_more(xfer *x, tern_time now)
{
	while (x->sent < TOTAL) {
		size_t n = TOTAL - x->sent < CHUNK ? TOTAL - x->sent : CHUNK;
		ptrdiff_t r =
			tern_tcp_send(x->client, pattern_at(x->sent), n, now);
		if (r <= 0)
			return;
		x->sent += (uint64_t)r;
	}
}

static void recv_more(xfer *x, tern_time now)
{
	ptrdiff_t r;

	while ((r = tern_tcp_recv(x->server, x->in, CHUNK, now)) > 0) {
		if (memcmp(x->in, pattern_at(x->got), (size_t)r) != 0)
			x->bad = true;
		x->got += (uint64_t)r;
	}
}

static void test_window_scaling_past_4gb(void **state)
{
	static xfer x;
	tern_endpoint to = {SERVER, PORT};
	tern_tcp_info info;

	(void)state;
	make_table();
	tern_sim *sim = tern_sim_new(9);
	tern_link *a = tern_sim_port(sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(sim, SERVER, 1500);
	assert_int_equal(tern_sim_port_set_offload(a, true), 0);
	assert_int_equal(tern_sim_port_set_offload(b, true), 0);
	assert_true(tern_sim_join(sim, a, b, NULL, NULL) >= 0);
	tern_stack *c = make_stack(sim, a, CLIENT, 0);
	tern_stack *s = make_stack(sim, b, SERVER, 1);
	x.listener = tern_tcp_listen(s, PORT, 4, NULL, 0, NULL);
	x.client = tern_tcp_connect(c, &to, NULL, 0, NULL);
	assert_non_null(x.client);
	tern_time t = 0;
	while (x.got < TOTAL && t < 600 * TERN_SEC) {
		t += TERN_MSEC;
		tern_sim_run(sim, t);
		if (!x.server)
			x.server = tern_tcp_accept(x.listener, NULL);
		send_more(&x, t);
		if (x.server)
			recv_more(&x, t);
		assert_int_equal(tern_tcp_info_get(x.client, &info), 0);
		if (info.snd_wnd > x.max_wnd)
			x.max_wnd = info.snd_wnd;
	}
	assert_false(x.bad);
	assert_int_equal(x.got, TOTAL);
	assert_true(info.bytes_acked > (1ull << 32));
	assert_true(info.options & TERN_TCPI_OPT_WSCALE);
	assert_true(info.rcv_wscale > 0 && info.snd_wscale > 0);
	print_message("4.5 GiB in %.1f s of virtual time; the largest window "
		      "%u bytes, shift %u\n",
		      (double)t / TERN_SEC, x.max_wnd, info.snd_wscale);
	assert_true(x.max_wnd > 65535);
	tern_stack_free(c);
	tern_stack_free(s);
	tern_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_scaling_past_4gb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
