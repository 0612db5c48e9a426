/* tern eth: Ethernet framing and ARP around a link of Ethernet frames.
 *
 * Upward the wrapper delivers the IPv4 packets addressed to our MAC (or
 * broadcast) and answers ARP itself (RFC 826). Downward it takes IPv4
 * packets, picks the next hop (the destination on our subnet, else the
 * gateway), and prepends an Ethernet header for the next hop's MAC, as a
 * separate piece so the packet is not copied. An unresolved next hop gets
 * broadcast ARP requests while its packets wait in a small queue (RFC 1122
 * 2.3.2.2: keep at least one, drop the oldest).
 *
 * The cache follows RFC 1122 2.3.2.1: a mapping is fresh for ARP_FRESH
 * after an ARP packet from its host confirmed it. At that age an entry
 * nobody has used since is removed; one in use is revalidated by unicast
 * polls while packets keep flowing to the known address, and removed if
 * the polls go unanswered. Time comes only from the callers' `now`.
 *
 * Offloads pass through: the wrapper takes what the device takes, and a
 * frame's checksum offsets, which count from the IP header above and
 * from the Ethernet header below, move by ETH_HDR_LEN on the way.
 */
#define _GNU_SOURCE /* getrandom */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <tern/wire.h>

#include "eth.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

/* RFC 826 packet format, for Ethernet and IPv4. */
#define ARP_LEN 28
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define ARP_TRIES 4 /* a request, then 3 retries */
#define ARP_RETRY TERN_SEC
#define ARP_FRESH (60 * TERN_SEC)
#define ARP_CACHE_MAX 1024
#define ARP_HASH_SIZE 2048 /* a power of two, twice the cache */
#define ARP_QUEUE_PER_HOP 8
#define ARP_QUEUE_BYTES (256 * 1024)

#define ETH_MTU_DEFAULT 1500
#define IP_MTU_MIN 68 /* RFC 791 */
#define ETH_PIECES_MAX 32

static const uint8_t mac_broadcast[ETH_ADDR_LEN] = {0xff, 0xff, 0xff,
						    0xff, 0xff, 0xff};
static const uint8_t mac_zero[ETH_ADDR_LEN];

enum neigh_state {
	NEIGH_FREE,
	NEIGH_INCOMPLETE, /* resolving: packets wait, requests broadcast */
	NEIGH_REACHABLE,  /* mapped; fresh until since + ARP_FRESH */
	NEIGH_PROBE,	  /* mapped, stale and in use: unicast polls */
};

/* A packet waiting for its next hop's address. */
struct qpkt {
	struct qpkt *next;	    /* same next hop, newer */
	struct qpkt *gprev, *gnext; /* every queue, in arrival order */
	struct neigh *owner;
	bool has_meta;
	tern_frame_meta meta; /* as sent (IP offsets) */
	size_t len;
	uint8_t data[];
};

struct neigh {
	uint32_t ip;
	uint8_t mac[ETH_ADDR_LEN];
	uint8_t state;
	uint8_t tries;	    /* requests sent while INCOMPLETE or PROBE */
	bool timed;	    /* on the timer list */
	uint16_t hnext;	    /* hash chain or free list: index + 1, 0 ends */
	tern_time since;    /* created (INCOMPLETE) or last confirmed */
	tern_time used;	    /* a packet last went out through it */
	tern_time retry_at; /* INCOMPLETE, PROBE: next request or give-up */
	struct neigh *tprev, *tnext;
	struct qpkt *qhead, *qtail;
	unsigned qlen;
};

struct eth_link {
	tern_link link; /* first: a tern_link * is a struct eth_link * */
	tern_link *inner;
	uint8_t mac[ETH_ADDR_LEN];
	uint32_t addr, mask, gateway;
	bool has_bcast;		/* a subnet broadcast address (prefix <= 30) */
	tern_link_counters ctr; /* this layer's share */
	struct neigh *timers;	/* INCOMPLETE and PROBE entries */
	tern_time sweep_at;	/* no REACHABLE entry goes stale before */
	struct qpkt *qold, *qnew; /* every queued packet, oldest first */
	size_t qbytes;
	uint16_t free_head;
	uint16_t buckets[ARP_HASH_SIZE];
	struct neigh cache[ARP_CACHE_MAX];
};

static const tern_link_ops eth_ops;

static void drop_rx(struct eth_link *w, uint64_t *reason)
{
	w->ctr.rx_dropped++;
	(*reason)++;
}

