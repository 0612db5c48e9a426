/* The receiving side: the window we advertise, segment text in order and
 * out of order, the FIN (RFC 9293 3.10.7.4, seventh and eighth steps),
 * delayed ACKs, and the receive buffer's life. */
#include <string.h>

#include "tcp/internal.h"

/* The largest window field (RFC 9293 3.1), scaled by rcv_wscale once
 * window scaling is on (RFC 7323 2). */
#define WND_MAX 65535u

/* RCV.BUFF - RCV.USER: room for data beyond RCV.NXT. */
uint32_t rcv_space(const tcp_tcb *t)
{
	return t->rcv.cap - t->rcv.len;
}

/* RCV.WND as last advertised. */
uint32_t rcv_wnd(const tcp_tcb *t)
{
	return seq_diff(t->rcv_adv, t->rcv_nxt);
}

uint16_t rcv_window_syn(const tcp_tcb *t)
{
	return (uint16_t)min_u32(rcv_space(t), WND_MAX);
}

/* With window scaling the field counts units of 2^rcv_wscale, and
 * RCV.NXT moves by any number of bytes, so the field is rounded up from
 * rcv_right, the edge we chose: rounding down would move the edge left
 * (RFC 7323 2.4). This much of the buffer is kept back when choosing
 * the edge, so that the rounded edge always fits. */
static uint32_t scale_slack(const tcp_tcb *t)
{
	return (1u << t->rcv_wscale) - 1;
}

/* The right edge RCV.NXT + window we could offer now. */
static tcp_seq rcv_right_edge(const tcp_tcb *t)
{
	uint32_t space = rcv_space(t);
	uint32_t slack = scale_slack(t);

	space = space > slack ? space - slack : 0;
	return t->rcv_nxt + min_u32(space, WND_MAX << t->rcv_wscale);
}

/* RFC 9293 3.8.6.2.2: the right edge moves only when it can move by
 * min(RCV.BUFF / 2, Eff.snd.MSS) or more, and never moves left. */
static bool rcv_edge_may_move(const tcp_tcb *t, tcp_seq right)
{
	uint32_t step = min_u32(t->rcv.cap / 2, t->adv_mss);

	return seq_gt(right, t->rcv_right) &&
	       seq_diff(right, t->rcv_right) >= step;
}

/* The window field of a segment being sent now. rcv_adv, the edge that
 * segments are accepted up to, is the furthest any field has said. */
uint16_t rcv_window_adv(tcp_tcb *t)
{
	tcp_seq right = rcv_right_edge(t);
	uint32_t want = 0;

	if (rcv_edge_may_move(t, right))
		t->rcv_right = right;
	if (seq_gt(t->rcv_right, t->rcv_nxt))
		want = seq_diff(t->rcv_right, t->rcv_nxt);
	uint32_t field = (want + scale_slack(t)) >> t->rcv_wscale;
	if ((field << t->rcv_wscale) > rcv_space(t)) /* tiny buffers */
		field = rcv_space(t) >> t->rcv_wscale;
	field = min_u32(field, WND_MAX);
	tcp_seq edge = t->rcv_nxt + (field << t->rcv_wscale);
	if (seq_gt(edge, t->rcv_adv))
		t->rcv_adv = edge;
	return (uint16_t)field;
}

/* The edge our SYN or SYN+ACK offers, its window never scaled. */
void rcv_syn_edge(tcp_tcb *t, uint16_t win)
{
	t->rcv_right = t->rcv_nxt + win;
	if (seq_gt(t->rcv_right, t->rcv_adv))
		t->rcv_adv = t->rcv_right;
}

/* After the application read: send a window update when the window has
 * at least doubled and may move under SWS avoidance (Linux's rule in
 * tcp_cleanup_rbuf, which keeps bulk transfers from sending an update per
 * read). */
void rcv_after_read(tcp_tcb *t)
{
	tcp_seq right = rcv_right_edge(t);
	uint32_t now_wnd = rcv_wnd(t);

	if (!(tcp_state_props(t->state) & TCP_P_RECV_DATA))
		return;
	if (rcv_edge_may_move(t, right) &&
	    seq_diff(right, t->rcv_nxt) >= 2 * now_wnd)
		t->flags |= TCP_F_ACK_NOW;
}

static bool rcv_alloc(tcp_tcb *t)
{
	if (t->rcv.buf)
		return true;
	size_t ooo = TCP_OOO_MAX * sizeof(tcp_range);
	uint8_t *mem = t->env->alloc(t, t->rcv.cap + ooo);
	if (!mem)
		return false;
	t->ooo = (tcp_range *)mem;
	t->rcv.buf = mem + ooo;
	t->rcv.head = 0;
	return true;
}

