/* `tern draw seq`: a connection as a textbook sequence diagram. The
 * client's lifeline on the left, the server's on the right, time running
 * down, one row per event: a segment's arrow leaves the sender at the
 * row of its transmission and reaches the receiver at the row of its
 * arrival, so the transit shows as a slant; a lost one stops short at a
 * cross. Numbers are written as scenarios/timeline.c writes them (J+n,
 * K+n). Everything goes through svg.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <tern/wire.h>

#include "draw_seq.h"
#include "svg.h"

/* ---- matching transmissions with arrivals ---- */

typedef struct segkey {
	uint64_t src, dst; /* address << 16 | port */
	uint32_t seq, ack, len;
	uint16_t win;
	uint8_t flags;
	size_t pos;
} segkey;

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int segkey_cmp(const void *a, const void *b)
{
	const segkey *x = a, *y = b;
	int c = cmp_u64(x->src, y->src);

	c = c ? c : cmp_u64(x->dst, y->dst);
	c = c ? c : cmp_u64(x->flags, y->flags);
	c = c ? c : cmp_u64(x->seq, y->seq);
	c = c ? c : cmp_u64(x->ack, y->ack);
	c = c ? c : cmp_u64(x->len, y->len);
	c = c ? c : cmp_u64(x->win, y->win);
	return c ? c : cmp_u64(x->pos, y->pos);
}

static bool same_segment(const segkey *x, const segkey *y)
{
	segkey a = *x, b = *y;

	a.pos = b.pos = 0;
	return segkey_cmp(&a, &b) == 0;
}

static const trace_event *at(const trace *t, const seq_match *m, size_t p)
{
	return &t->ev[m->ev[p]];
}

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The transmission still unmatched (pend[0..n), oldest first) whose
 * transit to an arrival at `t` is nearest the connection's usual one:
 * the oldest if several are as near. Returns its index in pend. */
static size_t nearest(const trace *t, const seq_match *m, const size_t *pend,
		      size_t n, uint64_t arrival, uint64_t transit)
{
	size_t best = 0;
	uint64_t best_d = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		uint64_t sent = at(t, m, pend[i])->t;
		uint64_t d =
			distance(arrival > sent ? arrival - sent : 0, transit);
		if (d < best_d) {
			best = i;
			best_d = d;
		}
	}
	return best;
}

/* One run of identical segments, in trace order. */
static void match_run(const trace *t, const trace_conn *c, seq_match *m,
		      const segkey *k, size_t n, size_t *pend, uint64_t transit)
{
	size_t np = 0;
	bool sent = false;

	for (size_t i = 0; i < n; i++) {
		size_t p = k[i].pos;
		const trace_event *e = at(t, m, p);
		int from = trace_conn_side(c, &e->src) == 1;
		bool from_traced = c->host[from], to_traced = c->host[!from];
		if (e->tx) {
			pend[np++] = p;
			sent = true;
			m->role[p] = to_traced ? SEQ_LOST : SEQ_SENT;
		} else if (np) {
			size_t j = nearest(t, m, pend, np, e->t, transit);
			size_t q = pend[j];
			memmove(pend + j, pend + j + 1,
				(np-- - j - 1) * sizeof(*pend));
			m->role[q] = SEQ_TX;
			m->role[p] = SEQ_ARRIVAL;
			m->peer[p] = q;
			m->peer[q] = p;
		} else {
			m->role[p] = !from_traced ? SEQ_RECEIVED
				     : sent	  ? SEQ_COPY
						  : SEQ_FORGED;
		}
	}
}

static int cmp_u64p(const void *a, const void *b)
{
	return cmp_u64(*(const uint64_t *)a, *(const uint64_t *)b);
}

/* The connection's usual transit: the median of those arrivals that
 * have one transmission to come from (between two times nothing of the
 * same segment was in flight), 0 if there are none. */
static uint64_t usual_transit(const trace *t, const seq_match *m,
			      const segkey *k, size_t nk, uint64_t *v)
{
	size_t n = 0, pending = 0, last = 0;
	bool sure = true;

	for (size_t i = 0; i < nk; i++) {
		const trace_event *e = at(t, m, k[i].pos);
		if (i && !same_segment(&k[i - 1], &k[i])) {
			pending = 0;
			sure = true;
		}
		if (e->tx) {
			sure = sure && pending == 0;
			pending++;
			last = k[i].pos;
		} else if (pending) {
			if (sure && pending == 1 && e->t >= at(t, m, last)->t)
				v[n++] = e->t - at(t, m, last)->t;
			sure = --pending == 0 ? true : sure;
		}
	}
	qsort(v, n, sizeof(*v), cmp_u64p);
	return n ? v[n / 2] : 0;
}

static uint64_t ep_num(const tern_endpoint *e)
{
	return (uint64_t)e->addr << 16 | e->port;
}

/* The connection's events, their roles but those of segments, and the
 * segments' keys (returned: how many). */
