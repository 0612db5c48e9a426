/* TCP header view and emitter (RFC 9293 3.1) with the options tern runs:
 * MSS (RFC 9293 3.2), window scale and timestamps (RFC 7323), SACK
 * (RFC 2018). */
#include <tern/wire.h>

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WS = 3,
	OPT_SACK_PERM = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

enum {
	LEN_MSS = 4,
	LEN_WS = 3,
	LEN_SACK_PERM = 2,
	LEN_SACK_BASE = 2,
	LEN_SACK_BLOCK = 8,
	LEN_TS = 10,
};

#define TCP_OPTS_MAX (TERN_TCP_HDR_MAX - TERN_TCP_HDR_MIN)

/* RFC 2018 3: 2 + 8n bytes, n = 1..4 (the 40-byte option space). */
static int decode_sack(const uint8_t *p, size_t olen, tern_tcp_opts *o)
{
	size_t n = (olen - LEN_SACK_BASE) / LEN_SACK_BLOCK;

	if ((olen - LEN_SACK_BASE) % LEN_SACK_BLOCK != 0 || n < 1 ||
	    n > TERN_TCP_SACK_MAX)
		return TERN_DROP_TCP_OPT_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = p + LEN_SACK_BASE + i * LEN_SACK_BLOCK;
		o->sack[i].left = tern_load32(b);
		o->sack[i].right = tern_load32(b + 4);
	}
	o->sack_count = (uint8_t)n;
	o->present |= TERN_TCPOPT_SACK;
	return 0;
}

/* One option of olen bytes (kind and length included, olen >= 2, all of
 * it inside the header). A repeated option overrides the earlier one. */
static int decode_option(const uint8_t *p, size_t olen, tern_tcp_opts *o)
{
	switch (p[0]) {
	case OPT_MSS:
		if (olen != LEN_MSS)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->mss = tern_load16(p + 2);
		o->present |= TERN_TCPOPT_MSS;
		return 0;
	case OPT_WS:
		if (olen != LEN_WS)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->wscale = p[2];
		o->present |= TERN_TCPOPT_WSCALE;
		return 0;
	case OPT_SACK_PERM:
		if (olen != LEN_SACK_PERM)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->present |= TERN_TCPOPT_SACK_PERM;
		return 0;
	case OPT_SACK:
		return decode_sack(p, olen, o);
	case OPT_TS:
		if (olen != LEN_TS)
			return TERN_DROP_TCP_OPT_MALFORMED;
		o->ts_val = tern_load32(p + 2);
		o->ts_ecr = tern_load32(p + 6);
		o->present |= TERN_TCPOPT_TIMESTAMP;
		return 0;
	default:
		/* RFC 9293 3.2 (MUST-6): ignore options we do not implement,
		 * skipping them by their length. */
		return 0;
	}
}

/* Walks the option list in buf[20, hdr_len). RFC 9293 3.1/3.2: EOL ends
 * the list, NOP is one byte, every other kind has a length byte counting
 * the kind and length bytes too (MUST-68), so a length below 2 cannot
 * advance and is refused (MUST-7). */
static int parse_options(const uint8_t *buf, size_t hdr_len, tern_tcp_opts *o)
{
	size_t i = TERN_TCP_HDR_MIN;

	while (i < hdr_len) {
		uint8_t kind = buf[i];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (hdr_len - i < 2)
			return TERN_DROP_TCP_OPT_OVERFLOW;
		size_t olen = buf[i + 1];
		if (olen < 2)
			return TERN_DROP_TCP_OPT_LEN;
		if (olen > hdr_len - i)
			return TERN_DROP_TCP_OPT_OVERFLOW;
		int err = decode_option(buf + i, olen, o);
		if (err)
			return err;
		i += olen;
	}
	return 0;
}

/* RFC 9293 3.1: the checksum covers the pseudo-header (whose TCP length
 * field is 16 bits, so a longer segment cannot verify) and the segment. */
static bool checksum_ok(const uint8_t *buf, size_t len, uint32_t src,
			uint32_t dst)
{
	tern_csum c;

	if (len > UINT16_MAX)
		return false;
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, src, dst, TERN_IPPROTO_TCP, (uint16_t)len);
	tern_csum_add(&c, buf, len);
	return tern_csum_final(&c) == 0;
}

/* Structure first, checksum last, so each reason is reported as
 * documented in stats.h whatever the checksum. *out is written only on
 * success. Port zero is judged by the stack, not here. */
