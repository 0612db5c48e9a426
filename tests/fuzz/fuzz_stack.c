/* fuzz_stack: the whole input path of a stack (tern_stack_input and
 * tern_stack_input_meta, down through IP, reassembly, ICMP, the connection
 * table, the listener and the TCP engine) holding connections in every
 * state, with its timers running as virtual time passes.
 *
 * Two stacks are wired by hand: A (10.0.0.1), the stack under test, and B
 * (10.0.0.2), a real peer. Each input starts the same way: the setup
 * drives real connections between them, dropping chosen frames, until A
 * holds one in each of LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED (with
 * data in flight and out of order too), FIN_WAIT_1, FIN_WAIT_2,
 * CLOSE_WAIT, CLOSING, LAST_ACK and TIME_WAIT, some held by the
 * application and some orphaned; the setup checks that they are. Then
 * the input is a list of records that the harness turns into events:
 *
 *   SEG    a TCP segment to one of A's connections (or a stranger's
 *          tuple): flags, sequence and acknowledgment numbers as offsets
 *          from what A's own segments show of its RCV.NXT and SND.NXT
 *          (so most land in the window), window, options (raw bytes, or
 *          timestamps that pass PAWS, with SACK blocks), payload; built
 *          with correct checksums, or broken on purpose, or offered with
 *          frame metadata (CSUM_OK, gso_size), or cut into IP fragments;
 *   RAW    an arbitrary frame; RAWTCP arbitrary TCP bytes in a good IP
 *          header (checksum fixed at times);
 *   ICMP   an ICMP error quoting one of A's segments, or an echo;
 *   APP    the application: send, receive, shutdown, close, abort,
 *          accept, connect, options, on A's or on B's side;
 *   PUMP   frames queued between A and B delivered (B answers for real);
 *   TIME   virtual time passes.
 * Every record also lets time pass first; both stacks' timers run at each
 * deadline on the way (tern_stack_next_deadline must then lie beyond it).
 *
 * Checked throughout: every frame a stack sends parses, checksums
 * included, and fits the MTU; every state change is a legal edge and
 * starts from the state the connection was in; the state counts agree
 * with the connection count; the application's handles report sane
 * figures; memory is freed with the size it was allocated with, and the
 * stacks' own count never exceeds what they hold. After the input both
 * stacks are freed and nothing may remain allocated.
 */
#include "fuzz.h"

#include <tern/stack.h>
#include <tern/wire.h>

#include "ip/icmp.h"
#include "tcp/tcp.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define ROUTER_ADDR 0x0a0000feu
#define A_PORT 80      /* A listens */
#define B_PORT 81      /* B listens */
#define CLOSED_PORT 82 /* nobody listens */
#define MTU 1500
#define QMAX 32
#define TARGETS_MAX 40
#define RECORDS_MAX 128
#define RUNS_MAX 20000 /* timer runs for one record: more is a storm */
#define PKT_MAX 4096
#define IDS_MAX 256

enum { SIDE_A, SIDE_B };

typedef struct frame {
	uint16_t len;
	uint8_t b[MTU];
} frame;

/* One direction of the wire: a bounded queue, the oldest frame lost when
 * it is full. */
typedef struct wire {
	frame *q; /* QMAX frames */
	int head, n;
} wire;

struct world;

typedef struct port {
	tern_link link; /* first: send casts back */
	struct world *w;
	int side;
} port;

/* A 4-tuple of A's, what A's segments show of it, and the handles. */
typedef struct target {
	uint16_t aport;
	tern_endpoint remote;
	tern_conn *a, *b;	   /* held by the application, NULL if not */
	int state;		   /* A's side, from A's trace */
	bool seen;		   /* A has sent on it */
	uint32_t snd_nxt, rcv_nxt; /* A's, from its segments */
	uint32_t ts_val, peer_ts;  /* A's last TSval, the peer's */
	bool hole_a, hole_b;	   /* the setup loses A's frames, or B's */
} target;

typedef struct world {
	fuzz_alloc mem[2];
	tern_stack *s[2];
	port ends[2];
	wire wires[2]; /* [SIDE_A]: A to B, [SIDE_B]: B to A */
	target t[TARGETS_MAX];
	int nt;
	tern_conn *listener, *blistener;
	tern_time now;
	bool in_setup;
	tern_trace_json *json;
	uint16_t ip_id;
	/* Each connection's state by id, from the trace, to check that a
	 * change starts where the last one ended. */
	struct id_state {
		uint64_t id;
		int state;
	} ids[2][IDS_MAX];
	int illegal;
	uint8_t *pkt, *scratch; /* PKT_MAX bytes each */
} world;

/* The big buffers, kept from one input to the next: zeroing them for
 * every input would cost more than the rest of the setup. Nothing is
 * read from them that the same input did not write. */
static frame frames[2][QMAX];
static uint8_t pkt_buf[PKT_MAX], scratch_buf[PKT_MAX];

/* ---- the wire ---- */

static target *find_target(world *w, uint16_t aport,
			   const tern_endpoint *remote)
{
	for (int i = 0; i < w->nt; i++)
		if (w->t[i].aport == aport &&
		    w->t[i].remote.addr == remote->addr &&
		    w->t[i].remote.port == remote->port)
			return &w->t[i];
	return NULL;
}

