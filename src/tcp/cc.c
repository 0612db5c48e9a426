/* Congestion control: "reno", the window rules of RFC 5681 (slow start,
 * congestion avoidance), and "cubic" (RFC 9438). Loss detection and
 * recovery (RFC 5681 3.2, RFC 6582, RFC 6675) live in ack.c and sack.c;
 * an algorithm only says how cwnd grows and where ssthresh goes on a
 * loss. The stack's tcp_congestion_control setting picks one. */
#include <string.h>

#include "tcp/internal.h"

/* RFC 5681 3.1, equation (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t reno_ssthresh(tcp_tcb *t, uint32_t flight, tern_time now)
{
	uint32_t half = flight / 2;

	(void)now;
	uint32_t floor = 2u * t->snd_mss;

	return half > floor ? half : floor;
}

/* RFC 5681 3.1: slow start grows cwnd by at most SMSS per ACK (equation
 * 2); congestion avoidance by one SMSS per cwnd of data acknowledged
 * (byte counting, as 3.1 recommends). */
static void reno_on_ack(tcp_tcb *t, uint32_t acked, tern_time now)
{
	(void)now;
	if (t->cwnd < t->ssthresh) {
		t->cwnd += acked < t->snd_mss ? acked : t->snd_mss;
		return;
	}
	t->acked_frac += acked;
	if (t->acked_frac >= t->cwnd) {
		t->acked_frac -= t->cwnd;
		t->cwnd += t->snd_mss;
	}
}

const tcp_cc_ops tcp_cc_reno = {
	.name = "reno",
	.on_ack = reno_on_ack,
	.ssthresh = reno_ssthresh,
};

/* ---- CUBIC (RFC 9438), Linux's default ---- */

/* RFC 9438 4.1 and 4.6: C = 0.4 and beta_cubic = 0.7; alpha_cubic =
 * 3 (1 - beta) / (1 + beta) for the Reno-friendly estimate (4.3). */
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* Newton's method: no libm for one cube root per loss. */
static double cube_root(double a)
{
	double x = a > 1.0 ? a : 1.0;

	if (a <= 0.0)
		return 0.0;
	for (int i = 0; i < 100; i++) {
		double next = (2.0 * x + a / (x * x)) / 3.0;
		if (next >= x)
			break;
		x = next;
	}
	return x;
}

/* RFC 9438 4.2, equation (1) in bytes: W_cubic(t) = C (t - K)^3 + W_max
 * segments, t and K in seconds. */
static double cubic_w(const tcp_tcb *t, double secs)
{
	double d = secs - (double)t->cubic_k_us / 1e6;

	return CUBIC_C * d * d * d * t->snd_mss + (double)t->cubic_wmax;
}

/* The first ACK in congestion avoidance after a loss starts an epoch:
 * K (equation 2) from W_max and the window it starts with. */
static void cubic_epoch(tcp_tcb *t, tern_time now)
{
	t->cubic_epoch = now;
	t->cubic_west = t->cwnd;
	if (t->cubic_wmax < t->cwnd)
		t->cubic_wmax = t->cwnd; /* no loss yet: K = 0 */
	double segs = (double)(t->cubic_wmax - t->cwnd) / t->snd_mss;
	t->cubic_k_us = (uint32_t)(cube_root(segs / CUBIC_C) * 1e6);
}

/* Linux's tcp_slow_start(): every acknowledged byte counts (RFC 3465
 * byte counting with no per-ACK limit, which stretch ACKs of GRO and
 * TSO would otherwise starve), up to ssthresh. */
static uint32_t slow_start(tcp_tcb *t, uint32_t acked)
{
	uint32_t room = t->ssthresh - t->cwnd;
	uint32_t grow = acked < room ? acked : room;

	t->cwnd += grow;
	return acked - grow;
}

/* RFC 9438 4.2-4.4: the window heads for W_cubic(t + RTT), at most 1.5
 * cwnd, growing by (target - cwnd) / cwnd per segment acknowledged; in
 * the Reno-friendly region (W_cubic below W_est) it follows W_est. */
static void cubic_on_ack(tcp_tcb *t, uint32_t acked, tern_time now)
{
	if (t->cwnd < t->ssthresh) {
		acked = slow_start(t, acked);
		if (acked == 0)
			return;
	}
	if (t->cubic_epoch == TERN_TIME_NONE)
		cubic_epoch(t, now);
	double rtt = (double)(t->srtt ? t->srtt : 100 * TERN_MSEC) / 1e9;
	double secs = (double)(now - t->cubic_epoch) / 1e9;
	double target = cubic_w(t, secs + rtt);
	double cwnd = (double)t->cwnd;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	t->cubic_west += (uint32_t)(CUBIC_ALPHA * t->snd_mss * acked / cwnd);
	if (cubic_w(t, secs) < (double)t->cubic_west) /* 4.3 */
		target = (double)t->cubic_west;
	if (target <= cwnd)
		return;
	t->acked_frac += (uint32_t)((target - cwnd) * acked / cwnd);
	if (t->acked_frac >= t->snd_mss / 4u) { /* grow in steps */
		t->cwnd += t->acked_frac;
		t->acked_frac = 0;
	}
}

/* RFC 9438 4.6 and 4.7: W_max is the window before the loss, less by
 * fast convergence when the last W_max was not reached; ssthresh =
 * beta_cubic x flight, at least 2 SMSS. A new epoch starts with the
 * next ACK in congestion avoidance. */
static uint32_t cubic_ssthresh(tcp_tcb *t, uint32_t flight, tern_time now)
{
	uint32_t prior = t->cwnd;
	uint32_t floor = 2u * t->snd_mss;

	(void)now;
	if (prior < t->cubic_wmax)
		t->cubic_wmax =
			(uint32_t)(prior * (1.0 + CUBIC_BETA) / 2.0); /* 4.7 */
	else
		t->cubic_wmax = prior;
	t->cubic_epoch = TERN_TIME_NONE;
	t->acked_frac = 0;
	uint32_t ss = (uint32_t)(flight * CUBIC_BETA);
	return ss > floor ? ss : floor;
}

const tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.on_ack = cubic_on_ack,
	.ssthresh = cubic_ssthresh,
};

bool tcp_cc_known(const char *name)
{
	return cc_find(name) != NULL;
}

const tcp_cc_ops *cc_find(const char *name)
{
	if (strcmp(name, "cubic") == 0)
		return &tcp_cc_cubic;
	if (strcmp(name, "reno") == 0)
		return &tcp_cc_reno;
	return NULL;
}

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)), or tcp_initcwnd
 * segments as Linux's initcwnd; with 0, RFC 5681 3.1 equation (1):
 * IW = min(4*SMSS, max(2*SMSS, 4380)). */
uint32_t cc_initial_window(const tcp_tcb *t)
{
	uint32_t mss = t->snd_mss;
	uint32_t segs = (uint32_t)t->cfg->tcp_initcwnd;

	if (segs == 10) {
		uint32_t iw10 = 2 * mss > 14600 ? 2 * mss : 14600;
		return iw10 < 10 * mss ? iw10 : 10 * mss;
	}
	if (segs > 0)
		return segs * mss;
	uint32_t iw = 2 * mss > 4380 ? 2 * mss : 4380;

	return iw < 4 * mss ? iw : 4 * mss;
}

void cc_init(tcp_tcb *t)
{
	t->cwnd = cc_initial_window(t);
	t->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
	t->acked_frac = 0;
	t->cubic_wmax = 0;
	t->cubic_epoch = TERN_TIME_NONE;
}
