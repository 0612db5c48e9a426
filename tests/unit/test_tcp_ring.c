/* The byte ring behind the send and receive buffers (src/tcp/ring.h):
 * reads, writes and peeks across the wrap, out-of-order writes beyond
 * the data committed later, and the regression that emptying the ring
 * does not move its head (out-of-order data placed beyond len would
 * otherwise be lost). */
#include <string.h>

#include "tcp/ring.h"
#include "testutil.h"

static tcp_ring ring_of(uint8_t *mem, uint32_t cap)
{
	memset(mem, '.', cap);
	return (tcp_ring){.buf = mem, .cap = cap};
}

/* Reads n bytes and compares them with text. */
static void expect_read(tcp_ring *r, const char *text)
{
	char out[64] = {0};
	uint32_t n = (uint32_t)strlen(text);

	assert_int_equal(ring_read(r, out, sizeof(out)), n);
	assert_memory_equal(out, text, n);
}

static void expect_iov(const tern_iov *iov, const char *text)
{
	assert_int_equal(iov->len, strlen(text));
	assert_memory_equal(iov->base, text, iov->len);
}

static void test_ring_write_read_across_wrap(void **state)
{
	uint8_t mem[8];
	tcp_ring r = ring_of(mem, 8);
	char out[4];

	(void)state;
	assert_int_equal(ring_write(&r, "abcdef", 6), 6);
	assert_int_equal(ring_read(&r, out, 4), 4);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(ring_free(&r), 6);
	/* only what fits is taken */
	assert_int_equal(ring_write(&r, "ghijklmn", 8), 6);
	assert_int_equal(r.len, 8);
	assert_int_equal(ring_write(&r, "x", 1), 0);
	expect_read(&r, "efghijkl");
	assert_int_equal(ring_read(&r, out, 4), 0);
}

static void test_ring_peek_across_wrap(void **state)
{
	uint8_t mem[8];
	tcp_ring r = ring_of(mem, 8);
	tern_iov iov[2];

	(void)state;
	ring_write(&r, "abcdef", 6);
	ring_consume(&r, 4);
	ring_write(&r, "ghijkl", 6); /* "ef" "gh" at 4..7, "ijkl" at 0..3 */
	assert_int_equal(ring_peek(&r, 0, 8, iov), 2);
	expect_iov(&iov[0], "efgh");
	expect_iov(&iov[1], "ijkl");
	assert_int_equal(ring_peek(&r, 3, 3, iov), 2);
	expect_iov(&iov[0], "h");
	expect_iov(&iov[1], "ij");
	assert_int_equal(ring_peek(&r, 4, 2, iov), 1);
	expect_iov(&iov[0], "ij");
	assert_int_equal(ring_peek(&r, 1, 2, iov), 1);
	expect_iov(&iov[0], "fg");
	assert_int_equal(ring_peek(&r, 2, 0, iov), 0);
	assert_int_equal(r.len, 8); /* peeking consumes nothing */
}

/* Out-of-order data is written beyond len, then committed once the gap
 * before it is filled. */
static void test_ring_write_at_beyond_len_then_commit(void **state)
{
	uint8_t mem[8];
	tcp_ring r = ring_of(mem, 8);

	(void)state;
	ring_write(&r, "ab", 2);
	ring_write_at(&r, 4, "XYZ", 3);
	assert_int_equal(r.len, 2);
	ring_write_at(&r, 2, "cd", 2);
	ring_commit(&r, 5);
	expect_read(&r, "abcdXYZ");
}

/* ... also when it wraps around the end of the buffer. */
static void test_ring_write_at_wraps(void **state)
{
	uint8_t mem[8];
	tcp_ring r = ring_of(mem, 8);

	(void)state;
	ring_write(&r, "123456", 6);
	ring_consume(&r, 6); /* head at 6 */
	ring_write_at(&r, 1, "BCDE", 4);
	ring_write_at(&r, 0, "A", 1);
	ring_commit(&r, 5);
	expect_read(&r, "ABCDE");
}

/* Regression: reading the ring empty must not move its head back to 0,
 * or data already placed beyond len (relative to the head) would be read
 * from the wrong place. */
static void test_ring_consume_to_empty_keeps_ooo_data(void **state)
{
	uint8_t mem[8];
	tcp_ring r = ring_of(mem, 8);

	(void)state;
	ring_write(&r, "abc", 3);
	ring_write_at(&r, 5, "XY", 2); /* a hole of 2 at offsets 3 and 4 */
	expect_read(&r, "abc");
	assert_int_equal(r.len, 0);
	ring_write_at(&r, 0, "de", 2); /* the hole fills */
	ring_commit(&r, 4);
	expect_read(&r, "deXY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_write_read_across_wrap),
		cmocka_unit_test(test_ring_peek_across_wrap),
		cmocka_unit_test(test_ring_write_at_beyond_len_then_commit),
		cmocka_unit_test(test_ring_write_at_wraps),
		cmocka_unit_test(test_ring_consume_to_empty_keeps_ooo_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