static target *add_target(world *w, uint16_t aport, tern_endpoint remote)
{
	target *t = find_target(w, aport, &remote);

	if (t || w->nt == TARGETS_MAX)
		return t;
	t = &w->t[w->nt++];
	memset(t, 0, sizeof(*t));
	t->aport = aport;
	t->remote = remote;
	return t;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* What a sent segment tells of its connection: A's numbers from A's
 * segments, the peer's timestamp clock from B's. */
static void learn(world *w, int side, const tern_ipv4_hdr *ip,
		  const tern_tcp_hdr *h)
{
	tern_endpoint remote = {side == SIDE_A ? ip->dst : ip->src,
				side == SIDE_A ? h->dport : h->sport};
	target *t =
		find_target(w, side == SIDE_A ? h->sport : h->dport, &remote);
	bool ts = h->opts.present & TERN_TCPOPT_TIMESTAMP;

	if (!t)
		return;
	if (side == SIDE_B) {
		if (ts && seq_after(h->opts.ts_val, t->peer_ts))
			t->peer_ts = h->opts.ts_val;
		return;
	}
	uint32_t end = h->seq + (uint32_t)h->payload_len +
		       !!(h->flags & TERN_TCP_SYN) +
		       !!(h->flags & TERN_TCP_FIN);
	if (!t->seen || seq_after(end, t->snd_nxt))
		t->snd_nxt = end;
	if (h->flags & TERN_TCP_ACK)
		t->rcv_nxt = h->ack;
	if (ts)
		t->ts_val = h->opts.ts_val;
	t->seen = true;
}

/* Whatever a stack sends must be a well-formed packet from it. */
static void check_sent(world *w, int side, const uint8_t *b, size_t len)
{
	tern_ipv4_hdr ip;
	tern_tcp_hdr h;
	ip_icmp icmp;

	FUZZ_CHECK(len <= MTU);
	FUZZ_CHECK(tern_ipv4_parse(b, len, &ip) == 0);
	FUZZ_CHECK(ip.src == (side == SIDE_A ? A_ADDR : B_ADDR));
	FUZZ_CHECK(ip.total_len == len && !ip.mf && ip.frag_off == 0);
	if (ip.proto == TERN_IPPROTO_ICMP) {
		FUZZ_CHECK(ip_icmp_parse(ip.payload, ip.payload_len, &icmp) ==
			   0);
		return;
	}
	FUZZ_CHECK(ip.proto == TERN_IPPROTO_TCP);
	FUZZ_CHECK(tern_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst,
				  true, &h) == 0);
	FUZZ_CHECK(h.sport != 0 && h.dport != 0);
	learn(w, side, &ip, &h);
}

