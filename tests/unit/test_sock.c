/* The socket API and the host loop, in real time: two hosts in one
 * process joined by a socketpair (tern_fd_link), each loop in a thread of
 * its own, and application threads making blocking calls; and a host in
 * event mode answering through callbacks. No root, no network. */
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tern/tern.h>

#include "testutil.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u

typedef struct pair {
	tern_host *a, *b;
} pair;

static tern_host *host_on(int fd, uint32_t addr, const char *name)
{
	int err = -1;
	tern_link *l = tern_fd_link(fd, 1500, true, &err);
	assert_non_null(l);
	tern_host_config c = {.name = name, .addr = addr, .link = l};
	tern_host *h = tern_host_new(&c, &err);
	assert_non_null(h);
	assert_int_equal(err, 0);
	return h;
}

static int setup(void **state)
{
	static pair p;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	p.a = host_on(sv[0], A_ADDR, "a");
	p.b = host_on(sv[1], B_ADDR, "b");
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	pair *p = *state;
	tern_host_free(p->a);
	tern_host_free(p->b);
	return 0;
}

static tern_sock *listen_on(tern_host *h, uint16_t port)
{
	tern_sock *l = tern_socket(h, NULL);
	assert_non_null(l);
	assert_int_equal(tern_bind(l, port), 0);
	assert_int_equal(tern_listen(l, 16), 0);
	return l;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

#define BIG (2 * 1024 * 1024)

/* The server side of a blocking transfer: accept, read everything, check
 * it, answer with a byte count, close. */
static void *blocking_server(void *arg)
{
	tern_sock *l = arg;
	tern_endpoint peer;
	int err = -1;
	tern_sock *s = tern_accept(l, &peer, &err);
	static uint8_t buf[65536];
	size_t got = 0;
	ptrdiff_t n;

	assert_non_null(s);
	assert_int_equal(peer.addr, A_ADDR);
	while ((n = tern_recv(s, buf, sizeof(buf))) > 0) {
		for (ptrdiff_t i = 0; i < n; i++)
			assert_int_equal(buf[i], pattern(got + (size_t)i));
		got += (size_t)n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(got, BIG);
	uint32_t count = (uint32_t)got;
	assert_int_equal(tern_send(s, &count, sizeof(count)), sizeof(count));
	assert_int_equal(tern_close(s), 0);
	return NULL;
}

/* Blocking connect, a blocking send of 2 MB (waits for the window and
 * the buffer again and again), half-close, blocking receive of the
 * answer, end of stream. */
static void test_blocking_transfer(void **state)
{
	pair *p = *state;
	pthread_t t;
	static uint8_t big[BIG];
	uint32_t count = 0;

	assert_int_equal(tern_host_start(p->a), 0);
	assert_int_equal(tern_host_start(p->b), 0);
	tern_sock *l = listen_on(p->b, 80);
	pthread_create(&t, NULL, blocking_server, l);
	for (size_t i = 0; i < BIG; i++)
		big[i] = pattern(i);
	tern_sock *c = tern_socket(p->a, NULL);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 80}), 0);
	assert_int_equal(tern_sock_state(c), TERN_TCP_ESTABLISHED);
	assert_int_equal(tern_send(c, big, BIG), BIG);
	assert_int_equal(tern_shutdown(c, TERN_SHUT_WR), 0);
	assert_int_equal(tern_recv(c, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, BIG);
	assert_int_equal(tern_recv(c, &count, sizeof(count)), 0);
	pthread_join(t, NULL);
	assert_int_equal(tern_close(c), 0);
	assert_int_equal(tern_close(l), 0);
}

/* A blocking connect to a port nobody listens on fails at once with
 * REFUSED (the RST of RFC 9293 3.10.7.1). */
static void test_blocking_connect_refused(void **state)
{
	pair *p = *state;

	assert_int_equal(tern_host_start(p->a), 0);
	assert_int_equal(tern_host_start(p->b), 0);
	tern_sock *c = tern_socket(p->a, NULL);
	tern_time t0 = tern_host_now(p->a);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 81}),
			 TERN_ERR_REFUSED);
	assert_true(tern_host_now(p->a) - t0 < TERN_SEC);
	assert_int_equal(tern_send(c, "x", 1), TERN_ERR_REFUSED);
	tern_close(c);
}

