/* Expectations for tests/scenario: a scenario's segments and states as
 * compact tables, compared with a run, with a diff on mismatch.
 *
 *   static const xseg segs[] = {
 *           {C, "SYN", 0, 0, 0, 0},
 *           {S, "SYN|ACK", 0, 1, 0, 10},
 *           {C, "ACK", 1, 1, 0, 20},
 *   };
 *   ok &= expect_segments(run, segs, N(segs));
 *
 * A segment row is: sender; flags (exactly this set), then the marks
 * "lost" (never arrived), "forged" (injected by the scenario) or "copy"
 * (a late or duplicate copy made by the network), e.g. "ACK lost"; seq and
 * ack relative to the ISNs (ack only compared when ACK is set); payload
 * length; time in ms (when sent; for a copy, when it arrived).
 * A state row is: connection (0, 1, ... in the order the host's
 * connections first change state), from, to, cause, time in ms.
 *
 * The helpers are static inline so that each test program needs nothing
 * but this header. */
#ifndef TERN_SCENARIO_EXPECT_H
#define TERN_SCENARIO_EXPECT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <tern/stack.h>
#include <tern/trace.h>
#include <tern/wire.h>

#include "scenario.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define C SCN_CLIENT
#define S SCN_SERVER

/* segment marks */
#define LOST 1u
#define FORGED 2u
#define COPY 4u

/* state names as in SCENARIOS.md */
#define CLOSED TERN_TCP_CLOSED
#define LISTEN TERN_TCP_LISTEN
#define SYN_SENT TERN_TCP_SYN_SENT
#define SYN_RECEIVED TERN_TCP_SYN_RECEIVED
#define ESTABLISHED TERN_TCP_ESTABLISHED
#define FIN_WAIT_1 TERN_TCP_FIN_WAIT_1
#define FIN_WAIT_2 TERN_TCP_FIN_WAIT_2
#define CLOSE_WAIT TERN_TCP_CLOSE_WAIT
#define CLOSING TERN_TCP_CLOSING
#define LAST_ACK TERN_TCP_LAST_ACK
#define TIME_WAIT TERN_TCP_TIME_WAIT

#define XMAX 512 /* no scenario puts more on the wire at seed 1 */

typedef struct xseg {
	int from;
	const char *flags; /* "SYN|ACK", any order, then marks: "ACK lost" */
	int64_t seq, ack;
	uint32_t len;
	int64_t ms;
} xseg;

typedef struct xstate {
	int conn;
	int from, to;
	const char *cause;
	int64_t ms;
} xstate;

/* The window field of the segment at index `i` of scn_segments(). */
typedef struct xwin {
	size_t i;
	uint16_t win;
} xwin;

/* ---- running ---- */

/* Runs scenario `name` with the given seed and default settings. */
static inline scn_run *xrun_seed(const char *name, uint64_t seed)
{
	const scn_def *def = scn_find(name);
	scn_run *run = NULL;

	if (!def)
		fail_msg("no scenario named \"%s\" in the catalogue", name);
	int err = scn_execute(def, &(scn_params){.seed = seed}, &run);
	if (err != 0 || !run)
		fail_msg("scenario %s: scn_execute returned %d (%s)", name, err,
			 tern_strerror(err));
	return run;
}

static inline scn_run *xrun(const char *name)
{
	return xrun_seed(name, 1);
}

/* A raw sequence number (of a forged segment, say) made relative to the
 * first ISN `host` chose, as scn_segments() does. */
static inline int64_t xrel(const scn_run *r, int host, uint32_t raw)
{
	bool known = false;
	uint32_t isn = scn_isn(r, host, &known);

	assert_true(known);
	return (int64_t)(uint32_t)(raw - isn);
}

/* ---- flags and marks ---- */