static int end_send(tern_link *link, const tern_iov *iov, int iovcnt,
		    const tern_frame_meta *meta, tern_time now)
{
	port *e = (port *)link;
	wire *q = &e->w->wires[e->side];
	size_t len = 0;
	(void)now;

	/* No offload was offered, so none may be asked for. */
	FUZZ_CHECK(!meta || (meta->gso_size == 0 && meta->flags == 0));
	if (q->n == QMAX) {
		q->head = (q->head + 1) % QMAX;
		q->n--;
	}
	frame *f = &q->q[(q->head + q->n) % QMAX];
	for (int i = 0; i < iovcnt; i++) {
		FUZZ_CHECK(len + iov[i].len <= MTU);
		memcpy(f->b + len, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	check_sent(e->w, e->side, f->b, len);
	f->len = (uint16_t)len;
	q->n++;
	return 0;
}

static void end_destroy(tern_link *link)
{
	(void)link;
}

static const tern_link_ops end_ops = {.send = end_send, .destroy = end_destroy};

/* During the setup, frames of a tuple with a hole in their direction
 * are lost. */
static bool holed(world *w, int from, const uint8_t *b, size_t len)
{
	size_t hl = (size_t)(b[0] & 15) * 4;

	if (!w->in_setup || len < hl + 4 || b[9] != TERN_IPPROTO_TCP)
		return false;
	uint16_t sport = tern_load16(b + hl), dport = tern_load16(b + hl + 2);
	tern_endpoint remote = {B_ADDR, from == SIDE_A ? dport : sport};
	target *t = find_target(w, from == SIDE_A ? sport : dport, &remote);
	return t && (from == SIDE_A ? t->hole_a : t->hole_b);
}

/* Delivers the oldest frame of one direction (or drops it); false if
 * there was none. */
static bool deliver_one(world *w, int from)
{
	wire *q = &w->wires[from];

	if (q->n == 0)
		return false;
	frame *f = &q->q[q->head];
	size_t len = f->len;
	memcpy(w->scratch, f->b, len);
	q->head = (q->head + 1) % QMAX;
	q->n--;
	if (!holed(w, from, w->scratch, len))
		tern_stack_input(w->s[!from], w->scratch, len, w->now);
	return true;
}

/* Delivers up to n frames, alternating directions. */
static void pump(world *w, int n)
{
	for (int i = 0; i < n; i++) {
		bool a = deliver_one(w, SIDE_A), b = deliver_one(w, SIDE_B);
		if (!a && !b)
			return;
	}
}

/* Delivers what is queued now, nothing that it draws. */
static void pump_queued(world *w)
{
	int na = w->wires[SIDE_A].n, nb = w->wires[SIDE_B].n;

	while (na-- > 0)
		deliver_one(w, SIDE_A);
	while (nb-- > 0)
		deliver_one(w, SIDE_B);
}

/* ---- invariants ---- */

static void on_trace(void *ctx, const tern_trace_event *ev)
{
	port *e = ctx;
	world *w = e->w;

	if (ev->kind != TERN_TRACE_STATE)
		return;
	int from = ev->state.from, to = ev->state.to;
	FUZZ_CHECK(from >= 0 && from < TERN_TCP_STATE_COUNT);
	FUZZ_CHECK(to >= 0 && to < TERN_TCP_STATE_COUNT);
	if (!tcp_edge_legal(from, to))
		w->illegal++;
	if (ev->state.conn_id < IDS_MAX) {
		struct id_state *slot = &w->ids[e->side][ev->state.conn_id];
		if (slot->id == ev->state.conn_id)
			FUZZ_CHECK(slot->state == from);
		slot->id = ev->state.conn_id;
		slot->state = to;
	}
	if (e->side != SIDE_A)
		return;
	target *t = find_target(w, ev->state.local.port, &ev->state.remote);
	if (t)
		t->state = to;
}

static void check_handle(tern_conn *c)
{
	tern_tcp_info info;
	int state = tern_tcp_state(c);

	FUZZ_CHECK(state >= 0 && state < TERN_TCP_STATE_COUNT);
	FUZZ_CHECK(tern_tcp_info_get(c, &info) == 0);
	FUZZ_CHECK(info.state == state);
	FUZZ_CHECK(info.rcv_buf_used <= info.rcv_buf_size);
	FUZZ_CHECK(info.snd_buf_used <= info.snd_buf_size);
	if (state >= TERN_TCP_ESTABLISHED)
		FUZZ_CHECK(!seq_after(info.snd_una, info.snd_nxt));
}

static void check_stack(world *w, int side)
{
	size_t counts[TERN_TCP_STATE_COUNT];
	tern_stack *s = w->s[side];
	size_t total = tern_stack_state_counts(s, counts);

	FUZZ_CHECK(w->illegal == 0);
	FUZZ_CHECK(total >= counts[TERN_TCP_CLOSED]);
	FUZZ_CHECK(tern_stack_conn_count(s) == total - counts[TERN_TCP_CLOSED]);
	FUZZ_CHECK(tern_stack_mem_in_use(s) <= w->mem[side].outstanding);
	for (int i = 0; i < w->nt; i++) {
		tern_conn *c = side == SIDE_A ? w->t[i].a : w->t[i].b;
		if (c)
			check_handle(c);
	}
}

/* Runs both stacks' timers at every deadline up to `until`. */
static void advance(world *w, tern_time until)
{
	for (int runs = 0;; runs++) {
		tern_time da = tern_stack_next_deadline(w->s[SIDE_A]);
		tern_time db = tern_stack_next_deadline(w->s[SIDE_B]);
		tern_time d = da < db ? da : db;
		if (d > until)
			break;
		FUZZ_CHECK(runs < RUNS_MAX);
		if (d > w->now)
			w->now = d;
		tern_stack_run(w->s[SIDE_A], w->now);
		tern_stack_run(w->s[SIDE_B], w->now);
		FUZZ_CHECK(tern_stack_next_deadline(w->s[SIDE_A]) > w->now);
		FUZZ_CHECK(tern_stack_next_deadline(w->s[SIDE_B]) > w->now);
	}
	if (until > w->now)
		w->now = until;
}

/* ---- the setup: a connection in every state ---- */

/* Delivers what is queued, lets B's delayed ACKs (1 ms) go, again. */
static void settle(world *w)
{
	for (int i = 0; i < 3; i++) {
		pump(w, 4 * QMAX);
		advance(w, w->now + 2 * TERN_MSEC);
	}
}

static tern_stack *new_stack(world *w, int side, const tern_settings *set)
{
	tern_allocator alloc = fuzz_allocator(&w->mem[side]);
	tern_stack_config cfg = {
		.name = side == SIDE_A ? "A" : "B",
		.addr = side == SIDE_A ? A_ADDR : B_ADDR,
		.settings = set,
		.alloc = &alloc,
		.secret = {0x7465726e2d66757aull + (uint64_t)side, 42},
	};
	tern_stack *s = tern_stack_new(&cfg);

	FUZZ_CHECK(s != NULL);
	w->ends[side] = (port){.w = w, .side = side};
	w->ends[side].link.ops = &end_ops;
	w->ends[side].link.mtu = MTU;
	w->ends[side].link.name = cfg.name;
	tern_stack_attach(s, &w->ends[side].link);
	FUZZ_CHECK(tern_stack_add_trace(s, on_trace, &w->ends[side]) == 0);
	/* FUZZ_TRACE=1 shows a reproducer's run as JSON Lines */
	if (w->json)
		tern_stack_add_trace(s, tern_trace_json_hook, w->json);
	return s;
}

/* B connects from bport to A's listener; A accepts if it can. */
static target *passive(world *w, uint16_t bport)
{
	tern_endpoint to_a = {A_ADDR, A_PORT}, from_b = {B_ADDR, bport};
	tern_conn_opts o = {.local_port = bport};
	target *t = add_target(w, A_PORT, from_b);

	t->b = tern_tcp_connect(w->s[SIDE_B], &to_a, &o, w->now, NULL);
	FUZZ_CHECK(t->b != NULL);
	settle(w);
	t->a = tern_tcp_accept(w->listener, NULL);
	return t;
}

/* A connects from aport to B's listener (or to dport, where nobody
 * listens); B accepts if it can. */
static target *active(world *w, uint16_t aport, uint16_t dport)
{
	tern_endpoint to_b = {B_ADDR, dport};
	tern_conn_opts o = {.local_port = aport};
	target *t = add_target(w, aport, to_b);

	t->hole_a = dport == CLOSED_PORT; /* SYN_SENT: the SYNs are lost */
	t->a = tern_tcp_connect(w->s[SIDE_A], &to_b, &o, w->now, NULL);
	FUZZ_CHECK(t->a != NULL);
	settle(w);
	if (dport != CLOSED_PORT)
		t->b = tern_tcp_accept(w->blistener, NULL);
	return t;
}

static void send_pattern(world *w, tern_conn *c, size_t n)
{
	uint8_t buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		if (tern_tcp_send(c, buf, k, w->now) <= 0)
			return;
		n -= k;
	}
}

/* Orphans: the application closes, the stack finishes alone. A hole
 * loses every segment A sends on its tuple until the setup ends, so
 * that no retransmission moves the connection on. */
static void orphans(world *w)
{
	target *t = passive(w, 40101); /* FIN_WAIT_2 */
	tern_tcp_close(t->a, w->now);
	t->a = NULL;
	settle(w);
	t = passive(w, 40102); /* TIME_WAIT */
	tern_tcp_close(t->a, w->now);
	t->a = NULL;
	settle(w);
	tern_tcp_shutdown(t->b, TERN_SHUT_WR, w->now);
	settle(w);
	t = passive(w, 40103); /* FIN_WAIT_1 */
	t->hole_a = true;
	tern_tcp_close(t->a, w->now);
	t->a = NULL;
	settle(w);
	t = passive(w, 40104); /* LAST_ACK */
	tern_tcp_shutdown(t->b, TERN_SHUT_WR, w->now);
	settle(w);
	t->hole_a = true;
	tern_tcp_close(t->a, w->now);
	t->a = NULL;
	settle(w);
}

static void shutdown_a(world *w, target *t, bool hole)
{
	t->hole_a = hole;
	tern_tcp_shutdown(t->a, TERN_SHUT_WR, w->now);
	settle(w);
}

static void shutdown_b(world *w, target *t)
{
	tern_tcp_shutdown(t->b, TERN_SHUT_WR, w->now);
	settle(w);
}

/* The closing states, each from an established pair, the handle held. */
static void closing_states(world *w)
{
	shutdown_a(w, passive(w, 40005), true);	 /* FIN_WAIT_1 */
	shutdown_a(w, passive(w, 40006), false); /* FIN_WAIT_2 */
	shutdown_b(w, passive(w, 40007));	 /* CLOSE_WAIT */
	target *t = passive(w, 40008);		 /* CLOSING: the FINs cross */
	tern_tcp_shutdown(t->a, TERN_SHUT_WR, w->now);
	tern_tcp_shutdown(t->b, TERN_SHUT_WR, w->now);
	pump_queued(w);
	t->hole_a = t->hole_b = true; /* and both ACKs are lost */
	settle(w);
	t = passive(w, 40009); /* LAST_ACK */
	shutdown_b(w, t);
	shutdown_a(w, t, true);
	t = passive(w, 40010); /* TIME_WAIT */
	shutdown_a(w, t, false);
	shutdown_b(w, t);
}

/* The opening states and established ones with data about. */
static void open_states(world *w)
{
	target *t = add_target(w, A_PORT, (tern_endpoint){B_ADDR, 40000});
	t->a = w->listener; /* a SYN on its tuple makes it a child */
	t->state = TERN_TCP_LISTEN;
	active(w, 50001, CLOSED_PORT); /* SYN_SENT */
	tern_endpoint to_a = {A_ADDR, A_PORT};
	tern_conn_opts o = {.local_port = 40001};
	t = add_target(w, A_PORT, (tern_endpoint){B_ADDR, 40001});
	t->hole_a = true; /* SYN_RECEIVED: the SYN+ACKs are lost */
	t->b = tern_tcp_connect(w->s[SIDE_B], &to_a, &o, w->now, NULL);
	settle(w);
	t = passive(w, 40002); /* ESTABLISHED, data both ways */
	send_pattern(w, t->a, 3000);
	send_pattern(w, t->b, 2000);
	settle(w);
	t = active(w, 50002, B_PORT); /* ESTABLISHED, ours unacked */
	t->hole_a = true;
	send_pattern(w, t->a, 5000);
	settle(w);
	t = active(w, 50003, B_PORT); /* ESTABLISHED, a hole in theirs */
	send_pattern(w, t->b, 1000);
	w->wires[SIDE_B].n = 0;
	send_pattern(w, t->b, 2000); /* two segments: no fast retransmit */
	settle(w);
}

static const int wanted[] = {
	TERN_TCP_LISTEN,      TERN_TCP_SYN_SENT,    TERN_TCP_SYN_RECEIVED,
	TERN_TCP_ESTABLISHED, TERN_TCP_ESTABLISHED, TERN_TCP_ESTABLISHED,
	TERN_TCP_FIN_WAIT_1,  TERN_TCP_FIN_WAIT_2,  TERN_TCP_CLOSE_WAIT,
	TERN_TCP_CLOSING,     TERN_TCP_LAST_ACK,    TERN_TCP_TIME_WAIT,
	TERN_TCP_FIN_WAIT_2,  TERN_TCP_TIME_WAIT,   TERN_TCP_FIN_WAIT_1,
	TERN_TCP_LAST_ACK,
};

static void setup(world *w, const tern_settings *set)
{
	tern_settings peer;

	/* B acknowledges a FIN after 1 ms, not 40: the setup stays short of
	 * every retransmission timeout. */
	tern_settings_default(&peer);
	peer.delack_ms = 1;
	peer.tcp_rmem[1] = peer.tcp_wmem[1] = 65536;
	w->now = TERN_SEC;
	w->in_setup = true;
	w->s[SIDE_A] = new_stack(w, SIDE_A, set);
	w->s[SIDE_B] = new_stack(w, SIDE_B, &peer);
	w->listener =
		tern_tcp_listen(w->s[SIDE_A], A_PORT, 16, NULL, w->now, NULL);
	w->blistener =
		tern_tcp_listen(w->s[SIDE_B], B_PORT, 16, NULL, w->now, NULL);
	FUZZ_CHECK(w->listener && w->blistener);
	open_states(w);
	closing_states(w);
	orphans(w);
	FUZZ_CHECK(w->nt == (int)(sizeof(wanted) / sizeof(wanted[0])));
	for (int i = 0; i < w->nt; i++) {
		if (w->t[i].state != wanted[i])
			fprintf(stderr, "fuzz_stack setup: target %d in %s\n",
				i, tern_tcp_state_name(w->t[i].state));
		FUZZ_CHECK(w->t[i].state == wanted[i]);
	}
	check_stack(w, SIDE_A);
	check_stack(w, SIDE_B);
	w->in_setup = false;
}

/* ---- records ---- */

enum { R_SEG, R_RAW, R_RAWTCP, R_ICMP, R_APP, R_PUMP, R_TIME };
static const uint8_t kinds[16] = {
	R_SEG,	  R_SEG,  R_SEG, R_SEG, R_SEG, R_SEG,  R_SEG,  R_RAW,
	R_RAWTCP, R_ICMP, R_APP, R_APP, R_APP, R_PUMP, R_PUMP, R_TIME,
};

/* The tuple a record aims at: a target, or past them a stranger's tuple
 * to A's listening port or to a closed one. */
typedef struct aim {
	target *t; /* NULL for a stranger */
	uint16_t aport;
	tern_endpoint remote;
	uint32_t rcv_nxt, snd_una; /* bases for seq and ack */
} aim;

static aim pick(world *w, uint8_t v)
{
	int i = v % (w->nt + 4);
	aim a = {0};
	tern_tcp_info info;

	if (i >= w->nt) {
		a.aport = (i - w->nt) & 1 ? CLOSED_PORT : A_PORT;
		a.remote =
			(tern_endpoint){(i - w->nt) & 2 ? B_ADDR : 0x0a000003u,
					(uint16_t)(20000 + v)};
		a.rcv_nxt = 0x10000000u * (uint32_t)(v & 15);
		return a;
	}
	a.t = &w->t[i];
	a.aport = a.t->aport;
	a.remote = a.t->remote;
	a.rcv_nxt = a.t->rcv_nxt;
	a.snd_una = a.t->snd_nxt;
	/* A held handle knows SND.UNA exactly; orphans go by A's segments */
	if (a.t->a && a.t->a != w->listener &&
	    tern_tcp_info_get(a.t->a, &info) == 0 &&
	    info.state >= TERN_TCP_SYN_RECEIVED) {
		a.rcv_nxt = info.rcv_nxt;
		a.snd_una = info.snd_una;
	}
	return a;
}

/* An offset of 16 bits, scaled so that the whole sequence space is two
 * bits away: most offsets land in the window, some anywhere. */
static uint32_t offset(uint16_t raw, int scale)
{
	static const int shift[4] = {0, 4, 10, 17};

	return (uint32_t)(int32_t)(int16_t)raw << shift[scale & 3];
}

/* Options (optb's top bits): raw bytes; or timestamps that PAWS accepts
 * (or, behind the peer's clock, fails); with SACK blocks around SND.UNA;
 * or timestamps then raw bytes. Returns their length, at most 40. */
static size_t build_opts(const aim *a, uint8_t optb, fuzz_in *in, uint8_t *o)
{
	size_t n = 0;
	int mode = optb >> 6;

	if (mode == 0)
		return fuzz_bytes(in, o, (optb & 63) % 41);
	uint32_t delta = 1;
	if (mode == 1) /* ahead of the peer's clock, or behind it */
		delta = optb & 0x20 ? 0u - (optb & 31) : (optb & 31) + 1u;
	uint32_t tsv = (a->t ? a->t->peer_ts : 0) + delta;
	if (a->t && seq_after(tsv, a->t->peer_ts))
		a->t->peer_ts = tsv;
	memcpy(o, "\x01\x01\x08\x0a", 4);
	tern_store32(o + 4, tsv);
	tern_store32(o + 8, a->t ? a->t->ts_val : 0);
	n = 12;
	if (mode == 2) {
		unsigned k = 1 + (optb & 3) % 3;
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * k);
		for (unsigned i = 0; i < k; i++, n += 8) {
			uint32_t left = a->snd_una + offset(fuzz_u16(in), 1);
			tern_store32(o + n, left);
			tern_store32(o + n + 4, left + 8u * fuzz_u8(in));
		}
	} else if (mode == 3) {
		n += fuzz_bytes(in, o + n, (optb & 31) % (40 - n + 1));
	}
	return n;
}