static void drop_tx(struct eth_link *w, uint64_t *reason)
{
	w->ctr.tx_dropped++;
	(*reason)++;
}

static bool mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static bool on_subnet(const struct eth_link *w, uint32_t ip)
{
	return ((ip ^ w->addr) & w->mask) == 0;
}

/* ---- frames out ---- */

static int frame_out(struct eth_link *w, const uint8_t *dst, uint16_t type,
		     const tern_iov *iov, int iovcnt,
		     const tern_frame_meta *meta, tern_time now)
{
	uint8_t hdr[ETH_HDR_LEN];
	tern_iov v[ETH_PIECES_MAX + 1];
	tern_frame_meta m;

	memcpy(hdr, dst, ETH_ADDR_LEN);
	memcpy(hdr + ETH_ADDR_LEN, w->mac, ETH_ADDR_LEN);
	tern_store16(hdr + 2 * ETH_ADDR_LEN, type);
	v[0].base = hdr;
	v[0].len = sizeof(hdr);
	memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
	if (meta) {
		m = *meta;
		m.csum_start = (uint16_t)(m.csum_start + ETH_HDR_LEN);
		meta = &m;
	}
	return tern_link_send(w->inner, v, iovcnt + 1, meta, now);
}

/* RFC 826: our addresses as sender; tha is zero in requests. */
static int arp_out(struct eth_link *w, uint16_t op, const uint8_t *eth_dst,
		   const uint8_t *tha, uint32_t tpa, tern_time now)
{
	uint8_t a[ARP_LEN];
	tern_iov v = {a, sizeof(a)};

	tern_store16(a, ARP_HTYPE_ETHERNET);
	tern_store16(a + 2, ETHERTYPE_IPV4);
	a[4] = ETH_ADDR_LEN;
	a[5] = 4;
	tern_store16(a + 6, op);
	memcpy(a + 8, w->mac, ETH_ADDR_LEN);
	tern_store32(a + 14, w->addr);
	memcpy(a + 18, tha, ETH_ADDR_LEN);
	tern_store32(a + 24, tpa);
	if (op == ARP_OP_REQUEST)
		w->ctr.arp_requests_out++;
	else
		w->ctr.arp_replies_out++;
	return frame_out(w, eth_dst, ETHERTYPE_ARP, &v, 1, NULL, now);
}

/* ---- the cache: a fixed table, hashed by address ---- */

static unsigned hash_ip(uint32_t ip)
{
	return (ip * 2654435761u) >> 21; /* Fibonacci hashing: 11 bits */
}

static struct neigh *neigh_find(struct eth_link *w, uint32_t ip)
{
	for (uint16_t i = w->buckets[hash_ip(ip)]; i; i = w->cache[i - 1].hnext)
		if (w->cache[i - 1].ip == ip)
			return &w->cache[i - 1];
	return NULL;
}

static void hash_unlink(struct eth_link *w, struct neigh *n)
{
	uint16_t *p = &w->buckets[hash_ip(n->ip)];
	uint16_t self = (uint16_t)(n - w->cache + 1);

	while (*p != self)
		p = &w->cache[*p - 1].hnext;
	*p = n->hnext;
}

static void timer_set(struct eth_link *w, struct neigh *n, bool on)
{
	if (n->timed == on)
		return;
	n->timed = on;
	if (on) {
		n->tprev = NULL;
		n->tnext = w->timers;
		if (w->timers)
			w->timers->tprev = n;
		w->timers = n;
		return;
	}
	if (n->tprev)
		n->tprev->tnext = n->tnext;
	else
		w->timers = n->tnext;
	if (n->tnext)
		n->tnext->tprev = n->tprev;
}

/* ---- the queue of packets waiting for resolution ---- */

/* Unlinks n's oldest packet; the caller frees it. */
static struct qpkt *queue_pop(struct eth_link *w, struct neigh *n)
{
	struct qpkt *p = n->qhead;

	n->qhead = p->next;
	if (!n->qhead)
		n->qtail = NULL;
	n->qlen--;
	if (p->gprev)
		p->gprev->gnext = p->gnext;
	else
		w->qold = p->gnext;
	if (p->gnext)
		p->gnext->gprev = p->gprev;
	else
		w->qnew = p->gprev;
	w->qbytes -= p->len;
	return p;
}

