/* linux_connrate: the kernel's connection rate, for tern_connrate to be
 * compared with. One thread each, non-blocking sockets and epoll.
 *
 *   linux_connrate server ADDR PORT NPORTS
 *   linux_connrate client ADDR PORT NPORTS CONC SECONDS
 *
 * The server listens on NPORTS ports from PORT, accepts, reads the byte
 * and the end of stream, and closes; it runs until SIGTERM or SIGINT.
 * The client keeps CONC connections in flight, spread over the ports,
 * each: connect, write one byte, shutdown(SHUT_WR), wait for the server's
 * FIN, close (TIME_WAIT on the client, as in tern_connrate). It counts a
 * connection when it has read the end of stream. Meant to run in a
 * network namespace of its own (bench/run.sh). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 1048576
#define MAX_PORTS 1000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool parse_num(const char *text, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int listen_on(const struct sockaddr_in *sa)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(fd, 4096) < 0) {
		perror("linux_connrate: listen");
		exit(1);
	}
	return fd;
}

static void accept_all(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

static void drain(int fd)
{
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0 || errno != EAGAIN)
		close(fd);
}

static int server(struct sockaddr_in *sa, long nports)
{
	int ep = epoll_create1(0);
	static bool is_listener[MAX_FDS];
	struct epoll_event evs[256];

	for (long i = 0; i < nports; i++) {
		int fd = listen_on(sa);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (fd >= MAX_FDS || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return 1;
		is_listener[fd] = true;
		sa->sin_port = htons((uint16_t)(ntohs(sa->sin_port) + 1));
	}
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (is_listener[fd])
				accept_all(ep, fd);
			else
				drain(fd);
		}
	}
	return 0;
}

typedef struct client {
	int ep;
	struct sockaddr_in sa;
	long base_port, nports, next;
	long inflight;
	uint64_t completed, failed, no_port;
	bool sent[MAX_FDS];
} client;

static bool open_one(client *c)
{
	struct sockaddr_in sa = c->sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return false;
	if (fd >= MAX_FDS) {
		close(fd);
		return false;
	}
	sa.sin_port = htons((uint16_t)(c->base_port + c->next++ % c->nports));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		c->no_port += errno == EADDRNOTAVAIL;
		c->failed += errno != EADDRNOTAVAIL;
		close(fd);
		return false;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
				 .data.fd = fd};
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return false;
	}
	c->sent[fd] = false;
	c->inflight++;
	return true;
}

static void done(client *c, int fd, bool ok)
{
	close(fd);
	c->inflight--;
	if (ok)
		c->completed++;
	else
		c->failed++;
}

static void client_event(client *c, int fd, uint32_t events)
{
	char buf[64];

	if (!c->sent[fd] && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (write(fd, "x", 1) != 1 || shutdown(fd, SHUT_WR) < 0) {
			done(c, fd, false);
			return;
		}
		c->sent[fd] = true;
	}
	if (c->sent[fd] && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0)
			done(c, fd, true);
		else if (n < 0 && errno != EAGAIN)
			done(c, fd, false);
	}
}

static int run_client(client *c, long conc, long seconds)
{
	struct epoll_event evs[256];
	uint64_t t0 = wall(), end = t0 + (uint64_t)seconds * 1000000000u;
	uint64_t now = t0;

	c->ep = epoll_create1(0);
	while (now < end && !stop) {
		while (c->inflight < conc && open_one(c))
			;
		int n = epoll_wait(c->ep, evs, 256, 10);
		for (int i = 0; i < n; i++)
			client_event(c, evs[i].data.fd, evs[i].events);
		now = wall();
	}
	double secs = (double)(now - t0) / 1e9;
	printf("linux_connrate: %llu connections in %.2f s: %.0f/s (%ld in "
	       "flight at a time, %ld server ports, %llu failed, %llu "
	       "connects without a free port)\n",
	       (unsigned long long)c->completed, secs,
	       (double)c->completed / secs, conc, c->nports,
	       (unsigned long long)c->failed, (unsigned long long)c->no_port);
	printf("RESULT cps=%.0f completed=%llu seconds=%.3f failed=%llu\n",
	       (double)c->completed / secs, (unsigned long long)c->completed,
	       secs, (unsigned long long)c->failed);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: linux_connrate server ADDR PORT NPORTS\n"
			"       linux_connrate client ADDR PORT NPORTS CONC "
			"SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	long port, nports, conc, seconds;
	bool is_server = argc == 5 && strcmp(argv[1], "server") == 0;
	bool is_client = argc == 7 && strcmp(argv[1], "client") == 0;

	if ((!is_server && !is_client) ||
	    inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 ||
	    !parse_num(argv[3], 1, 65535, &port) ||
	    !parse_num(argv[4], 1, MAX_PORTS, &nports) ||
	    port + nports > 65536 ||
	    (is_client && (!parse_num(argv[5], 1, 100000, &conc) ||
			   !parse_num(argv[6], 1, 3600, &seconds))))
		return usage();
	/* CONC sockets, and as many again closing, beyond the usual 1024 */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)port);
	if (is_server)
		return server(&sa, nports);
	client *c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	c->sa = sa;
	c->base_port = port;
	c->nports = nports;
	int rc = run_client(c, conc, seconds);
	free(c);
	return rc;
}