/* The fields of a SEG record, read in this order. */
typedef struct seg_rec {
	uint8_t target, flags, mode;
	uint16_t seq_off, ack_off, win;
	uint8_t optb;
	uint16_t plen;
} seg_rec;

static void ip_header(uint8_t *p, size_t hl, size_t total, uint16_t id,
		      uint16_t frag, uint8_t proto, uint32_t src)
{
	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	tern_store16(p + 2, (uint16_t)total);
	tern_store16(p + 4, id);
	tern_store16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	tern_store32(p + 12, src);
	tern_store32(p + 16, A_ADDR);
	if (hl > 20)
		memset(p + 20, 1, hl - 21); /* NOPs then EOL */
	tern_store16(p + 10, fuzz_csum(0, p, hl));
}

static void tcp_checksum(uint8_t *tcp, size_t len, uint32_t src)
{
	tern_store16(tcp + 16, 0);
	tern_store16(tcp + 16,
		     fuzz_csum(fuzz_pseudo(src, A_ADDR, len), tcp, len));
}

/* Builds the segment in w->pkt; returns the packet's length. */
static size_t build_seg(world *w, const aim *a, const seg_rec *r, fuzz_in *in)
{
	uint8_t opts[40];
	size_t optlen = build_opts(a, r->optb, in, opts);
	size_t iphl = r->mode & 0x80 ? 24 : 20;
	size_t thl = 20 + ((optlen + 3) & ~(size_t)3);
	size_t plen = r->plen % 2048;
	uint8_t *tcp = w->pkt + iphl;
	uint32_t seq = a->rcv_nxt + offset(r->seq_off, r->mode);
	uint32_t ack = a->snd_una + offset(r->ack_off, r->mode >> 2);

	ip_header(w->pkt, iphl, iphl + thl + plen, w->ip_id++, 0x4000,
		  TERN_IPPROTO_TCP, a->remote.addr);
	memset(tcp, 0, thl);
	tern_store16(tcp, a->remote.port);
	tern_store16(tcp + 2, a->aport);
	tern_store32(tcp + 4, seq);
	tern_store32(tcp + 8, ack);
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = r->flags;
	tern_store16(tcp + 14, r->win);
	tern_store16(tcp + 18, r->flags & TERN_TCP_URG ? r->seq_off : 0);
	memcpy(tcp + 20, opts, optlen);
	for (size_t i = 0; i < plen; i++)
		tcp[thl + i] = (uint8_t)(seq + i);
	tcp_checksum(tcp, thl + plen, a->remote.addr);
	return iphl + thl + plen;
}