static void queue_drop_all(struct eth_link *w, struct neigh *n,
			   uint64_t *reason)
{
	while (n->qhead) {
		free(queue_pop(w, n));
		drop_tx(w, reason);
	}
}

static void queue_drop_oldest(struct eth_link *w, struct neigh *n)
{
	free(queue_pop(w, n));
	drop_tx(w, &w->ctr.tx_queue_full);
}

/* Appends a copy of the packet. Per next hop and in all, the oldest
 * packets make room (RFC 1122 2.3.2.2). */
static int queue_push(struct eth_link *w, struct neigh *n, const tern_iov *iov,
		      int iovcnt, size_t len, const tern_frame_meta *meta)
{
	struct qpkt *p;
	size_t off = 0;

	if (n->qlen >= ARP_QUEUE_PER_HOP)
		queue_drop_oldest(w, n);
	while (w->qold && w->qbytes + len > ARP_QUEUE_BYTES)
		queue_drop_oldest(w, w->qold->owner);
	p = malloc(sizeof(*p) + len);
	if (!p)
		return TERN_ERR_NOMEM;
	for (int i = 0; i < iovcnt; off += iov[i].len, i++)
		if (iov[i].len > 0) /* an empty piece may have no base */
			memcpy(p->data + off, iov[i].base, iov[i].len);
	p->len = len;
	p->has_meta = meta != NULL;
	if (meta)
		p->meta = *meta;
	p->owner = n;
	p->next = NULL;
	p->gnext = NULL;
	p->gprev = w->qnew;
	if (w->qnew)
		w->qnew->gnext = p;
	else
		w->qold = p;
	w->qnew = p;
	if (n->qtail)
		n->qtail->next = p;
	else
		n->qhead = p;
	n->qtail = p;
	n->qlen++;
	w->qbytes += len;
	return 0;
}

/* ---- entries ---- */

static void neigh_remove(struct eth_link *w, struct neigh *n, uint64_t *reason)
{
	queue_drop_all(w, n, reason);
	timer_set(w, n, false);
	hash_unlink(w, n);
	n->state = NEIGH_FREE;
	n->hnext = w->free_head;
	w->free_head = (uint16_t)(n - w->cache + 1);
}

/* The cache is bounded: when full, the entry confirmed (or created)
 * longest ago makes room. */
static void neigh_evict_oldest(struct eth_link *w)
{
	struct neigh *old = &w->cache[0];

	for (size_t i = 1; i < ARP_CACHE_MAX; i++)
		if (w->cache[i].since < old->since)
			old = &w->cache[i];
	neigh_remove(w, old, &w->ctr.tx_queue_full);
}

static struct neigh *neigh_new(struct eth_link *w, uint32_t ip,
			       enum neigh_state state, tern_time now)
{
	struct neigh *n;
	unsigned h = hash_ip(ip);

	if (!w->free_head)
		neigh_evict_oldest(w);
	n = &w->cache[w->free_head - 1];
	w->free_head = n->hnext;
	memset(n, 0, sizeof(*n));
	n->ip = ip;
	n->state = (uint8_t)state;
	n->since = now;
	n->hnext = w->buckets[h];
	w->buckets[h] = (uint16_t)(n - w->cache + 1);
	return n;
}

/* Sends n's pending packets, oldest first, now that its address is known. */
static void queue_flush(struct eth_link *w, struct neigh *n, tern_time now)
{
	while (n->qhead) {
		struct qpkt *p = queue_pop(w, n);
		tern_iov v = {p->data, p->len};
		/* The device counts its own failures; nobody to tell here. */
		(void)frame_out(w, n->mac, ETHERTYPE_IPV4, &v, 1,
				p->has_meta ? &p->meta : NULL, now);
		free(p);
	}
	n->used = now;
}

/* An ARP packet from the host maps its address to mac (RFC 826). */
static void neigh_confirm(struct eth_link *w, struct neigh *n,
			  const uint8_t *mac, tern_time now)
{
	bool was_incomplete = n->state == NEIGH_INCOMPLETE;

	memcpy(n->mac, mac, ETH_ADDR_LEN);
	n->state = NEIGH_REACHABLE;
	n->since = now;
	timer_set(w, n, false);
	if (now + ARP_FRESH < w->sweep_at)
		w->sweep_at = now + ARP_FRESH;
	if (was_incomplete)
		queue_flush(w, n, now);
}

