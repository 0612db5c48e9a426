/* IPv4 header parsing and emitting (RFC 791 3.1): every field, one test
 * per drop reason, options, link padding, round trips. */
#include <string.h>

#include "testutil.h"
#include <tern/wire.h>

/* 192.168.1.10 -> 93.184.216.34, id 0x1c46, DF, TTL 64, TCP, carrying a
 * 40-byte SYN; header checksum 0x26e9 computed with Python at dev time. */
static const uint8_t ip_hdr[20] = {
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
	0x26, 0xe9, 0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22,
};

/* The same with IHL 6 (a 4-byte router alert option, RFC 2113) and total
 * length 64; checksum 0x91e0. */
static const uint8_t ip_hdr_opts[24] = {
	0x46, 0x00, 0x00, 0x40, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x91, 0xe0,
	0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22, 0x94, 0x04, 0x00, 0x00,
};

/* A header plus 40 payload bytes. */
static size_t make_packet(uint8_t *buf, const uint8_t *hdr, size_t hdr_len)
{
	memcpy(buf, hdr, hdr_len);
	for (size_t i = 0; i < 40; i++)
		buf[hdr_len + i] = (uint8_t)(i + 1);
	return hdr_len + 40;
}

/* Rewrites the header checksum after a test changed a field, so that the
 * test reaches the check it is about. */
static void fix_checksum(uint8_t *buf, size_t hdr_len)
{
	tern_store16(buf + 10, 0);
	tern_store16(buf + 10, tern_inet_checksum(buf, hdr_len));
}

static int parse(const uint8_t *buf, size_t len)
{
	tern_ipv4_hdr h;

	return tern_ipv4_parse(buf, len, &h);
}

static void test_valid_packet_every_field(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));
	tern_ipv4_hdr h;

	assert_int_equal(tern_ipv4_parse(buf, len, &h), 0);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.tos, 0);
	assert_int_equal(h.total_len, 60);
	assert_int_equal(h.id, 0x1c46);
	assert_true(h.df);
	assert_false(h.mf);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, TERN_IPPROTO_TCP);
	assert_int_equal(h.src, 0xc0a8010a);
	assert_int_equal(h.dst, 0x5db8d822);
	assert_ptr_equal(h.payload, buf + 20);
	assert_int_equal(h.payload_len, 40);
}

/* MF and the offset (in 8-octet units on the wire, bytes in the view) are
 * reported, not judged. */
static void test_fragment_fields(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));
	tern_ipv4_hdr h;

	buf[1] = 0xb8; /* tos: EF */
	tern_store16(buf + 6, 0x2000 | 185);
	fix_checksum(buf, 20);
	assert_int_equal(tern_ipv4_parse(buf, len, &h), 0);
	assert_int_equal(h.tos, 0xb8);
	assert_false(h.df);
	assert_true(h.mf);
	assert_int_equal(h.frag_off, 185 * 8);

	tern_store16(buf + 6, 0x1fff);
	fix_checksum(buf, 20);
	assert_int_equal(tern_ipv4_parse(buf, len, &h), 0);
	assert_false(h.mf);
	assert_int_equal(h.frag_off, 0x1fff * 8);
}

static void test_drop_truncated(void **state)
{
	(void)state;
	uint8_t buf[64];
	make_packet(buf, ip_hdr, sizeof(ip_hdr));

	assert_int_equal(parse(buf, 0), TERN_DROP_IP_TRUNCATED);
	assert_int_equal(parse(buf, 19), TERN_DROP_IP_TRUNCATED);
}

static void test_drop_version(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	buf[0] = 0x65;
	fix_checksum(buf, 20);
	assert_int_equal(parse(buf, len), TERN_DROP_IP_VERSION);
	buf[0] = 0x05;
	assert_int_equal(parse(buf, len), TERN_DROP_IP_VERSION);
}

static void test_drop_ihl_short(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	buf[0] = 0x44;
	assert_int_equal(parse(buf, len), TERN_DROP_IP_IHL);
	buf[0] = 0x40;
	assert_int_equal(parse(buf, len), TERN_DROP_IP_IHL);
}

