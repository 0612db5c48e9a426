/* What is left after close(): TIME_WAIT records (src/stack/timewait.c),
 * as an orphan in TIME_WAIT becomes a record of at most 64 bytes that
 * behaves as the connection did; tcp_max_tw_buckets, RFC 6191's new
 * incarnations and tcp_tw_reuse; and the limit on orphans,
 * tcp_max_orphans. */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>
#include <tern/wire.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 80
#define MSL_NS (30 * TERN_SEC)

typedef struct rig {
	tern_sim *sim;
	tern_stack *c, *s;
	tern_conn *l;
	tern_time now;
	/* the last TIME_WAIT of each stack (0: client): its start and end */
	tern_time tw_start[2], tw_end[2];
	const char *tw_cause[2];
	int tw_ends[2];
	/* the last SYN+ACK the server sent */
	uint32_t synack_seq;
	/* the last SYN the client sent */
	uint32_t syn_seq;
	uint16_t syn_sport;
} rig;

static void hook(void *ctx, const tern_trace_event *ev)
{
	rig *r = ctx;
	int side = strcmp(ev->host, "server") == 0;

	if (ev->kind == TERN_TRACE_STATE && ev->state.to == TERN_TCP_TIME_WAIT)
		r->tw_start[side] = ev->t;
	if (ev->kind == TERN_TRACE_STATE &&
	    ev->state.from == TERN_TCP_TIME_WAIT) {
		r->tw_end[side] = ev->t;
		r->tw_cause[side] = ev->state.cause;
		r->tw_ends[side]++;
	}
	if (ev->kind == TERN_TRACE_SEG && ev->seg.tx &&
	    (ev->seg.flags & TERN_TCP_SYN)) {
		if (ev->seg.flags & TERN_TCP_ACK) {
			r->synack_seq = ev->seg.seq;
		} else {
			r->syn_seq = ev->seg.seq;
			r->syn_sport = ev->seg.src.port;
		}
	}
}

static tern_stack *make_stack(rig *r, tern_link *port, uint32_t addr,
			      const char *name, const tern_settings *set)
{
	tern_stack_config cfg = {.name = name, .addr = addr, .settings = set};
	tern_stack *st = tern_stack_new(&cfg);
	assert_non_null(st);
	assert_int_equal(tern_sim_add_stack(r->sim, st, port), 0);
	tern_stack_add_trace(st, hook, r);
	return st;
}

