/* fuzz_ipv4: IPv4 input below TCP: the header parser (src/wire/ipv4.c),
 * ip_accept, the fragment reassembler fed a bounded sequence of
 * fragments (src/ip/reasm.c), the ICMP parser and echo reply
 * (src/ip/icmp.c), and the address text forms.
 *
 * Input: one configuration byte (the reassembler's bounds, its timeout,
 * allocation failures), then records, each a kind byte and its fields:
 *   RAW     u16 length, bytes: a frame as it came, to ip_accept and, if
 *           it is a fragment for us, to the reassembler;
 *   FRAG    key, offset, flags, length, time step: a well-formed fragment
 *           (IP options included at times) whose payload bytes follow a
 *           pattern of its key and offset, so a reassembled datagram can
 *           be checked byte by byte;
 *   EXPIRE  time step: the reassembler's timer;
 *   ICMP    u16 length, bytes: an ICMP message to ip_icmp_parse;
 *   TEXT    u32, 16 bytes: tern_addr_format/tern_addr_parse.
 * Checks: the parser's result and fields against a second parser written
 * here; the reassembler's memory and datagram bounds, its allocations
 * (sizes freed as allocated, nothing left after ip_reasm_free), and that
 * a reassembled datagram parses, carries its key and holds the pattern.
 */
#include "fuzz.h"

#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/reasm.h"

#define LOCAL_ADDR 0x0a000001u
#define RECORDS_MAX 256
#define TAINT_MAX 16

enum { K_RAW, K_FRAG, K_EXPIRE, K_ICMP, K_TEXT };
static const uint8_t kinds[8] = {K_RAW,	   K_FRAG, K_FRAG, K_FRAG,
				 K_EXPIRE, K_ICMP, K_TEXT, K_FRAG};

typedef struct ctx {
	fuzz_alloc mem;
	ip_reasm reasm;
	ip_reasm_config cfg;
	tern_time now;
	/* Keys (src, id, proto) that raw fragments touched: their datagrams
	 * may hold any bytes, not the pattern. */
	uint64_t taint[TAINT_MAX];
	int ntaint; /* > TAINT_MAX: every key */
} ctx;

static uint64_t key_of(const tern_ipv4_hdr *h)
{
	return (uint64_t)h->src << 24 | (uint64_t)h->id << 8 | h->proto;
}

static bool tainted(const ctx *c, const tern_ipv4_hdr *h)
{
	if (c->ntaint > TAINT_MAX)
		return true;
	for (int i = 0; i < c->ntaint; i++)
		if (c->taint[i] == key_of(h))
			return true;
	return false;
}

static void taint(ctx *c, const tern_ipv4_hdr *h)
{
	if (tainted(c, h))
		return;
	if (c->ntaint < TAINT_MAX)
		c->taint[c->ntaint] = key_of(h);
	c->ntaint++;
}

/* The payload byte at offset off of the datagram with this key. */
static uint8_t pattern(const tern_ipv4_hdr *h, uint32_t off)
{
	return (uint8_t)(off * 7u + (off >> 8) + h->src + h->id * 3u +
			 h->proto * 5u);
}

/* ---- the header parser against a second one ---- */

static int ref_ipv4(const uint8_t *b, size_t len)
{
	if (len < 20)
		return TERN_DROP_IP_TRUNCATED;
	if (b[0] >> 4 != 4)
		return TERN_DROP_IP_VERSION;
	size_t hl = (size_t)(b[0] & 15) * 4;
	if (hl < 20)
		return TERN_DROP_IP_IHL;
	if (hl > len)
		return TERN_DROP_IP_HDR_TRUNCATED;
	size_t total = tern_load16(b + 2);
	if (total > len || total < hl)
		return TERN_DROP_IP_TOTAL_LEN;
	if (fuzz_csum(0, b, hl) != 0)
		return TERN_DROP_IP_CHECKSUM;
	return 0;
}

static void check_ipv4_fields(const uint8_t *b, size_t len,
			      const tern_ipv4_hdr *h)
{
	uint16_t frag = tern_load16(b + 6);

	FUZZ_CHECK(h->hdr_len == (b[0] & 15) * 4 && h->hdr_len >= 20);
	FUZZ_CHECK(h->total_len == tern_load16(b + 2));
	FUZZ_CHECK(h->total_len <= len && h->hdr_len <= h->total_len);
	FUZZ_CHECK(h->payload == b + h->hdr_len);
	FUZZ_CHECK(h->payload_len == (size_t)h->total_len - h->hdr_len);
	FUZZ_CHECK(h->payload + h->payload_len <= b + len);
	FUZZ_CHECK(h->tos == b[1] && h->id == tern_load16(b + 4));
	FUZZ_CHECK(h->df == !!(frag & 0x4000) && h->mf == !!(frag & 0x2000));
	FUZZ_CHECK(h->frag_off == (frag & 0x1fff) * 8);
	FUZZ_CHECK(h->ttl == b[8] && h->proto == b[9]);
	FUZZ_CHECK(h->src == tern_load32(b + 12) &&
		   h->dst == tern_load32(b + 16));
}

