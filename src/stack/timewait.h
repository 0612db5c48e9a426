/* TIME_WAIT records: what is left of an orphaned connection in TIME_WAIT
 * (DESIGN: "TIME_WAIT keeps a small separate record, not the whole
 * connection"). 60 bytes each, in chunks, found by a keyed hash of the
 * 4-tuple, and kept in a list in the order their waits end. */
#ifndef TERN_STACK_TIMEWAIT_H
#define TERN_STACK_TIMEWAIT_H

#include "tcp/tcp.h"

/* Links are 1-based indices into the chunks (0: none), so a record needs
 * no pointers; 64-bit values are kept as halves so it packs to 60 bytes. */
typedef struct timewait_rec {
	uint32_t hnext;	     /* hash chain, or the free list */
	uint32_t prev, next; /* the list in expiry order */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t expires[2]; /* when the wait ends: low, high halves */
	uint32_t id[2];	     /* the connection's id, for traces */
	tcp_tw tw;
} timewait_rec;

#define TIMEWAIT_CHUNK 1024 /* records per chunk */

typedef struct timewait_table {
	timewait_rec **chunks;
	size_t nchunks;
	uint32_t *buckets; /* heads of the hash chains */
	size_t nbuckets;
	uint32_t free_list;
	uint32_t head, tail; /* the first wait to end, the last */
	size_t count;
} timewait_table;

struct tern_conn;

/* The connection (orphaned, in TIME_WAIT) becomes a record: true if so;
 * false when tcp_max_tw_buckets or memory refuse, and then the caller
 * closes it. */
bool timewait_take(tern_stack *s, struct tern_conn *c, tern_time now);
/* The record of a 4-tuple, 0 if none. */
uint32_t timewait_lookup(tern_stack *s, const tern_endpoint *local,
			 const tern_endpoint *remote);
/* A segment for record i. Returns true when the record has ended for a
 * SYN that a listener now takes (RFC 6191), with the new connection's
 * ISN in *isn; otherwise the segment is done with. */
bool timewait_input(tern_stack *s, uint32_t i, const tern_tcp_hdr *h,
		    tern_time now, tcp_seq *isn);
/* An outgoing connection may take over this 4-tuple (tcp_tw_reuse):
 * true if nothing holds it or its record could be ended, with *isn set
 * then (0 if there was no record). */
bool timewait_reuse(tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote, tern_time now, tcp_seq *isn);
void timewait_expire(tern_stack *s, tern_time now);
tern_time timewait_next_deadline(const tern_stack *s);
void timewait_free(tern_stack *s);
/* Each record as a view (tern_stack_conns); returns the count. */
size_t timewait_views(tern_stack *s, tern_conn_view_fn fn, void *arg);
/* Ends the record of connection id (ss -K): true if there was one. */
bool timewait_end_id(tern_stack *s, uint64_t id, tern_time now);

/* RFC 1122 4.2.2.13 (a): a new incarnation's ISN lies beyond what the
 * old one sent (Linux: tw_snd_nxt + 65535 + 2). */
static inline tcp_seq timewait_next_isn(tcp_seq snd_nxt)
{
	tcp_seq isn = snd_nxt + 65535 + 2;
	return isn ? isn : 1;
}

#endif