/* Sends the next request: broadcast to find an address, unicast to the
 * known one to revalidate it (RFC 1122 2.3.2.1, "unicast poll"). */
static void arp_solicit(struct eth_link *w, struct neigh *n, tern_time now)
{
	const uint8_t *dst =
		n->state == NEIGH_INCOMPLETE ? mac_broadcast : n->mac;

	n->tries++;
	n->retry_at = now + ARP_RETRY;
	(void)arp_out(w, ARP_OP_REQUEST, dst, mac_zero, n->ip, now);
}

static void start_probe(struct eth_link *w, struct neigh *n, tern_time now)
{
	n->state = NEIGH_PROBE;
	n->tries = 0;
	timer_set(w, n, true);
	arp_solicit(w, n, now);
}

/* ---- sending IPv4 ---- */

/* Destinations that need no ARP: the limited and the subnet broadcast,
 * and multicast groups (RFC 1112 6.4: 01:00:5e and the low 23 bits). */
static bool group_mac(const struct eth_link *w, uint32_t dst, uint8_t *mac)
{
	if (dst == 0xffffffffu ||
	    (w->has_bcast && dst == (w->addr | ~w->mask))) {
		memcpy(mac, mac_broadcast, ETH_ADDR_LEN);
		return true;
	}
	if (dst >> 28 != 0xe)
		return false;
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)(dst >> 16 & 0x7f);
	mac[4] = (uint8_t)(dst >> 8);
	mac[5] = (uint8_t)dst;
	return true;
}

static int send_to_hop(struct eth_link *w, uint32_t hop, const tern_iov *iov,
		       int iovcnt, size_t len, const tern_frame_meta *meta,
		       tern_time now)
{
	struct neigh *n = neigh_find(w, hop);
	int e;

	if (n && n->state != NEIGH_INCOMPLETE) {
		n->used = now;
		e = frame_out(w, n->mac, ETHERTYPE_IPV4, iov, iovcnt, meta,
			      now);
		/* Stale and in use: revalidate (the sweep may run late). */
		if (n->state == NEIGH_REACHABLE && now >= n->since + ARP_FRESH)
			start_probe(w, n, now);
		return e;
	}
	if (n)
		return queue_push(w, n, iov, iovcnt, len, meta);
	n = neigh_new(w, hop, NEIGH_INCOMPLETE, now);
	e = queue_push(w, n, iov, iovcnt, len, meta);
	timer_set(w, n, true);
	arp_solicit(w, n, now);
	return e;
}

/* Copies the first bytes of a frame made of pieces. */
static void gather(const tern_iov *iov, int iovcnt, uint8_t *out, size_t want)
{
	for (int i = 0; i < iovcnt && want > 0; i++) {
		size_t n = iov[i].len < want ? iov[i].len : want;
		if (n == 0)
			continue;
		memcpy(out, iov[i].base, n);
		out += n;
		want -= n;
	}
}

/* The offloads the device below takes, and a frame that fits them. */
static bool meta_ok(const struct eth_link *w, const tern_frame_meta *meta,
		    size_t len)
{
	if (meta && (meta->flags & TERN_FRAME_CSUM_PARTIAL) && !w->link.tx_csum)
		return false;
	if (!meta || !meta->gso_size)
		return len <= w->link.mtu;
	return len <= w->link.tso_max;
}

static int eth_send(tern_link *link, const tern_iov *iov, int iovcnt,
		    const tern_frame_meta *meta, tern_time now)
{
	struct eth_link *w = (struct eth_link *)link;
	uint8_t hdr[TERN_IPV4_HDR_MIN], mac[ETH_ADDR_LEN];
	uint32_t dst, hop;
	size_t len = 0;

	if (!iov || iovcnt <= 0 || iovcnt > ETH_PIECES_MAX)
		return TERN_ERR_INVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].len > 0 && !iov[i].base)
			return TERN_ERR_INVAL;
		len += iov[i].len;
	}
	if (len < TERN_IPV4_HDR_MIN || !meta_ok(w, meta, len))
		return TERN_ERR_INVAL;
	gather(iov, iovcnt, hdr, sizeof(hdr));
	dst = tern_load32(hdr + 16);
	if (group_mac(w, dst, mac))
		return frame_out(w, mac, ETHERTYPE_IPV4, iov, iovcnt, meta,
				 now);
	hop = on_subnet(w, dst) ? dst : w->gateway;
	if (!hop) {
		drop_tx(w, &w->ctr.tx_unroutable);
		return 0;
	}
	return send_to_hop(w, hop, iov, iovcnt, len, meta, now);
}

