/* SYN cookies: a listener whose SYN queue is full (tcp_syncookies = 1),
 * or every listener (= 2), answers a SYN with a SYN+ACK whose ISN
 * encodes what the connection needs, and keeps nothing; the ACK that
 * completes the handshake brings the ISN back, plus one, and the
 * connection is made then (D. J. Bernstein, 1996; RFC 4987 3.6).
 *
 * The format is Linux's (net/ipv4/syncookies.c, secure_tcp_syn_cookie
 * and cookie_init_timestamp), written anew for tern:
 *
 *   ISN = H0(4-tuple) + peer's ISN + (count << 24)
 *         + ((H1(4-tuple, count) + mss index) mod 2^24)
 *
 * H0 and H1 are SipHash-2-4 under two keys of the stack's own, derived
 * from its secret as the others (stack.c); count is the minute of the
 * virtual clock, mod 256. Checking the ACK takes H0 and the peer's ISN
 * (SEG.SEQ - 1) off SEG.ACK - 1: the top 8 bits are then the minute the
 * cookie was made, which must be this one or the last (Linux's
 * MAX_SYNCOOKIE_AGE, 2), and the low 24 bits less H1 for that minute
 * must be an index into the MSS table. A guess passes with odds of
 * about 2 * 4 / 2^24 per try, and only for a 4-tuple the attacker can
 * receive at.
 *
 * An ISN has no room for window scaling, SACK or ECN. With timestamps
 * on both sides they ride in the low 6 bits of our TSval, before the
 * pair's offset is added (4 bits of the peer's window shift, 0xf for
 * none; 1 bit SACK; 1 bit ECN), and come back in the ACK's TSecr. The
 * TSval is rounded down so it never runs ahead of our clock. Without
 * timestamps a cookie connection has neither window scaling nor SACK,
 * as in Linux. */
#include "stack/syncookie.h"

#include <tern/wire.h>

#include "stack/siphash.h"
#include "stack/stack.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define TS_BITS 6
#define TS_MASK ((1u << TS_BITS) - 1)
#define TS_WSCALE_MASK 0xfu
#define TS_SACK (1u << 4)
#define TS_ECN (1u << 5)
/* RFC 9293 3.7.1: what a SYN without the MSS option means */
#define MSS_DEFAULT 536

/* Linux's msstab: the MSS of most paths (1460 Ethernet, 1440 and 1452
 * PPPoE and tunnels, 1300 IPv6-in-IPv4 and VPNs, 536 the minimum). */
const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT] = {536, 1300, 1440, 1460};

static uint32_t cookie_hash(const uint64_t key[2], const tern_endpoint *local,
			    const tern_endpoint *remote, uint32_t count)
{
	uint8_t b[16];

	tern_store32(b, remote->addr);
	tern_store32(b + 4, local->addr);
	tern_store16(b + 8, remote->port);
	tern_store16(b + 10, local->port);
	tern_store32(b + 12, count);
	return (uint32_t)siphash24(key, b, sizeof(b));
}

static uint32_t minute(tern_time now)
{
	return (uint32_t)(now / SYNCOOKIE_PERIOD);
}

uint32_t syncookie_make(const uint64_t key[2][2], const tern_endpoint *local,
			const tern_endpoint *remote, uint32_t peer_isn,
			uint16_t peer_mss, tern_time now, uint16_t *mss)
{
	uint32_t count = minute(now);
	uint32_t index = SYNCOOKIE_MSS_COUNT - 1;

	/* the largest MSS of the table the peer can take */
	while (index > 0 && peer_mss < syncookie_msstab[index])
		index--;
	*mss = syncookie_msstab[index];
	return cookie_hash(key[0], local, remote, 0) + peer_isn +
	       (count << COOKIE_BITS) +
	       ((cookie_hash(key[1], local, remote, count) + index) &
		COOKIE_MASK);
}

