/* TIME_WAIT records (timewait.h): an orphaned connection that reaches
 * TIME_WAIT hands its 4-tuple and the little TIME_WAIT needs (tcp_tw) to
 * a 60-byte record and is freed, as Linux hands a socket to an
 * inet_timewait_sock. Every wait lasts 2 MSL from its start, so the
 * records are kept in one list in the order their waits end: the first
 * is the next deadline, a restarted wait moves to the end, and expiry
 * is a walk from the front. */
#include <string.h>

#include "stack/stack.h"

#define BUCKETS_MIN 64

_Static_assert(sizeof(timewait_rec) == 60, "a record packs to 60 bytes");

static timewait_rec *rec(const tern_stack *s, uint32_t i)
{
	return &s->tw.chunks[(i - 1) / TIMEWAIT_CHUNK]
			    [(i - 1) % TIMEWAIT_CHUNK];
}

static uint64_t join(const uint32_t v[2])
{
	return (uint64_t)v[1] << 32 | v[0];
}

static void split(uint32_t v[2], uint64_t x)
{
	v[0] = (uint32_t)x;
	v[1] = (uint32_t)(x >> 32);
}

static tern_endpoint rec_local(const timewait_rec *r)
{
	return (tern_endpoint){r->laddr, r->lport};
}

static tern_endpoint rec_remote(const timewait_rec *r)
{
	return (tern_endpoint){r->raddr, r->rport};
}

static uint32_t rec_hash(const tern_stack *s, const timewait_rec *r)
{
	tern_endpoint l = rec_local(r), rm = rec_remote(r);

	return table_hash(s, &l, &rm);
}

/* ---- memory: chunks of records, a free list through hnext ---- */

static bool add_chunk(tern_stack *s)
{
	timewait_table *w = &s->tw;
	size_t n = w->nchunks + 1;
	timewait_rec **chunks = stack_alloc(s, n * sizeof(*chunks));
	timewait_rec *c = stack_alloc(s, TIMEWAIT_CHUNK * sizeof(*c));

	if (!chunks || !c) {
		stack_free(s, chunks, chunks ? n * sizeof(*chunks) : 0);
		stack_free(s, c, c ? TIMEWAIT_CHUNK * sizeof(*c) : 0);
		return false;
	}
	if (w->nchunks)
		memcpy(chunks, w->chunks, w->nchunks * sizeof(*chunks));
	stack_free(s, w->chunks, w->nchunks * sizeof(*chunks));
	chunks[w->nchunks] = c;
	w->chunks = chunks;
	uint32_t base = (uint32_t)(w->nchunks * TIMEWAIT_CHUNK);
	for (uint32_t k = TIMEWAIT_CHUNK; k > 0; k--) {
		c[k - 1].hnext = w->free_list;
		w->free_list = base + k;
	}
	w->nchunks = n;
	return true;
}

/* Doubles the buckets once there are two records a bucket: chains stay
 * short, and the buckets cost at most 4 bytes a record. */
static bool grow_buckets(tern_stack *s)
{
	timewait_table *w = &s->tw;
	size_t n = w->nbuckets ? w->nbuckets * 2 : BUCKETS_MIN;
	uint32_t *b = stack_alloc(s, n * sizeof(*b));

	if (!b)
		return w->nbuckets > 0; /* longer chains, still correct */
	memset(b, 0, n * sizeof(*b));
	for (size_t k = 0; k < w->nbuckets; k++) {
		uint32_t i = w->buckets[k];
		while (i) {
			timewait_rec *r = rec(s, i);
			uint32_t next = r->hnext;
			uint32_t *head = &b[rec_hash(s, r) & (n - 1)];
			r->hnext = *head;
			*head = i;
			i = next;
		}
	}
	stack_free(s, w->buckets, w->nbuckets * sizeof(*b));
	w->buckets = b;
	w->nbuckets = n;
	return true;
}

void timewait_free(tern_stack *s)
{
	timewait_table *w = &s->tw;

	for (size_t k = 0; k < w->nchunks; k++)
		stack_free(s, w->chunks[k],
			   TIMEWAIT_CHUNK * sizeof(**w->chunks));
	stack_free(s, w->chunks, w->nchunks * sizeof(*w->chunks));
	stack_free(s, w->buckets, w->nbuckets * sizeof(*w->buckets));
	memset(w, 0, sizeof(*w));
}

/* ---- the list in expiry order ---- */