/* Non-blocking: connect says INPROGRESS, tern_poll waits for CONNECTED;
 * recv says AGAIN until data comes; poll times out when nothing does. */
static void test_nonblocking_connect_and_poll(void **state)
{
	pair *p = *state;
	char buf[8];

	assert_int_equal(tern_host_start(p->a), 0);
	assert_int_equal(tern_host_start(p->b), 0);
	tern_sock *l = listen_on(p->b, 80);
	tern_sock *c = tern_socket(p->a, NULL);
	assert_int_equal(tern_setsockopt(c, TERN_SO_NONBLOCK, 1), 0);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 80}),
			 TERN_ERR_INPROGRESS);
	tern_pollfd pf = {c, TERN_EV_CONNECTED, 0};
	assert_int_equal(tern_poll(p->a, &pf, 1, 2000), 1);
	assert_true(pf.revents & TERN_EV_CONNECTED);
	assert_int_equal(tern_recv(c, buf, sizeof(buf)), TERN_ERR_AGAIN);
	pf.events = TERN_EV_READABLE;
	tern_time t0 = tern_host_now(p->a);
	assert_int_equal(tern_poll(p->a, &pf, 1, 100), 0);
	assert_true(tern_host_now(p->a) - t0 >= 100 * TERN_MSEC);
	tern_pollfd lp = {l, TERN_EV_ACCEPT, 0};
	assert_int_equal(tern_poll(p->b, &lp, 1, 2000), 1);
	tern_sock *s = tern_accept(l, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(tern_send(s, "hello", 5), 5);
	assert_int_equal(tern_poll(p->a, &pf, 1, 2000), 1);
	assert_int_equal(tern_recv(c, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	tern_close(s);
	tern_close(c);
	tern_close(l);
}

/* linger 0: close() resets; the peer's recv reports RESET and SO_ERROR
 * gives it once. */
static void test_linger0_resets(void **state)
{
	pair *p = *state;
	char buf[8];
	int e = 0;

	assert_int_equal(tern_host_start(p->a), 0);
	assert_int_equal(tern_host_start(p->b), 0);
	tern_sock *l = listen_on(p->b, 80);
	tern_sock *c = tern_socket(p->a, NULL);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 80}), 0);
	tern_sock *s = tern_accept(l, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(tern_setsockopt(c, TERN_SO_LINGER0, 1), 0);
	assert_int_equal(tern_close(c), 0);
	assert_int_equal(tern_recv(s, buf, sizeof(buf)), TERN_ERR_RESET);
	assert_int_equal(tern_getsockopt(s, TERN_SO_ERROR, &e), 0);
	assert_int_equal(e, TERN_ERR_RESET);
	assert_int_equal(tern_getsockopt(s, TERN_SO_ERROR, &e), 0);
	assert_int_equal(e, 0);
	tern_close(s);
	tern_close(l);
}

/* ---- event mode: an echo server in callbacks ---- */

static void echo_cb(tern_sock *s, unsigned ev, void *user)
{
	char buf[4096];
	ptrdiff_t n;
	(void)ev;
	(void)user;

	while ((n = tern_recv(s, buf, sizeof(buf))) > 0)
		assert_int_equal(tern_send(s, buf, (size_t)n), n);
	if (n == 0)
		tern_close(s);
}

static void accept_cb(tern_sock *l, unsigned ev, void *user)
{
	tern_sock *s;
	(void)ev;
	(void)user;

	while ((s = tern_accept(l, NULL, NULL)) != NULL) {
		tern_sock_set_callback(s, echo_cb, NULL);
		echo_cb(s, 0, NULL);
	}
}

static void *run_event_host(void *arg)
{
	assert_int_equal(tern_host_run(arg), 0);
	return NULL;
}

