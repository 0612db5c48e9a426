/* TCP header parsing and emitting (RFC 9293 3.1, RFC 7323, RFC 2018): every
 * option, one test per drop reason, Linux's option layout, round trips,
 * and a randomized robustness run through both parsers. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <tern/wire.h>

#define SRC 0x0a000001u
#define DST 0x0a000002u

/* A real SYN (192.168.1.10:51234 -> 93.184.216.34:80) as Linux lays it
 * out: MSS 1460, SACK-permitted, TS 0x000a4b1c/0, WS 7. Checksum 0x83e7
 * computed with Python at dev time; the IPv4 header likewise (0x26e9). */
static const uint32_t syn_src = 0xc0a8010a, syn_dst = 0x5db8d822;
static const uint8_t syn_packet[60] = {
	/* IPv4: 20 bytes */
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x26, 0xe9,
	0xc0, 0xa8, 0x01, 0x0a, 0x5d, 0xb8, 0xd8, 0x22,
	/* TCP: ports, seq, ack, offset/flags, window, checksum, urgent */
	0xc8, 0x22, 0x00, 0x50, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0xfa, 0xf0, 0x83, 0xe7, 0x00, 0x00,
	/* options: MSS, SACK-permitted + TS, NOP WS */
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x0a, 0x4b, 0x1c,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
static const uint8_t *const syn_segment = syn_packet + 20;

static void set_checksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	tern_csum c;

	tern_store16(seg + 16, 0);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, src, dst, TERN_IPPROTO_TCP, (uint16_t)len);
	tern_csum_add(&c, seg, len);
	tern_store16(seg + 16, tern_csum_final(&c));
}

/* A segment with the given option bytes (a multiple of 4), plen payload
 * bytes and a correct checksum, so a test reaches the check it is
 * about. Returns its length. */
static size_t build(uint8_t *buf, const uint8_t *opts, size_t olen, size_t plen)
{
	size_t hdr_len = 20 + olen;

	assert_true(olen % 4 == 0 && olen <= 40);
	memset(buf, 0, 20);
	tern_store16(buf, 1234);
	tern_store16(buf + 2, 80);
	tern_store32(buf + 4, 1000);
	tern_store32(buf + 8, 2000);
	buf[12] = (uint8_t)((hdr_len / 4) << 4);
	buf[13] = TERN_TCP_ACK | TERN_TCP_PSH;
	tern_store16(buf + 14, 65535);
	if (olen)
		memcpy(buf + 20, opts, olen);
	for (size_t i = 0; i < plen; i++)
		buf[hdr_len + i] = (uint8_t)i;
	set_checksum(buf, hdr_len + plen, SRC, DST);
	return hdr_len + plen;
}

static int parse(const uint8_t *buf, size_t len, tern_tcp_hdr *h)
{
	return tern_tcp_parse(buf, len, SRC, DST, true, h);
}

/* The reason a segment with these options (and 10 payload bytes) gets. */
static int parse_opts(const uint8_t *opts, size_t olen)
{
	uint8_t buf[80];
	tern_tcp_hdr h;

	return parse(buf, build(buf, opts, olen, 10), &h);
}

/* ---- parsing ---- */

static void test_real_syn_every_field(void **state)
{
	(void)state;
	tern_tcp_hdr h;

	assert_int_equal(
		tern_tcp_parse(syn_segment, 40, syn_src, syn_dst, true, &h), 0);
	assert_int_equal(h.sport, 51234);
	assert_int_equal(h.dport, 80);
	assert_int_equal(h.seq, 0x1234abcd);
	assert_int_equal(h.ack, 0);
	assert_int_equal(h.hdr_len, 40);
	assert_int_equal(h.flags, TERN_TCP_SYN);
	assert_int_equal(h.win, 64240);
	assert_int_equal(h.csum, 0x83e7);
	assert_int_equal(h.urg, 0);
	assert_int_equal(h.opts.present,
			 TERN_TCPOPT_MSS | TERN_TCPOPT_SACK_PERM |
				 TERN_TCPOPT_TIMESTAMP | TERN_TCPOPT_WSCALE);
	assert_int_equal(h.opts.mss, 1460);
	assert_int_equal(h.opts.wscale, 7);
	assert_int_equal(h.opts.ts_val, 0x000a4b1c);
	assert_int_equal(h.opts.ts_ecr, 0);
	assert_int_equal(h.opts.sack_count, 0);
	assert_ptr_equal(h.payload, syn_segment + 40);
	assert_int_equal(h.payload_len, 0);
}

/* Every option kind at once: MSS, WS, SACK-permitted, TS, 2 SACK blocks,
 * plus flags, urgent pointer and payload. */
