/* RFC 9293 3.10.7.4, fifth step: the ACK field. With RFC 5961 5.2 ACK
 * validation, RFC 6298 timer management, and loss recovery: fast
 * retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial
 * ACKs (RFC 6582). */
#include "tcp/internal.h"

/* Drops acknowledged octets from the send buffer. */
static uint32_t snd_consume(tcp_tcb *t, tcp_seq ack)
{
	uint32_t data = 0;

	if (seq_gt(ack, t->snd_buf_seq)) {
		data = min_u32(seq_diff(ack, t->snd_buf_seq), t->snd.len);
		ring_consume(&t->snd, data);
		t->snd_buf_seq += data;
	}
	if ((t->flags & TCP_F_FIN_QUEUED) && seq_gt(ack, snd_fin_seq(t)))
		t->flags |= TCP_F_FIN_ACKED;
	if (t->snd.len == 0)
		snd_release(t);
	return data;
}

/* RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no data
 * or SYN/FIN, leaves the window as it was, with data outstanding. The
 * answers to zero-window probes fit that too, but say nothing of loss. */
static bool is_dupack(const tcp_tcb *t, const tcp_in *s)
{
	return s->ack == t->snd_una && t->snd_una != t->snd_max &&
	       s->len == 0 && !(s->flags & (TERN_TCP_SYN | TERN_TCP_FIN)) &&
	       s->wnd == t->snd_wnd && t->snd_wnd != 0 &&
	       !timer_armed(t, TCP_T_PERSIST);
}

/* RFC 6675 2: an ACK that SACKs new octets is a duplicate whatever its
 * window says (a receiver's window moves as its application reads). */
static bool is_sack_dupack(const tcp_tcb *t, const tcp_in *s)
{
	return s->ack == t->snd_una && t->snd_una != t->snd_max &&
	       s->len == 0 && !(s->flags & (TERN_TCP_SYN | TERN_TCP_FIN));
}

/* RFC 5681 3.2 steps 2-4 with RFC 6582 3.2 step 2 (recover); with
 * SACK, RFC 6675 5: recovery starts on DupThresh duplicates or when the
 * scoreboard says the first segment is lost, and pipe, not an inflated
 * cwnd, says what may be sent. */
static void on_dupack(tcp_tcb *t, tern_time now)
{
	t->dupacks++;
	if (t->flags & TCP_F_IN_RECOVERY) {
		if (!(t->flags & TCP_F_SACK))
			t->cwnd += t->snd_mss; /* step 4: inflate */
		return;
	}
	if (!sack_loss_detected(t) || !seq_gt(t->snd_una, t->recover))
		return; /* 1st and 2nd: limited transmit (output.c) */
	if (sack_enter_recovery(t, now))
		return;
	/* RFC 5681 3.2 step 2: "additional data sent in limited transmit
	 * MUST NOT be included in this calculation" */
	uint32_t flight = seq_diff(t->snd_max, t->snd_una);
	t->recover = t->snd_max;
	t->ssthresh = t->cc->ssthresh(t, flight - t->lt_bytes, now);
	t->lt_bytes = 0;
	t->flags |= TCP_F_IN_RECOVERY;
	stat_inc(t, TERN_CTR_TCP_FAST_RETRANS);
	out_retransmit_head(t, now);
	t->cwnd = t->ssthresh + 3u * t->snd_mss;
}

/* RFC 6582 3.2 steps 3 (full ACK) and 4 (partial ACK). */
static void on_recovery_ack(tcp_tcb *t, uint32_t acked, tern_time now)
{
	if (seq_ge(t->snd_una, t->recover)) {
		uint32_t flight = seq_diff(t->snd_max, t->snd_una);
		uint32_t floor = (flight > t->snd_mss ? flight : t->snd_mss) +
				 t->snd_mss;
		t->cwnd = min_u32(t->ssthresh, floor);
		t->flags &= ~TCP_F_IN_RECOVERY;
		t->dupacks = 0;
		return;
	}
	if (t->flags & TCP_F_SACK) { /* RFC 6675: NextSeg() decides */
		t->high_rxt = seq_max(t->high_rxt, t->snd_una);
		return;
	}
	out_retransmit_head(t, now);
	t->cwnd = t->cwnd > acked ? t->cwnd - acked : t->snd_mss;
	if (acked >= t->snd_mss)
		t->cwnd += t->snd_mss;
}

/* SND.UNA < SEG.ACK =< SND.MAX: new data acknowledged. */
void ack_new(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	tcp_seq ack = s->ack;
	uint32_t acked = seq_diff(ack, t->snd_una);

	if (opt_rtt_sample(t, s, now))
		rtt_cancel(t);
	else
		rtt_on_ack(t, ack, now);
	uint32_t data = snd_consume(t, ack);
	t->bytes_acked += data;
	t->snd_una = ack;
	if (t->sacked)
		ranges_trim_below(t->sacked, &t->nsacked, ack);
	if (seq_lt(t->snd_nxt, ack))
		t->snd_nxt = ack;
	t->backoff = 0;
	t->rtx_start = TERN_TIME_NONE;
	t->soft_err = 0; /* the path works again */
	if (t->flags & TCP_F_IN_RECOVERY)
		on_recovery_ack(t, acked, now);
	else {
		t->dupacks = 0;
		/* RFC 7661: an application that leaves the window half
		 * unused does not earn a bigger one (Linux's
		 * tcp_is_cwnd_limited) */
		if (data > 0 && t->cwnd < 2 * t->max_flight) {
			t->cc->on_ack(t, data, now);
			snd_autotune(t);
		}
	}
	/* RFC 6298 5.2 and 5.3 */
	if (t->snd_una == t->snd_max)
		timer_clear(t, TCP_T_RTX);
	else if (!timer_armed(t, TCP_T_PERSIST))
		timer_set(t, TCP_T_RTX, now + t->rto);
	if (data > 0 && (tcp_state_props(t->state) & TCP_P_USER_SEND))
		t->env->event(t, TERN_EV_WRITABLE);
}