/* The buffer's data and out-of-order table move to a bigger buffer. */
static bool rcv_grow(tcp_tcb *t, uint32_t cap)
{
	size_t ooo = TCP_OOO_MAX * sizeof(tcp_range);
	uint32_t used = t->rcv.len;

	if (!t->rcv.buf) {
		t->rcv.cap = cap;
		return true;
	}
	if (t->nooo > 0)
		used += seq_diff(t->ooo[t->nooo - 1].right, t->rcv_nxt);
	uint8_t *mem = t->env->alloc(t, cap + ooo);
	if (!mem)
		return false;
	memcpy(mem, t->ooo, ooo);
	ring_copy_out(&t->rcv, mem + ooo, used);
	t->env->free(t, t->ooo, t->rcv.cap + ooo);
	t->ooo = (tcp_range *)mem;
	t->rcv.buf = mem + ooo;
	t->rcv.head = 0;
	t->rcv.cap = cap;
	return true;
}

/* Linux's tcp_rcv_space_adjust(): once a round trip, if the application
 * read more than half the buffer in it, the buffer grows to twice that
 * (plus 16 segments of slack), so the window keeps ahead of a reader
 * that keeps up, up to tcp_rmem[2] (rcvbuf_max: a buffer the
 * application chose never grows). */
void rcv_autotune(tcp_tcb *t, uint32_t read, tern_time now)
{
	t->rcv_copied += read;
	if (!t->cfg->tcp_moderate_rcvbuf || t->rcv.cap >= t->rcvbuf_max ||
	    !(t->flags & TCP_F_RTT_VALID))
		return;
	if (now - t->rcv_tune_at < t->srtt)
		return;
	uint64_t want = 2ull * t->rcv_copied + 16u * t->adv_mss;
	t->rcv_copied = 0;
	t->rcv_tune_at = now;
	if (want <= t->rcv.cap)
		return;
	if (want < 2ull * t->rcv.cap) /* at least double, as the send side */
		want = 2ull * t->rcv.cap;
	rcv_grow(t, want < t->rcvbuf_max ? (uint32_t)want : t->rcvbuf_max);
}

/* Linux's tcp_sndbuf_expand(): the send buffer holds twice the
 * congestion window (the flight, and as much again to send while it is
 * acknowledged), up to tcp_wmem[2] (sndbuf_max: never beyond a size the
 * application chose). Called as cwnd grows. */
void snd_autotune(tcp_tcb *t)
{
	uint64_t want = 2ull * t->cwnd;

	if (want <= t->snd.cap || t->snd.cap >= t->sndbuf_max)
		return;
	/* at least double: moving the ring copies what it holds, and cwnd
	 * grows by a segment an ACK */
	if (want < 2ull * t->snd.cap)
		want = 2ull * t->snd.cap;
	uint32_t cap = want < t->sndbuf_max ? (uint32_t)want : t->sndbuf_max;
	if (t->snd.buf) {
		uint8_t *mem = t->env->alloc(t, cap);
		if (!mem)
			return;
		ring_copy_out(&t->snd, mem, t->snd.len);
		t->env->free(t, t->snd.buf, t->snd.cap);
		t->snd.buf = mem;
		t->snd.head = 0;
	}
	t->snd.cap = cap;
}

/* Buffers exist only while they hold data. */
void rcv_release(tcp_tcb *t)
{
	if (!t->rcv.buf)
		return;
	t->env->free(t, t->ooo, t->rcv.cap + TCP_OOO_MAX * sizeof(tcp_range));
	t->rcv.buf = NULL;
	t->ooo = NULL;
	t->rcv.len = 0;
	t->rcv.head = 0;
	t->nooo = 0;
}

void snd_release(tcp_tcb *t)
{
	sack_release(t);
	if (!t->snd.buf)
		return;
	t->env->free(t, t->snd.buf, t->snd.cap);
	t->snd.buf = NULL;
	t->snd.len = 0;
	t->snd.head = 0;
}

/* Moves RCV.NXT over out-of-order data it has reached; true if any. */
static bool ooo_pull(tcp_tcb *t)
{
	bool moved = false;

	while (t->nooo > 0 && seq_le(t->ooo[0].left, t->rcv_nxt)) {
		if (seq_gt(t->ooo[0].right, t->rcv_nxt)) {
			uint32_t n = seq_diff(t->ooo[0].right, t->rcv_nxt);
			ring_commit(&t->rcv, n);
			t->rcv_nxt += n;
			t->bytes_received += n;
			moved = true;
		}
		memmove(&t->ooo[0], &t->ooo[1],
			(size_t)(t->nooo - 1) * sizeof(tcp_range));
		t->nooo--;
	}
	return moved;
}

/* RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: ACK at least every second
 * full-sized segment, otherwise within the delayed-ACK time. */
static void ack_policy(tcp_tcb *t, uint32_t len, tern_time now)
{
	t->rcv_unacked += len;
	if (t->rcv_unacked >= 2u * t->rcv_mss) {
		t->flags |= TCP_F_ACK_NOW;
		return;
	}
	if (!timer_armed(t, TCP_T_DELACK))
		timer_set(t, TCP_T_DELACK,
			  now + (tern_time)t->cfg->delack_ms * TERN_MSEC);
}