/* tern_ipv4_parse and ip_accept on b; true with *h for a packet the
 * stack at LOCAL_ADDR takes. */
static bool parse_accept(const uint8_t *b, size_t len, tern_ipv4_hdr *h)
{
	int want = ref_ipv4(b, len);
	int r = tern_ipv4_parse(b, len, h);

	FUZZ_CHECK(r == want);
	if (r)
		return false;
	check_ipv4_fields(b, len, h);
	uint32_t s = h->src;
	int acc = TERN_DROP_IP_NOT_LOCAL;
	if (h->dst == LOCAL_ADDR)
		acc = (s == 0 || s == 0xffffffffu || s >> 28 >= 0xe ||
		       s >> 24 == 127)
			      ? TERN_DROP_IP_BAD_SRC
			      : 0;
	FUZZ_CHECK(ip_accept(b, len, LOCAL_ADDR, h) == acc);
	return acc == 0;
}

/* ---- the reassembler ---- */

static void check_reasm(const ctx *c)
{
	const ip_reasm *r = &c->reasm;
	size_t out = r->out ? r->out_len : 0;

	FUZZ_CHECK(ip_reasm_bytes(r) <= c->cfg.max_bytes);
	FUZZ_CHECK(r->count <= c->cfg.max_datagrams);
	FUZZ_CHECK(c->mem.outstanding ==
		   r->bytes + r->nbuckets * sizeof(*r->buckets) + out);
	tern_time next = ip_reasm_next_deadline(r);
	FUZZ_CHECK(next == TERN_TIME_NONE || next > c->now);
	FUZZ_CHECK((next == TERN_TIME_NONE) == (r->count == 0));
}

/* A whole datagram from the reassembler: a plain header with the key of
 * the fragment that completed it, and the pattern if no raw fragment
 * could have been part of it. */
static void check_whole(const ctx *c, const tern_ipv4_hdr *frag,
			const uint8_t *pkt, size_t len)
{
	tern_ipv4_hdr h;

	FUZZ_CHECK(pkt == c->reasm.out && len == c->reasm.out_len);
	FUZZ_CHECK(len >= TERN_IPV4_HDR_MIN &&
		   len <= TERN_IPV4_HDR_MIN + IP_REASM_MAX_PAYLOAD);
	FUZZ_CHECK(tern_ipv4_parse(pkt, len, &h) == 0);
	FUZZ_CHECK(h.hdr_len == 20 && h.total_len == len);
	FUZZ_CHECK(!h.mf && h.frag_off == 0);
	FUZZ_CHECK(h.src == frag->src && h.dst == frag->dst &&
		   h.id == frag->id && h.proto == frag->proto);
	if (tainted(c, &h))
		return;
	for (uint32_t i = 0; i < h.payload_len; i++)
		FUZZ_CHECK(h.payload[i] == pattern(&h, i));
}

static void reasm_input(ctx *c, const tern_ipv4_hdr *h)
{
	const uint8_t *pkt = NULL;
	size_t len = 0;
	int r = ip_reasm_input(&c->reasm, h, c->now, &pkt, &len);

	FUZZ_CHECK(r == 1 || r == 0 || r == -TERN_DROP_IP_FRAG_OVERLAP ||
		   r == -TERN_DROP_IP_FRAG_TOO_BIG ||
		   r == -TERN_DROP_IP_FRAG_NO_MEMORY);
	if (r == 1)
		check_whole(c, h, pkt, len);
	ip_reasm_take_evicted(&c->reasm);
	check_reasm(c);
}

/* ---- records ---- */

static void do_raw(ctx *c, fuzz_in *in)
{
	size_t len = fuzz_u16(in) % 1600;
	uint8_t *b = malloc(len ? len : 1);
	tern_ipv4_hdr h;

	FUZZ_CHECK(b != NULL);
	len = fuzz_bytes(in, b, len);
	if (parse_accept(b, len, &h) && (h.mf || h.frag_off)) {
		taint(c, &h);
		reasm_input(c, &h);
	}
	free(b);
}

/* A fragment from 3 sources, 4 ids and 2 protocols, so fragments meet;
 * flags: MF, DF, IP option words, and tos/ttl. */