static size_t collect(const trace *t, const trace_conns *cs, uint32_t id,
		      seq_match *m, segkey *k)
{
	const trace_conn *c = &cs->v[id];
	size_t nk = 0;

	for (size_t p = 0; p < c->nevents; p++) {
		size_t i = cs->events[c->ev_off + p];
		const trace_event *e = &t->ev[i];
		m->ev[p] = i;
		m->peer[p] = SEQ_NONE;
		m->role[p] = e->kind == TERN_TRACE_STATE ? SEQ_STATE : SEQ_DROP;
		if (e->kind == TERN_TRACE_SEG)
			k[nk++] = (segkey){ep_num(&e->src), ep_num(&e->dst),
					   e->seq,	    e->ack,
					   e->len,	    e->win,
					   e->flags,	    p};
	}
	m->n = c->nevents;
	return nk;
}

/* The time of host's last event in the whole trace. */
static uint64_t host_end(const trace *t, const char *host)
{
	uint64_t end = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].host == host && t->ev[i].t > end)
			end = t->ev[i].t;
	return end;
}

/* A segment is lost only if its receiver's trace went on long enough
 * to see it arrive (its usual transit after it left); one sent as that
 * trace ended (a run stopped) was in flight, its fate unknown. */
static void mark_inflight(const trace *t, const trace_conn *c, seq_match *m,
			  uint64_t transit)
{
	uint64_t end[2] = {0, 0};

	for (int s = 0; s < 2; s++)
		if (c->host[s])
			end[s] = host_end(t, c->host[s]);
	for (size_t p = 0; p < m->n; p++) {
		const trace_event *e = at(t, m, p);
		int to = trace_conn_side(c, &e->dst);
		if (m->role[p] == SEQ_LOST && to >= 0 &&
		    end[to] < e->t + transit + (transit == 0))
			m->role[p] = SEQ_INFLIGHT;
	}
}

static void count_roles(seq_match *m)
{
	for (size_t p = 0; p < m->n; p++) {
		uint8_t r = m->role[p];
		m->nsegs += r != SEQ_ARRIVAL && r != SEQ_STATE && r != SEQ_DROP;
		m->nlost += r == SEQ_LOST;
		m->ncopies += r == SEQ_COPY;
		m->nforged += r == SEQ_FORGED;
		m->ninflight += r == SEQ_INFLIGHT;
	}
}

int seq_match_conn(const trace *t, const trace_conns *cs, uint32_t id,
		   seq_match *m)
{
	size_t n = cs->v[id].nevents ? cs->v[id].nevents : 1;
	segkey *k = malloc(n * sizeof(*k));
	size_t *pend = malloc(n * sizeof(*pend));
	uint64_t *transits = malloc(n * sizeof(*transits));

	memset(m, 0, sizeof(*m));
	m->ev = malloc(n * sizeof(*m->ev));
	m->peer = malloc(n * sizeof(*m->peer));
	m->role = malloc(n);
	if (k && pend && transits && m->ev && m->peer && m->role) {
		size_t nk = collect(t, cs, id, m, k);
		qsort(k, nk, sizeof(*k), segkey_cmp);
		uint64_t transit = usual_transit(t, m, k, nk, transits);
		for (size_t i = 0, j; i < nk; i = j) {
			for (j = i + 1; j < nk && same_segment(&k[i], &k[j]);
			     j++)
				;
			match_run(t, &cs->v[id], m, k + i, j - i, pend,
				  transit);
		}
		mark_inflight(t, &cs->v[id], m, transit);
		count_roles(m);
	} else {
		seq_match_free(m);
	}
	free(k);
	free(pend);
	free(transits);
	return m->ev ? 0 : -1;
}

void seq_match_free(seq_match *m)
{
	free(m->ev);
	free(m->peer);
	free(m->role);
	memset(m, 0, sizeof(*m));
}

bool seq_window(const trace *t, const seq_match *m, uint64_t from, uint64_t to,
		size_t limit, seq_range *r)
{
	size_t p = 0, end;

	while (p < m->n && at(t, m, p)->t < from)
		p++;
	for (end = p; end < m->n && at(t, m, end)->t <= to; end++)
		;
	r->r0 = p;
	r->r1 = end - p > limit ? p + limit : end;
	r->more = end - r->r1;
	return r->r1 > r->r0;
}

/* ---- the drawing ---- */

#define ROW 20.0       /* between two rows */
#define BREAK 34.0     /* more, where time jumps */
#define ROWS_TOP 150.0 /* the first row */
#define HEAD_TOP 76.0  /* the lifelines' heads */
#define HEAD_H 38.0
#define MIN_GAP 360.0	/* between the lifelines, at least */
#define MONO 0.61	/* a monospace character's advance, in ems */
#define LOST_REACH 0.66 /* how far a lost segment gets */
/* A gap between rows is a break past both: 10 times the median gap
 * (an RTO wait among round trips), 1 ms; or past 200 ms anyway. */
#define BREAK_FACTOR 10
#define BREAK_MIN_US 1000
#define BREAK_ANY_US 200000