static void test_every_option_and_field(void **state)
{
	(void)state;
	static const uint8_t opts[] = {
		/* MSS 9000; NOP WS 14; NOP NOP SACK-permitted */
		0x02, 0x04, 0x23, 0x28, 0x01, 0x03, 0x03, 0x0e, 0x01, 0x01,
		0x04, 0x02,
		/* TS val 0xdeadbeef ecr 0x01020304 */
		0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
		/* SACK, 2 blocks: [0x1000, 0x2000) [0xffffff00, 0x10) */
		0x05, 0x12, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
		0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x10};
	uint8_t buf[100];
	size_t len = build(buf, opts, sizeof(opts), 33);
	tern_tcp_hdr h;

	buf[13] = 0xff;
	tern_store16(buf + 18, 77);
	set_checksum(buf, len, SRC, DST);
	assert_int_equal(parse(buf, len, &h), 0);
	assert_int_equal(h.sport, 1234);
	assert_int_equal(h.dport, 80);
	assert_int_equal(h.seq, 1000);
	assert_int_equal(h.ack, 2000);
	assert_int_equal(h.hdr_len, 60);
	assert_int_equal(h.flags, 0xff);
	assert_int_equal(h.win, 65535);
	assert_int_equal(h.urg, 77);
	assert_int_equal(h.opts.present, TERN_TCPOPT_MSS | TERN_TCPOPT_WSCALE |
						 TERN_TCPOPT_SACK_PERM |
						 TERN_TCPOPT_SACK |
						 TERN_TCPOPT_TIMESTAMP);
	assert_int_equal(h.opts.mss, 9000);
	assert_int_equal(h.opts.wscale, 14);
	assert_int_equal(h.opts.ts_val, 0xdeadbeef);
	assert_int_equal(h.opts.ts_ecr, 0x01020304);
	assert_int_equal(h.opts.sack_count, 2);
	assert_int_equal(h.opts.sack[0].left, 0x1000);
	assert_int_equal(h.opts.sack[0].right, 0x2000);
	assert_int_equal(h.opts.sack[1].left, 0xffffff00);
	assert_int_equal(h.opts.sack[1].right, 0x10);
	assert_ptr_equal(h.payload, buf + 60);
	assert_int_equal(h.payload_len, 33);
	assert_int_equal(h.payload[32], 32);
}

static void test_no_options(void **state)
{
	(void)state;
	uint8_t buf[40];
	size_t len = build(buf, NULL, 0, 0);
	tern_tcp_hdr h;

	assert_int_equal(parse(buf, len, &h), 0);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.opts.present, 0);
	assert_int_equal(h.opts.sack_count, 0);
	assert_int_equal(h.payload_len, 0);
}

static void test_drop_truncated(void **state)
{
	(void)state;
	uint8_t buf[40];
	tern_tcp_hdr h;

	build(buf, NULL, 0, 0);
	assert_int_equal(parse(buf, 19, &h), TERN_DROP_TCP_TRUNCATED);
	assert_int_equal(parse(buf, 0, &h), TERN_DROP_TCP_TRUNCATED);
	assert_int_equal(tern_tcp_parse(buf, 19, 0, 0, false, &h),
			 TERN_DROP_TCP_TRUNCATED);
}

static void test_drop_doff_short(void **state)
{
	(void)state;
	uint8_t buf[40];
	size_t len = build(buf, NULL, 0, 10);
	tern_tcp_hdr h;

	for (uint8_t doff = 0; doff < 5; doff++) {
		buf[12] = (uint8_t)(doff << 4);
		set_checksum(buf, len, SRC, DST);
		assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_DOFF_SHORT);
	}
}

static void test_drop_doff_past_end(void **state)
{
	(void)state;
	uint8_t buf[80];
	size_t len = build(buf, NULL, 0, 0);
	tern_tcp_hdr h;

	buf[12] = 6 << 4;
	set_checksum(buf, len, SRC, DST);
	assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_DOFF_LONG);
	/* 60-byte header claimed in 59 bytes */
	len = build(buf, NULL, 0, 39);
	buf[12] = 15 << 4;
	set_checksum(buf, len, SRC, DST);
	assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_DOFF_LONG);
}

static void test_drop_option_length_zero(void **state)
{
	(void)state;
	static const uint8_t known[] = {0x02, 0x00, 0x00, 0x00};
	static const uint8_t unknown[] = {0x01, 0x63, 0x00, 0x00};

	assert_int_equal(parse_opts(known, 4), TERN_DROP_TCP_OPT_LEN);
	assert_int_equal(parse_opts(unknown, 4), TERN_DROP_TCP_OPT_LEN);
}

