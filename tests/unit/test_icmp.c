/* ICMP (src/ip/icmp.h, RFC 792, RFC 1122 3.2.2): echo decode and the
 * exact reply, checksums, truncation, every error type quoting a TCP
 * header, short and malformed quotes, the RFC 1191 next-hop MTU, what may
 * be answered, and random buffers. */
#include <string.h>

#include "ip/icmp.h"
#include "testutil.h"

/* Echo request, id 0x1234, seq 7, 40 data bytes 0x10..0x37; checksum
 * 0x26f2 computed with Python at dev time. */
static const uint8_t echo_req_hdr[8] = {0x08, 0x00, 0x26, 0xf2,
					0x12, 0x34, 0x00, 0x07};
/* Its reply: type 0, checksum 0x2ef2 (Python at dev time). */
static const uint8_t echo_rep_hdr[8] = {0x00, 0x00, 0x2e, 0xf2,
					0x12, 0x34, 0x00, 0x07};

#define US 0x0a000001u	 /* 10.0.0.1 */
#define THEM 0x5db8d822u /* 93.184.216.34 */

static size_t echo_request(uint8_t *buf)
{
	memcpy(buf, echo_req_hdr, 8);
	for (int i = 0; i < 40; i++)
		buf[8 + i] = (uint8_t)(0x10 + i);
	return 48;
}

static void set_checksum(uint8_t *msg, size_t len)
{
	tern_store16(msg + 2, 0);
	tern_store16(msg + 2, tern_inet_checksum(msg, len));
}

/* An error message of type/code quoting our TCP segment 10.0.0.1:40000 ->
 * 93.184.216.34:443, seq 0xdeadbeef, with `quoted` bytes of TCP header.
 * The quoted IP header's total length says 1500 and its checksum is
 * wrong: neither matters in a quote. Returns the message length. */
static size_t error_msg(uint8_t *buf, uint8_t type, uint8_t code, size_t quoted)
{
	static const uint8_t tcp[20] = {0x9c, 0x40, 0x01, 0xbb, 0xde,
					0xad, 0xbe, 0xef, 0,	0,
					0,    1,    0x50, 0x18};
	uint8_t *q = buf + 8;

	memset(buf, 0, 8 + 20 + sizeof(tcp));
	buf[0] = type;
	buf[1] = code;
	q[0] = 0x45;
	tern_store16(q + 2, 1500);
	tern_store16(q + 4, 0x5151);
	tern_store16(q + 6, 0x4000); /* DF */
	q[8] = 64;
	q[9] = TERN_IPPROTO_TCP;
	tern_store16(q + 10, 0xbad0);
	tern_store32(q + 12, US);
	tern_store32(q + 16, THEM);
	memcpy(q + 20, tcp, quoted);
	size_t len = 8 + 20 + quoted;
	set_checksum(buf, len);
	return len;
}

static void test_echo_request_decode_and_reply(void **state)
{
	uint8_t req[64], rep[64];
	size_t len = echo_request(req);
	ip_icmp m;

	(void)state;
	assert_int_equal(ip_icmp_parse(req, len, &m), 0);
	assert_int_equal(m.type, IP_ICMP_ECHO);
	assert_int_equal(m.code, 0);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.seq, 7);
	assert_false(m.is_error);
	assert_ptr_equal(m.body, req + 8);
	assert_int_equal(m.body_len, 40);
	assert_int_equal(m.mtu, 0);

	assert_int_equal(ip_icmp_echo_reply(rep, sizeof(rep), &m), 48);
	assert_memory_equal(rep, echo_rep_hdr, 8);
	assert_memory_equal(rep + 8, req + 8, 40);
	assert_int_equal(tern_inet_checksum(rep, 48), 0);
	/* and it decodes as the reply */
	assert_int_equal(ip_icmp_parse(rep, 48, &m), 0);
	assert_int_equal(m.type, IP_ICMP_ECHO_REPLY);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.seq, 7);
}

/* The reply may be written over the request it answers. */
static void test_echo_reply_in_place(void **state)
{
	uint8_t buf[64];
	size_t len = echo_request(buf);
	ip_icmp m;

	(void)state;
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(buf, sizeof(buf), &m), 48);
	assert_memory_equal(buf, echo_rep_hdr, 8);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf[8 + i], 0x10 + i);
}

