/* A run as a textbook sequence diagram in text: one line per segment
 * (an arrow between the two endpoints' columns) or state change, with
 * the time, and each side's state on every line. */
#include <stdio.h>
#include <string.h>

#include <tern/stats.h>
#include <tern/wire.h>

#include "scenario.h"

#define COL_STATE 29
#define COL_MID 58

typedef struct line {
	char text[512];
	size_t len;  /* bytes */
	size_t cols; /* characters on screen */
} line;

static void add(line *l, const char *s)
{
	for (; *s && l->len + 1 < sizeof(l->text); s++) {
		l->text[l->len++] = *s;
		if (((unsigned char)*s & 0xc0) != 0x80)
			l->cols++; /* count UTF-8 lead bytes only */
	}
	l->text[l->len] = '\0';
}

static void pad_to(line *l, size_t col)
{
	while (l->cols < col)
		add(l, " ");
}

static void repeat(line *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(l, s);
}

/* "J+1461" for a number relative to an ISN; the raw number when there is
 * no ISN yet or the number is nowhere near it (a forged segment's). */
static void seq_text(const scn_run *r, int host, size_t i, uint32_t v,
		     char *buf, size_t size)
{
	bool known;
	uint32_t isn = scn_isn_for(r, host, i, &known);
	int ord = known ? scn_isn_ordinal(r, host, isn) : 0;
	char name[8];
	int32_t off = (int32_t)(v - isn);

	/* Each connection's own ISN has its own name: K, then K2, K3... */
	snprintf(name, sizeof(name), ord > 1 ? "%s%d" : "%s",
		 host == SCN_CLIENT ? "J" : "K", ord % 100);

	if (!known || off > (1 << 26) || off < -(1 << 26))
		snprintf(buf, size, "%u", v);
	else if (v == isn)
		snprintf(buf, size, "%s", name);
	else if ((int32_t)(v - isn) > 0)
		snprintf(buf, size, "%s+%u", name, v - isn);
	else
		snprintf(buf, size, "%s-%u", name, isn - v);
}

static void seg_label(const scn_run *r, const scn_event *e, int from, char *buf,
		      size_t size)
{
	char flags[48], seq[24], ack[24], extra[48] = "";
	const tern_trace_event *ev = &e->ev;

	tern_tcp_flags_format(ev->seg.flags, flags, sizeof(flags));
	for (char *p = flags; *p; p++)
		if (*p == '|')
			*p = '+';
	size_t i = (size_t)(e - r->events);
	seq_text(r, from, i, ev->seg.seq, seq, sizeof(seq));
	seq_text(r, 1 - from, i, ev->seg.ack, ack, sizeof(ack));
	if (ev->seg.len)
		snprintf(extra, sizeof(extra), " len=%u", ev->seg.len);
	size_t n = strlen(extra);
	snprintf(extra + n, sizeof(extra) - n, " win=%u", ev->seg.win);
	n = strlen(extra);
	if (ev->seg.mss)
		snprintf(extra + n, sizeof(extra) - n, " mss=%u", ev->seg.mss);
	snprintf(buf, size, "%s%s seq=%s%s%s%s",
		 e->injected ? "forged " : (e->copy ? "late copy: " : ""),
		 flags, seq, (ev->seg.flags & TERN_TCP_ACK) ? " ack=" : "",
		 (ev->seg.flags & TERN_TCP_ACK) ? ack : "", extra);
}

/* The middle column: an arrow carrying the label, in the direction of
 * travel; a lost segment's arrow stops short at a cross. */
static void arrow(line *l, const char *label, bool rightward, bool lost,
		  bool forged)
{
	const char *dash = forged ? "╌" : "─";
	size_t lab = strlen(label) + 2;
	size_t body = COL_MID - 2 > lab ? COL_MID - 2 - lab : 1;
	size_t gap = lost ? body / 3 : 0;

	if (rightward) {
		add(l, "─ ");
		add(l, label);
		add(l, " ");
		repeat(l, dash, body - gap - 1);
		add(l, lost ? "✕" : "▶");
		repeat(l, " ", gap);
	} else {
		repeat(l, " ", gap);
		add(l, lost ? "✕" : "◀");
		repeat(l, dash, body - gap - 1);
		add(l, " ");
		add(l, label);
		add(l, " ─");
	}
}

