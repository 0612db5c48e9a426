/* The simulated network: delivery times, impairments, determinism, the
 * clock and its events. Frames are hand-made raw IPv4 packets: a 20-byte
 * header with the right destination, then a 32-bit counter. */
#include <stdlib.h>
#include <string.h>

#include <tern/sim.h>
#include <tern/wire.h>

#include "testutil.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define ADDR_C 0x0a000003u
#define FRAME_MIN 24

/* ---- frames and receivers ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A frame of len bytes to dst carrying counter; the rest is a pattern
 * derived from the counter, so corruption anywhere shows. */
static void make_frame(uint8_t *buf, size_t len, uint32_t dst, uint32_t counter)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + counter);
	buf[0] = 0x45;
	put_be32(buf + 16, dst);
	put_be32(buf + 20, counter);
}

static int send_frame(tern_link *from, uint32_t dst, uint32_t counter,
		      size_t len, tern_time now)
{
	uint8_t buf[2048];
	tern_iov iov[2];

	assert_true(len >= FRAME_MIN && len <= sizeof(buf));
	make_frame(buf, len, dst, counter);
	/* Two pieces, as a stack sends headers and payload. */
	iov[0].base = buf;
	iov[0].len = 20;
	iov[1].base = buf + 20;
	iov[1].len = len - 20;
	return tern_link_send(from, iov, 2, NULL, now);
}

struct rx_entry {
	tern_time t;
	uint32_t counter;
	size_t len;
	uint64_t hash; /* FNV-1a of the bytes */
	int port;
};

struct rx_log {
	struct rx_entry *e;
	size_t n, cap;
	int port; /* which receiver, for logs shared by several */
	uint8_t last[2048];
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void log_add(struct rx_log *log, const uint8_t *frame, size_t len,
		    tern_time now, int port)
{
	struct rx_entry *e;

	if (log->n == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 64;
		log->e = realloc(log->e, log->cap * sizeof(*log->e));
		assert_non_null(log->e);
	}
	e = &log->e[log->n++];
	e->t = now;
	e->counter = len >= FRAME_MIN ? get_be32(frame + 20) : UINT32_MAX;
	e->len = len;
	e->hash = fnv1a(frame, len);
	e->port = port;
	if (len <= sizeof(log->last))
		memcpy(log->last, frame, len);
}

static void on_rx(void *ctx, const uint8_t *frame, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct rx_log *log = ctx;
	(void)meta;

	log_add(log, frame, len, now, log->port);
}

static void log_free(struct rx_log *log)
{
	free(log->e);
	memset(log, 0, sizeof(*log));
}

/* A network of two ports a (ADDR_A) and b (ADDR_B) joined by one link. */
struct net {
	tern_sim *sim;
	tern_link *a, *b;
	int link;
	struct rx_log at_a, at_b;
};

static void net_open(struct net *n, uint64_t seed, const tern_sim_path *ab,
		     const tern_sim_path *ba)
{
	memset(n, 0, sizeof(*n));
	n->sim = tern_sim_new(seed);
	assert_non_null(n->sim);
	n->a = tern_sim_port(n->sim, ADDR_A, 1500);
	n->b = tern_sim_port(n->sim, ADDR_B, 1500);
	assert_non_null(n->a);
	assert_non_null(n->b);
	n->link = tern_sim_join(n->sim, n->a, n->b, ab, ba);
	assert_int_equal(n->link, 0);
	n->at_a.port = 0;
	n->at_b.port = 1;
	tern_link_set_rx(n->a, on_rx, &n->at_a);
	tern_link_set_rx(n->b, on_rx, &n->at_b);
}

static void net_close(struct net *n)
{
	tern_sim_free(n->sim);
	log_free(&n->at_a);
	log_free(&n->at_b);
}

static tern_sim_path_stats stats_of(struct net *n, int dir)
{
	tern_sim_path_stats s;

	assert_int_equal(tern_sim_path_stats_get(n->sim, n->link, dir, &s), 0);
	return s;
}

/* ---- delivery times ---- */

static void test_delivery_after_delay(void **state)
{
	tern_sim_path ab = {.delay = 5 * TERN_MSEC};
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, NULL);
	assert_int_equal(send_frame(n.a, ADDR_B, 42, 100, 0), 0);
	assert_int_equal(tern_sim_run(n.sim, TERN_TIME_NONE), 1);
	assert_int_equal(n.at_b.n, 1);
	assert_int_equal(n.at_b.e[0].t, 5 * TERN_MSEC);
	assert_int_equal(n.at_b.e[0].counter, 42);
	assert_int_equal(n.at_b.e[0].len, 100);
	assert_int_equal(n.at_a.n, 0);
	assert_int_equal(tern_sim_now(n.sim), 5 * TERN_MSEC);
	assert_int_equal(stats_of(&n, 0).frames, 1);
	assert_int_equal(stats_of(&n, 0).bytes, 100);
	assert_int_equal(stats_of(&n, 0).delivered, 1);
	net_close(&n);
}

