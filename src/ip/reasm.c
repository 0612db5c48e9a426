/* IPv4 fragment reassembly: the rules are listed in reasm.h. */
#include "ip/reasm.h"

#include <string.h>

/* RFC 791 3.2: fragments belong together when source, destination,
 * protocol and identification match. */
struct key {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
};

/* One fragment's payload, [start, end) of the datagram's payload. */
struct frag {
	struct frag *next; /* by start */
	uint32_t start, end;
	uint8_t data[];
};

struct ip_reasm_dgram {
	struct ip_reasm_dgram *hnext;	      /* hash chain */
	struct ip_reasm_dgram *older, *newer; /* arrival order */
	struct key key;
	tern_time born; /* arrival of its first fragment */
	int dead;	/* 0, or the drop reason that discarded it */
	bool have_last;
	uint8_t tos, ttl;  /* from the offset-0 fragment */
	uint32_t total;	   /* payload length, once have_last */
	uint32_t max_end;  /* highest end held */
	uint32_t held;	   /* payload bytes held; never overlapping */
	struct frag *head; /* sorted by start, disjoint */
	struct frag *tail;
};

static void *take(ip_reasm *r, size_t size)
{
	void *p = r->alloc.alloc(r->alloc.ctx, size);

	if (p)
		r->bytes += size;
	return p;
}

static void give(ip_reasm *r, void *p, size_t size)
{
	r->bytes -= size;
	r->alloc.free(r->alloc.ctx, p, size);
}

static size_t frag_size(uint32_t len)
{
	return sizeof(struct frag) + len;
}

/* Not keyed: a chain is at most max_datagrams long whatever an attacker
 * picks, so a collision costs a short walk, not memory. */
static size_t bucket(const ip_reasm *r, const struct key *k)
{
	uint64_t x = ((uint64_t)k->src << 32) ^ k->dst;

	x ^= ((uint64_t)k->id << 8 | k->proto) * 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 29)) * 0x94d049bb133111ebull;
	return (size_t)(x ^ (x >> 32)) & (r->nbuckets - 1);
}

static bool same_key(const struct key *a, const struct key *b)
{
	return a->src == b->src && a->dst == b->dst && a->id == b->id &&
	       a->proto == b->proto;
}

static struct ip_reasm_dgram *lookup(const ip_reasm *r, const struct key *k)
{
	struct ip_reasm_dgram *d = r->buckets[bucket(r, k)];

	while (d && !same_key(&d->key, k))
		d = d->hnext;
	return d;
}

static void free_frags(ip_reasm *r, struct ip_reasm_dgram *d)
{
	while (d->head) {
		struct frag *f = d->head;

		d->head = f->next;
		give(r, f, frag_size(f->end - f->start));
	}
	d->tail = NULL;
	d->held = 0;
}

static void destroy(ip_reasm *r, struct ip_reasm_dgram *d)
{
	struct ip_reasm_dgram **pp = &r->buckets[bucket(r, &d->key)];

	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		r->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		r->newest = d->older;
	r->count--;
	free_frags(r, d);
	give(r, d, sizeof(*d));
}

/* A discarded datagram was counted under its reason when it went; only
 * an incomplete one is a new loss. */
static void evict(ip_reasm *r, struct ip_reasm_dgram *d)
{
	if (!d->dead)
		r->evicted++;
	destroy(r, d);
}

/* Evicts the oldest datagrams other than keep until need more bytes fit
 * under max_bytes; false if they cannot. */
static bool make_room(ip_reasm *r, size_t need,
		      const struct ip_reasm_dgram *keep)
{
	if (need > r->cfg.max_bytes)
		return false;
	while (r->bytes + need > r->cfg.max_bytes) {
		struct ip_reasm_dgram *victim = r->oldest;

		if (victim == keep)
			victim = victim->newer;
		if (!victim)
			return false;
		evict(r, victim);
	}
	return true;
}

/* A new, empty datagram, with room left for `more` bytes of fragment. */
static struct ip_reasm_dgram *create(ip_reasm *r, const struct key *k,
				     tern_time now, size_t more)
{
	struct ip_reasm_dgram *d;

	if (r->count >= r->cfg.max_datagrams)
		evict(r, r->oldest);
	if (!make_room(r, sizeof(*d) + more, NULL))
		return NULL;
	d = take(r, sizeof(*d));
	if (!d)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->key = *k;
	d->born = now;
	size_t b = bucket(r, k);
	d->hnext = r->buckets[b];
	r->buckets[b] = d;
	d->older = r->newest;
	if (r->newest)
		r->newest->newer = d;
	else
		r->oldest = d;
	r->newest = d;
	r->count++;
	return d;
}