static void list_unlink(tern_stack *s, uint32_t i)
{
	timewait_rec *r = rec(s, i);

	if (r->prev)
		rec(s, r->prev)->next = r->next;
	else
		s->tw.head = r->next;
	if (r->next)
		rec(s, r->next)->prev = r->prev;
	else
		s->tw.tail = r->prev;
	r->prev = r->next = 0;
}

/* In order of expiry: at the end, unless MSL changed under older waits. */
static void list_insert(tern_stack *s, uint32_t i)
{
	timewait_rec *r = rec(s, i);
	uint64_t e = join(r->expires);
	uint32_t after = s->tw.tail;

	while (after && join(rec(s, after)->expires) > e)
		after = rec(s, after)->prev;
	r->prev = after;
	r->next = after ? rec(s, after)->next : s->tw.head;
	if (r->next)
		rec(s, r->next)->prev = i;
	else
		s->tw.tail = i;
	if (after)
		rec(s, after)->next = i;
	else
		s->tw.head = i;
}

/* ---- records ---- */

static void hash_unlink(tern_stack *s, uint32_t i)
{
	timewait_table *w = &s->tw;
	uint32_t *pp = &w->buckets[rec_hash(s, rec(s, i)) & (w->nbuckets - 1)];

	while (*pp != i)
		pp = &rec(s, *pp)->hnext;
	*pp = rec(s, i)->hnext;
}

static void trace_closed(tern_stack *s, const timewait_rec *r,
			 const char *cause, tern_time now)
{
	tern_trace_event ev = {.kind = TERN_TRACE_STATE, .t = now};

	ev.state.conn_id = join(r->id);
	ev.state.local = rec_local(r);
	ev.state.remote = rec_remote(r);
	ev.state.from = TERN_TCP_TIME_WAIT;
	ev.state.to = TERN_TCP_CLOSED;
	ev.state.cause = cause;
	stack_trace(s, &ev);
}

/* The wait ends: TIME_WAIT -> CLOSED, and the record goes. The memory
 * goes back once no record is left. */
static void rec_end(tern_stack *s, uint32_t i, const char *cause, tern_time now)
{
	timewait_table *w = &s->tw;

	if (s->ntrace)
		trace_closed(s, rec(s, i), cause, now);
	hash_unlink(s, i);
	list_unlink(s, i);
	rec(s, i)->hnext = w->free_list;
	w->free_list = i;
	w->count--;
	s->live--;
	if (w->count == 0)
		timewait_free(s);
}

static void fill(timewait_rec *r, const tern_conn *c, tern_time now)
{
	tern_time end = c->tcb.deadline[TCP_T_CLOSE];

	if (end == TERN_TIME_NONE)
		end = now + 2 * (tern_time)c->stack->cfg.msl_ms * TERN_MSEC;
	r->laddr = c->local.addr;
	r->lport = c->local.port;
	r->raddr = c->remote.addr;
	r->rport = c->remote.port;
	split(r->expires, end);
	split(r->id, c->id);
}

bool timewait_take(tern_stack *s, tern_conn *c, tern_time now)
{
	timewait_table *w = &s->tw;

	/* Linux's inet_twsk_alloc: no bucket, no TIME_WAIT */
	if (w->count >= (size_t)s->cfg.tcp_max_tw_buckets) {
		s->stats.counters[TERN_CTR_TCP_TW_OVERFLOW]++;
		return false;
	}
	if ((!w->free_list && !add_chunk(s)) ||
	    (w->count >= 2 * w->nbuckets && !grow_buckets(s)))
		return false;
	uint32_t i = w->free_list;
	timewait_rec *r = rec(s, i);
	w->free_list = r->hnext;
	memset(r, 0, sizeof(*r));
	fill(r, c, now);
	tcp_tw_capture(&r->tw, (tcp_tcb *)&c->tcb, now);
	uint32_t *head = &w->buckets[rec_hash(s, r) & (w->nbuckets - 1)];
	r->hnext = *head;
	*head = i;
	list_insert(s, i);
	w->count++;
	s->live++; /* the connection's share goes when it is freed */
	return true;
}

uint32_t timewait_lookup(tern_stack *s, const tern_endpoint *local,
			 const tern_endpoint *remote)
{
	timewait_table *w = &s->tw;

	if (w->count == 0)
		return 0;
	uint32_t i =
		w->buckets[table_hash(s, local, remote) & (w->nbuckets - 1)];
	while (i) {
		const timewait_rec *r = rec(s, i);
		if (r->laddr == local->addr && r->lport == local->port &&
		    r->raddr == remote->addr && r->rport == remote->port)
			return i;
		i = r->hnext;
	}
	return 0;
}