static void text_in_order(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	bool had_holes = t->nooo > 0;

	ring_write_at(&t->rcv, t->rcv.len, s->data, s->len);
	ring_commit(&t->rcv, s->len);
	t->rcv_nxt += s->len;
	t->bytes_received += s->len;
	ooo_pull(t);
	/* RFC 5681 4.2: ACK at once a segment that fills a hole. */
	if (had_holes)
		t->flags |= TCP_F_ACK_NOW;
	else
		ack_policy(t, s->len, now);
}

static void text_out_of_order(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	uint32_t off = t->rcv.len + seq_diff(s->seq, t->rcv_nxt);

	/* RFC 5681 4.2: an out-of-order segment draws an immediate
	 * (duplicate) ACK. */
	t->flags |= TCP_F_ACK_NOW;
	if (ranges_cover(t->ooo, t->nooo, s->seq, s->seq + s->len))
		sack_dsack_note(t, s->seq, s->seq + s->len); /* RFC 2883 */
	t->ooo_last = s->seq;
	if (!ranges_add(t->ooo, &t->nooo, TCP_OOO_MAX, s->seq,
			s->seq + s->len)) {
		seg_drop(t, TERN_DROP_TCP_OOO_FULL, now);
		return;
	}
	ring_write_at(&t->rcv, off, s->data, s->len);
	stat_inc(t, TERN_CTR_TCP_OFO_QUEUE);
}

/* Seventh step: segment text. The first check trimmed it to the window,
 * which we never let exceed the free buffer, so it always fits. */
void rcv_text(tcp_tcb *t, tcp_in *s, tern_time now)
{
	if (s->len == 0 || !(tcp_state_props(t->state) & TCP_P_RECV_DATA))
		return; /* CLOSE_WAIT and later: "ignore the segment text" */
	if (t->flags & TCP_F_ORPHAN) {
		/* RFC 1122 4.2.2.13: data after CLOSE is lost, so say so
		 * with a RST (Linux: TCPAbortOnData). */
		stat_inc(t, TERN_CTR_TCP_ABORT_ON_DATA);
		out_rst(t, snd_ctl_seq(t), true, now);
		tcp_enter_closed(t, "rx data after close", TERN_ERR_RESET, now);
		return;
	}
	if (t->rcv_mss < s->len)
		t->rcv_mss = (uint16_t)min_u32(s->len, t->adv_mss);
	if (t->flags & TCP_F_SHUT_RD) {
		/* shutdown(RD): in-order text is taken and discarded */
		if (s->seq != t->rcv_nxt) {
			t->flags |= TCP_F_ACK_NOW;
			return;
		}
		t->rcv_nxt += s->len;
		ack_policy(t, s->len, now);
		return;
	}
	if (!rcv_alloc(t)) {
		seg_drop(t, TERN_DROP_TCP_NO_MEMORY, now);
		return;
	}
	if (s->seq == t->rcv_nxt)
		text_in_order(t, s, now);
	else
		text_out_of_order(t, s, now);
	if (t->rcv.len > 0)
		t->env->event(t, TERN_EV_READABLE);
}

static void fin_state_change(tcp_tcb *t, tern_time now)
{
	switch (t->state) {
	case TERN_TCP_ESTABLISHED:
		/* The ACK of the FIN waits like any delayed ACK (Linux's
		 * pingpong mode), so a quick close() sends FIN+ACK in one
		 * segment: the three-segment close. */
		tcp_set_state(t, TERN_TCP_CLOSE_WAIT, "rx FIN", now);
		ack_policy(t, 0, now);
		break;
	case TERN_TCP_FIN_WAIT_1:
		t->flags |= TCP_F_ACK_NOW;
		if (t->flags & TCP_F_FIN_ACKED)
			tcp_enter_time_wait(t, "rx FIN", now);
		else
			tcp_set_state(t, TERN_TCP_CLOSING, "rx FIN", now);
		break;
	case TERN_TCP_FIN_WAIT_2:
		t->flags |= TCP_F_ACK_NOW;
		tcp_enter_time_wait(t, "rx FIN", now);
		break;
	default: /* CLOSE_WAIT, CLOSING, LAST_ACK: remain */
		t->flags |= TCP_F_ACK_NOW;
		break;
	}
}

/* Eighth step: the FIN, once every octet before it has arrived. */
void rcv_fin(tcp_tcb *t, const tcp_in *s, tern_time now)
{
	if (s->flags & TERN_TCP_FIN) {
		tcp_seq fin = s->seq + s->len;
		if (seq_gt(fin, t->rcv_nxt)) {
			t->flags |= TCP_F_OOO_FIN;
			t->rcv_fin_seq = fin;
			return;
		}
	} else if (!(t->flags & TCP_F_OOO_FIN) ||
		   t->rcv_fin_seq != t->rcv_nxt) {
		return;
	}
	if (t->flags & TCP_F_RCVD_FIN)
		return;
	t->flags = (t->flags & ~TCP_F_OOO_FIN) | TCP_F_RCVD_FIN;
	t->rcv_nxt += 1;
	t->env->event(t, TERN_EV_READABLE);
	fin_state_change(t, now);
}