static void test_drop_header_truncated(void **state)
{
	(void)state;
	uint8_t buf[64];
	make_packet(buf, ip_hdr_opts, sizeof(ip_hdr_opts));

	assert_int_equal(parse(buf, 23), TERN_DROP_IP_HDR_TRUNCATED);
	buf[0] = 0x4f; /* 60-byte header in 59 bytes */
	assert_int_equal(parse(buf, 59), TERN_DROP_IP_HDR_TRUNCATED);
}

static void test_drop_total_len_past_buffer(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	assert_int_equal(parse(buf, len - 1), TERN_DROP_IP_TOTAL_LEN);
	tern_store16(buf + 2, 0xffff);
	fix_checksum(buf, 20);
	assert_int_equal(parse(buf, len), TERN_DROP_IP_TOTAL_LEN);
}

static void test_drop_total_len_below_header(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	tern_store16(buf + 2, 19);
	fix_checksum(buf, 20);
	assert_int_equal(parse(buf, len), TERN_DROP_IP_TOTAL_LEN);

	len = make_packet(buf, ip_hdr_opts, sizeof(ip_hdr_opts));
	tern_store16(buf + 2, 20); /* covers IHL 5, not IHL 6 */
	fix_checksum(buf, 24);
	assert_int_equal(parse(buf, len), TERN_DROP_IP_TOTAL_LEN);
}

static void test_drop_bad_checksum(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	buf[8] = 63; /* TTL changed, checksum not updated */
	assert_int_equal(parse(buf, len), TERN_DROP_IP_CHECKSUM);
	buf[8] = 64;
	buf[11] ^= 1;
	assert_int_equal(parse(buf, len), TERN_DROP_IP_CHECKSUM);
	/* The checksum covers the options too. */
	len = make_packet(buf, ip_hdr_opts, sizeof(ip_hdr_opts));
	buf[23] = 1;
	assert_int_equal(parse(buf, len), TERN_DROP_IP_CHECKSUM);
}

/* The payload is not covered by the header checksum (RFC 791 3.1). */
static void test_payload_not_checksummed(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr, sizeof(ip_hdr));

	buf[30] ^= 0xff;
	assert_int_equal(parse(buf, len), 0);
}

static void test_options_skipped_by_ihl(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = make_packet(buf, ip_hdr_opts, sizeof(ip_hdr_opts));
	tern_ipv4_hdr h;

	assert_int_equal(tern_ipv4_parse(buf, len, &h), 0);
	assert_int_equal(h.hdr_len, 24);
	assert_int_equal(h.total_len, 64);
	assert_int_equal(h.src, 0xc0a8010a);
	assert_ptr_equal(h.payload, buf + 24);
	assert_int_equal(h.payload_len, 40);
	assert_int_equal(h.payload[0], 1);
}

/* A 40-byte datagram in a minimum Ethernet payload of 46 bytes. */
static void test_link_padding_trimmed(void **state)
{
	(void)state;
	uint8_t buf[46];
	tern_ipv4_hdr h;

	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, ip_hdr, sizeof(ip_hdr));
	tern_store16(buf + 2, 40);
	fix_checksum(buf, 20);
	assert_int_equal(tern_ipv4_parse(buf, sizeof(buf), &h), 0);
	assert_int_equal(h.total_len, 40);
	assert_int_equal(h.payload_len, 20);
	assert_ptr_equal(h.payload, buf + 20);
}

/* A bare header with no payload, and a maximal 60-byte header. */
static void test_header_only_and_max_header(void **state)
{
	(void)state;
	uint8_t buf[60] = {0};
	tern_ipv4_hdr h;

	memcpy(buf, ip_hdr, sizeof(ip_hdr));
	tern_store16(buf + 2, 20);
	fix_checksum(buf, 20);
	assert_int_equal(tern_ipv4_parse(buf, 20, &h), 0);
	assert_int_equal(h.payload_len, 0);

	buf[0] = 0x4f;
	tern_store16(buf + 2, 60);
	fix_checksum(buf, 60);
	assert_int_equal(tern_ipv4_parse(buf, 60, &h), 0);
	assert_int_equal(h.hdr_len, 60);
	assert_int_equal(h.payload_len, 0);
}

