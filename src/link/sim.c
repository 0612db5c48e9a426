/* tern sim: a simulated network on a virtual clock.
 *
 * Frames travel between ports over links; each direction of a link deals
 * each frame its fate (impair.c: loss -> corruption -> rate limit ->
 * delay/jitter -> reorder -> duplication), and the frame becomes an event
 * on a binary min-heap. tern_sim_run() pops events in (time, kind,
 * sequence) order and wakes nodes at their deadlines. Nothing here reads a
 * clock, calls rand() or depends on addresses, so a seed and a sequence of
 * calls give one run, byte for byte.
 *
 * The simulator is a test device, not the engine: it allocates with plain
 * malloc/free.
 *
 * A port may offer offloads (tern_sim_port_set_offload): its TSO frames
 * and partial checksums then travel as they are, one big frame, and
 * arrive as a GRO packet would, flagged CSUM_OK, so two stacks exchange
 * 64 KB segments and sum nothing. A frame the path corrupts gets its
 * checksum finished first, as a NIC would have, and arrives plain.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/link.h>
#include <tern/sim.h>

#include "link/impair.h"
#include "link/offload.h"

#define IPV4_HEADER_MIN 20
#define IPV4_DST_OFFSET 16
#define IP_PACKET_MAX 65535

/* ---- the network's objects ---- */

struct port {
	tern_link link; /* first: a tern_link * is a struct port * */
	tern_sim *sim;
	uint32_t addr;
	uint64_t unroutable;
	char name[32];
};

/* A frame's offloads on its way: as sent (NULL: plain). */
struct frame_meta {
	bool on;
	tern_frame_meta m;
};

/* One direction of a link: its impairments and where it leads. */
struct dir {
	struct impair_dir im;
	struct port *to;
};

struct simlink {
	struct port *end[2];
	struct dir dir[2]; /* dir[0]: end[0] -> end[1] */
};

/* The kind orders events at one instant: frames before callbacks. */
enum ev_kind { EV_FRAME, EV_CALL };

struct event {
	tern_time t;
	uint64_t seq;
	enum ev_kind kind;
	union {
		struct {
			struct port *to;
			uint8_t *data;
			size_t len;
			int link, dir; /* link -1: injected */
			struct frame_meta meta;
		} frame;
		struct {
			void (*fn)(void *arg, tern_time now);
			void *arg;
		} call;
	};
};

struct node {
	tern_sim_node_ops ops;
	void *ctx;
	bool live; /* removal during a run only clears this */
};

struct tern_sim {
	tern_time now;
	uint64_t seed;
	uint64_t seq; /* global insertion order of events */
	struct port **ports;
	size_t nports, cap_ports;
	struct simlink *links;
	size_t nlinks, cap_links;
	struct node *nodes;
	size_t nnodes, cap_nodes;
	struct event *heap;
	size_t nheap, cap_heap;
	bool running;
};

/* Makes room for `need` elements of `size` bytes; NULL leaves arr as is. */
static void *reserve(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	arr = realloc(arr, n * size);
	if (arr)
		*cap = n;
	return arr;
}

/* ---- the event heap ---- */

static bool before(const struct event *a, const struct event *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->seq < b->seq;
}

static void swap_events(struct event *a, struct event *b)
{
	struct event tmp = *a;
	*a = *b;
	*b = tmp;
}

