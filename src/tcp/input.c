/* RFC 9293 3.10.7.4: SEGMENT ARRIVES in SYN_RECEIVED and the synchronized
 * states, as the RFC's sequence of checks, one function each. */
#include "tcp/internal.h"

/* The acceptability test of the first check. */
static bool seq_acceptable(const tcp_tcb *t, const tcp_in *s)
{
	uint32_t wnd = rcv_wnd(t);
	uint32_t len = tcp_in_seglen(s);
	tcp_seq end = t->rcv_nxt + wnd;

	if (len == 0)
		return wnd == 0 ? s->seq == t->rcv_nxt
				: seq_in(s->seq, t->rcv_nxt, end);
	if (wnd == 0)
		return false;
	return seq_in(s->seq, t->rcv_nxt, end) ||
	       seq_in(s->seq + len - 1, t->rcv_nxt, end);
}

/* "If a segment's contents straddle the boundary between old and new,
 * only the new parts are processed": trim what precedes RCV.NXT and what
 * lies beyond the window. */
static void trim_to_window(tcp_tcb *t, tcp_in *s)
{
	if (seq_lt(s->seq, t->rcv_nxt)) {
		uint32_t old = seq_diff(t->rcv_nxt, s->seq);
		if (s->flags & TERN_TCP_SYN) {
			s->flags &= (uint8_t)~TERN_TCP_SYN;
			old--;
		}
		old = min_u32(old, s->len);
		sack_dsack_note(t, s->seq, s->seq + old); /* RFC 2883 4.1.3 */
		s->data += old;
		s->len -= old;
		s->seq = t->rcv_nxt;
	}
	tcp_seq end = t->rcv_nxt + rcv_wnd(t);
	if (seq_gt(s->seq + s->len, end)) {
		s->len = seq_diff(end, s->seq);
		s->flags &= (uint8_t)~TERN_TCP_FIN;
		t->flags |= TCP_F_ACK_NOW; /* tell the peer our window */
	} else if ((s->flags & TERN_TCP_FIN) && s->seq + s->len == end &&
		   rcv_wnd(t) > 0) {
		s->flags &= (uint8_t)~TERN_TCP_FIN; /* FIN just past it */
	}
}

/* RFC 5961 10, Linux's tcp_invalid_ratelimit: an out-of-window pure ACK
 * is answered at most once per interval, so two ends can never keep
 * answering each other's ACKs. Segments with data are always answered:
 * they are how a sender learns its retransmission was not needed. */
static void answer_unacceptable(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	tern_time gap = (tern_time)t->cfg->tcp_invalid_ratelimit * TERN_MSEC;

	if (tcp_in_seglen(s) == 0) {
		if (t->last_oow && now - t->last_oow < gap)
			return;
		t->last_oow = now;
	}
	t->flags |= TCP_F_ACK_NOW;
}

/* A FIN we have already taken, sent again: the peer missed our ACK. */
static bool is_fin_again(const tcp_tcb *t, const tcp_in *s)
{
	return (s->flags & TERN_TCP_FIN) &&
	       s->seq + tcp_in_seglen(s) == t->rcv_nxt;
}

/* First check: sequence number. An unacceptable segment draws an ACK
 * (unless it is a RST) and is dropped. In TIME_WAIT a retransmitted FIN
 * also restarts the 2 MSL timer. With a zero window, "special allowance
 * should be made to accept valid ACKs": a segment at RCV.NXT is kept with
 * its text cut off, and with it a FIN that came with no text: that needs
 * no buffer, and Linux accepts it too (some stacks resend a bare FIN into
 * a zero window for ever). */
static bool check_seq(tcp_tcb *t, tcp_in *s, tern_time now)
{
	if (seq_acceptable(t, s)) {
		opt_ts_update(t, s, now);
		trim_to_window(t, s);
		return true;
	}
	if (rcv_wnd(t) == 0 && s->seq == t->rcv_nxt &&
	    !(s->flags & TERN_TCP_SYN)) {
		opt_ts_update(t, s, now);
		t->flags |= TCP_F_ACK_NOW;
		if (s->len > 0)
			s->flags &= (uint8_t)~TERN_TCP_FIN;
		s->len = 0;
		return true;
	}
	seg_drop(t, TERN_DROP_TCP_OUT_OF_WINDOW, now);
	/* RFC 2883 4.1.1: a duplicate of acknowledged data is reported */
	if (s->len > 0 && seq_le(s->seq + s->len, t->rcv_nxt))
		sack_dsack_note(t, s->seq, s->seq + s->len);
	answer_unacceptable(t, s, now);
	if (t->state == TERN_TCP_TIME_WAIT && is_fin_again(t, s))
		timer_set(t, TCP_T_CLOSE,
			  now + 2 * (tern_time)t->cfg->msl_ms * TERN_MSEC);
	return false;
}

/* Second check: RST, with RFC 5961 3.2. Only a RST at exactly RCV.NXT
 * resets; one elsewhere in the window draws a challenge ACK; one outside
 * it is dropped. */