/* Sends the packet in w->pkt as IP fragments: two, cut on an 8-byte
 * boundary the record chooses, in order or reversed, the first maybe
 * twice. Too short to cut: whole. */
static void send_fragments(world *w, size_t len, uint16_t how)
{
	size_t hl = (size_t)(w->pkt[0] & 15) * 4, data = len - hl;
	uint16_t id = tern_load16(w->pkt + 4);

	if (data < 16) {
		tern_stack_input(w->s[SIDE_A], w->pkt, len, w->now);
		return;
	}
	size_t cut = 8 * (1 + (how >> 4) % (data / 8 - 1));
	uint8_t *f = w->scratch;
	for (int k = 0; k < 3; k++) {
		int part = (k == 2 ? 0 : k) ^ (how & 1);
		if (k == 2 && !(how & 2))
			break;
		size_t off = part ? cut : 0, n = part ? data - cut : cut;
		ip_header(f, hl, hl + n, id,
			  (uint16_t)((part ? 0 : 0x2000) | off / 8),
			  TERN_IPPROTO_TCP, tern_load32(w->pkt + 12));
		memcpy(f + hl, w->pkt + hl + off, n);
		tern_stack_input(w->s[SIDE_A], f, hl + n, w->now);
	}
}

/* How a SEG record's packet reaches A (mode bits 4-6): plainly; with
 * frame metadata (the link vouches for the checksum, which is then wrong
 * on purpose; or a GRO packet's gso_size); with a broken TCP or IP
 * checksum, which A must drop; or in fragments. */
