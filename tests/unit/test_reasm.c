/* IPv4 reassembly (src/ip/reasm.h): orders, duplicates, every kind of
 * overlap and inconsistency discarding the datagram and its later
 * fragments, size, time and memory bounds, the rebuilt header, and seeded
 * random runs checking byte-exact reassembly and exact memory accounting
 * (each test ends with every allocation returned). */
#include <stdlib.h>
#include <string.h>

#include "ip/reasm.h"
#include "testutil.h"

#define OVERLAP (-TERN_DROP_IP_FRAG_OVERLAP)
#define TOO_BIG (-TERN_DROP_IP_FRAG_TOO_BIG)
#define NO_MEMORY (-TERN_DROP_IP_FRAG_NO_MEMORY)

/* splitmix64: a fixed seed gives the same run everywhere. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

/* An allocator that checks every free against its allocation's size,
 * counts what is live, and can refuse: after `fail_after` more successes,
 * or at random one time in fail_one_in. */
typedef struct talloc {
	size_t live_bytes, live_blocks;
	long fail_after; /* < 0: never */
	uint32_t fail_one_in;
	uint64_t seed;
} talloc;

typedef union {
	size_t size;
	max_align_t align;
} prefix;

static void *t_alloc(void *ctx, size_t size)
{
	talloc *a = ctx;

	if (a->fail_after == 0)
		return NULL;
	if (a->fail_after > 0)
		a->fail_after--;
	if (a->fail_one_in && below(&a->seed, a->fail_one_in) == 0)
		return NULL;
	prefix *p = malloc(sizeof(prefix) + size);
	assert_non_null(p);
	p->size = size;
	a->live_bytes += size;
	a->live_blocks++;
	return p + 1;
}

static void t_free(void *ctx, void *ptr, size_t size)
{
	talloc *a = ctx;
	prefix *p = (prefix *)ptr - 1;

	assert_int_equal(p->size, size);
	a->live_bytes -= size;
	a->live_blocks--;
	free(p);
}

/* One datagram under test: its key, header fields and payload. */
typedef struct dgram {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto, tos, ttl;
	uint8_t payload[IP_REASM_MAX_PAYLOAD];
} dgram;

typedef struct fx {
	talloc a;
	tern_allocator alloc;
	ip_reasm r;
	dgram g;
	uint8_t wire[65536];
	const uint8_t *pkt;
	size_t len;
} fx;

static void dgram_init(dgram *g, uint16_t id)
{
	g->src = 0xc0a80102;
	g->dst = 0x0a000001;
	g->id = id;
	g->proto = TERN_IPPROTO_TCP;
	g->tos = 0x10;
	g->ttl = 61;
	for (size_t i = 0; i < sizeof(g->payload); i++)
		g->payload[i] = (uint8_t)(i * 7 + id + (i >> 8));
}