static void test_emit_matches_known_header(void **state)
{
	(void)state;
	uint8_t buf[20];
	tern_ipv4_hdr h = {
		.tos = 0,
		.id = 0x1c46,
		.df = true,
		.ttl = 64,
		.proto = TERN_IPPROTO_TCP,
		.src = 0xc0a8010a,
		.dst = 0x5db8d822,
		.mf = true,	/* ignored: emit never fragments */
		.frag_off = 80, /* ignored */
	};

	assert_int_equal(tern_ipv4_emit(buf, sizeof(buf), &h, 40), 20);
	assert_memory_equal(buf, ip_hdr, sizeof(ip_hdr));
}

static void test_emit_parse_round_trip(void **state)
{
	(void)state;
	uint8_t buf[20 + 100];
	tern_ipv4_hdr in = {
		.tos = 0x10,
		.id = 0xbeef,
		.df = false,
		.ttl = 1,
		.proto = TERN_IPPROTO_ICMP,
		.src = 0x0a000001,
		.dst = 0xffffffff,
	};
	tern_ipv4_hdr out;

	assert_int_equal(tern_ipv4_emit(buf, sizeof(buf), &in, 100), 20);
	memset(buf + 20, 0x5a, 100);
	assert_int_equal(tern_ipv4_parse(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.hdr_len, 20);
	assert_int_equal(out.tos, in.tos);
	assert_int_equal(out.total_len, 120);
	assert_int_equal(out.id, in.id);
	assert_false(out.df);
	assert_false(out.mf);
	assert_int_equal(out.frag_off, 0);
	assert_int_equal(out.ttl, in.ttl);
	assert_int_equal(out.proto, in.proto);
	assert_int_equal(out.src, in.src);
	assert_int_equal(out.dst, in.dst);
	assert_ptr_equal(out.payload, buf + 20);
	assert_int_equal(out.payload_len, 100);
}

static void test_emit_too_small(void **state)
{
	(void)state;
	uint8_t buf[20];
	tern_ipv4_hdr h = {.ttl = 64, .proto = TERN_IPPROTO_TCP};

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(tern_ipv4_emit(buf, 19, &h, 0), 0);
	assert_int_equal(tern_ipv4_emit(buf, 0, &h, 0), 0);
	assert_int_equal(buf[0], 0xaa); /* nothing written */
	assert_int_equal(tern_ipv4_emit(buf, 20, &h, 0), 20);
}

/* The total length field is 16 bits: 65535 is the largest datagram. */
static void test_emit_payload_too_long(void **state)
{
	(void)state;
	uint8_t buf[20];
	tern_ipv4_hdr h = {.ttl = 64, .proto = TERN_IPPROTO_TCP};

	assert_int_equal(tern_ipv4_emit(buf, 20, &h, 65515), 20);
	assert_int_equal(tern_load16(buf + 2), 65535);
	assert_int_equal(tern_ipv4_emit(buf, 20, &h, 65516), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_packet_every_field),
		cmocka_unit_test(test_fragment_fields),
		cmocka_unit_test(test_drop_truncated),
		cmocka_unit_test(test_drop_version),
		cmocka_unit_test(test_drop_ihl_short),
		cmocka_unit_test(test_drop_header_truncated),
		cmocka_unit_test(test_drop_total_len_past_buffer),
		cmocka_unit_test(test_drop_total_len_below_header),
		cmocka_unit_test(test_drop_bad_checksum),
		cmocka_unit_test(test_payload_not_checksummed),
		cmocka_unit_test(test_options_skipped_by_ihl),
		cmocka_unit_test(test_link_padding_trimmed),
		cmocka_unit_test(test_header_only_and_max_header),
		cmocka_unit_test(test_emit_matches_known_header),
		cmocka_unit_test(test_emit_parse_round_trip),
		cmocka_unit_test(test_emit_too_small),
		cmocka_unit_test(test_emit_payload_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