/* Discards d (or, with none held yet, remembers the key) under reason, so
 * that its other fragments are dropped until its timeout (RFC 5722 4). */
static int reject(ip_reasm *r, struct ip_reasm_dgram *d, const struct key *k,
		  tern_time now, int reason)
{
	if (!d)
		d = create(r, k, now, 0);
	if (d) {
		free_frags(r, d);
		d->dead = reason;
	}
	return -reason;
}

/* The fragment's place in the payload, [*off, *end). */
static int span(const tern_ipv4_hdr *h, uint32_t *off, uint32_t *end)
{
	if (h->payload_len > IP_REASM_MAX_PAYLOAD)
		return TERN_DROP_IP_FRAG_TOO_BIG;
	uint32_t len = (uint32_t)h->payload_len;
	/* RFC 791 3.2: every fragment but the last carries a multiple of 8
	 * bytes; like Linux (ip_frag_queue), keep only that much. */
	if (h->mf)
		len &= ~7u;
	*off = h->frag_off;
	*end = *off + len;
	if (*end > IP_REASM_MAX_PAYLOAD)
		return TERN_DROP_IP_FRAG_TOO_BIG;
	/* An empty fragment adds nothing and Linux discards its datagram. */
	if (*end == *off)
		return TERN_DROP_IP_FRAG_OVERLAP;
	return 0;
}

/* The end a last fragment gives must agree with every other fragment
 * (Linux ip_frag_queue: "the segment is corrupted"). */
static int check_end(const struct ip_reasm_dgram *d, uint32_t end, bool last)
{
	if (last) {
		if ((d->have_last && end != d->total) || end < d->max_end)
			return TERN_DROP_IP_FRAG_OVERLAP;
	} else if (d->have_last && end > d->total) {
		return TERN_DROP_IP_FRAG_OVERLAP;
	}
	return 0;
}

/* Links a copy of the fragment into d's sorted list after checking its
 * neighbours: 0 held, 1 exact duplicate (ignored), or -reason. */
static int insert(ip_reasm *r, struct ip_reasm_dgram *d, uint32_t off,
		  uint32_t end, const uint8_t *data)
{
	struct frag *prev = NULL, *next = d->head;

	/* Fragments mostly come in order: append without a walk. */
	if (d->tail && off >= d->tail->end) {
		prev = d->tail;
		next = NULL;
	}
	while (next && next->start < off) {
		prev = next;
		next = next->next;
	}
	if (next && next->start == off && next->end == end)
		return 1;
	if ((prev && prev->end > off) || (next && next->start < end))
		return -TERN_DROP_IP_FRAG_OVERLAP;
	size_t size = frag_size(end - off);
	struct frag *f = make_room(r, size, d) ? take(r, size) : NULL;
	if (!f)
		return -TERN_DROP_IP_FRAG_NO_MEMORY;
	f->start = off;
	f->end = end;
	f->next = next;
	memcpy(f->data, data, end - off);
	if (prev)
		prev->next = f;
	else
		d->head = f;
	if (!next)
		d->tail = f;
	d->held += end - off;
	return 0;
}

/* RFC 791 3.2: the reassembled datagram carries the first fragment's
 * header; it is rebuilt without options, its fragment fields cleared. */
static int finish(ip_reasm *r, struct ip_reasm_dgram *d, const uint8_t **pkt,
		  size_t *len)
{
	size_t n = TERN_IPV4_HDR_MIN + d->total;
	uint8_t *buf = r->alloc.alloc(r->alloc.ctx, n);

	if (!buf) {
		destroy(r, d);
		return -TERN_DROP_IP_FRAG_NO_MEMORY;
	}
	tern_ipv4_hdr h = {
		.tos = d->tos,
		.id = d->key.id,
		.ttl = d->ttl,
		.proto = d->key.proto,
		.src = d->key.src,
		.dst = d->key.dst,
	};
	tern_ipv4_emit(buf, n, &h, d->total);
	for (const struct frag *f = d->head; f; f = f->next)
		memcpy(buf + TERN_IPV4_HDR_MIN + f->start, f->data,
		       f->end - f->start);
	destroy(r, d);
	r->out = buf;
	r->out_len = n;
	*pkt = buf;
	*len = n;
	return 1;
}

static void release_out(ip_reasm *r)
{
	if (r->out)
		r->alloc.free(r->alloc.ctx, r->out, r->out_len);
	r->out = NULL;
	r->out_len = 0;
}

