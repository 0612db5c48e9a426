/* SipHash-2-4 against the reference test vectors (key 00..0f, message
 * 00..n-1), from the SipHash paper, appendix A, and vectors.h of the
 * reference implementation. */
#include <string.h>

#include "stack/siphash.h"
#include "testutil.h"

static const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

static void test_paper_vectors(void **state)
{
	uint8_t msg[64];
	(void)state;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
	assert_int_equal(siphash24(key, msg, 1), 0x74f839c593dc67fdull);
	assert_int_equal(siphash24(key, msg, 7), 0xab0200f58b01d137ull);
	assert_int_equal(siphash24(key, msg, 8), 0x93f5f5799a932462ull);
	assert_int_equal(siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
	assert_int_equal(siphash24(key, msg, 63), 0x958a324ceb064572ull);
}

static void test_tuple_matches_bytes(void **state)
{
	uint8_t b[12] = {0};
	(void)state;
	uint32_t la = 0x0a000001, ra = 0x0a000002;
	uint16_t lp = 40000, rp = 80;
	/* the tuple form hashes laddr, raddr, lport, rport little-endian */
	for (int i = 0; i < 4; i++) {
		b[i] = (uint8_t)(la >> (8 * i));
		b[4 + i] = (uint8_t)(ra >> (8 * i));
	}
	b[8] = (uint8_t)lp;
	b[9] = (uint8_t)(lp >> 8);
	b[10] = (uint8_t)rp;
	b[11] = (uint8_t)(rp >> 8);
	assert_int_equal(siphash24_tuple(key, la, lp, ra, rp),
			 siphash24(key, b, sizeof(b)));
	assert_int_not_equal(siphash24_tuple(key, la, lp, ra, rp),
			     siphash24_tuple(key, la, lp, ra, 81));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paper_vectors),
		cmocka_unit_test(test_tuple_matches_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
