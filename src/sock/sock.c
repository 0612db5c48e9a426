/* BSD-style sockets on a host, over the stack's connections. Every call
 * takes the host's lock; a call that would block waits on the host's
 * condition, which the loop broadcasts when events happen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sock/sock.h"

/* Waiting makes sense only in threaded mode, outside the loop's thread
 * (the loop is what would wake us), for a blocking socket. */
static bool may_wait(const tern_sock *s)
{
	return !s->nonblock && s->host->threaded && !host_in_loop(s->host);
}

static void wait_events(tern_sock *s)
{
	pthread_cond_wait(&s->host->cv, &s->host->mu);
}

static tern_time now_of(const tern_sock *s)
{
	return host_clock(s->host);
}

/* Ends a call: tell waiters, wake the loop if it must come earlier. */
static void done(tern_sock *s)
{
	host_after_call(s->host);
	tern_host_unlock(s->host);
}

static void conn_event(tern_conn *c, unsigned ev, void *user, tern_time now)
{
	tern_sock *s = user;
	(void)now;

	s->ready |= ev;
	if (ev & TERN_EV_ERROR)
		s->err = tern_tcp_error(c);
	host_signal(s->host);
	if (s->cb)
		s->cb(s, ev, s->user);
}

static tern_sock *sock_new(tern_host *h)
{
	tern_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->host = h;
	s->next = h->socks;
	if (h->socks)
		h->socks->prev = s;
	h->socks = s;
	return s;
}

