/* tern ss's filter expressions (tools/ss_filter.c), in ss(8)'s grammar:
 * each case parses a filter as the shell would pass it and checks which
 * of a few connections it selects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ss_filter.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

/* Ours 10.7.0.2:80 or :443; peers in 10.7.0.0/24 and 192.168.1.9. */
static const ss_ends conns[] = {
	{A(10, 7, 0, 2), A(10, 7, 0, 1), 80, 40000},
	{A(10, 7, 0, 2), A(10, 7, 0, 5), 80, 1022},
	{A(10, 7, 0, 2), A(192, 168, 1, 9), 443, 51000},
	{A(10, 7, 0, 2), A(10, 7, 0, 1), 443, 22},
};
#define NCONNS (sizeof(conns) / sizeof(conns[0]))

/* Which connections `filter` (one string, as from the shell) selects,
 * as a string of 0s and 1s. */
static const char *selects(const char *filter)
{
	static char out[NCONNS + 1];
	char *words[] = {(char *)filter};
	ss_expr e;

	assert_int_equal(ss_expr_parse(&e, words, 1), 0);
	for (size_t i = 0; i < NCONNS; i++)
		out[i] = ss_expr_match(&e, &conns[i]) ? '1' : '0';
	return out;
}

static void refused(const char *filter)
{
	char *words[] = {(char *)filter};
	ss_expr e;

	assert_int_equal(ss_expr_parse(&e, words, 1), 2);
}

static void test_conditions(void **state)
{
	(void)state;
	assert_string_equal(selects(""), "1111");
	assert_string_equal(selects("sport = :80"), "1100");
	assert_string_equal(selects("sport :443"), "0011");
	assert_string_equal(selects("dport != :22"), "1110");
	assert_string_equal(selects("dport < :1024"), "0101");
	assert_string_equal(selects("dport le :1022"), "0101");
	assert_string_equal(selects("dport gt :1022"), "1010");
	assert_string_equal(selects("dport >= :40000"), "1010");
	assert_string_equal(selects("dst 10.7.0.1"), "1001");
	assert_string_equal(selects("dst = 10.7.0.0/24"), "1101");
	assert_string_equal(selects("dst != 10.7.0.0/24"), "0010");
	assert_string_equal(selects("dst 10.7.0.1:22"), "0001");
	assert_string_equal(selects("src *:443"), "0011");
	assert_string_equal(selects("dst 0.0.0.0/0"), "1111");
	assert_string_equal(selects("dport = *"), "1111");
}

static void test_and_or_not(void **state)
{
	(void)state;
	assert_string_equal(selects("sport = :80 or sport = :443"), "1111");
	assert_string_equal(selects("sport = :80 dst 10.7.0.1"), "1000");
	assert_string_equal(selects("sport = :80 and dst 10.7.0.1"), "1000");
	assert_string_equal(selects("sport = :80 && dport < :2000"), "0100");
	assert_string_equal(selects("sport = :443 || dport = :1022"), "0111");
	assert_string_equal(selects("not dst 10.7.0.0/24"), "0010");
	assert_string_equal(selects("! sport = :80"), "0011");
	/* and binds tighter than or, as in ss */
	assert_string_equal(selects("sport = :443 or sport = :80 and "
				    "dport = :1022"),
			    "0111");
	assert_string_equal(selects("( sport = :443 or sport = :80 ) and "
				    "dport = :1022"),
			    "0100");
	/* parentheses and '!' glued to words */
	assert_string_equal(selects("(dport = :22 or sport = :80)"), "1101");
	assert_string_equal(selects("!(sport = :80)"), "0011");
	assert_string_equal(selects("not not sport = :80"), "1100");
}

/* Several words, as `tern ss sport = :80 or dport = :22` passes them. */
static void test_words(void **state)
{
	(void)state;
	char *words[] = {"sport", "=", ":80", "or", "dport", "=", ":22"};
	ss_expr e;

	assert_int_equal(ss_expr_parse(&e, words, 7), 0);
	assert_true(ss_expr_match(&e, &conns[0]));
	assert_false(ss_expr_match(&e, &conns[2]));
	assert_true(ss_expr_match(&e, &conns[3]));
}

static void test_refused(void **state)
{
	(void)state;
	refused("dport 80");
	refused("dport = 80");
	refused("dport = :65536");
	refused("src 300.1.1.1");
	refused("dst 10.0.0.0/33");
	refused("dst < 10.0.0.1");
	refused("bogus = :1");
	refused("sport = :80 and");
	refused("sport = :80 or");
	refused("( sport = :80");
	refused("sport = :80 )");
	refused("not");
	refused("()");
	refused("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!sport = :80");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_and_or_not),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