static void deliver_seg(world *w, size_t len, const seg_rec *r)
{
	const tern_stats *st = tern_stack_stats(w->s[SIDE_A]);
	uint64_t segs = st->counters[TERN_CTR_TCP_IN_SEGS];
	uint64_t ipsum = st->drops[TERN_DROP_IP_CHECKSUM];
	size_t hl = (size_t)(w->pkt[0] & 15) * 4;
	tern_frame_meta meta = {0};

	switch ((r->mode >> 4) & 7) {
	case 3:
		meta.flags = TERN_FRAME_CSUM_OK;
		w->pkt[hl + 16] ^= 0x55;
		tern_stack_input_meta(w->s[SIDE_A], w->pkt, len, &meta, w->now);
		break;
	case 4:
		meta.flags = r->win & 1 ? TERN_FRAME_CSUM_OK : 0;
		meta.gso_size = r->win >> 4;
		tern_stack_input_meta(w->s[SIDE_A], w->pkt, len, &meta, w->now);
		break;
	case 5:
		w->pkt[hl + 17] ^= 0x01;
		tern_stack_input(w->s[SIDE_A], w->pkt, len, w->now);
		FUZZ_CHECK(st->counters[TERN_CTR_TCP_IN_SEGS] == segs);
		break;
	case 6:
		w->pkt[10] ^= 0x80;
		tern_stack_input(w->s[SIDE_A], w->pkt, len, w->now);
		FUZZ_CHECK(st->drops[TERN_DROP_IP_CHECKSUM] == ipsum + 1);
		FUZZ_CHECK(st->counters[TERN_CTR_TCP_IN_SEGS] == segs);
		break;
	case 7:
		send_fragments(w, len, r->ack_off);
		break;
	default:
		tern_stack_input(w->s[SIDE_A], w->pkt, len, w->now);
	}
}