static void test_frames_keep_send_order(void **state)
{
	struct net n;

	(void)state;
	net_open(&n, 1, NULL, NULL);
	for (uint32_t i = 0; i < 5; i++)
		send_frame(n.a, ADDR_B, i, 64, 0);
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.n, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(n.at_b.e[i].counter, i);
		assert_int_equal(n.at_b.e[i].t, 0);
	}
	net_close(&n);
}

/* b answers every frame with counter + 1 until the counter reaches 10. */
struct echo {
	struct rx_log log;
	tern_link *self;
	uint32_t peer;
};

static void on_echo(void *ctx, const uint8_t *frame, size_t len,
		    const tern_frame_meta *meta, tern_time now)
{
	struct echo *e = ctx;
	uint32_t c = get_be32(frame + 20);
	(void)meta;

	log_add(&e->log, frame, len, now, 0);
	if (c < 10)
		send_frame(e->self, e->peer, c + 1, len, now);
}

static void send_first(void *arg, tern_time now)
{
	struct echo *e = arg;

	send_frame(e->self, e->peer, 0, 64, now);
}

static void test_zero_delay_same_instant(void **state)
{
	tern_sim *sim = tern_sim_new(7);
	tern_link *a = tern_sim_port(sim, ADDR_A, 1500);
	tern_link *b = tern_sim_port(sim, ADDR_B, 1500);
	struct echo ea = {.self = a, .peer = ADDR_B};
	struct echo eb = {.self = b, .peer = ADDR_A};

	(void)state;
	assert_int_equal(tern_sim_join(sim, a, b, NULL, NULL), 0);
	tern_link_set_rx(a, on_echo, &ea);
	tern_link_set_rx(b, on_echo, &eb);
	assert_int_equal(tern_sim_at(sim, 3 * TERN_MSEC, send_first, &ea), 0);
	assert_int_equal(tern_sim_run(sim, TERN_TIME_NONE), 1);
	/* Eleven frames, all at 3 ms, alternating. */
	assert_int_equal(eb.log.n, 6);
	assert_int_equal(ea.log.n, 5);
	for (size_t i = 0; i < eb.log.n; i++) {
		assert_int_equal(eb.log.e[i].t, 3 * TERN_MSEC);
		assert_int_equal(eb.log.e[i].counter, 2 * i);
	}
	assert_int_equal(tern_sim_now(sim), 3 * TERN_MSEC);
	tern_sim_free(sim);
	log_free(&ea.log);
	log_free(&eb.log);
}

/* ---- rate limit ---- */

static void test_rate_spacing(void **state)
{
	tern_sim_path ab = {.rate_bps = 12000000, .delay = 2 * TERN_MSEC};
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, NULL);
	for (uint32_t i = 0; i < 10; i++)
		send_frame(n.a, ADDR_B, i, 1500, 0);
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.n, 10);
	/* 1500 bytes at 12 Mbit/s: 1 ms each, then the 2 ms delay. */
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(n.at_b.e[i].counter, i);
		assert_int_equal(n.at_b.e[i].t, (i + 3) * TERN_MSEC);
	}
	/* A frame sent once the queue drained goes out at once. */
	send_frame(n.a, ADDR_B, 10, 1500, tern_sim_now(n.sim));
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.e[10].t, 12 * TERN_MSEC + 3 * TERN_MSEC);
	net_close(&n);
}

static void test_rate_drop_tail(void **state)
{
	tern_sim_path ab = {.rate_bps = 12000000, .queue_bytes = 15000};
	tern_sim_path_stats s;
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, NULL);
	/* Ten 1500-byte frames fill 15000 bytes; the rest fall off. */
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(send_frame(n.a, ADDR_B, i, 1500, 0), 0);
	s = stats_of(&n, 0);
	assert_int_equal(s.queue_drops, 10);
	/* At 4.5 ms four frames are gone and one is half sent: 5.5 frames
	 * queued, so four more fit and the fifth does not. */
	tern_sim_run(n.sim, 4500 * TERN_USEC);
	for (uint32_t i = 20; i < 25; i++)
		send_frame(n.a, ADDR_B, i, 1500, tern_sim_now(n.sim));
	tern_sim_run(n.sim, TERN_TIME_NONE);
	s = stats_of(&n, 0);
	assert_int_equal(s.frames, 25);
	assert_int_equal(s.queue_drops, 11);
	assert_int_equal(s.delivered, 14);
	assert_int_equal(n.at_b.n, 14);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(n.at_b.e[i].counter, i);
	assert_int_equal(n.at_b.e[10].counter, 20);
	assert_int_equal(n.at_b.e[13].counter, 23);
	assert_int_equal(n.at_b.e[13].t, 14 * TERN_MSEC);
	net_close(&n);
}