/* ---- receiving ---- */

/* A sender we may learn from or answer: a unicast MAC that is not ours,
 * and not our own address (that would be a conflict, not a neighbour). */
static bool arp_sender_ok(const struct eth_link *w, const uint8_t *sha,
			  uint32_t spa)
{
	return !mac_is_group(sha) && memcmp(sha, mac_zero, ETH_ADDR_LEN) &&
	       memcmp(sha, w->mac, ETH_ADDR_LEN) && spa != w->addr;
}

/* Only neighbours we might send to are worth an entry. */
static bool arp_learnable(const struct eth_link *w, uint32_t spa)
{
	return spa != 0 && on_subnet(w, spa) &&
	       !(w->has_bcast && spa == (w->addr | ~w->mask));
}

/* RFC 826, "packet reception": merge the sender into an existing entry;
 * if we are the target, add it, and answer a request. */
static void arp_input(struct eth_link *w, const uint8_t *a, size_t len,
		      tern_time now)
{
	const uint8_t *sha = a + 8;
	uint32_t spa, tpa;
	uint16_t op;
	struct neigh *n;

	if (len < ARP_LEN || tern_load16(a) != ARP_HTYPE_ETHERNET ||
	    tern_load16(a + 2) != ETHERTYPE_IPV4 || a[4] != ETH_ADDR_LEN ||
	    a[5] != 4) {
		drop_rx(w, &w->ctr.rx_malformed);
		return;
	}
	op = tern_load16(a + 6);
	spa = tern_load32(a + 14);
	tpa = tern_load32(a + 24);
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) ||
	    !arp_sender_ok(w, sha, spa)) {
		drop_rx(w, &w->ctr.rx_malformed);
		return;
	}
	if (op == ARP_OP_REQUEST)
		w->ctr.arp_requests_in++;
	else
		w->ctr.arp_replies_in++;
	n = spa ? neigh_find(w, spa) : NULL;
	if (n)
		neigh_confirm(w, n, sha, now);
	if (tpa != w->addr)
		return;
	if (!n && arp_learnable(w, spa))
		neigh_confirm(w, neigh_new(w, spa, NEIGH_REACHABLE, now), sha,
			      now);
	if (op == ARP_OP_REQUEST)
		(void)arp_out(w, ARP_OP_REPLY, sha, sha, spa, now);
}

/* An IPv4 packet up, its checksum offsets now counted from the IP
 * header. Padding of short frames stays: IP trims by total length. */
static void ipv4_up(struct eth_link *w, const uint8_t *body, size_t len,
		    const tern_frame_meta *meta, tern_time now)
{
	tern_frame_meta m;

	if (len < TERN_IPV4_HDR_MIN) {
		drop_rx(w, &w->ctr.rx_malformed);
		return;
	}
	if (meta && (meta->flags & TERN_FRAME_CSUM_PARTIAL)) {
		if (meta->csum_start < ETH_HDR_LEN) {
			drop_rx(w, &w->ctr.rx_bad_vnet);
			return;
		}
		m = *meta;
		m.csum_start = (uint16_t)(m.csum_start - ETH_HDR_LEN);
		meta = &m;
	}
	tern_link_deliver(&w->link, body, len, meta, now);
}

static void eth_rx(void *ctx, const uint8_t *frame, size_t len,
		   const tern_frame_meta *meta, tern_time now)
{
	struct eth_link *w = ctx;
	const uint8_t *body;
	size_t body_len;

	if (len < ETH_HDR_LEN) {
		drop_rx(w, &w->ctr.rx_malformed);
		return;
	}
	body = frame + ETH_HDR_LEN;
	body_len = len - ETH_HDR_LEN;
	if (memcmp(frame, w->mac, ETH_ADDR_LEN) &&
	    memcmp(frame, mac_broadcast, ETH_ADDR_LEN)) {
		drop_rx(w, &w->ctr.rx_not_ours);
		return;
	}
	switch (tern_load16(frame + 2 * ETH_ADDR_LEN)) {
	case ETHERTYPE_ARP:
		arp_input(w, body, body_len, now);
		return;
	case ETHERTYPE_IPV4:
		ipv4_up(w, body, body_len, meta, now);
		return;
	default:
		drop_rx(w, &w->ctr.rx_not_ip);
	}
}