static void test_drop_option_length_one(void **state)
{
	(void)state;
	static const uint8_t unknown[] = {0x63, 0x01, 0x00, 0x00};
	static const uint8_t ts[] = {0x01, 0x01, 0x08, 0x01};

	assert_int_equal(parse_opts(unknown, 4), TERN_DROP_TCP_OPT_LEN);
	assert_int_equal(parse_opts(ts, 4), TERN_DROP_TCP_OPT_LEN);
}

static void test_drop_option_past_header(void **state)
{
	(void)state;
	/* A whole TS (10 bytes) announced in 4 bytes of options: it would
	 * read the payload. */
	static const uint8_t ts[] = {0x08, 0x0a, 0x00, 0x00};
	static const uint8_t unknown[] = {0x01, 0x01, 0x63, 0x03};

	assert_int_equal(parse_opts(ts, 4), TERN_DROP_TCP_OPT_OVERFLOW);
	assert_int_equal(parse_opts(unknown, 4), TERN_DROP_TCP_OPT_OVERFLOW);
}

static void test_drop_kind_without_length_byte(void **state)
{
	(void)state;
	static const uint8_t ts[] = {0x01, 0x01, 0x01, 0x08};
	static const uint8_t unknown[] = {0x01, 0x01, 0x01, 0x63};

	assert_int_equal(parse_opts(ts, 4), TERN_DROP_TCP_OPT_OVERFLOW);
	assert_int_equal(parse_opts(unknown, 4), TERN_DROP_TCP_OPT_OVERFLOW);
}

static void test_drop_mss_length_3(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x02, 0x03, 0x05, 0x00};

	assert_int_equal(parse_opts(opts, 4), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_drop_ws_length_4(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x03, 0x04, 0x07, 0x00};

	assert_int_equal(parse_opts(opts, 4), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_drop_sack_perm_length_3(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x01, 0x04, 0x03, 0x00};

	assert_int_equal(parse_opts(opts, 4), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_drop_ts_length_9(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x08, 0x09, 1, 2, 3, 4,
				       5,    6,	   7, 0, 0, 0};

	assert_int_equal(parse_opts(opts, 12), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_drop_sack_bad_lengths(void **state)
{
	(void)state;
	uint8_t opts[40];

	/* Not 2 + 8n for n = 1..4 (2, no block at all, is tried below). */
	static const uint8_t bad[] = {3, 4, 9, 11, 12, 17, 19, 33};
	for (size_t i = 0; i < sizeof(bad); i++) {
		memset(opts, 0, sizeof(opts));
		opts[0] = 0x05;
		opts[1] = bad[i];
		assert_int_equal(parse_opts(opts, 36),
				 TERN_DROP_TCP_OPT_MALFORMED);
	}
	memset(opts, 0, sizeof(opts));
	opts[0] = 0x05;
	opts[1] = 0x02;
	assert_int_equal(parse_opts(opts, 4), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_drop_bad_checksum(void **state)
{
	(void)state;
	uint8_t buf[80];
	size_t len = build(buf, NULL, 0, 21);
	tern_tcp_hdr h;

	buf[len - 1] ^= 0x01;
	assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_CHECKSUM);
	/* Without verification the same bytes parse. */
	assert_int_equal(tern_tcp_parse(buf, len, 0, 0, false, &h), 0);
	buf[len - 1] ^= 0x01;
	assert_int_equal(parse(buf, len, &h), 0);
	/* The pseudo-header is covered: another source fails. */
	assert_int_equal(tern_tcp_parse(buf, len, SRC + 1, DST, true, &h),
			 TERN_DROP_TCP_CHECKSUM);
	/* So is the length: a shorter view of the segment fails. */
	assert_int_equal(parse(buf, len - 2, &h), TERN_DROP_TCP_CHECKSUM);
}

/* Structure is judged before the checksum. */
static void test_structure_checked_before_checksum(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x02, 0x03, 0x05, 0x00};
	uint8_t buf[80];
	size_t len = build(buf, opts, sizeof(opts), 0);
	tern_tcp_hdr h;

	buf[17] ^= 0xff;
	assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_OPT_MALFORMED);
}

static void test_failed_parse_leaves_out_alone(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x02, 0x04, 0x05, 0xb4,
				       0x03, 0x04, 0x07, 0x00};
	uint8_t buf[80];
	size_t len = build(buf, opts, sizeof(opts), 0);
	tern_tcp_hdr h;

	memset(&h, 0x5a, sizeof(h));
	assert_int_equal(parse(buf, len, &h), TERN_DROP_TCP_OPT_MALFORMED);
	assert_int_equal(h.sport, 0x5a5a);
	assert_int_equal(h.opts.present, 0x5a5a5a5a);
}

/* RFC 9293 3.2: EOL ends the list; what follows is padding, even bytes
 * that would be invalid as options. */
static void test_eol_stops_parsing(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x02, 0x04, 0x05, 0xb4, 0x00, 0x03,
				       0x00, 0x08, 0x08, 0xff, 0x05, 0x63};
	uint8_t buf[80];
	size_t len = build(buf, opts, sizeof(opts), 5);
	tern_tcp_hdr h;

	assert_int_equal(parse(buf, len, &h), 0);
	assert_int_equal(h.opts.present, TERN_TCPOPT_MSS);
	assert_int_equal(h.opts.mss, 1460);
	assert_int_equal(h.payload_len, 5);
}

static void test_nop_padding(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
				       0x02, 0x04, 0x05, 0xb4, 0x01, 0x01};
	static const uint8_t all_nop[] = {0x01, 0x01, 0x01, 0x01,
					  0x01, 0x01, 0x01, 0x01};
	uint8_t buf[80];
	tern_tcp_hdr h;

	assert_int_equal(parse(buf, build(buf, opts, sizeof(opts), 0), &h), 0);
	assert_int_equal(h.opts.present, TERN_TCPOPT_MSS);
	assert_int_equal(h.opts.mss, 1460);
	assert_int_equal(
		parse(buf, build(buf, all_nop, sizeof(all_nop), 0), &h), 0);
	assert_int_equal(h.opts.present, 0);
}