/* Flag names in the order rows print them, then the marks. */
static inline const char *xword(int k, uint8_t *bit, unsigned *mark)
{
	static const char *const names[] = {"SYN",  "FIN",    "RST", "PSH",
					    "ACK",  "URG",    "ECE", "CWR",
					    "lost", "forged", "copy"};
	static const uint8_t bits[] = {TERN_TCP_SYN, TERN_TCP_FIN, TERN_TCP_RST,
				       TERN_TCP_PSH, TERN_TCP_ACK, TERN_TCP_URG,
				       TERN_TCP_ECE, TERN_TCP_CWR};
	static const unsigned marks[] = {LOST, FORGED, COPY};

	if (k < 0 || k >= (int)N(names))
		return NULL;
	*bit = k < (int)N(bits) ? bits[k] : 0;
	*mark = k < (int)N(bits) ? 0 : marks[k - (int)N(bits)];
	return names[k];
}

/* "FIN|ACK lost" -> flags and marks; a bad word fails the test. */
static inline void xparse(const char *text, uint8_t *flags, unsigned *marks)
{
	const char *p = text;

	*flags = 0;
	*marks = 0;
	while (*p) {
		size_t n = strcspn(p, "| ");
		const char *name;
		uint8_t bit = 0;
		unsigned mark = 0;
		int k = 0;
		while ((name = xword(k, &bit, &mark)) != NULL &&
		       !(strlen(name) == n && strncmp(name, p, n) == 0))
			k++;
		if (!name)
			fail_msg("bad word in expectation \"%s\"", text);
		*flags |= bit;
		*marks |= mark;
		p += n;
		while (*p == '|' || *p == ' ')
			p++;
	}
}

static inline const char *xformat_flags(uint8_t flags, unsigned marks,
					char *buf, size_t size)
{
	size_t used = 0;
	const char *name;
	uint8_t bit = 0;
	unsigned mark = 0;

	buf[0] = '\0';
	for (int k = 0; (name = xword(k, &bit, &mark)) != NULL; k++) {
		if (!(flags & bit) && !(marks & mark))
			continue;
		const char *sep = !used ? "" : bit ? "|" : " ";
		used += (size_t)snprintf(buf + used, size - used, "%s%s", sep,
					 name);
		if (used >= size)
			break;
	}
	return buf;
}

/* ---- segments ---- */

static inline unsigned xmarks_of(const scn_seg *s)
{
	return (s->lost ? LOST : 0) | (s->injected ? FORGED : 0) |
	       (s->copy ? COPY : 0);
}

static inline void xformat_seg(int from, uint8_t flags, unsigned marks,
			       int64_t seq, int64_t ack, uint32_t len,
			       int64_t ms, char *buf, size_t size)
{
	char fl[64], acks[24] = "-";

	if (flags & TERN_TCP_ACK)
		snprintf(acks, sizeof(acks), "%" PRId64, ack);
	snprintf(buf, size,
		 "%s %-19s seq=%-10" PRId64 " ack=%-6s len=%-4u %9.3fs",
		 from == C ? "C" : "S",
		 xformat_flags(flags, marks, fl, sizeof(fl)), seq, acks, len,
		 (double)ms / 1000.0);
}

static inline bool xseg_equal(const xseg *e, const scn_seg *s)
{
	uint8_t flags;
	unsigned marks;

	xparse(e->flags, &flags, &marks);
	return e->from == s->from && flags == s->flags && e->seq == s->seq &&
	       (!(flags & TERN_TCP_ACK) || e->ack == s->ack) &&
	       e->len == s->len && (tern_time)e->ms * TERN_MSEC == s->t &&
	       marks == xmarks_of(s);
}

/* Compares every segment on the wire with the table; prints both, row
 * by row, marking the rows that differ with '!', and returns false on
 * any difference (count included). */
