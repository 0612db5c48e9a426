/* SCENARIOS.md 21 at scale: 100,000 spoofed SYNs in 10 s of virtual time
 * (random addresses and ports, never answered) flood a listener with
 * tcp_syncookies = 1 while 1,000 genuine clients connect among them. At
 * least 99 % of the genuine ones connect and get their byte through, and
 * the server's memory stops growing once cookies are in use: the SYN
 * queue (tcp_max_syn_backlog = 2048) is full after 0.2 s, and nothing is
 * kept per SYN after that. The million-SYN version is a bench program
 * (bench/tern_synflood.c). */
#include <stdio.h>

#include "synflood.h"
#include "testutil.h"

static void test_synflood_cookies_keep_genuine_clients(void **state)
{
	sf_config cfg = {
		.seed = 21,
		.spoofed = 100000,
		.genuine = 1000,
		.duration = 10 * TERN_SEC,
		.syncookies = 1,
	};
	sf_result res;
	(void)state;

	assert_int_equal(sf_flood(&cfg, &res), 0);
	print_message("genuine: %u of %u connected, %u delivered; server "
		      "memory %zu after 10 %%, %zu at the end, %zu at most\n",
		      res.connected, cfg.genuine, res.delivered, res.mem_10,
		      res.mem_end, res.mem_peak);
	assert_int_equal(res.injected, cfg.spoofed);
	assert_true(res.connected * 100 >= cfg.genuine * 99);
	assert_true(res.delivered * 100 >= cfg.genuine * 99);
	assert_true(res.mem_10 > 0);
	assert_int_equal(res.mem_end, res.mem_10);
	/* the SYN queue took the first 2048 SYNs; every later one had a
	 * cookie, the genuine clients' among them */
	const uint64_t *c = res.server.counters;
	assert_int_equal(c[TERN_CTR_SYNCOOKIES_SENT],
			 cfg.spoofed - 2048 + res.connected);
	assert_int_equal(c[TERN_CTR_SYNCOOKIES_RECV], res.connected);
	assert_int_equal(c[TERN_CTR_SYNCOOKIES_FAILED], 0);
	assert_int_equal(c[TERN_CTR_TCP_REQQ_FULL_DROP], 0);
}

/* Without cookies the same flood keeps the genuine clients out: the SYN
 * queue stays full of spoofed half-open connections for 63 s. */
static void test_synflood_without_cookies_shuts_clients_out(void **state)
{
	sf_config cfg = {
		.seed = 21,
		.spoofed = 40000, /* the queue is full after 5 % */
		.genuine = 100,
		.duration = 2 * TERN_SEC,
		.syncookies = 0,
	};
	sf_result res;
	(void)state;

	assert_int_equal(sf_flood(&cfg, &res), 0);
	assert_int_equal(res.connected, 0);
	assert_int_equal(res.mem_end, res.mem_10);
	assert_true(res.server.counters[TERN_CTR_TCP_REQQ_FULL_DROP] >=
		    cfg.spoofed - 2048);
	assert_int_equal(res.server.counters[TERN_CTR_SYNCOOKIES_SENT], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synflood_cookies_keep_genuine_clients),
		cmocka_unit_test(
			test_synflood_without_cookies_shuts_clients_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
