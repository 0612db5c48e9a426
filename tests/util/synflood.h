/* A SYN flood on the simulator, for tests/sim (make test, 100,000 SYNs)
 * and bench/tern_synflood (make bench, 1,000,000): spoofed SYNs from
 * random addresses and ports nobody answers, at a steady rate, into a
 * listener with the stack's default settings (tcp_syncookies = 1,
 * tcp_max_syn_backlog = 2048), while genuine clients on a second stack
 * connect among them, each sending one byte and closing. What came of
 * the genuine ones, and the server's memory, are reported.
 *
 * Header-only (static inline), so that the test and the bench program
 * share it without a library of their own. */
#ifndef TERN_SYNFLOOD_H
#define TERN_SYNFLOOD_H

#include <stdlib.h>
#include <string.h>

#include <tern/sim.h>
#include <tern/stack.h>
#include <tern/wire.h>

#define SF_CLIENT 0x0a000001u /* 10.0.0.1: the genuine clients */
#define SF_SERVER 0x0a000002u /* 10.0.0.2 */
#define SF_PORT 80
#define SF_TICK TERN_MSEC /* SYNs go in batches, one a tick */

typedef struct sf_config {
	uint64_t seed;
	uint32_t spoofed;   /* SYNs, spread evenly over `duration` */
	uint32_t genuine;   /* clients, connecting between 15 % and 80 % */
	tern_time duration; /* of the flood, virtual */
	int syncookies;	    /* the server's tcp_syncookies */
} sf_config;

typedef struct sf_result {
	uint32_t connected; /* genuine clients that reached ESTABLISHED */
	uint32_t delivered; /* ... whose byte the server's application read */
	uint32_t injected;  /* spoofed SYNs delivered */
	size_t mem_10;	    /* server memory after 10 % of the flood */
	size_t mem_end;	    /* ... when the flood ends */
	size_t mem_peak;    /* ... the most, at any batch */
	tern_stats server;  /* the server's counters when the flood ends */
} sf_result;

typedef struct sf_run {
	sf_config cfg;
	sf_result *res;
	tern_sim *sim;
	tern_stack *client, *server;
	tern_conn *listener;
	uint64_t rng;
	tern_time next; /* the next batch of SYNs */
	uint32_t sent;
	uint8_t pkt[TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MAX];
} sf_run;