static void test_echo_reply_refusals(void **state)
{
	uint8_t req[64], rep[64];
	size_t len = echo_request(req);
	ip_icmp m;

	(void)state;
	assert_int_equal(ip_icmp_parse(req, len, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(rep, 47, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(rep, 7, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(rep, 0, &m), 0);
	/* an echo with no data */
	assert_int_equal(ip_icmp_parse(req, 8, &m), TERN_DROP_ICMP_CHECKSUM);
	set_checksum(req, 8);
	assert_int_equal(ip_icmp_parse(req, 8, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(rep, 8, &m), 8);
	assert_int_equal(tern_inet_checksum(rep, 8), 0);
	/* only an echo request gets an echo reply */
	len = echo_request(req);
	req[0] = IP_ICMP_ECHO_REPLY;
	set_checksum(req, len);
	assert_int_equal(ip_icmp_parse(req, len, &m), 0);
	assert_int_equal(ip_icmp_echo_reply(rep, sizeof(rep), &m), 0);
}

/* RFC 792: the checksum covers the whole message, odd lengths padded. */
static void test_checksum(void **state)
{
	uint8_t buf[64];
	size_t len = echo_request(buf);
	ip_icmp m;

	(void)state;
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		assert_int_equal(ip_icmp_parse(buf, len, &m),
				 TERN_DROP_ICMP_CHECKSUM);
		buf[i] ^= 0x01;
	}
	/* a byte more or less changes the sum */
	assert_int_equal(ip_icmp_parse(buf, len - 1, &m),
			 TERN_DROP_ICMP_CHECKSUM);
	set_checksum(buf, 47);
	assert_int_equal(ip_icmp_parse(buf, 47, &m), 0);
	assert_int_equal(m.body_len, 39);
	/* errors are checked too */
	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_PORT_UNREACH, 8);
	buf[30] ^= 0x80;
	assert_int_equal(ip_icmp_parse(buf, len, &m), TERN_DROP_ICMP_CHECKSUM);
}

static void test_truncated(void **state)
{
	uint8_t buf[64];
	ip_icmp m;

	(void)state;
	echo_request(buf);
	for (size_t len = 0; len < 8; len++)
		assert_int_equal(ip_icmp_parse(buf, len, &m),
				 TERN_DROP_ICMP_TRUNCATED);
	assert_int_equal(ip_icmp_parse(NULL, 0, &m), TERN_DROP_ICMP_TRUNCATED);
}

/* Every error type quoting a TCP header: the quote is decoded, with ports
 * and sequence number, whatever its checksum and total length say. */
static void test_errors_quote_tcp(void **state)
{
	static const uint8_t types[][2] = {
		{IP_ICMP_DEST_UNREACH, IP_ICMP_NET_UNREACH},
		{IP_ICMP_DEST_UNREACH, IP_ICMP_HOST_UNREACH},
		{IP_ICMP_DEST_UNREACH, IP_ICMP_PROTO_UNREACH},
		{IP_ICMP_DEST_UNREACH, IP_ICMP_PORT_UNREACH},
		{IP_ICMP_DEST_UNREACH, IP_ICMP_ADMIN_PROHIBITED},
		{IP_ICMP_SOURCE_QUENCH, 0},
		{IP_ICMP_REDIRECT, 1},
		{IP_ICMP_TIME_EXCEEDED, 0},
		{IP_ICMP_TIME_EXCEEDED, 1},
		{IP_ICMP_PARAM_PROBLEM, 0},
	};
	uint8_t buf[64];
	ip_icmp m;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		for (size_t quoted = 8; quoted <= 20; quoted += 12) {
			size_t len = error_msg(buf, types[i][0], types[i][1],
					       quoted);
			assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
			assert_int_equal(m.type, types[i][0]);
			assert_int_equal(m.code, types[i][1]);
			assert_true(m.is_error);
			assert_int_equal(m.inner.hdr_len, 20);
			assert_int_equal(m.inner.total_len, 1500);
			assert_int_equal(m.inner.id, 0x5151);
			assert_true(m.inner.df);
			assert_int_equal(m.inner.proto, TERN_IPPROTO_TCP);
			assert_int_equal(m.inner.src, US);
			assert_int_equal(m.inner.dst, THEM);
			assert_ptr_equal(m.inner.payload, buf + 28);
			assert_int_equal(m.inner.payload_len, quoted);
			assert_true(m.inner_has_ports);
			assert_true(m.inner_has_seq);
			assert_int_equal(m.inner_sport, 40000);
			assert_int_equal(m.inner_dport, 443);
			assert_int_equal(m.inner_seq, 0xdeadbeef);
			assert_int_equal(m.mtu, 0);
			assert_false(ip_icmp_may_answer(&m, US));
		}
	}
}

/* A quoted header with options: the transport header follows them. */
static void test_quote_with_options(void **state)
{
	uint8_t buf[64];
	ip_icmp m;

	(void)state;
	error_msg(buf, IP_ICMP_TIME_EXCEEDED, 0, 8);
	memmove(buf + 32, buf + 28, 8);
	memcpy(buf + 28, "\x94\x04\x00\x00", 4);
	buf[8] = 0x46;
	set_checksum(buf, 40);
	assert_int_equal(ip_icmp_parse(buf, 40, &m), 0);
	assert_int_equal(m.inner.hdr_len, 24);
	assert_int_equal(m.inner_sport, 40000);
	assert_int_equal(m.inner_seq, 0xdeadbeef);
}

/* RFC 1122 3.2.2: the header and at least 8 data octets, or the error is
 * unusable (Linux drops it too). */
static void test_quote_malformed(void **state)
{
	uint8_t buf[64];
	ip_icmp m;

	(void)state;
	for (size_t quoted = 0; quoted < 8; quoted++) {
		size_t len = error_msg(buf, IP_ICMP_DEST_UNREACH, 1, quoted);
		assert_int_equal(ip_icmp_parse(buf, len, &m),
				 TERN_DROP_ICMP_TRUNCATED);
	}
	/* less than a header */
	for (size_t len = 8; len < 28; len++) {
		error_msg(buf, IP_ICMP_DEST_UNREACH, 1, 8);
		set_checksum(buf, len);
		assert_int_equal(ip_icmp_parse(buf, len, &m),
				 TERN_DROP_ICMP_TRUNCATED);
	}
	/* version 6, IHL 4, IHL past the message */
	static const uint8_t first[] = {0x65, 0x44, 0x4f, 0x47};
	for (size_t i = 0; i < sizeof(first); i++) {
		size_t len = error_msg(buf, IP_ICMP_DEST_UNREACH, 1, 8);
		buf[8] = first[i];
		set_checksum(buf, len);
		assert_int_equal(ip_icmp_parse(buf, len, &m),
				 TERN_DROP_ICMP_TRUNCATED);
	}
}

/* Ports come only from a quote of the first fragment, of TCP or UDP;
 * UDP has no sequence number. */
static void test_quote_ports_when_known(void **state)
{
	uint8_t buf[64];
	ip_icmp m;
	size_t len;

	(void)state;
	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_PORT_UNREACH, 8);
	buf[8 + 9] = 17; /* UDP */
	set_checksum(buf, len);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_true(m.inner_has_ports);
	assert_false(m.inner_has_seq);
	assert_int_equal(m.inner_sport, 40000);
	assert_int_equal(m.inner_dport, 443);

	buf[8 + 9] = TERN_IPPROTO_ICMP;
	set_checksum(buf, len);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_false(m.inner_has_ports);
	assert_false(m.inner_has_seq);

	len = error_msg(buf, IP_ICMP_TIME_EXCEEDED, 1, 8);
	tern_store16(buf + 8 + 6, 0x2000 | 185); /* MF, offset 1480 */
	set_checksum(buf, len);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_true(m.inner.mf);
	assert_int_equal(m.inner.frag_off, 1480);
	assert_false(m.inner_has_ports);
	assert_false(m.inner_has_seq);
}

