/* fuzz_tcp: the TCP header and option parser (src/wire/tcp.c) against
 * what wire.h promises, its emitter, and the checksum routines.
 *
 * Input: a mode byte, the source and destination addresses of the
 * pseudo-header (4 bytes each), then the segment itself. For every input
 * the target checks, with explicit aborts:
 * - tern_tcp_parse without the checksum agrees with a second parser
 *   written here from RFC 9293 3.1/3.2, RFC 7323 and RFC 2018 (the same
 *   result code, the same fields and options), and on success the
 *   payload lies inside the input, right after the header;
 * - with the checksum, the result is the structural one, or CHECKSUM
 *   exactly when a second RFC 1071 sum says so; the segment with its
 *   checksum fixed then verifies;
 * - tern_csum over pieces cut anywhere equals tern_inet_checksum;
 * - what tern_tcp_emit writes for the parsed header parses back to the
 *   same fields and options (SACK blocks cut to what fits);
 * - tern_tcp_flags_format stays inside the buffer and ends it with NUL.
 */
#include "fuzz.h"

#include <tern/wire.h>

/* ---- the second parser ---- */

static int ref_option(const uint8_t *p, size_t olen, tern_tcp_opts *o)
{
	size_t n;

	switch (p[0]) {
	case 2: /* MSS */
		if (olen != 4)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->mss = (uint16_t)(p[2] << 8 | p[3]);
		o->present |= TERN_TCPOPT_MSS;
		break;
	case 3: /* window scale */
		if (olen != 3)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->wscale = p[2];
		o->present |= TERN_TCPOPT_WSCALE;
		break;
	case 4: /* SACK permitted */
		if (olen != 2)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->present |= TERN_TCPOPT_SACK_PERM;
		break;
	case 5: /* SACK: 2 + 8n bytes, 1 <= n <= 4 */
		n = (olen - 2) / 8;
		if (olen < 10 || (olen - 2) % 8 || n > TERN_TCP_SACK_MAX)
			return TERN_DROP_TCP_OPT_MALFORMED;
		for (size_t i = 0; i < n; i++) {
			o->sack[i].left = tern_load32(p + 2 + 8 * i);
			o->sack[i].right = tern_load32(p + 6 + 8 * i);
		}
		o->sack_count = (uint8_t)n;
		o->present |= TERN_TCPOPT_SACK;
		break;
	case 8: /* timestamps */
		if (olen != 10)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->ts_val = tern_load32(p + 2);
		o->ts_ecr = tern_load32(p + 6);
		o->present |= TERN_TCPOPT_TIMESTAMP;
		break;
	}
	return 0;
}

static int ref_parse(const uint8_t *b, size_t len, tern_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 20)
		return TERN_DROP_TCP_TRUNCATED;
	size_t hl = (size_t)(b[12] >> 4) * 4;
	if (hl < 20)
		return TERN_DROP_TCP_DOFF_SHORT;
	if (hl > len)
		return TERN_DROP_TCP_DOFF_LONG;
	for (size_t i = 20; i < hl && b[i] != 0;) {
		if (b[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl)
			return TERN_DROP_TCP_OPT_OVERFLOW;
		if (b[i + 1] < 2)
			return TERN_DROP_TCP_OPT_LEN;
		if (i + b[i + 1] > hl)
			return TERN_DROP_TCP_OPT_OVERFLOW;
		int err = ref_option(b + i, b[i + 1], o);
		if (err)
			return err;
		i += b[i + 1];
	}
	return 0;
}

static void same_opts(const tern_tcp_opts *a, const tern_tcp_opts *b)
{
	FUZZ_CHECK(a->present == b->present);
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_MSS) || a->mss == b->mss);
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_WSCALE) ||
		   a->wscale == b->wscale);
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_TIMESTAMP) ||
		   (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr));
	FUZZ_CHECK(a->sack_count == b->sack_count);
	for (unsigned i = 0; i < a->sack_count; i++)
		FUZZ_CHECK(a->sack[i].left == b->sack[i].left &&
			   a->sack[i].right == b->sack[i].right);
}

/* What the parser promises of a parsed segment, and the fields as read
 * straight from the bytes. */
static void check_parsed(const uint8_t *b, size_t len, const tern_tcp_hdr *h)
{
	FUZZ_CHECK(h->hdr_len >= TERN_TCP_HDR_MIN &&
		   h->hdr_len <= TERN_TCP_HDR_MAX && h->hdr_len % 4 == 0);
	FUZZ_CHECK(h->hdr_len <= len);
	FUZZ_CHECK(h->payload == b + h->hdr_len);
	FUZZ_CHECK(h->payload_len == len - h->hdr_len);
	FUZZ_CHECK(h->payload + h->payload_len == b + len);
	FUZZ_CHECK(h->opts.sack_count <= TERN_TCP_SACK_MAX);
	FUZZ_CHECK(!(h->opts.present & TERN_TCPOPT_SACK) ==
		   (h->opts.sack_count == 0));
	FUZZ_CHECK(h->opts.present < (TERN_TCPOPT_TIMESTAMP << 1));
	FUZZ_CHECK(h->sport == tern_load16(b) &&
		   h->dport == tern_load16(b + 2));
	FUZZ_CHECK(h->seq == tern_load32(b + 4) &&
		   h->ack == tern_load32(b + 8));
	FUZZ_CHECK(h->flags == b[13] && h->win == tern_load16(b + 14));
	FUZZ_CHECK(h->csum == tern_load16(b + 16) &&
		   h->urg == tern_load16(b + 18));
}

/* ---- checksums ---- */

/* tern_csum over pieces cut where the input says (odd cuts included)
 * equals the one-shot sum and the sum written here. */
