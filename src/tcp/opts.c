/* The TCP extensions negotiated in the handshake and carried on every
 * segment: window scaling, timestamps and PAWS (RFC 7323), and the SACK
 * permission (RFC 2018). What each segment says, and what an arriving
 * one's options do to the connection before and after its checks. */
#include "tcp/internal.h"

/* RFC 7323 2.3: a shift of at most 14. */
#define WSCALE_MAX 14
/* RFC 7323 5.5: TS.Recent is no longer valid after 24 days idle. */
#define PAWS_IDLE ((tern_time)24 * 24 * 3600 * TERN_SEC)
/* RFC 7323 3.2: the timestamps option takes 10 bytes, 12 padded. */
#define TS_OPT_LEN 12

/* The least shift that lets our largest receive buffer be advertised
 * (RFC 7323 2.3); Linux derives it from tcp_rmem[2] in the same way. */
uint8_t opt_wscale_for(uint32_t rcvbuf_max)
{
	uint8_t shift = 0;

	while (shift < WSCALE_MAX && (rcvbuf_max >> shift) > 65535u)
		shift++;
	return shift;
}

/* Our timestamp clock: milliseconds (RFC 7323 5.4 asks for 1 ms to 1 s
 * per tick) from an offset per address pair, so values do not reveal the
 * host's uptime and stay monotonic across connections of a pair, which
 * RFC 6191 needs. */
uint32_t opt_ts_now(const tcp_tcb *t, tern_time now)
{
	return (uint32_t)(now / TERN_MSEC) + t->ts_offset;
}

static bool ts_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Options of our SYN (what the settings offer) or SYN+ACK (what both
 * sides offered: RFC 7323 1.3 and 2.2, RFC 2018 2: an option goes in a
 * SYN+ACK only if the SYN had it). */
void opt_syn(tcp_tcb *t, tern_tcp_opts *o, bool synack, tern_time now)
{
	const tern_settings *c = t->cfg;
	bool ws = synack ? (t->flags & TCP_F_WSCALE) : c->tcp_window_scaling;
	bool ts = synack ? (t->flags & TCP_F_TSTAMP) : c->tcp_timestamps;
	bool sack = synack ? (t->flags & TCP_F_SACK) : c->tcp_sack;

	o->present = TERN_TCPOPT_MSS;
	o->mss = t->adv_mss;
	if (ws) {
		o->present |= TERN_TCPOPT_WSCALE;
		o->wscale = opt_wscale_for(t->rcvbuf_max);
	}
	if (ts) {
		o->present |= TERN_TCPOPT_TIMESTAMP;
		o->ts_val = opt_ts_now(t, now);
		o->ts_ecr = synack ? t->ts_recent : 0; /* RFC 7323 3.2 */
	}
	if (sack)
		o->present |= TERN_TCPOPT_SACK_PERM;
}

/* The peer's SYN or SYN+ACK: each extension is on when our settings
 * offer it and the peer's SYN has it. RFC 7323 2.3: a shift above 14 is
 * taken as 14. */
void opt_negotiate(tcp_tcb *t, const tern_tcp_opts *peer, tern_time now)
{
	const tern_settings *c = t->cfg;
	uint32_t has = peer ? peer->present : 0;

	t->flags &= ~(TCP_F_WSCALE | TCP_F_TSTAMP | TCP_F_SACK);
	t->snd_wscale = 0;
	t->rcv_wscale = 0;
	if (c->tcp_window_scaling && (has & TERN_TCPOPT_WSCALE)) {
		t->flags |= TCP_F_WSCALE;
		t->snd_wscale =
			peer->wscale > WSCALE_MAX ? WSCALE_MAX : peer->wscale;
		t->rcv_wscale = opt_wscale_for(t->rcvbuf_max);
	}
	if (c->tcp_timestamps && (has & TERN_TCPOPT_TIMESTAMP)) {
		t->flags |= TCP_F_TSTAMP;
		t->ts_recent = peer->ts_val; /* RFC 7323 4.3 */
		t->ts_recent_age = now;
		/* RFC 9293 3.7.1: options in every segment come off the
		 * payload a segment can carry */
		if (t->snd_mss > TS_OPT_LEN + 48)
			t->snd_mss -= TS_OPT_LEN;
	}
	if (c->tcp_sack && (has & TERN_TCPOPT_SACK_PERM))
		t->flags |= TCP_F_SACK;
}