static const char css[] =
	".lbl,.time,.st,.cause,.hend,.brk{font-family:'DejaVu Sans "
	"Mono',Menlo,Consolas,monospace}"
	".title{font-size:15px;font-weight:bold}"
	".note{font-size:11px;color:#444}"
	".head rect{fill:#eceff1;color:#37474f}"
	".hname{font-size:12px;font-weight:bold}"
	".hend{font-size:11px;color:#37474f}"
	".untraced rect{stroke-dasharray:4 3}"
	".untraced .hname{font-weight:normal;font-style:italic;color:#666}"
	".life{color:#37474f;stroke-width:1.5}"
	".gap{color:#37474f;stroke-dasharray:2 4}"
	".time{font-size:10px;color:#555}"
	".lbl{font-size:10px;paint-order:stroke;stroke:#fff;"
	"stroke-width:3px;stroke-linejoin:round}"
	".c2s{color:#1f5fa8}.s2c{color:#2e6b30}"
	".lost{color:#c62828}.forged{color:#8e24aa}"
	".dup line,.forged line{stroke-dasharray:5 3}.inflight "
	"line{stroke-dasharray:2 3}"
	".cross{stroke-width:2}"
	".state{color:#263238}.st{font-size:11px;font-weight:bold}"
	".cause{font-size:9px;color:#666}.mark{fill:currentColor}"
	".start{color:#607d8b;font-style:italic}"
	".drop{color:#c62828}"
	".break{color:#777}.brk{font-size:10px;font-style:italic}"
	".more{color:#c62828;font-size:11px}";

typedef struct draw {
	svg *s;
	const trace *t;
	const trace_conn *c;
	const seq_match *m;
	seq_range r;
	uint32_t *isn; /* per position and side: [2 * p + side] */
	bool *isn_known;
	double *y;     /* per row drawn: [p - r0] */
	bool *brk;     /* a break just before the row */
	double x[2];   /* the lifelines */
	double time_w; /* the time axis' column */
	double width, height, bottom;
	uint64_t t0; /* the first row's time */
} draw;

static double text_w(const char *s, double size)
{
	size_t chars = 0;

	for (; *s; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return (double)chars * MONO * size;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

/* Milliseconds with up to three decimals, no trailing zeros. */
void seq_ms_text(int64_t us, char *buf, size_t size)
{
	snprintf(buf, size, "%s%.3f", us < 0 ? "-" : "",
		 (double)(us < 0 ? -us : us) / 1e3);
	char *end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = '\0';
	if (end[-1] == '.')
		end[-1] = '\0';
}

static void gap_text(uint64_t us, char *buf, size_t size)
{
	char n[24];

	seq_ms_text((int64_t)(us >= 1000000 ? us / 1000 : us), n, sizeof(n));
	snprintf(buf, size, "%s %s", n, us >= 1000000 ? "s" : "ms");
}

static int64_t rel_t(const draw *d, size_t p)
{
	return (int64_t)(at(d->t, d->m, p)->t - d->t0);
}

/* The side of the connection that sent a segment (0 client, 1 server). */
static int sender(const draw *d, const trace_event *e)
{
	return trace_conn_side(d->c, &e->src) == 1;
}

/* "J+1461" for a number relative to an ISN; the number itself when the
 * ISN is unknown or the number nowhere near it (a forged segment's), as
 * scenarios/timeline.c writes them. */
static void num_text(const draw *d, size_t p, int side, uint32_t v, char *buf,
		     size_t size)
{
	uint32_t isn = d->isn[2 * p + side];
	int32_t off = (int32_t)(v - isn);
	const char *name = side ? "K" : "J";

	if (!d->isn_known[2 * p + side] || off > (1 << 26) || off < -(1 << 26))
		snprintf(buf, size, "%u", v);
	else if (off == 0)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s%c%u", name, off > 0 ? '+' : '-',
			 off > 0 ? (uint32_t)off : (uint32_t)-off);
}

static void flags_text(uint8_t flags, char *buf, size_t size)
{
	tern_tcp_flags_format(flags, buf, size);
	for (char *c = buf; *c; c++)
		if (*c == '|')
			*c = '+';
}

static void seg_label(const draw *d, size_t p, char *buf, size_t size)
{
	const trace_event *e = at(d->t, d->m, p);
	int from = sender(d, e);
	char flags[48], seq[24], ack[24] = "", len[24] = "", mss[24] = "";
	uint8_t role = d->m->role[p];

	flags_text(e->flags, flags, sizeof(flags));
	num_text(d, p, from, e->seq, seq, sizeof(seq));
	if (e->flags & TERN_TCP_ACK) {
		strcpy(ack, " ack=");
		num_text(d, p, !from, e->ack, ack + 5, sizeof(ack) - 5);
	}
	if (e->len)
		snprintf(len, sizeof(len), " len=%u", e->len);
	if (e->mss)
		snprintf(mss, sizeof(mss), " mss=%u", e->mss);
	snprintf(buf, size, "%s%s seq=%s%s%s win=%u%s",
		 role == SEQ_COPY     ? "copy: "
		 : role == SEQ_FORGED ? "forged: "
				      : "",
		 flags, seq, ack, len, e->win, mss);
}

/* The ISN each side had at each position: the seq of the latest SYN it
 * sent (seen where it is traced: its own tx, else the peer's rx), or,
 * before its first SYN, that one's. */
static void find_isns(draw *d)
{
	for (int s = 0; s < 2; s++) {
		bool traced = d->c->host[s], have = false;
		uint32_t cur = 0;
		size_t first = SEQ_NONE;
		for (size_t p = 0; p < d->m->n; p++) {
			const trace_event *e = at(d->t, d->m, p);
			if (e->kind == TERN_TRACE_SEG &&
			    (e->flags & TERN_TCP_SYN) && e->tx == traced &&
			    trace_endpoint_eq(&e->src, &d->c->end[s])) {
				cur = e->seq;
				first = have ? first : p;
				have = true;
			}
			d->isn[2 * p + s] = cur;
			d->isn_known[2 * p + s] = have;
		}
		for (size_t p = 0; have && p < first; p++) {
			d->isn[2 * p + s] = d->isn[2 * first + s];
			d->isn_known[2 * p + s] = true;
		}
	}
}

/* ---- rows ---- */

/* Each row ROW below the one before, and BREAK more where time jumps. */
static bool place_rows(draw *d)
{
	size_t nr = d->r.r1 - d->r.r0, ng = 0;
	uint64_t *gaps = malloc(nr * sizeof(*gaps));

	if (!gaps)
		return false;
	for (size_t k = 1; k < nr; k++) {
		uint64_t a = at(d->t, d->m, d->r.r0 + k - 1)->t;
		uint64_t b = at(d->t, d->m, d->r.r0 + k)->t;
		if (b > a)
			gaps[ng++] = b - a;
	}
	qsort(gaps, ng, sizeof(*gaps), cmp_u64p);
	uint64_t limit = ng ? gaps[ng / 2] * BREAK_FACTOR : 0;
	limit = limit > BREAK_MIN_US ? limit : BREAK_MIN_US;
	free(gaps);
	d->y[0] = ROWS_TOP;
	d->brk[0] = false;
	for (size_t k = 1; k < nr; k++) {
		uint64_t a = at(d->t, d->m, d->r.r0 + k - 1)->t;
		uint64_t b = at(d->t, d->m, d->r.r0 + k)->t;
		uint64_t g = b > a ? b - a : 0;
		d->brk[k] = g > limit || g > BREAK_ANY_US;
		d->y[k] = d->y[k - 1] + ROW + (d->brk[k] ? BREAK : 0);
	}
	d->bottom = d->y[nr - 1] + ROW;
	return true;
}

/* The y of any position: rows outside the drawing continue the rows'
 * spacing above and below it (for the arrows that cross its edges). */
static double row_y(const draw *d, size_t p)
{
	size_t last = d->r.r1 - d->r.r0 - 1;

	if (p < d->r.r0)
		return d->y[0] - (double)(d->r.r0 - p) * ROW;
	if (p >= d->r.r1)
		return d->y[last] + (double)(p - d->r.r1 + 1) * ROW;
	return d->y[p - d->r.r0];
}

/* ---- labels beside the lifelines: state changes and drops ---- */

/* The side an event is written on, or -1 if it is no state or drop. */
static int outer_side(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);

	if (e->kind == TERN_TRACE_STATE)
		return trace_conn_side(d->c, &e->src) == 1;
	if (e->kind == TERN_TRACE_DROP)
		return trace_conn_side(d->c, &e->dst) == 1;
	return -1;
}