static void check_csum(const uint8_t *b, size_t len, uint8_t cuts)
{
	tern_csum c;
	size_t at = 0;

	tern_csum_init(&c);
	while (at < len) {
		size_t n = 1 + (cuts * 7 + at) % 13;
		if (n > len - at)
			n = len - at;
		tern_csum_add(&c, b + at, n);
		at += n;
		cuts = (uint8_t)(cuts * 5 + 1);
	}
	uint16_t pieces = tern_csum_final(&c);
	FUZZ_CHECK(pieces == tern_inet_checksum(b, len));
	FUZZ_CHECK(pieces == fuzz_csum(0, b, len));
}

/* With verification: structure first, then the checksum; a segment whose
 * checksum is put right verifies. */
static void check_verify(const uint8_t *b, size_t len, uint32_t src,
			 uint32_t dst, int structural)
{
	tern_tcp_hdr h;
	bool sum_ok = len <= UINT16_MAX &&
		      fuzz_csum(fuzz_pseudo(src, dst, len), b, len) == 0;
	int r = tern_tcp_parse(b, len, src, dst, true, &h);

	if (structural)
		FUZZ_CHECK(r == structural);
	else
		FUZZ_CHECK(r == (sum_ok ? 0 : TERN_DROP_TCP_CHECKSUM));
	if (structural || len > UINT16_MAX)
		return;
	uint8_t *fixed = malloc(len);
	FUZZ_CHECK(fixed != NULL);
	memcpy(fixed, b, len);
	tern_store16(fixed + 16, 0);
	tern_store16(fixed + 16,
		     fuzz_csum(fuzz_pseudo(src, dst, len), fixed, len));
	FUZZ_CHECK(tern_tcp_parse(fixed, len, src, dst, true, &h) == 0);
	free(fixed);
}

/* ---- the emitter ---- */

static void check_emit(const tern_tcp_hdr *h)
{
	uint8_t buf[TERN_TCP_HDR_MAX + 4];
	tern_tcp_hdr back;
	size_t want = tern_tcp_hdr_len(&h->opts);

	FUZZ_CHECK(want >= TERN_TCP_HDR_MIN && want <= TERN_TCP_HDR_MAX &&
		   want % 4 == 0);
	FUZZ_CHECK(tern_tcp_emit(buf, want - 1, h) == 0);
	memset(buf, 0xa5, sizeof(buf));
	size_t n = tern_tcp_emit(buf, sizeof(buf), h);
	FUZZ_CHECK(n == want);
	FUZZ_CHECK(buf[n] == 0xa5); /* nothing past the header */
	FUZZ_CHECK(tern_tcp_parse(buf, n, 0, 0, false, &back) == 0);
	FUZZ_CHECK(back.hdr_len == n && back.payload_len == 0);
	FUZZ_CHECK(back.sport == h->sport && back.dport == h->dport &&
		   back.seq == h->seq && back.ack == h->ack);
	FUZZ_CHECK(back.flags == h->flags && back.win == h->win &&
		   back.urg == h->urg);
	const tern_tcp_opts *a = &h->opts, *o = &back.opts;
	FUZZ_CHECK((a->present & ~TERN_TCPOPT_SACK) ==
		   (o->present & ~TERN_TCPOPT_SACK));
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_MSS) || a->mss == o->mss);
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_WSCALE) ||
		   a->wscale == o->wscale);
	FUZZ_CHECK(!(a->present & TERN_TCPOPT_TIMESTAMP) ||
		   (a->ts_val == o->ts_val && a->ts_ecr == o->ts_ecr));
	/* Linux's layout: SACK blocks fill what the other options leave */
	size_t other = (a->present & TERN_TCPOPT_MSS ? 4 : 0) +
		       (a->present & TERN_TCPOPT_TIMESTAMP   ? 12
			: a->present & TERN_TCPOPT_SACK_PERM ? 4
							     : 0) +
		       (a->present & TERN_TCPOPT_WSCALE ? 4 : 0);
	size_t fit = (40 - other - 4) / 8;
	FUZZ_CHECK(o->sack_count ==
		   (a->sack_count < fit ? a->sack_count : fit));
	for (unsigned i = 0; i < o->sack_count; i++)
		FUZZ_CHECK(a->sack[i].left == o->sack[i].left &&
			   a->sack[i].right == o->sack[i].right);
}

static void check_flags_text(uint8_t flags, size_t size)
{
	char buf[48];

	memset(buf, 'x', sizeof(buf));
	tern_tcp_flags_format(flags, buf, size);
	for (size_t i = size; i < sizeof(buf); i++)
		FUZZ_CHECK(buf[i] == 'x');
	if (size > 0)
		FUZZ_CHECK(memchr(buf, '\0', size) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	uint32_t src = fuzz_u32(&in), dst = fuzz_u32(&in);
	/* The segment in a buffer of its own size, so that ASan catches a
	 * read past its end. */
	size_t len = in.left;
	uint8_t *seg = malloc(len ? len : 1);
	tern_tcp_hdr h;
	tern_tcp_opts want;

	FUZZ_CHECK(seg != NULL);
	fuzz_bytes(&in, seg, len);
	int ref = ref_parse(seg, len, &want);
	int r = tern_tcp_parse(seg, len, src, dst, false, &h);
	FUZZ_CHECK(r == ref);
	if (r == 0) {
		check_parsed(seg, len, &h);
		same_opts(&h.opts, &want);
		check_emit(&h);
	}
	check_verify(seg, len, src, dst, ref);
	check_csum(seg, len, mode);
	check_flags_text(len ? seg[len - 1] : mode, mode % 40);
	free(seg);
	return 0;
}
