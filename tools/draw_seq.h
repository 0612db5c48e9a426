/* `tern draw seq`: one connection of a trace as a sequence diagram. */
#ifndef TERN_TOOLS_DRAW_SEQ_H
#define TERN_TOOLS_DRAW_SEQ_H

#include <stdio.h>

#include "trace_load.h"

/* What each of a connection's events is in the drawing. */
enum seq_role {
	SEQ_TX,	      /* sent, and its arrival is in the trace */
	SEQ_LOST,     /* sent to a traced side, never arrived */
	SEQ_SENT,     /* sent to a side the trace does not see */
	SEQ_ARRIVAL,  /* the arrival of a SEQ_TX (the end of its arrow) */
	SEQ_COPY,     /* arrived again: a copy the network made */
	SEQ_FORGED,   /* arrived, never sent by the traced sender */
	SEQ_RECEIVED, /* arrived from a side the trace does not see */
	SEQ_INFLIGHT, /* sent as the receiver's trace ended: fate unknown */
	SEQ_STATE,
	SEQ_DROP,
};

#define SEQ_NONE ((size_t)-1)

/* A connection's events (positions 0..n-1, in trace order) and the
 * segments matched. Each arrival is matched to an unmatched earlier
 * transmission with the same src, dst, flags, seq, ack, len and win:
 * of several, the one whose transit is nearest the connection's usual
 * transit (the median of the arrivals with one candidate; without
 * any, the latest transmission), the oldest of equals. The nearest, not simply the first: a retransmission is
 * the same segment again, and when the first was lost it is the
 * retransmission that arrives; while a burst of identical segments (a
 * run of duplicate ACKs) arrives in the order it left. */
typedef struct seq_match {
	size_t n;
	size_t *ev;    /* the trace's index of each position */
	size_t *peer;  /* SEQ_TX <-> SEQ_ARRIVAL partner, else SEQ_NONE */
	uint8_t *role; /* enum seq_role */
	size_t nsegs;  /* arrows: segments sent plus arrivals unmatched */
	size_t nlost, ncopies, nforged, ninflight;
} seq_match;

/* 0, or -1 if out of memory. */
int seq_match_conn(const trace *t, const trace_conns *cs, uint32_t id,
		   seq_match *m);
void seq_match_free(seq_match *m);

/* The rows to draw: the positions [r0, r1) whose times lie in
 * [from, to] (microseconds since the trace's start), at most limit of
 * them; `more` of the window's events past the limit are left out. */
typedef struct seq_range {
	size_t r0, r1, more;
} seq_range;

/* False if the window holds none of the connection's events. */
bool seq_window(const trace *t, const seq_match *m, uint64_t from, uint64_t to,
		size_t limit, seq_range *r);

/* A time in milliseconds from microseconds: "10", "70.5", "-3.25". */
void seq_ms_text(int64_t us, char *buf, size_t size);

/* Writes the diagram; `source` names the trace files in the subtitle.
 * 0, or -1 if a write failed or memory ran out. */
int draw_seq_svg(FILE *out, const trace *t, const trace_conn *c,
		 const seq_match *m, const seq_range *r, const char *source);

#endif