/* RFC 9293 3.2 (MUST-6): an unknown kind is skipped by its length and the
 * options after it still count. */
static void test_unknown_option_skipped(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x63, 0x06, 0x02, 0x04, 0x05, 0xb4,
				       0x03, 0x03, 0x09, 0x01, 0x01, 0x00};
	uint8_t buf[80];
	size_t len = build(buf, opts, sizeof(opts), 0);
	tern_tcp_hdr h;

	assert_int_equal(parse(buf, len, &h), 0);
	assert_int_equal(h.opts.present, TERN_TCPOPT_WSCALE);
	assert_int_equal(h.opts.wscale, 9);
}

static void test_sack_one_to_four_blocks(void **state)
{
	(void)state;
	for (uint8_t n = 1; n <= 4; n++) {
		uint8_t opts[36] = {0x01, 0x01, 0x05, (uint8_t)(2 + 8 * n)};
		for (uint8_t i = 0; i < n; i++) {
			tern_store32(opts + 4 + 8 * i, 100u * i + 1);
			tern_store32(opts + 8 + 8 * i, 100u * i + 50);
		}
		uint8_t buf[80];
		size_t len = build(buf, opts, 4 + 8 * (size_t)n, 0);
		tern_tcp_hdr h;
		assert_int_equal(parse(buf, len, &h), 0);
		assert_int_equal(h.opts.present, TERN_TCPOPT_SACK);
		assert_int_equal(h.opts.sack_count, n);
		for (uint8_t i = 0; i < n; i++) {
			assert_int_equal(h.opts.sack[i].left, 100u * i + 1);
			assert_int_equal(h.opts.sack[i].right, 100u * i + 50);
		}
	}
}

/* A repeated option: the later one wins, as in Linux. */
static void test_repeated_option_last_wins(void **state)
{
	(void)state;
	static const uint8_t opts[] = {0x02, 0x04, 0x05, 0xb4,
				       0x02, 0x04, 0x02, 0x18};
	uint8_t buf[80];
	tern_tcp_hdr h;

	assert_int_equal(parse(buf, build(buf, opts, sizeof(opts), 0), &h), 0);
	assert_int_equal(h.opts.mss, 536);
}

/* ---- emitting ---- */

static tern_tcp_hdr syn_hdr(void)
{
	tern_tcp_hdr h = {
		.sport = 51234,
		.dport = 80,
		.seq = 0x1234abcd,
		.flags = TERN_TCP_SYN,
		.win = 64240,
		.csum = 0xffff, /* ignored */
		.hdr_len = 99,	/* ignored */
		.opts =
			{
				.present = TERN_TCPOPT_MSS |
					   TERN_TCPOPT_SACK_PERM |
					   TERN_TCPOPT_TIMESTAMP |
					   TERN_TCPOPT_WSCALE,
				.mss = 1460,
				.wscale = 7,
				.ts_val = 0x000a4b1c,
				.ts_ecr = 0,
			},
	};
	return h;
}

/* Byte for byte what Linux sends: 02 04 05 b4 04 02 08 0a <val> <ecr>
 * 01 03 03 07. */