static void test_rate_default_queue(void **state)
{
	tern_sim_path ab = {.rate_bps = 1000000};
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, NULL);
	for (uint32_t i = 0; i < 200; i++)
		send_frame(n.a, ADDR_B, i, 1500, 0);
	/* 256 KiB holds 174 frames of 1500 bytes. */
	assert_int_equal(stats_of(&n, 0).queue_drops, 200 - 174);
	net_close(&n);
}

/* ---- random impairments ---- */

#define MANY 100000

/* Calls send(ctx, i, now) for i = 0 .. count - 1, one every period from
 * the sim's current time, each from a callback on the sim's clock. */
struct pacer {
	tern_sim *sim;
	tern_time period;
	uint32_t i, count;
	void (*send)(void *ctx, uint32_t i, tern_time now);
	void *ctx;
};

static void pacer_tick(void *arg, tern_time now)
{
	struct pacer *p = arg;

	p->send(p->ctx, p->i, now);
	if (++p->i < p->count)
		assert_int_equal(
			tern_sim_at(p->sim, now + p->period, pacer_tick, p), 0);
}

static void pace(struct pacer *p)
{
	p->i = 0;
	assert_int_equal(
		tern_sim_at(p->sim, tern_sim_now(p->sim), pacer_tick, p), 0);
	assert_int_equal(tern_sim_run(p->sim, TERN_TIME_NONE), 1);
}

static void send_ab(void *ctx, uint32_t i, tern_time now)
{
	struct net *n = ctx;

	assert_int_equal(send_frame(n->a, ADDR_B, i, 64, now), 0);
}

/* Sends MANY frames a -> b, one every 10 us from time 0. */
static void send_many(struct net *n)
{
	struct pacer p = {n->sim, 10 * TERN_USEC, 0, MANY, send_ab, n};

	assert_int_equal(tern_sim_now(n->sim), 0);
	pace(&p);
}

/* Within 6 standard deviations of a binomial count. */
static void assert_near(uint64_t count, double p)
{
	double off = (double)count - MANY * p;

	assert_true(off * off < 36 * MANY * p * (1 - p));
}

static void test_loss_rate(void **state)
{
	tern_sim_path ab = {.loss = 0.1};
	tern_sim_path_stats s;
	struct net n;

	(void)state;
	net_open(&n, 3, &ab, NULL);
	send_many(&n);
	s = stats_of(&n, 0);
	assert_int_equal(s.frames, MANY);
	assert_near(s.lost, 0.1);
	assert_int_equal(s.delivered, MANY - s.lost);
	assert_int_equal(n.at_b.n, s.delivered);
	net_close(&n);
}

static void test_dup_rate(void **state)
{
	tern_sim_path ab = {.dup = 0.05, .delay = TERN_MSEC};
	tern_sim_path_stats s;
	struct net n;
	uint64_t pairs = 0;

	(void)state;
	net_open(&n, 4, &ab, NULL);
	send_many(&n);
	s = stats_of(&n, 0);
	assert_near(s.duplicated, 0.05);
	assert_int_equal(n.at_b.n, MANY + s.duplicated);
	/* A copy arrives at the same time, right after the original. */
	for (size_t i = 1; i < n.at_b.n; i++) {
		if (n.at_b.e[i].counter != n.at_b.e[i - 1].counter)
			continue;
		assert_int_equal(n.at_b.e[i].t, n.at_b.e[i - 1].t);
		assert_int_equal(n.at_b.e[i].hash, n.at_b.e[i - 1].hash);
		pairs++;
	}
	assert_int_equal(pairs, s.duplicated);
	net_close(&n);
}

static void test_reorder_rate(void **state)
{
	tern_sim_path ab = {.reorder = 0.1, .delay = TERN_MSEC};
	tern_sim_path_stats s;
	struct net n;
	uint64_t late = 0, inversions = 0;

	(void)state;
	net_open(&n, 5, &ab, NULL);
	send_many(&n);
	s = stats_of(&n, 0);
	assert_near(s.reordered, 0.1);
	assert_int_equal(n.at_b.n, MANY);
	for (size_t i = 0; i < n.at_b.n; i++) {
		const struct rx_entry *e = &n.at_b.e[i];
		tern_time sent = (tern_time)e->counter * 10 * TERN_USEC;
		/* Held back by the default 2 * delay + 1 ms. */
		if (e->t == sent + 4 * TERN_MSEC)
			late++;
		else
			assert_int_equal(e->t, sent + TERN_MSEC);
		if (i > 0 && e->counter < n.at_b.e[i - 1].counter)
			inversions++;
	}
	assert_int_equal(late, s.reordered);
	assert_true(inversions > MANY / 20);
	net_close(&n);
}

static int popcount_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++)
		for (unsigned x = a[i] ^ b[i]; x; x &= x - 1)
			bits++;
	return bits;
}