static void rig_up(rig *r, const tern_settings *cset, const tern_settings *sset)
{
	tern_sim_path path = {.delay = 5 * TERN_MSEC};

	memset(r, 0, sizeof(*r));
	r->sim = tern_sim_new(7);
	tern_link *a = tern_sim_port(r->sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(r->sim, SERVER, 1500);
	assert_true(tern_sim_join(r->sim, a, b, &path, &path) >= 0);
	r->c = make_stack(r, a, CLIENT, "client", cset);
	r->s = make_stack(r, b, SERVER, "server", sset);
	r->l = tern_tcp_listen(r->s, PORT, 128, NULL, 0, NULL);
	assert_non_null(r->l);
}

static void rig_down(rig *r)
{
	tern_stack_free(r->c);
	tern_stack_free(r->s);
	tern_sim_free(r->sim);
}

static void run_for(rig *r, tern_time d)
{
	r->now += d;
	tern_sim_run(r->sim, r->now);
}

/* A connection from the client (local port `port`, 0: any), accepted. */
static tern_conn *open_conn(rig *r, uint16_t port, tern_conn **srv)
{
	tern_endpoint dst = {SERVER, PORT};
	tern_conn_opts o = {.local_port = port};
	int err = -1;
	tern_conn *c = tern_tcp_connect(r->c, &dst, &o, r->now, &err);

	assert_int_equal(err, 0);
	run_for(r, 100 * TERN_MSEC);
	assert_int_equal(tern_tcp_state(c), TERN_TCP_ESTABLISHED);
	*srv = tern_tcp_accept(r->l, NULL);
	assert_non_null(*srv);
	return c;
}

static void open_many(rig *r, int n, tern_conn **cl, tern_conn **sv)
{
	for (int i = 0; i < n; i++)
		cl[i] = open_conn(r, 0, &sv[i]);
}

/* `first` closes, then `second`: first ends in TIME_WAIT. */
static void close_both(rig *r, tern_conn *first, tern_conn *second)
{
	tern_tcp_close(first, r->now);
	run_for(r, 100 * TERN_MSEC);
	tern_tcp_close(second, r->now);
	run_for(r, 100 * TERN_MSEC);
}

static size_t state_count(tern_stack *st, int state)
{
	size_t counts[TERN_TCP_STATE_COUNT];
	tern_stack_state_counts(st, counts);
	return counts[state];
}

static uint64_t ctr(tern_stack *st, int c)
{
	return tern_stack_stats(st)->counters[c];
}

/* The active closer's connection becomes a record: counted in TIME_WAIT,
 * 64 bytes or less each, and it ends 2 MSL after it began. */
static void test_orphan_becomes_record(void **state)
{
	(void)state;
	enum { N = 3 * 1024 }; /* whole chunks of records */
	static tern_conn *cl[N], *sv[N];
	tern_settings set;
	rig r;

	tern_settings_default(&set);
	rig_up(&r, &set, &set);
	open_many(&r, N, cl, sv);
	for (int i = 0; i < N; i++)
		tern_tcp_close(cl[i], r.now);
	run_for(&r, 100 * TERN_MSEC);
	for (int i = 0; i < N; i++)
		tern_tcp_close(sv[i], r.now);
	run_for(&r, 100 * TERN_MSEC);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), N);
	assert_int_equal(tern_stack_conn_count(r.c), N);
	size_t with = tern_stack_mem_in_use(r.c);
	run_for(&r, 59 * TERN_SEC);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), N);
	run_for(&r, 2 * TERN_SEC);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), 0);
	assert_int_equal(r.tw_ends[0], N);
	assert_string_equal(r.tw_cause[0], "timeout");
	assert_true(r.tw_end[0] == r.tw_start[0] + 2 * MSL_NS);
	assert_int_equal(tern_stack_conn_count(r.c), 0);
	/* the connections went when their records came: all that is left
	 * of them is the records, hash buckets included */
	size_t without = tern_stack_mem_in_use(r.c);
	double each = (double)(with - without) / N;
	print_message("%d records: %.1f bytes each\n", N, each);
	assert_true(each <= 64);
	rig_down(&r);
}

/* An application that still holds its connection sees TIME_WAIT; when it
 * closes, the record keeps the wait's end (not restarted). */
static void test_held_then_closed(void **state)
{
	(void)state;
	tern_settings set;
	tern_conn *srv;
	rig r;

	tern_settings_default(&set);
	rig_up(&r, &set, &set);
	tern_conn *c = open_conn(&r, 0, &srv);
	tern_tcp_shutdown(c, TERN_SHUT_WR, r.now);
	run_for(&r, 100 * TERN_MSEC);
	tern_tcp_close(srv, r.now);
	run_for(&r, 100 * TERN_MSEC);
	assert_int_equal(tern_tcp_state(c), TERN_TCP_TIME_WAIT);
	run_for(&r, 10 * TERN_SEC);
	tern_tcp_close(c, r.now);
	run_for(&r, 10 * TERN_MSEC);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), 1);
	run_for(&r, 60 * TERN_SEC);
	assert_int_equal(r.tw_ends[0], 1);
	assert_true(r.tw_end[0] == r.tw_start[0] + 2 * MSL_NS);
	assert_int_equal(tern_stack_conn_count(r.c), 0);
	rig_down(&r);
}

/* tcp_max_tw_buckets: past it, TIME_WAIT ends at once, counted (Linux's
 * TCPTimeWaitOverflow), and the last ACK has still gone out. */
static void test_max_tw_buckets(void **state)
{
	(void)state;
	tern_settings set;
	tern_conn *cl[5], *sv[5];
	rig r;

	tern_settings_default(&set);
	set.tcp_max_tw_buckets = 2;
	rig_up(&r, &set, &set);
	open_many(&r, 5, cl, sv);
	for (int i = 0; i < 5; i++)
		close_both(&r, cl[i], sv[i]);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), 2);
	assert_int_equal(ctr(r.c, TERN_CTR_TCP_TW_OVERFLOW), 3);
	assert_int_equal(r.tw_ends[0], 3);
	assert_string_equal(r.tw_cause[0], "time-wait overflow");
	/* every server connection got its last ACK and closed */
	assert_int_equal(tern_stack_conn_count(r.s), 1); /* the listener */
	rig_down(&r);
}