static inline bool expect_segments(const scn_run *r, const xseg *exp, size_t n)
{
	static scn_seg got[XMAX];
	size_t ngot = scn_segments(r, got, XMAX);
	bool same = ngot == n;
	size_t rows = ngot > n ? ngot : n;

	for (size_t i = 0; i < n && i < ngot; i++)
		same = same && xseg_equal(&exp[i], &got[i]);
	if (same)
		return true;
	print_error("\n%s: the segments differ (expected %zu, got %zu%s); "
		    "'!' marks a differing row\n",
		    r->def->name, n, ngot, ngot > XMAX ? " or more" : "");
	print_error("    #  %-72s | actual\n", "expected");
	for (size_t i = 0; i < rows && i < XMAX; i++) {
		char e[160] = "(none)", a[160] = "(none)";
		bool ok = i < n && i < ngot && xseg_equal(&exp[i], &got[i]);
		if (i < n) {
			uint8_t flags;
			unsigned marks;
			xparse(exp[i].flags, &flags, &marks);
			xformat_seg(exp[i].from, flags, marks, exp[i].seq,
				    exp[i].ack, exp[i].len, exp[i].ms, e,
				    sizeof(e));
		}
		if (i < ngot)
			xformat_seg(got[i].from, got[i].flags,
				    xmarks_of(&got[i]), got[i].seq, got[i].ack,
				    got[i].len,
				    got[i].t % TERN_MSEC
					    ? -1
					    : (int64_t)(got[i].t / TERN_MSEC),
				    a, sizeof(a));
		print_error("%s %3zu  %-72s | %s\n", ok ? " " : "!", i, e,
			    ok ? "same" : a);
	}
	return false;
}

/* The trace event behind segment i of scn_segments() (same filter), for
 * the fields scn_seg leaves out: window and MSS option. */
static inline const tern_trace_event *xseg_event(const scn_run *r, size_t i)
{
	size_t n = 0;

	for (size_t k = 0; k < r->nevents; k++) {
		const scn_event *e = &r->events[k];
		if (e->ev.kind != TERN_TRACE_SEG ||
		    (!e->ev.seg.tx && !e->injected && !e->copy))
			continue;
		if (n++ == i)
			return &e->ev;
	}
	fail_msg("%s: no segment %zu", r->def->name, i);
	return NULL;
}

static inline bool expect_windows(const scn_run *r, const xwin *exp, size_t n)
{
	bool ok = true;

	for (size_t k = 0; k < n; k++) {
		uint16_t win = xseg_event(r, exp[k].i)->seg.win;
		if (win == exp[k].win)
			continue;
		print_error("%s: segment %zu advertises window %u, expected "
			    "%u\n",
			    r->def->name, exp[k].i, win, exp[k].win);
		ok = false;
	}
	return ok;
}

/* ---- states ---- */

static inline void xstate_format(const xstate *x, char *buf, size_t size)
{
	char edge[48];

	snprintf(edge, sizeof(edge), "%s -> %s", tern_tcp_state_name(x->from),
		 tern_tcp_state_name(x->to));
	snprintf(buf, size, "conn %d %-29s %-12s %10.3fs", x->conn, edge,
		 x->cause ? x->cause : "(null)", (double)x->ms / 1000.0);
}

static inline bool xstate_equal(const xstate *a, const xstate *b)
{
	return a->conn == b->conn && a->from == b->from && a->to == b->to &&
	       a->cause && b->cause && strcmp(a->cause, b->cause) == 0 &&
	       a->ms == b->ms;
}

/* The state changes of `host`, each connection numbered by order of
 * first appearance. Returns the count (XMAX + 1: more). */
static inline size_t xstates_of(const scn_run *r, int host, xstate *out)
{
	static scn_state got[XMAX];
	uint64_t ids[XMAX];
	size_t nids = 0;
	size_t n = scn_states(r, host, got, XMAX);

	for (size_t i = 0; i < n && i < XMAX; i++) {
		size_t c = 0;
		while (c < nids && ids[c] != got[i].conn_id)
			c++;
		if (c == nids)
			ids[nids++] = got[i].conn_id;
		out[i] = (xstate){(int)c, got[i].from, got[i].to, got[i].cause,
				  (int64_t)(got[i].t / TERN_MSEC)};
		if (got[i].t % TERN_MSEC)
			out[i].ms = -1; /* not on a ms: never equal */
	}
	return n;
}

