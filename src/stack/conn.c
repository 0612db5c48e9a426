/* Connection objects: their memory, their life cycle around the engine's
 * state changes, their events, and a listener's children. */
#include <string.h>

#include "stack/stack.h"

static tern_conn *conn_of(tcp_tcb *t)
{
	return (tern_conn *)t;
}

static void env_emit(tcp_tcb *t, const tcp_seg *seg, tern_time now)
{
	tern_conn *c = conn_of(t);

	stack_send_tcp(c->stack, &c->local, &c->remote, seg, t->snd_mss, now);
}

static void env_event(tcp_tcb *t, unsigned events)
{
	conn_post_event(conn_of(t), events);
}

static void env_drop(tcp_tcb *t, int reason, tern_time now)
{
	tern_conn *c = conn_of(t);

	stack_drop(c->stack, reason, &c->remote, &c->local, now);
}

static void *env_alloc(tcp_tcb *t, size_t size)
{
	return stack_buf_alloc(conn_of(t)->stack, size);
}

static void env_free(tcp_tcb *t, void *ptr, size_t size)
{
	stack_buf_free(conn_of(t)->stack, ptr, size);
}

/* In a batch, a pure ACK waits for its end (tern_stack_batch): one ACK
 * then answers every segment of the batch. */
static bool env_defer_ack(tcp_tcb *t)
{
	tern_conn *c = conn_of(t);
	tern_stack *s = c->stack;

	if (!s->batching)
		return false;
	if (!c->ack_kept) {
		c->ack_kept = true;
		c->ack_next = s->acks_kept;
		s->acks_kept = c;
	}
	return true;
}

/* RFC 5961 10: the stack's budget of challenge ACKs (ratelimit.c). */
static bool env_challenge_ack_ok(tcp_tcb *t, tern_time now)
{
	return stack_challenge_ack_ok(conn_of(t)->stack, now);
}

/* tcp_retries1: the link checks the way to the peer (tern_link_advise). */
static void env_path_doubt(tcp_tcb *t, tern_time now)
{
	tern_conn *c = conn_of(t);

	if (c->stack->link)
		tern_link_advise(c->stack->link, c->remote.addr, now);
}

static void ack_unkeep(tern_conn *c)
{
	tern_conn **p = &c->stack->acks_kept;

	while (*p && *p != c)
		p = &(*p)->ack_next;
	if (*p)
		*p = c->ack_next;
	c->ack_kept = false;
}

static void sib_unlink(tern_conn *c)
{
	tern_conn *l = c->listener;

	if (c->sib_prev)
		c->sib_prev->sib_next = c->sib_next;
	else
		l->children = c->sib_next;
	if (c->sib_next)
		c->sib_next->sib_prev = c->sib_prev;
	c->sib_prev = c->sib_next = NULL;
	l->nchildren--;
}

static void aq_unlink(tern_conn *c)
{
	tern_conn *l = c->listener, **pp = &l->aq_head, *prev = NULL;

	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->aq_next;
	}
	if (!*pp)
		return;
	*pp = c->aq_next;
	if (l->aq_tail == c)
		l->aq_tail = prev;
	l->aq_len--;
	c->aq_next = NULL;
}

/* A passive child completed the handshake: it moves to the accept queue
 * and the listener hears of it. */
static void child_established(tern_conn *c)
{
	tern_conn *l = c->listener;

	sib_unlink(c);
	if (l->aq_tail)
		l->aq_tail->aq_next = c;
	else
		l->aq_head = c;
	l->aq_tail = c;
	l->aq_len++;
	c->aq_next = NULL;
	conn_post_event(l, TERN_EV_ACCEPT);
}

/* A child that dies before accept() leaves its listener's lists. */
static void child_detach(tern_conn *c)
{
	if (c->tcb.state == TERN_TCP_CLOSED && c->listener) {
		if (c->sib_prev || c->listener->children == c)
			sib_unlink(c);
		else
			aq_unlink(c);
		c->listener = NULL;
	}
}

static void mark_dead(tern_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->dead_next = c->stack->dead;
	c->stack->dead = c;
}