static int push_event(tern_sim *sim, struct event ev)
{
	struct event *h;
	size_t i;

	h = reserve(sim->heap, &sim->cap_heap, sim->nheap + 1, sizeof(*h));
	if (!h)
		return TERN_ERR_NOMEM;
	sim->heap = h;
	ev.seq = sim->seq++;
	i = sim->nheap++;
	h[i] = ev;
	while (i > 0 && before(&h[i], &h[(i - 1) / 2])) {
		swap_events(&h[i], &h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct event pop_event(tern_sim *sim)
{
	struct event *h = sim->heap;
	struct event top = h[0];
	size_t i = 0, n = --sim->nheap;

	h[0] = h[n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && before(&h[l], &h[m]))
			m = l;
		if (r < n && before(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		swap_events(&h[i], &h[m]);
		i = m;
	}
	return top;
}

static int push_frame(tern_sim *sim, tern_time t, struct port *to,
		      uint8_t *data, size_t len, int link, int dir,
		      const struct frame_meta *meta)
{
	struct event ev = {.t = t, .kind = EV_FRAME};

	if (meta)
		ev.frame.meta = *meta;
	ev.frame.to = to;
	ev.frame.data = data;
	ev.frame.len = len;
	ev.frame.link = link;
	ev.frame.dir = dir;
	return push_event(sim, ev);
}

/* ---- one direction's frames ---- */

/* Queues the frame's copies for arrival, the copy (if any) right after
 * the first. Takes ownership of data. */
static int schedule(tern_sim *sim, const struct impair_fate *f, int link,
		    int dir, uint8_t *data, size_t len,
		    const struct frame_meta *meta)
{
	struct port *to = sim->links[link].dir[dir].to;
	uint8_t *copy = NULL;
	int err;

	if (f->dup) {
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, data, len);
	}
	err = push_frame(sim, f->at, to, data, len, link, dir, meta);
	if (err) {
		free(data);
		free(copy);
		return err;
	}
	if (copy &&
	    push_frame(sim, f->dup_at, to, copy, len, link, dir, meta) != 0)
		free(copy);
	return 0;
}

/* A corrupted frame must be caught by the receiver's checksum: a partial
 * one is finished first (the sending NIC's work), and it arrives plain. */
static int transmit(tern_sim *sim, int link, int dir, uint8_t *data, size_t len,
		    struct frame_meta *meta)
{
	struct impair_fate f;

	impair_decide(&sim->links[link].dir[dir].im, len, sim->now, &f);
	if (f.drop != IMPAIR_PASS) {
		free(data);
		return 0;
	}
	if (f.corrupt && meta->on) {
		if (meta->m.flags & TERN_FRAME_CSUM_PARTIAL)
			(void)frame_csum_complete(data, len, &meta->m);
		meta->on = false;
	}
	impair_corrupt(&f, data);
	return schedule(sim, &f, link, dir, data, len, meta);
}

/* ---- ports ---- */

static const tern_link_ops port_ops;

static struct port *as_port(const tern_sim *sim, const tern_link *link)
{
	struct port *p = (struct port *)link;

	if (!link || link->ops != &port_ops || (sim && p->sim != sim))
		return NULL;
	return p;
}

/* The offloads a frame is sent with, if the port offers them: false for
 * one it does not. */
static bool take_meta(const struct port *p, const tern_frame_meta *meta,
		      size_t len, struct frame_meta *out)
{
	out->on = meta &&
		  (meta->gso_size || (meta->flags & TERN_FRAME_CSUM_PARTIAL));
	if (!out->on)
		return true;
	if ((meta->gso_size && len > p->link.tso_max) ||
	    ((meta->flags & TERN_FRAME_CSUM_PARTIAL) && !p->link.tx_csum))
		return false;
	out->m = *meta;
	return true;
}

/* The link and direction from port `from` to the port owning addr. */
static int route(const tern_sim *sim, const struct port *from, uint32_t addr,
		 int *dir)
{
	for (size_t i = 0; i < sim->nlinks; i++) {
		const struct simlink *l = &sim->links[i];
		for (int d = 0; d < 2; d++) {
			if (l->end[d] == from && l->end[!d]->addr == addr) {
				*dir = d;
				return (int)i;
			}
		}
	}
	return -1;
}

static uint8_t *gather(const tern_iov *iov, int iovcnt, size_t *len)
{
	size_t total = 0, off = 0;
	uint8_t *buf;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].len;
	*len = total;
	if (total > TERN_FRAME_MAX)
		return NULL;
	buf = malloc(total ? total : 1);
	for (int i = 0; buf && i < iovcnt; i++) {
		if (iov[i].len)
			memcpy(buf + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	return buf;
}

static uint32_t read_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The sim's own clock times the frame; `now` is the caller's view of it. */
static int port_send(tern_link *link, const tern_iov *iov, int iovcnt,
		     const tern_frame_meta *meta, tern_time now)
{
	struct port *p = as_port(NULL, link);
	tern_sim *sim = p->sim;
	struct frame_meta fm;
	uint8_t *data;
	size_t len;
	int l = -1, dir = 0;

	(void)now;
	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return TERN_ERR_INVAL;
	data = gather(iov, iovcnt, &len);
	if (!data)
		return len > TERN_FRAME_MAX ? TERN_ERR_INVAL : TERN_ERR_NOMEM;
	if (!take_meta(p, meta, len, &fm)) {
		free(data);
		return TERN_ERR_INVAL;
	}
	if (len >= IPV4_HEADER_MIN)
		l = route(sim, p, read_be32(data + IPV4_DST_OFFSET), &dir);
	if (l < 0) {
		p->unroutable++;
		free(data);
		return 0;
	}
	return transmit(sim, l, dir, data, len, &fm);
}

/* Ports belong to the network: tern_sim_free releases them. */
static void port_destroy(tern_link *link)
{
	(void)link;
}

static const tern_link_ops port_ops = {
	.send = port_send,
	.destroy = port_destroy,
};

tern_link *tern_sim_port(tern_sim *sim, uint32_t addr, uint32_t mtu)
{
	struct port **ports, *p;
	char text[16];

	ports = reserve(sim->ports, &sim->cap_ports, sim->nports + 1,
			sizeof(*ports));
	if (!ports)
		return NULL;
	sim->ports = ports;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sim = sim;
	p->addr = addr;
	tern_addr_format(addr, text, sizeof(text));
	snprintf(p->name, sizeof(p->name), "sim:%s", text);
	p->link.ops = &port_ops;
	p->link.mtu = mtu;
	p->link.name = p->name;
	sim->ports[sim->nports++] = p;
	return &p->link;
}

int tern_sim_port_set_offload(tern_link *port, bool on)
{
	struct port *p = as_port(NULL, port);

	if (!p)
		return TERN_ERR_INVAL;
	p->link.tso_max = on ? IP_PACKET_MAX : 0;
	p->link.tx_csum = on;
	return 0;
}

uint64_t tern_sim_port_unroutable(const tern_link *port)
{
	const struct port *p = as_port(NULL, port);

	return p ? p->unroutable : 0;
}

/* ---- links ---- */

static bool joined(const tern_sim *sim, const struct port *a,
		   const struct port *b)
{
	int dir;

	return route(sim, a, b->addr, &dir) >= 0 ||
	       route(sim, b, a->addr, &dir) >= 0;
}

static void init_dir(tern_sim *sim, size_t link, int d, struct port *to,
		     const tern_sim_path *path)
{
	struct dir *dir = &sim->links[link].dir[d];

	impair_init(&dir->im, path, impair_stream(sim->seed, link, d));
	dir->to = to;
}

/* Refuses a second link between a and b, and a link that would give one
 * port two peers with the same address (routing would be ambiguous). */
int tern_sim_join(tern_sim *sim, tern_link *a, tern_link *b,
		  const tern_sim_path *ab, const tern_sim_path *ba)
{
	struct port *pa = as_port(sim, a), *pb = as_port(sim, b);
	struct simlink *links;
	size_t i = sim->nlinks;

	if (!pa || !pb || pa == pb || pa->addr == pb->addr ||
	    joined(sim, pa, pb) || (ab && !impair_path_valid(ab)) ||
	    (ba && !impair_path_valid(ba)) || i > INT32_MAX)
		return TERN_ERR_INVAL;
	links = reserve(sim->links, &sim->cap_links, i + 1, sizeof(*links));
	if (!links)
		return TERN_ERR_NOMEM;
	sim->links = links;
	links[i].end[0] = pa;
	links[i].end[1] = pb;
	init_dir(sim, i, 0, pb, ab);
	init_dir(sim, i, 1, pa, ba);
	sim->nlinks++;
	return (int)i;
}

static struct dir *find_dir(const tern_sim *sim, int link, int dir)
{
	if (link < 0 || (size_t)link >= sim->nlinks || dir < 0 || dir > 1)
		return NULL;
	return &sim->links[link].dir[dir];
}

int tern_sim_set_path(tern_sim *sim, int link, int dir,
		      const tern_sim_path *path)
{
	struct dir *d = find_dir(sim, link, dir);
	static const tern_sim_path perfect;

	if (!d || (path && !impair_path_valid(path)))
		return TERN_ERR_INVAL;
	/* The queue's busy_until and the random stream carry on. */
	d->im.path = path ? *path : perfect;
	return 0;
}

int tern_sim_path_stats_get(const tern_sim *sim, int link, int dir,
			    tern_sim_path_stats *out)
{
	const struct dir *d = find_dir(sim, link, dir);

	if (!d || !out)
		return TERN_ERR_INVAL;
	*out = d->im.stats;
	return 0;
}

/* ---- the network ---- */

tern_sim *tern_sim_new(uint64_t seed)
{
	tern_sim *sim = calloc(1, sizeof(*sim));

	if (sim)
		sim->seed = seed;
	return sim;
}

void tern_sim_free(tern_sim *sim)
{
	if (!sim)
		return;
	assert(!sim->running);
	for (size_t i = 0; i < sim->nheap; i++) {
		if (sim->heap[i].kind == EV_FRAME)
			free(sim->heap[i].frame.data);
	}
	for (size_t i = 0; i < sim->nports; i++)
		free(sim->ports[i]);
	free(sim->heap);
	free(sim->ports);
	free(sim->links);
	free(sim->nodes);
	free(sim);
}

tern_time tern_sim_now(const tern_sim *sim)
{
	return sim->now;
}

uint64_t tern_sim_seed(const tern_sim *sim)
{
	return sim->seed;
}

int tern_sim_at(tern_sim *sim, tern_time t,
		void (*fn)(void *arg, tern_time now), void *arg)
{
	struct event ev = {.t = t, .kind = EV_CALL};

	if (!fn || t < sim->now || t == TERN_TIME_NONE)
		return TERN_ERR_INVAL;
	ev.call.fn = fn;
	ev.call.arg = arg;
	return push_event(sim, ev);
}

int tern_sim_inject(tern_sim *sim, tern_link *port, const void *frame,
		    size_t len, tern_time t)
{
	struct port *p = as_port(sim, port);
	uint8_t *data;
	int err;

	if (!p || (len && !frame) || len > TERN_FRAME_MAX || t < sim->now ||
	    t == TERN_TIME_NONE)
		return TERN_ERR_INVAL;
	data = malloc(len ? len : 1);
	if (!data)
		return TERN_ERR_NOMEM;
	if (len)
		memcpy(data, frame, len);
	err = push_frame(sim, t, p, data, len, -1, 0, NULL);
	if (err)
		free(data);
	return err;
}

/* ---- nodes ---- */

int tern_sim_add_node(tern_sim *sim, const tern_sim_node_ops *ops, void *ctx)
{
	struct node *nodes;

	if (!ops || !ops->next_deadline || !ops->run)
		return TERN_ERR_INVAL;
	nodes = reserve(sim->nodes, &sim->cap_nodes, sim->nnodes + 1,
			sizeof(*nodes));
	if (!nodes)
		return TERN_ERR_NOMEM;
	sim->nodes = nodes;
	nodes[sim->nnodes].ops = *ops;
	nodes[sim->nnodes].ctx = ctx;
	nodes[sim->nnodes].live = true;
	sim->nnodes++;
	return 0;
}

/* Drops removed nodes, keeping the others in the order they were added.
 * Only between instants, so that indices stay put while nodes run. */
static void sweep_nodes(tern_sim *sim)
{
	size_t j = 0;

	for (size_t i = 0; i < sim->nnodes; i++) {
		if (sim->nodes[i].live)
			sim->nodes[j++] = sim->nodes[i];
	}
	sim->nnodes = j;
}

void tern_sim_remove_node(tern_sim *sim, void *ctx)
{
	for (size_t i = 0; i < sim->nnodes; i++) {
		if (sim->nodes[i].ctx == ctx)
			sim->nodes[i].live = false;
	}
	if (!sim->running)
		sweep_nodes(sim);
}

/* ---- running ---- */

/* The earliest pending time, never before now; TERN_TIME_NONE if idle. */
static tern_time next_time(const tern_sim *sim)
{
	tern_time next = sim->nheap ? sim->heap[0].t : TERN_TIME_NONE;

	for (size_t i = 0; i < sim->nnodes; i++) {
		const struct node *n = &sim->nodes[i];
		tern_time d;
		if (!n->live)
			continue;
		d = n->ops.next_deadline(n->ctx);
		if (d < next)
			next = d;
	}
	if (next != TERN_TIME_NONE && next < sim->now)
		next = sim->now;
	return next;
}

/* A frame sent with offloads arrives as a GRO packet from a NIC that
 * checked its checksums: whole, with its gso_size, CSUM_OK. */
static void deliver(tern_sim *sim, struct event *ev)
{
	const struct frame_meta *fm = &ev->frame.meta;
	tern_frame_meta m = fm->m;

	m.flags |= TERN_FRAME_CSUM_OK;
	tern_link_deliver(&ev->frame.to->link, ev->frame.data, ev->frame.len,
			  fm->on ? &m : NULL, sim->now);
	free(ev->frame.data);
}

static void fire(tern_sim *sim, struct event *ev)
{
	if (ev->kind == EV_CALL) {
		ev->call.fn(ev->call.arg, sim->now);
		return;
	}
	if (ev->frame.link >= 0)
		sim->links[ev->frame.link]
			.dir[ev->frame.dir]
			.im.stats.delivered++;
	deliver(sim, ev);
}

/* Runs each node due at now once, in the order nodes were added. A node
 * must leave its deadline beyond now after run(): otherwise the clock
 * could never move on. */
static void run_due_nodes(tern_sim *sim, tern_time now)
{
	/* Nodes may be added or removed by run(): index, do not hold. */
	for (size_t i = 0; i < sim->nnodes; i++) {
		struct node n = sim->nodes[i];
		if (!n.live || n.ops.next_deadline(n.ctx) > now)
			continue;
		n.ops.run(n.ctx, now);
		assert(!sim->nodes[i].live || n.ops.next_deadline(n.ctx) > now);
	}
}

/* Everything due at the current instant: frames and callbacks in heap
 * order (frames first, each kind in insertion order), then nodes. What
 * they start at this same instant runs in the caller's next pass. */
static void run_instant(tern_sim *sim)
{
	while (sim->nheap > 0 && sim->heap[0].t <= sim->now) {
		struct event ev = pop_event(sim);
		fire(sim, &ev);
	}
	run_due_nodes(sim, sim->now);
}

int tern_sim_run(tern_sim *sim, tern_time until)
{
	int idle = 0;

	assert(!sim->running);
	sim->running = true;
	for (;;) {
		tern_time next;
		sweep_nodes(sim);
		next = next_time(sim);
		if (next == TERN_TIME_NONE) {
			idle = 1;
			break;
		}
		if (next > until) {
			if (until > sim->now)
				sim->now = until;
			break;
		}
		sim->now = next;
		run_instant(sim);
	}
	sim->running = false;
	return idle;
}
