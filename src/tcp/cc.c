/* Congestion control: the window rules of RFC 5681 (slow start,
 * congestion avoidance) as the "reno" algorithm. Loss detection and fast
 * recovery (RFC 5681 3.2, RFC 6582) live in ack.c; an algorithm only says
 * how cwnd grows and where ssthresh goes on loss. */
#include "tcp/internal.h"

/* RFC 5681 3.1, equation (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t reno_ssthresh(tcp_tcb *t, uint32_t flight)
{
	uint32_t half = flight / 2;
	uint32_t floor = 2u * t->snd_mss;

	return half > floor ? half : floor;
}

/* RFC 5681 3.1: slow start grows cwnd by at most SMSS per ACK (equation
 * 2); congestion avoidance by one SMSS per cwnd of data acknowledged
 * (byte counting, as 3.1 recommends). */
static void reno_on_ack(tcp_tcb *t, uint32_t acked)
{
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

/* RFC 5681 3.1, equation (1): IW = min(4*SMSS, max(2*SMSS, 4380)). */
uint32_t cc_initial_window(const tcp_tcb *t)
{
	uint32_t mss = t->snd_mss;
	uint32_t iw = 2 * mss > 4380 ? 2 * mss : 4380;

	return iw < 4 * mss ? iw : 4 * mss;
}

void cc_init(tcp_tcb *t)
{
	t->cwnd = cc_initial_window(t);
	t->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
	t->acked_frac = 0;
}
