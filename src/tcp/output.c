/* What the engine sends: data and FIN under the send window, congestion
 * window, Nagle and sender-side SWS avoidance; SYN and SYN+ACK; ACKs;
 * RSTs; window probes and keepalives. */
#include <string.h>

#include "tcp/internal.h"

/* The sequence number our FIN takes (valid when TCP_F_FIN_QUEUED). */
tcp_seq snd_fin_seq(const tcp_tcb *t)
{
	return t->snd_buf_seq + t->snd.len;
}

/* Data or a FIN waits at or beyond snd_nxt. */
bool snd_pending(const tcp_tcb *t)
{
	uint32_t off = seq_diff(t->snd_nxt, t->snd_buf_seq);

	if (off > t->snd.len)
		return false; /* the FIN has been sent */
	return off < t->snd.len || (t->flags & TCP_F_FIN_QUEUED);
}

/* Limited transmit (RFC 3042, RFC 5681 3.2 step 1): on the first and
 * second duplicate ACK, one new segment each may go beyond cwnd (which
 * stays as it is), so that a small window still draws the three duplicate
 * ACKs fast retransmit needs. */
static uint32_t limited_transmit(const tcp_tcb *t)
{
	if (t->dupacks == 0 || t->dupacks > 2 ||
	    (t->flags & TCP_F_IN_RECOVERY) || t->snd_nxt != t->snd_max)
		return 0;
	return (uint32_t)t->dupacks * t->snd_mss;
}

/* Sequence space left in min(SND.WND, cwnd) beyond snd_nxt. */
uint32_t snd_usable(const tcp_tcb *t)
{
	uint32_t wnd = min_u32(t->snd_wnd, t->cwnd + limited_transmit(t));
	uint32_t flight = seq_diff(t->snd_nxt, t->snd_una);

	return wnd > flight ? wnd - flight : 0;
}

/* The largest flight of each window: on_new_ack() grows cwnd only when
 * it was used (RFC 7661). */
static void flight_note(tcp_tcb *t)
{
	uint32_t flight = seq_diff(t->snd_max, t->snd_una);

	if (seq_ge(t->snd_una, t->max_flight_seq)) {
		t->max_flight = flight;
		t->max_flight_seq = t->snd_max;
	} else if (flight > t->max_flight) {
		t->max_flight = flight;
	}
}

/* Every segment leaves here: the options every segment carries are
 * added (RFC 7323 3.2) and the stack sends it. */
static void emit(tcp_tcb *t, tcp_seg *s, tern_time now)
{
	opt_segment(t, s, now);
	t->env->emit(t, s, now);
}

static void ack_sent(tcp_tcb *t)
{
	t->flags &= ~TCP_F_ACK_NOW;
	t->rcv_unacked = 0;
	timer_clear(t, TCP_T_DELACK);
}

static void seg_init(tcp_tcb *t, tcp_seg *s, tcp_seq seq, uint8_t flags)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->flags = flags;
	if (flags & TERN_TCP_ACK) {
		s->ack = t->rcv_nxt;
		s->win = rcv_window_adv(t);
	}
}

enum out_kind { OUT_NEW_OR_RTX, OUT_PROBE };

/* One segment of queued data (and/or the FIN) starting at seq. A window
 * probe sent again is counted as a probe, not as a retransmission. */
static void out_data(tcp_tcb *t, tcp_seq seq, uint32_t len, bool fin,
		     enum out_kind kind, tern_time now)
{
	tcp_seg s;
	uint32_t off = seq_diff(seq, t->snd_buf_seq);
	tcp_seq end = seq + len + (fin ? 1 : 0);