static int setup_with(void **state, const ip_reasm_config *cfg)
{
	fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a.fail_after = -1;
	f->a.seed = 7;
	f->alloc = (tern_allocator){t_alloc, t_free, &f->a};
	assert_int_equal(ip_reasm_init(&f->r, &f->alloc, cfg), 0);
	dgram_init(&f->g, 0x4242);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

/* Everything allocated is returned, and while running the reassembler's
 * count is exactly what the allocator holds for partial datagrams. */
static void check_accounting(const fx *f)
{
	size_t fixed = f->r.nbuckets * sizeof(*f->r.buckets) + f->r.out_len;

	assert_int_equal(f->a.live_bytes, ip_reasm_bytes(&f->r) + fixed);
	assert_true(ip_reasm_bytes(&f->r) <= f->r.cfg.max_bytes);
}

static int teardown(void **state)
{
	fx *f = *state;

	check_accounting(f);
	ip_reasm_free(&f->r);
	assert_int_equal(f->a.live_bytes, 0);
	assert_int_equal(f->a.live_blocks, 0);
	free(f);
	return 0;
}

/* Writes fragment [off, off + len) of g as it would arrive (offset in
 * 8-byte units, MF, checksum) and parses it, as ip_accept would. */
static void make_frag(uint8_t *wire, const dgram *g, uint32_t off, size_t len,
		      bool mf, tern_ipv4_hdr *h)
{
	tern_ipv4_hdr t = {.tos = g->tos,
			   .id = g->id,
			   .ttl = g->ttl,
			   .proto = g->proto,
			   .src = g->src,
			   .dst = g->dst};

	assert_int_equal(tern_ipv4_emit(wire, 20, &t, len), 20);
	tern_store16(wire + 6, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
	tern_store16(wire + 10, 0);
	tern_store16(wire + 10, tern_inet_checksum(wire, 20));
	if (off < sizeof(g->payload))
		memcpy(wire + 20, g->payload + off,
		       len < sizeof(g->payload) - off
			       ? len
			       : sizeof(g->payload) - off);
	assert_int_equal(tern_ipv4_parse(wire, 20 + len, h), 0);
}

static int feed_g(fx *f, const dgram *g, uint32_t off, size_t len, bool mf,
		  tern_time now)
{
	tern_ipv4_hdr h;

	make_frag(f->wire, g, off, len, mf, &h);
	int res = ip_reasm_input(&f->r, &h, now, &f->pkt, &f->len);
	check_accounting(f);
	return res;
}

static int feed(fx *f, uint32_t off, size_t len, bool mf)
{
	return feed_g(f, &f->g, off, len, mf, TERN_SEC);
}

/* The datagram returned is g whole: a valid 20-byte header carrying the
 * first fragment's fields, no fragment bits, then the payload. */
static void check_whole(const uint8_t *pkt, size_t len, const dgram *g,
			size_t total)
{
	tern_ipv4_hdr h;

	assert_int_equal(len, 20 + total);
	assert_int_equal(tern_ipv4_parse(pkt, len, &h), 0);
	assert_int_equal(tern_inet_checksum(pkt, 20), 0);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.total_len, 20 + total);
	assert_false(h.mf);
	assert_false(h.df);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.id, g->id);
	assert_int_equal(h.src, g->src);
	assert_int_equal(h.dst, g->dst);
	assert_int_equal(h.proto, g->proto);
	assert_int_equal(h.tos, g->tos);
	assert_int_equal(h.ttl, g->ttl);
	assert_int_equal(h.payload_len, total);
	assert_memory_equal(h.payload, g->payload, total);
}

static void test_in_order(void **state)
{
	fx *f = *state;

	assert_int_equal(feed(f, 0, 1480, true), 0);
	assert_int_equal(feed(f, 1480, 1480, true), 0);
	assert_true(ip_reasm_bytes(&f->r) > 2960);
	assert_int_equal(feed(f, 2960, 40, false), 1);
	check_whole(f->pkt, f->len, &f->g, 3000);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r), TERN_TIME_NONE);
}

static void test_out_of_order(void **state)
{
	fx *f = *state;

	assert_int_equal(feed(f, 1480, 1480, true), 0);
	assert_int_equal(feed(f, 2960, 41, false), 0);
	assert_int_equal(feed(f, 0, 1480, true), 1);
	check_whole(f->pkt, f->len, &f->g, 3001);
}

static void test_reversed(void **state)
{
	fx *f = *state;

	assert_int_equal(feed(f, 9 * 64, 5, false), 0);
	for (int i = 8; i > 0; i--)
		assert_int_equal(feed(f, (uint32_t)i * 64, 64, true), 0);
	assert_int_equal(feed(f, 0, 64, true), 1);
	check_whole(f->pkt, f->len, &f->g, 9 * 64 + 5);
}

/* An exact duplicate changes nothing, whatever it carries: the first copy
 * is the one delivered. */
