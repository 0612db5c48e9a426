/* Seeded random runs under faults (tests/sim of DESIGN.md).
 *
 * Each seed builds two stacks on a simulated link with random loss (up to
 * 20 %), duplication, reordering, delay, jitter, corruption and sometimes a
 * rate limit; transfers 0 bytes to several MB each way; ends with one of
 * the four close orders; and pauses the applications' reading at random.
 * For every run it asserts: each side read exactly the bytes the other
 * wrote; every state change was a legal edge; every connection reached
 * CLOSED within a bounded virtual time; no memory is left allocated.
 *
 * Usage: test_random [--seeds N] [--first S] [-v] [--trace FILE]
 * (default: 500 seeds from 1; --trace writes their JSON Lines traces)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/sim.h>
#include <tern/stack.h>

#include "tcp/tcp.h"
#include "testutil.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define PORT 7000
/* Long enough for several MB at 20 % loss each way, 2 MSL and slack. */
#define TIME_LIMIT (6 * 3600 * TERN_SEC)

enum order { CLIENT_FIRST, SERVER_FIRST, SIMULTANEOUS, HALF_CLOSE, ORDERS };
static const char *const order_names[] = {"client-first", "server-first",
					  "simultaneous", "half-close"};

typedef struct world world;

typedef struct side {
	world *w;
	int host; /* 0 client, 1 server */
	tern_conn *conn;
	size_t to_send, sent, expect, got;
	uint32_t salt;
	bool paused, eof, closed, shut, done;
	int err;
} side;

struct world {
	uint64_t seed, rng;
	tern_sim *sim;
	tern_stack *st[2];
	tern_conn *listener;
	side s[2];
	int order;
	size_t mem_base[2];
	int bad_edges;
	char fail[512];
	tern_sim_path path[2];
};

static int verbose;
/* Counters summed over every run, to show what the runs exercised. */
static tern_stats total;
static unsigned orders_run[ORDERS];
static const char *trace_path; /* --trace FILE: JSON Lines of the runs */
/* The extensions (RFC 7323 window scaling and timestamps, RFC 2018
 * SACK): every run is made with all of them on and again all off. */
static int extensions;
static tern_trace_json *trace;

