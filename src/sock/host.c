/* The host: a stack, its link, the lock that guards them, and the
 * application timers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sock/sock.h"

tern_time tern_host_now(const tern_host *h)
{
	struct timespec ts;
	(void)h;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tern_time)ts.tv_sec * TERN_SEC + (tern_time)ts.tv_nsec;
}

/* The lock and the condition: the condition waits on CLOCK_MONOTONIC,
 * the clock the whole host runs on (tern_poll's timeouts). */
static void init_lock(tern_host *h)
{
	pthread_mutexattr_t a;
	pthread_condattr_t c;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&h->mu, &a);
	pthread_mutexattr_destroy(&a);
	pthread_condattr_init(&c);
	pthread_condattr_setclock(&c, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &c);
	pthread_condattr_destroy(&c);
}

static int init_poll(tern_host *h)
{
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->epfd < 0 || h->wakefd < 0)
		return TERN_ERR_IO;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = h->wakefd};
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wakefd, &ev) < 0)
		return TERN_ERR_IO;
	int fd = tern_link_fd(h->link);
	ev.data.fd = fd;
	if (fd >= 0 && epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return TERN_ERR_IO;
	return 0;
}

/* The ISN and port secret of a real host comes from the kernel. */
static int make_stack(tern_host *h, const tern_host_config *cfg)
{
	tern_stack_config sc = {
		.name = h->name,
		.addr = cfg->addr,
		.settings = cfg->settings,
		.alloc = cfg->alloc,
	};
	if (getrandom(sc.secret, sizeof(sc.secret), 0) != sizeof(sc.secret))
		return TERN_ERR_IO;
	h->stack = tern_stack_new(&sc);
	if (!h->stack)
		return TERN_ERR_NOMEM;
	tern_stack_attach(h->stack, h->link);
	return 0;
}

tern_host *tern_host_new(const tern_host_config *cfg, int *err)
{
	tern_host *h = calloc(1, sizeof(*h));
	int e = TERN_ERR_NOMEM;

	if (!h)
		goto fail;
	init_lock(h);
	h->epfd = h->wakefd = -1;
	h->link = cfg->link;
	h->wake_at = TERN_TIME_NONE;
	snprintf(h->name, sizeof(h->name), "%s",
		 cfg->name ? cfg->name : "tern");
	if (!cfg->link || cfg->addr == 0) {
		e = TERN_ERR_INVAL;
		goto fail;
	}
	if ((e = init_poll(h)) < 0 || (e = make_stack(h, cfg)) < 0)
		goto fail;
	if (err)
		*err = 0;
	return h;
fail:
	if (h) {
		h->link = NULL; /* the caller keeps it on failure */
		tern_host_free(h);
	}
	if (err)
		*err = e;
	return NULL;
}

void tern_host_free(tern_host *h)
{
	if (!h)
		return;
	if (h->threaded) {
		tern_host_stop(h);
		tern_host_join(h);
	}
	sock_free_all(h);
	host_free_watches(h);
	while (h->timers) {
		host_timer *t = h->timers;
		h->timers = t->next;
		free(t);
	}
	tern_stack_free(h->stack);
	tern_link_destroy(h->link);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->wakefd >= 0)
		close(h->wakefd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

tern_stack *tern_host_stack(tern_host *h)
{
	return h->stack;
}

void tern_host_lock(tern_host *h)
{
	pthread_mutex_lock(&h->mu);
}

void tern_host_unlock(tern_host *h)
{
	pthread_mutex_unlock(&h->mu);
}

bool host_in_loop(const tern_host *h)
{
	return h->running && pthread_equal(pthread_self(), h->loop_tid);
}

/* A round of the loop works with one `now`; a callback in it must not
 * hand the stack a later one and then the round an earlier one (time
 * going back gave a negative RTT sample once: an RTO of 120 s). */
tern_time host_clock(tern_host *h)
{
	if (host_in_loop(h))
		return h->now;
	tern_time t = tern_host_now(h);
	if (t > h->now)
		h->now = t;
	return h->now;
}

/* Wakes the loop (eventfd writes are async-signal-safe). */
static void wake(tern_host *h)
{
	uint64_t one = 1;
	ssize_t r = write(h->wakefd, &one, sizeof(one));
	(void)r; /* a full counter already means "wake" */
}

void tern_host_stop(tern_host *h)
{
	atomic_store(&h->stop, true);
	wake(h);
}

/* Socket events happened: waiters are told once the call or the loop's
 * round ends. */
void host_signal(tern_host *h)
{
	h->signal = true;
}

/* After a call from outside the loop: tell waiters, and wake the loop if
 * the stack now wants it earlier than it planned to wake. */
void host_after_call(tern_host *h)
{
	if (h->signal) {
		h->signal = false;
		pthread_cond_broadcast(&h->cv);
	}
	if (host_in_loop(h))
		return;
	if (tern_stack_next_deadline(h->stack) < h->wake_at ||
	    host_timers_deadline(h) < h->wake_at)
		wake(h);
}

int tern_host_after(tern_host *h, tern_time delay,
		    void (*fn)(tern_host *h, void *arg), void *arg)
{
	host_timer *t = malloc(sizeof(*t)), **pp;

	if (!t)
		return TERN_ERR_NOMEM;
	tern_host_lock(h);
	*t = (host_timer){host_clock(h) + delay, h->timer_seq++, fn, arg, NULL};
	for (pp = &h->timers; *pp && (*pp)->when <= t->when; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	host_after_call(h);
	tern_host_unlock(h);
	return 0;
}

tern_time host_timers_deadline(const tern_host *h)
{
	return h->timers ? h->timers->when : TERN_TIME_NONE;
}

/* Only the timers set before this round: one that a callback sets again
 * with no delay runs in the next round, so it cannot hold the loop in
 * this one (the link, the stack and the watched fds get their turn). */
void host_run_timers(tern_host *h, tern_time now)
{
	uint64_t before = h->timer_seq;

	while (h->timers && h->timers->when <= now && h->timers->seq < before) {
		host_timer *t = h->timers;
		h->timers = t->next;
		t->fn(h, t->arg);
		free(t);
	}
}
