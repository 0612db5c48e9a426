/* `tern draw states`: RFC 9293 3.3.2 Figure 5, laid out as the RFC draws
 * it, with each edge's count. The figure leaves out the resets, aborts
 * and timeouts (its note 3) and FIN_WAIT_1 -> TIME_WAIT (note 2); they
 * are drawn dashed, each reset to a small CLOSED of its own beside its
 * state so that no line crosses the figure. The drawing is a pure
 * function of the counts: same counts, same bytes. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "draw_states.h"
#include "svg.h"

#define WIDTH 1200
#define BOX_W 150
#define BOX_H 44
#define PILL_W 70
#define PILL_H 24
#define DIAGRAM_BOTTOM 1050 /* the figure ends above this */
#define LINE_H 16	    /* a line of the "other transitions" box */

enum {
	CLOSED = TERN_TCP_CLOSED,
	LISTEN = TERN_TCP_LISTEN,
	SYN_SENT = TERN_TCP_SYN_SENT,
	SYN_RCVD = TERN_TCP_SYN_RECEIVED,
	ESTAB = TERN_TCP_ESTABLISHED,
	FIN_WAIT_1 = TERN_TCP_FIN_WAIT_1,
	FIN_WAIT_2 = TERN_TCP_FIN_WAIT_2,
	CLOSE_WAIT = TERN_TCP_CLOSE_WAIT,
	CLOSING = TERN_TCP_CLOSING,
	LAST_ACK = TERN_TCP_LAST_ACK,
	TIME_WAIT = TERN_TCP_TIME_WAIT
};

/* The boxes, centred where the RFC's figure has them; CLOSED twice, at
 * the top (where connections start) and bottom right (where they end). */
static const struct box {
	int state;
	short cx, cy;
} boxes[] = {
	{CLOSED, 600, 110},	{LISTEN, 600, 250},	{SYN_RCVD, 300, 400},
	{SYN_SENT, 900, 400},	{ESTAB, 600, 550},	{FIN_WAIT_1, 300, 700},
	{CLOSE_WAIT, 900, 700}, {FIN_WAIT_2, 300, 850}, {CLOSING, 600, 850},
	{LAST_ACK, 900, 850},	{TIME_WAIT, 600, 1000}, {CLOSED, 900, 1000},
};

/* An edge: its path (a polyline, the arrowhead at its last point), and
 * where its text goes: the count's baseline 14 px above (lx, ly), the
 * RFC's event / action at (lx, ly), a note 12 px below. */
typedef struct edge {
	int from, to;
	bool extra; /* not in the RFC's figure: dashed */
	const char *label, *note;
	int n;
	short p[4][2];
	short lx, ly;
	const char *anchor;
	short pill[2]; /* the centre of the edge's own CLOSED, or 0, 0 */
} edge;

#define S "start"
#define M "middle"
#define E "end"

