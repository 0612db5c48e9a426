/* User calls: SEND, RECEIVE, CLOSE, ABORT, STATUS (RFC 9293 3.10.2 -
 * 3.10.6), shutdown() and the options. */
#include <string.h>

#include "tcp/internal.h"

/* The error a call gets once the connection cannot carry data. */
static int dead_error(const tcp_tcb *t)
{
	if (t->err)
		return t->err;
	return t->state == TERN_TCP_CLOSED || t->state == TERN_TCP_LISTEN
		       ? TERN_ERR_NOTCONN
		       : TERN_ERR_PIPE;
}

ptrdiff_t tcp_send(tcp_tcb *t, const void *buf, size_t len, tern_time now)
{
	if (!(tcp_state_props(t->state) & TCP_P_USER_SEND) ||
	    (t->flags & TCP_F_FIN_QUEUED))
		return dead_error(t);
	if (len == 0)
		return 0;
	if (!t->snd.buf) {
		t->snd.buf = t->env->alloc(t, t->snd.cap);
		if (!t->snd.buf)
			return TERN_ERR_NOMEM;
		t->snd.head = 0;
		t->snd.len = 0;
	}
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	uint32_t n = ring_write(&t->snd, buf, (uint32_t)len);
	if (n == 0)
		return TERN_ERR_AGAIN;
	if (t->state >= TERN_TCP_ESTABLISHED)
		tcp_output(t, now);
	return n;
}

ptrdiff_t tcp_recv(tcp_tcb *t, void *buf, size_t len, tern_time now)
{
	if (t->rcv.len > 0 && !(t->flags & TCP_F_SHUT_RD)) {
		uint32_t n = ring_read(&t->rcv, buf,
				       len > UINT32_MAX ? UINT32_MAX
							: (uint32_t)len);
		rcv_autotune(t, n, now);
		if (t->rcv.len == 0 && t->nooo == 0)
			rcv_release(t);
		rcv_after_read(t);
		if (t->state != TERN_TCP_CLOSED)
			tcp_output(t, now);
		return n;
	}
	if (t->err)
		return t->err;
	if ((t->flags & (TCP_F_RCVD_FIN | TCP_F_SHUT_RD)) ||
	    t->state == TERN_TCP_CLOSED)
		return 0;
	if (t->state == TERN_TCP_LISTEN)
		return TERN_ERR_NOTCONN;
	return TERN_ERR_AGAIN;
}

/* The sending half of CLOSE (RFC 9293 3.10.4): the FIN is queued behind
 * the data, and the state changes now (the FIN leaves when it can). In
 * SYN_SENT a close() abandons the attempt, as the RFC says; a
 * shutdown(SHUT_WR) keeps the FIN for after the handshake, as FreeBSD's
 * TF_NEEDFIN does (and the RFC for SYN_RECEIVED), so queued data is not
 * lost without a word. */
static int close_send_side(tcp_tcb *t, const char *cause, bool abandon,
			   tern_time now)
{
	switch (t->state) {
	case TERN_TCP_SYN_SENT:
		if (abandon)
			tcp_enter_closed(t, cause, 0, now);
		else
			t->flags |= TCP_F_FIN_QUEUED;
		return 0;
	case TERN_TCP_SYN_RECEIVED:
		/* RFC 9293 3.10.4: the FIN goes now only if "there is no
		 * pending data to send"; "otherwise, queue for processing
		 * after entering ESTABLISHED state" (tcp_established then
		 * enters FIN_WAIT_1). */
		t->flags |= TCP_F_FIN_QUEUED;
		if (t->snd.len > 0)
			return 0;
		tcp_set_state(t, TERN_TCP_FIN_WAIT_1, cause, now);
		break;
	case TERN_TCP_ESTABLISHED:
		t->flags |= TCP_F_FIN_QUEUED;
		tcp_set_state(t, TERN_TCP_FIN_WAIT_1, cause, now);
		break;
	case TERN_TCP_CLOSE_WAIT:
		t->flags |= TCP_F_FIN_QUEUED;
		tcp_set_state(t, TERN_TCP_LAST_ACK, cause, now);
		break;
	default:
		return 0; /* closing already, or never opened */
	}
	timer_clear(t, TCP_T_KEEPALIVE);
	tcp_output(t, now);
	return 0;
}

int tcp_shutdown(tcp_tcb *t, int how, tern_time now)
{
	if (t->state == TERN_TCP_CLOSED || t->state == TERN_TCP_LISTEN)
		return TERN_ERR_NOTCONN;
	if (how & TERN_SHUT_RD) {
		t->flags |= TCP_F_SHUT_RD;
		rcv_release(t);
	}
	if (how & TERN_SHUT_WR)
		return close_send_side(t, "shutdown", false, now);
	return 0;
}

/* RFC 9293 3.10.5 and Linux's tcp_need_reset(): the states in which the
 * peer holds state for us and must hear a RST. */
static bool peer_needs_rst(int state)
{
	switch (state) {
	case TERN_TCP_SYN_RECEIVED:
	case TERN_TCP_ESTABLISHED:
	case TERN_TCP_FIN_WAIT_1:
	case TERN_TCP_FIN_WAIT_2:
	case TERN_TCP_CLOSE_WAIT:
		return true;
	default:
		return false;
	}
}