static void state_texts(const trace_event *e, char *main, char *cause,
			size_t size)
{
	snprintf(main, size, "%s → %s", tern_tcp_state_name(e->from),
		 tern_tcp_state_name(e->to));
	if (e->text && *e->text)
		snprintf(cause, size, "(%s)", e->text);
	else
		cause[0] = '\0';
}

static double outer_w(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);
	char main[96], cause[96];

	if (e->kind == TERN_TRACE_DROP)
		return text_w("dropped: ", 10) + text_w(e->text, 10);
	state_texts(e, main, cause, sizeof(main));
	return text_w(main, 11) + (cause[0] ? 5 + text_w(cause, 9) : 0);
}

/* The state a side is in when the drawing starts, or -1 if unknown. */
static int start_state(const draw *d, int side)
{
	for (size_t p = d->r.r0; p-- > 0;)
		if (at(d->t, d->m, p)->kind == TERN_TRACE_STATE &&
		    outer_side(d, p) == side)
			return at(d->t, d->m, p)->to;
	for (size_t p = d->r.r0; p < d->m->n; p++)
		if (at(d->t, d->m, p)->kind == TERN_TRACE_STATE &&
		    outer_side(d, p) == side)
			return at(d->t, d->m, p)->from;
	return -1;
}

/* ---- measures ---- */

/* The arrow a row draws: its owner (the transmission, or an arrival
 * nobody sent), or SEQ_NONE. */
static size_t arrow_of(const draw *d, size_t p)
{
	uint8_t role = d->m->role[p];

	if (role == SEQ_STATE || role == SEQ_DROP)
		return SEQ_NONE;
	if (role != SEQ_ARRIVAL)
		return p;
	/* an arrival draws the arrow only if its sending row is not drawn */
	return d->m->peer[p] < d->r.r0 ? d->m->peer[p] : SEQ_NONE;
}

static double head_half(const draw *d, int side, char *end, size_t size)
{
	const char *host = d->c->host[side];

	trace_endpoint_format(&d->c->end[side], end, size);
	return max2(text_w(host ? host : "(not traced)", 12), text_w(end, 11)) /
		       2 +
	       12;
}

