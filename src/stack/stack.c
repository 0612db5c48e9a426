/* The stack object: creation, settings, memory, hooks, timers, and the
 * deferred work that ends every entry point. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"

void tern_settings_default(tern_settings *s)
{
	*s = (tern_settings){
		.tcp_syn_retries = 6,
		.tcp_synack_retries = 5,
		.tcp_retries1 = 3,
		.tcp_retries2 = 15,
		.tcp_orphan_retries = 0,
		.tcp_fin_timeout = 60,
		.tcp_keepalive_time = 7200,
		.tcp_keepalive_intvl = 75,
		.tcp_keepalive_probes = 9,
		.tcp_rmem = {4096, 131072, 6291456},
		.tcp_wmem = {4096, 16384, 4194304},
		.tcp_window_scaling = 1,
		.tcp_timestamps = 1,
		.tcp_sack = 1,
		.tcp_initcwnd = 10,
		.tcp_moderate_rcvbuf = 1,
		.tcp_congestion_control = "cubic",
		.somaxconn = 4096,
		.tcp_max_syn_backlog = 2048,
		.tcp_syncookies = 1,
		.tcp_tw_reuse = 2,
		.tcp_max_tw_buckets = 131072,
		.tcp_max_orphans = 131072,
		.tcp_challenge_ack_limit = 2147483647,
		.ip_local_port_range = {32768, 60999},
		.ip_default_ttl = 64,
		.msl_ms = 30000,
		.rto_initial_ms = 1000,
		.rto_min_ms = 200,
		.rto_max_ms = 120000,
		.delack_ms = 40,
		.tcp_invalid_ratelimit = 500,
	};
}

/* The rules live with the keys' table (sysctl.c), so a stack refuses
 * exactly what `tern sysctl` and a settings file refuse. */
static bool settings_valid(const tern_settings *c)
{
	return tern_settings_check(c, NULL, 0) == 0;
}

