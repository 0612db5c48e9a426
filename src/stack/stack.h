/* The stack's private view: the connection object, the stack object, and
 * what stack files share. */
#ifndef TERN_STACK_STACK_H
#define TERN_STACK_STACK_H

#include <tern/stack.h>
#include <tern/wire.h>

#include "ip/reasm.h"
#include "stack/timer_wheel.h"
#include "stack/timewait.h"
#include "tcp/tcp.h"

#define STACK_TRACE_MAX 4

/* Send and receive buffers kept after they are freed (stack.c). */
#define STACK_BUF_CACHE 16
#define STACK_BUF_CACHE_BYTES (16u << 20)
#define STACK_BUF_MIN 4096

struct tern_conn {
	tcp_tcb tcb; /* first: the engine's callbacks cast back */
	tern_stack *stack;
	uint64_t id;
	tern_endpoint local, remote; /* a listener's remote is 0:0 */
	uint32_t hash;
	tern_conn *hnext;		/* connection table chain */
	tern_conn *all_prev, *all_next; /* every conn of the stack */
	tw_timer timer;

	/* A passive child belongs to its listener until accepted: first in
	 * `children` (SYN_RECEIVED), then in the accept queue. */
	tern_conn *listener;
	tern_conn *sib_prev, *sib_next;
	tern_conn *aq_next;

	/* Listener only. */
	tern_conn *children;
	int nchildren; /* in `children`: bounded by tcp_max_syn_backlog */
	tern_conn *aq_head, *aq_tail;
	int aq_len, backlog;
	/* When it last sent a SYN cookie (Linux's tcp_synq_overflow): ACKs
	 * are checked for cookies for 2 minutes after (syncookie.c). */
	tern_time cookie_sent;
	bool cookies_used;
	tern_conn_opts opts; /* inherited by children */

	tern_event_fn cb;
	void *user;
	unsigned pending; /* events not yet delivered */
	tern_conn *ev_next;
	tern_conn *dead_next;
	tern_conn *ack_next; /* in the stack's list of ACKs kept back */
	tern_conn *tw_next;  /* in the stack's list of those due to become
			      * TIME_WAIT records (timewait.c) */
	bool hashed, in_ev, dead, app_owned, is_listener, ack_kept, tw_queued;
	bool orphan; /* counted in the stack's orphans */
};

struct tern_stack {
	char name[32];
	uint32_t addr;
	tern_settings cfg;
	tern_allocator alloc;
	size_t mem_in_use;
	/* Buffers freed and kept for the next connection that needs one of
	 * the same size (stack.c, stack_buf_alloc): not in mem_in_use. */
	struct stack_buf {
		void *ptr;
		size_t size;
	} buf_cache[STACK_BUF_CACHE];
	int nbuf_cache;
	size_t mem_cached;
	/* A batch of received frames (tern_stack_batch): the pure ACKs they
	 * draw wait in this list for its end. */
	bool batching;
	tern_conn *acks_kept;
	tern_stats stats;
	tern_link *link;
	uint16_t adv_mss;
	/* Payload bytes one TSO segment may carry on this link (each new
	 * connection's tcp_tcb.tso_max); 0: the link has no TSO. */
	uint32_t tso_payload;
	uint16_t ip_id;

	uint64_t isn_key[2], hash_key[2], port_key[2], ts_key[2];
	uint64_t cookie_key[2][2]; /* SYN cookies' two hashes */
	/* A deterministic generator (splitmix64), seeded from the secret,
	 * for the random parts of Linux's rules (ratelimit.c). */
	uint64_t rng;
	/* RFC 5961 10, tcp_challenge_ack_limit: this second's budget of
	 * challenge ACKs for the whole stack (ratelimit.c). */
	uint64_t challenge_sec;
	uint32_t challenge_left;
	bool challenge_drawn;
	uint32_t port_next; /* RFC 6056 next_ephemeral */

	tern_conn **buckets;
	size_t nbuckets, nhashed;
	tern_conn *all;
	size_t live; /* not CLOSED */
	uint64_t next_id;
	tw_wheel wheel;
	timewait_table tw;   /* TIME_WAIT records */
	tern_conn *tw_queue; /* orphans in TIME_WAIT, to become records */
	/* Connections the application closed that are not yet CLOSED or a
	 * TIME_WAIT record (Linux's orphan count, tcp_max_orphans) */
	size_t orphans;
	ip_reasm reasm; /* IPv4 fragments */

	struct {
		tern_trace_fn fn;
		void *ctx;
	} trace[STACK_TRACE_MAX];
	int ntrace;

	/* Work deferred to the end of the outermost entry point. */
	tern_conn *ev_head, *ev_tail;
	tern_conn *dead;
	int depth;
	tern_time now; /* the latest `now` an entry point was given */
};

