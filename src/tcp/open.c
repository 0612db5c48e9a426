/* Opening and ending a connection: OPEN (RFC 9293 3.10.1), the LISTEN and
 * SYN_SENT arrival rules (3.10.7.2, 3.10.7.3), and what entering
 * ESTABLISHED, TIME_WAIT and CLOSED does. */
#include <string.h>

#include "tcp/internal.h"

/* RFC 9293 3.7.1: without the option the peer takes 536; Linux refuses
 * to go below 48 (tcp_min_snd_mss), which guards against tiny-MSS abuse. */
#define MSS_DEFAULT 536
#define MSS_FLOOR 48

void tcp_init(tcp_tcb *t, const tcp_env_ops *env, tern_stats *stats,
	      const tern_settings *cfg, uint32_t sndbuf, uint32_t rcvbuf,
	      uint16_t adv_mss)
{
	memset(t, 0, sizeof(*t));
	t->env = env;
	t->stats = stats;
	t->cfg = cfg;
	t->state = TERN_TCP_CLOSED;
	t->snd.cap = sndbuf;
	t->rcv.cap = rcvbuf;
	t->adv_mss = adv_mss;
	t->snd_mss = adv_mss < MSS_DEFAULT ? adv_mss : MSS_DEFAULT;
	t->rcv_mss = t->snd_mss;
	t->cc = cc_find(cfg->tcp_congestion_control);
	if (!t->cc)
		t->cc = &tcp_cc_cubic;
	t->sndbuf_max = sndbuf;
	if (cfg->tcp_wmem[2] > 0 && (uint32_t)cfg->tcp_wmem[2] > sndbuf)
		t->sndbuf_max = (uint32_t)cfg->tcp_wmem[2];
	t->rcvbuf_max = rcvbuf;
	if (cfg->tcp_rmem[2] > 0 && (uint32_t)cfg->tcp_rmem[2] > rcvbuf)
		t->rcvbuf_max = (uint32_t)cfg->tcp_rmem[2];
	timers_clear_all(t);
	t->rtx_start = TERN_TIME_NONE;
	rtt_init(t);
}

void tcp_release(tcp_tcb *t)
{
	snd_release(t);
	rcv_release(t);
}

/* Eff.snd.MSS = min(SendMSS, our own MSS) (RFC 9293 3.7.1). */
void tcp_apply_syn_options(tcp_tcb *t, const tern_tcp_opts *opts, tern_time now)
{
	uint32_t mss = MSS_DEFAULT;

	if (opts && (opts->present & TERN_TCPOPT_MSS))
		mss = opts->mss;
	if (mss > t->adv_mss)
		mss = t->adv_mss;
	if (mss < MSS_FLOOR)
		mss = MSS_FLOOR;
	t->snd_mss = (uint16_t)mss;
	opt_negotiate(t, opts, now);
	cc_init(t);
}

static void seq_init(tcp_tcb *t, tcp_seq iss)
{
	t->iss = iss;
	t->snd_una = iss;
	t->snd_nxt = iss;
	t->snd_max = iss;
	t->snd_buf_seq = iss + 1;
	t->recover = iss;
	t->max_flight_seq = iss;
}

void tcp_open_passive(tcp_tcb *t, tern_time now)
{
	tcp_set_state(t, TERN_TCP_LISTEN, "listen", now);
}

void tcp_open_active(tcp_tcb *t, tcp_seq iss, tern_time now)
{
	seq_init(t, iss);
	tcp_set_state(t, TERN_TCP_SYN_SENT, "connect", now);
	out_syn(t, now);
}

/* RFC 9293 3.10.7.2, third check: a SYN on a listener, here on the fresh
 * TCB the stack cloned for it. Text in a SYN is not queued: Linux drops it
 * too, and the peer sends it again once the handshake is done. */
void tcp_input_listen_syn(tcp_tcb *t, const tern_tcp_hdr *syn, tcp_seq iss,
			  tern_time now)
{
	t->flags |= TCP_F_PASSIVE;
	t->irs = syn->seq;
	t->rcv_nxt = syn->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	seq_init(t, iss);
	tcp_apply_syn_options(t, &syn->opts, now);
	t->snd_wnd = syn->win;
	t->last_rx = now;
	/* A clone of its listener, born in LISTEN without a transition. */
	t->state = TERN_TCP_LISTEN;
	tcp_set_state(t, TERN_TCP_SYN_RECEIVED, "rx SYN", now);
	out_syn(t, now);
}