/* RFC 1191 4: type 3 code 4 carries the next-hop MTU, or 0 from a router
 * that predates it; other codes carry none. */
static void test_frag_needed_mtu(void **state)
{
	uint8_t buf[64];
	ip_icmp m;
	size_t len;

	(void)state;
	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_FRAG_NEEDED, 8);
	tern_store16(buf + 6, 1400);
	set_checksum(buf, len);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_int_equal(m.mtu, 1400);
	assert_int_equal(m.inner_seq, 0xdeadbeef);

	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_FRAG_NEEDED, 8);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_int_equal(m.mtu, 0);

	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_HOST_UNREACH, 8);
	tern_store16(buf + 6, 1400);
	set_checksum(buf, len);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_int_equal(m.mtu, 0);
}

/* Types we do not know decode as non-errors, for the caller to count. */
static void test_unknown_type(void **state)
{
	uint8_t buf[16] = {13, 0, 0, 0, 0xab, 0xcd, 0, 1, 1, 2, 3, 4};
	ip_icmp m;

	(void)state;
	set_checksum(buf, 12);
	assert_int_equal(ip_icmp_parse(buf, 12, &m), 0);
	assert_int_equal(m.type, 13);
	assert_false(m.is_error);
	assert_int_equal(m.body_len, 4);
	buf[0] = 42;
	set_checksum(buf, 12);
	assert_int_equal(ip_icmp_parse(buf, 12, &m), 0);
	assert_false(m.is_error);
	assert_true(ip_icmp_may_answer(&m, US));
}

