/* Retransmission timeout (RFC 6298), with Linux's bounds. */
#include "tcp/internal.h"

/* Clock granularity G of RFC 6298 2.2: tern's clock is in nanoseconds,
 * but a variance term below a millisecond means nothing on a real host. */
#define RTT_G TERN_MSEC

static tern_time clamp_rto(const tcp_tcb *t, tern_time rto)
{
	tern_time lo = (tern_time)t->cfg->rto_min_ms * TERN_MSEC;
	tern_time hi = (tern_time)t->cfg->rto_max_ms * TERN_MSEC;

	if (rto < lo)
		return lo;
	return rto > hi ? hi : rto;
}

void rtt_init(tcp_tcb *t)
{
	t->srtt = 0;
	t->rttvar = 0;
	t->rto = clamp_rto(t, (tern_time)t->cfg->rto_initial_ms * TERN_MSEC);
}

static void rto_update(tcp_tcb *t);

/* RFC 6298 2.2 and 2.3: fold one measurement r into SRTT and RTTVAR. */
void rtt_sample(tcp_tcb *t, tern_time r)
{
	if (!(t->flags & TCP_F_RTT_VALID)) {
		t->srtt = r;
		t->rttvar = r / 2;
		t->flags |= TCP_F_RTT_VALID;
	} else {
		tern_time err = t->srtt > r ? t->srtt - r : r - t->srtt;
		t->rttvar = t->rttvar - t->rttvar / 4 + err / 4;
		t->srtt = t->srtt - t->srtt / 8 + r / 8;
	}
	rto_update(t);
}

static void rto_update(tcp_tcb *t)
{
	tern_time var = 4 * t->rttvar;

	t->rto = clamp_rto(t, t->srtt + (var > RTT_G ? var : RTT_G));
}

/* RFC 7323 4.2 and appendix G: with timestamps an ACK of new data gives
 * a sample, several per round trip, so each weighs less: alpha and beta
 * divided by ExpectedSamples = ceil(FlightSize / (2 * SMSS)), keeping
 * the memory of the estimator at about a round trip's worth. */
void rtt_sample_ts(tcp_tcb *t, tern_time r)
{
	if (!(t->flags & TCP_F_RTT_VALID)) {
		rtt_sample(t, r);
		return;
	}
	uint32_t flight = seq_diff(t->snd_max, t->snd_una);
	uint64_t n = (flight + 2u * t->snd_mss - 1) / (2u * t->snd_mss);
	if (n == 0)
		n = 1;
	tern_time err = t->srtt > r ? t->srtt - r : r - t->srtt;
	if (err > t->rttvar)
		t->rttvar += (err - t->rttvar) / (4 * n);
	else
		t->rttvar -= (t->rttvar - err) / (4 * n);
	if (r > t->srtt)
		t->srtt += (r - t->srtt) / (8 * n);
	else
		t->srtt -= (t->srtt - r) / (8 * n);
	rto_update(t);
}

/* RFC 6298 5.5: back the timer off after an expiry. */
void rtt_backoff(tcp_tcb *t)
{
	t->rto = clamp_rto(t, t->rto * 2);
}

/* RFC 6298 5.7: a handshake that needed a retransmission and produced no
 * measurement starts data transfer with a 3 s RTO. */
void rtt_after_handshake(tcp_tcb *t)
{
	if (!(t->flags & TCP_F_RTT_VALID) && t->backoff > 0)
		t->rto = clamp_rto(t, 3 * TERN_SEC);
}

/* Karn's rule (RFC 6298 3): time one segment at a time, never a
 * retransmitted one. */
void rtt_start(tcp_tcb *t, tcp_seq seq, tern_time now)
{
	if (t->flags & TCP_F_RTT_TIMING)
		return;
	t->flags |= TCP_F_RTT_TIMING;
	t->rtt_seq = seq;
	t->rtt_start = now;
}

void rtt_on_ack(tcp_tcb *t, tcp_seq ack, tern_time now)
{
	if (!(t->flags & TCP_F_RTT_TIMING) || !seq_gt(ack, t->rtt_seq))
		return;
	t->flags &= ~TCP_F_RTT_TIMING;
	if (now >= t->rtt_start) /* a clock gone back gives no sample */
		rtt_sample(t, now - t->rtt_start);
}

void rtt_cancel(tcp_tcb *t)
{
	t->flags &= ~TCP_F_RTT_TIMING;
}