static inline uint64_t sf_random(sf_run *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A SYN from a random unicast address outside 10/8 (11.0.0.0 up to
 * 203.x: never ours, never multicast; 127/8 moved to 126/8, which IP
 * would refuse), random port and ISN, offering an MSS, as a flooding
 * tool sends it. */
static inline size_t sf_syn(sf_run *r)
{
	uint64_t x = sf_random(r);
	uint32_t src = 0x0b000000u + (uint32_t)(x % 0xc0000000u);

	if ((src >> 24) == 127)
		src -= 1u << 24;
	tern_tcp_hdr th = {
		.sport = (uint16_t)(1024 + (x >> 40) % 64000),
		.dport = SF_PORT,
		.seq = (uint32_t)sf_random(r),
		.flags = TERN_TCP_SYN,
		.win = 29200,
		.opts = {.present = TERN_TCPOPT_MSS, .mss = 1460},
	};
	tern_ipv4_hdr ip = {.ttl = 64,
			    .proto = TERN_IPPROTO_TCP,
			    .src = src,
			    .dst = SF_SERVER};
	uint8_t *tcp = r->pkt + TERN_IPV4_HDR_MIN;
	size_t tl = tern_tcp_emit(tcp, TERN_TCP_HDR_MAX, &th);
	tern_csum cs;

	tern_csum_init(&cs);
	tern_csum_add_pseudo(&cs, src, SF_SERVER, TERN_IPPROTO_TCP,
			     (uint16_t)tl);
	tern_csum_add(&cs, tcp, tl);
	tern_store16(tcp + 16, tern_csum_final(&cs));
	tern_ipv4_emit(r->pkt, TERN_IPV4_HDR_MIN, &ip, tl);
	return TERN_IPV4_HDR_MIN + tl;
}

/* ---- the flood: a node of the simulator, one batch a tick ---- */

static inline tern_time sf_next(void *ctx)
{
	sf_run *r = ctx;

	return r->sent < r->cfg.spoofed ? r->next : TERN_TIME_NONE;
}

static inline void sf_note_mem(sf_run *r, uint32_t before)
{
	size_t mem = tern_stack_mem_in_use(r->server);
	uint32_t tenth = r->cfg.spoofed / 10;

	if (mem > r->res->mem_peak)
		r->res->mem_peak = mem;
	if (before < tenth && r->sent >= tenth)
		r->res->mem_10 = mem;
	if (r->sent == r->cfg.spoofed) {
		r->res->mem_end = mem;
		r->res->server = *tern_stack_stats(r->server);
	}
}

static inline void sf_batch(void *ctx, tern_time now)
{
	sf_run *r = ctx;
	uint64_t ticks = (uint64_t)(r->cfg.duration / SF_TICK);
	uint64_t tick = (uint64_t)(now / SF_TICK) + 1;
	uint32_t due = (uint32_t)((uint64_t)r->cfg.spoofed *
				  (tick < ticks ? tick : ticks) / ticks);
	uint32_t before = r->sent;

	while (r->sent < due) {
		size_t len = sf_syn(r);
		tern_stack_input(r->server, r->pkt, len, now);
		r->sent++;
	}
	r->res->injected = r->sent;
	sf_note_mem(r, before);
	r->next = now + SF_TICK;
}

static const tern_sim_node_ops sf_flood_ops = {sf_next, sf_batch};

/* ---- the applications ---- */

/* The server reads what comes and closes at the end of the stream. */
static inline void sf_server_event(tern_conn *c, unsigned ev, void *user,
				   tern_time now)
{
	sf_run *r = user;
	uint8_t buf[64];
	ptrdiff_t n;

	if (!(ev & (TERN_EV_READABLE | TERN_EV_CLOSED)))
		return;
	while ((n = tern_tcp_recv(c, buf, sizeof(buf), now)) > 0)
		r->res->delivered += (uint32_t)n;
	if (n != TERN_ERR_AGAIN)
		tern_tcp_close(c, now);
}

static inline void sf_listener_event(tern_conn *l, unsigned ev, void *user,
				     tern_time now)
{
	tern_conn *c;
	int err;

	(void)ev;
	while ((c = tern_tcp_accept(l, &err)) != NULL) {
		tern_tcp_set_callback(c, sf_server_event, user);
		sf_server_event(c, TERN_EV_READABLE, user, now);
	}
}

/* A genuine client: once connected, one byte and close(). */
static inline void sf_client_event(tern_conn *c, unsigned ev, void *user,
				   tern_time now)
{
	sf_run *r = user;

	if (ev & TERN_EV_CONNECTED) {
		r->res->connected++;
		tern_tcp_send(c, "x", 1, now);
		tern_tcp_close(c, now);
	} else if (ev & TERN_EV_CLOSED) {
		tern_tcp_close(c, now); /* refused or timed out */
	}
}

static inline void sf_connect(void *arg, tern_time now)
{
	sf_run *r = arg;
	tern_endpoint to = {SF_SERVER, SF_PORT};
	tern_conn_opts o = {.on_event = sf_client_event, .user = r};

	tern_tcp_connect(r->client, &to, &o, now, NULL);
}

/* ---- set-up ---- */

static inline tern_stack *sf_stack(sf_run *r, tern_link *port, uint32_t addr,
				   uint64_t k)
{
	tern_settings set;

	tern_settings_default(&set);
	set.tcp_syncookies = r->cfg.syncookies;
	tern_stack_config sc = {
		.addr = addr, .settings = &set, .secret = {r->cfg.seed, k}};
	tern_stack *s = tern_stack_new(&sc);
	if (s && tern_sim_add_stack(r->sim, s, port) < 0) {
		tern_stack_free(s);
		s = NULL;
	}
	return s;
}

static inline int sf_setup(sf_run *r)
{
	tern_sim_path path = {.delay = 5 * TERN_MSEC};
	tern_link *pc, *ps;

	r->sim = tern_sim_new(r->cfg.seed);
	if (!r->sim)
		return TERN_ERR_NOMEM;
	pc = tern_sim_port(r->sim, SF_CLIENT, 1500);
	ps = tern_sim_port(r->sim, SF_SERVER, 1500);
	if (!pc || !ps || tern_sim_join(r->sim, pc, ps, &path, &path) < 0)
		return TERN_ERR_NOMEM;
	r->client = sf_stack(r, pc, SF_CLIENT, 1);
	r->server = sf_stack(r, ps, SF_SERVER, 2);
	if (!r->client || !r->server)
		return TERN_ERR_NOMEM;
	tern_conn_opts lo = {.on_event = sf_listener_event, .user = r};
	r->listener = tern_tcp_listen(r->server, SF_PORT, 4096, &lo, 0, NULL);
	if (!r->listener)
		return TERN_ERR_NOMEM;
	return tern_sim_add_node(r->sim, &sf_flood_ops, r);
}

/* Runs a flood; 0 or a TERN_ERR_*. */
static inline int sf_flood(const sf_config *cfg, sf_result *res)
{
	sf_run *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return TERN_ERR_NOMEM;
	memset(res, 0, sizeof(*res));
	r->cfg = *cfg;
	r->res = res;
	r->rng = cfg->seed * 0x9e3779b97f4a7c15ull + 1;
	err = sf_setup(r);
	for (uint32_t i = 0; err == 0 && i < cfg->genuine; i++) {
		tern_time lo = cfg->duration * 15 / 100;
		tern_time span = cfg->duration * 65 / 100;
		tern_time at = lo + (tern_time)(sf_random(r) % span);
		err = tern_sim_at(r->sim, at, sf_connect, r);
	}
	if (err == 0)
		tern_sim_run(r->sim, cfg->duration + TERN_SEC);
	if (r->sim)
		tern_sim_remove_node(r->sim, r);
	tern_stack_free(r->client);
	tern_stack_free(r->server);
	tern_sim_free(r->sim);
	free(r);
	return err;
}

#endif