static void test_corrupt_one_bit(void **state)
{
	tern_sim_path ab = {.corrupt = 1};
	struct net n;
	uint8_t want[200];

	(void)state;
	net_open(&n, 6, &ab, NULL);
	for (uint32_t i = 0; i < 1000; i++) {
		send_frame(n.a, ADDR_B, i, sizeof(want), 0);
		tern_sim_run(n.sim, TERN_TIME_NONE);
		assert_int_equal(n.at_b.n, i + 1);
		make_frame(want, sizeof(want), ADDR_B, i);
		assert_int_equal(popcount_diff(want, n.at_b.last, sizeof(want)),
				 1);
	}
	assert_int_equal(stats_of(&n, 0).corrupted, 1000);
	net_close(&n);
}

static void test_corrupt_rate(void **state)
{
	tern_sim_path ab = {.corrupt = 0.2};
	struct net n;

	(void)state;
	net_open(&n, 7, &ab, NULL);
	send_many(&n);
	assert_near(stats_of(&n, 0).corrupted, 0.2);
	net_close(&n);
}

static void test_jitter_bounds(void **state)
{
	tern_sim_path ab = {.delay = TERN_MSEC, .jitter = 100 * TERN_USEC};
	struct net n;
	tern_time lo = TERN_TIME_NONE, hi = 0;

	(void)state;
	net_open(&n, 8, &ab, NULL);
	send_many(&n);
	for (size_t i = 0; i < n.at_b.n; i++) {
		tern_time sent =
			(tern_time)n.at_b.e[i].counter * 10 * TERN_USEC;
		tern_time d = n.at_b.e[i].t - sent;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo >= TERN_MSEC && lo < TERN_MSEC + TERN_USEC);
	assert_true(hi <= TERN_MSEC + 100 * TERN_USEC);
	assert_true(hi > TERN_MSEC + 99 * TERN_USEC);
	net_close(&n);
}

/* ---- determinism ---- */

static const tern_sim_path rough = {
	.delay = 2 * TERN_MSEC,
	.jitter = 500 * TERN_USEC,
	.loss = 0.1,
	.dup = 0.1,
	.reorder = 0.1,
	.corrupt = 0.1,
	.rate_bps = 50000000,
	.queue_bytes = 20000,
};

struct rough {
	struct net *n;
	tern_link *c; /* NULL, or a third port joined to a */
};

static void rough_send(void *ctx, uint32_t i, tern_time now)
{
	struct rough *r = ctx;

	send_frame(r->n->a, ADDR_B, i, 24 + i % 1000, now);
	send_frame(r->n->b, ADDR_A, i, 24 + i % 500, now);
	if (r->c)
		send_frame(r->n->a, ADDR_C, i, 100, now);
}

/* Traffic both ways over a rough link; the log holds both receivers. */
static void rough_run(uint64_t seed, const tern_sim_path *ba,
		      struct rx_log *log, bool extra_link)
{
	struct net n;
	struct rough r = {&n, NULL};
	struct pacer p = {NULL, 50 * TERN_USEC, 0, 5000, rough_send, &r};

	net_open(&n, seed, &rough, ba);
	tern_link_set_rx(n.a, on_rx, log);
	tern_link_set_rx(n.b, on_rx, &n.at_b);
	if (extra_link) {
		r.c = tern_sim_port(n.sim, ADDR_C, 1500);
		assert_int_equal(tern_sim_join(n.sim, n.a, r.c, &rough, &rough),
				 1);
	}
	p.sim = n.sim;
	pace(&p);
	/* log gets what arrived at a; append what arrived at b. */
	for (size_t i = 0; i < n.at_b.n; i++) {
		n.at_b.e[i].port = 1;
		if (log->n == log->cap) {
			log->cap = log->cap ? 2 * log->cap : 64;
			log->e = realloc(log->e, log->cap * sizeof(*log->e));
		}
		log->e[log->n++] = n.at_b.e[i];
	}
	net_close(&n);
}

static bool logs_equal(const struct rx_log *x, const struct rx_log *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++) {
		const struct rx_entry *a = &x->e[i], *b = &y->e[i];
		if (a->t != b->t || a->counter != b->counter ||
		    a->len != b->len || a->hash != b->hash ||
		    a->port != b->port)
			return false;
	}
	return true;
}

static void test_determinism(void **state)
{
	struct rx_log one = {0}, two = {0}, other = {0};

	(void)state;
	rough_run(99, &rough, &one, false);
	rough_run(99, &rough, &two, false);
	rough_run(100, &rough, &other, false);
	assert_true(one.n > 1000);
	assert_true(logs_equal(&one, &two));
	assert_false(logs_equal(&one, &other));
	log_free(&one);
	log_free(&two);
	log_free(&other);
}