static void test_duplicates_ignored(void **state)
{
	fx *f = *state;
	tern_ipv4_hdr h;

	assert_int_equal(feed(f, 0, 800, true), 0);
	size_t held = ip_reasm_bytes(&f->r);
	assert_int_equal(feed(f, 0, 800, true), 0);
	assert_int_equal(ip_reasm_bytes(&f->r), held);
	make_frag(f->wire, &f->g, 0, 800, true, &h);
	f->wire[20] ^= 0xff; /* same place, other bytes and header */
	h.ttl = 1;
	h.tos = 0;
	assert_int_equal(ip_reasm_input(&f->r, &h, TERN_SEC, &f->pkt, &f->len),
			 0);
	assert_int_equal(ip_reasm_bytes(&f->r), held);
	assert_int_equal(feed(f, 1600, 100, false), 0);
	held = ip_reasm_bytes(&f->r);
	assert_int_equal(feed(f, 1600, 100, false), 0);
	assert_int_equal(ip_reasm_bytes(&f->r), held);
	assert_int_equal(feed(f, 800, 800, true), 1);
	check_whole(f->pkt, f->len, &f->g, 1700);
}

/* Each overlap kind, held fragment first then the newcomer. */
static const struct overlap_case {
	const char *name;
	uint32_t held_off, held_len;
	bool held_mf;
	uint32_t new_off, new_len;
	bool new_mf;
} overlap_cases[] = {
	{"partial front", 64, 64, true, 32, 64, true},
	{"partial back", 64, 64, true, 96, 64, true},
	{"new contains held", 64, 64, true, 32, 128, true},
	{"held contains new", 32, 128, true, 64, 64, true},
	{"same offset longer", 64, 64, true, 64, 128, true},
	{"same offset shorter", 64, 128, true, 64, 64, true},
	{"same start as last", 64, 10, false, 64, 8, true},
	{"one byte into last", 64, 10, false, 56, 16, true},
};

/* The whole datagram goes, and its later fragments with it, even ones
 * that would have fitted, until its timeout; other datagrams are
 * untouched. */
static void test_overlap_discards_datagram(void **state)
{
	fx *f = *state;
	dgram *other = malloc(sizeof(*other));

	dgram_init(other, 7);
	for (size_t i = 0; i < sizeof(overlap_cases) / sizeof(*overlap_cases);
	     i++) {
		const struct overlap_case *c = &overlap_cases[i];
		f->g.id = (uint16_t)(100 + i);
		print_message("%s\n", c->name);
		assert_int_equal(feed_g(f, other, 0, 64, true, TERN_SEC), 0);
		assert_int_equal(feed(f, 0, 8, true), 0);
		assert_int_equal(feed(f, c->held_off, c->held_len, c->held_mf),
				 0);
		assert_int_equal(feed(f, c->new_off, c->new_len, c->new_mf),
				 OVERLAP);
		assert_int_equal(feed(f, 8, 8, true), OVERLAP);
		assert_int_equal(feed(f, 2000, 8, false), OVERLAP);
		assert_int_equal(feed(f, 0, 8, true), OVERLAP);
		/* other still completes */
		assert_int_equal(feed_g(f, other, 64, 3, false, TERN_SEC), 1);
		check_whole(f->pkt, f->len, other, 67);
	}
	free(other);
	/* only the memory of the discarded ones is left, and it goes at
	 * their timeout without counting as timeouts */
	assert_true(ip_reasm_bytes(&f->r) > 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r),
			 TERN_SEC + IP_REASM_DEFAULT_TIMEOUT);
	assert_int_equal(ip_reasm_expire(&f->r, 31 * TERN_SEC), 0);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 0);
	/* the key is free again */
	assert_int_equal(feed_g(f, &f->g, 0, 8, true, 31 * TERN_SEC), 0);
}

/* Fragments that cannot belong to one datagram (Linux ip_frag_queue's
 * "discard_qp" cases). */
