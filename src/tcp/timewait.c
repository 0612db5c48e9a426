/* TIME_WAIT without the connection (RFC 9293 3.10.7.4, RFC 6191): once an
 * orphaned connection reaches TIME_WAIT the stack keeps only a compact
 * record (stack/timewait.c) holding this tcp_tw; segments for it are
 * answered here exactly as the whole TCB in TIME_WAIT answers them
 * (input.c, ack.c), and a new SYN may start the next incarnation. */
#include <string.h>

#include "tcp/internal.h"

void tcp_tw_capture(tcp_tw *tw, tcp_tcb *t, tern_time now)
{
	memset(tw, 0, sizeof(*tw));
	tw->snd_nxt = snd_ctl_seq(t);
	tw->rcv_nxt = t->rcv_nxt;
	tw->ts_recent = t->ts_recent;
	tw->win = rcv_window_adv(t);
	tw->rcv_wscale = t->rcv_wscale;
	if (t->flags & TCP_F_TSTAMP)
		tw->flags |= TCP_TW_TSTAMP;
	if (t->flags & TCP_F_SACK)
		tw->flags |= TCP_TW_SACK;
	if (t->last_oow && now - t->last_oow < (tern_time)UINT32_MAX) {
		tw->last_oow_ms = (uint32_t)(t->last_oow / TERN_MSEC);
		tw->flags |= TCP_TW_OOW;
	}
}

static bool ts_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* RFC 6191 2: may a SYN for this 4-tuple open a new incarnation? With
 * timestamps on the old one: only a SYN whose timestamp is newer (or, as
 * new, with a higher sequence number), unless the new one will have no
 * timestamps, when the sequence number decides. Without timestamps on the
 * old one: a SYN that will use them is taken; else the sequence number
 * decides (RFC 1122 4.2.2.13). */