/* RFC 1122 3.2.2: never about an error, never to a broadcast or
 * multicast destination. */
static void test_may_answer(void **state)
{
	uint8_t buf[64];
	size_t len = echo_request(buf);
	ip_icmp m;

	(void)state;
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_true(ip_icmp_may_answer(&m, US));
	assert_true(ip_icmp_may_answer(&m, 0xc0a80001));
	assert_false(ip_icmp_may_answer(&m, 0xffffffff)); /* broadcast */
	assert_false(ip_icmp_may_answer(&m, 0xe0000001)); /* 224.0.0.1 */
	assert_false(ip_icmp_may_answer(&m, 0xefffffff)); /* 239/8 */
	assert_false(ip_icmp_may_answer(&m, 0xf0000001)); /* 240/4 */
	assert_false(ip_icmp_may_answer(&m, 0));
	len = error_msg(buf, IP_ICMP_DEST_UNREACH, IP_ICMP_PORT_UNREACH, 8);
	assert_int_equal(ip_icmp_parse(buf, len, &m), 0);
	assert_false(ip_icmp_may_answer(&m, US));
	assert_false(ip_icmp_may_answer(&m, 0xe0000001));
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Random bytes, half of them given a right checksum (and often an error
 * type and an IPv4-looking quote) to get past the first checks: parsing
 * never reads outside the buffer (ASan), and what it returns points
 * inside it. */
static void test_random_buffers(void **state)
{
	static const uint8_t kinds[] = {0, 3, 4, 5, 8, 11, 12, 13};
	uint64_t s = 99;
	int decoded = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(rnd(&s) % 80);
		uint8_t *buf = test_malloc(len ? len : 1);
		ip_icmp m;
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rnd(&s);
		if (len >= 8 && (rnd(&s) & 1)) {
			buf[0] = kinds[rnd(&s) % sizeof(kinds)];
			if (len > 8)
				buf[8] = (uint8_t)(0x40 | (rnd(&s) % 16));
			set_checksum(buf, len);
		}
		int r = ip_icmp_parse(buf, len, &m);
		assert_true(r == 0 || r == TERN_DROP_ICMP_TRUNCATED ||
			    r == TERN_DROP_ICMP_CHECKSUM);
		if (r == 0) {
			decoded++;
			assert_true(m.body + m.body_len == buf + len);
			if (m.is_error) {
				assert_true(m.inner.payload_len >= 8);
				assert_true(m.inner.payload +
						    m.inner.payload_len ==
					    buf + len);
			}
		}
		test_free(buf);
	}
	assert_true(decoded > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_request_decode_and_reply),
		cmocka_unit_test(test_echo_reply_in_place),
		cmocka_unit_test(test_echo_reply_refusals),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_errors_quote_tcp),
		cmocka_unit_test(test_quote_with_options),
		cmocka_unit_test(test_quote_malformed),
		cmocka_unit_test(test_quote_ports_when_known),
		cmocka_unit_test(test_frag_needed_mtu),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_may_answer),
		cmocka_unit_test(test_random_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