uint16_t syncookie_check(const uint64_t key[2][2], const tern_endpoint *local,
			 const tern_endpoint *remote, uint32_t peer_isn,
			 uint32_t cookie, tern_time now)
{
	uint32_t count = minute(now);
	uint32_t c =
		cookie - (cookie_hash(key[0], local, remote, 0) + peer_isn);
	uint32_t age =
		(count - (c >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);

	if (age >= SYNCOOKIE_MAX_AGE)
		return 0;
	uint32_t index = (c - cookie_hash(key[1], local, remote, count - age)) &
			 COOKIE_MASK;
	return index < SYNCOOKIE_MSS_COUNT ? syncookie_msstab[index] : 0;
}

uint32_t syncookie_ts_make(uint32_t ts_clock, const syncookie_opts *o)
{
	uint32_t bits = o->wscale & TS_WSCALE_MASK;
	uint32_t ts = (ts_clock & ~TS_MASK) | bits;

	if (o->sack)
		ts |= TS_SACK;
	if (o->ecn)
		ts |= TS_ECN;
	/* never ahead of the clock: the peer's PAWS and RTT see our clock
	 * at most 63 ms behind, as with Linux's cookies */
	if ((int32_t)(ts - ts_clock) > 0)
		ts -= 1u << TS_BITS;
	return ts;
}

void syncookie_ts_decode(uint32_t ts_echo, syncookie_opts *o)
{
	o->wscale = (uint8_t)(ts_echo & TS_WSCALE_MASK);
	o->sack = ts_echo & TS_SACK;
	o->ecn = ts_echo & TS_ECN;
}

/* ---- the stack's side ---- */

/* Linux's tcp_synq_no_recent_overflow(), turned round: ACKs are looked at
 * as cookies only while one this listener sent may still be good. */
static bool cookies_recent(const tern_conn *l, tern_time now)
{
	return l->cookies_used &&
	       now - l->cookie_sent <=
		       SYNCOOKIE_MAX_AGE * (tern_time)SYNCOOKIE_PERIOD;
}

static uint16_t syn_mss(const tern_tcp_hdr *syn)
{
	return (syn->opts.present & TERN_TCPOPT_MSS) ? syn->opts.mss
						     : MSS_DEFAULT;
}

/* Linux's cookie_v4_init_sequence and tcp_make_synack for a cookie: the
 * SYN+ACK a kept connection would send, its ISN the cookie, its TSval
 * (when timestamps are on) carrying the options. */
void syncookie_answer(tern_conn *l, const tern_endpoint *local,
		      const tern_endpoint *remote, const tern_tcp_hdr *syn,
		      tern_time now)
{
	tern_stack *s = l->stack;
	uint16_t mss;
	uint32_t iss = syncookie_make(s->cookie_key, local, remote, syn->seq,
				      syn_mss(syn), now, &mss);
	uint32_t offset = stack_ts_offset(s, local, remote);
	tcp_seg seg;

	tcp_synack_stateless(&l->tcb, syn, iss, offset, &seg, now);
	if (seg.opts.present & TERN_TCPOPT_TIMESTAMP) {
		syncookie_opts o = {
			.wscale = SYNCOOKIE_NO_WSCALE,
			.sack = seg.opts.present & TERN_TCPOPT_SACK_PERM,
		};
		if (seg.opts.present & TERN_TCPOPT_WSCALE)
			o.wscale =
				syn->opts.wscale > 14 ? 14 : syn->opts.wscale;
		seg.opts.ts_val =
			syncookie_ts_make((uint32_t)(now / TERN_MSEC), &o) +
			offset;
	}
	l->cookies_used = true;
	l->cookie_sent = now;
	s->stats.counters[TERN_CTR_SYNCOOKIES_SENT]++;
	stack_send_tcp(s, local, remote, &seg, 0, now);
}

/* Linux's cookie_timestamp_decode: the options the SYN had, as the ACK's
 * timestamp echo brings them back; false when they cannot be had now
 * (timestamps, SACK or window scaling switched off meanwhile). */
static bool cookie_options(tern_stack *s, const tern_endpoint *local,
			   const tern_endpoint *remote, const tern_tcp_hdr *h,
			   tern_tcp_opts *syn)
{
	const tern_settings *c = &s->cfg;
	syncookie_opts o;

	if (!(h->opts.present & TERN_TCPOPT_TIMESTAMP))
		return true; /* MSS only */
	if (!c->tcp_timestamps)
		return false;
	syncookie_ts_decode(h->opts.ts_ecr - stack_ts_offset(s, local, remote),
			    &o);
	if ((o.sack && !c->tcp_sack) ||
	    (o.wscale != SYNCOOKIE_NO_WSCALE && !c->tcp_window_scaling))
		return false;
	syn->present |= TERN_TCPOPT_TIMESTAMP;
	syn->ts_val = h->opts.ts_val;
	if (o.sack)
		syn->present |= TERN_TCPOPT_SACK_PERM;
	if (o.wscale != SYNCOOKIE_NO_WSCALE) {
		syn->present |= TERN_TCPOPT_WSCALE;
		syn->wscale = o.wscale;
	}
	return true;
}

/* Linux's cookie_v4_check: an ACK (no SYN, no RST; data and FIN may come
 * with it) for a listener with no connection of its 4-tuple. A valid
 * cookie makes the connection the SYN would have made, which then takes
 * the ACK by the usual path, data and all; the accept queue being full
 * drops the ACK (tcp_v4_syn_recv_sock). Returns 0 when done with the
 * segment, else the reason under which the caller drops it and answers
 * with a RST, as Linux's listener does for an ACK it cannot place. */
int syncookie_ack(tern_conn *l, const tern_endpoint *local,
		  const tern_endpoint *remote, const tern_tcp_hdr *h,
		  tern_time now)
{
	tern_stack *s = l->stack;

	if (!s->cfg.tcp_syncookies || !cookies_recent(l, now))
		return TERN_DROP_TCP_LISTEN_NO_SYN;
	uint16_t mss = syncookie_check(s->cookie_key, local, remote, h->seq - 1,
				       h->ack - 1, now);
	if (mss == 0) {
		s->stats.counters[TERN_CTR_SYNCOOKIES_FAILED]++;
		return TERN_DROP_TCP_SYNCOOKIE_INVALID;
	}
	/* counted before the options are looked at, as Linux */
	s->stats.counters[TERN_CTR_SYNCOOKIES_RECV]++;
	tern_tcp_opts syn = {.present = TERN_TCPOPT_MSS, .mss = mss};
	if (!cookie_options(s, local, remote, h, &syn))
		return TERN_DROP_TCP_SYNCOOKIE_INVALID;
	if (listener_overflow(l, local, remote, now))
		return 0;
	tern_conn *c = listener_child(l, local, remote, now);
	if (!c)
		return 0;
	tcp_open_from_cookie(&c->tcb, h->seq - 1, h->ack - 1, &syn, now);
	tcp_input(&c->tcb, h, now);
	conn_sync_timer(c);
	return 0;
}