	seg_init(t, &s, seq, TERN_TCP_ACK);
	s.len = len;
	s.ndata = ring_peek(&t->snd, off, len, s.data);
	if (fin)
		s.flags |= TERN_TCP_FIN;
	if (len && off + len == t->snd.len)
		s.flags |= TERN_TCP_PSH; /* it empties the buffer, as Linux */
	if (seq_lt(seq, t->snd_max) && kind != OUT_PROBE) {
		t->ts_rtx = opt_ts_now(t, now);
		t->total_retrans++;
		stat_inc(t, TERN_CTR_TCP_RETRANS_SEGS);
		if ((t->flags & TCP_F_RTT_TIMING) &&
		    seq_in(t->rtt_seq, seq, end))
			rtt_cancel(t); /* Karn's rule */
	} else if (kind != OUT_PROBE) {
		rtt_start(t, seq, now);
	}
	if (seq_gt(end, t->snd_nxt))
		t->snd_nxt = end;
	if (seq_gt(end, t->snd_max)) {
		t->snd_max = end;
		flight_note(t);
	}
	if (!timer_armed(t, TCP_T_RTX) && !timer_armed(t, TCP_T_PERSIST))
		timer_set(t, TCP_T_RTX, now + t->rto);
	ack_sent(t);
	emit(t, &s, now);
}

/* Nagle (RFC 1122 4.2.3.4) and sender SWS avoidance (RFC 9293
 * 3.8.6.2.1) for a segment of len bytes shorter than the MSS. */
static bool small_segment_ok(const tcp_tcb *t, uint32_t len, uint32_t avail)
{
	if (seq_lt(t->snd_nxt, t->snd_max))
		return true; /* resending what already went out once */
	if (len == avail &&
	    ((t->flags & TCP_F_NODELAY) || t->snd_una == t->snd_max))
		return true;
	return t->max_snd_wnd > 0 && len >= t->max_snd_wnd / 2;
}

/* Payload of one segment: the MSS, or with TSO (the link cuts at the
 * MSS) as many whole MSS as tso_max holds. */
static uint32_t seg_size(const tcp_tcb *t)
{
	if (t->tso_max <= t->snd_mss)
		return t->snd_mss;
	return t->tso_max - t->tso_max % t->snd_mss;
}

/* Sends the next segment if `usable` (window space beyond snd_nxt) and
 * the rules allow it. After a timeout, octets the peer SACKed are
 * skipped (RFC 6675 5.1). */
static bool send_next(tcp_tcb *t, uint32_t usable, tern_time now)
{
	if (timer_armed(t, TCP_T_PERSIST))
		return false;
	tcp_seq from = t->snd_nxt;
	uint32_t max = sack_skip(t, &t->snd_nxt, seg_size(t));
	usable -= min_u32(usable, seq_diff(t->snd_nxt, from));
	uint32_t off = seq_diff(t->snd_nxt, t->snd_buf_seq);
	if (off > t->snd.len)
		return false;
	uint32_t avail = t->snd.len - off;
	uint32_t len = min_u32(min_u32(avail, max), usable);
	/* The FIN takes a sequence number and needs room for it in the
	 * window, as in Linux (tcp_snd_wnd_test). */
	bool fin =
		(t->flags & TCP_F_FIN_QUEUED) && len == avail && usable > len;

	if (len == 0 && !fin)
		return false;
	if (len < t->snd_mss && !fin && !small_segment_ok(t, len, avail))
		return false;
	uint32_t flight = seq_diff(t->snd_nxt, t->snd_una) + len;
	if (flight > t->cwnd && !(t->flags & TCP_F_IN_RECOVERY))
		t->lt_bytes += min_u32(len, flight - t->cwnd);
	out_data(t, t->snd_nxt, len, fin, OUT_NEW_OR_RTX, now);
	return true;
}

/* New data under the peer's window alone, for SACK recovery, where pipe
 * stands in for the flight (RFC 6675 5, NextSeg() rule 2). */
bool snd_new_data(tcp_tcb *t, tern_time now)
{
	uint32_t flight = seq_diff(t->snd_nxt, t->snd_una);

	if (seq_lt(t->snd_nxt, t->snd_max) || flight >= t->snd_wnd)
		return false;
	return send_next(t, min_u32(t->snd_wnd - flight, t->snd_mss), now);
}

/* RFC 9293 3.8.6.1: with nothing in flight and nothing sendable (a zero
 * window, or a window too small to send into under SWS avoidance), the
 * persist timer takes over from the retransmission timer. */