static void test_emit_linux_syn_layout(void **state)
{
	(void)state;
	tern_tcp_hdr h = syn_hdr();
	uint8_t buf[60];

	assert_int_equal(tern_tcp_hdr_len(&h.opts), 40);
	assert_int_equal(tern_tcp_emit(buf, sizeof(buf), &h), 40);
	assert_int_equal(tern_load16(buf + 16), 0);
	set_checksum(buf, 40, syn_src, syn_dst);
	assert_memory_equal(buf, syn_segment, 40);
}

static size_t emit_opts(uint8_t *buf, uint32_t present, uint8_t sacks)
{
	tern_tcp_hdr h = syn_hdr();

	h.opts.present = present;
	h.opts.sack_count = sacks;
	for (uint8_t i = 0; i < TERN_TCP_SACK_MAX; i++) {
		h.opts.sack[i].left = 0x11111111u * (i + 1);
		h.opts.sack[i].right = 0x11111111u * (i + 1) + 0x100;
	}
	size_t n = tern_tcp_emit(buf, 60, &h);
	assert_int_equal(n, tern_tcp_hdr_len(&h.opts));
	return n;
}

static void test_emit_single_option_layouts(void **state)
{
	(void)state;
	static const uint8_t ts[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x0a,
				     0x4b, 0x1c, 0x00, 0x00, 0x00, 0x00};
	static const uint8_t sack_perm[] = {0x01, 0x01, 0x04, 0x02};
	static const uint8_t ws[] = {0x01, 0x03, 0x03, 0x07};
	static const uint8_t mss[] = {0x02, 0x04, 0x05, 0xb4};
	static const uint8_t sack1[] = {0x01, 0x01, 0x05, 0x0a, 0x11, 0x11,
					0x11, 0x11, 0x11, 0x11, 0x12, 0x11};
	uint8_t buf[60];

	assert_int_equal(emit_opts(buf, 0, 0), 20);
	assert_int_equal(buf[12], 0x50);
	assert_int_equal(emit_opts(buf, TERN_TCPOPT_TIMESTAMP, 0), 32);
	assert_memory_equal(buf + 20, ts, sizeof(ts));
	assert_int_equal(emit_opts(buf, TERN_TCPOPT_SACK_PERM, 0), 24);
	assert_memory_equal(buf + 20, sack_perm, sizeof(sack_perm));
	assert_int_equal(emit_opts(buf, TERN_TCPOPT_WSCALE, 0), 24);
	assert_memory_equal(buf + 20, ws, sizeof(ws));
	assert_int_equal(emit_opts(buf, TERN_TCPOPT_MSS, 0), 24);
	assert_memory_equal(buf + 20, mss, sizeof(mss));
	assert_int_equal(emit_opts(buf, TERN_TCPOPT_SACK, 1), 32);
	assert_memory_equal(buf + 20, sack1, sizeof(sack1));
	assert_int_equal(buf[12], 0x80);
}

/* SACK bit without blocks, or blocks without the bit: nothing. */
static void test_emit_sack_needs_bit_and_blocks(void **state)
{
	(void)state;
	uint8_t buf[60];

	assert_int_equal(emit_opts(buf, TERN_TCPOPT_SACK, 0), 20);
	assert_int_equal(emit_opts(buf, 0, 3), 20);
}

/* Emits, parses back and checks the options survived; returns the
 * number of SACK blocks that made it. */
static uint8_t round_trip(uint32_t present, uint8_t sacks, size_t *hdr_len)
{
	uint8_t buf[60];
	tern_tcp_hdr h;
	size_t n = emit_opts(buf, present, sacks);

	*hdr_len = n;
	assert_true(n >= 20 && n <= 60 && n % 4 == 0);
	assert_int_equal(buf[12] >> 4, n / 4);
	set_checksum(buf, n, SRC, DST);
	assert_int_equal(parse(buf, n, &h), 0);
	assert_int_equal(h.hdr_len, n);
	assert_int_equal(h.sport, 51234);
	assert_int_equal(h.seq, 0x1234abcd);
	assert_int_equal(h.flags, TERN_TCP_SYN);
	assert_int_equal(h.win, 64240);
	uint32_t want = present;
	if (!(present & TERN_TCPOPT_SACK) || sacks == 0)
		want &= ~(uint32_t)TERN_TCPOPT_SACK;
	assert_int_equal(h.opts.present, want);
	if (want & TERN_TCPOPT_MSS)
		assert_int_equal(h.opts.mss, 1460);
	if (want & TERN_TCPOPT_WSCALE)
		assert_int_equal(h.opts.wscale, 7);
	if (want & TERN_TCPOPT_TIMESTAMP)
		assert_int_equal(h.opts.ts_val, 0x000a4b1c);
	for (uint8_t i = 0; i < h.opts.sack_count; i++) {
		assert_int_equal(h.opts.sack[i].left, 0x11111111u * (i + 1));
		assert_int_equal(h.opts.sack[i].right,
				 0x11111111u * (i + 1) + 0x100);
	}
	return h.opts.sack_count;
}

