/* The impairment wrapper (tern_impair_wrap) around a test link that
 * records what is sent through it, with explicit times: pass-through
 * without copies, each impairment, both directions, determinism, the
 * hold bound, and the same fates as the simulator's for a path and seed.
 * Frames are raw IPv4-like: a 20-byte header with a destination, then a
 * 32-bit counter, then a pattern. */
#include <stdlib.h>
#include <string.h>

#include <tern/link.h>
#include <tern/sim.h>
#include <tern/wire.h>

#include "link/impair.h"
#include "testutil.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define FRAME_MIN 24
#define MANY 100000
#define HOLD_MAX ((size_t)4 << 20)

/* ---- frames and logs ---- */

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

/* The pattern depends on the counter, so corruption anywhere shows. */
static void make_frame(uint8_t *buf, size_t len, uint32_t dst, uint32_t counter)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + counter);
	buf[0] = 0x45;
	put_be32(buf + 16, dst);
	put_be32(buf + 20, counter);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

struct entry {
	tern_time t;
	uint32_t counter;
	size_t len;
	uint64_t hash;
	const void *base; /* where the (first piece of the) frame lay */
	int iovcnt;
};

struct log {
	struct entry *e;
	size_t n, cap;
	size_t with_meta; /* frames that came with meta */
	uint8_t last[2048];
};

static void log_add(struct log *log, const tern_iov *iov, int iovcnt,
		    tern_time now)
{
	uint8_t flat[TERN_FRAME_MAX];
	struct entry *e;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++) {
		memcpy(flat + len, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	if (log->n == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 64;
		log->e = realloc(log->e, log->cap * sizeof(*log->e));
		assert_non_null(log->e);
	}
	e = &log->e[log->n++];
	e->t = now;
	e->counter = len >= FRAME_MIN ? get_be32(flat + 20) : UINT32_MAX;
	e->len = len;
	e->hash = fnv1a(flat, len);
	e->base = iovcnt ? iov[0].base : NULL;
	e->iovcnt = iovcnt;
	if (len <= sizeof(log->last))
		memcpy(log->last, flat, len);
}

static void log_free(struct log *log)
{
	free(log->e);
	memset(log, 0, sizeof(*log));
}

static bool logs_equal(const struct log *x, const struct log *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++) {
		const struct entry *a = &x->e[i], *b = &y->e[i];
		if (a->t != b->t || a->counter != b->counter ||
		    a->len != b->len || a->hash != b->hash)
			return false;
	}
	return true;
}

/* Receives what the wrapper hands up. */
static void on_rx(void *ctx, const uint8_t *frame, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct log *log = ctx;
	tern_iov iov = {.base = frame, .len = len};

	log->with_meta += meta != NULL;
	log_add(log, &iov, 1, now);
}

/* ---- the test link: records what is sent, lets the test push frames
 * up, and has fd/recv/deadline/poll to see the wrapper forward them ---- */

struct tlink {
	tern_link link; /* first */
	struct log sent;
	tern_time deadline; /* its own next deadline */
	tern_time polled;   /* the last poll's now */
	int recvs;	    /* recv calls */
	bool destroyed;
};

static int tl_send(tern_link *link, const tern_iov *iov, int iovcnt,
		   const tern_frame_meta *meta, tern_time now)
{
	struct log *log = &((struct tlink *)link)->sent;

	log->with_meta += meta != NULL;
	log_add(log, iov, iovcnt, now);
	return 0;
}

/* The test owns the struct: destroy only notes it. */
static void tl_destroy(tern_link *link)
{
	((struct tlink *)link)->destroyed = true;
}

static int tl_fd(tern_link *link)
{
	(void)link;
	return 42;
}

static int tl_recv(tern_link *link, int budget, tern_time now)
{
	(void)now;
	((struct tlink *)link)->recvs++;
	return budget < 3 ? budget : 3;
}

static tern_time tl_next_deadline(tern_link *link)
{
	return ((struct tlink *)link)->deadline;
}

static void tl_poll(tern_link *link, tern_time now)
{
	((struct tlink *)link)->polled = now;
}

static const tern_link_ops tl_ops = {
	.send = tl_send,
	.destroy = tl_destroy,
	.fd = tl_fd,
	.recv = tl_recv,
	.next_deadline = tl_next_deadline,
	.poll = tl_poll,
};

