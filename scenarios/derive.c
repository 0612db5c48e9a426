/* What the tests and the timeline read off a run: the segments on the
 * wire with numbers relative to the ISNs, and each side's states. */
#include <tern/wire.h>

#include "scenario.h"

static bool is_syn_tx(const scn_event *e, int host)
{
	return e->host == host && !e->injected &&
	       e->ev.kind == TERN_TRACE_SEG && e->ev.seg.tx &&
	       (e->ev.seg.flags & TERN_TCP_SYN);
}

uint32_t scn_isn(const scn_run *r, int host, bool *known)
{
	for (size_t i = 0; i < r->nevents; i++) {
		const scn_event *e = &r->events[i];
		if (is_syn_tx(e, host)) {
			if (known)
				*known = true;
			return e->ev.seg.seq;
		}
	}
	if (known)
		*known = false;
	return 0;
}

/* The ISN `host` chose for the connection event i belongs to: the SYN it
 * sent on the same pair of ports, latest before i (else the first after,
 * for a forged segment that precedes the handshake). */
uint32_t scn_isn_for(const scn_run *r, int host, size_t i, bool *known)
{
	const tern_trace_event *ref = &r->events[i].ev;
	uint16_t a = ref->seg.src.port, b = ref->seg.dst.port;
	bool found = false;
	uint32_t isn = 0;

	for (size_t j = 0; j < r->nevents; j++) {
		const scn_event *e = &r->events[j];
		if (!is_syn_tx(e, host))
			continue;
		uint16_t p = e->ev.seg.src.port, q = e->ev.seg.dst.port;
		if (!((p == a && q == b) || (p == b && q == a)))
			continue;
		if (found && j > i)
			break;
		found = true;
		isn = e->ev.seg.seq;
	}
	if (known)
		*known = found;
	return isn;
}

/* Whether `host` sent the SYN of event j already (a retransmission). */
static bool sent_before(const scn_run *r, int host, size_t j)
{
	for (size_t k = 0; k < j; k++)
		if (is_syn_tx(&r->events[k], host) &&
		    r->events[k].ev.seg.seq == r->events[j].ev.seg.seq)
			return true;
	return false;
}

/* Whether the other side itself (not an injected, forged segment) sent
 * anything on the ports of `syn`: the run's real connections are named
 * before the ones forged segments opened. */
static bool peer_is_real(const scn_run *r, int host, const scn_event *syn)
{
	uint16_t a = syn->ev.seg.src.port, b = syn->ev.seg.dst.port;

	for (size_t j = 0; j < r->nevents; j++) {
		const scn_event *e = &r->events[j];
		if (e->host != host && !e->injected &&
		    e->ev.kind == TERN_TRACE_SEG && e->ev.seg.tx &&
		    e->ev.seg.src.port == b && e->ev.seg.dst.port == a)
			return true;
	}
	return false;
}

/* 1 for the first ISN `host` chose on a real connection, 2 for the next
 * distinct one, ..., then those of connections forged segments opened; a
 * retransmitted SYN keeps its number. */
int scn_isn_ordinal(const scn_run *r, int host, uint32_t isn)
{
	int n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < r->nevents; j++) {
			const scn_event *e = &r->events[j];
			if (!is_syn_tx(e, host) ||
			    peer_is_real(r, host, e) != (pass == 0) ||
			    sent_before(r, host, j))
				continue;
			n++;
			if (e->ev.seg.seq == isn)
				return n;
		}
	}
	return 0;
}

static int64_t relative(const scn_run *r, int host, size_t i, uint32_t v)
{
	bool known;
	uint32_t isn = scn_isn_for(r, host, i, &known);

	return known ? (int64_t)(uint32_t)(v - isn) : (int64_t)v;
}

size_t scn_segments(const scn_run *r, scn_seg *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nevents; i++) {
		const scn_event *e = &r->events[i];
		if (e->ev.kind != TERN_TRACE_SEG ||
		    (!e->ev.seg.tx && !e->injected && !e->copy))
			continue;
		if (n == max)
			return n + 1; /* more than the caller expects */
		int from = e->ev.seg.tx && !e->injected ? e->host : 1 - e->host;
		scn_seg *s = &out[n++];
		s->from = from;
		s->flags = e->ev.seg.flags;
		s->seq = relative(r, from, i, e->ev.seg.seq);
		s->ack = (e->ev.seg.flags & TERN_TCP_ACK)
				 ? relative(r, 1 - from, i, e->ev.seg.ack)
				 : e->ev.seg.ack;
		s->len = e->ev.seg.len;
		s->injected = e->injected;
		s->lost = e->lost;
		s->copy = e->copy;
		s->t = e->ev.t;
	}
	return n;
}

size_t scn_states(const scn_run *r, int host, scn_state *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nevents; i++) {
		const scn_event *e = &r->events[i];
		if (e->ev.kind != TERN_TRACE_STATE || e->host != host)
			continue;
		if (n == max)
			return n + 1;
		out[n++] = (scn_state){
			.host = host,
			.conn_id = e->ev.state.conn_id,
			.from = e->ev.state.from,
			.to = e->ev.state.to,
			.cause = e->ev.state.cause,
			.t = e->ev.t,
		};
	}
	return n;
}