bool tcp_tw_syn_acceptable(const tcp_tw *tw, const tern_tcp_hdr *h,
			   const tern_settings *cfg)
{
	bool seq_newer = seq_gt(h->seq, tw->rcv_nxt);
	bool ts_new = cfg->tcp_timestamps &&
		      (h->opts.present & TERN_TCPOPT_TIMESTAMP);

	if ((h->flags & (TERN_TCP_SYN | TERN_TCP_ACK | TERN_TCP_RST)) !=
	    TERN_TCP_SYN)
		return false;
	if (!(tw->flags & TCP_TW_TSTAMP))
		return ts_new || seq_newer;
	if (!ts_new)
		return seq_newer;
	if (h->opts.ts_val == tw->ts_recent)
		return seq_newer;
	return !ts_before(h->opts.ts_val, tw->ts_recent);
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the window and options the
 * connection's last segments carried (RFC 7323 3.2: TSecr = TS.Recent). */
static void tw_ack(const tcp_tw *tw, const tcp_tw_ctx *c, tcp_tw_out *o)
{
	tcp_seg *s = &o->ack;

	memset(s, 0, sizeof(*s));
	s->seq = tw->snd_nxt;
	s->ack = tw->rcv_nxt;
	s->flags = TERN_TCP_ACK;
	s->win = tw->win;
	if (tw->flags & TCP_TW_TSTAMP) {
		s->opts.present |= TERN_TCPOPT_TIMESTAMP;
		s->opts.ts_val = c->ts_now;
		s->opts.ts_ecr = tw->ts_recent;
	}
	o->send_ack = true;
	c->stats->counters[TERN_CTR_TCP_PURE_ACKS_OUT]++;
}

/* RFC 5961 10 (Linux's tcp_invalid_ratelimit), as answer_unacceptable():
 * an unacceptable pure ACK is answered at most once per interval. */
static void tw_answer(tcp_tw *tw, const tern_tcp_hdr *h, const tcp_tw_ctx *c,
		      tcp_tw_out *o)
{
	uint32_t now_ms = (uint32_t)(c->now / TERN_MSEC);
	bool pure = h->payload_len == 0 &&
		    !(h->flags & (TERN_TCP_SYN | TERN_TCP_FIN));

	if (pure) {
		if ((tw->flags & TCP_TW_OOW) &&
		    now_ms - tw->last_oow_ms < c->cfg->tcp_invalid_ratelimit)
			return;
		tw->last_oow_ms = now_ms;
		tw->flags |= TCP_TW_OOW;
	}
	tw_ack(tw, c, o);
}

static uint32_t tw_wnd(const tcp_tw *tw)
{
	return (uint32_t)tw->win << tw->rcv_wscale;
}

static uint32_t seglen(const tern_tcp_hdr *h)
{
	return (uint32_t)h->payload_len + ((h->flags & TERN_TCP_SYN) ? 1 : 0) +
	       ((h->flags & TERN_TCP_FIN) ? 1 : 0);
}

/* The first check's acceptability test (input.c seq_acceptable). */
static bool tw_seq_acceptable(const tcp_tw *tw, const tern_tcp_hdr *h)
{
	uint32_t wnd = tw_wnd(tw), len = seglen(h);
	tcp_seq end = tw->rcv_nxt + wnd;

	if (len == 0)
		return wnd == 0 ? h->seq == tw->rcv_nxt
				: seq_in(h->seq, tw->rcv_nxt, end);
	if (wnd == 0)
		return false;
	return seq_in(h->seq, tw->rcv_nxt, end) ||
	       seq_in(h->seq + len - 1, tw->rcv_nxt, end);
}

/* Second check, RST (RFC 5961 3.2): at RCV.NXT it ends the wait (RFC
 * 1337's assassination, allowed by Linux too); elsewhere in the window
 * it draws a challenge ACK. */
static void tw_rst(tcp_tw *tw, const tern_tcp_hdr *h, const tcp_tw_ctx *c,
		   tcp_tw_out *o)
{
	uint32_t wnd = tw_wnd(tw);
	bool in = wnd == 0 ? h->seq == tw->rcv_nxt
			   : seq_in(h->seq, tw->rcv_nxt, tw->rcv_nxt + wnd);

	if (!in) {
		o->drop = TERN_DROP_TCP_RST_OUT_OF_WINDOW;
	} else if (h->seq != tw->rcv_nxt) {
		o->drop = TERN_DROP_TCP_RST_IN_WINDOW;
		o->challenge = true;
		tw_ack(tw, c, o);
	} else {
		c->stats->counters[TERN_CTR_TCP_IN_RSTS]++;
		o->action = TCP_TW_CLOSE;
	}
}

/* An unacceptable segment: dropped and answered; a retransmitted FIN
 * (the peer missed our last ACK) restarts the 2 MSL (RFC 9293 3.10.7.4,
 * TIME_WAIT; scenario 14a). Duplicate text is reported with a D-SACK
 * block (RFC 2883 4.1.1). */
static void tw_unacceptable(tcp_tw *tw, const tern_tcp_hdr *h,
			    const tcp_tw_ctx *c, tcp_tw_out *o)
{
	tcp_seq end = h->seq + (uint32_t)h->payload_len;

	o->drop = TERN_DROP_TCP_OUT_OF_WINDOW;
	tw_answer(tw, h, c, o);
	if (o->send_ack && (tw->flags & TCP_TW_SACK) && h->payload_len > 0 &&
	    seq_le(end, tw->rcv_nxt)) {
		o->ack.opts.present |= TERN_TCPOPT_SACK;
		o->ack.opts.sack_count = 1;
		o->ack.opts.sack[0].left = h->seq;
		o->ack.opts.sack[0].right = end;
		c->stats->counters[TERN_CTR_TCP_DSACK_SENT]++;
	}
	if ((h->flags & TERN_TCP_FIN) && h->seq + seglen(h) == tw->rcv_nxt)
		o->action = TCP_TW_RESTART;
}

/* An acceptable segment: TS.Recent moves (RFC 7323 4.3), a SYN draws a
 * challenge ACK (RFC 5961 4.2), one without ACK is dropped, an ACK of
 * data never sent is answered (RFC 5961 5.2); text is ignored ("this
 * should not occur since a FIN has been received"). */
static void tw_acceptable(tcp_tw *tw, const tern_tcp_hdr *h,
			  const tcp_tw_ctx *c, tcp_tw_out *o)
{
	if ((tw->flags & TCP_TW_TSTAMP) &&
	    (h->opts.present & TERN_TCPOPT_TIMESTAMP) &&
	    !ts_before(h->opts.ts_val, tw->ts_recent) &&
	    !seq_gt(h->seq, tw->rcv_nxt))
		tw->ts_recent = h->opts.ts_val;
	if (h->flags & TERN_TCP_SYN) {
		o->drop = TERN_DROP_TCP_SYN_CHALLENGED;
		c->stats->counters[TERN_CTR_TCP_SYN_CHALLENGE]++;
		o->challenge = true;
		tw_ack(tw, c, o);
	} else if (!(h->flags & TERN_TCP_ACK)) {
		o->drop = TERN_DROP_TCP_NO_ACK;
	} else if (seq_gt(h->ack, tw->snd_nxt)) {
		o->drop = TERN_DROP_TCP_BAD_ACK;
		tw_ack(tw, c, o);
	}
}

/* RFC 7323 5.3 R1 (PAWS), as opt_paws_reject(): an older timestamp marks
 * an old duplicate. A RST is taken whatever its timestamp (RFC 7323 5.2,
 * as Linux). */
static bool tw_paws_reject(const tcp_tw *tw, const tern_tcp_hdr *h)
{
	return (tw->flags & TCP_TW_TSTAMP) && !(h->flags & TERN_TCP_RST) &&
	       (h->opts.present & TERN_TCPOPT_TIMESTAMP) &&
	       ts_before(h->opts.ts_val, tw->ts_recent);
}

void tcp_tw_input(tcp_tw *tw, const tern_tcp_hdr *h, const tcp_tw_ctx *c,
		  tcp_tw_out *o)
{
	memset(o, 0, sizeof(*o));
	o->action = TCP_TW_KEEP;
	if ((h->flags & (TERN_TCP_SYN | TERN_TCP_ACK | TERN_TCP_RST)) ==
	    TERN_TCP_SYN) {
		/* RFC 6191: taken for a new incarnation, or dropped
		 * silently, leaving this one in TIME_WAIT. With nobody
		 * listening it is answered with our ACK, as Linux (the
		 * peer then learns the old connection's state). */
		if (!tcp_tw_syn_acceptable(tw, h, c->cfg))
			o->drop = TERN_DROP_TCP_TW_OLD_SYN;
		else if (c->listening)
			o->action = TCP_TW_NEW_SYN;
		else
			tw_ack(tw, c, o);
	} else if (tw_paws_reject(tw, h)) {
		o->drop = TERN_DROP_TCP_PAWS;
		c->stats->counters[TERN_CTR_TCP_PAWS_ESTAB]++;
		tw_answer(tw, h, c, o);
	} else if (h->flags & TERN_TCP_RST) {
		tw_rst(tw, h, c, o);
	} else if (!tw_seq_acceptable(tw, h)) {
		tw_unacceptable(tw, h, c, o);
	} else {
		tw_acceptable(tw, h, c, o);
	}
}