/* RFC 9293 3.10.7.2 without a TCB: the SYN+ACK that a child of listener
 * l would send for syn, with ISS iss (a SYN cookie), built on a copy of
 * l that lives only on the C stack: nothing is kept or allocated. As
 * Linux's tcp_conn_request for a cookie, a SYN without timestamps gets
 * neither window scaling nor SACK: only the timestamp echo could bring
 * them back. ts_offset is the pair's timestamp offset. */
void tcp_synack_stateless(const tcp_tcb *l, const tern_tcp_hdr *syn,
			  tcp_seq iss, uint32_t ts_offset, tcp_seg *out,
			  tern_time now)
{
	tcp_tcb t = *l;

	t.flags = TCP_F_PASSIVE;
	t.ts_offset = ts_offset;
	t.irs = syn->seq;
	t.rcv_nxt = syn->seq + 1;
	t.rcv_adv = t.rcv_nxt;
	seq_init(&t, iss);
	opt_negotiate(&t, &syn->opts, now);
	if (!(t.flags & TCP_F_TSTAMP)) {
		t.flags &= ~(TCP_F_WSCALE | TCP_F_SACK);
		t.rcv_wscale = 0;
	}
	out_syn_build(&t, out, true, now);
}

/* An ACK came back with a valid SYN cookie: t, a fresh clone of the
 * listener, becomes the SYN_RECEIVED connection the listener would have
 * kept (Linux's cookie_v4_check and tcp_get_cookie_sock): the peer's ISN
 * irs, ours iss, our SYN+ACK sent, the options the cookie kept (syn_opts:
 * the MSS of its table; window scale and SACK from the timestamp echo).
 * The caller then gives it the ACK (tcp_input), which takes it to
 * ESTABLISHED by the usual edge. The retransmission timer runs as if the
 * SYN+ACK had just gone, so a connection the ACK does not complete still
 * ends as a half-open one does. */
void tcp_open_from_cookie(tcp_tcb *t, tcp_seq irs, tcp_seq iss,
			  const tern_tcp_opts *syn_opts, tern_time now)
{
	t->flags |= TCP_F_PASSIVE;
	t->irs = irs;
	t->rcv_nxt = irs + 1;
	t->rcv_adv = t->rcv_nxt;
	seq_init(t, iss);
	t->snd_nxt = iss + 1;
	t->snd_max = iss + 1;
	tcp_apply_syn_options(t, syn_opts, now);
	rcv_syn_edge(t, rcv_window_syn(t));
	t->last_rx = now;
	t->state = TERN_TCP_LISTEN; /* a clone, as tcp_input_listen_syn's */
	tcp_set_state(t, TERN_TCP_SYN_RECEIVED, "rx cookie", now);
	timer_set(t, TCP_T_RTX, now + t->rto);
}

/* Both handshakes end here: congestion state starts, the application
 * hears of it, keepalive starts counting. */
void tcp_established(tcp_tcb *t, const char *cause, tern_time now)
{
	timer_clear(t, TCP_T_RTX);
	rtt_after_handshake(t);
	cc_init(t);
	/* RFC 5681 3.1: after a lost SYN or SYN+ACK, start with one segment */
	if (t->backoff > 0)
		t->cwnd = t->snd_mss;
	t->backoff = 0;
	tcp_set_state(t, TERN_TCP_ESTABLISHED, cause, now);
	t->env->event(t, TERN_EV_CONNECTED | TERN_EV_WRITABLE);
	/* shutdown(SHUT_WR) during SYN_SENT: its FIN is due now */
	if (t->flags & TCP_F_FIN_QUEUED)
		tcp_set_state(t, TERN_TCP_FIN_WAIT_1, "shutdown", now);
	else
		keepalive_arm(t, now);
}

void tcp_enter_time_wait(tcp_tcb *t, const char *cause, tern_time now)
{
	timers_clear_all(t);
	snd_release(t);
	tcp_set_state(t, TERN_TCP_TIME_WAIT, cause, now);
	/* RFC 9293 3.10.7.4: start the time-wait timer, 2 MSL */
	timer_set(t, TCP_T_CLOSE,
		  now + 2 * (tern_time)t->cfg->msl_ms * TERN_MSEC);
	stat_inc(t, TERN_CTR_TCP_TIME_WAITS);
}

/* Into CLOSED. The send queue goes; data already received (and so
 * acknowledged) stays readable until the application closes its handle,
 * and an error (reset, refused, timed out) is reported after it. RFC 9293
 * 3.10.7.4 would flush the receive queue too on a reset; Linux keeps it,
 * and so does tern: the peer sent those bytes and heard we had them. */