static void test_inconsistent_ends(void **state)
{
	fx *f = *state;

	f->g.id = 1; /* two last fragments, different ends */
	assert_int_equal(feed(f, 64, 10, false), 0);
	assert_int_equal(feed(f, 64, 11, false), OVERLAP);
	assert_int_equal(feed(f, 0, 64, true), OVERLAP);
	f->g.id = 2; /* data past the end */
	assert_int_equal(feed(f, 64, 10, false), 0);
	assert_int_equal(feed(f, 128, 8, true), OVERLAP);
	f->g.id = 3; /* a last fragment ending before data held */
	assert_int_equal(feed(f, 128, 8, true), 0);
	assert_int_equal(feed(f, 64, 8, false), OVERLAP);
	f->g.id = 4; /* an empty fragment, alone */
	assert_int_equal(feed(f, 64, 0, false), OVERLAP);
	assert_int_equal(feed(f, 0, 64, true), OVERLAP);
	f->g.id = 5; /* an empty fragment in a datagram */
	assert_int_equal(feed(f, 0, 64, true), 0);
	assert_int_equal(feed(f, 64, 0, true), OVERLAP);
	f->g.id = 6; /* a last fragment duplicating a non-last one's place */
	assert_int_equal(feed(f, 0, 64, true), 0);
	assert_int_equal(feed(f, 64, 64, true), 0);
	assert_int_equal(feed(f, 0, 64, false), OVERLAP);
}

/* RFC 791 3.2: non-last fragments carry multiples of 8; a longer one is
 * cut back to the boundary (Linux), and one under 8 bytes is empty. */
static void test_unaligned_nonlast_trimmed(void **state)
{
	fx *f = *state;

	assert_int_equal(feed(f, 0, 1001, true), 0);
	assert_int_equal(feed(f, 1000, 24, false), 1);
	check_whole(f->pkt, f->len, &f->g, 1024);
	f->g.id++;
	assert_int_equal(feed(f, 0, 7, true), OVERLAP);
}

static void test_too_big(void **state)
{
	fx *f = *state;

	/* the largest datagram passes: 20 + 65515 = 65535 */
	assert_int_equal(feed(f, 0, 32000, true), 0);
	assert_int_equal(feed(f, 64000, 1515, false), 0);
	assert_int_equal(feed(f, 32000, 32000, true), 1);
	check_whole(f->pkt, f->len, &f->g, IP_REASM_MAX_PAYLOAD);
	f->g.id = 1; /* one byte more */
	assert_int_equal(feed(f, 0, 32000, true), 0);
	assert_int_equal(feed(f, 64000, 1516, false), TOO_BIG);
	assert_int_equal(feed(f, 32000, 32000, true), TOO_BIG);
	f->g.id = 2; /* the highest offset */
	assert_int_equal(feed(f, 8191 * 8, 8, false), TOO_BIG);
	assert_int_equal(feed(f, 0, 8, true), TOO_BIG);
	f->g.id = 3; /* a non-last fragment ending past the bound */
	assert_int_equal(feed(f, 65512, 8, true), TOO_BIG);
}

/* The deadline is the first fragment's arrival plus the timeout, and the
 * datagram goes exactly then, whichever call sees it first. */
static void test_timeout_exact(void **state)
{
	fx *f = *state;
	tern_time t0 = 5 * TERN_SEC, dl = t0 + IP_REASM_DEFAULT_TIMEOUT;

	assert_int_equal(ip_reasm_next_deadline(&f->r), TERN_TIME_NONE);
	assert_int_equal(feed_g(f, &f->g, 0, 64, true, t0), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r), dl);
	assert_int_equal(feed_g(f, &f->g, 64, 64, true, dl - 1), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r), dl);
	assert_int_equal(ip_reasm_expire(&f->r, dl - 1), 0);
	assert_int_equal(ip_reasm_expire(&f->r, dl), 1);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r), TERN_TIME_NONE);
	assert_int_equal(ip_reasm_expire(&f->r, dl + TERN_SEC), 0);

	/* input at the deadline drops the stale datagram first: the last
	 * fragment starts a new one, and the timeout is still reported */
	t0 = dl + TERN_SEC;
	dl = t0 + IP_REASM_DEFAULT_TIMEOUT;
	assert_int_equal(feed_g(f, &f->g, 0, 64, true, t0), 0);
	assert_int_equal(feed_g(f, &f->g, 64, 8, false, dl), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r),
			 dl + IP_REASM_DEFAULT_TIMEOUT);
	assert_int_equal(ip_reasm_expire(&f->r, dl), 1);
	assert_int_equal(ip_reasm_expire(&f->r, dl + 29 * TERN_SEC), 0);
	assert_true(ip_reasm_bytes(&f->r) > 0);
}