/* Where the lifelines go, from the widest text on each side. */
static void measure(draw *d, double header_w)
{
	double side_w[2] = {0, 0}, mid = 0, hw[2];
	char buf[256], last[32];

	for (int s = 0; s < 2; s++) {
		int st = start_state(d, s);
		if (st >= 0)
			side_w[s] = text_w(tern_tcp_state_name(st), 11);
		hw[s] = head_half(d, s, buf, sizeof(buf));
	}
	for (size_t p = d->r.r0; p < d->r.r1; p++) {
		int s = outer_side(d, p);
		size_t a = arrow_of(d, p);
		if (s >= 0)
			side_w[s] = max2(side_w[s], outer_w(d, p));
		if (a != SEQ_NONE) {
			seg_label(d, a, buf, sizeof(buf));
			mid = max2(mid, text_w(buf, 10));
		}
	}
	seq_ms_text(rel_t(d, d->r.r1 - 1), last, sizeof(last));
	d->time_w = max2(56, text_w(last, 10) + 18);
	d->x[0] = d->time_w + max2(side_w[0] + 14, hw[0] + 4);
	d->x[1] = d->x[0] + max2(max2(MIN_GAP, mid + 50), hw[0] + hw[1] + 24);
	d->width = d->x[1] + max2(side_w[1] + 14, hw[1] + 4) + 12;
	d->width = max2(d->width, header_w + 24);
}

/* ---- the header: what is drawn, and the ISNs ---- */

typedef struct header {
	char title[128], sub[512], isn[512];
} header;

/* Appends to buf (of size bytes, *used of them taken); text that does
 * not fit is cut, and *used never passes size - 1. */