/* A wrapper around a fresh test link, with its upward log. */
struct rig {
	struct tlink tl;
	tern_link *w;
	struct log up;
};

static void rig_open(struct rig *r, const tern_sim_path *out,
		     const tern_sim_path *in, uint64_t seed)
{
	int err = 1;

	memset(r, 0, sizeof(*r));
	r->tl.link.ops = &tl_ops;
	r->tl.link.mtu = 1500;
	r->tl.link.name = "test";
	r->tl.deadline = TERN_TIME_NONE;
	r->tl.polled = TERN_TIME_NONE;
	r->w = tern_impair_wrap(&r->tl.link, out, in, seed, &err);
	assert_non_null(r->w);
	assert_int_equal(err, 1); /* untouched on success */
	tern_link_set_rx(r->w, on_rx, &r->up);
}

static void rig_close(struct rig *r)
{
	tern_link_destroy(r->w);
	assert_true(r->tl.destroyed);
	assert_null(r->tl.link.rx);
	log_free(&r->tl.sent);
	log_free(&r->up);
}

static tern_sim_path_stats stats_of(struct rig *r, int dir)
{
	tern_sim_path_stats s;

	assert_int_equal(tern_impair_stats(r->w, dir, &s), 0);
	return s;
}

/* Sends a frame through the wrapper in two pieces, as a stack does. */
static int send_frame(struct rig *r, uint32_t counter, size_t len,
		      tern_time now)
{
	static uint8_t buf[TERN_FRAME_MAX];
	tern_iov iov[2] = {{buf, 20}, {buf + 20, len - 20}};

	assert_true(len >= FRAME_MIN && len <= sizeof(buf));
	make_frame(buf, len, ADDR_B, counter);
	return tern_link_send(r->w, iov, 2, NULL, now);
}

/* A frame arriving on the inner link. */
static void push_frame(struct rig *r, uint32_t counter, size_t len,
		       tern_time now)
{
	static uint8_t buf[TERN_FRAME_MAX];

	assert_true(len >= FRAME_MIN && len <= sizeof(buf));
	make_frame(buf, len, ADDR_A, counter);
	tern_link_deliver(&r->tl.link, buf, len, NULL, now);
}

/* Polls the wrapper at each of its deadlines up to `until`. */
static void drive(struct rig *r, tern_time until)
{
	tern_time d;

	while ((d = tern_link_next_deadline(r->w)) != TERN_TIME_NONE &&
	       d <= until)
		tern_link_poll(r->w, d);
}

/* Within 6 standard deviations of a binomial count. */
static void assert_near(uint64_t count, uint64_t n, double p)
{
	double off = (double)count - (double)n * p;

	assert_true(off * off < 36 * (double)n * p * (1 - p));
}

/* ---- pass-through ---- */

static void test_perfect_passes_through(void **state)
{
	static const tern_sim_path zero;
	uint8_t buf[100];
	tern_iov iov[2] = {{buf, 20}, {buf + 20, 80}};
	struct rig r;

	(void)state;
	rig_open(&r, NULL, &zero, 1);
	assert_int_equal(r.w->mtu, 1500);
	assert_string_equal(r.w->name, "test");
	for (uint32_t i = 0; i < 10; i++) {
		make_frame(buf, sizeof(buf), ADDR_B, i);
		assert_int_equal(tern_link_send(r.w, iov, 2, NULL, 5 * i), 0);
		/* Handed on at once, the caller's own pieces. */
		assert_int_equal(r.tl.sent.n, i + 1);
		assert_ptr_equal(r.tl.sent.e[i].base, buf);
		assert_int_equal(r.tl.sent.e[i].iovcnt, 2);
		assert_int_equal(r.tl.sent.e[i].t, 5 * i);
		assert_int_equal(r.tl.sent.e[i].hash, fnv1a(buf, sizeof(buf)));
		make_frame(buf, sizeof(buf), ADDR_A, i);
		tern_link_deliver(&r.tl.link, buf, sizeof(buf), NULL,
				  5 * i + 1);
		assert_int_equal(r.up.n, i + 1);
		assert_ptr_equal(r.up.e[i].base, buf);
		assert_int_equal(r.up.e[i].t, 5 * i + 1);
	}
	assert_int_equal(tern_link_next_deadline(r.w), TERN_TIME_NONE);
	for (int d = 0; d < 2; d++) {
		assert_int_equal(stats_of(&r, d).frames, 10);
		assert_int_equal(stats_of(&r, d).bytes, 1000);
		assert_int_equal(stats_of(&r, d).delivered, 10);
	}
	rig_close(&r);
}