static inline bool expect_states(const scn_run *r, int host, const xstate *exp,
				 size_t n)
{
	static xstate got[XMAX];
	size_t ngot = xstates_of(r, host, got);
	bool same = ngot == n;
	size_t rows = ngot > n ? ngot : n;

	for (size_t i = 0; i < n && i < ngot; i++)
		same = same && xstate_equal(&exp[i], &got[i]);
	if (same)
		return true;
	print_error("\n%s: the %s's states differ (expected %zu, got %zu); "
		    "'!' marks a differing row\n",
		    r->def->name, host == C ? "client" : "server", n, ngot);
	print_error("    #  %-62s | actual\n", "expected");
	for (size_t i = 0; i < rows && i < XMAX; i++) {
		char e[128] = "(none)", a[128] = "(none)";
		bool ok = i < n && i < ngot && xstate_equal(&exp[i], &got[i]);
		if (i < n)
			xstate_format(&exp[i], e, sizeof(e));
		if (i < ngot)
			xstate_format(&got[i], a, sizeof(a));
		print_error("%s %3zu  %-62s | %s\n", ok ? " " : "!", i, e,
			    ok ? "same" : a);
	}
	return false;
}

/* How long connection `conn` of `host` stayed in `state` (the first time
 * it entered it), in ns; fails if it never entered or never left. */
static inline tern_time xtime_in(const scn_run *r, int host, int conn,
				 int state)
{
	static xstate got[XMAX];
	size_t n = xstates_of(r, host, got);
	tern_time in = TERN_TIME_NONE;

	for (size_t i = 0; i < n && i < XMAX; i++) {
		if (got[i].conn != conn)
			continue;
		if (got[i].to == state && in == TERN_TIME_NONE)
			in = (tern_time)got[i].ms * TERN_MSEC;
		else if (got[i].from == state && in != TERN_TIME_NONE)
			return (tern_time)got[i].ms * TERN_MSEC - in;
	}
	fail_msg("%s: conn %d of the %s never went through %s", r->def->name,
		 conn, host == C ? "client" : "server",
		 tern_tcp_state_name(state));
	return 0;
}

/* Ends a scenario test: frees the run, then fails if a table differed
 * (the differences are printed above). */
static inline void xdone(scn_run *r, bool ok)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", r->def->name);
	scn_free(r);
	if (!ok)
		fail_msg("%s: segments or states differ from the expectation "
			 "(see the table above)",
			 name);
}

/* ---- applications ---- */

/* The checksum scn_app_read keeps over the first `n` bytes of the
 * pattern every scenario application sends (scenarios/apps.c): equal
 * only if those bytes arrived once each, in order, intact. */
static inline uint64_t xpattern_checksum(size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = sum * 31 + (uint8_t)((i * 131u + 7u) ^ (i >> 8));
	return sum;
}

/* App `i` wrote `sent` bytes, read `received` (the peer's pattern, intact)
 * and was told `error` (0 or TERN_ERR_*). */
static inline void expect_app(const scn_run *r, int i, size_t sent,
			      size_t received, int error)
{
	assert_true(i < r->napps);
	const scn_app *a = &r->apps[i];
	if (a->sent != sent || a->received != received || a->error != error ||
	    a->checksum != xpattern_checksum(received))
		fail_msg("%s: app %d (%s) expected sent=%zu received=%zu "
			 "error=%d (%s), got sent=%zu received=%zu error=%d "
			 "(%s)%s",
			 r->def->name, i, a->host == C ? "client" : "server",
			 sent, received, error, tern_strerror(error), a->sent,
			 a->received, a->error, tern_strerror(a->error),
			 a->checksum != xpattern_checksum(a->received)
				 ? ", and the bytes read are not the pattern"
				 : "");
}

#endif
