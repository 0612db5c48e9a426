/* The loop that drives a host in real time: read what the link has (in
 * batches), run the timers that are due, then sleep in epoll until the
 * next deadline or the next frame. It never spins: with nothing due it
 * waits in the kernel, and it takes the lock only while it works. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sock/sock.h"

/* Frames per read call, and read calls per round before the timers get
 * their turn (so a flood cannot starve them). */
#define RECV_BATCH 64
#define RECV_ROUNDS 16

/* Each read call is a batch for the stack: one ACK per connection for
 * all the segments it brought (tern_stack_batch). */
static int read_link(tern_host *h, tern_time now)
{
	for (int i = 0; i < RECV_ROUNDS; i++) {
		tern_stack_batch(h->stack, true, now);
		int n = tern_link_recv(h->link, RECV_BATCH, now);
		tern_stack_batch(h->stack, false, now);
		if (n < 0)
			return n;
		if (n < RECV_BATCH)
			break;
	}
	return 0;
}

static tern_time earliest(tern_host *h)
{
	tern_time t = tern_stack_next_deadline(h->stack);
	tern_time l = tern_link_next_deadline(h->link);
	tern_time a = host_timers_deadline(h);

	if (l < t)
		t = l;
	return a < t ? a : t;
}

/* Sleeps until `until` (TERN_TIME_NONE: no timeout) or an event on the
 * link's descriptor, the wake eventfd or a watched fd; the watched fds'
 * events go to ready[] (h->ready is not ours: the lock is not held). Returns
 * how many. */
static int sleep_until(tern_host *h, tern_time until,
		       host_ready ready[HOST_READY_MAX])
{
	struct epoll_event ev[HOST_READY_MAX];
	struct timespec ts, *tsp = NULL;

	if (until != TERN_TIME_NONE) {
		tern_time now = tern_host_now(h);
		tern_time d = until > now ? until - now : 0;
		ts.tv_sec = (time_t)(d / TERN_SEC);
		ts.tv_nsec = (long)(d % TERN_SEC);
		tsp = &ts;
	}
	int n = epoll_pwait2(h->epfd, ev, HOST_READY_MAX, tsp, NULL);
	int nready = 0;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		if (fd == h->wakefd) {
			uint64_t v;
			ssize_t r = read(h->wakefd, &v, sizeof(v));
			(void)r;
		} else if (fd != tern_link_fd(h->link)) {
			unsigned e = ev[i].events;
			ready[nready++] = (host_ready){
				fd, ((e & (EPOLLIN | EPOLLHUP | EPOLLERR))
					     ? TERN_FD_IN
					     : 0) |
					    ((e & EPOLLOUT) ? TERN_FD_OUT : 0)};
		}
	}
	return nready;
}

/* Sleeps until `next` (0: only looks), the lock dropped, then serves the
 * watched fds that became ready. */
static void sleep_and_watch(tern_host *h, tern_time next)
{
	host_ready ready[HOST_READY_MAX];

	h->wake_at = next;
	tern_host_unlock(h);
	int n = sleep_until(h, next, ready);
	tern_host_lock(h);
	h->wake_at = 0; /* awake: nobody needs to wake us */
	memcpy(h->ready, ready, (size_t)n * sizeof(ready[0]));
	h->nready = n;
	host_run_watches(h);
}

/* A loop with work always due never sleeps, so it looks at the watched
 * fds every WATCH_BUSY_POLL: a control socket is answered during a
 * transfer that keeps the loop busy, at one extra syscall per interval. */
#define WATCH_BUSY_POLL TERN_MSEC

static bool busy_poll_due(tern_host *h)
{
	tern_time now = tern_host_now(h);

	if (now - h->watches_polled < WATCH_BUSY_POLL)
		return false;
	h->watches_polled = now;
	return true;
}

/* One round with the lock held: input, timers, and tell waiters. */
static int round_once(tern_host *h, tern_time now)
{
	int r = read_link(h, now);

	if (r < 0)
		return r;
	tern_stack_run(h->stack, now);
	tern_link_poll(h->link, now);
	host_run_timers(h, now);
	if (h->signal) {
		h->signal = false;
		pthread_cond_broadcast(&h->cv);
	}
	return 0;
}

int loop_run(tern_host *h)
{
	int result = 0;

	tern_host_lock(h);
	h->loop_tid = pthread_self();
	h->running = true;
	while (!atomic_load(&h->stop)) {
		tern_time now = tern_host_now(h);
		if (now > h->now)
			h->now = now;
		if ((result = round_once(h, h->now)) < 0)
			break;
		tern_time next = earliest(h);
		if (next > tern_host_now(h))
			sleep_and_watch(h, next);
		else if (h->watches && busy_poll_due(h))
			sleep_and_watch(h, 0); /* due already: just look */
	}
	h->running = false;
	atomic_store(&h->stop, false);	/* the host may run again */
	pthread_cond_broadcast(&h->cv); /* waiters see it stopped */
	tern_host_unlock(h);
	return result;
}

int tern_host_run(tern_host *h)
{
	if (h->threaded)
		return TERN_ERR_BUSY;
	return loop_run(h);
}

static void *loop_thread(void *arg)
{
	tern_host *h = arg;

	h->result = loop_run(h);
	return NULL;
}

int tern_host_start(tern_host *h)
{
	if (h->threaded)
		return TERN_ERR_ALREADY;
	h->threaded = true;
	if (pthread_create(&h->thread, NULL, loop_thread, h) != 0) {
		h->threaded = false;
		return TERN_ERR_NOMEM;
	}
	return 0;
}

int tern_host_join(tern_host *h)
{
	if (!h->threaded)
		return TERN_ERR_INVAL;
	pthread_join(h->thread, NULL);
	h->threaded = false;
	return h->result;
}