int tern_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
		   bool verify_csum, tern_tcp_hdr *out)
{
	tern_tcp_opts opts = {0};

	if (len < TERN_TCP_HDR_MIN)
		return TERN_DROP_TCP_TRUNCATED;
	size_t hdr_len = (size_t)(buf[12] >> 4) * 4;
	if (hdr_len < TERN_TCP_HDR_MIN)
		return TERN_DROP_TCP_DOFF_SHORT;
	if (hdr_len > len)
		return TERN_DROP_TCP_DOFF_LONG;
	int err = parse_options(buf, hdr_len, &opts);
	if (err)
		return err;
	if (verify_csum && !checksum_ok(buf, len, src, dst))
		return TERN_DROP_TCP_CHECKSUM;

	out->sport = tern_load16(buf);
	out->dport = tern_load16(buf + 2);
	out->seq = tern_load32(buf + 4);
	out->ack = tern_load32(buf + 8);
	out->hdr_len = (uint8_t)hdr_len;
	out->flags = buf[13];
	out->win = tern_load16(buf + 14);
	out->csum = tern_load16(buf + 16);
	out->urg = tern_load16(buf + 18);
	out->opts = opts;
	out->payload = buf + hdr_len;
	out->payload_len = len - hdr_len;
	return 0;
}

/* Option bytes emit writes, and how many SACK blocks fit. Every piece of
 * Linux's layout is NOP-padded to 4 bytes on its own, so the total needs
 * no further padding. SACK blocks come last and are cut to what fits in
 * the 40 bytes, as Linux's tcp_established_options() does. */
static size_t options_len(const tern_tcp_opts *o, unsigned *sacks)
{
	size_t n = 0;
	unsigned want = 0;

	if (o->present & TERN_TCPOPT_MSS)
		n += 4;
	if (o->present & TERN_TCPOPT_TIMESTAMP)
		n += 12; /* carries SACK-permitted in its padding, if set */
	else if (o->present & TERN_TCPOPT_SACK_PERM)
		n += 4;
	if (o->present & TERN_TCPOPT_WSCALE)
		n += 4;
	if (o->present & TERN_TCPOPT_SACK)
		want = o->sack_count < TERN_TCP_SACK_MAX ? o->sack_count
							 : TERN_TCP_SACK_MAX;
	/* n <= 20 here, so there is room for the SACK kind/length word */
	unsigned fit = (unsigned)((TCP_OPTS_MAX - n - 4) / LEN_SACK_BLOCK);
	*sacks = want < fit ? want : fit;
	if (*sacks)
		n += 4 + (size_t)*sacks * LEN_SACK_BLOCK;
	return n;
}

static uint8_t *put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* Linux's tcp_options_write() order: MSS; SACK-permitted + timestamps
 * sharing one 12-byte slot (else NOP NOP TS, or NOP NOP SACK-permitted);
 * NOP WS; NOP NOP SACK. Peers and captures then look like Linux's. */
static void write_options(uint8_t *p, const tern_tcp_opts *o, unsigned sacks)
{
	if (o->present & TERN_TCPOPT_MSS) {
		p = put4(p, OPT_MSS, LEN_MSS, 0, 0);
		tern_store16(p - 2, o->mss);
	}
	if (o->present & TERN_TCPOPT_TIMESTAMP) {
		if (o->present & TERN_TCPOPT_SACK_PERM)
			p = put4(p, OPT_SACK_PERM, LEN_SACK_PERM, OPT_TS,
				 LEN_TS);
		else
			p = put4(p, OPT_NOP, OPT_NOP, OPT_TS, LEN_TS);
		tern_store32(p, o->ts_val);
		tern_store32(p + 4, o->ts_ecr);
		p += 8;
	} else if (o->present & TERN_TCPOPT_SACK_PERM) {
		p = put4(p, OPT_NOP, OPT_NOP, OPT_SACK_PERM, LEN_SACK_PERM);
	}
	if (o->present & TERN_TCPOPT_WSCALE)
		p = put4(p, OPT_NOP, OPT_WS, LEN_WS, o->wscale);
	if (sacks == 0)
		return;
	p = put4(p, OPT_NOP, OPT_NOP, OPT_SACK,
		 (uint8_t)(LEN_SACK_BASE + sacks * LEN_SACK_BLOCK));
	for (unsigned i = 0; i < sacks; i++, p += LEN_SACK_BLOCK) {
		tern_store32(p, o->sack[i].left);
		tern_store32(p + 4, o->sack[i].right);
	}
}

size_t tern_tcp_hdr_len(const tern_tcp_opts *opts)
{
	unsigned sacks;

	return TERN_TCP_HDR_MIN + options_len(opts, &sacks);
}

size_t tern_tcp_emit(uint8_t *buf, size_t cap, const tern_tcp_hdr *h)
{
	unsigned sacks;
	size_t hdr_len = TERN_TCP_HDR_MIN + options_len(&h->opts, &sacks);

	if (cap < hdr_len)
		return 0;
	tern_store16(buf, h->sport);
	tern_store16(buf + 2, h->dport);
	tern_store32(buf + 4, h->seq);
	tern_store32(buf + 8, h->ack);
	buf[12] = (uint8_t)((hdr_len / 4) << 4); /* data offset, reserved 0 */
	buf[13] = h->flags;
	tern_store16(buf + 14, h->win);
	tern_store16(buf + 16, 0); /* filled in once the payload is known */
	tern_store16(buf + 18, h->urg);
	write_options(buf + TERN_TCP_HDR_MIN, &h->opts, sacks);
	return hdr_len;
}