static void appendf(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;

	if (*used >= size - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used +=
			(size_t)n < size - *used ? (size_t)n : size - 1 - *used;
}

/* "J = 2247672132 (the client's ISN)"; a second incarnation of the
 * connection on the same ports adds its ISN. */
static void isn_text(const draw *d, int s, char *buf, size_t size)
{
	const char *name = s ? "K" : "J", *who = s ? "server" : "client";
	char vals[64] = "";
	size_t used = 0, shown = 0;
	uint32_t last = 0;

	for (size_t p = 0; p < d->m->n && shown < 4; p++) {
		uint32_t v = d->isn[2 * p + s];
		if (!d->isn_known[2 * p + s] || (shown && v == last))
			continue;
		if (shown == 3)
			appendf(vals, sizeof(vals), &used, ", …");
		else
			appendf(vals, sizeof(vals), &used, "%s%u",
				shown ? ", later " : "", v);
		last = v;
		shown++;
	}
	if (shown)
		snprintf(buf, size, "%s = %s (the %s's ISN)", name, vals, who);
	else
		snprintf(buf, size,
			 "%s: no SYN from the %s in the trace, so its "
			 "numbers are whole",
			 name, who);
}

static void header_texts(const draw *d, const char *source, header *h)
{
	char a[32], b[32], first[32], last[32], j[200], k[200];
	const seq_match *m = d->m;
	size_t n = 0;

	trace_endpoint_format(&d->c->end[0], a, sizeof(a));
	trace_endpoint_format(&d->c->end[1], b, sizeof(b));
	snprintf(h->title, sizeof(h->title), "%s ↔ %s", a, b);
	seq_ms_text((int64_t)at(d->t, m, d->r.r0)->t, first, sizeof(first));
	seq_ms_text((int64_t)at(d->t, m, d->r.r1 - 1)->t, last, sizeof(last));
	/* the source (a title, file names) may be any length: cut */
	appendf(h->sub, sizeof(h->sub), &n, "%.200s: %zu segments", source,
		m->nsegs);
	if (m->nlost)
		appendf(h->sub, sizeof(h->sub), &n, ", %zu lost", m->nlost);
	if (m->ncopies)
		appendf(h->sub, sizeof(h->sub), &n, ", %zu cop%s", m->ncopies,
			m->ncopies == 1 ? "y" : "ies");
	if (m->nforged)
		appendf(h->sub, sizeof(h->sub), &n, ", %zu forged", m->nforged);
	if (m->ninflight)
		appendf(h->sub, sizeof(h->sub), &n,
			", %zu in flight at the end", m->ninflight);
	appendf(h->sub, sizeof(h->sub), &n,
		"; events %zu to %zu of %zu (%s to %s ms into the trace)",
		d->r.r0 + 1, d->r.r1, m->n, first, last);
	isn_text(d, 0, j, sizeof(j));
	isn_text(d, 1, k, sizeof(k));
	snprintf(h->isn, sizeof(h->isn),
		 "%s, %s: seq and ack are shown from them.", j, k);
}

static double header_w(const header *h)
{
	return max2(text_w(h->title, 15),
		    max2(text_w(h->sub, 11) * 0.92, text_w(h->isn, 11) * 0.92));
}

static void draw_header(const draw *d, const header *h)
{
	svg_text(d->s, 12, 26, "start", "title", "%s", h->title);
	svg_text(d->s, 12, 44, "start", "note", "%s", h->sub);
	svg_text(d->s, 12, 60, "start", "note", "%s", h->isn);
}

/* A lifeline's head: the host tracing that side, and its endpoint. */
static void draw_head(const draw *d, int s)
{
	const char *host = d->c->host[s], *role = s ? "server" : "client";
	char end[32], side[24], hostkv[160];
	const char *data[] = {side, hostkv, NULL};
	double hw = head_half(d, s, end, sizeof(end));

	snprintf(side, sizeof(side), "side=%s", role);
	snprintf(hostkv, sizeof(hostkv), "host=%s", host ? host : "");
	svg_group_begin(d->s, host ? "head" : "head untraced", NULL, data);
	if (!host || strcmp(host, role) != 0)
		svg_text(d->s, d->x[s], HEAD_TOP - 5, "middle", "note", "%s",
			 role);
	svg_rect(d->s, d->x[s] - hw, HEAD_TOP, 2 * hw, HEAD_H, 4, NULL);
	svg_text(d->s, d->x[s], HEAD_TOP + 16, "middle", "hname", "%s",
		 host ? host : "(not traced)");
	svg_text(d->s, d->x[s], HEAD_TOP + 31, "middle", "hend", "%s", end);
	svg_group_end(d->s);
}

/* ---- lifelines, breaks and the time axis ---- */

/* The lifelines, dotted across each break, with the time that passes
 * written between them. */
static void draw_lifelines(const draw *d)
{
	size_t nr = d->r.r1 - d->r.r0;
	double from = HEAD_TOP + HEAD_H;
	char gap[40], kv[48];
	const char *data[] = {kv, NULL};

	for (size_t k = 1; k <= nr; k++) {
		if (k < nr && !d->brk[k])
			continue;
		double to = k < nr ? d->y[k - 1] + 8 : d->bottom;
		for (int s = 0; s < 2; s++)
			svg_line(d->s, d->x[s], from, d->x[s], to, "life");
		if (k == nr)
			break;
		from = d->y[k] - 8;
		uint64_t us = at(d->t, d->m, d->r.r0 + k)->t -
			      at(d->t, d->m, d->r.r0 + k - 1)->t;
		gap_text(us, gap, sizeof(gap));
		snprintf(kv, sizeof(kv), "gap=%llu", (unsigned long long)us);
		svg_group_begin(d->s, "break", NULL, data);
		for (int s = 0; s < 2; s++)
			svg_line(d->s, d->x[s], to, d->x[s], from, "gap");
		svg_text(d->s, (d->x[0] + d->x[1]) / 2, (to + from) / 2 + 3,
			 "middle", "brk", "⋯ %s later ⋯", gap);
		svg_group_end(d->s);
	}
}

/* Each row's time, in ms from the first row, where it changes. */
static void draw_times(const draw *d)
{
	char ms[32];

	svg_text(d->s, d->time_w - 8, ROWS_TOP - 24, "end", "time", "ms");
	for (size_t p = d->r.r0; p < d->r.r1; p++) {
		if (p > d->r.r0 &&
		    at(d->t, d->m, p)->t == at(d->t, d->m, p - 1)->t)
			continue;
		seq_ms_text(rel_t(d, p), ms, sizeof(ms));
		svg_text(d->s, d->time_w - 8, row_y(d, p) + 3.5, "end", "time",
			 "%s", ms);
	}
}

static void draw_start_states(const draw *d)
{
	for (int s = 0; s < 2; s++) {
		int st = start_state(d, s);
		if (st < 0)
			continue;
		svg_text(d->s, s ? d->x[1] + 8 : d->x[0] - 8, ROWS_TOP - 24,
			 s ? "start" : "end", "st start", "%s",
			 tern_tcp_state_name(st));
	}
}

/* ---- segments ---- */

typedef struct geom {
	double x1, y1, x2, y2;
	bool head; /* the end is in the drawing */
} geom;

/* Where an arrow goes, cut at the drawing's top and bottom edges. */
static geom arrow_geom(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);
	int from = sender(d, e);
	uint8_t role = d->m->role[p];
	double top = d->y[0] - ROW * 0.75, bot = d->bottom - ROW * 0.25;
	geom g = {d->x[from], row_y(d, p), d->x[!from], row_y(d, p), true};

	if (role == SEQ_TX)
		g.y2 = row_y(d, d->m->peer[p]);
	if (role == SEQ_LOST || role == SEQ_INFLIGHT)
		g.x2 = g.x1 + (g.x2 - g.x1) * LOST_REACH;
	if (g.y1 < top) {
		g.x1 += (g.x2 - g.x1) * (top - g.y1) / (g.y2 - g.y1);
		g.y1 = top;
	}
	if (g.y2 > bot) {
		g.x2 -= (g.x2 - g.x1) * (g.y2 - bot) / (g.y2 - g.y1);
		g.y2 = bot;
		g.head = false;
	}
	return g;
}

static const char *seg_class(const draw *d, size_t p)
{
	static const char *const cls[2][SEQ_INFLIGHT + 1] = {
		{"seg c2s", "seg c2s lost", "seg c2s", "", "seg c2s dup",
		 "seg c2s forged", "seg c2s", "seg c2s inflight"},
		{"seg s2c", "seg s2c lost", "seg s2c", "", "seg s2c dup",
		 "seg s2c forged", "seg s2c", "seg s2c inflight"},
	};

	return cls[sender(d, at(d->t, d->m, p))][d->m->role[p]];
}