// clang-format off
static const edge edges[] = {
	/* RFC 9293 Figure 5 */
	{CLOSED, LISTEN, false, "passive OPEN / create TCB", NULL,
	 2, {{580, 132}, {580, 228}}, 572, 190, E, {0, 0}},
	{LISTEN, CLOSED, false, "CLOSE / delete TCB", NULL,
	 2, {{620, 228}, {620, 132}}, 628, 190, S, {0, 0}},
	{CLOSED, SYN_SENT, false, "active OPEN / create TCB, snd SYN", NULL,
	 3, {{675, 100}, {930, 100}, {930, 378}}, 800, 92, M, {0, 0}},
	{SYN_SENT, CLOSED, false, "CLOSE / delete TCB", "also rcv RST, timeout",
	 3, {{955, 378}, {955, 122}, {675, 122}}, 800, 152, M, {0, 0}},
	{LISTEN, SYN_SENT, false, "SEND / snd SYN", NULL,
	 2, {{675, 262}, {860, 378}}, 785, 300, S, {0, 0}},
	{LISTEN, SYN_RCVD, false, "rcv SYN / snd SYN,ACK", NULL,
	 2, {{525, 262}, {340, 378}}, 415, 300, E, {0, 0}},
	{SYN_RCVD, LISTEN, false, "rcv RST", "if opened passively (note 1)",
	 3, {{260, 378}, {260, 240}, {525, 240}}, 392, 220, M, {0, 0}},
	{SYN_SENT, SYN_RCVD, false, "rcv SYN / snd SYN,ACK", NULL,
	 2, {{825, 400}, {375, 400}}, 600, 392, M, {0, 0}},
	{SYN_RCVD, ESTAB, false, "rcv ACK of SYN / x", NULL,
	 2, {{345, 422}, {540, 528}}, 430, 502, E, {0, 0}},
	{SYN_SENT, ESTAB, false, "rcv SYN,ACK / snd ACK", NULL,
	 2, {{855, 422}, {660, 528}}, 770, 502, S, {0, 0}},
	{SYN_RCVD, FIN_WAIT_1, false, "CLOSE / snd FIN", NULL,
	 2, {{300, 422}, {300, 678}}, 292, 560, E, {0, 0}},
	{ESTAB, FIN_WAIT_1, false, "CLOSE / snd FIN", NULL,
	 2, {{525, 562}, {360, 678}}, 440, 600, E, {0, 0}},
	{ESTAB, CLOSE_WAIT, false, "rcv FIN / snd ACK", NULL,
	 2, {{675, 562}, {840, 678}}, 760, 600, S, {0, 0}},
	{FIN_WAIT_1, FIN_WAIT_2, false, "rcv ACK of FIN / x", NULL,
	 2, {{300, 722}, {300, 828}}, 292, 780, E, {0, 0}},
	{FIN_WAIT_1, CLOSING, false, "rcv FIN / snd ACK", NULL,
	 2, {{375, 712}, {550, 828}}, 475, 752, S, {0, 0}},
	{CLOSE_WAIT, LAST_ACK, false, "CLOSE / snd FIN", NULL,
	 2, {{900, 722}, {900, 828}}, 908, 780, S, {0, 0}},
	{FIN_WAIT_2, TIME_WAIT, false, "rcv FIN / snd ACK", NULL,
	 2, {{375, 862}, {525, 992}}, 430, 945, E, {0, 0}},
	{CLOSING, TIME_WAIT, false, "rcv ACK of FIN / x", NULL,
	 2, {{600, 872}, {600, 978}}, 608, 930, S, {0, 0}},
	{LAST_ACK, CLOSED, false, "rcv ACK of FIN / x", "also rcv RST, timeout",
	 2, {{900, 872}, {900, 978}}, 908, 930, S, {0, 0}},
	{TIME_WAIT, CLOSED, false, "Timeout=2MSL / delete TCB",
	 "also rcv RST, new SYN (RFC 6191)",
	 2, {{675, 1000}, {825, 1000}}, 750, 975, M, {0, 0}},
	/* What the figure leaves out (its notes 2 and 3): dashed, the
	 * resets, aborts and timeouts each to a CLOSED of its own */
	{FIN_WAIT_1, TIME_WAIT, true, "rcv FIN, ACK of FIN", "snd ACK (note 2)",
	 2, {{345, 722}, {540, 978}}, 420, 815, M, {0, 0}},
	{SYN_RCVD, CLOSED, true, "rcv RST, timeout, ABORT", NULL,
	 2, {{225, 400}, {185, 400}}, 150, 372, M, {150, 400}},
	{ESTAB, CLOSED, true, "rcv RST, ABORT, timeout", NULL,
	 2, {{600, 572}, {600, 613}}, 600, 676, M, {600, 625}},
	{FIN_WAIT_1, CLOSED, true, "rcv RST, ABORT, timeout", NULL,
	 2, {{225, 700}, {185, 700}}, 150, 672, M, {150, 700}},
	{FIN_WAIT_2, CLOSED, true, "rcv RST, timeout", "orphan: tcp_fin_timeout",
	 2, {{225, 850}, {185, 850}}, 150, 822, M, {150, 850}},
	{CLOSE_WAIT, CLOSED, true, "rcv RST, ABORT, timeout", NULL,
	 2, {{975, 700}, {1015, 700}}, 1050, 672, M, {1050, 700}},
	{CLOSING, CLOSED, true, "rcv RST, timeout", NULL,
	 2, {{675, 850}, {715, 850}}, 750, 822, M, {750, 850}},
};
// clang-format on