static void check_rst(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	uint32_t wnd = rcv_wnd(t);
	bool in_window = wnd == 0
				 ? s->seq == t->rcv_nxt
				 : seq_in(s->seq, t->rcv_nxt, t->rcv_nxt + wnd);

	if (!in_window) {
		seg_drop(t, TERN_DROP_TCP_RST_OUT_OF_WINDOW, now);
		return;
	}
	if (s->seq != t->rcv_nxt) {
		seg_drop(t, TERN_DROP_TCP_RST_IN_WINDOW, now);
		out_challenge_ack(t, now);
		return;
	}
	stat_inc(t, TERN_CTR_TCP_IN_RSTS);
	switch (t->state) {
	case TERN_TCP_SYN_RECEIVED:
		/* passive: "return this connection to LISTEN" (the
		 * listener never left it); active: "connection refused" */
		tcp_enter_closed(
			t, "rx RST",
			(t->flags & TCP_F_PASSIVE) ? 0 : TERN_ERR_REFUSED, now);
		return;
	case TERN_TCP_TIME_WAIT:
		/* Both FINs were exchanged: the connection completed, and a
		 * RST now (RFC 1337's TIME-WAIT assassination, which Linux
		 * also allows by default) ends only the wait. */
		tcp_enter_closed(t, "rx RST", 0, now);
		return;
	case TERN_TCP_ESTABLISHED:
	case TERN_TCP_CLOSE_WAIT:
		stat_inc(t, TERN_CTR_TCP_ESTAB_RESETS);
		break;
	default:
		break;
	}
	tcp_enter_closed(t, "rx RST", TERN_ERR_RESET, now);
}

/* Fourth check: SYN. RFC 5961 4.2: in a synchronized state any SYN draws
 * a challenge ACK. A passive SYN_RECEIVED connection "returns to LISTEN":
 * for tern's clone that is going away silently. */
static void check_syn(tcp_tcb *t, tern_time now)
{
	if (t->state == TERN_TCP_SYN_RECEIVED && (t->flags & TCP_F_PASSIVE)) {
		tcp_enter_closed(t, "rx SYN", 0, now);
		return;
	}
	seg_drop(t, TERN_DROP_TCP_SYN_CHALLENGED, now);
	stat_inc(t, TERN_CTR_TCP_SYN_CHALLENGE);
	out_challenge_ack(t, now);
}

/* Cases before the checks while our SYN is unacknowledged, both as Linux
 * handles them: a passive connection seeing the peer's SYN again sends
 * SYN+ACK again (its first one was lost); an active one (simultaneous
 * open, in SYN_RECEIVED or already in FIN_WAIT_1) takes the peer's
 * SYN+ACK as the ACK of its SYN (RFC 9293 figure 7, line 6). Returns true
 * when the segment is done with. */
static bool syn_received_special(tcp_tcb *t, tcp_in *s, tern_time now)
{
	if (!(s->flags & TERN_TCP_SYN) || (s->flags & TERN_TCP_RST) ||
	    s->seq != t->irs)
		return false;
	if (t->flags & TCP_F_PASSIVE) {
		if (s->flags & TERN_TCP_ACK)
			return false;
		out_syn(t, now);
		return true;
	}
	if ((s->flags & TERN_TCP_ACK) && seq_gt(s->ack, t->iss) &&
	    seq_le(s->ack, t->snd_max) && s->len == 0) {
		s->flags &= (uint8_t)~TERN_TCP_SYN;
		s->seq += 1;
		s->synack = true;
	}
	return false;
}

/* RFC 7323 5.3 R1: PAWS rejects an old duplicate; the ACK it draws is
 * limited as an out-of-window segment's, as in Linux. */
static void paws_drop(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	seg_drop(t, TERN_DROP_TCP_PAWS, now);
	stat_inc(t, TERN_CTR_TCP_PAWS_ESTAB);
	answer_unacceptable(t, s, now);
}

void tcp_input(tcp_tcb *t, const tern_tcp_hdr *h, tern_time now)
{
	tcp_in s = {
		.seq = h->seq,
		.ack = h->ack,
		.flags = h->flags,
		/* RFC 7323 2.3: the window of a SYN is never scaled */
		.wnd = (h->flags & TERN_TCP_SYN)
			       ? h->win
			       : (uint32_t)h->win << t->snd_wscale,
		.len = (uint32_t)h->payload_len,
		.data = h->payload,
		.opts = &h->opts,
	};

	t->last_rx = now;
	if (tcp_fast_path(t, &s, now))
		return;
	if (t->state == TERN_TCP_SYN_SENT)
		tcp_input_syn_sent(t, &s, now);
	else if (t->snd_una == t->iss && syn_received_special(t, &s, now))
		return;
	else if (opt_paws_reject(t, &s, now))
		paws_drop(t, &s, now);
	else if (s.flags & TERN_TCP_RST)
		check_rst(t, &s, now);
	else if (!check_seq(t, &s, now))
		; /* dropped; the ACK goes out below */
	else if (s.flags & TERN_TCP_SYN)
		check_syn(t, now);
	else if (tcp_rcv_ack(t, &s, now)) {
		rcv_text(t, &s, now);		 /* seventh */
		if (t->state != TERN_TCP_CLOSED) /* eighth */
			rcv_fin(t, &s, now);
		/* FIN_WAIT_1 whose FIN was acked by a segment without an
		 * in-order FIN of the peer's: on to FIN_WAIT_2. */
		if (t->state == TERN_TCP_FIN_WAIT_1 &&
		    (t->flags & TCP_F_FIN_ACKED))
			tcp_enter_fin_wait_2(t, now);
	}
	if (t->state != TERN_TCP_CLOSED)
		tcp_output(t, now);
}
