/* Traces as `tern draw` reads them: the JSON Lines files that --json
 * writes (src/trace/json.c), loaded whole and checked line by line, and
 * the connections their events name. */
#ifndef TERN_TOOLS_TRACE_LOAD_H
#define TERN_TOOLS_TRACE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tern/trace.h>
#include <tern/types.h>

/* One event. Strings are the trace's (interned: equal text, equal
 * pointer), valid until trace_free. */
typedef struct trace_event {
	uint64_t t;	  /* microseconds since the trace's start */
	const char *host; /* the stack that reported it */
	const char *text; /* state: the cause; drop: the reason */
	uint8_t kind;	  /* enum tern_trace_kind */
	bool tx;	  /* seg: sent (else received) */
	bool have_addrs;  /* drop: src and dst are known */
	uint8_t flags;	  /* seg: TERN_TCP_* */
	uint8_t from, to; /* state: enum tern_tcp_state */
	/* seg and drop: source and destination; state: local and remote */
	tern_endpoint src, dst;
	uint32_t seq, ack, len;
	uint16_t win, mss; /* mss: 0 if the segment had no MSS option */
} trace_event;

typedef struct trace_strings trace_strings;

typedef struct trace {
	trace_event *ev;
	size_t n, cap;
	trace_strings *strings;
} trace;

/* Loads the files in the order given into *t, which starts zeroed. With
 * `pieces`, they are the files of one rotated trace, oldest first
 * (T.2 T.1 T), and one that starts before the previous one ended is
 * refused; without, they are separate traces (`tern draw states` sums
 * them), each starting at 0. Lines whose "ev" is none of
 * state, seg and drop are skipped, and unknown fields ignored, so that
 * newer traces still load. Returns 0, or 2 (the exit status) with the
 * reason printed: "FILE:LINE: why" for a malformed line, "FILE: why"
 * for a file that cannot be read or holds no event. *t is then freed. */
int trace_load(trace *t, char *const *paths, int npaths, bool pieces);
void trace_free(trace *t);

/* "10.0.0.1:80" <-> endpoint; parse returns false on anything else. */
bool trace_endpoint_parse(const char *text, tern_endpoint *e);
void trace_endpoint_format(const tern_endpoint *e, char *buf, size_t size);
bool trace_endpoint_eq(const tern_endpoint *a, const tern_endpoint *b);

/* A connection: an unordered pair of endpoints. The client is the side
 * that sent the first SYN without ACK (else the first to send, else the
 * local side of the first state change); side 0 is the client, side 1
 * the server. A listener (remote 0.0.0.0:0) is not a connection. */
typedef struct trace_conn {
	tern_endpoint end[2];
	const char *host[2]; /* the stack tracing each side; NULL: none */
	size_t first_ev;     /* index of its first event */
	size_t nevents;	     /* its events: trace_conns.events[ev_off...] */
	size_t ev_off;
	uint64_t first, last; /* t of its first and last event */
} trace_conn;

#define TRACE_NO_CONN UINT32_MAX

typedef struct trace_conns {
	trace_conn *v; /* in order of first appearance */
	size_t n;
	uint32_t *of;	/* per event: its connection's index or TRACE_NO_CONN */
	size_t *events; /* each connection's events, in trace order */
} trace_conns;

/* Finds the connections of the trace: 0, or -1 if out of memory. */
int trace_conns_find(const trace *t, trace_conns *c);
void trace_conns_free(trace_conns *c);
/* The side of c an endpoint is: 0, 1, or -1 for neither. */
int trace_conn_side(const trace_conn *c, const tern_endpoint *e);

#endif