/* Only what arrived at b: the fate of a -> b. */
static void keep_port(struct rx_log *log, int port)
{
	size_t j = 0;

	for (size_t i = 0; i < log->n; i++) {
		if (log->e[i].port == port)
			log->e[j++] = log->e[i];
	}
	log->n = j;
}

static void test_direction_independence(void **state)
{
	tern_sim_path other_ba = {.loss = 0.5, .dup = 0.5, .delay = TERN_SEC};
	struct rx_log one = {0}, two = {0}, three = {0};

	(void)state;
	rough_run(11, &rough, &one, false);
	rough_run(11, &other_ba, &two, false);
	rough_run(11, &rough, &three, true);
	keep_port(&one, 1);
	keep_port(&two, 1);
	keep_port(&three, 1);
	assert_true(one.n > 1000);
	assert_true(logs_equal(&one, &two));
	assert_true(logs_equal(&one, &three));
	log_free(&one);
	log_free(&two);
	log_free(&three);
}

/* ---- events, nodes, the clock ---- */

struct call_log {
	int who[16];
	tern_time when[16];
	int n;
};

struct call {
	struct call_log *log;
	int who;
};

static void on_call(void *arg, tern_time now)
{
	struct call *c = arg;

	c->log->who[c->log->n] = c->who;
	c->log->when[c->log->n++] = now;
}

static void test_callbacks_in_order(void **state)
{
	tern_sim *sim = tern_sim_new(1);
	struct call_log log = {0};
	struct call c[4] = {{&log, 1}, {&log, 2}, {&log, 3}, {&log, 4}};

	(void)state;
	assert_int_equal(tern_sim_at(sim, 5 * TERN_MSEC, on_call, &c[0]), 0);
	assert_int_equal(tern_sim_at(sim, 2 * TERN_MSEC, on_call, &c[1]), 0);
	assert_int_equal(tern_sim_at(sim, 5 * TERN_MSEC, on_call, &c[2]), 0);
	assert_int_equal(tern_sim_at(sim, 0, on_call, &c[3]), 0);
	assert_int_equal(tern_sim_run(sim, TERN_TIME_NONE), 1);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.who[0], 4);
	assert_int_equal(log.when[0], 0);
	assert_int_equal(log.who[1], 2);
	assert_int_equal(log.when[1], 2 * TERN_MSEC);
	assert_int_equal(log.who[2], 1);
	assert_int_equal(log.who[3], 3);
	assert_int_equal(log.when[3], 5 * TERN_MSEC);
	/* Not in the past. */
	assert_int_equal(tern_sim_at(sim, TERN_MSEC, on_call, &c[0]),
			 TERN_ERR_INVAL);
	tern_sim_free(sim);
}

struct peek {
	const struct rx_log *log;
	size_t seen; /* frames in log when the callback ran */
	tern_time when;
};

static void on_peek(void *arg, tern_time now)
{
	struct peek *p = arg;

	p->seen = p->log->n;
	p->when = now;
}

/* A callback set before a frame was sent still runs after the frame
 * when both fall on one instant. */
static void test_frames_before_callbacks(void **state)
{
	tern_sim_path ab = {.delay = 5 * TERN_MSEC};
	struct net n;
	struct peek p = {0};

	(void)state;
	net_open(&n, 1, &ab, NULL);
	p.log = &n.at_b;
	tern_sim_at(n.sim, 5 * TERN_MSEC, on_peek, &p);
	send_frame(n.a, ADDR_B, 0, 64, 0);
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.n, 1);
	assert_int_equal(p.when, 5 * TERN_MSEC);
	assert_int_equal(p.seen, 1);
	net_close(&n);
}

struct ticker {
	tern_time next, period;
	int left;
	tern_time woken[16];
	int n;
	int id;
	int *order; /* shared log of which ticker ran */
	int *norder;
};

static tern_time ticker_deadline(void *ctx)
{
	struct ticker *t = ctx;

	return t->left > 0 ? t->next : TERN_TIME_NONE;
}

static void ticker_run(void *ctx, tern_time now)
{
	struct ticker *t = ctx;

	t->woken[t->n++] = now;
	t->next = now + t->period;
	t->left--;
	if (t->order)
		t->order[(*t->norder)++] = t->id;
}

static const tern_sim_node_ops ticker_ops = {ticker_deadline, ticker_run};