/* ---- timers ---- */

/* Entries that went stale: revalidate those used since they were last
 * confirmed, remove the rest; then find when the next one goes stale. */
static void sweep(struct eth_link *w, tern_time now)
{
	tern_time next = TERN_TIME_NONE;

	for (size_t i = 0; i < ARP_CACHE_MAX; i++) {
		struct neigh *n = &w->cache[i];
		if (n->state != NEIGH_REACHABLE)
			continue;
		if (now < n->since + ARP_FRESH) {
			if (n->since + ARP_FRESH < next)
				next = n->since + ARP_FRESH;
		} else if (n->used > n->since) {
			start_probe(w, n, now);
		} else {
			neigh_remove(w, n, &w->ctr.tx_unresolved);
		}
	}
	w->sweep_at = next;
}

static void eth_poll(tern_link *link, tern_time now)
{
	struct eth_link *w = (struct eth_link *)link;
	struct neigh *n, *next;

	tern_link_poll(w->inner, now);
	for (n = w->timers; n; n = next) {
		next = n->tnext;
		if (n->retry_at > now)
			continue;
		/* No answer to the last try: give up, and drop the queue. */
		if (n->tries >= ARP_TRIES)
			neigh_remove(w, n, &w->ctr.tx_unresolved);
		else
			arp_solicit(w, n, now);
	}
	if (w->sweep_at <= now)
		sweep(w, now);
}

static tern_time eth_next_deadline(tern_link *link)
{
	struct eth_link *w = (struct eth_link *)link;
	tern_time t = tern_link_next_deadline(w->inner);

	if (w->sweep_at < t)
		t = w->sweep_at;
	for (const struct neigh *n = w->timers; n; n = n->tnext)
		if (n->retry_at < t)
			t = n->retry_at;
	return t;
}

/* tcp_retries1 reached for dst (RFC 1122 4.2.3.5): a next hop we hold
 * as reachable is polled again by unicast (RFC 1122 2.3.2.1), as Linux's
 * negative advice marks the neighbour for confirmation; one that stays
 * silent is dropped and found again by broadcast. */
static void eth_advise(tern_link *link, uint32_t dst, tern_time now)
{
	struct eth_link *w = (struct eth_link *)link;
	struct neigh *n = neigh_find(w, on_subnet(w, dst) ? dst : w->gateway);

	if (n && n->state == NEIGH_REACHABLE) {
		w->ctr.arp_advised++;
		start_probe(w, n, now);
	}
}

/* ---- the link ---- */

static int eth_fd(tern_link *link)
{
	return tern_link_fd(((struct eth_link *)link)->inner);
}

static int eth_recv(tern_link *link, int budget, tern_time now)
{
	return tern_link_recv(((struct eth_link *)link)->inner, budget, now);
}

static void eth_destroy(tern_link *link)
{
	struct eth_link *w = (struct eth_link *)link;

	while (w->qold) {
		struct qpkt *p = w->qold;
		w->qold = p->gnext;
		free(p);
	}
	tern_link_set_rx(w->inner, NULL, NULL);
	tern_link_destroy(w->inner);
	free(w);
}

static const tern_link_ops eth_ops = {
	.send = eth_send,
	.destroy = eth_destroy,
	.fd = eth_fd,
	.recv = eth_recv,
	.next_deadline = eth_next_deadline,
	.poll = eth_poll,
	.advise = eth_advise,
};

static void add_counters(tern_link_counters *o, const tern_link_counters *c)
{
	o->offload |= c->offload;
	o->rx_frames += c->rx_frames;
	o->rx_bytes += c->rx_bytes;
	o->tx_frames += c->tx_frames;
	o->tx_bytes += c->tx_bytes;
	o->rx_gso_frames += c->rx_gso_frames;
	o->rx_gso_bytes += c->rx_gso_bytes;
	o->tx_gso_frames += c->tx_gso_frames;
	o->tx_gso_bytes += c->tx_gso_bytes;
	o->rx_bad_vnet += c->rx_bad_vnet;
	o->rx_dropped += c->rx_dropped;
	o->tx_dropped += c->tx_dropped;
	o->rx_not_ip += c->rx_not_ip;
	o->rx_not_ours += c->rx_not_ours;
	o->rx_malformed += c->rx_malformed;
	o->tx_full += c->tx_full;
	o->tx_down += c->tx_down;
	o->tx_unroutable += c->tx_unroutable;
	o->tx_unresolved += c->tx_unresolved;
	o->tx_queue_full += c->tx_queue_full;
	o->arp_requests_in += c->arp_requests_in;
	o->arp_replies_in += c->arp_replies_in;
	o->arp_requests_out += c->arp_requests_out;
	o->arp_replies_out += c->arp_replies_out;
	o->arp_advised += c->arp_advised;
}