/* The server closed first, so it holds the 4-tuple in TIME_WAIT. */
static void server_time_wait(rig *r, uint16_t port)
{
	tern_conn *srv;
	tern_conn *c = open_conn(r, port, &srv);

	close_both(r, srv, c);
	assert_int_equal(state_count(r->s, TERN_TCP_TIME_WAIT), 1);
}

/* RFC 6191: a SYN with a newer timestamp opens a new incarnation; the
 * server's ISN lies beyond what the old one sent. */
static void test_rfc6191_new_syn(void **state)
{
	(void)state;
	tern_settings set;
	tern_conn *srv;
	rig r;

	tern_settings_default(&set);
	rig_up(&r, &set, &set);
	server_time_wait(&r, 40000);
	uint32_t old_iss = r.synack_seq;
	run_for(&r, 1 * TERN_SEC);
	tern_conn *c = open_conn(&r, 40000, &srv);
	assert_int_equal(tern_tcp_state(c), TERN_TCP_ESTABLISHED);
	assert_int_equal(r.tw_ends[1], 1);
	assert_string_equal(r.tw_cause[1], "rx SYN");
	/* the old connection sent SYN and FIN: its SND.NXT was ISS + 2 */
	assert_int_equal(r.synack_seq, old_iss + 2 + 65535 + 2);
	rig_down(&r);
}

/* Such a SYN comes from a proven peer: even with tcp_syncookies = 2 it
 * makes a connection of its own, with the ISN beyond the old one's, not a
 * cookie (Linux's tcp_conn_request with `isn` set). */
static void test_rfc6191_syn_skips_cookies(void **state)
{
	(void)state;
	tern_settings set, always;
	tern_conn *srv;
	rig r;

	tern_settings_default(&set);
	always = set;
	always.tcp_syncookies = 2;
	rig_up(&r, &set, &always);
	server_time_wait(&r, 40000);
	uint32_t old_iss = r.synack_seq;
	uint64_t cookies = ctr(r.s, TERN_CTR_SYNCOOKIES_SENT);
	run_for(&r, 1 * TERN_SEC);
	open_conn(&r, 40000, &srv);
	assert_int_equal(ctr(r.s, TERN_CTR_SYNCOOKIES_SENT), cookies);
	assert_int_equal(r.synack_seq, old_iss + 2 + 65535 + 2);
	rig_down(&r);
}

/* Builds a SYN from the client's port to the server with `ts` (0: no
 * timestamps) and sequence `seq`, and gives it to the server. */
static void inject_syn(rig *r, uint16_t sport, uint32_t seq, uint32_t ts)
{
	uint8_t buf[80];
	tern_tcp_hdr th = {.sport = sport,
			   .dport = PORT,
			   .seq = seq,
			   .flags = TERN_TCP_SYN,
			   .win = 65535};
	th.opts.present = TERN_TCPOPT_MSS;
	th.opts.mss = 1460;
	if (ts) {
		th.opts.present |= TERN_TCPOPT_TIMESTAMP;
		th.opts.ts_val = ts;
	}
	tern_ipv4_hdr ih = {.ttl = 64,
			    .proto = TERN_IPPROTO_TCP,
			    .src = CLIENT,
			    .dst = SERVER};
	size_t tl = tern_tcp_emit(buf + 20, 60, &th);
	tern_ipv4_emit(buf, 20, &ih, tl);
	tern_csum c;
	tern_store16(buf + 36, 0);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, CLIENT, SERVER, TERN_IPPROTO_TCP,
			     (uint16_t)tl);
	tern_csum_add(&c, buf + 20, tl);
	tern_store16(buf + 36, tern_csum_final(&c));
	tern_stack_input(r->s, buf, 20 + tl, r->now);
}

/* RFC 6191: an old SYN (an older timestamp, or without timestamps a
 * sequence number not beyond RCV.NXT) is dropped silently and the wait
 * goes on. */