static void test_event_mode_echo(void **state)
{
	pair *p = *state;
	pthread_t t;
	char buf[64];

	tern_sock *l = listen_on(p->b, 7);
	tern_sock_set_callback(l, accept_cb, NULL);
	pthread_create(&t, NULL, run_event_host, p->b);
	assert_int_equal(tern_host_start(p->a), 0);
	tern_sock *c = tern_socket(p->a, NULL);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 7}), 0);
	for (int i = 0; i < 50; i++) {
		int len = snprintf(buf, sizeof(buf), "line %d", i);
		assert_int_equal(tern_send(c, buf, (size_t)len), len);
		char back[64];
		assert_int_equal(tern_recv(c, back, sizeof(back)), len);
		assert_memory_equal(back, buf, (size_t)len);
	}
	assert_int_equal(tern_shutdown(c, TERN_SHUT_WR), 0);
	assert_int_equal(tern_recv(c, buf, sizeof(buf)), 0);
	tern_close(c);
	tern_host_stop(p->b);
	pthread_join(t, NULL);
	tern_close(l);
}

/* A host timer runs in the loop's thread after its delay. */
static void timer_cb(tern_host *h, void *arg)
{
	*(tern_time *)arg = tern_host_now(h);
	tern_host_stop(h);
}

static void test_host_timer_and_stop(void **state)
{
	pair *p = *state;
	tern_time fired = 0, t0 = tern_host_now(p->a);

	assert_int_equal(
		tern_host_after(p->a, 50 * TERN_MSEC, timer_cb, &fired), 0);
	assert_int_equal(tern_host_run(p->a), 0);
	assert_true(fired >= t0 + 50 * TERN_MSEC);
	assert_true(fired < t0 + 2 * TERN_SEC);
}

/* A loop that always has work due never sleeps; the fds it watches for
 * the application are served all the same. A host timer that re-arms
 * itself with no delay keeps it busy, and once it has run 10000 times
 * writes a byte to a watched pipe: the byte must reach the watch's
 * callback (which stops the loop) long before the timer gives up after
 * two seconds. */
typedef struct busy {
	tern_time until;
	uint64_t rounds, written_at;
	int wfd;
	bool watched, gave_up;
} busy;

static void busy_cb(tern_host *h, void *arg)
{
	busy *b = arg;

	if (++b->rounds == 10000) {
		assert_int_equal(write(b->wfd, "x", 1), 1);
		b->written_at = b->rounds;
	}
	if (tern_host_now(h) > b->until) {
		b->gave_up = true;
		tern_host_stop(h);
		return;
	}
	assert_int_equal(tern_host_after(h, 0, busy_cb, b), 0);
}

static void busy_watch_cb(tern_host *h, int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	((busy *)arg)->watched = true;
	tern_host_stop(h);
}

static void test_watch_served_while_busy(void **state)
{
	pair *p = *state;
	busy b = {.until = tern_host_now(p->a) + 2 * TERN_SEC};
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(
		tern_host_watch_fd(p->a, fds[0], TERN_FD_IN, busy_watch_cb, &b),
		0);
	b.wfd = fds[1];
	assert_int_equal(tern_host_after(p->a, 0, busy_cb, &b), 0);
	assert_int_equal(tern_host_run(p->a), 0);
	print_message("busy rounds after the write, before the watch ran: "
		      "%llu\n",
		      (unsigned long long)(b.rounds - b.written_at));
	assert_true(b.watched);
	assert_false(b.gave_up);
	assert_int_equal(tern_host_unwatch_fd(p->a, fds[0]), 0);
	close(fds[0]);
	close(fds[1]);
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* An idle host sleeps in the kernel: two loops with a listener and an
 * established, quiet connection between them use next to no CPU over
 * half a second (a loop that spun would use the whole of it). */
static void test_idle_loops_do_not_spin(void **state)
{
	pair *p = *state;

	assert_int_equal(tern_host_start(p->a), 0);
	assert_int_equal(tern_host_start(p->b), 0);
	tern_sock *l = listen_on(p->b, 80);
	tern_sock *c = tern_socket(p->a, NULL);
	assert_int_equal(tern_connect(c, &(tern_endpoint){B_ADDR, 80}), 0);
	tern_sock *s = tern_accept(l, NULL, NULL);
	assert_non_null(s);
	nap(100); /* the last ACKs and their wake-ups */
	double t0 = cpu_seconds();
	nap(500);
	double used = cpu_seconds() - t0;
	print_message("CPU used by two idle loops in 0.5 s: %.4f s\n", used);
	assert_true(used < 0.1);
	tern_close(s);
	tern_close(c);
	tern_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocking_transfer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blocking_connect_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_nonblocking_connect_and_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger0_resets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_mode_echo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_timer_and_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_loops_do_not_spin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_served_while_busy,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