static void persist_check(tcp_tcb *t, tern_time now)
{
	if (!snd_pending(t) || t->snd_una != t->snd_max) {
		if (!snd_pending(t))
			timer_clear(t, TCP_T_PERSIST);
		return;
	}
	if (timer_armed(t, TCP_T_PERSIST))
		return;
	timer_clear(t, TCP_T_RTX);
	timer_set(t, TCP_T_PERSIST, now + persist_interval(t));
}

void tcp_output(tcp_tcb *t, tern_time now)
{
	if (tcp_state_props(t->state) & TCP_P_SEND_DATA) {
		if ((t->flags & TCP_F_IN_RECOVERY) && (t->flags & TCP_F_SACK))
			sack_recovery_output(t, now);
		else
			while (send_next(t, snd_usable(t), now))
				;
		persist_check(t, now);
	}
	if ((t->flags & TCP_F_ACK_NOW) && t->state >= TERN_TCP_SYN_RECEIVED &&
	    !(t->env->defer_ack && t->env->defer_ack(t)))
		out_ack(t, now);
}

/* The ACK of a whole batch of received segments: a data segment sent
 * meanwhile may have carried it already. */
void tcp_flush_ack(tcp_tcb *t, tern_time now)
{
	if ((t->flags & TCP_F_ACK_NOW) && t->state >= TERN_TCP_SYN_RECEIVED &&
	    t->state != TERN_TCP_CLOSED)
		out_ack(t, now);
}

/* The sequence number of a segment without data (a pure ACK, a RST):
 * SND.NXT meaning the highest sequence sent, snd_max, since after a
 * timeout snd_nxt goes back to SND.UNA and a number below what the peer
 * has received would be unacceptable there (an ACK war, or a RST
 * ignored); but never beyond the right edge of the peer's window, where
 * a window probe's octet may lie that the peer did not take: Linux's
 * tcp_acceptable_seq(). */