/* An orphan in TIME_WAIT becomes a record when the entry point ends
 * (conn_flush_timewait): the engine may still be sending its ACK. */
static void queue_timewait(tern_conn *c)
{
	if (c->tw_queued)
		return;
	c->tw_queued = true;
	c->tw_next = c->stack->tw_queue;
	c->stack->tw_queue = c;
}

static void unqueue_timewait(tern_conn *c)
{
	tern_conn **pp = &c->stack->tw_queue;

	while (*pp && *pp != c)
		pp = &(*pp)->tw_next;
	if (*pp)
		*pp = c->tw_next;
	c->tw_queued = false;
}

static void orphan_uncount(tern_conn *c)
{
	if (c->orphan) {
		c->orphan = false;
		c->stack->orphans--;
	}
}

static void on_closed(tern_conn *c)
{
	orphan_uncount(c);
	table_remove(c);
	tw_cancel(&c->stack->wheel, &c->timer);
	child_detach(c);
	if (!c->app_owned)
		mark_dead(c);
}

static void env_state(tcp_tcb *t, int from, int to, const char *cause,
		      tern_time now)
{
	tern_conn *c = conn_of(t);
	tern_stack *s = c->stack;

	if (from == TERN_TCP_CLOSED)
		s->live++;
	if (to == TERN_TCP_CLOSED)
		s->live--;
	if (s->ntrace) {
		tern_trace_event ev = {.kind = TERN_TRACE_STATE, .t = now};
		ev.state.conn_id = c->id;
		ev.state.local = c->local;
		if (ev.state.local.addr == 0)
			ev.state.local.addr = s->addr; /* a listener */
		ev.state.remote = c->remote;
		ev.state.from = from;
		ev.state.to = to;
		ev.state.cause = cause;
		stack_trace(s, &ev);
	}
	if (to == TERN_TCP_ESTABLISHED && c->listener)
		child_established(c);
	if (to == TERN_TCP_TIME_WAIT && !c->app_owned)
		queue_timewait(c);
	if (to == TERN_TCP_CLOSED)
		on_closed(c);
}

const tcp_env_ops stack_tcp_env = {
	.emit = env_emit,
	.state = env_state,
	.event = env_event,
	.drop = env_drop,
	.alloc = env_alloc,
	.free = env_free,
	.defer_ack = env_defer_ack,
	.challenge_ack_ok = env_challenge_ack_ok,
	.path_doubt = env_path_doubt,
};

tern_conn *conn_new(tern_stack *s, const tern_conn_opts *opts)
{
	tern_conn_opts o = {0};
	tern_conn *c = stack_alloc(s, sizeof(*c));

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (opts)
		o = *opts;
	uint32_t sndbuf = o.sndbuf ? o.sndbuf : (uint32_t)s->cfg.tcp_wmem[1];
	uint32_t rcvbuf = o.rcvbuf ? o.rcvbuf : (uint32_t)s->cfg.tcp_rmem[1];
	tcp_init(&c->tcb, &stack_tcp_env, &s->stats, &s->cfg, sndbuf, rcvbuf,
		 s->adv_mss);
	/* TSO: segments of up to this much payload, which the link cuts
	 * at snd_mss (0: MSS-sized segments). */
	c->tcb.tso_max = s->tso_payload;
	/* A receive buffer the application chose is never outgrown, so the
	 * window scale is sized for it (as Linux's SO_RCVBUF lock). */
	if (o.rcvbuf)
		c->tcb.rcvbuf_max = o.rcvbuf;
	if (o.sndbuf)
		c->tcb.sndbuf_max = o.sndbuf;
	if (o.nodelay)
		c->tcb.flags |= TCP_F_NODELAY;
	if (o.keepalive)
		c->tcb.flags |= TCP_F_KEEPALIVE;
	c->opts = o;
	c->cb = o.on_event;
	c->user = o.user;
	c->stack = s;
	c->id = ++s->next_id;
	tw_timer_init(&c->timer);
	c->all_next = s->all;
	if (s->all)
		s->all->all_prev = c;
	s->all = c;
	return c;
}

/* Frees the connection at once, whatever its state (stack teardown and
 * the deferred frees of stack_leave). */