static void test_emit_parse_every_combination(void **state)
{
	(void)state;
	size_t len;

	for (uint32_t present = 0; present < 32; present++) {
		for (uint8_t sacks = 0; sacks <= TERN_TCP_SACK_MAX; sacks++) {
			uint8_t got = round_trip(present, sacks, &len);
			assert_true(got <= sacks);
			/* Blocks are only dropped when they do not fit. */
			if (got < sacks && (present & TERN_TCPOPT_SACK))
				assert_true(len + 8 > 60);
		}
	}
}

static void test_emit_all_syn_options(void **state)
{
	(void)state;
	size_t len;

	round_trip(TERN_TCPOPT_MSS | TERN_TCPOPT_SACK_PERM |
			   TERN_TCPOPT_TIMESTAMP | TERN_TCPOPT_WSCALE,
		   0, &len);
	assert_int_equal(len, 40);
}

/* 12 (TS) + 4 + 4 * 8 = 48 > 40: the fourth block goes, as in Linux. */
static void test_emit_ts_and_four_sacks_trims_to_three(void **state)
{
	(void)state;
	size_t len;

	assert_int_equal(
		round_trip(TERN_TCPOPT_TIMESTAMP | TERN_TCPOPT_SACK, 4, &len),
		3);
	assert_int_equal(len, 60);
	assert_int_equal(round_trip(TERN_TCPOPT_SACK, 4, &len), 4);
	assert_int_equal(len, 56);
	assert_int_equal(round_trip(0x1f, 4, &len), 2);
	assert_int_equal(len, 60);
}

/* A count beyond the array is clamped, never read past it. */
static void test_emit_sack_count_clamped(void **state)
{
	(void)state;
	tern_tcp_hdr h = {
		.opts = {.present = TERN_TCPOPT_SACK, .sack_count = 200}};
	uint8_t buf[60];

	assert_int_equal(tern_tcp_hdr_len(&h.opts), 56);
	assert_int_equal(tern_tcp_emit(buf, sizeof(buf), &h), 56);
	assert_int_equal(buf[23], 2 + 4 * 8);
}

static void test_emit_too_small(void **state)
{
	(void)state;
	tern_tcp_hdr h = syn_hdr();
	uint8_t buf[40];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(tern_tcp_emit(buf, 39, &h), 0);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(tern_tcp_emit(buf, 0, &h), 0);
	h.opts.present = 0;
	assert_int_equal(tern_tcp_emit(buf, 19, &h), 0);
	assert_int_equal(tern_tcp_emit(buf, 20, &h), 20);
}

/* ---- randomized robustness ---- */

static uint32_t xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define FUZZ_MAX 200

/* Values that steer the parsers into their branches: option kinds and
 * lengths, version/IHL and data offset nibbles. */
static const uint8_t interesting[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x12, 0x22,
	0x28, 0x45, 0x46, 0x4f, 0x50, 0xa0, 0xf0, 0xff, 0x7f, 0x80, 0x63, 0x14};

static size_t mutate(uint8_t *buf, size_t len, uint32_t *rng)
{
	unsigned n = 1 + xorshift32(rng) % 6;

	for (unsigned i = 0; i < n; i++) {
		uint32_t r = xorshift32(rng);
		size_t at = len ? (r >> 8) % len : 0;
		switch (r % 6) {
		case 0:
			if (len)
				buf[at] ^= (uint8_t)(1u << ((r >> 4) & 7));
			break;
		case 1:
		case 2:
			if (len)
				buf[at] = interesting[(r >> 3) %
						      sizeof(interesting)];
			break;
		case 3:
			if (len)
				buf[at] = (uint8_t)(r >> 16);
			break;
		case 4:
			len = len ? (r >> 8) % (len + 1) : 0;
			break;
		default:
			while (len < FUZZ_MAX && (r & 1)) {
				buf[len++] = (uint8_t)xorshift32(rng);
				r >>= 1;
			}
		}
	}
	return len;
}

/* Half the time repair the checksums so the mutated structure, not the
 * checksum, is what the parsers judge. */
static void fix_checksums(uint8_t *buf, size_t len)
{
	size_t ihl = len ? (size_t)(buf[0] & 0x0f) * 4 : 0;

	if (len < 20 || ihl < 20 || ihl > len)
		return;
	tern_store16(buf + 2, (uint16_t)len);
	tern_store16(buf + 10, 0);
	tern_store16(buf + 10, tern_inet_checksum(buf, ihl));
	if (len - ihl >= 20)
		set_checksum(buf + ihl, len - ihl, tern_load32(buf + 12),
			     tern_load32(buf + 16));
}