static uint64_t next(world *w)
{
	/* splitmix64 */
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(world *w)
{
	return (double)(next(w) >> 11) / 9007199254740992.0;
}

static uint8_t pattern(uint32_t salt, size_t i)
{
	return (uint8_t)((i * 2654435761u + salt) >> 13) ^ (uint8_t)(i >> 16);
}

static void failf(world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void failf(world *w, const char *fmt, ...)
{
	va_list ap;
	if (w->fail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->fail, sizeof(w->fail), fmt, ap);
	va_end(ap);
}

/* ---- applications ---- */

static tern_time now_of(world *w)
{
	return tern_sim_now(w->sim);
}

static void side_close(side *s)
{
	if (s->closed)
		return;
	s->closed = true;
	tern_tcp_close(s->conn, now_of(s->w));
}

static void close_both(void *arg, tern_time now)
{
	world *w = arg;
	(void)now;
	side_close(&w->s[0]);
	side_close(&w->s[1]);
}

static bool may_send(const side *s)
{
	/* In a half-close the server answers only after the request. */
	return !(s->w->order == HALF_CLOSE && s->host == 1 && !s->eof);
}

/* What each order does once a side has sent or read all it should. */
static void progress(side *s)
{
	world *w = s->w;
	side *peer = &w->s[1 - s->host];
	bool sent_all = s->sent == s->to_send;
	bool read_all = s->got == s->expect;

	if (s->closed)
		return;
	switch (w->order) {
	case CLIENT_FIRST:
	case SERVER_FIRST: {
		int first = w->order == CLIENT_FIRST ? 0 : 1;
		if (s->host == first ? (sent_all && read_all)
				     : (sent_all && s->eof))
			side_close(s);
		break;
	}
	case SIMULTANEOUS:
		if (sent_all && read_all && !s->done) {
			s->done = true;
			if (peer->done)
				tern_sim_at(w->sim, now_of(w) + TERN_MSEC,
					    close_both, w);
		}
		break;
	case HALF_CLOSE:
		if (s->host == 0 && sent_all && !s->shut) {
			s->shut = true;
			tern_tcp_shutdown(s->conn, TERN_SHUT_WR, now_of(w));
		}
		if (s->eof && (s->host == 0 || sent_all))
			side_close(s);
		break;
	}
}

static void pump(side *s)
{
	uint8_t buf[16384];

	while (!s->closed && may_send(s) && s->sent < s->to_send) {
		size_t n = s->to_send - s->sent;
		if (n > sizeof(buf))
			n = sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(s->salt, s->sent + i);
		ptrdiff_t r = tern_tcp_send(s->conn, buf, n, now_of(s->w));
		if (r <= 0)
			break;
		s->sent += (size_t)r;
	}
	progress(s);
}

static void drain(side *s)
{
	uint8_t buf[16384];
	ptrdiff_t n;

	while (!s->paused && !s->closed &&
	       (n = tern_tcp_recv(s->conn, buf, sizeof(buf), now_of(s->w))) >
		       0) {
		uint32_t salt = s->w->s[1 - s->host].salt;
		for (ptrdiff_t i = 0; i < n; i++)
			if (buf[i] != pattern(salt, s->got + (size_t)i)) {
				failf(s->w, "side %d: byte %zu corrupted",
				      s->host, s->got + (size_t)i);
				break;
			}
		s->got += (size_t)n;
		if (s->got > s->expect)
			failf(s->w, "side %d read %zu > %zu", s->host, s->got,
			      s->expect);
	}
	if (!s->paused && !s->closed && !s->eof &&
	    tern_tcp_recv(s->conn, buf, 0, now_of(s->w)) == 0 &&
	    (tern_tcp_events(s->conn) & TERN_EV_READABLE) &&
	    s->got == s->expect) {
		n = tern_tcp_recv(s->conn, buf, sizeof(buf), now_of(s->w));
		if (n == 0)
			s->eof = true;
	}
	pump(s); /* a half-close answer may start now */
}

static void on_event(tern_conn *c, unsigned ev, void *user, tern_time now)
{
	side *s = user;
	(void)c;
	(void)now;
	if (ev & TERN_EV_ERROR) {
		s->err = tern_tcp_error(s->conn);
		failf(s->w, "side %d: error %s", s->host,
		      tern_strerror(s->err));
	}
	if (ev & TERN_EV_READABLE)
		drain(s);
	if (ev & (TERN_EV_CONNECTED | TERN_EV_WRITABLE))
		pump(s);
}

static void on_accept(tern_conn *l, unsigned ev, void *user, tern_time now)
{
	world *w = user;
	if (!(ev & TERN_EV_ACCEPT) || w->s[1].conn)
		return;
	w->s[1].conn = tern_tcp_accept(l, NULL);
	if (!w->s[1].conn)
		return;
	tern_tcp_set_callback(w->s[1].conn, on_event, &w->s[1]);
	tern_tcp_close(l, now); /* one connection per run */
	w->listener = NULL;
	pump(&w->s[1]);
	drain(&w->s[1]);
}

static void pause_toggle(void *arg, tern_time now)
{
	side *s = arg;
	(void)now;
	s->paused = !s->paused;
	if (!s->paused && s->conn)
		drain(s);
}

/* ---- set-up ---- */

static size_t pick_size(world *w)
{
	double u = uniform(w);
	if (u < 0.12)
		return 0;
	if (u < 0.55)
		return 1 + next(w) % 20000;
	if (u < 0.92)
		return 20000 + next(w) % 400000;
	return 500000 + next(w) % 3500000; /* several MB */
}

static void pick_path(world *w, tern_sim_path *p)
{
	memset(p, 0, sizeof(*p));
	p->delay = (1 + next(w) % 50) * TERN_MSEC;
	if (uniform(w) < 0.5)
		p->jitter = (next(w) % 10) * TERN_MSEC;
	p->loss = uniform(w) < 0.8 ? uniform(w) * 0.2 : 0;
	p->dup = uniform(w) < 0.4 ? uniform(w) * 0.05 : 0;
	p->reorder = uniform(w) < 0.4 ? uniform(w) * 0.1 : 0;
	p->corrupt = uniform(w) < 0.3 ? uniform(w) * 0.02 : 0;
	if (uniform(w) < 0.25) {
		p->rate_bps = (1 + next(w) % 100) * 1000000ull;
		p->queue_bytes = 32768 + next(w) % 262144;
	}
}

static void edge_check(void *ctx, const tern_trace_event *ev)
{
	world *w = ctx;
	if (ev->kind == TERN_TRACE_STATE &&
	    !tcp_edge_legal(ev->state.from, ev->state.to)) {
		w->bad_edges++;
		failf(w, "illegal edge %s -> %s (%s)",
		      tern_tcp_state_name(ev->state.from),
		      tern_tcp_state_name(ev->state.to), ev->state.cause);
	}
}

static int build(world *w)
{
	tern_link *port[2];

	w->sim = tern_sim_new(w->seed);
	port[0] = tern_sim_port(w->sim, A_ADDR, 1500);
	port[1] = tern_sim_port(w->sim, B_ADDR, 1500);
	pick_path(w, &w->path[0]);
	pick_path(w, &w->path[1]);
	if (tern_sim_join(w->sim, port[0], port[1], &w->path[0], &w->path[1]) <
	    0)
		return -1;
	for (int h = 0; h < 2; h++) {
		tern_settings set;
		tern_settings_default(&set);
		set.tcp_window_scaling = extensions;
		set.tcp_timestamps = extensions;
		set.tcp_sack = extensions;
		/* An orphan (an application that closed with data unsent)
		 * gives up after tcp_orphan_retries, by default 8 backoffs'
		 * worth of time (about 100 s): under 20 % loss each way that
		 * happens, as in Linux, and its data is lost by design. The
		 * runs check delivery, so orphans get tcp_retries2's time. */
		set.tcp_orphan_retries = 15;
		tern_stack_config cfg = {
			.settings = &set,
			.name = h ? "b" : "a",
			.addr = h ? B_ADDR : A_ADDR,
			.secret = {w->seed, (uint64_t)h},
		};
		w->st[h] = tern_stack_new(&cfg);
		if (!w->st[h])
			return -1;
		w->mem_base[h] = tern_stack_mem_in_use(w->st[h]);
		tern_stack_add_trace(w->st[h], edge_check, w);
		if (trace)
			tern_stack_add_trace(w->st[h], tern_trace_json_hook,
					     trace);
		tern_sim_add_stack(w->sim, w->st[h], port[h]);
		w->s[h] = (side){.w = w, .host = h};
		w->s[h].salt = (uint32_t)next(w);
		w->s[h].to_send = pick_size(w);
	}
	w->s[0].expect = w->s[1].to_send;
	w->s[1].expect = w->s[0].to_send;
	w->order = (int)(next(w) % ORDERS);
	return 0;
}

static void plan_pauses(world *w)
{
	for (int h = 0; h < 2; h++) {
		int n = (int)(next(w) % 4);
		tern_time t = 0;
		for (int i = 0; i < n; i++) {
			t += (tern_time)(uniform(w) * 5.0 * TERN_SEC);
			tern_sim_at(w->sim, t, pause_toggle, &w->s[h]);
			t += (tern_time)((0.05 + uniform(w) * 3.0) * TERN_SEC);
			tern_sim_at(w->sim, t, pause_toggle, &w->s[h]);
		}
	}
}

static void check_end(world *w, int idle)
{
	if (!idle)
		failf(w, "not idle after %" PRIu64 " s", TIME_LIMIT / TERN_SEC);
	for (int h = 0; h < 2; h++) {
		side *s = &w->s[h];
		if (s->got != s->expect || s->sent != s->to_send)
			failf(w, "side %d: sent %zu/%zu, read %zu/%zu", h,
			      s->sent, s->to_send, s->got, s->expect);
		if (!s->closed)
			failf(w, "side %d never closed", h);
		if (tern_stack_conn_count(w->st[h]) != 0)
			failf(w, "stack %d: %zu connections left", h,
			      tern_stack_conn_count(w->st[h]));
		if (tern_stack_mem_in_use(w->st[h]) != w->mem_base[h])
			failf(w, "stack %d: %zu bytes left allocated", h,
			      tern_stack_mem_in_use(w->st[h]) - w->mem_base[h]);
	}
}

/* One seed; returns true when every assertion holds. */
static bool run_seed(uint64_t seed)
{
	world w;
	memset(&w, 0, sizeof(w));
	w.seed = seed;
	w.rng = seed * 0x2545f4914f6cdd1dull + 1;

	if (build(&w) < 0) {
		fprintf(stderr, "seed %" PRIu64 ": set-up failed\n", seed);
		return false;
	}
	tern_endpoint to = {B_ADDR, PORT};
	tern_conn_opts lo = {.on_event = on_accept, .user = &w};
	w.listener = tern_tcp_listen(w.st[1], PORT, 4, &lo, 0, NULL);
	tern_conn_opts co = {.on_event = on_event, .user = &w.s[0]};
	w.s[0].conn = tern_tcp_connect(w.st[0], &to, &co, 0, NULL);
	plan_pauses(&w);
	int idle = tern_sim_run(w.sim, TIME_LIMIT);
	tern_time end = tern_sim_now(w.sim);
	check_end(&w, idle);
	if (verbose || w.fail[0])
		fprintf(stderr,
			"seed %" PRIu64 ": %s, %zu/%zu bytes, loss %.3f/%.3f "
			"dup %.3f reorder %.3f corrupt %.3f, %.1f s%s%s\n",
			seed, order_names[w.order], w.s[0].to_send,
			w.s[1].to_send, w.path[0].loss, w.path[1].loss,
			w.path[0].dup, w.path[0].reorder, w.path[0].corrupt,
			(double)end / TERN_SEC, w.fail[0] ? ": FAIL: " : "",
			w.fail);
	for (int h = 0; h < 2; h++) {
		const tern_stats *st = tern_stack_stats(w.st[h]);
		for (int i = 0; i < TERN_DROP_COUNT; i++)
			total.drops[i] += st->drops[i];
		for (int i = 0; i < TERN_CTR_COUNT; i++)
			total.counters[i] += st->counters[i];
		tern_stack_free(w.st[h]);
	}
	orders_run[w.order]++;
	tern_sim_free(w.sim);
	return w.fail[0] == '\0';
}

static uint64_t seeds = 500, first = 1;

static const int watched[] = {
	TERN_CTR_TCP_RETRANS_SEGS,   TERN_CTR_TCP_TIMEOUTS,
	TERN_CTR_TCP_FAST_RETRANS,   TERN_CTR_TCP_PERSIST_PROBES,
	TERN_CTR_TCP_OFO_QUEUE,	     TERN_CTR_TCP_DELAYED_ACKS,
	TERN_CTR_TCP_SYN_RETRANS,    TERN_CTR_TCP_TIME_WAITS,
	TERN_CTR_TCP_CHALLENGE_ACKS, TERN_CTR_TCP_HP_HITS,
	TERN_CTR_TCP_HP_ACKS,
};

/* ... and with the extensions on, SACK recovery, D-SACKs both ways and
 * PAWS must have been reached too. */
static const int watched_ext[] = {
	TERN_CTR_TCP_SACK_RECOVERY,
	TERN_CTR_TCP_DSACK_SENT,
	TERN_CTR_TCP_DSACK_RECV,
	TERN_CTR_TCP_PAWS_ESTAB,
};

/* What the runs exercised, printed; the main mechanisms must all have
 * been reached, or the runs prove less than they claim. */
static void report_coverage(void)
{
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		fprintf(stderr, "  %-24s %" PRIu64 "\n",
			tern_counter_name(watched[i]),
			total.counters[watched[i]]);
	for (size_t i = 0; i < sizeof(watched_ext) / sizeof(watched_ext[0]);
	     i++)
		fprintf(stderr, "  %-24s %" PRIu64 "\n",
			tern_counter_name(watched_ext[i]),
			total.counters[watched_ext[i]]);
	fprintf(stderr, "  %-24s %" PRIu64 "\n", "drops: bad checksums",
		total.drops[TERN_DROP_IP_CHECKSUM] +
			total.drops[TERN_DROP_TCP_CHECKSUM]);
	fprintf(stderr, "  %-24s %" PRIu64 "\n", "drops: out of window",
		total.drops[TERN_DROP_TCP_OUT_OF_WINDOW]);
	for (int o = 0; o < ORDERS; o++)
		fprintf(stderr, "  close order %-12s %u runs\n", order_names[o],
			orders_run[o]);
}

static void random_runs(int ext)
{
	unsigned failures = 0;

	extensions = ext;
	memset(&total, 0, sizeof(total));
	memset(orders_run, 0, sizeof(orders_run));
	fprintf(stderr, "extensions %s\n", ext ? "on" : "off");
	for (uint64_t s = first; s < first + seeds; s++)
		if (!run_seed(s))
			failures++;
	fprintf(stderr, "%" PRIu64 " seeded runs, %u failed\n", seeds,
		failures);
	report_coverage();
	/* the trace is whole even when an assertion ends the program */
	if (failures && trace) {
		tern_trace_json_close(trace);
		trace = NULL;
	}
	assert_int_equal(failures, 0);
	if (seeds >= 500) {
		for (size_t i = 0; i < 8; i++) /* challenge ACKs may be 0 */
			assert_true(total.counters[watched[i]] > 0);
		assert_true(total.drops[TERN_DROP_TCP_CHECKSUM] +
				    total.drops[TERN_DROP_IP_CHECKSUM] >
			    0);
		for (int o = 0; o < ORDERS; o++)
			assert_true(orders_run[o] > 0);
		for (size_t i = 0; i < sizeof(watched_ext) / sizeof(int); i++)
			assert_true((total.counters[watched_ext[i]] > 0) ==
				    ext);
	}
}

static void test_random_runs_extensions_on(void **state)
{
	(void)state;
	random_runs(1);
}

static void test_random_runs_extensions_off(void **state)
{
	(void)state;
	random_runs(0);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc)
			trace_path = argv[++i];
		else {
			fprintf(stderr,
				"usage: %s [--seeds N] [--first S] [-v] "
				"[--trace FILE]\n",
				argv[0]);
			return 2;
		}
	}
	if (trace_path &&
	    !(trace = tern_trace_json_open(trace_path, 0, NULL))) {
		fprintf(stderr, "cannot write %s\n", trace_path);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_runs_extensions_on),
		cmocka_unit_test(test_random_runs_extensions_off),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tern_trace_json_close(trace);
	return rc;
}