/* What a tooltip says of a segment's fate. */
static void seg_tooltip(const draw *d, size_t p, char *buf, size_t size)
{
	const trace_event *e = at(d->t, d->m, p);
	int from = sender(d, e);
	uint8_t role = d->m->role[p];
	char t1[32], t2[32] = "", label[256];

	seg_label(d, p, label, sizeof(label));
	seq_ms_text(rel_t(d, p), t1, sizeof(t1));
	if (role == SEQ_TX)
		seq_ms_text(rel_t(d, d->m->peer[p]), t2, sizeof(t2));
	snprintf(buf, size, "%s → %s: %s; seq %u, ack %u; %s %s ms%s%s%s",
		 from ? "server" : "client", from ? "client" : "server", label,
		 e->seq, e->ack, e->tx ? "sent at" : "arrived at", t1,
		 role == SEQ_TX ? ", arrived at " : "", t2,
		 role == SEQ_TX	      ? " ms"
		 : role == SEQ_LOST   ? ", never arrived"
		 : role == SEQ_SENT   ? " (the receiver is not traced)"
		 : role == SEQ_COPY   ? ": a second copy"
		 : role == SEQ_FORGED ? ": the traced sender never sent it"
		 : role == SEQ_INFLIGHT
			 ? ", in flight when the receiver's trace ended"
			 : " (the sender is not traced)");
}

/* data-* attributes: name=value strings in a small table. */
typedef struct kvs {
	char buf[12][160];
	const char *list[13];
	size_t n;
} kvs;

static void kv(kvs *k, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kv(kvs *k, const char *name, const char *fmt, ...)
{
	va_list ap;
	size_t n =
		(size_t)snprintf(k->buf[k->n], sizeof(k->buf[0]), "%s=", name);

	va_start(ap, fmt);
	vsnprintf(k->buf[k->n] + n, sizeof(k->buf[0]) - n, fmt, ap);
	va_end(ap);
	k->list[k->n] = k->buf[k->n];
	k->list[++k->n] = NULL;
}

/* One segment: a group with its arrow, whose data-* name the event(s)
 * (data-ev: the event's number in the trace, from 1). */
static void draw_seg(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);
	uint8_t role = d->m->role[p];
	geom g = arrow_geom(d, p);
	char flags[48], tip[512];
	kvs k = {.n = 0};

	flags_text(e->flags, flags, sizeof(flags));
	kv(&k, "dir", "%s", e->tx ? "tx" : "rx");
	kv(&k, "from", "%s", sender(d, e) ? "server" : "client");
	kv(&k, "flags", "%s", flags);
	kv(&k, "seq", "%u", e->seq);
	kv(&k, "ack", "%u", e->ack);
	kv(&k, "len", "%u", e->len);
	kv(&k, "win", "%u", e->win);
	kv(&k, "t", "%llu", (unsigned long long)e->t);
	kv(&k, "ev", "%zu", d->m->ev[p] + 1);
	if (role == SEQ_TX) {
		size_t q = d->m->peer[p];
		kv(&k, "rx-t", "%llu",
		   (unsigned long long)at(d->t, d->m, q)->t);
		kv(&k, "rx-ev", "%zu", d->m->ev[q] + 1);
	}
	seg_tooltip(d, p, tip, sizeof(tip));
	svg_group_begin(d->s, seg_class(d, p), tip, k.list);
	if (g.head && role != SEQ_LOST && role != SEQ_INFLIGHT)
		svg_arrow(d->s, g.x1, g.y1, g.x2, g.y2, NULL);
	else
		svg_line(d->s, g.x1, g.y1, g.x2, g.y2, NULL);
	if (role == SEQ_LOST) {
		svg_line(d->s, g.x2 - 5, g.y2 - 5, g.x2 + 5, g.y2 + 5, "cross");
		svg_line(d->s, g.x2 - 5, g.y2 + 5, g.x2 + 5, g.y2 - 5, "cross");
	}
	svg_group_end(d->s);
}

/* Its label, above the start of the arrow (above its end if it comes
 * from above the drawing: its arrival's row has no label of its own):
 * drawn after every arrow, so that no arrow crosses a label out. */
static void draw_seg_label(const draw *d, size_t p)
{
	geom g = arrow_geom(d, p);
	bool right = g.x2 > g.x1, cut = p < d->r.r0;
	char label[256], cls[32];

	seg_label(d, p, label, sizeof(label));
	snprintf(cls, sizeof(cls), "lbl %s",
		 sender(d, at(d->t, d->m, p)) ? "s2c" : "c2s");
	if (d->m->role[p] == SEQ_LOST || d->m->role[p] == SEQ_FORGED)
		snprintf(cls, sizeof(cls), "lbl %s",
			 d->m->role[p] == SEQ_LOST ? "lost" : "forged");
	if (cut)
		svg_text(d->s, g.x2 + (right ? -10 : 10), g.y2 - 4,
			 right ? "end" : "start", cls, "%s", label);
	else
		svg_text(d->s, g.x1 + (right ? 10 : -10), g.y1 - 4,
			 right ? "start" : "end", cls, "%s", label);
}

/* ---- state changes and drops ---- */