static void check_ipv4(const uint8_t *p, size_t len, int *ok)
{
	tern_ipv4_hdr ip;
	int err = tern_ipv4_parse(p, len, &ip);

	if (err != 0) {
		assert_true(err >= TERN_DROP_IP_TRUNCATED &&
			    err <= TERN_DROP_IP_CHECKSUM);
		return;
	}
	++*ok;
	assert_true(ip.hdr_len >= 20 && ip.hdr_len <= 60);
	assert_true(ip.total_len <= len && ip.total_len >= ip.hdr_len);
	assert_ptr_equal(ip.payload, p + ip.hdr_len);
	assert_int_equal(ip.payload_len, ip.total_len - ip.hdr_len);
}

static void check_tcp(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
		      bool verify, int *ok)
{
	tern_tcp_hdr h;
	int err = tern_tcp_parse(p, len, src, dst, verify, &h);

	if (err != 0) {
		assert_true(err >= TERN_DROP_TCP_TRUNCATED &&
			    err <= TERN_DROP_TCP_CHECKSUM);
		return;
	}
	++*ok;
	assert_true(h.hdr_len >= 20 && h.hdr_len <= 60 && h.hdr_len <= len);
	assert_ptr_equal(h.payload, p + h.hdr_len);
	assert_int_equal(h.payload_len, len - h.hdr_len);
	assert_true(h.opts.sack_count <= TERN_TCP_SACK_MAX);
	if (h.opts.present & TERN_TCPOPT_SACK)
		assert_true(h.opts.sack_count >= 1);
}

/* Runs one buffer through both parsers, placed at the very end of a heap
 * block so that ASan catches any read past len. */
static void run_one(uint8_t *heap, const uint8_t *data, size_t len, int ok[3])
{
	uint8_t *p = heap + FUZZ_MAX - len;
	tern_ipv4_hdr ip;

	memcpy(p, data, len);
	check_ipv4(p, len, &ok[0]);
	check_tcp(p, len, SRC, DST, true, &ok[1]);
	if (len >= 20)
		check_tcp(p + 20, len - 20, SRC, DST, false, &ok[1]);
	if (tern_ipv4_parse(p, len, &ip) == 0)
		check_tcp(ip.payload, ip.payload_len, ip.src, ip.dst, true,
			  &ok[2]);
}

static void test_random_buffers_both_parsers(void **state)
{
	(void)state;
	uint8_t seeds[3][FUZZ_MAX], buf[FUZZ_MAX];
	size_t seed_len[3];
	uint8_t *heap = malloc(FUZZ_MAX);
	uint32_t rng = 0x2545f491;
	int ok[3] = {0, 0, 0};

	assert_non_null(heap);
	memset(seeds, 0, sizeof(seeds));
	/* A SYN with every SYN option; an IP header with options (4 NOPs)
	 * before a SACK-carrying segment; a data segment with timestamps. */
	memcpy(seeds[0], syn_packet, sizeof(syn_packet));
	seed_len[0] = sizeof(syn_packet);
	memcpy(seeds[1], syn_packet, 20);
	seeds[1][0] = 0x46;
	memset(seeds[1] + 20, 0x01, 4);
	seed_len[1] = emit_opts(seeds[1] + 24, 0x1f & ~1u, 3) + 24;
	fix_checksums(seeds[1], seed_len[1]);
	static const uint8_t ts[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00,
				     0x00, 0x01, 0x00, 0x00, 0x00, 0x02};
	memcpy(seeds[2], syn_packet, 20);
	seed_len[2] = build(seeds[2] + 20, ts, sizeof(ts), 100) + 20;
	fix_checksums(seeds[2], seed_len[2]);
	for (int i = 0; i < 200000; i++) {
		int which = (int)(xorshift32(&rng) % 4);
		size_t len;
		if (which == 3) {
			len = xorshift32(&rng) % (FUZZ_MAX + 1);
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)xorshift32(&rng);
		} else {
			len = seed_len[which];
			memcpy(buf, seeds[which], len);
			len = mutate(buf, len, &rng);
		}
		if (xorshift32(&rng) & 1)
			fix_checksums(buf, len);
		run_one(heap, buf, len, ok);
	}
	free(heap);
	/* The run reached the success paths, not only the early exits. */
	assert_true(ok[0] > 10000);
	assert_true(ok[1] > 10000);
	assert_true(ok[2] > 10000);
}