static void print_seg(const scn_run *r, const scn_event *e,
		      const char *state[2], FILE *out)
{
	line l = {{0}, 0, 0};
	char label[160], t[24];
	int from = e->ev.seg.tx && !e->injected ? e->host : 1 - e->host;

	snprintf(t, sizeof(t), "%10.3f  ", (double)e->ev.t / TERN_SEC);
	add(&l, t);
	add(&l, state[SCN_CLIENT]);
	pad_to(&l, 12 + COL_STATE);
	seg_label(r, e, from, label, sizeof(label));
	arrow(&l, label, from == SCN_CLIENT, e->lost, e->injected || e->copy);
	add(&l, "  ");
	add(&l, state[SCN_SERVER]);
	fprintf(out, "%s\n", l.text);
}

static void print_note(const scn_event *e, const char *state[2],
		       const char *what, const char *why, FILE *out)
{
	line l = {{0}, 0, 0};
	char t[24];

	snprintf(t, sizeof(t), "%10.3f  ", (double)e->ev.t / TERN_SEC);
	add(&l, t);
	if (e->host == SCN_CLIENT) {
		add(&l, what);
		pad_to(&l, 12 + COL_STATE);
		add(&l, why);
		pad_to(&l, 12 + COL_STATE + COL_MID + 2);
		add(&l, state[SCN_SERVER]);
	} else {
		add(&l, state[SCN_CLIENT]);
		pad_to(&l, 12 + COL_STATE + COL_MID + 2);
		add(&l, what);
		add(&l, "   ");
		add(&l, why);
	}
	fprintf(out, "%s\n", l.text);
}

static void print_event(const scn_run *r, const scn_event *e,
			const char *state[2], FILE *out)
{
	char what[64], why[80];
	const tern_trace_event *ev = &e->ev;

	if (ev->kind == TERN_TRACE_SEG &&
	    (ev->seg.tx || e->injected || e->copy)) {
		print_seg(r, e, state, out);
	} else if (ev->kind == TERN_TRACE_STATE) {
		snprintf(what, sizeof(what), "%s → %s",
			 tern_tcp_state_name(ev->state.from),
			 tern_tcp_state_name(ev->state.to));
		snprintf(why, sizeof(why), "(%s)",
			 ev->state.cause ? ev->state.cause : "");
		print_note(e, state, what, why, out);
		state[e->host] = tern_tcp_state_name(ev->state.to);
	} else if (ev->kind == TERN_TRACE_DROP) {
		snprintf(why, sizeof(why), "✕ dropped: %s",
			 tern_drop_reason_name(ev->drop.reason));
		print_note(e, state, e->host == SCN_CLIENT ? state[0] : why,
			   e->host == SCN_CLIENT ? why : "", out);
	}
}

static void print_header(const scn_run *r, FILE *out)
{
	const scn_def *d = r->def;
	tern_time delay = r->params.delay ? r->params.delay : d->delay;

	fprintf(out, "%s (SCENARIOS.md %d): %s\n", d->name, d->number,
		d->title);
	fprintf(out, "rules: %s\n", d->rfc);
	fprintf(out,
		"client 10.0.0.1, server 10.0.0.2:%d, one-way delay %.1f ms, "
		"loss %.1f %%, seed %llu\n",
		SCN_PORT, (double)delay / TERN_MSEC, r->params.loss * 100,
		(unsigned long long)r->params.seed);
	fprintf(out, "J and K are the client's and server's initial sequence "
		     "numbers (J2, K2... those of later connections);\n"
		     "seq and ack are shown from them.\n\n");
	line l = {{0}, 0, 0};
	add(&l, "    time s  client");
	pad_to(&l, 12 + COL_STATE + COL_MID / 2 - 4);
	add(&l, "segments");
	pad_to(&l, 12 + COL_STATE + COL_MID + 2);
	add(&l, "server");
	fprintf(out, "%s\n", l.text);
}

static void print_path(const scn_run *r, int host, FILE *out)
{
	scn_state st[256];
	size_t n = scn_states(r, host, st, 256);
	uint64_t conn = 0;

	fprintf(out, "  %s:", host == SCN_CLIENT ? "client" : "server");
	for (size_t i = 0; i < n && i < 256; i++) {
		if (st[i].conn_id != conn) {
			fprintf(out, "%s %s", conn ? " |" : "",
				tern_tcp_state_name(st[i].from));
			conn = st[i].conn_id;
		}
		fprintf(out, " → %s", tern_tcp_state_name(st[i].to));
	}
	fprintf(out, "\n");
}

void scn_print_timeline(const scn_run *r, FILE *out)
{
	const char *state[2] = {"", ""};

	print_header(r, out);
	for (size_t i = 0; i < r->nevents; i++)
		print_event(r, &r->events[i], state, out);
	fprintf(out, "\nstate paths (| separates connections):\n");
	print_path(r, SCN_CLIENT, out);
	print_path(r, SCN_SERVER, out);
	if (r->note[0])
		fprintf(out, "\n%s\n", r->note);
}