/* Datagrams are dropped in order of their first fragment's arrival. */
static void test_timeout_order(void **state)
{
	fx *f = *state;

	for (uint16_t i = 0; i < 5; i++) {
		f->g.id = i;
		assert_int_equal(feed_g(f, &f->g, 0, 8, true, i * TERN_SEC), 0);
	}
	f->g.id = 0; /* adding to the oldest does not make it younger */
	assert_int_equal(feed_g(f, &f->g, 8, 8, true, 4 * TERN_SEC), 0);
	assert_int_equal(ip_reasm_expire(&f->r, 31 * TERN_SEC), 2);
	assert_int_equal(ip_reasm_next_deadline(&f->r), 32 * TERN_SEC);
	assert_int_equal(ip_reasm_expire(&f->r, 34 * TERN_SEC), 3);
}

/* Bytes of one datagram holding one fragment of len bytes. */
static size_t cost_of(uint32_t len)
{
	fx *f;

	setup((void **)&f);
	assert_int_equal(feed(f, 0, len, true), 0);
	size_t c = ip_reasm_bytes(&f->r);
	teardown((void **)&f);
	return c;
}

/* At the bound the oldest datagrams make room, counted as evicted; a
 * datagram's own fragments never evict it; a fragment too big for the
 * whole bound is refused alone. */
static void test_memory_bound_evicts_oldest(void **state)
{
	size_t c = cost_of(1000);
	ip_reasm_config cfg = {.max_bytes = 3 * c + c / 2};
	fx *f;

	(void)state;
	setup_with((void **)&f, &cfg);
	for (uint16_t id = 1; id <= 3; id++) {
		f->g.id = id;
		assert_int_equal(feed(f, 0, 1000, true), 0);
	}
	assert_int_equal(ip_reasm_bytes(&f->r), 3 * c);
	f->g.id = 4; /* evicts 1 */
	assert_int_equal(feed(f, 0, 1000, true), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 1);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 0);
	assert_int_equal(ip_reasm_bytes(&f->r), 3 * c);
	f->g.id = 1; /* comes back as a new datagram: evicts 2 */
	assert_int_equal(feed(f, 0, 1000, true), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 1);
	f->g.id = 3; /* the oldest grows: 4 goes, not 3 */
	assert_int_equal(feed(f, 1000, 1000, true), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 1);
	assert_int_equal(feed(f, 2000, 8, false), 1);
	check_whole(f->pkt, f->len, &f->g, 2008);
	f->g.id = 5; /* bigger than the whole bound: refused, no eviction */
	assert_int_equal(feed(f, 0, 4 * 1000, true), NO_MEMORY);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 0);
	assert_true(ip_reasm_bytes(&f->r) > 0);
	teardown((void **)&f);
}

/* A datagram alone at the bound cannot evict itself: its fragment goes. */
static void test_memory_bound_single_datagram(void **state)
{
	size_t c = cost_of(1000);
	ip_reasm_config cfg = {.max_bytes = c + c / 2};
	fx *f;

	(void)state;
	setup_with((void **)&f, &cfg);
	assert_int_equal(feed(f, 0, 1000, true), 0);
	assert_int_equal(feed(f, 1000, 1000, true), NO_MEMORY);
	assert_int_equal(ip_reasm_bytes(&f->r), c);
	assert_int_equal(feed(f, 1000, 8, false), 1);
	check_whole(f->pkt, f->len, &f->g, 1008);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 0);
	teardown((void **)&f);
}

