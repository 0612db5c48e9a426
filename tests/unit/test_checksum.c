/* The Internet checksum (RFC 1071): known vectors, piecewise sums split at
 * every offset, the fast path against a byte-at-a-time reference, and the
 * TCP pseudo-header. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <tern/wire.h>

/* A real SYN (192.168.1.10:51234 -> 93.184.216.34:80, MSS 1460, SACK-
 * permitted, TS 0x000a4b1c/0, WS 7) in Linux's option layout; its
 * checksum 0x83e7 was computed independently with Python at dev time. */
static const uint32_t syn_src = 0xc0a8010a, syn_dst = 0x5db8d822;
static const uint8_t syn_segment[40] = {
	0xc8, 0x22, 0x00, 0x50, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x83, 0xe7, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x0a,
	0x4b, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* Straight from the definition: big-endian 16-bit words, an odd last byte
 * padded with zero, end-around carry, complement. */
static uint16_t reference_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8;
		if (i + 1 < len)
			sum += p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static uint32_t xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)xorshift32(&seed);
}

/* RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
static void test_rfc1071_example(void **state)
{
	(void)state;
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03,
				       0xf4, 0xf5, 0xf6, 0xf7};
	tern_csum c;

	assert_int_equal(tern_inet_checksum(data, sizeof(data)), 0x220d);
	tern_csum_init(&c);
	tern_csum_add(&c, data, sizeof(data));
	assert_int_equal(tern_csum_final(&c), (uint16_t)~0xddf2);
}

static void test_empty_and_zero_data(void **state)
{
	(void)state;
	static const uint8_t zeros[64];

	assert_int_equal(tern_inet_checksum(zeros, 0), 0xffff);
	assert_int_equal(tern_inet_checksum(zeros, sizeof(zeros)), 0xffff);
}

/* A real IPv4 header (192.168.0.1 -> 192.168.0.199, UDP), whose checksum
 * field reads b861 on the wire. */
static void test_known_ipv4_header(void **state)
{
	(void)state;
	uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			   0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
			   0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	assert_int_equal(tern_inet_checksum(hdr, sizeof(hdr)), 0xb861);
	tern_store16(hdr + 10, 0xb861);
	assert_int_equal(tern_inet_checksum(hdr, sizeof(hdr)), 0);
}

/* Storing the checksum into its field makes the whole sum verify. */
static void test_correct_checksum_sums_to_zero(void **state)
{
	(void)state;
	uint8_t buf[101];

	for (size_t len = 2; len <= sizeof(buf); len++) {
		fill_random(buf, len, (uint32_t)len * 7919u);
		buf[0] = buf[1] = 0;
		tern_store16(buf, tern_inet_checksum(buf, len));
		assert_int_equal(tern_inet_checksum(buf, len), 0);
	}
}

/* The word loads must agree with the definition at every length and
 * every alignment of the start. */
static void test_matches_reference_all_lengths_alignments(void **state)
{
	(void)state;
	uint8_t buf[300];

	fill_random(buf, sizeof(buf), 12345);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			assert_int_equal(tern_inet_checksum(buf + off, len),
					 reference_checksum(buf + off, len));
}

static void test_large_buffer(void **state)
{
	(void)state;
	size_t len = 200001;
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, 0xff, len);
	assert_int_equal(tern_inet_checksum(buf, len),
			 reference_checksum(buf, len));
	fill_random(buf, len, 99);
	assert_int_equal(tern_inet_checksum(buf, len),
			 reference_checksum(buf, len));
	free(buf);
}

/* Two pieces split at every position (odd and even) give the one-piece
 * sum, for an even and an odd total length. */
static void test_two_pieces_every_split(void **state)
{
	(void)state;
	uint8_t buf[131];

	fill_random(buf, sizeof(buf), 777);
	for (size_t len = sizeof(buf) - 1; len <= sizeof(buf); len++) {
		uint16_t whole = tern_inet_checksum(buf, len);
		for (size_t i = 0; i <= len; i++) {
			tern_csum c;
			tern_csum_init(&c);
			tern_csum_add(&c, buf, i);
			tern_csum_add(&c, buf + i, len - i);
			assert_int_equal(tern_csum_final(&c), whole);
		}
	}
}