/* fd and recv are inner's; the deadline is the earlier of both; poll
 * reaches inner. */
static void test_forwards_inner_ops(void **state)
{
	tern_sim_path out = {.delay = 5 * TERN_MSEC};
	struct rig r;

	(void)state;
	rig_open(&r, &out, NULL, 1);
	assert_int_equal(tern_link_fd(r.w), 42);
	assert_int_equal(tern_link_recv(r.w, 8, 0), 3);
	assert_int_equal(r.tl.recvs, 1);
	r.tl.deadline = 10 * TERN_MSEC;
	assert_int_equal(tern_link_next_deadline(r.w), 10 * TERN_MSEC);
	send_frame(&r, 0, 64, 0);
	assert_int_equal(tern_link_next_deadline(r.w), 5 * TERN_MSEC);
	tern_link_poll(r.w, 5 * TERN_MSEC);
	assert_int_equal(r.tl.polled, 5 * TERN_MSEC);
	assert_int_equal(r.tl.sent.n, 1);
	assert_int_equal(tern_link_next_deadline(r.w), 10 * TERN_MSEC);
	rig_close(&r);
}

static void test_refusals(void **state)
{
	tern_sim_path bad = {.loss = 1.5};
	struct tlink tl = {.link = {.ops = &tl_ops}};
	tern_sim_path_stats s;
	int err = 0;
	struct rig r;

	(void)state;
	assert_null(tern_impair_wrap(NULL, NULL, NULL, 1, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	err = 0;
	assert_null(tern_impair_wrap(&tl.link, NULL, &bad, 1, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(tl.link.rx);
	assert_false(tl.destroyed);
	assert_int_equal(tern_impair_stats(&tl.link, 0, &s), TERN_ERR_INVAL);
	rig_open(&r, NULL, NULL, 1);
	assert_int_equal(tern_impair_stats(r.w, 2, &s), TERN_ERR_INVAL);
	assert_int_equal(tern_impair_stats(r.w, 0, NULL), TERN_ERR_INVAL);
	{
		static uint8_t big[TERN_FRAME_MAX + 1];
		tern_iov iov = {big, sizeof(big)};
		assert_int_equal(tern_link_send(r.w, &iov, 1, NULL, 0),
				 TERN_ERR_INVAL);
	}
	assert_int_equal(stats_of(&r, 0).frames, 0);
	rig_close(&r);
}

/* ---- each impairment ---- */

static void test_delay_exact(void **state)
{
	tern_sim_path out = {.delay = 5 * TERN_MSEC};
	tern_sim_path in = {.delay = 3 * TERN_MSEC};
	struct rig r;

	(void)state;
	rig_open(&r, &out, &in, 1);
	send_frame(&r, 7, 100, TERN_MSEC);
	push_frame(&r, 8, 200, 2 * TERN_MSEC);
	assert_int_equal(r.tl.sent.n, 0);
	assert_int_equal(r.up.n, 0);
	assert_int_equal(tern_link_next_deadline(r.w), 5 * TERN_MSEC);
	tern_link_poll(r.w, 5 * TERN_MSEC - 1);
	assert_int_equal(r.up.n, 0);
	tern_link_poll(r.w, 5 * TERN_MSEC);
	assert_int_equal(r.up.n, 1);
	assert_int_equal(r.up.e[0].t, 5 * TERN_MSEC);
	assert_int_equal(r.up.e[0].counter, 8);
	assert_int_equal(r.up.e[0].len, 200);
	assert_int_equal(r.tl.sent.n, 0);
	assert_int_equal(tern_link_next_deadline(r.w), 6 * TERN_MSEC);
	tern_link_poll(r.w, 6 * TERN_MSEC);
	assert_int_equal(r.tl.sent.n, 1);
	assert_int_equal(r.tl.sent.e[0].t, 6 * TERN_MSEC);
	assert_int_equal(r.tl.sent.e[0].counter, 7);
	assert_int_equal(r.tl.sent.e[0].len, 100);
	assert_int_equal(tern_link_next_deadline(r.w), TERN_TIME_NONE);
	rig_close(&r);
}

static void test_loss_rate(void **state)
{
	tern_sim_path out = {.loss = 0.1};
	tern_sim_path_stats s;
	struct rig r;

	(void)state;
	rig_open(&r, &out, NULL, 3);
	for (uint32_t i = 0; i < MANY; i++)
		assert_int_equal(send_frame(&r, i, 64, i), 0);
	s = stats_of(&r, 0);
	assert_int_equal(s.frames, MANY);
	assert_near(s.lost, MANY, 0.1);
	assert_int_equal(s.delivered, MANY - s.lost);
	assert_int_equal(r.tl.sent.n, s.delivered);
	assert_int_equal(stats_of(&r, 1).frames, 0);
	rig_close(&r);
}

/* A copy arrives right after the original, at the same time: at once on
 * a wire with no delay, both held on one with. */
static void test_dup_arrives_twice(void **state)
{
	tern_sim_path out = {.dup = 1};
	tern_sim_path in = {.dup = 1, .delay = TERN_MSEC};
	struct rig r;

	(void)state;
	rig_open(&r, &out, &in, 4);
	for (uint32_t i = 0; i < 5; i++) {
		send_frame(&r, i, 64, i);
		push_frame(&r, i, 64, i);
	}
	assert_int_equal(r.tl.sent.n, 10);
	assert_int_equal(r.up.n, 0);
	drive(&r, TERN_TIME_NONE);
	assert_int_equal(r.up.n, 10);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(r.tl.sent.e[i].counter, i / 2);
		assert_int_equal(r.tl.sent.e[i].t, i / 2);
		assert_int_equal(r.up.e[i].counter, i / 2);
		assert_int_equal(r.up.e[i].t, TERN_MSEC + i / 2);
		assert_int_equal(r.up.e[i].hash, r.up.e[i & ~1u].hash);
	}
	assert_int_equal(stats_of(&r, 0).duplicated, 5);
	assert_int_equal(stats_of(&r, 1).delivered, 10);
	rig_close(&r);
}

static void test_reorder(void **state)
{
	tern_sim_path out = {.reorder = 0.1, .delay = TERN_MSEC};
	uint64_t late = 0, inversions = 0;
	struct rig r;

	(void)state;
	rig_open(&r, &out, NULL, 5);
	for (uint32_t i = 0; i < 10000; i++) {
		drive(&r, (tern_time)i * 10 * TERN_USEC);
		send_frame(&r, i, 64, (tern_time)i * 10 * TERN_USEC);
	}
	drive(&r, TERN_TIME_NONE);
	assert_int_equal(r.tl.sent.n, 10000);
	for (size_t i = 0; i < r.tl.sent.n; i++) {
		const struct entry *e = &r.tl.sent.e[i];
		tern_time sent = (tern_time)e->counter * 10 * TERN_USEC;
		/* Held back by the default 2 * delay + 1 ms. */
		if (e->t == sent + 4 * TERN_MSEC)
			late++;
		else
			assert_int_equal(e->t, sent + TERN_MSEC);
		if (i > 0 && e->counter < r.tl.sent.e[i - 1].counter)
			inversions++;
	}
	assert_int_equal(late, stats_of(&r, 0).reordered);
	assert_near(late, 10000, 0.1);
	assert_true(inversions > 500);
	rig_close(&r);
}

static int bits_differing(const uint8_t *a, const uint8_t *b, size_t n)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++)
		for (unsigned x = a[i] ^ b[i]; x; x &= x - 1)
			bits++;
	return bits;
}

/* One bit flipped, in a copy: the sender's bytes stay as they were. */
static void test_corrupt_one_bit(void **state)
{
	tern_sim_path now_path = {.corrupt = 1};
	tern_sim_path held_path = {.corrupt = 1, .delay = TERN_MSEC};
	uint8_t buf[200], want[200];
	tern_iov iov = {buf, sizeof(buf)};
	struct rig r;

	(void)state;
	rig_open(&r, &now_path, &held_path, 6);
	for (uint32_t i = 0; i < 1000; i++) {
		make_frame(buf, sizeof(buf), ADDR_B, i);
		memcpy(want, buf, sizeof(want));
		assert_int_equal(tern_link_send(r.w, &iov, 1, NULL, i), 0);
		assert_memory_equal(buf, want, sizeof(buf));
		assert_int_equal(r.tl.sent.n, i + 1);
		assert_ptr_not_equal(r.tl.sent.e[i].base, buf);
		assert_int_equal(bits_differing(want, r.tl.sent.last, 200), 1);
		tern_link_deliver(&r.tl.link, buf, sizeof(buf), NULL, i);
		drive(&r, TERN_TIME_NONE);
		assert_int_equal(r.up.n, i + 1);
		assert_int_equal(bits_differing(want, r.up.last, 200), 1);
	}
	assert_int_equal(stats_of(&r, 0).corrupted, 1000);
	assert_int_equal(stats_of(&r, 1).corrupted, 1000);
	rig_close(&r);
}

static void test_rate_spacing(void **state)
{
	tern_sim_path out = {.rate_bps = 12000000, .delay = 2 * TERN_MSEC};
	tern_sim_path in = {.rate_bps = 12000000, .queue_bytes = 15000};
	struct rig r;

	(void)state;
	rig_open(&r, &out, &in, 1);
	for (uint32_t i = 0; i < 10; i++)
		send_frame(&r, i, 1500, 0);
	/* Ten 1500-byte frames fill 15000 bytes; the rest fall off. */
	for (uint32_t i = 0; i < 20; i++)
		push_frame(&r, i, 1500, 0);
	drive(&r, TERN_TIME_NONE);
	assert_int_equal(r.tl.sent.n, 10);
	assert_int_equal(r.up.n, 10);
	/* 1500 bytes at 12 Mbit/s: 1 ms each (then the 2 ms delay out). */
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(r.tl.sent.e[i].counter, i);
		assert_int_equal(r.tl.sent.e[i].t, (i + 3) * TERN_MSEC);
		assert_int_equal(r.up.e[i].counter, i);
		assert_int_equal(r.up.e[i].t, (i + 1) * TERN_MSEC);
	}
	assert_int_equal(stats_of(&r, 1).queue_drops, 10);
	assert_int_equal(stats_of(&r, 0).queue_drops, 0);
	rig_close(&r);
}

