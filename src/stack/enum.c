/* Every connection of a stack, for `ss` (tern_stack_conns), and ss -K
 * (tern_stack_abort_conn). Reads the connections and the TIME_WAIT
 * records as they are; the engine is only entered to reset one. */
#include <string.h>

#include "stack/stack.h"

/* The timer ss -o shows: the one Linux's inet_diag would report for the
 * same pending work, in its order (retransmission first). */
static void view_timer(const tern_conn *c, tern_conn_view *v)
{
	static const struct {
		int which, timer;
	} order[] = {
		{TCP_T_RTX, TERN_TIMER_ON},
		{TCP_T_PERSIST, TERN_TIMER_PERSIST},
		{TCP_T_KEEPALIVE, TERN_TIMER_KEEPALIVE},
		{TCP_T_CLOSE, TERN_TIMER_TIMEWAIT},
	};
	const tcp_tcb *t = &c->tcb;

	v->timer = TERN_TIMER_OFF;
	v->timer_expires = TERN_TIME_NONE;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (t->deadline[order[k].which] == TERN_TIME_NONE)
			continue;
		v->timer = order[k].timer;
		v->timer_expires = t->deadline[order[k].which];
		v->timer_count = order[k].timer == TERN_TIMER_ON ? t->backoff
				 : order[k].timer == TERN_TIMER_TIMEWAIT
					 ? 0
					 : t->probes;
		return;
	}
}

static void view_of(const tern_conn *c, tern_conn_view *v)
{
	memset(v, 0, sizeof(*v));
	tern_tcp_info_get(c, &v->info);
	v->listener = c->is_listener;
	v->orphan = !c->app_owned && !c->listener;
	view_timer(c, v);
	if (c->is_listener) {
		v->recv_q = (uint32_t)c->aq_len;
		v->send_q = (uint32_t)c->backlog;
	} else {
		v->recv_q = v->info.rcv_buf_used;
		v->send_q = v->info.snd_buf_used;
	}
}

size_t tern_stack_conns(tern_stack *s, tern_conn_view_fn fn, void *arg)
{
	size_t n = 0;
	tern_conn_view v;

	for (const tern_conn *c = s->all; c; c = c->all_next) {
		if (c->tcb.state == TERN_TCP_CLOSED)
			continue; /* dead, waiting to be freed */
		view_of(c, &v);
		fn(&v, arg);
		n++;
	}
	return n + timewait_views(s, fn, arg);
}

int tern_stack_abort_conn(tern_stack *s, uint64_t id, tern_time now)
{
	tern_conn *c = s->all;

	while (c && !(c->id == id && c->tcb.state != TERN_TCP_CLOSED))
		c = c->all_next;
	now = stack_clock(s, now);
	if (!c) {
		stack_enter(s);
		bool ended = timewait_end_id(s, id, now);
		stack_leave(s, now);
		return ended ? 0 : TERN_ERR_NOENT;
	}
	if (c->is_listener)
		return TERN_ERR_INVAL;
	stack_enter(s);
	tcp_kill(&c->tcb, now);
	conn_sync_timer(c);
	stack_leave(s, now);
	return 0;
}