static void test_max_datagrams(void **state)
{
	ip_reasm_config cfg = {.max_datagrams = 2};
	fx *f;

	(void)state;
	setup_with((void **)&f, &cfg);
	for (uint16_t id = 1; id <= 4; id++) {
		f->g.id = id;
		assert_int_equal(feed(f, 0, 8, true), 0);
	}
	assert_int_equal(f->r.count, 2);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 2);
	f->g.id = 3;
	assert_int_equal(feed(f, 8, 8, false), 1);
	f->g.id = 1; /* evicted: starts over */
	assert_int_equal(feed(f, 8, 8, false), 0);
	/* a remembered discard takes a slot too, and its eviction is not
	 * a new loss */
	f->g.id = 9;
	assert_int_equal(feed(f, 8191 * 8, 8, false), TOO_BIG);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 1); /* 4 went */
	f->g.id = 10;
	assert_int_equal(feed(f, 0, 8, true), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 1); /* 1 went */
	f->g.id = 11;
	assert_int_equal(feed(f, 0, 8, true), 0);
	assert_int_equal(ip_reasm_take_evicted(&f->r), 0); /* 9 went */
	teardown((void **)&f);
}

/* Every allocation failure is a clean NO_MEMORY with nothing leaked, and
 * the reassembler works on once memory is back. */
static void test_allocation_failures(void **state)
{
	fx *f = *state;

	f->a.fail_after = 0; /* the datagram record */
	assert_int_equal(feed(f, 0, 64, true), NO_MEMORY);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	f->a.fail_after = 1; /* its first fragment */
	assert_int_equal(feed(f, 0, 64, true), NO_MEMORY);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	assert_int_equal(ip_reasm_next_deadline(&f->r), TERN_TIME_NONE);
	f->a.fail_after = -1;
	assert_int_equal(feed(f, 0, 64, true), 0);
	f->a.fail_after = 0; /* a later fragment: the datagram stays */
	assert_int_equal(feed(f, 64, 64, true), NO_MEMORY);
	f->a.fail_after = 1; /* the buffer for the whole: all of it goes */
	assert_int_equal(feed(f, 64, 8, false), NO_MEMORY);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
	f->a.fail_after = -1;
	assert_int_equal(feed(f, 0, 64, true), 0);
	assert_int_equal(feed(f, 64, 8, false), 1);
	check_whole(f->pkt, f->len, &f->g, 72);

	ip_reasm r;
	f->a.fail_after = 0;
	assert_int_equal(ip_reasm_init(&r, &f->alloc, NULL), TERN_ERR_NOMEM);
	f->a.fail_after = -1;
	assert_int_equal(ip_reasm_init(&r, NULL, NULL), TERN_ERR_INVAL);
}

/* Datagrams that differ in one key field only are kept apart. */
static void test_interleaved_keys(void **state)
{
	fx *f = *state;
	dgram *g = malloc(4 * sizeof(*g));

	for (int i = 0; i < 4; i++) {
		dgram_init(&g[i], (uint16_t)(0x1111 + 0x100 * i)); /* data */
		g[i].id = 0x1111;
	}
	g[1].id = 0x1112;
	g[2].src = 0xc0a80103;
	g[3].proto = 17;
	for (int i = 0; i < 4; i++)
		assert_int_equal(feed_g(f, &g[i], 512, 512, true, 0), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			feed_g(f, &g[i], 1024, (size_t)(100 + i), false, 0), 0);
	for (int i = 3; i >= 0; i--) {
		assert_int_equal(feed_g(f, &g[i], 0, 512, true, 0), 1);
		check_whole(f->pkt, f->len, &g[i], 1124 + (size_t)i);
	}
	free(g);
}

