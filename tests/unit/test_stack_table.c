/* The connection table's hash (src/stack/table.c) is keyed by the stack's
 * secret: 4-tuples crafted to collide under any fixed function spread
 * over the buckets like any others, and the same tuples land elsewhere
 * under another secret, so an attacker cannot aim at one chain. The
 * TIME_WAIT records use the same hash. */
#include <string.h>

#include "stack/stack.h"
#include "testutil.h"

#define N 65536
#define BUCKETS 65536

static uint16_t load[BUCKETS];

static tern_stack *stack_with(uint64_t k0, uint64_t k1)
{
	tern_stack_config cfg = {.addr = 0x0a000001u, .secret = {k0, k1}};
	tern_stack *s = tern_stack_new(&cfg);
	assert_non_null(s);
	return s;
}

/* Tuples that all collide under a plain XOR of the fields (addr ^ port
 * is the same for every one): the worst chain stays short. */
static int worst_chain(const tern_stack *s)
{
	tern_endpoint local = {0x0a000001u, 80};
	int worst = 0;

	memset(load, 0, sizeof(load));
	for (uint32_t i = 0; i < N; i++) {
		tern_endpoint remote = {0xc0a80000u ^ i, (uint16_t)(1024 ^ i)};
		uint32_t b = table_hash(s, &local, &remote) & (BUCKETS - 1);
		if (++load[b] > worst)
			worst = load[b];
	}
	return worst;
}

static void test_crafted_tuples_spread(void **state)
{
	(void)state;
	tern_stack *s = stack_with(1, 2);

	/* 65,536 keys in as many buckets: a fair hash's longest chain is
	 * about 8 (ln n / ln ln n); a broken one would be 65,536 */
	int worst = worst_chain(s);
	print_message("longest chain: %d\n", worst);
	assert_true(worst <= 12);
	tern_stack_free(s);
}

static void test_secret_moves_tuples(void **state)
{
	(void)state;
	tern_stack *a = stack_with(1, 2), *b = stack_with(3, 4);
	tern_endpoint local = {0x0a000001u, 80};
	int same = 0;

	for (uint32_t i = 0; i < 1000; i++) {
		tern_endpoint remote = {0xc0a80001u, (uint16_t)(1024 + i)};
		if ((table_hash(a, &local, &remote) & 0xffff) ==
		    (table_hash(b, &local, &remote) & 0xffff))
			same++;
	}
	assert_true(same <= 2); /* chance: 1000 / 65536 */
	tern_stack_free(a);
	tern_stack_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crafted_tuples_spread),
		cmocka_unit_test(test_secret_moves_tuples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