/* Option bytes the SACK blocks may take: what the 40 bytes of options
 * leave, and in a segment with data what the MSS leaves beside it
 * (options come off the payload, RFC 6691). */
static uint32_t sack_room(const tcp_tcb *t, const tcp_seg *s)
{
	uint32_t room = (s->opts.present & TERN_TCPOPT_TIMESTAMP) ? 28 : 40;

	if (s->len > 0)
		room = s->len < t->snd_mss ? min_u32(room, t->snd_mss - s->len)
					   : 0;
	return room;
}

/* RFC 7323 3.2: with timestamps on, every segment but a RST carries
 * them, echoing TS.Recent; with SACK on, every ACK carries the blocks
 * (RFC 2018 4). Also keeps Last.ACK.sent (RFC 7323 4.3). */
void opt_segment(tcp_tcb *t, tcp_seg *s, tern_time now)
{
	if (s->flags & TERN_TCP_ACK)
		t->last_ack_sent = s->ack;
	if ((s->flags & TERN_TCP_RST) || (s->flags & TERN_TCP_SYN))
		return;
	if (t->flags & TCP_F_TSTAMP) {
		s->opts.present |= TERN_TCPOPT_TIMESTAMP;
		s->opts.ts_val = opt_ts_now(t, now);
		s->opts.ts_ecr = t->ts_recent;
	}
	if ((t->flags & TCP_F_SACK) && (s->flags & TERN_TCP_ACK))
		sack_fill(t, &s->opts, sack_room(t, s));
}

/* RFC 7323 5.3 R1 (PAWS): a segment with a timestamp older than
 * TS.Recent is a duplicate from an earlier cycle of the sequence space:
 * not acceptable, answered with an ACK (not a RST). A TS.Recent left
 * idle for 24 days is no longer valid (5.5) and rejects nothing. */
bool opt_paws_reject(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (!(t->flags & TCP_F_TSTAMP) ||
	    !(s->opts->present & TERN_TCPOPT_TIMESTAMP) ||
	    (s->flags & TERN_TCP_RST) ||
	    !ts_before(s->opts->ts_val, t->ts_recent))
		return false;
	if (now - t->ts_recent_age > PAWS_IDLE) {
		t->ts_recent = s->opts->ts_val;
		t->ts_recent_age = now;
		return false;
	}
	return true;
}

/* RFC 7323 4.3 R3: an acceptable segment whose timestamp is not older
 * than TS.Recent and which starts at or before Last.ACK.sent updates
 * TS.Recent: the timestamp echoed is then that of the segment that
 * made us acknowledge, so the peer measures the whole round trip. */
void opt_ts_update(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (!(t->flags & TCP_F_TSTAMP) ||
	    !(s->opts->present & TERN_TCPOPT_TIMESTAMP) ||
	    ts_before(s->opts->ts_val, t->ts_recent) ||
	    seq_gt(s->seq, t->last_ack_sent))
		return;
	t->ts_recent = s->opts->ts_val;
	t->ts_recent_age = now;
}

/* RFC 7323 4.1: an ACK of new data measures the round trip from the
 * TSecr it echoes; retransmissions need no Karn's rule, the echo names
 * the copy that arrived. An echo of 0 may be a peer's "no value". False
 * when the segment gives no sample (timing falls back to RFC 6298's). */
bool opt_rtt_sample(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (!(t->flags & TCP_F_TSTAMP) ||
	    !(s->opts->present & TERN_TCPOPT_TIMESTAMP) || s->opts->ts_ecr == 0)
		return false;
	/* In a loss episode an echo older than our last retransmission
	 * names an original whose ACK was lost (the retransmission was
	 * spurious, RFC 3522): the time since includes our timeout, and
	 * taking it would inflate the RTO with every backoff. */
	bool episode = t->rtx_start != TERN_TIME_NONE ||
		       (t->flags & TCP_F_IN_RECOVERY);
	if (episode && ts_before(s->opts->ts_ecr, t->ts_rtx))
		return false;
	uint32_t ms = opt_ts_now(t, now) - s->opts->ts_ecr;
	if (ms > 0x7fffffffu)
		return false; /* an echo from the future: no sample */
	rtt_sample_ts(t, (tern_time)ms * TERN_MSEC);
	return true;
}
