/* The shapes of congestion control over a bottleneck: one bulk transfer
 * through a rate-limited link with a drop-tail queue, cwnd read every
 * round trip: 20 Mbit/s, RTT 50 ms, 48 KB of queue for reno; 100
 * Mbit/s, RTT 100 ms, 256 KB for cubic, whose cubic region needs a
 * larger window (RFC 9438 4.3: below it CUBIC behaves as Reno).
 *
 * reno (RFC 5681): slow start grows cwnd by one SMSS per ACK, and the
 * receiver acknowledges every second segment, so x1.5 a round trip; a
 * loss halves the flight; congestion avoidance then adds one SMSS a
 * round trip, a straight line.
 * cubic (RFC 9438): slow start counts every acknowledged byte, so x2 a
 * round trip; a loss leaves 0.7 of the flight; the window then grows
 * fast, slows as it nears W_max (the window at the loss: concave) and
 * speeds up beyond it (convex). */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORT 5001
#define SAMPLES 400 /* round trips */
#define SEG 1448u

typedef struct sample {
	uint32_t cwnd, ssthresh;
} sample;

typedef struct flow {
	tern_sim *sim;
	tern_stack *st[2];
	tern_conn *client, *listener, *server;
	uint8_t buf[65536];
	sample s[SAMPLES];
} flow;

static tern_stack *make_stack(flow *f, int i, const char *cc, tern_link *port)
{
	tern_settings set;
	tern_settings_default(&set);
	snprintf(set.tcp_congestion_control, sizeof(set.tcp_congestion_control),
		 "%s", cc);
	/* min <= default <= max, as tern_settings_check asks */
	set.tcp_wmem[1] = set.tcp_wmem[2] = 8 << 20;
	set.tcp_rmem[1] = set.tcp_rmem[2] = 8 << 20;
	tern_stack_config cfg = {
		.addr = i ? SERVER : CLIENT,
		.settings = &set,
		.secret = {7, (uint64_t)i},
	};
	tern_stack *st = tern_stack_new(&cfg);
	assert_non_null(st);
	assert_int_equal(tern_sim_add_stack(f->sim, st, port), 0);
	(void)f;
	return st;
}

/* The client writes all it can, the server reads all there is. */
static void pump(flow *f, tern_time now)
{
	if (!f->server)
		f->server = tern_tcp_accept(f->listener, NULL);
	while (tern_tcp_send(f->client, f->buf, sizeof(f->buf), now) > 0)
		;
	while (f->server &&
	       tern_tcp_recv(f->server, f->buf, sizeof(f->buf), now) > 0)
		;
}

typedef struct bottleneck {
	uint64_t rate_bps;
	tern_time rtt;
	size_t queue;
} bottleneck;

