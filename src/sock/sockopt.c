/* Socket options, names, state, callbacks and tern_poll. */
#include <errno.h>
#include <time.h>

#include "sock/sock.h"

static int set_flag_opt(tern_sock *s, int opt, bool on)
{
	tern_time now = host_clock(s->host);

	switch (opt) {
	case TERN_SO_NODELAY:
		s->opts.nodelay = on;
		if (s->conn && !s->listening)
			tern_tcp_set_nodelay(s->conn, on, now);
		return 0;
	case TERN_SO_KEEPALIVE:
		s->opts.keepalive = on;
		if (s->conn && !s->listening)
			tern_tcp_set_keepalive(s->conn, on, now);
		return 0;
	case TERN_SO_LINGER0:
		s->linger0 = on;
		return 0;
	case TERN_SO_NONBLOCK:
		s->nonblock = on;
		return 0;
	}
	return TERN_ERR_INVAL;
}

int tern_setsockopt(tern_sock *s, int opt, int value)
{
	int r;

	tern_host_lock(s->host);
	if (opt == TERN_SO_SNDBUF || opt == TERN_SO_RCVBUF) {
		/* buffers are sized when the connection is made */
		if (s->conn || value < 1024)
			r = TERN_ERR_INVAL;
		else if (opt == TERN_SO_SNDBUF)
			s->opts.sndbuf = (uint32_t)value, r = 0;
		else
			s->opts.rcvbuf = (uint32_t)value, r = 0;
	} else {
		r = set_flag_opt(s, opt, value != 0);
	}
	host_after_call(s->host);
	tern_host_unlock(s->host);
	return r;
}

/* SO_ERROR: the connection's error (a TERN_ERR_*), once. */
static int take_error(tern_sock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

int tern_getsockopt(tern_sock *s, int opt, int *value)
{
	int r = 0;

	tern_host_lock(s->host);
	switch (opt) {
	case TERN_SO_NODELAY:
		*value = s->opts.nodelay;
		break;
	case TERN_SO_KEEPALIVE:
		*value = s->opts.keepalive;
		break;
	case TERN_SO_SNDBUF:
		*value = (int)(s->opts.sndbuf ? s->opts.sndbuf
					      : (uint32_t)tern_stack_settings(
							s->host->stack)
							->tcp_wmem[1]);
		break;
	case TERN_SO_RCVBUF:
		*value = (int)(s->opts.rcvbuf ? s->opts.rcvbuf
					      : (uint32_t)tern_stack_settings(
							s->host->stack)
							->tcp_rmem[1]);
		break;
	case TERN_SO_LINGER0:
		*value = s->linger0;
		break;
	case TERN_SO_NONBLOCK:
		*value = s->nonblock;
		break;
	case TERN_SO_ERROR:
		*value = take_error(s);
		break;
	default:
		r = TERN_ERR_INVAL;
	}
	tern_host_unlock(s->host);
	return r;
}

static int name_of(tern_sock *s, tern_endpoint *out, bool local)
{
	int r = 0;

	tern_host_lock(s->host);
	if (s->conn) {
		tern_tcp_info i;
		tern_tcp_info_get(s->conn, &i);
		*out = local ? i.local : i.remote;
	} else if (local) {
		*out = (tern_endpoint){tern_stack_addr(s->host->stack),
				       s->port};
	} else {
		r = TERN_ERR_NOTCONN;
	}
	tern_host_unlock(s->host);
	return r;
}

int tern_getsockname(tern_sock *s, tern_endpoint *out)
{
	return name_of(s, out, true);
}

int tern_getpeername(tern_sock *s, tern_endpoint *out)
{
	if (s->listening)
		return TERN_ERR_NOTCONN;
	return name_of(s, out, false);
}

int tern_sock_state(tern_sock *s)
{
	tern_host_lock(s->host);
	int st = s->conn ? tern_tcp_state(s->conn) : TERN_TCP_CLOSED;
	tern_host_unlock(s->host);
	return st;
}

tern_conn *tern_sock_conn(tern_sock *s)
{
	return s->conn;
}

void tern_sock_set_callback(tern_sock *s, tern_sock_fn fn, void *user)
{
	tern_host_lock(s->host);
	s->cb = fn;
	s->user = user;
	tern_host_unlock(s->host);
}

void *tern_sock_user(tern_sock *s)
{
	return s->user;
}

/* What holds for a socket now (level-triggered, as poll(2)). */
static unsigned sock_events(const tern_sock *s)
{
	if (!s->conn)
		return 0;
	return tern_tcp_events(s->conn);
}

static int poll_once(tern_pollfd *fds, int n)
{
	int count = 0;

	for (int i = 0; i < n; i++) {
		unsigned want = fds[i].events | TERN_EV_CLOSED | TERN_EV_ERROR;
		fds[i].revents = sock_events(fds[i].sock) & want;
		count += fds[i].revents != 0;
	}
	return count;
}

static void deadline_ts(tern_host *h, int timeout_ms, struct timespec *ts)
{
	tern_time t = tern_host_now(h) + (tern_time)timeout_ms * TERN_MSEC;

	ts->tv_sec = (time_t)(t / TERN_SEC);
	ts->tv_nsec = (long)(t % TERN_SEC);
}

int tern_poll(tern_host *h, tern_pollfd *fds, int n, int timeout_ms)
{
	struct timespec until;
	bool can_wait = h->threaded && timeout_ms != 0;
	int count;

	if (timeout_ms > 0)
		deadline_ts(h, timeout_ms, &until);
	tern_host_lock(h);
	can_wait = can_wait && !host_in_loop(h);
	while ((count = poll_once(fds, n)) == 0 && can_wait) {
		if (timeout_ms < 0)
			pthread_cond_wait(&h->cv, &h->mu);
		else if (pthread_cond_timedwait(&h->cv, &h->mu, &until) ==
			 ETIMEDOUT) {
			count = poll_once(fds, n);
			break;
		}
	}
	tern_host_unlock(h);
	return count;
}