static void test_node_periodic(void **state)
{
	tern_sim *sim = tern_sim_new(1);
	struct ticker t = {
		.next = 10 * TERN_MSEC, .period = 10 * TERN_MSEC, .left = 5};

	(void)state;
	assert_int_equal(tern_sim_add_node(sim, &ticker_ops, &t), 0);
	assert_int_equal(tern_sim_run(sim, 25 * TERN_MSEC), 0);
	assert_int_equal(tern_sim_now(sim), 25 * TERN_MSEC);
	assert_int_equal(t.n, 2);
	assert_int_equal(tern_sim_run(sim, TERN_TIME_NONE), 1);
	assert_int_equal(t.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(t.woken[i],
				 (tern_time)(i + 1) * 10 * TERN_MSEC);
	assert_int_equal(tern_sim_now(sim), 50 * TERN_MSEC);
	tern_sim_free(sim);
}

static void test_nodes_in_added_order(void **state)
{
	tern_sim *sim = tern_sim_new(1);
	int order[16], norder = 0;
	struct ticker t[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		t[i] = (struct ticker){.next = TERN_MSEC,
				       .period = TERN_MSEC,
				       .left = 2,
				       .id = i,
				       .order = order,
				       .norder = &norder};
		assert_int_equal(tern_sim_add_node(sim, &ticker_ops, &t[i]), 0);
	}
	tern_sim_remove_node(sim, &t[1]);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(norder, 4);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 2);
	assert_int_equal(t[1].n, 0);
	tern_sim_free(sim);
}

/* A node that removes itself and the next node from within its run. */
struct remover {
	tern_sim *sim;
	void *other;
	int runs;
};

static tern_time remover_deadline(void *ctx)
{
	(void)ctx;
	return TERN_MSEC;
}

static void remover_run(void *ctx, tern_time now)
{
	struct remover *r = ctx;

	(void)now;
	r->runs++;
	tern_sim_remove_node(r->sim, r);
	tern_sim_remove_node(r->sim, r->other);
}

static void test_node_removed_while_running(void **state)
{
	static const tern_sim_node_ops ops = {remover_deadline, remover_run};
	tern_sim *sim = tern_sim_new(1);
	struct ticker t = {.next = TERN_MSEC, .period = TERN_MSEC, .left = 3};
	struct remover r = {.sim = sim, .other = &t};

	(void)state;
	tern_sim_add_node(sim, &ops, &r);
	tern_sim_add_node(sim, &ticker_ops, &t);
	assert_int_equal(tern_sim_run(sim, TERN_TIME_NONE), 1);
	assert_int_equal(r.runs, 1);
	assert_int_equal(t.n, 0);
	tern_sim_free(sim);
}

static void test_run_until_and_idle(void **state)
{
	tern_sim_path ab = {.delay = 10 * TERN_MSEC};
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, NULL);
	assert_int_equal(tern_sim_run(n.sim, TERN_TIME_NONE), 1);
	assert_int_equal(tern_sim_now(n.sim), 0);
	send_frame(n.a, ADDR_B, 0, 64, 0);
	assert_int_equal(tern_sim_run(n.sim, 5 * TERN_MSEC), 0);
	assert_int_equal(tern_sim_now(n.sim), 5 * TERN_MSEC);
	assert_int_equal(n.at_b.n, 0);
	/* An event exactly at until runs. */
	assert_int_equal(tern_sim_run(n.sim, 10 * TERN_MSEC), 1);
	assert_int_equal(n.at_b.n, 1);
	assert_int_equal(tern_sim_now(n.sim), 10 * TERN_MSEC);
	/* Idle: the clock stays at the last event, whatever until says. */
	assert_int_equal(tern_sim_run(n.sim, TERN_SEC), 1);
	assert_int_equal(tern_sim_now(n.sim), 10 * TERN_MSEC);
	/* A past until moves nothing back. */
	send_frame(n.a, ADDR_B, 1, 64, tern_sim_now(n.sim));
	assert_int_equal(tern_sim_run(n.sim, TERN_MSEC), 0);
	assert_int_equal(tern_sim_now(n.sim), 10 * TERN_MSEC);
	net_close(&n);
}

static void test_inject(void **state)
{
	uint8_t frame[30];
	struct net n;

	(void)state;
	net_open(&n, 1, NULL, NULL);
	make_frame(frame, sizeof(frame), ADDR_B, 77);
	assert_int_equal(tern_sim_inject(n.sim, n.b, frame, sizeof(frame),
					 7 * TERN_MSEC),
			 0);
	memset(frame, 0, sizeof(frame)); /* the sim kept its own copy */
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.n, 1);
	assert_int_equal(n.at_b.e[0].t, 7 * TERN_MSEC);
	assert_int_equal(n.at_b.e[0].counter, 77);
	assert_int_equal(stats_of(&n, 0).frames, 0);
	assert_int_equal(stats_of(&n, 0).delivered, 0);
	assert_int_equal(tern_sim_inject(n.sim, n.b, frame, 30, 0),
			 TERN_ERR_INVAL);
	net_close(&n);
}

static void test_unroutable(void **state)
{
	uint8_t shorty[10] = {0x45};
	tern_iov iov = {shorty, sizeof(shorty)};
	struct net n;

	(void)state;
	net_open(&n, 1, NULL, NULL);
	assert_int_equal(tern_link_send(n.a, &iov, 1, NULL, 0), 0);
	assert_int_equal(send_frame(n.a, ADDR_C, 1, 64, 0), 0);
	assert_int_equal(send_frame(n.a, ADDR_A, 2, 64, 0), 0);
	assert_int_equal(send_frame(n.a, ADDR_B, 3, 64, 0), 0);
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(tern_sim_port_unroutable(n.a), 3);
	assert_int_equal(tern_sim_port_unroutable(n.b), 0);
	assert_int_equal(n.at_b.n, 1);
	assert_int_equal(stats_of(&n, 0).frames, 1);
	net_close(&n);
}

