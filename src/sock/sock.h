/* The socket layer's private view: the host and its sockets. */
#ifndef TERN_SOCK_SOCK_H
#define TERN_SOCK_SOCK_H

#include <pthread.h>
#include <stdatomic.h>

#include <tern/tern.h>

typedef struct host_timer {
	tern_time when;
	uint64_t seq; /* ties fire in the order they were set */
	void (*fn)(tern_host *h, void *arg);
	void *arg;
	struct host_timer *next;
} host_timer;

/* A descriptor the loop watches for the application (tern_host_watch_fd). */
typedef struct host_watch {
	int fd;
	unsigned events;
	tern_fd_fn fn;
	void *arg;
	struct host_watch *next;
} host_watch;

/* Events epoll reported while the loop slept without the lock; run once
 * it holds the lock again. */
#define HOST_READY_MAX 32
typedef struct host_ready {
	int fd;
	unsigned events; /* TERN_FD_* */
} host_ready;

struct tern_host {
	tern_stack *stack;
	tern_link *link;
	char name[32];

	/* One lock for the stack: the loop holds it while it works and
	 * drops it to sleep; other threads take it for each call. It is
	 * recursive so that callbacks (which run with it held) may call the
	 * socket API. */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* broadcast when socket events happened */
	int epfd, wakefd;  /* epoll, and an eventfd to wake it */
	pthread_t thread, loop_tid;
	bool threaded, running;
	atomic_bool stop;
	int result; /* what the loop ended with */

	tern_time wake_at;  /* when the sleeping loop means to wake */
	tern_time now;	    /* the last `now` given to the stack */
	bool signal;	    /* events since the last broadcast */
	host_timer *timers; /* sorted by (when, seq) */
	uint64_t timer_seq;
	tern_sock *socks; /* every open socket */
	host_watch *watches;
	tern_time watches_polled; /* when a busy loop last looked at them */
	host_ready ready[HOST_READY_MAX];
	int nready;
};

struct tern_sock {
	tern_host *host;
	tern_conn *conn; /* NULL until listen or connect */
	tern_sock *prev, *next;
	uint16_t port; /* bound */
	bool listening, connecting, nonblock, linger0;
	tern_conn_opts opts;
	unsigned ready; /* events seen and not yet consumed */
	int err;	/* pending error for TERN_SO_ERROR */
	tern_sock_fn cb;
	void *user;
};

/* host.c */
bool host_in_loop(const tern_host *h);
/* The `now` for a call into the stack (the host held): the loop's round
 * time inside the loop's thread, the clock elsewhere; never earlier than
 * a `now` the stack has seen. */
tern_time host_clock(tern_host *h);
void host_signal(tern_host *h);
void host_after_call(tern_host *h);
tern_time host_timers_deadline(const tern_host *h);
void host_run_timers(tern_host *h, tern_time now);

/* watch.c */
/* Calls the watchers of the fds in h->ready (the host held). */
void host_run_watches(tern_host *h);
void host_free_watches(tern_host *h);

/* loop.c */
int loop_run(tern_host *h);

/* sock.c */
void sock_free_all(tern_host *h);

#endif