/* Frames due at one instant leave in the order they entered, even when
 * the wrapper is polled late: a held frame goes before a later frame due
 * at once. */
static void test_late_poll_keeps_order(void **state)
{
	tern_sim_path out = {.reorder = 0.5, .reorder_delay = TERN_MSEC};
	uint64_t seed = 0;
	struct rig r;

	(void)state;
	for (;; seed++) {
		rig_open(&r, &out, NULL, seed);
		send_frame(&r, 0, 64, 0);
		if (r.tl.sent.n == 0)
			break;
		rig_close(&r);
	}
	send_frame(&r, 1, 64, 2 * TERN_MSEC);
	drive(&r, TERN_TIME_NONE);
	assert_int_equal(r.tl.sent.n, 2);
	assert_int_equal(r.tl.sent.e[0].counter, 0);
	assert_int_equal(r.tl.sent.e[0].t, 2 * TERN_MSEC);
	assert_int_equal(r.tl.sent.e[1].counter, 1);
	rig_close(&r);
}

/* ---- the bound, and destroying with frames held ---- */

static void test_hold_bound(void **state)
{
	tern_sim_path delayed = {.delay = TERN_SEC};
	size_t fit = HOLD_MAX / TERN_FRAME_MAX;
	struct rig r;

	(void)state;
	rig_open(&r, &delayed, &delayed, 1);
	for (uint32_t i = 0; i < fit + 5; i++)
		assert_int_equal(send_frame(&r, i, TERN_FRAME_MAX, 0), 0);
	assert_int_equal(stats_of(&r, 0).queue_drops, 5);
	/* The bound is both directions' together. */
	push_frame(&r, 0, 64, 0);
	assert_int_equal(stats_of(&r, 1).queue_drops, 1);
	drive(&r, TERN_SEC);
	assert_int_equal(r.tl.sent.n, fit);
	assert_int_equal(stats_of(&r, 0).delivered, fit);
	/* Room again once they left. */
	push_frame(&r, 1, 64, TERN_SEC);
	drive(&r, TERN_TIME_NONE);
	assert_int_equal(r.up.n, 1);
	assert_int_equal(r.up.e[0].counter, 1);
	rig_close(&r);
}