/* Random headers and options through emit and back. */
static void test_random_emit_parse_round_trip(void **state)
{
	(void)state;
	uint32_t rng = 77;

	for (int i = 0; i < 20000; i++) {
		tern_tcp_hdr in = {0}, out;
		uint8_t buf[60];
		in.sport = (uint16_t)xorshift32(&rng);
		in.dport = (uint16_t)xorshift32(&rng);
		in.seq = xorshift32(&rng);
		in.ack = xorshift32(&rng);
		in.flags = (uint8_t)xorshift32(&rng);
		in.win = (uint16_t)xorshift32(&rng);
		in.urg = (uint16_t)xorshift32(&rng);
		in.opts.present = xorshift32(&rng) & 0x1f;
		in.opts.mss = (uint16_t)xorshift32(&rng);
		in.opts.wscale = (uint8_t)xorshift32(&rng);
		in.opts.ts_val = xorshift32(&rng);
		in.opts.ts_ecr = xorshift32(&rng);
		in.opts.sack_count = (uint8_t)(1 + xorshift32(&rng) % 4);
		for (int j = 0; j < TERN_TCP_SACK_MAX; j++) {
			in.opts.sack[j].left = xorshift32(&rng);
			in.opts.sack[j].right = xorshift32(&rng);
		}
		size_t n = tern_tcp_emit(buf, sizeof(buf), &in);
		assert_true(n >= 20 && n <= 60);
		assert_int_equal(tern_tcp_parse(buf, n, 0, 0, false, &out), 0);
		assert_int_equal(out.sport, in.sport);
		assert_int_equal(out.dport, in.dport);
		assert_int_equal(out.seq, in.seq);
		assert_int_equal(out.ack, in.ack);
		assert_int_equal(out.flags, in.flags);
		assert_int_equal(out.win, in.win);
		assert_int_equal(out.urg, in.urg);
		assert_int_equal(out.opts.present, in.opts.present);
		if (in.opts.present & TERN_TCPOPT_MSS)
			assert_int_equal(out.opts.mss, in.opts.mss);
		if (in.opts.present & TERN_TCPOPT_WSCALE)
			assert_int_equal(out.opts.wscale, in.opts.wscale);
		if (in.opts.present & TERN_TCPOPT_TIMESTAMP) {
			assert_int_equal(out.opts.ts_val, in.opts.ts_val);
			assert_int_equal(out.opts.ts_ecr, in.opts.ts_ecr);
		}
		for (int j = 0; j < out.opts.sack_count; j++) {
			assert_int_equal(out.opts.sack[j].left,
					 in.opts.sack[j].left);
			assert_int_equal(out.opts.sack[j].right,
					 in.opts.sack[j].right);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_syn_every_field),
		cmocka_unit_test(test_every_option_and_field),
		cmocka_unit_test(test_no_options),
		cmocka_unit_test(test_drop_truncated),
		cmocka_unit_test(test_drop_doff_short),
		cmocka_unit_test(test_drop_doff_past_end),
		cmocka_unit_test(test_drop_option_length_zero),
		cmocka_unit_test(test_drop_option_length_one),
		cmocka_unit_test(test_drop_option_past_header),
		cmocka_unit_test(test_drop_kind_without_length_byte),
		cmocka_unit_test(test_drop_mss_length_3),
		cmocka_unit_test(test_drop_ws_length_4),
		cmocka_unit_test(test_drop_sack_perm_length_3),
		cmocka_unit_test(test_drop_ts_length_9),
		cmocka_unit_test(test_drop_sack_bad_lengths),
		cmocka_unit_test(test_drop_bad_checksum),
		cmocka_unit_test(test_structure_checked_before_checksum),
		cmocka_unit_test(test_failed_parse_leaves_out_alone),
		cmocka_unit_test(test_eol_stops_parsing),
		cmocka_unit_test(test_nop_padding),
		cmocka_unit_test(test_unknown_option_skipped),
		cmocka_unit_test(test_sack_one_to_four_blocks),
		cmocka_unit_test(test_repeated_option_last_wins),
		cmocka_unit_test(test_emit_linux_syn_layout),
		cmocka_unit_test(test_emit_single_option_layouts),
		cmocka_unit_test(test_emit_sack_needs_bit_and_blocks),
		cmocka_unit_test(test_emit_parse_every_combination),
		cmocka_unit_test(test_emit_all_syn_options),
		cmocka_unit_test(test_emit_ts_and_four_sacks_trims_to_three),
		cmocka_unit_test(test_emit_sack_count_clamped),
		cmocka_unit_test(test_emit_too_small),
		cmocka_unit_test(test_random_buffers_both_parsers),
		cmocka_unit_test(test_random_emit_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