#define N_EDGES (sizeof edges / sizeof edges[0])

static const char css[] =
	".title{font-size:18px;font-weight:bold}"
	".legend{font-size:11px;color:#333}"
	".state rect{stroke-width:1.5}"
	".state text{font-size:13px;font-weight:bold}"
	".state.unvisited{color:#aaa}"
	".edge text{paint-order:stroke;stroke:#fff;stroke-width:3px;"
	"stroke-linejoin:round}"
	".edge.taken{color:#1a4fa0}"
	".edge.taken path{stroke-width:2}"
	".edge.taken .label,.edge.taken .note{color:#222}"
	".edge.never{color:#b4b4b4}"
	".edge.extra path,rect.pill,.legend .extra{stroke-dasharray:6 4}"
	".count{font-size:15px;font-weight:bold}"
	".label{font-size:10.5px}"
	".note{font-size:10px;font-style:italic}"
	"text.pill{font-size:10px;font-weight:bold}"
	".legend .taken{color:#1a4fa0;stroke-width:2}"
	".legend .never{color:#b4b4b4}"
	".others rect{stroke:#c0392b}"
	".others .head{font-weight:bold;color:#c0392b}";

static bool drawn(int from, int to)
{
	for (size_t i = 0; i < N_EDGES; i++)
		if (edges[i].from == from && edges[i].to == to)
			return true;
	return false;
}

/* Taken transitions the figure has no edge for, in state order. */
static int others(const draw_state_counts *c)
{
	int n = 0;

	for (int f = 0; f < TERN_TCP_STATE_COUNT; f++)
		for (int t = 0; t < TERN_TCP_STATE_COUNT; t++)
			n += c->n[f][t] > 0 && !drawn(f, t);
	return n;
}

static bool visited(const draw_state_counts *c, int state)
{
	for (int i = 0; i < TERN_TCP_STATE_COUNT; i++)
		if (c->n[state][i] || c->n[i][state])
			return true;
	return false;
}

static void draw_boxes(svg *s, const draw_state_counts *c)
{
	for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
		const struct box *b = &boxes[i];
		const char *name = tern_tcp_state_name(b->state);
		const char *data[] = {NULL, NULL};
		char attr[48];

		snprintf(attr, sizeof attr, "state=%s", name);
		data[0] = attr;
		svg_group_begin(s,
				visited(c, b->state) ? "state visited"
						     : "state unvisited",
				NULL, data);
		svg_rect(s, b->cx - BOX_W / 2, b->cy - BOX_H / 2, BOX_W, BOX_H,
			 6, NULL);
		svg_text(s, b->cx, b->cy + 5, "middle", NULL, "%s", name);
		svg_group_end(s);
	}
}

/* "M x y L x y ...": the edge's polyline as path data. */
static void path_data(const edge *e, char *d, size_t size)
{
	size_t len = 0;

	for (int i = 0; i < e->n && len < size; i++)
		len += snprintf(d + len, size - len, "%s%d %d", i ? " L" : "M",
				e->p[i][0], e->p[i][1]);
}

static void draw_pill(svg *s, const edge *e)
{
	svg_rect(s, e->pill[0] - PILL_W / 2, e->pill[1] - PILL_H / 2, PILL_W,
		 PILL_H, PILL_H / 2, "pill");
	svg_text(s, e->pill[0], e->pill[1] + 4, "middle", "pill", "CLOSED");
}