static void sock_unlink(tern_sock *s)
{
	tern_host *h = s->host;

	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

/* At host teardown: the stack frees the connections itself. */
void sock_free_all(tern_host *h)
{
	while (h->socks)
		sock_unlink(h->socks);
}

tern_sock *tern_socket(tern_host *h, int *err)
{
	tern_host_lock(h);
	tern_sock *s = sock_new(h);
	tern_host_unlock(h);
	if (err)
		*err = s ? 0 : TERN_ERR_NOMEM;
	return s;
}

int tern_bind(tern_sock *s, uint16_t port)
{
	int r = 0;

	tern_host_lock(s->host);
	if (s->conn || s->port)
		r = TERN_ERR_INVAL; /* bound once, before use */
	else
		s->port = port;
	tern_host_unlock(s->host);
	return r;
}

/* The options a new connection of this socket starts with. */
static tern_conn_opts conn_opts(tern_sock *s)
{
	tern_conn_opts o = s->opts;

	o.local_port = s->port;
	o.on_event = conn_event;
	o.user = s;
	return o;
}

int tern_listen(tern_sock *s, int backlog)
{
	int r = 0;

	tern_host_lock(s->host);
	if (s->conn || s->port == 0) {
		r = TERN_ERR_INVAL;
	} else {
		tern_conn_opts o = conn_opts(s);
		s->conn = tern_tcp_listen(s->host->stack, s->port, backlog, &o,
					  now_of(s), &r);
		s->listening = s->conn != NULL;
	}
	done(s);
	return r;
}

tern_sock *tern_accept(tern_sock *s, tern_endpoint *peer, int *err)
{
	tern_conn *c = NULL;
	int e = TERN_ERR_INVAL;

	tern_host_lock(s->host);
	while (s->listening && !(c = tern_tcp_accept(s->conn, &e)) &&
	       e == TERN_ERR_AGAIN && may_wait(s))
		wait_events(s);
	tern_sock *n = c ? sock_new(s->host) : NULL;
	if (c && !n) {
		tern_tcp_abort(c, now_of(s));
		e = TERN_ERR_NOMEM;
	} else if (n) {
		n->conn = c;
		n->opts = s->opts;
		n->linger0 = s->linger0;
		n->nonblock = s->nonblock;
		tern_tcp_set_callback(c, conn_event, n);
		if (peer) {
			tern_tcp_info i;
			tern_tcp_info_get(c, &i);
			*peer = i.remote;
		}
		e = 0;
	}
	done(s);
	if (err)
		*err = e;
	return n;
}

static bool handshaking(const tern_sock *s)
{
	int st = tern_tcp_state(s->conn);
	return st == TERN_TCP_SYN_SENT || st == TERN_TCP_SYN_RECEIVED;
}

/* The outcome of a connect that has run its course (or not yet). */
static int connect_result(tern_sock *s)
{
	if (handshaking(s))
		return s->nonblock || !may_wait(s) ? TERN_ERR_ALREADY : 0;
	if (tern_tcp_state(s->conn) >= TERN_TCP_ESTABLISHED)
		return TERN_ERR_ISCONN;
	return tern_tcp_error(s->conn) ? tern_tcp_error(s->conn)
				       : TERN_ERR_ISCONN;
}

int tern_connect(tern_sock *s, const tern_endpoint *to)
{
	int r = 0;

	tern_host_lock(s->host);
	if (s->listening) {
		r = TERN_ERR_INVAL;
	} else if (s->conn) {
		r = connect_result(s);
	} else {
		tern_conn_opts o = conn_opts(s);
		s->conn =
			tern_tcp_connect(s->host->stack, to, &o, now_of(s), &r);
		s->connecting = s->conn != NULL;
	}
	if (r == 0 && s->conn && !may_wait(s))
		r = handshaking(s) ? TERN_ERR_INPROGRESS : 0;
	else if (r == 0 && s->conn) {
		while (handshaking(s))
			wait_events(s);
		r = tern_tcp_state(s->conn) >= TERN_TCP_ESTABLISHED
			    ? 0
			    : tern_tcp_error(s->conn);
	}
	done(s);
	return r;
}

ptrdiff_t tern_send(tern_sock *s, const void *buf, size_t len)
{
	size_t sent = 0;
	ptrdiff_t r = TERN_ERR_NOTCONN;

	if (len == 0)
		return 0;
	tern_host_lock(s->host);
	while (s->conn && !s->listening) {
		r = tern_tcp_send(s->conn, (const uint8_t *)buf + sent,
				  len - sent, now_of(s));
		if (r > 0)
			sent += (size_t)r;
		if ((r > 0 && sent == len) || (r < 0 && r != TERN_ERR_AGAIN) ||
		    (r == TERN_ERR_AGAIN && !may_wait(s)))
			break;
		if (r == TERN_ERR_AGAIN)
			wait_events(s);
	}
	done(s);
	return sent > 0 ? (ptrdiff_t)sent : r;
}

ptrdiff_t tern_recv(tern_sock *s, void *buf, size_t len)
{
	ptrdiff_t r = TERN_ERR_NOTCONN;

	tern_host_lock(s->host);
	while (s->conn && !s->listening) {
		r = tern_tcp_recv(s->conn, buf, len, now_of(s));
		if (r != TERN_ERR_AGAIN || !may_wait(s))
			break;
		wait_events(s);
	}
	done(s);
	return r;
}

int tern_shutdown(tern_sock *s, int how)
{
	tern_host_lock(s->host);
	int r = s->conn && !s->listening
			? tern_tcp_shutdown(s->conn, how, now_of(s))
			: TERN_ERR_NOTCONN;
	done(s);
	return r;
}

/* close() or abort(): the connection goes on in the stack, the socket
 * goes now. */
static int give_up(tern_sock *s, bool reset)
{
	tern_host *h = s->host;

	tern_host_lock(h);
	if (s->conn && reset)
		tern_tcp_abort(s->conn, now_of(s));
	else if (s->conn)
		tern_tcp_close(s->conn, now_of(s));
	sock_unlink(s);
	host_after_call(h);
	tern_host_unlock(h);
	return 0;
}

int tern_close(tern_sock *s)
{
	return give_up(s, s->linger0);
}

int tern_abort(tern_sock *s)
{
	return give_up(s, true);
}