/* A text beside side s's lifeline at y, outward; returns its width. */
static double outer_text(const draw *d, int s, double y, double dx,
			 const char *cls, const char *text, double size)
{
	double w = text_w(text, size);

	svg_text(d->s, s ? d->x[1] + 8 + dx : d->x[0] - 8 - dx, y,
		 s ? "start" : "end", cls, "%s", text);
	return w;
}

static void draw_state(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);
	int s = outer_side(d, p);
	double y = row_y(d, p);
	char main[96], cause[96];
	kvs k = {.n = 0};

	state_texts(e, main, cause, sizeof(main));
	kv(&k, "host", "%s", e->host);
	kv(&k, "side", "%s", s ? "server" : "client");
	kv(&k, "from", "%s", tern_tcp_state_name(e->from));
	kv(&k, "to", "%s", tern_tcp_state_name(e->to));
	kv(&k, "cause", "%s", e->text ? e->text : "");
	kv(&k, "t", "%llu", (unsigned long long)e->t);
	kv(&k, "ev", "%zu", d->m->ev[p] + 1);
	svg_group_begin(d->s, "state", NULL, k.list);
	svg_circle(d->s, d->x[s], y, 3.5, "mark");
	/* the states nearest the lifeline, the cause outside them */
	double cw = cause[0] ? text_w(cause, 9) + 5 : 0;
	double mw = text_w(main, 11) + 5;
	outer_text(d, s, y + 4, s ? 0 : cw, "st", main, 11);
	if (cause[0])
		outer_text(d, s, y + 4, s ? mw : 0, "cause", cause, 9);
	svg_group_end(d->s);
}

static void draw_drop(const draw *d, size_t p)
{
	const trace_event *e = at(d->t, d->m, p);
	int s = outer_side(d, p);
	double x = d->x[s], y = row_y(d, p);
	char text[160];
	kvs k = {.n = 0};

	kv(&k, "host", "%s", e->host);
	kv(&k, "side", "%s", s ? "server" : "client");
	kv(&k, "reason", "%s", e->text);
	kv(&k, "t", "%llu", (unsigned long long)e->t);
	kv(&k, "ev", "%zu", d->m->ev[p] + 1);
	svg_group_begin(d->s, "drop", NULL, k.list);
	svg_line(d->s, x - 5, y - 5, x + 5, y + 5, "cross");
	svg_line(d->s, x - 5, y + 5, x + 5, y - 5, "cross");
	snprintf(text, sizeof(text), "dropped: %s", e->text);
	outer_text(d, s, y + 4, 0, "lbl", text, 10);
	svg_group_end(d->s);
}

static void draw_more(const draw *d)
{
	kvs k = {.n = 0};

	if (!d->r.more)
		return;
	kv(&k, "count", "%zu", d->r.more);
	svg_group_begin(d->s, "more", NULL, k.list);
	svg_text(d->s, 12, d->bottom + 20, "start", NULL,
		 "%zu more events not drawn — use --from/--to", d->r.more);
	svg_group_end(d->s);
}

/* ---- the whole ---- */

static void draw_rows(const draw *d)
{
	for (size_t p = d->r.r0; p < d->r.r1; p++) /* arrows below text */
		if (arrow_of(d, p) != SEQ_NONE)
			draw_seg(d, arrow_of(d, p));
	for (size_t p = d->r.r0; p < d->r.r1; p++) {
		uint8_t role = d->m->role[p];
		if (arrow_of(d, p) != SEQ_NONE)
			draw_seg_label(d, arrow_of(d, p));
		else if (role == SEQ_STATE)
			draw_state(d, p);
		else if (role == SEQ_DROP)
			draw_drop(d, p);
	}
}

static int render(draw *d, FILE *out, const char *source)
{
	header h;
	char title[200];

	find_isns(d);
	if (!place_rows(d))
		return -1;
	header_texts(d, source, &h);
	measure(d, header_w(&h));
	d->height = d->bottom + (d->r.more ? 34 : 14);
	snprintf(title, sizeof(title), "tern draw seq: %s", h.title);
	d->s = svg_begin(out, d->width, d->height, title, css);
	if (!d->s)
		return -1;
	draw_header(d, &h);
	draw_head(d, 0);
	draw_head(d, 1);
	draw_lifelines(d);
	draw_times(d);
	draw_start_states(d);
	draw_rows(d);
	draw_more(d);
	return svg_end(d->s);
}

int draw_seq_svg(FILE *out, const trace *t, const trace_conn *c,
		 const seq_match *m, const seq_range *r, const char *source)
{
	size_t nr = r->r1 - r->r0;
	draw d = {.t = t, .c = c, .m = m, .r = *r};
	int rc = -1;

	if (nr == 0)
		return -1;
	d.t0 = at(t, m, r->r0)->t;
	d.isn = malloc(2 * m->n * sizeof(*d.isn));
	d.isn_known = malloc(2 * m->n * sizeof(*d.isn_known));
	d.y = malloc(nr * sizeof(*d.y));
	d.brk = malloc(nr * sizeof(*d.brk));
	if (d.isn && d.isn_known && d.y && d.brk)
		rc = render(&d, out, source);
	free(d.isn);
	free(d.isn_known);
	free(d.y);
	free(d.brk);
	return rc;
}