static void restart(tern_stack *s, uint32_t i, tern_time now)
{
	list_unlink(s, i);
	split(rec(s, i)->expires,
	      now + 2 * (tern_time)s->cfg.msl_ms * TERN_MSEC);
	list_insert(s, i);
}

bool timewait_input(tern_stack *s, uint32_t i, const tern_tcp_hdr *h,
		    tern_time now, tcp_seq *isn)
{
	timewait_rec *r = rec(s, i);
	tern_endpoint local = rec_local(r), remote = rec_remote(r);
	tcp_tw_ctx ctx = {
		.stats = &s->stats,
		.cfg = &s->cfg,
		.now = now,
		.ts_now = (uint32_t)(now / TERN_MSEC) +
			  stack_ts_offset(s, &local, &remote),
		.listening = table_listener(s, local.port) != NULL,
	};
	tcp_tw_out o;

	tcp_tw_input(&r->tw, h, &ctx, &o);
	if (o.drop)
		stack_drop(s, o.drop, &remote, &local, now);
	if (o.send_ack && (!o.challenge || stack_challenge_ack_ok(s, now)))
		stack_send_tcp(s, &local, &remote, &o.ack, 0, now);
	switch (o.action) {
	case TCP_TW_RESTART:
		restart(s, i, now);
		return false;
	case TCP_TW_CLOSE:
		rec_end(s, i, "rx RST", now);
		return false;
	case TCP_TW_NEW_SYN:
		*isn = timewait_next_isn(r->tw.snd_nxt);
		rec_end(s, i, "rx SYN", now);
		return true;
	default:
		return false;
	}
}

static bool loopback(uint32_t addr)
{
	return (addr >> 24) == 127;
}

/* Linux's tcp_twsk_unique(): reuse needs timestamps on the old
 * connection (the peer's PAWS then rejects its old segments) and a new
 * second since its last timestamp; tern takes the wait's start for that
 * (the last FIN or ACK of the peer's). tcp_tw_reuse = 2 allows it only
 * when one end is a loopback address, as Linux. */
bool timewait_reuse(tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote, tern_time now, tcp_seq *isn)
{
	uint32_t i = timewait_lookup(s, local, remote);
	int reuse = s->cfg.tcp_tw_reuse;

	*isn = 0;
	if (!i)
		return true;
	timewait_rec *r = rec(s, i);
	tern_time started =
		join(r->expires) - 2 * (tern_time)s->cfg.msl_ms * TERN_MSEC;
	if (reuse == 2 && !loopback(local->addr) && !loopback(remote->addr))
		reuse = 0;
	if (!reuse || !(r->tw.flags & TCP_TW_TSTAMP) ||
	    now / TERN_SEC <= started / TERN_SEC)
		return false;
	*isn = timewait_next_isn(r->tw.snd_nxt);
	s->stats.counters[TERN_CTR_TCP_TW_RECYCLED]++;
	rec_end(s, i, "reused", now);
	return true;
}

void timewait_expire(tern_stack *s, tern_time now)
{
	while (s->tw.head && join(rec(s, s->tw.head)->expires) <= now)
		rec_end(s, s->tw.head, "timeout", now);
}

tern_time timewait_next_deadline(const tern_stack *s)
{
	return s->tw.head ? join(rec(s, s->tw.head)->expires) : TERN_TIME_NONE;
}

/* ---- for ss ---- */

size_t timewait_views(tern_stack *s, tern_conn_view_fn fn, void *arg)
{
	size_t n = 0;

	for (uint32_t i = s->tw.head; i; i = rec(s, i)->next, n++) {
		const timewait_rec *r = rec(s, i);
		tern_conn_view v = {
			.timewait_record = true,
			.orphan = true,
			.timer = TERN_TIMER_TIMEWAIT,
			.timer_expires = join(r->expires),
		};
		v.info.state = TERN_TCP_TIME_WAIT;
		v.info.local = rec_local(r);
		v.info.remote = rec_remote(r);
		v.info.conn_id = join(r->id);
		v.info.next_timer = v.timer_expires;
		fn(&v, arg);
	}
	return n;
}

/* A walk of the list: ss -K is rare, and records carry no id index. */
bool timewait_end_id(tern_stack *s, uint64_t id, tern_time now)
{
	for (uint32_t i = s->tw.head; i; i = rec(s, i)->next)
		if (join(rec(s, i)->id) == id) {
			rec_end(s, i, "kill", now);
			return true;
		}
	return false;
}