static void test_join_errors(void **state)
{
	tern_sim_path bad = {.loss = 1.5};
	tern_sim *other = tern_sim_new(1);
	tern_link *x = tern_sim_port(other, ADDR_C, 1500);
	tern_link *c;
	struct net n;
	tern_sim_path_stats s;

	(void)state;
	net_open(&n, 1, NULL, NULL);
	c = tern_sim_port(n.sim, ADDR_C, 1500);
	assert_int_equal(tern_sim_join(n.sim, n.a, n.b, NULL, NULL),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_sim_join(n.sim, n.b, n.a, NULL, NULL),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_sim_join(n.sim, n.a, n.a, NULL, NULL),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_sim_join(n.sim, n.a, x, NULL, NULL),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_sim_join(n.sim, n.a, c, &bad, NULL),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_sim_join(n.sim, n.a, c, NULL, NULL), 1);
	assert_int_equal(tern_sim_set_path(n.sim, 2, 0, NULL), TERN_ERR_INVAL);
	assert_int_equal(tern_sim_set_path(n.sim, 0, 2, NULL), TERN_ERR_INVAL);
	assert_int_equal(tern_sim_set_path(n.sim, 0, 1, &bad), TERN_ERR_INVAL);
	assert_int_equal(tern_sim_path_stats_get(n.sim, -1, 0, &s),
			 TERN_ERR_INVAL);
	net_close(&n);
	tern_sim_free(other);
}

/* set_path applies to frames sent afterwards only. */
static void test_set_path(void **state)
{
	tern_sim_path slow = {.delay = 10 * TERN_MSEC};
	tern_sim_path lossy = {.loss = 1};
	struct net n;

	(void)state;
	net_open(&n, 1, &slow, NULL);
	send_frame(n.a, ADDR_B, 0, 64, 0);
	assert_int_equal(tern_sim_set_path(n.sim, n.link, 0, &lossy), 0);
	send_frame(n.a, ADDR_B, 1, 64, 0);
	assert_int_equal(tern_sim_set_path(n.sim, n.link, 0, NULL), 0);
	send_frame(n.a, ADDR_B, 2, 64, 0);
	tern_sim_run(n.sim, TERN_TIME_NONE);
	assert_int_equal(n.at_b.n, 2);
	assert_int_equal(n.at_b.e[0].counter, 2);
	assert_int_equal(n.at_b.e[0].t, 0);
	assert_int_equal(n.at_b.e[1].counter, 0);
	assert_int_equal(n.at_b.e[1].t, 10 * TERN_MSEC);
	assert_int_equal(stats_of(&n, 0).lost, 1);
	net_close(&n);
}

/* Freed with frames still in flight: the sanitizer build checks leaks. */
static void test_free_in_flight(void **state)
{
	tern_sim_path ab = {.delay = TERN_SEC};
	uint8_t frame[24] = {0};
	struct net n;

	(void)state;
	net_open(&n, 1, &ab, &ab);
	send_frame(n.a, ADDR_B, 0, 64, 0);
	send_frame(n.b, ADDR_A, 0, 64, 0);
	tern_sim_inject(n.sim, n.a, frame, sizeof(frame), TERN_SEC);
	tern_sim_run(n.sim, TERN_MSEC);
	net_close(&n);
}

/* ---- offloading ports ---- */

struct meta_log {
	int n;
	size_t len;
	bool has;
	tern_frame_meta m;
	uint8_t frame[TERN_FRAME_MAX];
};

static void on_meta(void *ctx, const uint8_t *frame, size_t len,
		    const tern_frame_meta *meta, tern_time now)
{
	struct meta_log *log = ctx;

	(void)now;
	log->n++;
	log->len = len;
	log->has = meta != NULL;
	if (meta)
		log->m = *meta;
	memcpy(log->frame, frame, len);
}

struct onet {
	tern_sim *sim;
	tern_link *a, *b;
	struct meta_log at_b;
};

static struct onet *onet_open(const tern_sim_path *ab)
{
	struct onet *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	n->sim = tern_sim_new(5);
	n->a = tern_sim_port(n->sim, ADDR_A, 1500);
	n->b = tern_sim_port(n->sim, ADDR_B, 1500);
	assert_int_equal(tern_sim_join(n->sim, n->a, n->b, ab, NULL), 0);
	tern_link_set_rx(n->b, on_meta, &n->at_b);
	return n;
}

static void onet_close(struct onet *n)
{
	tern_sim_free(n->sim);
	free(n);
}