static void do_seg(world *w, fuzz_in *in)
{
	seg_rec r;

	r.target = fuzz_u8(in);
	r.flags = fuzz_u8(in);
	r.mode = fuzz_u8(in);
	r.seq_off = fuzz_u16(in);
	r.ack_off = fuzz_u16(in);
	r.win = fuzz_u16(in);
	r.optb = fuzz_u8(in);
	r.plen = fuzz_u16(in);
	aim a = pick(w, r.target);
	size_t len = build_seg(w, &a, &r, in);
	deliver_seg(w, len, &r);
}

/* An arbitrary frame, with arbitrary metadata at times. */
static void do_raw(world *w, fuzz_in *in)
{
	uint8_t mb = fuzz_u8(in);
	size_t len = fuzz_bytes(in, w->pkt, fuzz_u16(in) % 2048);
	tern_frame_meta meta = {.flags = (uint8_t)(mb >> 6),
				.gso_size = (uint16_t)(mb & 0x3f) * 31};

	if (mb & 0x80)
		tern_stack_input_meta(w->s[SIDE_A], w->pkt, len, &meta, w->now);
	else
		tern_stack_input(w->s[SIDE_A], w->pkt, len, w->now);
}

/* Arbitrary TCP bytes in a good IP header from B, on a target's ports at
 * times, their checksum put right at times. */
static void do_rawtcp(world *w, fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	uint8_t *tcp = w->pkt + 20;
	size_t len = fuzz_bytes(in, tcp, fuzz_u16(in) % 2048);
	aim a = pick(w, how >> 2);

	if ((how & 2) && len >= 4) {
		tern_store16(tcp, a.remote.port);
		tern_store16(tcp + 2, a.aport);
	}
	ip_header(w->pkt, 20, 20 + len, w->ip_id++, 0, TERN_IPPROTO_TCP,
		  B_ADDR);
	if ((how & 1) && len >= 18)
		tcp_checksum(tcp, len, B_ADDR);
	tern_stack_input(w->s[SIDE_A], w->pkt, 20 + len, w->now);
}

/* ICMP: an error quoting one of A's segments (its sequence number an
 * offset from SND.UNA), from a router or from the peer; or an echo. */
static void do_icmp(world *w, fuzz_in *in)
{
	static const uint8_t types[16][2] = {
		{3, 0}, {3, 1},	 {3, 2},  {3, 3},  {3, 4}, {3, 4},
		{3, 4}, {3, 13}, {11, 0}, {12, 0}, {4, 0}, {5, 1},
		{8, 0}, {0, 0},	 {3, 4},  {17, 0},
	};
	aim a = pick(w, fuzz_u8(in));
	uint8_t sel = fuzz_u8(in);
	uint16_t word = fuzz_u16(in), off = fuzz_u16(in);
	uint8_t *icmp = w->pkt + 20, *q = icmp + 8;
	size_t body = 28;

	memset(icmp, 0, 8 + body);
	icmp[0] = types[sel & 15][0];
	icmp[1] = types[sel & 15][1];
	tern_store16(icmp + 6, word); /* MTU, pointer or echo sequence */
	ip_header(q, 20, 40 + (word & 0xff), 0, 0x4000,
		  sel & 0x20 ? 17 : TERN_IPPROTO_TCP, A_ADDR);
	tern_store32(q + 12, A_ADDR);
	tern_store32(q + 16, a.remote.addr);
	tern_store16(q + 20, a.aport);
	tern_store16(q + 22, a.remote.port);
	tern_store32(q + 24, a.snd_una + offset(off, sel >> 6));
	if (icmp[0] == 8 || icmp[0] == 0)
		body = fuzz_bytes(in, q, word % 128);
	tern_store16(icmp + 2, fuzz_csum(0, icmp, 8 + body));
	ip_header(w->pkt, 20, 28 + body, w->ip_id++, 0, TERN_IPPROTO_ICMP,
		  sel & 0x10 ? a.remote.addr : ROUTER_ADDR);
	tern_stack_input(w->s[SIDE_A], w->pkt, 28 + body, w->now);
}

/* A connection the application accepted or opened becomes a target (or
 * is closed again when there is no room for one). */
static void adopt(world *w, tern_conn *c, int side)
{
	tern_tcp_info info;

	if (!c)
		return;
	tern_tcp_info_get(c, &info);
	const tern_endpoint *ours = side == SIDE_A ? &info.local : &info.remote;
	tern_endpoint remote = side == SIDE_A ? info.remote : info.local;
	target *t = add_target(w, ours->port, remote);
	tern_conn **slot = t ? (side == SIDE_A ? &t->a : &t->b) : NULL;
	if (slot && !*slot)
		*slot = c;
	else
		tern_tcp_close(c, w->now);
}

static void app_open(world *w, int side, bool accept)
{
	tern_endpoint to = side == SIDE_A ? (tern_endpoint){B_ADDR, B_PORT}
					  : (tern_endpoint){A_ADDR, A_PORT};
	tern_conn *l = side == SIDE_A ? w->listener : w->blistener;

	if (accept)
		adopt(w, l ? tern_tcp_accept(l, NULL) : NULL, side);
	else
		adopt(w, tern_tcp_connect(w->s[side], &to, NULL, w->now, NULL),
		      side);
}