static bool timed_out(const ip_reasm *r, const struct ip_reasm_dgram *d,
		      tern_time now)
{
	return now >= d->born && now - d->born >= r->cfg.timeout;
}

/* Deadlines follow arrival order (one timeout for all), so the expired
 * datagrams are a prefix of the age list. */
static void collect_expired(ip_reasm *r, tern_time now)
{
	while (r->oldest && timed_out(r, r->oldest, now)) {
		if (!r->oldest->dead)
			r->timed_out++;
		destroy(r, r->oldest);
	}
}

int ip_reasm_init(ip_reasm *r, const tern_allocator *alloc,
		  const ip_reasm_config *cfg)
{
	if (!r || !alloc || !alloc->alloc || !alloc->free)
		return TERN_ERR_INVAL;
	memset(r, 0, sizeof(*r));
	r->alloc = *alloc;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.max_bytes)
		r->cfg.max_bytes = IP_REASM_DEFAULT_MAX_BYTES;
	if (!r->cfg.timeout)
		r->cfg.timeout = IP_REASM_DEFAULT_TIMEOUT;
	if (!r->cfg.max_datagrams)
		r->cfg.max_datagrams = IP_REASM_DEFAULT_MAX_DATAGRAMS;
	/* About one datagram per chain at the bound, within reason. */
	r->nbuckets = 16;
	while (r->nbuckets < r->cfg.max_datagrams && r->nbuckets < 65536)
		r->nbuckets *= 2;
	size_t size = r->nbuckets * sizeof(*r->buckets);
	r->buckets = r->alloc.alloc(r->alloc.ctx, size);
	if (!r->buckets)
		return TERN_ERR_NOMEM;
	memset(r->buckets, 0, size);
	return 0;
}

void ip_reasm_free(ip_reasm *r)
{
	if (!r || !r->buckets)
		return;
	while (r->oldest)
		destroy(r, r->oldest);
	release_out(r);
	r->alloc.free(r->alloc.ctx, r->buckets,
		      r->nbuckets * sizeof(*r->buckets));
	r->buckets = NULL;
}

int ip_reasm_input(ip_reasm *r, const tern_ipv4_hdr *h, tern_time now,
		   const uint8_t **pkt, size_t *len)
{
	struct key k = {
		.src = h->src, .dst = h->dst, .id = h->id, .proto = h->proto};
	uint32_t off = 0, end = 0;

	release_out(r);
	collect_expired(r, now);
	struct ip_reasm_dgram *d = lookup(r, &k);
	if (d && d->dead)
		return -d->dead;
	int bad = span(h, &off, &end);
	if (!bad && d)
		bad = check_end(d, end, !h->mf);
	if (bad)
		return reject(r, d, &k, now, bad);
	if (!d && !(d = create(r, &k, now, frag_size(end - off))))
		return -TERN_DROP_IP_FRAG_NO_MEMORY;
	int res = insert(r, d, off, end, h->payload);
	if (res == -TERN_DROP_IP_FRAG_OVERLAP)
		return reject(r, d, &k, now, TERN_DROP_IP_FRAG_OVERLAP);
	if (res < 0) {
		if (!d->head)
			destroy(r, d);
		return res;
	}
	if (res == 0 && off == 0) {
		d->tos = h->tos;
		d->ttl = h->ttl;
	}
	if (!h->mf) {
		d->have_last = true;
		d->total = end;
	}
	if (end > d->max_end)
		d->max_end = end;
	/* Disjoint fragments inside [0, total) that add up to total cover
	 * it: RFC 815's hole list is empty. */
	if (!d->have_last || d->held != d->total)
		return 0;
	return finish(r, d, pkt, len);
}

tern_time ip_reasm_next_deadline(const ip_reasm *r)
{
	if (!r->oldest)
		return TERN_TIME_NONE;
	if (r->oldest->born > TERN_TIME_NONE - 1 - r->cfg.timeout)
		return TERN_TIME_NONE - 1;
	return r->oldest->born + r->cfg.timeout;
}

unsigned ip_reasm_expire(ip_reasm *r, tern_time now)
{
	unsigned n;

	release_out(r);
	collect_expired(r, now);
	n = r->timed_out;
	r->timed_out = 0;
	return n;
}

unsigned ip_reasm_take_evicted(ip_reasm *r)
{
	unsigned n = r->evicted;

	r->evicted = 0;
	return n;
}

size_t ip_reasm_bytes(const ip_reasm *r)
{
	return r->bytes;
}
