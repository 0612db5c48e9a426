/* tern impair link: the simulator's impairments around any link.
 *
 * Each direction deals every frame its fate with the simulator's own
 * decision (impair.c), on a random stream keyed like a simulated link's,
 * so a path and a seed treat frames here exactly as the simulator's link
 * 0 does. A frame due now passes straight through, without a copy; one
 * that is held back (delay, jitter, reordering, the rate limiter, a
 * duplicate due later) is copied and waits on its direction's min-heap
 * until poll() finds it due.
 *
 * Impairments act on what a wire carries: the wrapper offers no offloads,
 * and a frame that comes with them anyway (a GSO packet, a partial
 * checksum from an offloading TUN) is first cut and summed in software
 * (offload.c), each piece dealt its own fate.
 *
 * A test and lab device, like the simulator: it allocates with malloc.
 */
#include <stdlib.h>
#include <string.h>

#include <tern/link.h>
#include <tern/sim.h>

#include "link/impair.h"
#include "link/offload.h"

/* All frames held, both directions: enough for a few hundred ms of a
 * fast link's delay, small enough that a stalled poll cannot eat memory. */
#define HOLD_MAX ((size_t)4 << 20)

enum { DIR_OUT, DIR_IN };

/* A frame waiting for its time. */
struct held {
	tern_time t;
	uint64_t seq; /* orders frames due at one instant: first held first */
	size_t len;
	uint8_t data[];
};

/* One direction: its fates and the frames it holds, a min-heap on
 * (t, seq). */
struct side {
	struct impair_dir im;
	struct held **heap;
	size_t n, cap;
};

struct impair_link {
	tern_link link; /* first: a tern_link * is a struct impair_link * */
	tern_link *inner;
	struct side side[2]; /* DIR_OUT, DIR_IN */
	size_t held_bytes;   /* frame bytes held in both directions */
	uint64_t seq;
	/* Frames with meta made wire frames: out's gathered pieces, and
	 * each direction's pieces as they are cut (TERN_FRAME_MAX bytes
	 * each). */
	uint8_t *flat, *cut[2];
};

/* ---- the heap of one direction ---- */

static bool earlier(const struct held *a, const struct held *b)
{
	return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void swap_held(struct held **a, struct held **b)
{
	struct held *tmp = *a;
	*a = *b;
	*b = tmp;
}

static int heap_push(struct side *s, struct held *h)
{
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct held **heap = realloc(s->heap, cap * sizeof(*heap));
		if (!heap)
			return TERN_ERR_NOMEM;
		s->heap = heap;
		s->cap = cap;
	}
	i = s->n++;
	s->heap[i] = h;
	while (i > 0 && earlier(s->heap[i], s->heap[(i - 1) / 2])) {
		swap_held(&s->heap[i], &s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct held *heap_pop(struct side *s)
{
	struct held **h = s->heap, *top = h[0];
	size_t i = 0, n = --s->n;

	h[0] = h[n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && earlier(h[l], h[m]))
			m = l;
		if (r < n && earlier(h[r], h[m]))
			m = r;
		if (m == i)
			break;
		swap_held(&h[i], &h[m]);
		i = m;
	}
	return top;
}

/* ---- passing frames on ---- */

static void gather(uint8_t *dst, const tern_iov *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].len)
			memcpy(dst, iov[i].base, iov[i].len);
		dst += iov[i].len;
	}
}

/* Out: to the inner link; in: up to the wrapper's owner, which takes one
 * flat frame (every frame in that direction is a single piece). */
static int pass_on(struct impair_link *w, int dir, const tern_iov *iov,
		   int iovcnt, tern_time now)
{
	w->side[dir].im.stats.delivered++;
	if (dir == DIR_OUT)
		return tern_link_send(w->inner, iov, iovcnt, NULL, now);
	tern_link_deliver(&w->link, iov[0].base, iov[0].len, NULL, now);
	return 0;
}

/* Of the directions in mask (bit 1 << dir), the one whose next frame is
 * due first and by now; -1 if none. */
static int due_side(const struct impair_link *w, tern_time now, int mask)
{
	const struct held *best = NULL;
	int dir = -1;

	for (int d = 0; d < 2; d++) {
		const struct side *s = &w->side[d];
		if (!(mask & 1 << d) || s->n == 0 || s->heap[0]->t > now)
			continue;
		if (!best || earlier(s->heap[0], best)) {
			best = s->heap[0];
			dir = d;
		}
	}
	return dir;
}

/* Hands on the frames of the directions in mask due by now, in the order
 * they are due (one instant: in the order they were held), as the
 * simulator would. A frame is off the heap before it goes: passing it on
 * may send or receive more. Inner's errors have nobody to go to here. */