void tcp_enter_closed(tcp_tcb *t, const char *cause, int err, tern_time now)
{
	unsigned ev = TERN_EV_CLOSED | TERN_EV_READABLE | TERN_EV_WRITABLE;

	timers_clear_all(t);
	snd_release(t);
	if (err) {
		t->err = err;
		ev |= TERN_EV_ERROR;
	}
	if (t->state != TERN_TCP_CLOSED)
		tcp_set_state(t, TERN_TCP_CLOSED, cause, now);
	t->env->event(t, ev);
}

void tcp_drop(tcp_tcb *t, const char *cause, tern_time now)
{
	tcp_enter_closed(t, cause, 0, now);
}

/* RFC 9293 3.10.7.1: the reset a segment for no connection draws. */
bool tcp_reset_for(const tern_tcp_hdr *seg, tcp_seg *rst)
{
	if (seg->flags & TERN_TCP_RST)
		return false;
	memset(rst, 0, sizeof(*rst));
	if (seg->flags & TERN_TCP_ACK) {
		rst->seq = seg->ack;
		rst->flags = TERN_TCP_RST;
		return true;
	}
	uint32_t len = (uint32_t)seg->payload_len +
		       ((seg->flags & TERN_TCP_SYN) ? 1 : 0) +
		       ((seg->flags & TERN_TCP_FIN) ? 1 : 0);
	rst->seq = 0;
	rst->ack = seg->seq + len;
	rst->flags = TERN_TCP_RST | TERN_TCP_ACK;
	return true;
}

/* SYN_SENT, SYN+ACK: our SYN is acknowledged. Linux sends the ACK at once
 * rather than waiting for data to carry it. */
static void syn_sent_established(tcp_tcb *t, tcp_in *s, tern_time now)
{
	rtt_on_ack(t, s->ack, now);
	t->snd_una = s->ack;
	t->snd_wnd = s->wnd;
	t->max_snd_wnd = s->wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	tcp_established(t, "rx SYN+ACK", now);
	out_ack(t, now);
	/* "continue processing at the sixth step": text and FIN, trimmed
	 * to the window we offered in our SYN */
	s->seq += 1;
	s->flags &= (uint8_t)~TERN_TCP_SYN;
	if (s->len > rcv_wnd(t)) {
		s->len = rcv_wnd(t);
		s->flags &= (uint8_t)~TERN_TCP_FIN;
	}
	rcv_text(t, s, now);
	if (t->state != TERN_TCP_CLOSED)
		rcv_fin(t, s, now);
}

/* RFC 9293 3.10.7.3 with RFC 5961 3.2 (a RST in SYN_SENT counts only if
 * it acknowledges our SYN). */
void tcp_input_syn_sent(tcp_tcb *t, tcp_in *s, tern_time now)
{
	bool has_ack = s->flags & TERN_TCP_ACK;

	if (has_ack && (seq_le(s->ack, t->iss) || seq_gt(s->ack, t->snd_max))) {
		seg_drop(t, TERN_DROP_TCP_BAD_ACK, now);
		if (!(s->flags & TERN_TCP_RST))
			out_rst(t, s->ack, false, now);
		return;
	}
	if (s->flags & TERN_TCP_RST) {
		if (!has_ack) {
			seg_drop(t, TERN_DROP_TCP_RST_OUT_OF_WINDOW, now);
			return;
		}
		stat_inc(t, TERN_CTR_TCP_ATTEMPT_FAILS);
		tcp_enter_closed(t, "rx RST", TERN_ERR_REFUSED, now);
		return;
	}
	if (!(s->flags & TERN_TCP_SYN)) {
		seg_drop(t, TERN_DROP_TCP_SYN_SENT_NO_SYN, now);
		return;
	}
	t->irs = s->seq;
	t->rcv_nxt = s->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	rcv_syn_edge(t, rcv_window_syn(t));
	tcp_apply_syn_options(t, s->opts, now);
	if (has_ack) {
		syn_sent_established(t, s, now);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5, figure 7): SYN+ACK with our ISS
	 * again. Text in the SYN is left for the peer to resend. */
	t->snd_wnd = s->wnd;
	t->max_snd_wnd = s->wnd;
	t->snd_wl1 = s->seq;
	tcp_set_state(t, TERN_TCP_SYN_RECEIVED, "rx SYN", now);
	out_syn(t, now);
}