static void test_rfc6191_old_syn(void **state)
{
	(void)state;
	tern_settings set, nots;
	rig r;

	tern_settings_default(&set);
	rig_up(&r, &set, &set);
	server_time_wait(&r, 40000);
	uint64_t drops = tern_stack_stats(r.s)->drops[TERN_DROP_TCP_TW_OLD_SYN];
	uint64_t out = ctr(r.s, TERN_CTR_TCP_OUT_SEGS);
	inject_syn(&r, 40000, r.syn_seq + 100000, 1); /* TSval 1: old */
	run_for(&r, 10 * TERN_MSEC);
	assert_int_equal(tern_stack_stats(r.s)->drops[TERN_DROP_TCP_TW_OLD_SYN],
			 drops + 1);
	assert_int_equal(ctr(r.s, TERN_CTR_TCP_OUT_SEGS), out);
	assert_int_equal(state_count(r.s, TERN_TCP_TIME_WAIT), 1);
	rig_down(&r);

	/* no timestamps on either incarnation: the sequence number decides */
	tern_settings_default(&nots);
	nots.tcp_timestamps = 0;
	rig_up(&r, &nots, &nots);
	server_time_wait(&r, 40001);
	inject_syn(&r, 40001, r.syn_seq, 0); /* at the old ISN: old */
	run_for(&r, 10 * TERN_MSEC);
	assert_int_equal(tern_stack_stats(r.s)->drops[TERN_DROP_TCP_TW_OLD_SYN],
			 1);
	assert_int_equal(state_count(r.s, TERN_TCP_TIME_WAIT), 1);
	uint32_t old_iss = r.synack_seq;
	inject_syn(&r, 40001, r.syn_seq + 100000, 0); /* beyond: new */
	assert_int_equal(state_count(r.s, TERN_TCP_TIME_WAIT), 0);
	assert_int_equal(state_count(r.s, TERN_TCP_SYN_RECEIVED), 1);
	assert_string_equal(r.tw_cause[1], "rx SYN");
	assert_int_equal(r.synack_seq, old_iss + 2 + 65535 + 2);
	rig_down(&r);
}

/* The client closed first: its port is in TIME_WAIT with the server. */
static void client_time_wait(rig *r, uint16_t port)
{
	tern_conn *srv;
	tern_conn *c = open_conn(r, port, &srv);

	close_both(r, c, srv);
	assert_int_equal(state_count(r->c, TERN_TCP_TIME_WAIT), 1);
}

static int connect_port(rig *r, uint16_t port)
{
	tern_endpoint dst = {SERVER, PORT};
	tern_conn_opts o = {.local_port = port};
	int err = 0;

	tern_tcp_connect(r->c, &dst, &o, r->now, &err);
	return err;
}

/* tcp_tw_reuse: 0 never, 1 once a second has passed since the last
 * timestamp, 2 only with a loopback address (which tern's links never
 * carry: RFC 1122 drops 127/8 from the wire); the new connection's ISN
 * lies beyond the old one's, and it is counted (TWRecycled). */
static void test_tw_reuse(void **state)
{
	(void)state;
	tern_settings set;
	rig r;

	tern_settings_default(&set);
	set.tcp_tw_reuse = 0;
	rig_up(&r, &set, &set);
	client_time_wait(&r, 40000);
	run_for(&r, 2 * TERN_SEC);
	assert_int_equal(connect_port(&r, 40000), TERN_ERR_ADDRNOTAVAIL);
	rig_down(&r);

	set.tcp_tw_reuse = 1;
	rig_up(&r, &set, &set);
	client_time_wait(&r, 40000);
	uint32_t old_iss = r.syn_seq;
	/* still the second the wait began in (it began at 0.4 s) */
	assert_true(r.now / TERN_SEC == r.tw_start[0] / TERN_SEC);
	assert_int_equal(connect_port(&r, 40000), TERN_ERR_ADDRNOTAVAIL);
	run_for(&r, 1 * TERN_SEC);
	assert_int_equal(connect_port(&r, 40000), 0);
	assert_int_equal(ctr(r.c, TERN_CTR_TCP_TW_RECYCLED), 1);
	assert_string_equal(r.tw_cause[0], "reused");
	assert_int_equal(r.syn_seq, old_iss + 2 + 65535 + 2);
	run_for(&r, 100 * TERN_MSEC);
	assert_int_equal(state_count(r.c, TERN_TCP_ESTABLISHED), 1);
	rig_down(&r);

	/* 2: loopback only */
	set.tcp_tw_reuse = 2;
	rig_up(&r, &set, &set);
	client_time_wait(&r, 40000);
	run_for(&r, 2 * TERN_SEC);
	assert_int_equal(connect_port(&r, 40000), TERN_ERR_ADDRNOTAVAIL);
	rig_down(&r);
}