/* RFC 791 3.2: the header comes from the offset-0 fragment, wherever it
 * arrives; its options are not kept, nor DF or MF. */
static void test_rebuilt_header_from_first(void **state)
{
	fx *f = *state;
	tern_ipv4_hdr h;
	uint8_t *w = f->wire;

	assert_int_equal(feed(f, 64, 16, false), 0);
	/* first fragment with a 4-byte option (IHL 6), DF on, other ttl */
	w[0] = 0x46;
	w[1] = f->g.tos;
	tern_store16(w + 2, 24 + 64);
	tern_store16(w + 4, f->g.id);
	tern_store16(w + 6, 0x4000 | 0x2000);
	w[8] = f->g.ttl;
	w[9] = f->g.proto;
	tern_store32(w + 12, f->g.src);
	tern_store32(w + 16, f->g.dst);
	memcpy(w + 20, "\x94\x04\x00\x00", 4);
	memcpy(w + 24, f->g.payload, 64);
	tern_store16(w + 10, 0);
	tern_store16(w + 10, tern_inet_checksum(w, 24));
	assert_int_equal(tern_ipv4_parse(w, 24 + 64, &h), 0);
	assert_int_equal(ip_reasm_input(&f->r, &h, TERN_SEC, &f->pkt, &f->len),
			 1);
	check_whole(f->pkt, f->len, &f->g, 80);
}

/* Not a fragment at all: a datagram of one piece, handed straight back. */
static void test_single_piece(void **state)
{
	fx *f = *state;

	assert_int_equal(feed(f, 0, 33, false), 1);
	check_whole(f->pkt, f->len, &f->g, 33);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
}

/* ---- seeded random runs ---- */

typedef struct piece {
	int dg;
	uint32_t off, len;
	bool mf;
	int index; /* which distinct fragment of its datagram */
} piece;

/* Cuts a payload of total bytes into n fragments at 8-byte boundaries. */
static int cut(uint64_t *s, uint32_t total, int dg, piece *out, int max)
{
	int n = 0;
	uint32_t off = 0;

	while (off < total && n < max - 1) {
		uint32_t step = 8 * (1 + below(s, 1 + total / 8 / 3));
		if (off + step >= total)
			break;
		out[n] = (piece){dg, off, step, true, n};
		n++;
		off += step;
	}
	out[n] = (piece){dg, off, total - off, false, n};
	return n + 1;
}

static void shuffle(uint64_t *s, piece *p, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)below(s, (uint32_t)i + 1);
		piece t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
}

#define RAND_DGRAMS 4
#define RAND_PIECES 64

/* Up to four datagrams at once, cut at random, fragments and exact
 * duplicates shuffled together: each comes out once, byte for byte, when
 * its last missing fragment arrives, and nothing is left behind. */
static void random_round(fx *f, dgram *g, uint64_t *s)
{
	piece seq[RAND_DGRAMS * RAND_PIECES * 2];
	uint32_t total[RAND_DGRAMS];
	int nfrag[RAND_DGRAMS], nseen[RAND_DGRAMS] = {0}, n = 0;
	bool seen[RAND_DGRAMS][RAND_PIECES] = {{false}}, done[RAND_DGRAMS];
	int k = 1 + (int)below(s, RAND_DGRAMS);

	for (int d = 0; d < k; d++) {
		g[d].id = (uint16_t)rnd(s);
		g[d].src = 0x0a000000 + (uint32_t)d;
		total[d] = below(s, 8) == 0 ? 1 + below(s, IP_REASM_MAX_PAYLOAD)
					    : 1 + below(s, 3000);
		nfrag[d] = cut(s, total[d], d, seq + n, RAND_PIECES);
		n += nfrag[d];
		done[d] = false;
	}
	for (int i = 0, m = n; i < m; i++)
		if (below(s, 4) == 0)
			seq[n++] = seq[i];
	shuffle(s, seq, n);
	for (int i = 0; i < n; i++) {
		const piece *p = &seq[i];
		if (done[p->dg])
			continue;
		int res = feed_g(f, &g[p->dg], p->off, p->len, p->mf, 0);
		if (!seen[p->dg][p->index]) {
			seen[p->dg][p->index] = true;
			nseen[p->dg]++;
		}
		done[p->dg] = nseen[p->dg] == nfrag[p->dg];
		assert_int_equal(res, done[p->dg] ? 1 : 0);
		if (res == 1)
			check_whole(f->pkt, f->len, &g[p->dg], total[p->dg]);
	}
	for (int d = 0; d < k; d++)
		assert_true(done[d]);
	assert_int_equal(ip_reasm_bytes(&f->r), 0);
}