static void do_frag(ctx *c, fuzz_in *in)
{
	static const uint32_t srcs[4] = {0x0a000002u, 0x0a000003u, 0xc0a80001u,
					 0x0a000002u};
	static const uint16_t ids[4] = {1, 2, 0x1234, 0xffff};
	uint8_t key = fuzz_u8(in), flags = fuzz_u8(in);
	uint16_t off = fuzz_u16(in) & 0x1fff;
	size_t plen = fuzz_u16(in) % 1480;
	size_t hl = 20 + 4 * ((flags >> 2) & 3);
	uint8_t b[1600] = {0};

	c->now += fuzz_step(fuzz_u8(in));
	b[0] = (uint8_t)(0x40 | hl / 4);
	b[1] = flags & 0xf0;
	tern_store16(b + 2, (uint16_t)(hl + plen));
	tern_store16(b + 4, ids[(key >> 2) & 3]);
	tern_store16(b + 6, (uint16_t)((flags & 1 ? 0x2000 : 0) |
				       (flags & 2 ? 0x4000 : 0) | off));
	b[8] = (uint8_t)(flags | 1);
	b[9] = key & 0x10 ? TERN_IPPROTO_ICMP : TERN_IPPROTO_TCP;
	tern_store32(b + 12, srcs[key & 3]);
	tern_store32(b + 16, LOCAL_ADDR);
	memset(b + 20, 1, hl - 20); /* NOP options: skipped, never read */
	tern_store16(b + 10, fuzz_csum(0, b, hl));
	tern_ipv4_hdr h;
	FUZZ_CHECK(parse_accept(b, hl + plen, &h));
	for (size_t i = 0; i < plen; i++)
		b[hl + i] = pattern(&h, (uint32_t)(off * 8 + i));
	if (h.mf || h.frag_off)
		reasm_input(c, &h);
}

static void do_expire(ctx *c, fuzz_in *in)
{
	c->now += fuzz_step(fuzz_u8(in));
	ip_reasm_expire(&c->reasm, c->now);
	FUZZ_CHECK(c->reasm.out == NULL);
	check_reasm(c);
}

static void check_icmp(const uint8_t *b, size_t len)
{
	ip_icmp m;
	uint8_t reply[1600];
	int r = ip_icmp_parse(b, len, &m);

	if (r) {
		FUZZ_CHECK(r == TERN_DROP_ICMP_TRUNCATED ||
			   r == TERN_DROP_ICMP_CHECKSUM);
		return;
	}
	FUZZ_CHECK(len >= 8 && fuzz_csum(0, b, len) == 0);
	FUZZ_CHECK(m.body == b + 8 && m.body_len == len - 8);
	if (m.is_error) {
		FUZZ_CHECK(m.inner.hdr_len >= 20 && m.inner.payload_len >= 8);
		FUZZ_CHECK(m.inner.payload == m.body + m.inner.hdr_len);
		FUZZ_CHECK(m.inner.payload + m.inner.payload_len == b + len);
	}
	size_t n = ip_icmp_echo_reply(reply, sizeof(reply), &m);
	FUZZ_CHECK(n == (m.type == 8 ? len : 0));
	if (n)
		FUZZ_CHECK(fuzz_csum(0, reply, n) == 0 && reply[0] == 0 &&
			   !memcmp(reply + 4, b + 4, n - 4));
}

static void do_icmp(fuzz_in *in)
{
	size_t len = fuzz_u16(in) % 1500;
	uint8_t *b = malloc(len ? len : 1);

	FUZZ_CHECK(b != NULL);
	len = fuzz_bytes(in, b, len);
	check_icmp(b, len);
	free(b);
}

static void do_text(fuzz_in *in)
{
	uint32_t a = fuzz_u32(in), back = 0;
	char text[17] = {0}, buf[16];

	fuzz_bytes(in, (uint8_t *)text, 16);
	tern_addr_format(a, buf, sizeof(buf));
	FUZZ_CHECK(tern_addr_parse(buf, &back) == 0 && back == a);
	if (tern_addr_parse(text, &back) == 0) {
		tern_addr_format(back, buf, sizeof(buf));
		uint32_t again;
		FUZZ_CHECK(tern_addr_parse(buf, &again) == 0 && again == back);
	}
}

static void configure(ctx *c, uint8_t b)
{
	static const size_t bytes[4] = {0, 512, 4096, 65536};
	static const unsigned dgrams[4] = {0, 1, 2, 4};
	static const unsigned fails[8] = {0, 0, 0, 0, 3, 5, 9, 17};

	c->cfg = (ip_reasm_config){
		.max_bytes = bytes[b & 3],
		.max_datagrams = dgrams[(b >> 2) & 3],
		.timeout = (b & 0x10) ? TERN_SEC : 0,
	};
	c->mem.fail_every = fails[b >> 5];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	ctx c = {.now = TERN_SEC};
	tern_allocator a = fuzz_allocator(&c.mem);

	configure(&c, fuzz_u8(&in));
	FUZZ_CHECK(ip_reasm_init(&c.reasm, &a, &c.cfg) == 0);
	c.cfg = c.reasm.cfg; /* with the defaults filled in */
	c.mem.armed = true;
	for (int n = 0; n < RECORDS_MAX && in.left > 0; n++) {
		switch (kinds[fuzz_u8(&in) & 7]) {
		case K_RAW:
			do_raw(&c, &in);
			break;
		case K_FRAG:
			do_frag(&c, &in);
			break;
		case K_EXPIRE:
			do_expire(&c, &in);
			break;
		case K_ICMP:
			do_icmp(&in);
			break;
		case K_TEXT:
			do_text(&in);
			break;
		}
	}
	ip_reasm_free(&c.reasm);
	FUZZ_CHECK(c.mem.outstanding == 0 && c.mem.blocks == 0);
	return 0;
}
