/* IPv4 fragment reassembly (RFC 791 3.2, with RFC 815's idea of tracking
 * what is missing), bounded in memory and in time.
 *
 * Each partial datagram, keyed by (src, dst, protocol, id) as RFC 791 3.2
 * keys it, keeps its fragments as separate allocations in a list sorted by
 * offset; no gap can hide an overlap because every new fragment is checked
 * against its two neighbours. When the last byte arrives the fragments are
 * copied after a rebuilt 20-byte header into one buffer.
 *
 * Rules, and where they come from:
 * - Overlap: any overlap between two fragments of a datagram, other than an
 *   exact duplicate (same offset, same length: ignored, the first copy
 *   kept), discards the whole datagram; its key is remembered until the
 *   datagram's timeout so that its later fragments are dropped too
 *   (RFC 5722 4 for IPv6; Linux discards the queue since the FragmentSmack
 *   fixes, 2018). Linux also ignores a fragment lying wholly inside data
 *   already held; here that is an overlap.
 * - Fragments that cannot belong to one datagram go the same way, as
 *   IP_FRAG_OVERLAP: two last fragments with different ends, data past the
 *   end a last fragment gave, a last fragment ending before data held, and
 *   an empty fragment (Linux ip_frag_queue: all "goto discard_qp").
 * - A non-last fragment whose payload is not a multiple of 8 bytes cannot
 *   meet the next fragment, which starts on an 8-byte boundary: as Linux
 *   does (ip_frag_queue, "end &= ~7"), its tail is trimmed to the boundary;
 *   if nothing is left it is an empty fragment (above).
 * - Size: a datagram whose payload would end past 65515 bytes (65535, the
 *   largest total length, less the 20-byte header rebuilt here) is
 *   IP_FRAG_TOO_BIG, and remembered like an overlap.
 * - Time: a datagram, or the memory of a discarded one, lives `timeout`
 *   after its first fragment arrived (Linux ipfrag_time); a datagram still
 *   incomplete at that instant is dropped as IP_FRAG_TIMEOUT.
 * - Memory: the bytes of all partial datagrams (their records and
 *   fragments, as allocated) stay within max_bytes, and there are at most
 *   max_datagrams of them (remembered discards included). A fragment that
 *   does not fit evicts the oldest datagrams, never the one it belongs to,
 *   until it does (what Linux did up to 4.17 between its low and high
 *   thresholds; Linux now refuses new datagrams instead, which lets a flood
 *   of junk fragments lock out every other datagram for 30 s). Evicted
 *   incomplete datagrams count as IP_FRAG_NO_MEMORY
 *   (ip_reasm_take_evicted); a fragment that cannot fit even so, or whose
 *   allocation fails, is dropped as IP_FRAG_NO_MEMORY.
 *
 * Time comes only from the caller's `now`, which must never decrease. All
 * memory comes from the allocator given to ip_reasm_init.
 */
#ifndef TERN_IP_REASM_H
#define TERN_IP_REASM_H

#include <tern/wire.h>

/* Defaults are Linux's: ipfrag_high_thresh, ipfrag_time. */
#define IP_REASM_DEFAULT_MAX_BYTES ((size_t)4 << 20)
#define IP_REASM_DEFAULT_TIMEOUT (30 * TERN_SEC)
#define IP_REASM_DEFAULT_MAX_DATAGRAMS 64u

/* The largest reassembled payload: total length 65535 less our header. */
#define IP_REASM_MAX_PAYLOAD (65535u - TERN_IPV4_HDR_MIN)

/* A field left 0 takes its default. */
typedef struct ip_reasm_config {
	size_t max_bytes;	/* all partial datagrams together */
	tern_time timeout;	/* from a datagram's first fragment */
	unsigned max_datagrams; /* partial and remembered-discarded */
} ip_reasm_config;

struct ip_reasm_dgram; /* private to reasm.c */

typedef struct ip_reasm {
	tern_allocator alloc;
	ip_reasm_config cfg;
	struct ip_reasm_dgram **buckets; /* hash chains by key */
	size_t nbuckets;		 /* a power of two */
	/* Every datagram by arrival of its first fragment: as the timeout is
	 * the same for all, this is also deadline order. */
	struct ip_reasm_dgram *oldest, *newest;
	unsigned count;	    /* datagrams held, discarded ones included */
	size_t bytes;	    /* allocated for them (not buckets, not out) */
	unsigned timed_out; /* not yet reported by ip_reasm_expire */
	unsigned evicted;   /* not yet reported by ip_reasm_take_evicted */
	uint8_t *out;	    /* the last datagram returned, freed next call */
	size_t out_len;
} ip_reasm;

/* cfg NULL: all defaults. Returns 0, TERN_ERR_NOMEM (the hash table could
 * not be allocated) or TERN_ERR_INVAL (alloc NULL or incomplete). */
int ip_reasm_init(ip_reasm *r, const tern_allocator *alloc,
		  const ip_reasm_config *cfg);
/* Frees every partial datagram and the last returned one. */
void ip_reasm_free(ip_reasm *r);

/* h: a parsed fragment (mf or frag_off != 0; anything else is taken as a
 * datagram of one fragment). Returns
 *   1: *pkt and *len give the whole datagram: a 20-byte IPv4 header (tos, ttl
 *      and key from the offset-0 fragment, total length set, flags and
 *      offset zero, checksum right; options not kept) then the payload.
 *      It stays valid until the next ip_reasm_input, ip_reasm_expire or
 *      ip_reasm_free (the other calls leave it alone).
 *   0: the fragment is held, or was an exact duplicate and ignored.
 *  -TERN_DROP_IP_FRAG_OVERLAP: the fragment does not fit with the others
 *      (see the rules above); the whole datagram is discarded.
 *  -TERN_DROP_IP_FRAG_TOO_BIG: the datagram would pass 65535 bytes; it is
 *      discarded.
 *  -TERN_DROP_IP_FRAG_NO_MEMORY: the fragment (only) is dropped; or, if
 *      it completed the datagram but the buffer for the whole could not
 *      be allocated, the datagram with it.
 * Fragments of a discarded datagram get its reason until its timeout.
 * Datagrams found timed out at `now` are dropped first (reported by
 * ip_reasm_expire), and any evicted to make room are reported by
 * ip_reasm_take_evicted. */
int ip_reasm_input(ip_reasm *r, const tern_ipv4_hdr *h, tern_time now,
		   const uint8_t **pkt, size_t *len);

/* When ip_reasm_expire next has work: TERN_TIME_NONE if nothing pending. */
tern_time ip_reasm_next_deadline(const ip_reasm *r);

/* Drops datagrams whose first fragment came `timeout` or more ago. Returns
 * how many incomplete datagrams timed out since the last call, counting
 * those ip_reasm_input found stale (each is one IP_FRAG_TIMEOUT); the
 * memory of discarded datagrams also ends here but is not counted again. */
unsigned ip_reasm_expire(ip_reasm *r, tern_time now);

/* How many incomplete datagrams were evicted for memory since the last
 * call (each is one IP_FRAG_NO_MEMORY). */
unsigned ip_reasm_take_evicted(ip_reasm *r);

/* Bytes allocated for partial datagrams now (at most cfg.max_bytes). */
size_t ip_reasm_bytes(const ip_reasm *r);

#endif