static void test_random_reassembly(void **state)
{
	fx *f = *state;
	dgram *g = malloc(RAND_DGRAMS * sizeof(*g));
	uint64_t s = 0x7465726e; /* "tern" */

	for (int d = 0; d < RAND_DGRAMS; d++)
		dgram_init(&g[d], (uint16_t)(d * 31));
	for (int round = 0; round < 400; round++)
		random_round(f, g, &s);
	free(g);
}

/* Random fragments of a few colliding keys, with time passing, a tight
 * bound and allocations failing now and then: every result is one of the
 * documented ones, memory stays within the bound and is accounted for
 * exactly, and everything is freed at the end (ASan checks the rest). */
static void test_fuzz_random_fragments(void **state)
{
	ip_reasm_config cfg = {.max_bytes = 64 * 1024,
			       .timeout = TERN_SEC,
			       .max_datagrams = 8};
	fx *f;
	uint64_t s = 12345;
	tern_time now = 0;
	int completed = 0;

	(void)state;
	setup_with((void **)&f, &cfg);
	f->a.fail_one_in = 200;
	for (int i = 0; i < 30000; i++) {
		f->g.id = (uint16_t)below(&s, 6);
		f->g.src = 0x0a000001 + below(&s, 2);
		uint32_t off =
			8 * (below(&s, 4) ? below(&s, 32) : below(&s, 8192));
		size_t len = below(&s, 16) ? below(&s, 300)
					   : below(&s, IP_REASM_MAX_PAYLOAD);
		bool mf = below(&s, 3) != 0;
		now += below(&s, 20) * TERN_MSEC;
		int res = feed_g(f, &f->g, off, len, mf, now);
		assert_true(res == 0 || res == 1 || res == OVERLAP ||
			    res == TOO_BIG || res == NO_MEMORY);
		if (res == 1) {
			tern_ipv4_hdr h;
			assert_int_equal(tern_ipv4_parse(f->pkt, f->len, &h),
					 0);
			completed++;
		}
		if (below(&s, 50) == 0)
			ip_reasm_expire(&f->r, now);
		assert_true(ip_reasm_next_deadline(&f->r) == TERN_TIME_NONE ||
			    ip_reasm_next_deadline(&f->r) > now);
	}
	assert_true(completed > 0);
	teardown((void **)&f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_in_order),
		T(test_out_of_order),
		T(test_reversed),
		T(test_duplicates_ignored),
		T(test_overlap_discards_datagram),
		T(test_inconsistent_ends),
		T(test_unaligned_nonlast_trimmed),
		T(test_too_big),
		T(test_timeout_exact),
		T(test_timeout_order),
		cmocka_unit_test(test_memory_bound_evicts_oldest),
		cmocka_unit_test(test_memory_bound_single_datagram),
		cmocka_unit_test(test_max_datagrams),
		T(test_allocation_failures),
		T(test_interleaved_keys),
		T(test_rebuilt_header_from_first),
		T(test_single_piece),
		T(test_random_reassembly),
		cmocka_unit_test(test_fuzz_random_fragments),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
