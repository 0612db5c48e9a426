/* Header prediction (Van Jacobson's; Linux's tcp_rcv_established() fast
 * path). In ESTABLISHED most segments are the next one in order with
 * only ACK (and PSH) set, the window unchanged and nothing unusual about
 * the connection: a pure ACK of new data (we send), or in-order data that
 * acknowledges nothing new (we receive). For those the checks of RFC
 * 9293 3.10.7.4 all pass and most of their steps do nothing, so this
 * does only the steps that act; anything else takes the general path. */
#include "tcp/internal.h"

static bool predicted(const tcp_tcb *t, const tcp_in *s)
{
	const unsigned busy = TCP_F_IN_RECOVERY | TCP_F_OOO_FIN |
			      TCP_F_SHUT_RD | TCP_F_ORPHAN | TCP_F_RCVD_FIN;

	if (t->state != TERN_TCP_ESTABLISHED ||
	    (s->flags & (uint8_t)~TERN_TCP_PSH) != TERN_TCP_ACK ||
	    s->seq != t->rcv_nxt || s->wnd != t->snd_wnd || (t->flags & busy) ||
	    t->nooo || t->dupacks || timer_armed(t, TCP_T_PERSIST) ||
	    (s->opts->present & TERN_TCPOPT_SACK))
		return false;
	/* PAWS (RFC 7323 5.3) passes only with a timestamp not older */
	if ((t->flags & TCP_F_TSTAMP) &&
	    (!(s->opts->present & TERN_TCPOPT_TIMESTAMP) ||
	     (int32_t)(s->opts->ts_val - t->ts_recent) < 0))
		return false;
	if (s->len == 0)
		return seq_gt(s->ack, t->snd_una) && seq_le(s->ack, t->snd_max);
	return s->ack == t->snd_una && s->len <= rcv_wnd(t);
}

bool tcp_fast_path(tcp_tcb *t, tcp_in *s, tern_time now)
{
	if (!predicted(t, s))
		return false;
	opt_ts_update(t, s, now);
	t->probes = 0;
	/* the window is unchanged; the update's bookkeeping moves on */
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	if (s->len == 0) {
		stat_inc(t, TERN_CTR_TCP_HP_ACKS);
		ack_new(t, s, now);
	} else {
		stat_inc(t, TERN_CTR_TCP_HP_HITS);
		rcv_text(t, s, now);
	}
	if (t->state != TERN_TCP_CLOSED)
		tcp_output(t, now);
	return true;
}