static void draw_edge(svg *s, const edge *e, uint64_t count)
{
	const char *from = tern_tcp_state_name(e->from);
	const char *to = tern_tcp_state_name(e->to);
	char cls[32], tip[160], d[96], a_from[32], a_to[32], a_n[40];
	const char *data[] = {a_from, a_to, a_n, NULL};

	snprintf(cls, sizeof cls, "edge %s %s", e->extra ? "extra" : "rfc",
		 count ? "taken" : "never");
	snprintf(tip, sizeof tip, "%s \u2192 %s: %s, %" PRIu64 " time%s", from,
		 to, e->label, count, count == 1 ? "" : "s");
	snprintf(a_from, sizeof a_from, "from=%s", from);
	snprintf(a_to, sizeof a_to, "to=%s", to);
	snprintf(a_n, sizeof a_n, "count=%" PRIu64, count);
	svg_group_begin(s, cls, tip, data);
	path_data(e, d, sizeof d);
	svg_path(s, d, NULL);
	const short *a = e->p[e->n - 2], *b = e->p[e->n - 1];
	svg_arrowhead(s, a[0], a[1], b[0], b[1], NULL);
	if (e->pill[0])
		draw_pill(s, e);
	if (count)
		svg_text(s, e->lx, e->ly - 14, e->anchor, "count", "%" PRIu64,
			 count);
	svg_text(s, e->lx, e->ly, e->anchor, "label", "%s", e->label);
	if (e->note)
		svg_text(s, e->lx, e->ly + 12, e->anchor, "note", "%s",
			 e->note);
	svg_group_end(s);
}

/* The legend's one line: a sample of each kind of edge, then words. */
static void draw_legend(svg *s, uint64_t total)
{
	static const struct {
		short x;
		const char *cls, *text;
	} items[] = {
		{40, "taken", "taken (bold: how many times)"},
		{270, "never", "never taken"},
		{390, "extra",
		 "not in RFC 9293's figure: resets, aborts, "
		 "timeouts (its notes 2 and 3)"},
	};

	svg_group_begin(s, "legend", NULL, NULL);
	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
		svg_line(s, items[i].x, 48, items[i].x + 28, 48, items[i].cls);
		svg_text(s, items[i].x + 34, 52, "start", NULL, "%s",
			 items[i].text);
	}
	svg_text(s, WIDTH - 40, 52, "end", NULL,
		 "%" PRIu64 " transition%s in all", total,
		 total == 1 ? "" : "s");
	svg_group_end(s);
}

/* Counts the figure has no edge for, one "FROM → TO  count" a line. */
static void draw_others(svg *s, const draw_state_counts *c, int n)
{
	double y = DIAGRAM_BOTTOM + 10;

	svg_group_begin(s, "others", NULL, NULL);
	svg_rect(s, 40, y, 420, 34 + LINE_H * n, 4, NULL);
	svg_text(s, 52, y + 20, "start", "head", "other transitions (%d)", n);
	for (int f = 0; f < TERN_TCP_STATE_COUNT; f++)
		for (int t = 0; t < TERN_TCP_STATE_COUNT; t++) {
			if (!c->n[f][t] || drawn(f, t))
				continue;
			y += LINE_H;
			svg_text(s, 52, y + 20, "start", "other",
				 "%s \u2192 %s  %" PRIu64,
				 tern_tcp_state_name(f), tern_tcp_state_name(t),
				 c->n[f][t]);
		}
	svg_group_end(s);
}

int draw_states_svg(FILE *out, const draw_state_counts *c, const char *title)
{
	int n_other = others(c);
	double height = DIAGRAM_BOTTOM + (n_other ? 54 + LINE_H * n_other : 0);
	uint64_t total = 0;

	if (!title)
		title = "TCP state transitions (RFC 9293 3.3.2)";
	svg *s = svg_begin(out, WIDTH, height, title, css);
	if (!s)
		return -1;
	for (int f = 0; f < TERN_TCP_STATE_COUNT; f++)
		for (int t = 0; t < TERN_TCP_STATE_COUNT; t++)
			total += c->n[f][t];
	svg_text(s, 40, 28, "start", "title", "%s", title);
	draw_legend(s, total);
	draw_boxes(s, c);
	for (size_t i = 0; i < N_EDGES; i++)
		draw_edge(s, &edges[i], c->n[edges[i].from][edges[i].to]);
	if (n_other)
		draw_others(s, c, n_other);
	return svg_end(s);
}