/* RFC 9293 3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window
 * should be updated" when the segment is newer than the last update. */
static void window_update(tcp_tcb *t, const tcp_in *s)
{
	if (!(seq_lt(t->snd_wl1, s->seq) ||
	      (t->snd_wl1 == s->seq && seq_le(t->snd_wl2, s->ack))))
		return;
	t->snd_wnd = s->wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	if (t->snd_wnd > t->max_snd_wnd)
		t->max_snd_wnd = t->snd_wnd;
	/* The window opened: leave persist mode and send from SND.UNA
	 * again (a probe octet beyond the old window was not taken). */
	if (t->snd_wnd > 0 && timer_armed(t, TCP_T_PERSIST)) {
		timer_clear(t, TCP_T_PERSIST);
		t->snd_nxt = t->snd_una;
		t->backoff = 0;
		t->probes = 0;
	}
}

/* RFC 5961 5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT
 * (SND.NXT meaning the highest sequence sent, snd_max). */
static bool ack_acceptable(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (seq_gt(s->ack, t->snd_max)) {
		seg_drop(t, TERN_DROP_TCP_BAD_ACK, now);
		t->flags |= TCP_F_ACK_NOW;
		return false;
	}
	/* ... and the ACK that answers one too old is a challenge ACK,
	 * under the stack's limit (Linux's tcp_ack) */
	if (seq_lt(s->ack, t->snd_una - t->max_snd_wnd)) {
		seg_drop(t, TERN_DROP_TCP_OLD_ACK, now);
		out_challenge_ack(t, now);
		return false;
	}
	return true;
}

/* SYN_RECEIVED: an ACK of our SYN completes the handshake; any other
 * ACK draws <SEQ=SEG.ACK><CTL=RST>. */
static bool ack_syn_received(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (!seq_in(s->ack, t->snd_una + 1, t->snd_max + 1)) {
		seg_drop(t, TERN_DROP_TCP_BAD_ACK, now);
		out_rst(t, s->ack, false, now);
		return false;
	}
	t->snd_wnd = s->wnd;
	t->max_snd_wnd = s->wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	tcp_established(t, s->synack ? "rx SYN+ACK" : "rx ACK", now);
	return true;
}

/* The per-state part after the common processing; false ends the
 * segment's processing. FIN_WAIT_1 -> FIN_WAIT_2 waits until the text and
 * FIN steps have run (tcp_input): a segment whose FIN acks ours goes
 * straight to TIME_WAIT. */
static bool ack_state_actions(tcp_tcb *t, tern_time now)
{
	bool fin_acked = t->flags & TCP_F_FIN_ACKED;

	switch (t->state) {
	case TERN_TCP_CLOSING:
		if (fin_acked)
			tcp_enter_time_wait(t, "rx ACK", now);
		return false;
	case TERN_TCP_LAST_ACK:
		if (fin_acked)
			tcp_enter_closed(t, "rx ACK", 0, now);
		return false;
	default:
		return true;
	}
}

bool tcp_rcv_ack(tcp_tcb *t, tcp_in *s, tern_time now)
{
	if (!(s->flags & TERN_TCP_ACK)) {
		seg_drop(t, TERN_DROP_TCP_NO_ACK, now);
		return false;
	}
	if (t->state == TERN_TCP_SYN_RECEIVED) {
		if (!ack_syn_received(t, s, now))
			return false;
	} else if (!ack_acceptable(t, s, now)) {
		return false;
	}
	t->probes = 0; /* the peer answers (Linux: icsk_probes_out) */
	bool dup = is_dupack(t, s);
	/* RFC 6675 2: with SACK blocks, an ACK is a duplicate when it SACKs
	 * new octets (one with only a D-SACK block is not: RFC 2883) */
	if ((t->flags & TCP_F_SACK) && (s->opts->present & TERN_TCPOPT_SACK))
		dup = sack_update(t, s) && is_sack_dupack(t, s);
	else if (t->sacked)
		ranges_trim_below(t->sacked, &t->nsacked, t->snd_una);
	if (seq_gt(s->ack, t->snd_una))
		ack_new(t, s, now);
	else if (dup)
		on_dupack(t, now);
	/* Any other ACK leaves the count alone: RFC 5681 3.2 counts
	 * duplicates "without any intervening ACKs which move SND.UNA", so
	 * a window update or data between them does not start it again
	 * (nor does Linux: only an advancing ACK does). */
	window_update(t, s);
	return ack_state_actions(t, now);
}