/* Frames still held are freed with the wrapper (ASan would see a leak). */
static void test_destroy_with_frames_held(void **state)
{
	tern_sim_path delayed = {.delay = TERN_SEC, .dup = 0.5};
	struct rig r;

	(void)state;
	rig_open(&r, &delayed, &delayed, 1);
	for (uint32_t i = 0; i < 100; i++) {
		send_frame(&r, i, 500, i);
		push_frame(&r, i, 500, i);
	}
	assert_int_equal(tern_link_next_deadline(r.w), TERN_SEC);
	rig_close(&r);
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

#define ROUGH_FRAMES 5000
#define ROUGH_PERIOD (50 * TERN_USEC)

/* Traffic both ways through a wrapper, one frame each way every period;
 * out and up receive the two logs, st (unless NULL) the two directions'
 * counters. */
static void rough_run_stats(uint64_t seed, const tern_sim_path *o,
			    const tern_sim_path *i, struct log *out,
			    struct log *up, tern_sim_path_stats *st)
{
	struct rig r;

	rig_open(&r, o, i, seed);
	for (uint32_t k = 0; k < ROUGH_FRAMES; k++) {
		tern_time t = k * ROUGH_PERIOD;
		drive(&r, t);
		send_frame(&r, k, 24 + k % 1000, t);
		push_frame(&r, k, 24 + k % 500, t);
	}
	drive(&r, TERN_TIME_NONE);
	if (st) {
		st[0] = stats_of(&r, 0);
		st[1] = stats_of(&r, 1);
	}
	*out = r.tl.sent;
	*up = r.up;
	memset(&r.tl.sent, 0, sizeof(r.tl.sent));
	memset(&r.up, 0, sizeof(r.up));
	rig_close(&r);
}

static void rough_run(uint64_t seed, const tern_sim_path *o,
		      const tern_sim_path *i, struct log *out, struct log *up)
{
	rough_run_stats(seed, o, i, out, up, NULL);
}

static void test_same_seed_same_fates(void **state)
{
	struct log o1, u1, o2, u2, o3, u3;

	(void)state;
	rough_run(99, &rough, &rough, &o1, &u1);
	rough_run(99, &rough, &rough, &o2, &u2);
	rough_run(100, &rough, &rough, &o3, &u3);
	assert_true(o1.n > 3000 && u1.n > 3000);
	assert_true(logs_equal(&o1, &o2));
	assert_true(logs_equal(&u1, &u2));
	assert_false(logs_equal(&o1, &o3));
	assert_false(logs_equal(&u1, &u3));
	/* The two directions draw from different streams. */
	assert_false(logs_equal(&o1, &u1));
	log_free(&o1);
	log_free(&u1);
	log_free(&o2);
	log_free(&u2);
	log_free(&o3);
	log_free(&u3);
}

/* Retuning one direction leaves the other's fates as they were. */
static void test_directions_independent(void **state)
{
	tern_sim_path other = {.loss = 0.5, .dup = 0.5, .delay = TERN_SEC};
	struct log o1, u1, o2, u2, o3, u3;

	(void)state;
	rough_run(11, &rough, &rough, &o1, &u1);
	rough_run(11, &rough, &other, &o2, &u2);
	rough_run(11, &other, &rough, &o3, &u3);
	assert_true(logs_equal(&o1, &o2));
	assert_true(logs_equal(&u1, &u3));
	assert_false(logs_equal(&u1, &u2));
	log_free(&o1);
	log_free(&u1);
	log_free(&o2);
	log_free(&u2);
	log_free(&o3);
	log_free(&u3);
}

/* The draw discipline: turning duplication on changes no loss. */
static void test_draws_independent_of_settings(void **state)
{
	tern_sim_path lossy = {.loss = 0.3};
	tern_sim_path more = {.loss = 0.3, .dup = 0.5, .corrupt = 0.5};
	struct impair_dir a, b;
	struct impair_fate fa, fb;

	(void)state;
	impair_init(&a, &lossy, impair_stream(5, 0, 0));
	impair_init(&b, &more, impair_stream(5, 0, 0));
	for (int i = 0; i < 10000; i++) {
		impair_decide(&a, 100, 0, &fa);
		impair_decide(&b, 100, 0, &fb);
		assert_int_equal(fa.drop, fb.drop);
	}
	assert_int_equal(a.stats.lost, b.stats.lost);
	assert_true(b.stats.duplicated > 0);
}

/* ---- the same fates as the simulator ---- */

/* A second rough path, for the other direction. */
static const tern_sim_path choppy = {
	.delay = TERN_MSEC,
	.jitter = 3 * TERN_MSEC,
	.loss = 0.05,
	.dup = 0.2,
	.reorder = 0.2,
	.reorder_delay = 700 * TERN_USEC,
	.corrupt = 0.3,
	.rate_bps = 20000000,
};

struct sim_pacer {
	tern_sim *sim;
	tern_link *a, *b;
	uint32_t k;
};

/* The frames rough_run sends out (a -> b) and pushes in (b -> a). */
static void sim_tick(void *arg, tern_time now)
{
	struct sim_pacer *p = arg;
	static uint8_t buf[2048];
	tern_iov iov = {buf, 24 + p->k % 1000};

	make_frame(buf, iov.len, ADDR_B, p->k);
	assert_int_equal(tern_link_send(p->a, &iov, 1, NULL, now), 0);
	iov.len = 24 + p->k % 500;
	make_frame(buf, iov.len, ADDR_A, p->k);
	assert_int_equal(tern_link_send(p->b, &iov, 1, NULL, now), 0);
	if (++p->k < ROUGH_FRAMES)
		assert_int_equal(
			tern_sim_at(p->sim, now + ROUGH_PERIOD, sim_tick, p),
			0);
}

/* The same traffic over a simulated link 0 (a -> b: ab, b -> a: ba). */
static void sim_run(uint64_t seed, const tern_sim_path *ab,
		    const tern_sim_path *ba, struct log *at_b, struct log *at_a,
		    tern_sim_path_stats *st)
{
	struct sim_pacer p = {tern_sim_new(seed), NULL, NULL, 0};

	assert_non_null(p.sim);
	p.a = tern_sim_port(p.sim, ADDR_A, 1500);
	p.b = tern_sim_port(p.sim, ADDR_B, 1500);
	assert_int_equal(tern_sim_join(p.sim, p.a, p.b, ab, ba), 0);
	memset(at_a, 0, sizeof(*at_a));
	memset(at_b, 0, sizeof(*at_b));
	tern_link_set_rx(p.a, on_rx, at_a);
	tern_link_set_rx(p.b, on_rx, at_b);
	assert_int_equal(tern_sim_at(p.sim, 0, sim_tick, &p), 0);
	assert_int_equal(tern_sim_run(p.sim, TERN_TIME_NONE), 1);
	assert_int_equal(tern_sim_path_stats_get(p.sim, 0, 0, &st[0]), 0);
	assert_int_equal(tern_sim_path_stats_get(p.sim, 0, 1, &st[1]), 0);
	tern_sim_free(p.sim);
}

static void test_same_fates_as_simulator(void **state)
{
	tern_sim_path_stats ws[2], ss[2];
	struct log wo, wu, sb, sa;

	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		rough_run_stats(seed, &rough, &choppy, &wo, &wu, ws);
		sim_run(seed, &rough, &choppy, &sb, &sa, ss);
		assert_true(wo.n > 3000 && wu.n > 3000);
		assert_true(ws[0].corrupted > 0 && ws[1].reordered > 0);
		assert_true(logs_equal(&wo, &sb));
		assert_true(logs_equal(&wu, &sa));
		assert_memory_equal(&ws[0], &ss[0], sizeof(ws[0]));
		assert_memory_equal(&ws[1], &ss[1], sizeof(ws[1]));
		log_free(&wo);
		log_free(&wu);
		log_free(&sb);
		log_free(&sa);
	}
}

