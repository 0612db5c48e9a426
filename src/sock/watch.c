/* Descriptors the loop watches for the application: its own servers run
 * in the loop's thread, the host held, like socket callbacks. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/epoll.h>

#include "sock/sock.h"

static host_watch **find(tern_host *h, int fd)
{
	host_watch **pp = &h->watches;

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	return pp;
}

static uint32_t epoll_events(unsigned events)
{
	return ((events & TERN_FD_IN) ? EPOLLIN : 0) |
	       ((events & TERN_FD_OUT) ? EPOLLOUT : 0);
}

int tern_host_watch_fd(tern_host *h, int fd, unsigned events, tern_fd_fn fn,
		       void *arg)
{
	if (fd < 0 || !fn || fd == h->wakefd || fd == h->epfd ||
	    fd == tern_link_fd(h->link))
		return TERN_ERR_INVAL;
	tern_host_lock(h);
	host_watch **pp = find(h, fd), *w = *pp;
	int err = 0;
	struct epoll_event ev = {.events = epoll_events(events), .data.fd = fd};
	if (w) {
		if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			err = TERN_ERR_IO;
	} else if (!(w = calloc(1, sizeof(*w)))) {
		err = TERN_ERR_NOMEM;
	} else if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		w = NULL;
		err = TERN_ERR_IO;
	} else {
		w->fd = fd;
		*pp = w;
	}
	if (err == 0) {
		w->events = events;
		w->fn = fn;
		w->arg = arg;
	}
	tern_host_unlock(h);
	return err;
}

int tern_host_unwatch_fd(tern_host *h, int fd)
{
	tern_host_lock(h);
	host_watch **pp = find(h, fd), *w = *pp;
	if (w) {
		*pp = w->next;
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
		free(w);
		/* An event already gathered for it must not reach a later
		 * watcher of the same number. */
		for (int i = 0; i < h->nready; i++)
			if (h->ready[i].fd == fd)
				h->ready[i].events = 0;
	}
	tern_host_unlock(h);
	return w ? 0 : TERN_ERR_NOENT;
}

/* Each event is looked up again as it runs: an earlier callback may have
 * unwatched the fd. */
void host_run_watches(tern_host *h)
{
	for (int i = 0; i < h->nready; i++) {
		host_ready r = h->ready[i];
		host_watch *w = *find(h, r.fd);
		unsigned ev = w ? r.events & (w->events | TERN_FD_IN) : 0;
		if (ev)
			w->fn(h, r.fd, ev, w->arg);
	}
	h->nready = 0;
}

void host_free_watches(tern_host *h)
{
	while (h->watches) {
		host_watch *w = h->watches;
		h->watches = w->next;
		free(w);
	}
}