/* Without timestamps there is no reuse, and ephemeral ports skip the
 * ones in TIME_WAIT until none is left. */
static void test_ephemeral_ports_skip_time_wait(void **state)
{
	(void)state;
	tern_settings set;
	rig r;

	tern_settings_default(&set);
	set.tcp_timestamps = 0;
	set.tcp_tw_reuse = 1;
	set.ip_local_port_range[0] = 50000;
	set.ip_local_port_range[1] = 50001;
	rig_up(&r, &set, &set);
	client_time_wait(&r, 0);
	run_for(&r, 2 * TERN_SEC);
	tern_conn *srv;
	tern_conn *c = open_conn(&r, 0, &srv);
	close_both(&r, c, srv);
	assert_int_equal(state_count(r.c, TERN_TCP_TIME_WAIT), 2);
	run_for(&r, 2 * TERN_SEC);
	assert_int_equal(connect_port(&r, 0), TERN_ERR_ADDRNOTAVAIL);
	assert_int_equal(ctr(r.c, TERN_CTR_TCP_TW_RECYCLED), 0);
	rig_down(&r);
}

/* tcp_max_orphans: the client closes four connections whose peer never
 * closes (each waits in FIN_WAIT_2); past two orphans, close() resets
 * (Linux's "too many orphaned sockets", TCPAbortOnMemory). */
static void test_max_orphans(void **state)
{
	(void)state;
	tern_settings set;
	tern_conn *cl[4], *sv[4];
	rig r;

	tern_settings_default(&set);
	set.tcp_max_orphans = 2;
	rig_up(&r, &set, &set);
	open_many(&r, 4, cl, sv);
	for (int i = 0; i < 4; i++)
		tern_tcp_close(cl[i], r.now);
	run_for(&r, 100 * TERN_MSEC);
	assert_int_equal(ctr(r.c, TERN_CTR_TCP_ABORT_ON_MEMORY), 2);
	assert_int_equal(state_count(r.c, TERN_TCP_FIN_WAIT_2), 2);
	assert_int_equal(tern_tcp_state(sv[0]), TERN_TCP_CLOSE_WAIT);
	assert_int_equal(tern_tcp_state(sv[1]), TERN_TCP_CLOSE_WAIT);
	assert_int_equal(tern_tcp_state(sv[2]), TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(sv[3]), TERN_ERR_RESET);
	/* an orphan that ends makes room for the next */
	tern_tcp_close(sv[0], r.now);
	run_for(&r, 100 * TERN_MSEC);
	tern_conn *srv;
	tern_conn *c = open_conn(&r, 0, &srv);
	tern_tcp_close(c, r.now);
	run_for(&r, 100 * TERN_MSEC);
	assert_int_equal(ctr(r.c, TERN_CTR_TCP_ABORT_ON_MEMORY), 2);
	for (int i = 1; i < 4; i++)
		tern_tcp_close(sv[i], r.now);
	tern_tcp_close(srv, r.now);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orphan_becomes_record),
		cmocka_unit_test(test_held_then_closed),
		cmocka_unit_test(test_max_tw_buckets),
		cmocka_unit_test(test_rfc6191_new_syn),
		cmocka_unit_test(test_rfc6191_old_syn),
		cmocka_unit_test(test_rfc6191_syn_skips_cookies),
		cmocka_unit_test(test_tw_reuse),
		cmocka_unit_test(test_ephemeral_ports_skip_time_wait),
		cmocka_unit_test(test_max_orphans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