static void release(struct impair_link *w, tern_time now, int mask)
{
	int dir;

	while ((dir = due_side(w, now, mask)) >= 0) {
		struct held *h = heap_pop(&w->side[dir]);
		tern_iov piece = {.base = h->data, .len = h->len};

		w->held_bytes -= h->len;
		(void)pass_on(w, dir, &piece, 1, now);
		free(h);
	}
}

/* Copies a frame (corrupted as its fate says) to leave at t. A frame the
 * wrapper cannot hold counts as a queue drop, as the frame a full rate
 * limiter refuses does. */
static int hold(struct impair_link *w, int dir, const tern_iov *iov, int iovcnt,
		size_t len, const struct impair_fate *f, tern_time t)
{
	struct side *s = &w->side[dir];
	struct held *h;

	if (len > HOLD_MAX - w->held_bytes) {
		s->im.stats.queue_drops++;
		return 0;
	}
	h = malloc(sizeof(*h) + len);
	if (h) {
		h->t = t;
		h->seq = w->seq++;
		h->len = len;
		gather(h->data, iov, iovcnt);
		impair_corrupt(f, h->data);
	}
	if (!h || heap_push(s, h) != 0) {
		free(h);
		s->im.stats.queue_drops++;
		return TERN_ERR_NOMEM;
	}
	w->held_bytes += len;
	return 0;
}

/* Passes a frame due now on at once: as it came (no copy), or as a
 * corrupted copy, the caller's bytes being read-only. */
static int pass_now(struct impair_link *w, int dir, const tern_iov *iov,
		    int iovcnt, size_t len, const struct impair_fate *f,
		    tern_time now)
{
	uint8_t *copy = NULL;
	tern_iov piece;
	int err, err2 = 0;

	if (f->corrupt) {
		copy = malloc(len);
		if (!copy)
			return TERN_ERR_NOMEM;
		gather(copy, iov, iovcnt);
		impair_corrupt(f, copy);
		piece.base = copy;
		piece.len = len;
		iov = &piece;
		iovcnt = 1;
	}
	err = pass_on(w, dir, iov, iovcnt, now);
	if (f->dup)
		err2 = pass_on(w, dir, iov, iovcnt, now);
	free(copy);
	return err ? err : err2;
}

/* Deals a frame entering direction dir at now its fate and carries it
 * out. The direction's frames already due leave first, so that frames
 * due at one instant keep the order they entered in; the other
 * direction's wait for poll: delivering a frame up from inside the
 * owner's own send would re-enter it half-way through. */
static int judge(struct impair_link *w, int dir, const tern_iov *iov,
		 int iovcnt, size_t len, tern_time now)
{
	struct impair_fate f;
	int err;

	release(w, now, 1 << dir);
	impair_decide(&w->side[dir].im, len, now, &f);
	if (f.drop != IMPAIR_PASS)
		return 0;
	if (f.at <= now && (!f.dup || f.dup_at <= now))
		return pass_now(w, dir, iov, iovcnt, len, &f, now);
	err = hold(w, dir, iov, iovcnt, len, &f, f.at);
	if (err == 0 && f.dup)
		err = hold(w, dir, iov, iovcnt, len, &f, f.dup_at);
	return err;
}

/* ---- frames with offloads, made wire frames ---- */

struct cutting {
	struct impair_link *w;
	int dir, err;
	tern_time now;
};

static void judge_piece(void *ctx, const uint8_t *frame, size_t len)
{
	struct cutting *c = ctx;
	tern_iov piece = {.base = frame, .len = len};
	int err = judge(c->w, c->dir, &piece, 1, len, c->now);

	if (err && !c->err)
		c->err = err;
}

static bool has_offload(const tern_frame_meta *meta)
{
	return meta &&
	       (meta->gso_size || (meta->flags & TERN_FRAME_CSUM_PARTIAL));
}

/* Cuts and sums frame (flat, len bytes) into wire frames, each judged in
 * direction dir: 0, the first error judging one (in: only NOMEM), or
 * TERN_ERR_INVAL, nothing judged, if it is not what meta says. */
static int judge_cut(struct impair_link *w, int dir, const uint8_t *frame,
		     size_t len, const tern_frame_meta *meta, tern_time now)
{
	struct cutting c = {.w = w, .dir = dir, .now = now};

	if (frame_to_wire(frame, len, meta, w->cut[dir], TERN_FRAME_MAX,
			  judge_piece, &c) != 0)
		return TERN_ERR_INVAL;
	return c.err;
}

/* ---- the link ---- */

static int impair_send(tern_link *link, const tern_iov *iov, int iovcnt,
		       const tern_frame_meta *meta, tern_time now)
{
	struct impair_link *w = (struct impair_link *)link;
	size_t len = 0;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return TERN_ERR_INVAL;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].len;
	/* Refused before any draw, as the simulator refuses it. */
	if (len > TERN_FRAME_MAX)
		return TERN_ERR_INVAL;
	if (!has_offload(meta))
		return judge(w, DIR_OUT, iov, iovcnt, len, now);
	gather(w->flat, iov, iovcnt);
	return judge_cut(w, DIR_OUT, w->flat, len, meta, now);
}