static int abort_conn(tcp_tcb *t, bool rst, tern_time now)
{
	t->flags |= TCP_F_ORPHAN;
	if (t->state == TERN_TCP_CLOSED) {
		tcp_release(t);
		return 0;
	}
	if (rst)
		out_rst(t, snd_ctl_seq(t), true, now);
	tcp_enter_closed(t, "abort", 0, now);
	tcp_release(t);
	return 0;
}

/* ABORT: RST where the peer needs one, then CLOSED. */
int tcp_abort(tcp_tcb *t, tern_time now)
{
	return abort_conn(t, peer_needs_rst(t->state), now);
}

/* ss -K: as ABORT, but the application may still hold the connection,
 * so it is not released: it reads RESET, as after a RST received. */
int tcp_kill(tcp_tcb *t, tern_time now)
{
	if (t->state == TERN_TCP_CLOSED)
		return 0;
	if (peer_needs_rst(t->state))
		out_rst(t, snd_ctl_seq(t), true, now);
	tcp_enter_closed(t, "kill", TERN_ERR_RESET, now);
	return 0;
}

/* CLOSE. With unread data it resets instead, in every state in which the
 * peer is still there (RFC 2525 2.17; Linux's tcp_close). */
int tcp_close(tcp_tcb *t, tern_time now)
{
	t->flags |= TCP_F_ORPHAN;
	if (t->rcv.len > 0 && t->state >= TERN_TCP_SYN_RECEIVED &&
	    t->state != TERN_TCP_TIME_WAIT) {
		stat_inc(t, TERN_CTR_TCP_ABORT_ON_CLOSE);
		return abort_conn(t, true, now);
	}
	rcv_release(t);
	if (t->state == TERN_TCP_LISTEN) {
		tcp_enter_closed(t, "close", 0, now);
		return 0;
	}
	close_send_side(t, "close", true, now);
	fin_wait_2_timer(t, now);
	return 0;
}

void tcp_set_nodelay(tcp_tcb *t, bool on, tern_time now)
{
	if (on)
		t->flags |= TCP_F_NODELAY;
	else
		t->flags &= ~TCP_F_NODELAY;
	if (on && t->state >= TERN_TCP_ESTABLISHED)
		tcp_output(t, now); /* as Linux: push what Nagle held */
}

void tcp_set_keepalive(tcp_tcb *t, bool on, tern_time now)
{
	if (on)
		t->flags |= TCP_F_KEEPALIVE;
	else
		t->flags &= ~TCP_F_KEEPALIVE;
	if (t->state == TERN_TCP_ESTABLISHED || t->state == TERN_TCP_CLOSE_WAIT)
		keepalive_arm(t, now);
}

unsigned tcp_poll(const tcp_tcb *t)
{
	unsigned ev = 0;

	if (t->rcv.len > 0 || (t->flags & TCP_F_RCVD_FIN) || t->err ||
	    t->state == TERN_TCP_CLOSED)
		ev |= TERN_EV_READABLE;
	if ((tcp_state_props(t->state) & TCP_P_USER_SEND) &&
	    t->state >= TERN_TCP_ESTABLISHED &&
	    !(t->flags & TCP_F_FIN_QUEUED) && ring_free(&t->snd) > 0)
		ev |= TERN_EV_WRITABLE;
	if (t->state >= TERN_TCP_ESTABLISHED)
		ev |= TERN_EV_CONNECTED;
	if (t->state == TERN_TCP_CLOSED)
		ev |= TERN_EV_CLOSED;
	if (t->err)
		ev |= TERN_EV_ERROR;
	return ev;
}

void tcp_info(const tcp_tcb *t, tern_tcp_info *o)
{
	memset(o, 0, sizeof(*o));
	o->state = t->state;
	o->iss = t->iss;
	o->irs = t->irs;
	o->snd_una = t->snd_una;
	o->snd_nxt = t->snd_nxt;
	o->snd_wnd = t->snd_wnd;
	o->rcv_nxt = t->rcv_nxt;
	o->rcv_wnd = rcv_wnd(t);
	o->mss = t->snd_mss;
	o->cwnd = t->cwnd;
	o->ssthresh = t->ssthresh;
	o->srtt = t->srtt;
	o->rttvar = t->rttvar;
	o->rto = t->rto;
	o->retransmits = t->backoff;
	o->total_retrans = t->total_retrans;
	o->bytes_acked = t->bytes_acked;
	o->bytes_received = t->bytes_received;
	o->snd_buf_used = t->snd.len;
	o->snd_buf_size = t->snd.cap;
	o->rcv_buf_used = t->rcv.len;
	o->rcv_buf_size = t->rcv.cap;
	o->next_timer = tcp_next_deadline(t);
	o->options =
		((t->flags & TCP_F_TSTAMP) ? TERN_TCPI_OPT_TIMESTAMPS : 0) |
		((t->flags & TCP_F_SACK) ? TERN_TCPI_OPT_SACK : 0) |
		((t->flags & TCP_F_WSCALE) ? TERN_TCPI_OPT_WSCALE : 0);
	o->snd_wscale = t->snd_wscale;
	o->rcv_wscale = t->rcv_wscale;
}