static void run_flow(flow *f, const char *cc, const bottleneck *bn)
{
	tern_sim_path path = {
		.delay = bn->rtt / 2,
		.rate_bps = bn->rate_bps,
		.queue_bytes = bn->queue,
	};
	tern_sim_path back = {.delay = bn->rtt / 2};
	tern_endpoint to = {SERVER, PORT};

	memset(f, 0, sizeof(*f));
	f->sim = tern_sim_new(1);
	tern_link *a = tern_sim_port(f->sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(f->sim, SERVER, 1500);
	assert_true(tern_sim_join(f->sim, a, b, &path, &back) >= 0);
	f->st[0] = make_stack(f, 0, cc, a);
	f->st[1] = make_stack(f, 1, cc, b);
	f->listener = tern_tcp_listen(f->st[1], PORT, 16, NULL, 0, NULL);
	f->client = tern_tcp_connect(f->st[0], &to, NULL, 0, NULL);
	assert_non_null(f->listener);
	assert_non_null(f->client);
	tern_time t = 0;
	for (int i = 0; i < SAMPLES; i++) {
		for (int step = 0; step < 10; step++) {
			t += bn->rtt / 10;
			tern_sim_run(f->sim, t);
			pump(f, t);
		}
		tern_tcp_info info;
		assert_int_equal(tern_tcp_info_get(f->client, &info), 0);
		f->s[i] = (sample){info.cwnd, info.ssthresh};
	}
	tern_stack_free(f->st[0]);
	tern_stack_free(f->st[1]);
	tern_sim_free(f->sim);
}

/* The first sample after which ssthresh changes, from index `from`. */
static int next_loss(const flow *f, int from)
{
	for (int i = from + 1; i < SAMPLES; i++)
		if (f->s[i].ssthresh != f->s[from].ssthresh)
			return i;
	return SAMPLES;
}

/* Slow start: the growth a round trip over the samples before the first
 * loss that are past the handshake and below half the loss window. */
static double slow_start_ratio(const flow *f, int loss)
{
	double sum = 0;
	int n = 0;

	for (int i = 1; i + 1 < loss; i++) {
		sum += (double)f->s[i + 1].cwnd / f->s[i].cwnd;
		n++;
	}
	assert_true(n >= 2);
	return sum / n;
}

static flow F;

static void test_reno_shape(void **state)
{
	const bottleneck bn = {20000000, 50 * TERN_MSEC, 48 * 1024};

	(void)state;
	run_flow(&F, "reno", &bn);
	int l1 = next_loss(&F, 1); /* sample 0: before the handshake */
	assert_true(l1 < 40);
	double r = slow_start_ratio(&F, l1);
	print_message("reno: slow start x%.2f a round trip\n", r);
	assert_true(r > 1.35 && r < 1.65);

	/* after the first recovery: a straight line of 1 SMSS per RTT */
	int l2 = next_loss(&F, l1);
	int start = l1 + 4, end = l2 - 1;
	assert_true(end - start >= 20);
	for (int i = start; i < end; i++)
		assert_true(F.s[i].cwnd >= F.s[i].ssthresh);
	double slope =
		((double)F.s[end].cwnd - F.s[start].cwnd) / (end - start) / SEG;
	/* equation (4): half the flight at the loss, which the window read
	 * a round trip before (the loss is found some time after) is near */
	double half = (double)F.s[l2].ssthresh / F.s[l2 - 1].cwnd;
	print_message("reno: congestion avoidance %.2f SMSS a round trip "
		      "over %d round trips; ssthresh %.2f of the window\n",
		      slope, end - start, half);
	assert_true(slope > 0.7 && slope < 1.2);
	assert_true(half > 0.4 && half < 0.6);
}

/* Growth in SMSS a round trip over samples [i - 2, i + 2]. */
static double growth(const flow *f, int i)
{
	return ((double)f->s[i + 2].cwnd - f->s[i - 2].cwnd) / 4 / SEG;
}

/* The last loss that fast recovery handled (the window after it near
 * beta x the window before: no timeout), from which an epoch runs. */
static int last_recovered_loss(const flow *f, int from)
{
	int found = -1;

	for (int i = next_loss(f, from); i < SAMPLES; i = next_loss(f, i))
		if (f->s[i].cwnd > f->s[i - 1].cwnd / 2)
			found = i;
	return found;
}

static void test_cubic_shape(void **state)
{
	const bottleneck bn = {100000000, 100 * TERN_MSEC, 256 * 1024};

	(void)state;
	run_flow(&F, "cubic", &bn);
	int l1 = next_loss(&F, 1);
	double r = slow_start_ratio(&F, l1);
	print_message("cubic: slow start x%.2f a round trip\n", r);
	assert_true(r > 1.8 && r < 2.2);

	/* an epoch after a recovered loss: beta, then fast growth that
	 * slows to a plateau (concave) and speeds up past it (convex) */
	int from = last_recovered_loss(&F, l1);
	assert_true(from > 0);
	int to = next_loss(&F, from);
	double beta = (double)F.s[from].ssthresh / F.s[from - 1].cwnd;
	int a = from + 5, m = a;
	for (int i = a; i + 3 < to; i++)
		if (growth(&F, i) < growth(&F, m))
			m = i;
	double early = growth(&F, a), flat = growth(&F, m);
	print_message("cubic: ssthresh %.2f of the window at the loss; %.1f "
		      "SMSS a round trip after it, %.1f at the plateau %d "
		      "round trips later, window %u\n",
		      beta, early, flat, m - a, F.s[m].cwnd);
	assert_true(beta > 0.6 && beta < 0.8);
	assert_true(early > 3.0); /* reno: 1 */
	assert_true(early > 3 * flat);
	assert_true(m > a + 10);
	double later = 0;
	for (int i = m; i + 3 < to; i++)
		if (growth(&F, i) > later)
			later = growth(&F, i);
	print_message("cubic: up to %.1f SMSS a round trip past it\n", later);
	if (to == SAMPLES) /* the epoch ran on: convex past W_max */
		assert_true(later > 2.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reno_shape),
		cmocka_unit_test(test_cubic_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