/* ---- offloads: none offered, frames with them made wire frames ---- */

/* A TCP/IPv4 packet from ADDR_A to ADDR_B with plen payload bytes, its
 * checksum left partial (the pseudo-header sum), as an offloading TUN
 * hands it up. */
static size_t partial_packet(uint8_t *p, size_t plen)
{
	tern_tcp_hdr th = {.sport = 1,
			   .dport = 2,
			   .seq = 100,
			   .ack = 1,
			   .flags = TERN_TCP_ACK,
			   .win = 500};
	tern_ipv4_hdr ih = {.ttl = 64,
			    .proto = TERN_IPPROTO_TCP,
			    .src = ADDR_A,
			    .dst = ADDR_B};
	tern_csum c;
	size_t tl = tern_tcp_emit(p + 20, 60, &th);

	for (size_t i = 0; i < plen; i++)
		p[20 + tl + i] = (uint8_t)(i * 3);
	tern_ipv4_emit(p, 20, &ih, tl + plen);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, ADDR_A, ADDR_B, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + plen));
	tern_store16(p + 36, (uint16_t)~tern_csum_final(&c));
	return 20 + tl + plen;
}

struct checked {
	int n, good, with_meta;
	size_t payload;
};

static void on_check(void *ctx, const uint8_t *frame, size_t len,
		     const tern_frame_meta *meta, tern_time now)
{
	struct checked *c = ctx;
	tern_ipv4_hdr ih;
	tern_tcp_hdr th;

	(void)now;
	c->n++;
	c->with_meta += meta != NULL;
	if (tern_ipv4_parse(frame, len, &ih) == 0 &&
	    tern_tcp_parse(ih.payload, ih.payload_len, ih.src, ih.dst, true,
			   &th) == 0) {
		c->good++;
		c->payload += th.payload_len;
	}
}