int eth_counters(const tern_link *link, tern_link_counters *out)
{
	const struct eth_link *w = (const struct eth_link *)link;

	if (!link || !out)
		return TERN_ERR_INVAL;
	if (link->ops != &eth_ops)
		return TERN_ERR_NOTSUP;
	/* The device's counts (frames, bytes, device drops), then ours. */
	if (tern_link_get_counters(w->inner, out) != 0)
		memset(out, 0, sizeof(*out));
	add_counters(out, &w->ctr);
	return 0;
}

int eth_config_check(const tern_tun_config *cfg)
{
	uint32_t mask;

	if (!cfg || cfg->prefix_len < 1 || cfg->prefix_len > 32)
		return TERN_ERR_INVAL;
	/* Our address must be one a neighbour can ARP for. */
	if (cfg->addr == 0 || cfg->addr >> 28 >= 0xe)
		return TERN_ERR_INVAL;
	mask = ~0u << (32 - cfg->prefix_len);
	/* The gateway is resolved by ARP, so it must be on the subnet. */
	if (cfg->gateway && (((cfg->gateway ^ cfg->addr) & mask) != 0 ||
			     cfg->gateway == cfg->addr))
		return TERN_ERR_INVAL;
	if (mac_is_group(cfg->mac))
		return TERN_ERR_INVAL;
	if (cfg->mtu &&
	    (cfg->mtu < IP_MTU_MIN || cfg->mtu > TERN_FRAME_MAX - ETH_HDR_LEN))
		return TERN_ERR_INVAL;
	return 0;
}

/* A random locally administered unicast address (IEEE 802: bit 1 of the
 * first octet set, bit 0 clear). */
static int random_mac(uint8_t *mac)
{
	if (getrandom(mac, ETH_ADDR_LEN, 0) != ETH_ADDR_LEN)
		return TERN_ERR_IO;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

static void eth_init(struct eth_link *w, tern_link *inner,
		     const tern_tun_config *cfg)
{
	w->inner = inner;
	w->addr = cfg->addr;
	w->mask = ~0u << (32 - cfg->prefix_len);
	/* RFC 3021: a /31 has no broadcast address; a /32 no neighbours. */
	w->has_bcast = cfg->prefix_len <= 30;
	w->gateway = cfg->gateway;
	w->sweep_at = TERN_TIME_NONE;
	for (size_t i = 0; i + 1 < ARP_CACHE_MAX; i++)
		w->cache[i].hnext = (uint16_t)(i + 2);
	w->free_head = 1;
	w->link.ops = &eth_ops;
	w->link.mtu = cfg->mtu ? cfg->mtu : ETH_MTU_DEFAULT;
	/* The device's offloads, less the Ethernet header. */
	w->link.tso_max =
		inner->tso_max > ETH_HDR_LEN ? inner->tso_max - ETH_HDR_LEN : 0;
	w->link.tx_csum = inner->tx_csum;
	w->link.name = inner->name;
}

tern_link *eth_wrap(tern_link *frames_link, const tern_tun_config *cfg,
		    int *err)
{
	struct eth_link *w;
	uint32_t mtu;
	int e = eth_config_check(cfg);

	if (!e && !frames_link)
		e = TERN_ERR_INVAL;
	if (e)
		goto fail;
	mtu = cfg->mtu ? cfg->mtu : ETH_MTU_DEFAULT;
	e = TERN_ERR_INVAL;
	if (frames_link->mtu < mtu + ETH_HDR_LEN)
		goto fail;
	e = TERN_ERR_NOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto fail;
	if (memcmp(cfg->mac, mac_zero, ETH_ADDR_LEN))
		memcpy(w->mac, cfg->mac, ETH_ADDR_LEN);
	else if ((e = random_mac(w->mac)) != 0) {
		free(w);
		goto fail;
	}
	eth_init(w, frames_link, cfg);
	tern_link_set_rx(frames_link, eth_rx, w);
	return &w->link;
fail:
	if (err)
		*err = e;
	return NULL;
}