/* The application lets go of *c. */
static void app_release(world *w, tern_conn **c, bool abort)
{
	if (*c == w->listener)
		w->listener = NULL;
	if (abort)
		tern_tcp_abort(*c, w->now);
	else
		tern_tcp_close(*c, w->now);
	*c = NULL;
}

/* The application, on A's side or B's (op bit 7). */
static void do_app(world *w, fuzz_in *in)
{
	target *t = &w->t[fuzz_u8(in) % w->nt];
	uint8_t op = fuzz_u8(in);
	uint16_t arg = fuzz_u16(in);
	int side = op >> 7;
	tern_conn **c = side == SIDE_A ? &t->a : &t->b;
	uint8_t buf[8192];

	if ((op & 15) == 6 || (op & 15) == 7) {
		app_open(w, side, (op & 15) == 6);
		return;
	}
	if (!*c)
		return;
	switch (op & 15) {
	case 0:
		send_pattern(w, *c, arg);
		break;
	case 1:
		tern_tcp_recv(*c, buf, arg % sizeof(buf), w->now);
		break;
	case 2:
	case 3:
		tern_tcp_shutdown(*c,
				  (op & 15) == 2 ? TERN_SHUT_WR : TERN_SHUT_RD,
				  w->now);
		break;
	case 4:
	case 5:
		app_release(w, c, (op & 15) == 5);
		break;
	case 8:
		tern_tcp_set_nodelay(*c, arg & 1, w->now);
		break;
	case 9:
		tern_tcp_set_keepalive(*c, arg & 1, w->now);
		break;
	default:
		tern_tcp_events(*c);
		tern_tcp_error(*c);
	}
}

/* Frames between A and B, in a batch at times. */
static void do_pump(world *w, fuzz_in *in)
{
	uint8_t n = fuzz_u8(in);
	bool batch = n & 0x80;

	if (batch)
		tern_stack_batch(w->s[SIDE_A], true, w->now);
	pump(w, 1 + (n & 0x3f));
	if (batch)
		tern_stack_batch(w->s[SIDE_A], false, w->now);
}

/* Settings of A (B keeps the defaults): each bit turns one thing off or
 * makes it small, so the negotiated options and the buffers vary. */
static void settings_from(tern_settings *s, uint8_t b)
{
	tern_settings_default(s);
	/* 64 KB buffers, not 128: a block that size plus the checking
	 * allocator's header would take ASan's mmap path at every input,
	 * four times slower; the code that runs is the same. */
	s->tcp_rmem[1] = s->tcp_wmem[1] = 65536;
	s->tcp_timestamps = !(b & 1);
	s->tcp_sack = !(b & 2);
	s->tcp_window_scaling = !(b & 4);
	if (b & 8)
		snprintf(s->tcp_congestion_control,
			 sizeof(s->tcp_congestion_control), "reno");
	if (b & 16) {
		s->tcp_rmem[0] = s->tcp_rmem[1] = s->tcp_wmem[0] = 4096;
		s->tcp_wmem[1] = 4096;
		s->tcp_rmem[2] = s->tcp_wmem[2] = 8192;
	}
	if (b & 32)
		s->tcp_max_syn_backlog = 1;
	if (b & 64)
		s->tcp_initcwnd = 0;
	if (b & 128) { /* short timers: more of them fire */
		s->msl_ms = 500;
		s->tcp_fin_timeout = 1;
		s->rto_min_ms = 5;
		s->rto_initial_ms = 50;
		s->tcp_keepalive_time = 2;
		s->tcp_keepalive_intvl = 1;
	}
}

static void run_record(world *w, fuzz_in *in)
{
	int kind = kinds[fuzz_u8(in) & 15];

	advance(w, w->now + fuzz_step(fuzz_u8(in)));
	switch (kind) {
	case R_SEG:
		do_seg(w, in);
		break;
	case R_RAW:
		do_raw(w, in);
		break;
	case R_RAWTCP:
		do_rawtcp(w, in);
		break;
	case R_ICMP:
		do_icmp(w, in);
		break;
	case R_APP:
		do_app(w, in);
		break;
	case R_PUMP:
		do_pump(w, in);
		break;
	default: /* R_TIME: the step above was all */
		break;
	}
	check_stack(w, SIDE_A);
	check_stack(w, SIDE_B);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned fails[8] = {0, 0, 0, 0, 7, 13, 31, 101};
	fuzz_in in = {data, size};
	world *w = calloc(1, sizeof(*w));
	tern_settings set;

	FUZZ_CHECK(w != NULL);
	w->wires[SIDE_A].q = frames[SIDE_A];
	w->wires[SIDE_B].q = frames[SIDE_B];
	w->pkt = pkt_buf;
	w->scratch = scratch_buf;
	if (getenv("FUZZ_TRACE"))
		w->json = tern_trace_json_stream(stderr, 0);
	settings_from(&set, fuzz_u8(&in));
	uint8_t fail = fuzz_u8(&in);
	setup(w, &set);
	/* Allocations fail from here on, if the input asks: the setup must
	 * hold connections in every state first. */
	w->mem[SIDE_A].fail_every = fails[fail & 7];
	w->mem[SIDE_A].armed = true;
	for (int n = 0; n < RECORDS_MAX && in.left > 0; n++)
		run_record(w, &in);
	for (int side = 0; side < 2; side++) {
		tern_stack_free(w->s[side]);
		FUZZ_CHECK(w->mem[side].outstanding == 0);
		FUZZ_CHECK(w->mem[side].blocks == 0);
	}
	if (w->json)
		tern_trace_json_close(w->json);
	free(w);
	return 0;
}