/* Inner offers TSO and checksum offload; the wrapper offers neither. A
 * GSO packet with a partial checksum from inner goes up as wire frames,
 * each with its checksums complete and no meta, each dealt its own fate;
 * one sent with meta reaches inner the same way. */
static void test_offloads_made_wire_frames(void **state)
{
	static uint8_t p[20000];
	static struct rig r;
	struct checked up = {0};
	tern_frame_meta m = {.gso_size = 1448,
			     .flags = TERN_FRAME_CSUM_PARTIAL |
				      TERN_FRAME_CSUM_OK,
			     .csum_start = 20,
			     .csum_offset = 16};
	size_t len = partial_packet(p, 10000);
	tern_iov iov[2] = {{p, 40}, {p + 40, 0}};

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tl.link.ops = &tl_ops;
	r.tl.link.mtu = 1500;
	r.tl.link.tso_max = 65535;
	r.tl.link.tx_csum = true;
	r.tl.deadline = TERN_TIME_NONE;
	r.w = tern_impair_wrap(&r.tl.link, NULL, NULL, 1, NULL);
	assert_non_null(r.w);
	assert_int_equal(r.w->tso_max, 0);
	assert_false(r.w->tx_csum);
	tern_link_set_rx(r.w, on_check, &up);
	tern_link_deliver(&r.tl.link, p, len, &m, 0);
	assert_int_equal(up.n, 7);
	assert_int_equal(up.good, 7);
	assert_int_equal(up.with_meta, 0);
	assert_int_equal(up.payload, 10000);
	assert_int_equal(stats_of(&r, 1).frames, 7);
	/* Out: 5000 bytes at 1000, in pieces. */
	len = partial_packet(p, 5000);
	iov[1].len = len - 40;
	m.gso_size = 1000;
	m.flags = TERN_FRAME_CSUM_PARTIAL;
	assert_int_equal(tern_link_send(r.w, iov, 2, &m, 0), 0);
	assert_int_equal(r.tl.sent.n, 5);
	assert_int_equal(r.tl.sent.with_meta, 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(r.tl.sent.e[i].len, 40 + 1000);
	up = (struct checked){0};
	on_check(&up, r.tl.sent.last, 1040, NULL, 0);
	assert_int_equal(up.good, 1);
	/* What cannot be cut is refused (out) or goes up as it came (in). */
	p[9] = 17;
	assert_int_equal(tern_link_send(r.w, iov, 2, &m, 0), TERN_ERR_INVAL);
	up = (struct checked){0};
	tern_link_deliver(&r.tl.link, p, len, &m, 0);
	assert_int_equal(up.n, 1);
	assert_int_equal(up.with_meta, 0);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perfect_passes_through),
		cmocka_unit_test(test_forwards_inner_ops),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_delay_exact),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_dup_arrives_twice),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_corrupt_one_bit),
		cmocka_unit_test(test_rate_spacing),
		cmocka_unit_test(test_late_poll_keeps_order),
		cmocka_unit_test(test_hold_bound),
		cmocka_unit_test(test_destroy_with_frames_held),
		cmocka_unit_test(test_same_seed_same_fates),
		cmocka_unit_test(test_directions_independent),
		cmocka_unit_test(test_draws_independent_of_settings),
		cmocka_unit_test(test_same_fates_as_simulator),
		cmocka_unit_test(test_offloads_made_wire_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