/* stack.c */
void *stack_alloc(tern_stack *s, size_t size);
void stack_free(tern_stack *s, void *ptr, size_t size);
void stack_enter(tern_stack *s);
/* `now`, or the latest one already seen if it is earlier: time never goes
 * back inside the stack, whatever the caller's clock does. */
tern_time stack_clock(tern_stack *s, tern_time now);
void stack_leave(tern_stack *s, tern_time now);
void stack_trace(tern_stack *s, tern_trace_event *ev);
void stack_drop(tern_stack *s, int reason, const tern_endpoint *src,
		const tern_endpoint *dst, tern_time now);

/* conn.c */
extern const tcp_env_ops stack_tcp_env;
tern_conn *conn_new(tern_stack *s, const tern_conn_opts *opts);
void conn_destroy(tern_conn *c);
void conn_sync_timer(tern_conn *c);
void conn_post_event(tern_conn *c, unsigned events);
void conn_release(tern_conn *c); /* the application lets go */
void conn_flush_timewait(tern_stack *s, tern_time now);
void conn_orphan_check(tern_conn *c, tern_time now);
void listener_close_children(tern_conn *l, tern_time now);

/* table.c */
uint32_t table_hash(const tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote);
int table_init(tern_stack *s);
void table_free(tern_stack *s);
int table_insert(tern_conn *c);
void table_remove(tern_conn *c);
tern_conn *table_lookup(tern_stack *s, const tern_endpoint *local,
			const tern_endpoint *remote);
tern_conn *table_listener(tern_stack *s, uint16_t port);
void *stack_buf_alloc(tern_stack *s, size_t size);
void stack_buf_free(tern_stack *s, void *ptr, size_t size);
uint32_t stack_isn(tern_stack *s, const tern_endpoint *local,
		   const tern_endpoint *remote, tern_time now);
uint32_t stack_ts_offset(tern_stack *s, const tern_endpoint *local,
			 const tern_endpoint *remote);
bool stack_tuple_free(tern_stack *s, const tern_endpoint *local,
		      const tern_endpoint *remote, tern_time now, tcp_seq *isn);
int stack_pick_port(tern_stack *s, const tern_endpoint *remote, tern_time now,
		    uint16_t *port, tcp_seq *isn);

/* syncookie.c: SYN cookies for a listener (a SYN past the SYN queue, an
 * ACK that may carry one) */
void syncookie_answer(tern_conn *l, const tern_endpoint *local,
		      const tern_endpoint *remote, const tern_tcp_hdr *syn,
		      tern_time now);
/* An ACK for a listener with no connection of its 4-tuple: 0 if taken
 * (a valid cookie), else the reason to drop it under, with a RST. */
int syncookie_ack(tern_conn *l, const tern_endpoint *local,
		  const tern_endpoint *remote, const tern_tcp_hdr *h,
		  tern_time now);

/* ratelimit.c */
uint64_t stack_random(tern_stack *s);
/* A uniform draw below n (n > 0) from stack_random. */
uint32_t stack_random_below(tern_stack *s, uint32_t n);
bool stack_challenge_ack_ok(tern_stack *s, tern_time now);

/* output.c */
/* Sends seg as an IPv4 packet. mss: the connection's send MSS, at which
 * the link cuts a longer (TSO) segment; 0 where there is none (RSTs for
 * no connection). */
void stack_send_tcp(tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote, const tcp_seg *seg,
		    uint32_t mss, tern_time now);
uint32_t stack_seg_count(size_t len, uint32_t mss);

void stack_trace_seg(tern_stack *s, const tern_endpoint *src,
		     const tern_endpoint *dst, const tern_tcp_hdr *h,
		     uint32_t len, bool tx, tern_time now);

/* input.c */
/* meta: the frame's offloads as the link delivered it (NULL: plain; a
 * reassembled datagram is plain). */
void stack_tcp_input(tern_stack *s, const tern_ipv4_hdr *ip,
		     const tern_frame_meta *meta, tern_time now);
void stack_ip_expire(tern_stack *s, tern_time now);
/* The accept queue of listener l is full: counted, dropped, true. */
bool listener_overflow(tern_conn *l, const tern_endpoint *local,
		       const tern_endpoint *remote, tern_time now);
/* A child of l for that 4-tuple, in l's SYN queue, in LISTEN (a clone of
 * l), or NULL (counted as dropped: no memory). */
tern_conn *listener_child(tern_conn *l, const tern_endpoint *local,
			  const tern_endpoint *remote, tern_time now);

/* icmp.c */
void stack_icmp_input(tern_stack *s, const tern_ipv4_hdr *ip, tern_time now);

#endif