tcp_seq snd_ctl_seq(const tcp_tcb *t)
{
	tcp_seq edge = t->snd_una + t->snd_wnd;

	return seq_gt(t->snd_max, edge) ? edge : t->snd_max;
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
void out_ack(tcp_tcb *t, tern_time now)
{
	tcp_seg s;

	seg_init(t, &s, snd_ctl_seq(t), TERN_TCP_ACK);
	ack_sent(t);
	stat_inc(t, TERN_CTR_TCP_PURE_ACKS_OUT);
	emit(t, &s, now);
}

/* RFC 5961 3.2, 4.2, 5.2: the same ACK, counted apart, if the stack's
 * limit (RFC 5961 10, tcp_challenge_ack_limit) lets it go: Linux counts
 * TCPChallengeACK only for those sent (tcp_send_challenge_ack). */
void out_challenge_ack(tcp_tcb *t, tern_time now)
{
	if (t->env->challenge_ack_ok && !t->env->challenge_ack_ok(t, now))
		return;
	stat_inc(t, TERN_CTR_TCP_CHALLENGE_ACKS);
	out_ack(t, now);
}

/* A SYN or SYN+ACK with ISS, the MSS option (RFC 9293 3.7.1) and the
 * extensions (opts.c). Built apart from sending so that a listener can
 * answer with the SYN+ACK a connection would send without keeping one
 * (tcp_synack_stateless, for SYN cookies). */
void out_syn_build(tcp_tcb *t, tcp_seg *s, bool synack, tern_time now)
{
	seg_init(t, s, t->iss,
		 synack ? TERN_TCP_SYN | TERN_TCP_ACK : TERN_TCP_SYN);
	/* RFC 7323 2.2: the window of a SYN or SYN+ACK is never scaled */
	s->win = rcv_window_syn(t);
	if (synack)
		rcv_syn_edge(t, s->win);
	opt_syn(t, &s->opts, synack, now);
}

/* SYN in SYN_SENT, SYN+ACK in SYN_RECEIVED. */
void out_syn(tcp_tcb *t, tern_time now)
{
	tcp_seg s;
	bool synack = t->state != TERN_TCP_SYN_SENT; /* we have their SYN */

	out_syn_build(t, &s, synack, now);
	/* Karn's rule (RFC 6298 3): only a first SYN or SYN+ACK is timed.
	 * Sent again (on a timeout, for the peer's duplicate SYN, or as the
	 * SYN+ACK of a simultaneous open), the ACK may answer either copy,
	 * so no sample (Linux: no SYN+ACK sample once req->num_retrans). */
	if (t->snd_max == t->iss)
		rtt_start(t, t->iss, now);
	else
		rtt_cancel(t);
	if (t->backoff > 0) { /* counted in both, as Linux */
		stat_inc(t, TERN_CTR_TCP_SYN_RETRANS);
		stat_inc(t, TERN_CTR_TCP_RETRANS_SEGS);
		t->total_retrans++;
	}
	t->snd_nxt = seq_max(t->snd_nxt, t->iss + 1);
	t->snd_max = seq_max(t->snd_max, t->iss + 1);
	if (!timer_armed(t, TCP_T_RTX))
		timer_set(t, TCP_T_RTX, now + t->rto);
	if (synack)
		ack_sent(t);
	emit(t, &s, now);
}

/* A reset from this connection: <SEQ=seq><CTL=RST>, or RST+ACK carrying
 * RCV.NXT as Linux sends on abort. */
void out_rst(tcp_tcb *t, tcp_seq seq, bool with_ack, tern_time now)
{
	tcp_seg s;

	memset(&s, 0, sizeof(s));
	s.seq = seq;
	s.flags = TERN_TCP_RST;
	if (with_ack) {
		s.flags |= TERN_TCP_ACK;
		s.ack = t->rcv_nxt;
	}
	emit(t, &s, now);
}

/* Sends again up to len octets from seq (below snd_max), with the FIN
 * if they reach it and it went out; snd_nxt unchanged. */
void out_retransmit(tcp_tcb *t, tcp_seq seq, uint32_t len, tern_time now)
{
	uint32_t off = seq_diff(seq, t->snd_buf_seq);
	uint32_t data = 0;

	if (off < t->snd.len)
		data = min_u32(t->snd.len - off, len);
	bool fin = (t->flags & TCP_F_FIN_QUEUED) &&
		   seq + data == snd_fin_seq(t) &&
		   seq_gt(t->snd_max, snd_fin_seq(t));
	if (data == 0 && !fin)
		return;
	out_data(t, seq, data, fin, OUT_NEW_OR_RTX, now);
}

/* Fast retransmit (RFC 5681 3.2) and partial ACKs (RFC 6582 3.2): the
 * first unacknowledged segment again. */
void out_retransmit_head(tcp_tcb *t, tern_time now)
{
	uint32_t flight = seq_diff(t->snd_max, t->snd_una);

	out_retransmit(t, t->snd_una, min_u32(t->snd_mss, flight), now);
}

/* RFC 9293 3.8.6.1: a zero-window probe carries one octet of new data
 * (or the FIN when no data is left). With a usable window that SWS
 * avoidance kept us from filling, the persist timeout is the "override
 * timeout" of 3.8.6.2.1 and we send what fits. */
void out_probe(tcp_tcb *t, tern_time now)
{
	uint32_t off = seq_diff(t->snd_una, t->snd_buf_seq);
	uint32_t avail = off < t->snd.len ? t->snd.len - off : 0;

	t->snd_nxt = t->snd_una; /* an earlier probe octet was not taken */
	uint32_t usable = snd_usable(t);

	if (usable > 0) {
		uint32_t len = min_u32(min_u32(avail, usable), t->snd_mss);
		bool fin = (t->flags & TCP_F_FIN_QUEUED) && len == avail &&
			   usable > len;
		timer_clear(t, TCP_T_PERSIST);
		t->backoff = 0;
		out_data(t, t->snd_una, len, fin, OUT_NEW_OR_RTX, now);
		return;
	}
	stat_inc(t, TERN_CTR_TCP_PERSIST_PROBES);
	out_data(t, t->snd_una, avail ? 1 : 0, avail == 0, OUT_PROBE, now);
}

/* RFC 9293 3.8.4: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data (as Linux), so
 * the peer answers with an ACK. */
void out_keepalive(tcp_tcb *t, tern_time now)
{
	tcp_seg s;

	seg_init(t, &s, t->snd_una - 1, TERN_TCP_ACK);
	stat_inc(t, TERN_CTR_TCP_KEEPALIVE_PROBES);
	emit(t, &s, now);
}
