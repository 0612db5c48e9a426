/* The connection table: a chained hash keyed with SipHash, so a flood of
 * crafted 4-tuples cannot pile up in one bucket. Listeners sit in it with
 * a 0:0 remote end. Also the two other keyed choices: ISNs (RFC 6528) and
 * ephemeral ports (RFC 6056). */
#include <string.h>

#include "stack/siphash.h"
#include "stack/stack.h"

#define BUCKETS_MIN 64

uint32_t table_hash(const tern_stack *s, const tern_endpoint *l,
		    const tern_endpoint *r)
{
	return (uint32_t)siphash24_tuple(s->hash_key, l->addr, l->port, r->addr,
					 r->port);
}

int table_init(tern_stack *s)
{
	s->buckets = stack_alloc(s, BUCKETS_MIN * sizeof(tern_conn *));
	if (!s->buckets)
		return TERN_ERR_NOMEM;
	memset(s->buckets, 0, BUCKETS_MIN * sizeof(tern_conn *));
	s->nbuckets = BUCKETS_MIN;
	return 0;
}

void table_free(tern_stack *s)
{
	stack_free(s, s->buckets, s->nbuckets * sizeof(tern_conn *));
	s->buckets = NULL;
}

/* Doubles the table when it holds more entries than buckets. */
static void table_grow(tern_stack *s)
{
	size_t n = s->nbuckets * 2;
	tern_conn **b = stack_alloc(s, n * sizeof(tern_conn *));

	if (!b)
		return; /* longer chains, still correct */
	memset(b, 0, n * sizeof(tern_conn *));
	for (size_t i = 0; i < s->nbuckets; i++) {
		while (s->buckets[i]) {
			tern_conn *c = s->buckets[i];
			s->buckets[i] = c->hnext;
			c->hnext = b[c->hash & (n - 1)];
			b[c->hash & (n - 1)] = c;
		}
	}
	stack_free(s, s->buckets, s->nbuckets * sizeof(tern_conn *));
	s->buckets = b;
	s->nbuckets = n;
}

int table_insert(tern_conn *c)
{
	tern_stack *s = c->stack;

	if (c->hashed)
		return 0;
	if (s->nhashed >= s->nbuckets)
		table_grow(s);
	c->hash = table_hash(s, &c->local, &c->remote);
	tern_conn **b = &s->buckets[c->hash & (s->nbuckets - 1)];
	c->hnext = *b;
	*b = c;
	c->hashed = true;
	s->nhashed++;
	return 0;
}

void table_remove(tern_conn *c)
{
	tern_stack *s = c->stack;

	if (!c->hashed)
		return;
	tern_conn **pp = &s->buckets[c->hash & (s->nbuckets - 1)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	c->hnext = NULL;
	c->hashed = false;
	s->nhashed--;
}

static bool same(const tern_endpoint *a, const tern_endpoint *b)
{
	return a->addr == b->addr && a->port == b->port;
}

tern_conn *table_lookup(tern_stack *s, const tern_endpoint *local,
			const tern_endpoint *remote)
{
	uint32_t h = table_hash(s, local, remote);
	tern_conn *c = s->buckets[h & (s->nbuckets - 1)];

	for (; c; c = c->hnext)
		if (c->hash == h && same(&c->local, local) &&
		    same(&c->remote, remote))
			return c;
	return NULL;
}

tern_conn *table_listener(tern_stack *s, uint16_t port)
{
	tern_endpoint any = {0, port}, none = {0, 0};

	return table_lookup(s, &any, &none);
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * M a 4-microsecond clock. */
uint32_t stack_isn(tern_stack *s, const tern_endpoint *local,
		   const tern_endpoint *remote, tern_time now)
{
	uint64_t f = siphash24_tuple(s->isn_key, local->addr, local->port,
				     remote->addr, remote->port);

	return (uint32_t)f + (uint32_t)(now / (4 * TERN_USEC));
}

/* RFC 7323 5.4 and 7.1: the timestamp clock's offset, a hash of the
 * address pair (as Linux's secure_tcp_ts_off): it hides the host's clock
 * and keeps timestamps growing across the connections of a pair. */
uint32_t stack_ts_offset(tern_stack *s, const tern_endpoint *local,
			 const tern_endpoint *remote)
{
	return (uint32_t)siphash24_tuple(s->ts_key, local->addr, 0,
					 remote->addr, 0);
}

/* The 4-tuple is free for a new outgoing connection: no connection
 * holds it, and no TIME_WAIT record, or one tcp_tw_reuse may end (its
 * successor's ISN then in *isn, else 0). */
bool stack_tuple_free(tern_stack *s, const tern_endpoint *local,
		      const tern_endpoint *remote, tern_time now, tcp_seq *isn)
{
	*isn = 0;
	return !table_lookup(s, local, remote) &&
	       timewait_reuse(s, local, remote, now, isn);
}

/* RFC 6056 3.3.3, Algorithm 3 (simple hash-based port selection): a
 * per-destination offset, so ports are hard to guess, and a shared
 * counter, so a port is not soon reused for the same destination. A
 * port in TIME_WAIT with this destination is taken only when
 * tcp_tw_reuse allows (as Linux's __inet_hash_connect). */
int stack_pick_port(tern_stack *s, const tern_endpoint *remote, tern_time now,
		    uint16_t *port, tcp_seq *isn)
{
	uint32_t lo = (uint32_t)s->cfg.ip_local_port_range[0];
	uint32_t num = (uint32_t)s->cfg.ip_local_port_range[1] - lo + 1;
	uint32_t offset = (uint32_t)siphash24_tuple(s->port_key, s->addr, 0,
						    remote->addr, remote->port);

	for (uint32_t count = 0; count < num; count++) {
		uint16_t p = (uint16_t)(lo + (offset + s->port_next) % num);
		s->port_next++;
		tern_endpoint local = {s->addr, p};
		if (!table_listener(s, p) &&
		    stack_tuple_free(s, &local, remote, now, isn)) {
			*port = p;
			return 0;
		}
	}
	return TERN_ERR_ADDRNOTAVAIL;
}
