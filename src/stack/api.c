/* The application's calls on connections. Each is an entry point: it may
 * run the engine, then delivers events and frees what died. */
#include "stack/stack.h"

#define CALL_BEGIN(c, now)                                                     \
	do {                                                                   \
		(now) = stack_clock((c)->stack, (now));                        \
		stack_enter((c)->stack);                                       \
	} while (0)
#define CALL_END(c, now)                                                       \
	do {                                                                   \
		conn_sync_timer(c);                                            \
		stack_leave((c)->stack, now);                                  \
	} while (0)

static void set_err(int *err, int value)
{
	if (err)
		*err = value;
}

tern_conn *tern_tcp_listen(tern_stack *s, uint16_t port, int backlog,
			   const tern_conn_opts *opts, tern_time now, int *err)
{
	if (port == 0 || backlog < 0) {
		set_err(err, TERN_ERR_INVAL);
		return NULL;
	}
	if (table_listener(s, port)) {
		set_err(err, TERN_ERR_ADDRINUSE);
		return NULL;
	}
	tern_conn *l = conn_new(s, opts);
	if (!l) {
		set_err(err, TERN_ERR_NOMEM);
		return NULL;
	}
	l->local.port = port;
	l->is_listener = true;
	l->app_owned = true;
	/* listen(2): the backlog is capped by somaxconn */
	l->backlog = backlog > s->cfg.somaxconn ? s->cfg.somaxconn : backlog;
	table_insert(l);
	now = stack_clock(s, now);
	stack_enter(s);
	tcp_open_passive(&l->tcb, now);
	stack_leave(s, now);
	set_err(err, 0);
	return l;
}

tern_conn *tern_tcp_accept(tern_conn *l, int *err)
{
	if (!l->is_listener || l->tcb.state != TERN_TCP_LISTEN) {
		set_err(err, TERN_ERR_INVAL);
		return NULL;
	}
	tern_conn *c = l->aq_head;
	if (!c) {
		set_err(err, TERN_ERR_AGAIN);
		return NULL;
	}
	l->aq_head = c->aq_next;
	if (!l->aq_head)
		l->aq_tail = NULL;
	l->aq_len--;
	c->aq_next = NULL;
	c->listener = NULL;
	c->app_owned = true;
	set_err(err, 0);
	return c;
}

tern_conn *tern_tcp_connect(tern_stack *s, const tern_endpoint *remote,
			    const tern_conn_opts *opts, tern_time now, int *err)
{
	tern_endpoint local = {s->addr, opts ? opts->local_port : 0};
	tcp_seq isn = 0;

	if (remote->port == 0 || remote->addr == 0) {
		set_err(err, TERN_ERR_INVAL);
		return NULL;
	}
	now = stack_clock(s, now);
	if (local.port == 0) {
		int r = stack_pick_port(s, remote, now, &local.port, &isn);
		if (r < 0) {
			set_err(err, r);
			return NULL;
		}
	} else if (table_lookup(s, &local, remote)) {
		set_err(err, TERN_ERR_ADDRINUSE);
		return NULL;
	} else if (!stack_tuple_free(s, &local, remote, now, &isn)) {
		/* in TIME_WAIT, not to be reused: Linux's EADDRNOTAVAIL */
		set_err(err, TERN_ERR_ADDRNOTAVAIL);
		return NULL;
	}
	tern_conn *c = conn_new(s, opts);
	if (!c) {
		set_err(err, TERN_ERR_NOMEM);
		return NULL;
	}
	c->local = local;
	c->remote = *remote;
	c->app_owned = true;
	table_insert(c);
	s->stats.counters[TERN_CTR_TCP_ACTIVE_OPENS]++;
	c->tcb.ts_offset = stack_ts_offset(s, &local, remote);
	CALL_BEGIN(c, now);
	if (!isn) /* RFC 6528, unless it follows a TIME_WAIT it ended */
		isn = stack_isn(s, &local, remote, now);
	tcp_open_active(&c->tcb, isn, now);
	CALL_END(c, now);
	set_err(err, 0);
	return c;
}

ptrdiff_t tern_tcp_send(tern_conn *c, const void *buf, size_t len,
			tern_time now)
{
	CALL_BEGIN(c, now);
	ptrdiff_t n = c->is_listener ? TERN_ERR_NOTCONN
				     : tcp_send(&c->tcb, buf, len, now);
	CALL_END(c, now);
	return n;
}

ptrdiff_t tern_tcp_recv(tern_conn *c, void *buf, size_t len, tern_time now)
{
	CALL_BEGIN(c, now);
	ptrdiff_t n = c->is_listener ? TERN_ERR_NOTCONN
				     : tcp_recv(&c->tcb, buf, len, now);
	CALL_END(c, now);
	return n;
}

int tern_tcp_shutdown(tern_conn *c, int how, tern_time now)
{
	if (how < TERN_SHUT_RD || how > TERN_SHUT_RDWR)
		return TERN_ERR_INVAL;
	CALL_BEGIN(c, now);
	int r = c->is_listener ? TERN_ERR_NOTCONN
			       : tcp_shutdown(&c->tcb, how, now);
	CALL_END(c, now);
	return r;
}

/* The application gives up its handle: CLOSE or ABORT (a listener's
 * children go first), and the connection is freed when it reaches CLOSED. */
static int release(tern_conn *c, int (*how)(tcp_tcb *, tern_time),
		   tern_time now)
{
	CALL_BEGIN(c, now);
	if (c->is_listener)
		listener_close_children(c, now);
	conn_release(c);
	how(&c->tcb, now);
	conn_orphan_check(c, now);
	CALL_END(c, now);
	return 0;
}

int tern_tcp_close(tern_conn *c, tern_time now)
{
	return release(c, tcp_close, now);
}

int tern_tcp_abort(tern_conn *c, tern_time now)
{
	return release(c, tcp_abort, now);
}

int tern_tcp_set_nodelay(tern_conn *c, bool on, tern_time now)
{
	CALL_BEGIN(c, now);
	tcp_set_nodelay(&c->tcb, on, now);
	CALL_END(c, now);
	return 0;
}

int tern_tcp_set_keepalive(tern_conn *c, bool on, tern_time now)
{
	CALL_BEGIN(c, now);
	tcp_set_keepalive(&c->tcb, on, now);
	CALL_END(c, now);
	return 0;
}

void tern_tcp_set_callback(tern_conn *c, tern_event_fn fn, void *user)
{
	c->cb = fn;
	c->user = user;
}

unsigned tern_tcp_events(const tern_conn *c)
{
	if (c->is_listener)
		return c->aq_head ? TERN_EV_ACCEPT : 0;
	return tcp_poll(&c->tcb);
}

int tern_tcp_error(tern_conn *c)
{
	int e = c->tcb.err;
	return e;
}

int tern_tcp_info_get(const tern_conn *c, tern_tcp_info *out)
{
	tcp_info(&c->tcb, out);
	out->local = c->local;
	if (out->local.addr == 0)
		out->local.addr = c->stack->addr;
	out->remote = c->remote;
	out->conn_id = c->id;
	return 0;
}

int tern_tcp_state(const tern_conn *c)
{
	return c->tcb.state;
}