static void *malloc_hook(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void free_hook(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

void *stack_alloc(tern_stack *s, size_t size)
{
	void *p = s->alloc.alloc(s->alloc.ctx, size);
	if (p)
		s->mem_in_use += size;
	return p;
}

void stack_free(tern_stack *s, void *ptr, size_t size)
{
	if (!ptr)
		return;
	s->mem_in_use -= size;
	s->alloc.free(s->alloc.ctx, ptr, size);
}

/* Buffers (4 KB and more) are kept when freed, up to STACK_BUF_CACHE of
 * them and STACK_BUF_CACHE_BYTES in all, and handed to the next request
 * of the same size. A busy connection empties and fills its buffers every
 * round trip, and the engine frees a buffer the moment it is empty (an
 * idle connection holds none): without this each round trip would cost
 * an allocation of 128 KB, a system call past glibc's mmap threshold and
 * under ASan. Kept buffers are not in mem_in_use; the stack frees them
 * when it goes. */
void *stack_buf_alloc(tern_stack *s, size_t size)
{
	for (int i = s->nbuf_cache - 1; i >= 0; i--) {
		if (s->buf_cache[i].size != size)
			continue;
		void *p = s->buf_cache[i].ptr;
		s->buf_cache[i] = s->buf_cache[--s->nbuf_cache];
		s->mem_cached -= size;
		s->mem_in_use += size;
		return p;
	}
	return stack_alloc(s, size);
}

void stack_buf_free(tern_stack *s, void *ptr, size_t size)
{
	if (!ptr)
		return;
	if (size < STACK_BUF_MIN || s->nbuf_cache == STACK_BUF_CACHE ||
	    s->mem_cached + size > STACK_BUF_CACHE_BYTES) {
		stack_free(s, ptr, size);
		return;
	}
	s->buf_cache[s->nbuf_cache++] = (struct stack_buf){ptr, size};
	s->mem_cached += size;
	s->mem_in_use -= size;
}

static void buf_cache_free(tern_stack *s)
{
	while (s->nbuf_cache > 0) {
		struct stack_buf *b = &s->buf_cache[--s->nbuf_cache];
		s->alloc.free(s->alloc.ctx, b->ptr, b->size);
	}
	s->mem_cached = 0;
}

/* Keys for the keyed hashes, derived from the caller's secret so that a
 * simulated run repeats exactly. */
static void derive_keys(tern_stack *s, const uint64_t secret[2])
{
	uint64_t x = secret[0] ^ 0x9e3779b97f4a7c15ull;
	/* the SYN cookie keys and the generator's seed come last, so the
	 * keys before them are what they always were */
	uint64_t *keys[] = {s->isn_key, s->hash_key,	  s->port_key,
			    s->ts_key,	s->cookie_key[0], s->cookie_key[1]};
	uint64_t seed[2];

	for (int k = 0; k < 7; k++) {
		for (int i = 0; i < 2; i++) {
			/* splitmix64 over the secret */
			x += 0x9e3779b97f4a7c15ull + secret[1];
			uint64_t z = x;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			(k < 6 ? keys[k] : seed)[i] = z ^ (z >> 31);
		}
	}
	s->rng = seed[0];
}

tern_stack *tern_stack_new(const tern_stack_config *cfg)
{
	tern_allocator alloc = {malloc_hook, free_hook, NULL};
	tern_settings settings;

	if (cfg->alloc)
		alloc = *cfg->alloc;
	if (cfg->settings)
		settings = *cfg->settings;
	else
		tern_settings_default(&settings);
	if (!settings_valid(&settings))
		return NULL;
	tern_stack *s = alloc.alloc(alloc.ctx, sizeof(*s));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->alloc = alloc;
	s->cfg = settings;
	s->addr = cfg->addr;
	s->adv_mss = 1460;
	snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "");
	derive_keys(s, cfg->secret);
	tw_init(&s->wheel, 0);
	if (table_init(s) < 0) {
		alloc.free(alloc.ctx, s, sizeof(*s));
		return NULL;
	}
	if (ip_reasm_init(&s->reasm, &s->alloc, NULL) < 0) {
		table_free(s);
		alloc.free(alloc.ctx, s, sizeof(*s));
		return NULL;
	}
	return s;
}

void tern_stack_free(tern_stack *s)
{
	if (!s)
		return;
	while (s->all)
		conn_destroy(s->all);
	timewait_free(s);
	ip_reasm_free(&s->reasm);
	table_free(s);
	buf_cache_free(s);
	if (s->link)
		tern_link_set_rx(s->link, NULL, NULL);
	tern_allocator alloc = s->alloc;
	alloc.free(alloc.ctx, s, sizeof(*s));
}

static void link_rx(void *ctx, const uint8_t *frame, size_t len,
		    const tern_frame_meta *meta, tern_time now)
{
	tern_stack_input_meta(ctx, frame, len, meta, now);
}

void tern_stack_attach(tern_stack *s, tern_link *link)
{
	s->link = link;
	s->tso_payload = 0;
	if (!link)
		return;
	/* The largest TSO packet less the IP header (tern sends none with
	 * options) and the largest TCP header. */
	if (link->tso_max > TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MAX)
		s->tso_payload =
			link->tso_max - TERN_IPV4_HDR_MIN - TERN_TCP_HDR_MAX;
	tern_link_set_rx(link, link_rx, s);
	uint32_t mtu = link->mtu ? link->mtu : 1500;
	/* RFC 9293 3.7.1: MSS = MTU - IPv4 header - TCP header */
	s->adv_mss = (uint16_t)(mtu > 576 ? mtu - 40 : 536);
}

const tern_stats *tern_stack_stats(const tern_stack *s)
{
	return &s->stats;
}

const tern_settings *tern_stack_settings(const tern_stack *s)
{
	return &s->cfg;
}

const char *tern_stack_name(const tern_stack *s)
{
	return s->name;
}

uint32_t tern_stack_addr(const tern_stack *s)
{
	return s->addr;
}

size_t tern_stack_conn_count(const tern_stack *s)
{
	return s->live;
}

size_t tern_stack_state_counts(const tern_stack *s,
			       size_t counts[TERN_TCP_STATE_COUNT])
{
	size_t total = 0;

	for (int i = 0; i < TERN_TCP_STATE_COUNT; i++)
		counts[i] = 0;
	for (const tern_conn *c = s->all; c; c = c->all_next) {
		counts[c->tcb.state]++;
		total++;
	}
	counts[TERN_TCP_TIME_WAIT] += s->tw.count; /* the records */
	return total + s->tw.count;
}

size_t tern_stack_mem_in_use(const tern_stack *s)
{
	return s->mem_in_use;
}

int tern_stack_add_trace(tern_stack *s, tern_trace_fn fn, void *ctx)
{
	if (s->ntrace == STACK_TRACE_MAX || !fn)
		return TERN_ERR_NOBUFS;
	s->trace[s->ntrace].fn = fn;
	s->trace[s->ntrace].ctx = ctx;
	s->ntrace++;
	return 0;
}

void stack_trace(tern_stack *s, tern_trace_event *ev)
{
	ev->host = s->name;
	for (int i = 0; i < s->ntrace; i++)
		s->trace[i].fn(s->trace[i].ctx, ev);
}

void stack_drop(tern_stack *s, int reason, const tern_endpoint *src,
		const tern_endpoint *dst, tern_time now)
{
	s->stats.drops[reason]++;
	if (s->ntrace == 0)
		return;
	tern_trace_event ev = {.kind = TERN_TRACE_DROP, .t = now};
	ev.drop.reason = reason;
	if (src && dst) {
		ev.drop.have_addrs = true;
		ev.drop.src = *src;
		ev.drop.dst = *dst;
	}
	stack_trace(s, &ev);
}

/* Entry points nest (an event callback may call into the stack); the
 * outermost one delivers events and frees what died, so no callback runs
 * while the engine is half-way through a segment. */
void stack_enter(tern_stack *s)
{
	s->depth++;
}

tern_time stack_clock(tern_stack *s, tern_time now)
{
	if (now > s->now)
		s->now = now;
	return s->now;
}

static void deliver_events(tern_stack *s, tern_time now)
{
	while (s->ev_head) {
		tern_conn *c = s->ev_head;
		s->ev_head = c->ev_next;
		if (!s->ev_head)
			s->ev_tail = NULL;
		c->in_ev = false;
		unsigned ev = c->pending;
		c->pending = 0;
		if (c->app_owned && c->cb && ev)
			c->cb(c, ev, c->user, now);
	}
}

void stack_leave(tern_stack *s, tern_time now)
{
	if (s->depth > 1) {
		s->depth--;
		return;
	}
	do {
		conn_flush_timewait(s, now);
		deliver_events(s, now); /* may close more */
	} while (s->tw_queue);
	while (s->dead) {
		tern_conn *c = s->dead;
		s->dead = c->dead_next;
		conn_destroy(c);
	}
	s->depth--;
}

static void fire(tw_timer *timer, void *ctx)
{
	tern_conn *c =
		(tern_conn *)((char *)timer - offsetof(tern_conn, timer));
	tern_time now = *(const tern_time *)ctx;

	tcp_run_timers(&c->tcb, now);
	conn_sync_timer(c);
}

void tern_stack_run(tern_stack *s, tern_time now)
{
	now = stack_clock(s, now);
	stack_enter(s);
	tw_expire(&s->wheel, now, fire, &now);
	timewait_expire(s, now);
	stack_ip_expire(s, now);
	stack_leave(s, now);
}

void tern_stack_batch(tern_stack *s, bool on, tern_time now)
{
	now = stack_clock(s, now);
	if (on) {
		s->batching = true;
		return;
	}
	s->batching = false;
	stack_enter(s);
	while (s->acks_kept) {
		tern_conn *c = s->acks_kept;
		s->acks_kept = c->ack_next;
		c->ack_kept = false;
		tcp_flush_ack(&c->tcb, now);
		conn_sync_timer(c);
	}
	stack_leave(s, now);
}

tern_time tern_stack_next_deadline(tern_stack *s)
{
	tern_time t = tw_next_deadline(&s->wheel);
	tern_time r = ip_reasm_next_deadline(&s->reasm);
	tern_time w = timewait_next_deadline(s);

	if (w < t)
		t = w;
	return r < t ? r : t;
}
