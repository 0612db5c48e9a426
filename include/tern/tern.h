/* tern: a userspace TCP/IP stack. This header brings in everything, and
 * declares the socket API: a host (a stack, its link, and the loop that
 * drives them in real time) and sockets on it.
 *
 * Two ways to run a host:
 * - event mode: tern_host_run() in your thread; sockets never block, and
 *   you act in callbacks (tern_sock_set_callback) or after tern_poll();
 * - threaded mode: tern_host_start() runs the loop in its own thread; your
 *   threads make blocking calls (connect waits for the handshake, recv
 *   for data...), and callbacks still run in the loop's thread.
 * Calls return 0 (or a count) or a negative TERN_ERR_*, with the
 * meanings of the usual errno values (tern_err_to_errno).
 */
#ifndef TERN_TERN_H
#define TERN_TERN_H

#include <tern/link.h>
#include <tern/sim.h>
#include <tern/stack.h>
#include <tern/stats.h>
#include <tern/trace.h>
#include <tern/types.h>
#include <tern/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_host tern_host;
typedef struct tern_sock tern_sock;

typedef struct tern_host_config {
	const char *name;	       /* for traces; NULL: "tern" */
	uint32_t addr;		       /* our IPv4 address, host order */
	tern_link *link;	       /* the host owns it from now on */
	const tern_settings *settings; /* NULL: defaults */
	const tern_allocator *alloc;   /* NULL: malloc */
} tern_host_config;

/* A host on link. Errors: INVAL, NOMEM, IO (epoll or eventfd). */
TERN_API tern_host *tern_host_new(const tern_host_config *cfg, int *err);
/* Stops the loop, frees every socket, the stack and the link. */
TERN_API void tern_host_free(tern_host *h);
TERN_API tern_stack *tern_host_stack(tern_host *h);
/* CLOCK_MONOTONIC in nanoseconds: the `now` the host gives its stack
 * (the same clock for every host: h may be NULL). */
TERN_API tern_time tern_host_now(const tern_host *h);

/* Runs the loop in this thread until tern_host_stop(); returns 0, or the
 * link's error if the device went away. */
TERN_API int tern_host_run(tern_host *h);
/* Runs the loop in a thread of its own. */
TERN_API int tern_host_start(tern_host *h);
/* Asks the loop to return (from any thread, or a signal handler). */
TERN_API void tern_host_stop(tern_host *h);
/* Waits for a started loop's thread to end; returns as tern_host_run. */
TERN_API int tern_host_join(tern_host *h);
/* Calls fn(h, arg) in the loop's thread after `delay`. */
TERN_API int tern_host_after(tern_host *h, tern_time delay,
			     void (*fn)(tern_host *h, void *arg), void *arg);
/* Extra descriptors for the loop to watch, so that an application's own
 * servers (a control socket, say) live in the loop's thread without one
 * of their own. fn(h, fd, events, arg) runs in the loop's thread, the
 * host held, with the TERN_FD_* that hold (TERN_FD_IN also on hang-up or
 * error, so that a read finds them). Watching a watched fd again changes
 * its events, fn and arg. The host never closes fd: unwatch it before
 * closing it. Errors: INVAL, NOMEM, IO (epoll); NOENT (unwatch). */
enum { TERN_FD_IN = 1, TERN_FD_OUT = 2 };
typedef void (*tern_fd_fn)(tern_host *h, int fd, unsigned events, void *arg);
TERN_API int tern_host_watch_fd(tern_host *h, int fd, unsigned events,
				tern_fd_fn fn, void *arg);
TERN_API int tern_host_unwatch_fd(tern_host *h, int fd);
/* Hold and release the host, to call the stack's own API (tern_tcp_*,
 * tern_stack_*) from a thread other than the loop's. The socket API does
 * this itself. */
TERN_API void tern_host_lock(tern_host *h);
TERN_API void tern_host_unlock(tern_host *h);

/* ---- sockets ---- */

enum tern_sockopt {
	TERN_SO_NODELAY,   /* Nagle off */
	TERN_SO_KEEPALIVE, /* keepalive on */
	TERN_SO_SNDBUF,	   /* bytes; before connect or listen */
	TERN_SO_RCVBUF,	   /* bytes; before connect or listen */
	TERN_SO_LINGER0,   /* close() resets (SO_LINGER with 0) */
	TERN_SO_NONBLOCK,  /* never wait (always so in event mode) */
	TERN_SO_ERROR,	   /* get: the pending error, cleared */
};

/* A TCP socket, not yet bound or connected. */
TERN_API tern_sock *tern_socket(tern_host *h, int *err);
/* The local port (0: an ephemeral one at connect). */
TERN_API int tern_bind(tern_sock *s, uint16_t port);
/* Errors: INVAL (unbound, or connected), ADDRINUSE. */
TERN_API int tern_listen(tern_sock *s, int backlog);
/* A connected socket, or NULL and *err (AGAIN when none is ready and the
 * listener does not wait). */
TERN_API tern_sock *tern_accept(tern_sock *s, tern_endpoint *peer, int *err);
/* Waits for the handshake (blocking), or returns INPROGRESS at once and
 * reports CONNECTED or ERROR later. Errors: REFUSED, TIMEDOUT,
 * HOSTUNREACH, ADDRINUSE, ISCONN, ALREADY. */
TERN_API int tern_connect(tern_sock *s, const tern_endpoint *to);
/* As send(2)/recv(2): a count, 0 at end of stream (recv), AGAIN, PIPE,
 * RESET, NOTCONN... A blocking send waits until all of buf is queued. */
TERN_API ptrdiff_t tern_send(tern_sock *s, const void *buf, size_t len);
TERN_API ptrdiff_t tern_recv(tern_sock *s, void *buf, size_t len);
TERN_API int tern_shutdown(tern_sock *s, int how); /* TERN_SHUT_* */
/* Gives the socket up: FIN after queued data (the stack finishes it), or
 * RST with TERN_SO_LINGER0 or unread data. */
TERN_API int tern_close(tern_sock *s);
/* RST now, and gives the socket up. */
TERN_API int tern_abort(tern_sock *s);

TERN_API int tern_setsockopt(tern_sock *s, int opt, int value);
TERN_API int tern_getsockopt(tern_sock *s, int opt, int *value);
TERN_API int tern_getsockname(tern_sock *s, tern_endpoint *out);
TERN_API int tern_getpeername(tern_sock *s, tern_endpoint *out);
/* The connection's RFC 9293 state (TERN_TCP_*), CLOSED before one. */
TERN_API int tern_sock_state(tern_sock *s);
TERN_API tern_conn *tern_sock_conn(tern_sock *s);

/* fn runs in the loop's thread (the host held) with the TERN_EV_* bits
 * that became true; it may call any socket function that does not wait. */
typedef void (*tern_sock_fn)(tern_sock *s, unsigned events, void *user);
TERN_API void tern_sock_set_callback(tern_sock *s, tern_sock_fn fn, void *user);
TERN_API void *tern_sock_user(tern_sock *s);

typedef struct tern_pollfd {
	tern_sock *sock;
	unsigned events;  /* TERN_EV_READABLE, WRITABLE, ACCEPT, CONNECTED */
	unsigned revents; /* those that hold, and CLOSED, ERROR always */
} tern_pollfd;

/* Like poll(2): how many have revents, 0 on timeout (ms; -1: forever).
 * In the loop's thread (or event mode) it never waits. */
TERN_API int tern_poll(tern_host *h, tern_pollfd *fds, int n, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