/* Off by default; on, a TSO frame with a partial checksum crosses as one
 * frame and arrives with its gso_size, flagged CSUM_OK, like GRO. */
static void test_port_offload(void **state)
{
	static uint8_t f[10000];
	struct onet *n = onet_open(NULL);
	tern_frame_meta m = {.gso_size = 1000,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	tern_iov iov = {f, sizeof(f)};
	tern_link other = {0};

	(void)state;
	make_frame(f, sizeof(f), ADDR_B, 1);
	assert_int_equal(n->a->tso_max, 0);
	assert_false(n->a->tx_csum);
	assert_int_equal(tern_link_send(n->a, &iov, 1, &m, 0), TERN_ERR_INVAL);
	m.gso_size = 0;
	iov.len = 1000;
	assert_int_equal(tern_link_send(n->a, &iov, 1, &m, 0), TERN_ERR_INVAL);
	assert_int_equal(tern_sim_port_set_offload(n->a, true), 0);
	assert_int_equal(n->a->tso_max, 65535);
	assert_true(n->a->tx_csum);
	m.gso_size = 1000;
	iov.len = sizeof(f);
	assert_int_equal(tern_link_send(n->a, &iov, 1, &m, 0), 0);
	tern_sim_run(n->sim, TERN_TIME_NONE);
	assert_int_equal(n->at_b.n, 1);
	assert_int_equal(n->at_b.len, sizeof(f));
	assert_memory_equal(n->at_b.frame, f, sizeof(f));
	assert_true(n->at_b.has);
	assert_int_equal(n->at_b.m.gso_size, 1000);
	assert_int_equal(n->at_b.m.flags,
			 TERN_FRAME_CSUM_PARTIAL | TERN_FRAME_CSUM_OK);
	/* A plain frame stays plain. */
	iov.len = 100;
	assert_int_equal(tern_link_send(n->a, &iov, 1, NULL, 0), 0);
	tern_sim_run(n->sim, TERN_TIME_NONE);
	assert_int_equal(n->at_b.n, 2);
	assert_false(n->at_b.has);
	assert_int_equal(tern_sim_port_set_offload(n->a, false), 0);
	assert_int_equal(n->a->tso_max, 0);
	assert_int_equal(tern_sim_port_set_offload(NULL, true), TERN_ERR_INVAL);
	assert_int_equal(tern_sim_port_set_offload(&other, true),
			 TERN_ERR_INVAL);
	onet_close(n);
}

/* A corrupted frame gets its checksum finished before the bit flips (as
 * the sending NIC would have) and arrives plain, so the receiver checks
 * it: exactly one bit differs from the completed frame. */
static void test_port_offload_corrupt(void **state)
{
	static uint8_t f[3000], want[3000];
	tern_sim_path bad = {.corrupt = 1.0};
	struct onet *n = onet_open(&bad);
	tern_frame_meta m = {.gso_size = 1000,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	tern_iov iov = {f, sizeof(f)};
	int bits = 0;

	(void)state;
	make_frame(f, sizeof(f), ADDR_B, 2);
	/* The field holds the "pseudo-header sum"; the NIC sums from 20 on. */
	memcpy(want, f, sizeof(f));
	tern_store16(want + 36,
		     tern_inet_checksum(want + 20, sizeof(want) - 20));
	assert_int_equal(tern_sim_port_set_offload(n->a, true), 0);
	assert_int_equal(tern_link_send(n->a, &iov, 1, &m, 0), 0);
	tern_sim_run(n->sim, TERN_TIME_NONE);
	assert_int_equal(n->at_b.n, 1);
	assert_false(n->at_b.has);
	for (size_t i = 0; i < sizeof(f); i++)
		bits += __builtin_popcount(n->at_b.frame[i] ^ want[i]);
	assert_int_equal(bits, 1);
	onet_close(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_after_delay),
		cmocka_unit_test(test_frames_keep_send_order),
		cmocka_unit_test(test_zero_delay_same_instant),
		cmocka_unit_test(test_rate_spacing),
		cmocka_unit_test(test_rate_drop_tail),
		cmocka_unit_test(test_rate_default_queue),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_dup_rate),
		cmocka_unit_test(test_reorder_rate),
		cmocka_unit_test(test_corrupt_one_bit),
		cmocka_unit_test(test_corrupt_rate),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_direction_independence),
		cmocka_unit_test(test_callbacks_in_order),
		cmocka_unit_test(test_frames_before_callbacks),
		cmocka_unit_test(test_node_periodic),
		cmocka_unit_test(test_nodes_in_added_order),
		cmocka_unit_test(test_node_removed_while_running),
		cmocka_unit_test(test_run_until_and_idle),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_unroutable),
		cmocka_unit_test(test_join_errors),
		cmocka_unit_test(test_set_path),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_port_offload),
		cmocka_unit_test(test_port_offload_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