/* Installed as inner's receive hook. A frame that cannot be cut goes up
 * as it came, without meta: the stack's checks see what it is. */
static void impair_rx(void *ctx, const uint8_t *frame, size_t len,
		      const tern_frame_meta *meta, tern_time now)
{
	struct impair_link *w = ctx;
	tern_iov piece = {.base = frame, .len = len};

	/* A frame the wrapper cannot hold is counted; nobody to tell. */
	if (has_offload(meta)) {
		int err = judge_cut(w, DIR_IN, frame, len, meta, now);
		if (err != TERN_ERR_INVAL)
			return;
	}
	(void)judge(w, DIR_IN, &piece, 1, len, now);
}

static void free_side(struct side *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->heap[i]);
	free(s->heap);
}

static void free_buffers(struct impair_link *w)
{
	free(w->flat);
	free(w->cut[DIR_OUT]);
	free(w->cut[DIR_IN]);
}

static void impair_destroy(tern_link *link)
{
	struct impair_link *w = (struct impair_link *)link;

	/* Inner may outlive the wrapper (a simulator port): it must not
	 * call a freed wrapper back. */
	tern_link_set_rx(w->inner, NULL, NULL);
	free_side(&w->side[DIR_OUT]);
	free_side(&w->side[DIR_IN]);
	free_buffers(w);
	tern_link_destroy(w->inner);
	free(w);
}

/* What inner waits on and reads is the wrapper's too: its frames come
 * back through impair_rx. */
static int impair_fd(tern_link *link)
{
	return tern_link_fd(((struct impair_link *)link)->inner);
}

static int impair_recv(tern_link *link, int budget, tern_time now)
{
	return tern_link_recv(((struct impair_link *)link)->inner, budget, now);
}

static tern_time impair_next_deadline(tern_link *link)
{
	struct impair_link *w = (struct impair_link *)link;
	tern_time next = tern_link_next_deadline(w->inner);

	for (int d = 0; d < 2; d++) {
		if (w->side[d].n && w->side[d].heap[0]->t < next)
			next = w->side[d].heap[0]->t;
	}
	return next;
}

static void impair_poll(tern_link *link, tern_time now)
{
	struct impair_link *w = (struct impair_link *)link;

	release(w, now, 1 << DIR_OUT | 1 << DIR_IN);
	tern_link_poll(w->inner, now);
}

static void impair_advise(tern_link *link, uint32_t dst, tern_time now)
{
	tern_link_advise(((struct impair_link *)link)->inner, dst, now);
}

static const tern_link_ops impair_ops = {
	.send = impair_send,
	.destroy = impair_destroy,
	.fd = impair_fd,
	.recv = impair_recv,
	.next_deadline = impair_next_deadline,
	.poll = impair_poll,
	.advise = impair_advise,
};

static struct impair_link *wrapper_new(void)
{
	struct impair_link *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->flat = malloc(TERN_FRAME_MAX);
	w->cut[DIR_OUT] = malloc(TERN_FRAME_MAX);
	w->cut[DIR_IN] = malloc(TERN_FRAME_MAX);
	if (w->flat && w->cut[DIR_OUT] && w->cut[DIR_IN])
		return w;
	free_buffers(w);
	free(w);
	return NULL;
}

/* The wrapper's streams are the simulator's link 0: out is a -> b, in is
 * b -> a, so a wrapper and a simulated link deal the same fates. No
 * offloads are offered (tso_max and tx_csum stay 0). */
tern_link *tern_impair_wrap(tern_link *inner, const tern_sim_path *out,
			    const tern_sim_path *in, uint64_t seed, int *err)
{
	struct impair_link *w = NULL;
	int e = TERN_ERR_INVAL;

	if (inner && (!out || impair_path_valid(out)) &&
	    (!in || impair_path_valid(in))) {
		w = wrapper_new();
		e = TERN_ERR_NOMEM;
	}
	if (!w) {
		if (err)
			*err = e;
		return NULL;
	}
	w->inner = inner;
	impair_init(&w->side[DIR_OUT].im, out, impair_stream(seed, 0, 0));
	impair_init(&w->side[DIR_IN].im, in, impair_stream(seed, 0, 1));
	w->link.ops = &impair_ops;
	w->link.mtu = inner->mtu;
	w->link.name = inner->name;
	tern_link_set_rx(inner, impair_rx, w);
	return &w->link;
}

int tern_impair_stats(const tern_link *wrapper, int dir,
		      struct tern_sim_path_stats *out)
{
	const struct impair_link *w = (const struct impair_link *)wrapper;

	if (!wrapper || wrapper->ops != &impair_ops || dir < 0 || dir > 1 ||
	    !out)
		return TERN_ERR_INVAL;
	*out = w->side[dir].im.stats;
	return 0;
}