void conn_destroy(tern_conn *c)
{
	tern_stack *s = c->stack;

	table_remove(c);
	tw_cancel(&s->wheel, &c->timer);
	if (c->ack_kept)
		ack_unkeep(c);
	if (c->tw_queued)
		unqueue_timewait(c);
	orphan_uncount(c);
	if (c->listener) {
		c->tcb.state = TERN_TCP_CLOSED;
		child_detach(c);
	}
	while (c->children)
		conn_destroy(c->children);
	while (c->aq_head)
		conn_destroy(c->aq_head);
	if (c->tcb.state != TERN_TCP_CLOSED)
		s->live--;
	tcp_release(&c->tcb);
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		s->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	stack_free(s, c, sizeof(*c));
}

void conn_sync_timer(tern_conn *c)
{
	tern_time d = tcp_next_deadline(&c->tcb);

	if (c->tcb.state == TERN_TCP_CLOSED || d == TERN_TIME_NONE) {
		tw_cancel(&c->stack->wheel, &c->timer);
		return;
	}
	if (!tw_pending(&c->timer) || c->timer.expires != d)
		tw_schedule(&c->stack->wheel, &c->timer, d);
}

void conn_post_event(tern_conn *c, unsigned events)
{
	tern_stack *s = c->stack;

	c->pending |= events;
	if (c->in_ev)
		return;
	c->in_ev = true;
	c->ev_next = NULL;
	if (s->ev_tail)
		s->ev_tail->ev_next = c;
	else
		s->ev_head = c;
	s->ev_tail = c;
}

/* The application gave up its handle; a closed connection goes now, a
 * closing one when it reaches CLOSED. */
void conn_release(tern_conn *c)
{
	c->app_owned = false;
	c->cb = NULL;
	if (c->tcb.state == TERN_TCP_CLOSED)
		mark_dead(c);
	else if (c->tcb.state == TERN_TCP_TIME_WAIT)
		queue_timewait(c);
}

/* After the application's close: a connection still alive is an orphan,
 * and one past tcp_max_orphans is reset at once, as Linux's tcp_close()
 * does when tcp_check_oom() finds "too many orphaned sockets"
 * (TCPAbortOnMemory). */
void conn_orphan_check(tern_conn *c, tern_time now)
{
	tern_stack *s = c->stack;

	if (c->is_listener || c->orphan || c->tcb.state == TERN_TCP_CLOSED ||
	    c->tcb.state == TERN_TCP_TIME_WAIT)
		return;
	c->orphan = true;
	s->orphans++;
	if (s->orphans <= (size_t)s->cfg.tcp_max_orphans)
		return;
	s->stats.counters[TERN_CTR_TCP_ABORT_ON_MEMORY]++;
	tcp_abort(&c->tcb, now);
}

/* The orphans that reached TIME_WAIT hand over to records and go; with
 * tcp_max_tw_buckets records already (or no memory), the connection
 * closes at once instead, as Linux's tcp_time_wait(). A kept-back ACK
 * (the last of the close) leaves first. */
void conn_flush_timewait(tern_stack *s, tern_time now)
{
	while (s->tw_queue) {
		tern_conn *c = s->tw_queue;
		s->tw_queue = c->tw_next;
		c->tw_queued = false;
		if (c->tcb.state != TERN_TCP_TIME_WAIT || c->app_owned)
			continue;
		if (c->ack_kept) {
			ack_unkeep(c);
			tcp_flush_ack(&c->tcb, now);
		}
		if (timewait_take(s, c, now)) {
			orphan_uncount(c);
			table_remove(c);
			tw_cancel(&s->wheel, &c->timer);
			mark_dead(c);
		} else {
			tcp_drop(&c->tcb, "time-wait overflow", now);
		}
	}
}

/* A listener closes: half-open children vanish, completed ones that were
 * never accepted are reset (as Linux's inet_csk_listen_stop). */
void listener_close_children(tern_conn *l, tern_time now)
{
	while (l->children) {
		tern_conn *c = l->children;
		tcp_drop(&c->tcb, "listener closed", now);
	}
	while (l->aq_head) {
		tern_conn *c = l->aq_head;
		tcp_abort(&c->tcb, now);
	}
}