static void test_three_pieces_every_split(void **state)
{
	(void)state;
	uint8_t buf[67];

	fill_random(buf, sizeof(buf), 4242);
	uint16_t whole = tern_inet_checksum(buf, sizeof(buf));
	for (size_t i = 0; i <= sizeof(buf); i++) {
		for (size_t j = i; j <= sizeof(buf); j++) {
			tern_csum c;
			tern_csum_init(&c);
			tern_csum_add(&c, buf, i);
			tern_csum_add(&c, buf + i, j - i);
			tern_csum_add(&c, buf + j, sizeof(buf) - j);
			assert_int_equal(tern_csum_final(&c), whole);
		}
	}
}

static void test_one_byte_pieces(void **state)
{
	(void)state;
	uint8_t buf[77];
	tern_csum c;

	fill_random(buf, sizeof(buf), 31337);
	tern_csum_init(&c);
	for (size_t i = 0; i < sizeof(buf); i++)
		tern_csum_add(&c, buf + i, 1);
	assert_int_equal(tern_csum_final(&c),
			 tern_inet_checksum(buf, sizeof(buf)));
}

/* The pseudo-header plus the real SYN verifies; with the checksum field
 * zeroed it computes the value on the wire. */
static void test_pseudo_header_real_syn(void **state)
{
	(void)state;
	uint8_t seg[sizeof(syn_segment)];
	tern_csum c;

	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, syn_src, syn_dst, TERN_IPPROTO_TCP,
			     sizeof(syn_segment));
	tern_csum_add(&c, syn_segment, sizeof(syn_segment));
	assert_int_equal(tern_csum_final(&c), 0);

	memcpy(seg, syn_segment, sizeof(seg));
	tern_store16(seg + 16, 0);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, syn_src, syn_dst, TERN_IPPROTO_TCP,
			     sizeof(seg));
	tern_csum_add(&c, seg, 20);
	tern_csum_add(&c, seg + 20, sizeof(seg) - 20);
	assert_int_equal(tern_csum_final(&c), 0x83e7);
}

/* The pseudo-header sums like its 12 bytes would, before and after an odd
 * piece. */
static void test_pseudo_header_equals_its_bytes(void **state)
{
	(void)state;
	uint8_t bytes[13] = {0xab};
	tern_csum a, b;

	tern_store32(bytes + 1, syn_src);
	tern_store32(bytes + 5, syn_dst);
	bytes[9] = 0;
	bytes[10] = TERN_IPPROTO_TCP;
	tern_store16(bytes + 11, 1234);

	tern_csum_init(&a);
	tern_csum_add_pseudo(&a, syn_src, syn_dst, TERN_IPPROTO_TCP, 1234);
	assert_int_equal(tern_csum_final(&a),
			 tern_inet_checksum(bytes + 1, 12));

	tern_csum_init(&a);
	tern_csum_add(&a, bytes, 1);
	tern_csum_add_pseudo(&a, syn_src, syn_dst, TERN_IPPROTO_TCP, 1234);
	tern_csum_init(&b);
	tern_csum_add(&b, bytes, sizeof(bytes));
	assert_int_equal(tern_csum_final(&a), tern_csum_final(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_empty_and_zero_data),
		cmocka_unit_test(test_known_ipv4_header),
		cmocka_unit_test(test_correct_checksum_sums_to_zero),
		cmocka_unit_test(test_matches_reference_all_lengths_alignments),
		cmocka_unit_test(test_large_buffer),
		cmocka_unit_test(test_two_pieces_every_split),
		cmocka_unit_test(test_three_pieces_every_split),
		cmocka_unit_test(test_one_byte_pieces),
		cmocka_unit_test(test_pseudo_header_real_syn),
		cmocka_unit_test(test_pseudo_header_equals_its_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
