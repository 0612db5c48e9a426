/* The connection's timers: retransmission (RFC 6298), persist (RFC 9293
 * 3.8.6.1), delayed ACK (3.8.6.3), keepalive (3.8.4), TIME_WAIT and the
 * orphaned FIN_WAIT_2 timeout. Each is a deadline in t->deadline; the
 * stack calls tcp_run_timers() when the earliest is due. */
#include "tcp/internal.h"

static tern_time secs(int s)
{
	return (tern_time)s * TERN_SEC;
}

void timers_clear_all(tcp_tcb *t)
{
	for (int i = 0; i < TCP_T_COUNT; i++)
		t->deadline[i] = TERN_TIME_NONE;
}

tern_time tcp_next_deadline(const tcp_tcb *t)
{
	tern_time next = TERN_TIME_NONE;

	for (int i = 0; i < TCP_T_COUNT; i++)
		if (t->deadline[i] < next)
			next = t->deadline[i];
	return next;
}

/* Linux's probe interval: RTO << backoff, at most the RTO maximum. */
tern_time persist_interval(const tcp_tcb *t)
{
	tern_time max = (tern_time)t->cfg->rto_max_ms * TERN_MSEC;
	tern_time when = t->rto;

	for (int i = 0; i < t->backoff && when < max; i++)
		when *= 2;
	return when < max ? when : max;
}

/* Linux's tcp_model_timeout(): how long `boundary` retransmissions take
 * with the RTO starting at its minimum and doubling to its maximum. That
 * is how tcp_retries2 is applied: as a time, not a count. */
static tern_time retries_timeout(const tcp_tcb *t, int boundary)
{
	tern_time base = (tern_time)t->cfg->rto_min_ms * TERN_MSEC;
	tern_time max = (tern_time)t->cfg->rto_max_ms * TERN_MSEC;
	int thresh = 0;

	while ((base << (thresh + 1)) <= max && thresh < 62)
		thresh++;
	if (boundary <= thresh)
		return (((tern_time)2 << boundary) - 1) * base;
	return (((tern_time)2 << thresh) - 1) * base +
	       (tern_time)(boundary - thresh) * max;
}

/* Has the retransmission limit of this state been reached? */
/* Linux's tcp_orphan_retries(): a connection nobody will read from gets
 * tcp_orphan_retries tries (0 meaning 8 while the backoff can still grow,
 * the peer perhaps only slow; none once it has reached its maximum). */
static int orphan_retries(const tcp_tcb *t, bool alive)
{
	int r = t->cfg->tcp_orphan_retries;

	return r == 0 && alive ? 8 : r;
}

/* How many retries this connection gets: tcp_retries2, or an orphan's. */
static int retries_limit(const tcp_tcb *t)
{
	tern_time max = (tern_time)t->cfg->rto_max_ms * TERN_MSEC;

	if (t->flags & TCP_F_ORPHAN)
		return orphan_retries(t, t->rto < max);
	return t->cfg->tcp_retries2;
}

/* Has the retransmission limit of this state been reached? */
static bool rtx_exhausted(const tcp_tcb *t, tern_time now)
{
	switch (t->state) {
	case TERN_TCP_SYN_SENT:
		return t->backoff >= t->cfg->tcp_syn_retries;
	case TERN_TCP_SYN_RECEIVED:
		if (t->flags & TCP_F_PASSIVE)
			return t->backoff >= t->cfg->tcp_synack_retries;
		return t->backoff >= t->cfg->tcp_syn_retries;
	default:
		return t->rtx_start != TERN_TIME_NONE &&
		       now - t->rtx_start >=
			       retries_timeout(t, retries_limit(t));
	}
}

static void give_up(tcp_tcb *t, tern_time now)
{
	if (t->state == TERN_TCP_SYN_SENT)
		stat_inc(t, TERN_CTR_TCP_ATTEMPT_FAILS);
	stat_inc(t, TERN_CTR_TCP_ABORT_ON_TIMEOUT);
	/* A passive half-open connection just goes (the listener stays);
	 * anything the application knows of fails with "timed out". */
	bool silent =
		t->state == TERN_TCP_SYN_RECEIVED && (t->flags & TCP_F_PASSIVE);
	/* a soft ICMP error, if one came, says why (Linux's sk_err_soft) */
	int err = t->soft_err ? t->soft_err : TERN_ERR_TIMEDOUT;
	tcp_enter_closed(t, "timeout", silent ? 0 : err, now);
}

/* RFC 1122 4.2.3.5: past R1 (tcp_retries1, a time bound as R2 is) the
 * IP layer hears that the path is in doubt, at every timeout after, as
 * Linux's tcp_write_timeout() gives negative advice; while a handshake
 * is retried, from its second timeout on. */
static void path_check(tcp_tcb *t, tern_time now)
{
	bool doubt;

	if (!t->env->path_doubt)
		return;
	if (t->state == TERN_TCP_SYN_SENT || t->state == TERN_TCP_SYN_RECEIVED)
		doubt = t->backoff >= 1;
	else
		doubt = t->rtx_start != TERN_TIME_NONE &&
			now - t->rtx_start >=
				retries_timeout(t, t->cfg->tcp_retries1);
	if (doubt)
		t->env->path_doubt(t, now);
}

/* RFC 6298 5.4-5.6 and RFC 5681 3.1: retransmit the earliest
 * unacknowledged segment, back off, shrink cwnd to one segment. */
static void on_rtx(tcp_tcb *t, tern_time now)
{
	if (t->snd_una == t->snd_max)
		return;
	if (rtx_exhausted(t, now)) {
		give_up(t, now);
		return;
	}
	stat_inc(t, TERN_CTR_TCP_TIMEOUTS);
	path_check(t, now);
	if (t->rtx_start == TERN_TIME_NONE) {
		/* about when the segment first left (Linux's retrans_stamp) */
		t->rtx_start = now > t->rto ? now - t->rto : 0;
		if (t->state >= TERN_TCP_ESTABLISHED)
			t->ssthresh = t->cc->ssthresh(
				t, seq_diff(t->snd_max, t->snd_una), now);
	}
	if (t->backoff < UINT8_MAX)
		t->backoff++;
	rtt_backoff(t);
	rtt_cancel(t);
	t->cwnd = t->snd_mss;
	t->dupacks = 0;
	t->lt_bytes = 0;
	t->flags &= ~TCP_F_IN_RECOVERY;
	t->recover = t->snd_max; /* RFC 6582 4 */
	t->high_rxt = t->snd_una;
	/* Go-back-N skips what the peer SACKed (RFC 6675 5.1), but a
	 * second timeout in a row forgets it: the peer may have dropped
	 * what it SACKed (reneging, RFC 2018 8). */
	if (t->backoff >= 2)
		t->nsacked = 0;
	if (t->snd_una == t->iss) {
		/* our SYN is unacknowledged: in SYN_SENT, SYN_RECEIVED, or
		 * FIN_WAIT_1 after a close in a simultaneous open's
		 * SYN_RECEIVED */
		out_syn(t, now);
		return;
	}
	t->snd_nxt = t->snd_una; /* go back N */
	tcp_output(t, now);
}

/* Linux's tcp_probe_timer(): a peer that answers probes is probed for
 * ever; tcp_retries2 unanswered probes in a row end the connection. An
 * orphan (SCENARIOS.md 16, the FIN_WAIT_1 sockets that never go away) is
 * reset once the probe backoff is at its maximum and it has had
 * tcp_orphan_retries probes, answered or not. */
static bool persist_exhausted(tcp_tcb *t, tern_time now)
{
	tern_time max = (tern_time)t->cfg->rto_max_ms * TERN_MSEC;
	int limit = t->cfg->tcp_retries2;

	if (t->flags & TCP_F_ORPHAN) {
		bool alive = persist_interval(t) < max;
		limit = orphan_retries(t, alive);
		if (!alive && t->backoff >= limit) {
			out_rst(t, snd_ctl_seq(t), true, now);
			stat_inc(t, TERN_CTR_TCP_ABORT_ON_TIMEOUT);
			tcp_enter_closed(t, "timeout", TERN_ERR_TIMEDOUT, now);
			return true;
		}
	}
	if (t->probes < limit)
		return false;
	stat_inc(t, TERN_CTR_TCP_ABORT_ON_TIMEOUT);
	tcp_enter_closed(t, "timeout", TERN_ERR_TIMEDOUT, now);
	return true;
}

static void on_persist(tcp_tcb *t, tern_time now)
{
	if (!snd_pending(t) && t->snd_una == t->snd_max)
		return;
	if (persist_exhausted(t, now))
		return;
	if (t->backoff < UINT8_MAX)
		t->backoff++;
	if (t->probes < UINT8_MAX)
		t->probes++;
	/* Re-arm first: out_probe then leaves the RTX timer alone. */
	timer_set(t, TCP_T_PERSIST, now + persist_interval(t));
	out_probe(t, now);
}

void keepalive_arm(tcp_tcb *t, tern_time now)
{
	if (t->flags & TCP_F_KEEPALIVE)
		timer_set(t, TCP_T_KEEPALIVE,
			  now + secs(t->cfg->tcp_keepalive_time));
	else
		timer_clear(t, TCP_T_KEEPALIVE);
}

/* RFC 9293 3.8.4 / RFC 1122 4.2.3.6, with Linux's rules: idle is time
 * since the peer last sent anything; probes wait while data is in
 * flight; after tcp_keepalive_probes unanswered ones, RST and close. */
static void on_keepalive(tcp_tcb *t, tern_time now)
{
	const tern_settings *c = t->cfg;

	if (!(t->flags & TCP_F_KEEPALIVE) ||
	    !(t->state == TERN_TCP_ESTABLISHED ||
	      t->state == TERN_TCP_CLOSE_WAIT ||
	      t->state == TERN_TCP_FIN_WAIT_2))
		return;
	if (t->snd_una != t->snd_max || snd_pending(t)) {
		timer_set(t, TCP_T_KEEPALIVE,
			  now + secs(c->tcp_keepalive_time));
		return;
	}
	tern_time idle = now - t->last_rx;
	if (idle < secs(c->tcp_keepalive_time)) {
		timer_set(t, TCP_T_KEEPALIVE,
			  t->last_rx + secs(c->tcp_keepalive_time));
		return;
	}
	if (t->probes >= c->tcp_keepalive_probes) {
		out_rst(t, snd_ctl_seq(t), true, now);
		stat_inc(t, TERN_CTR_TCP_ABORT_ON_TIMEOUT);
		tcp_enter_closed(t, "timeout", TERN_ERR_TIMEDOUT, now);
		return;
	}
	t->probes++;
	out_keepalive(t, now);
	timer_set(t, TCP_T_KEEPALIVE, now + secs(c->tcp_keepalive_intvl));
}

/* TIME_WAIT's 2 MSL, or an orphan's tcp_fin_timeout in FIN_WAIT_2. */
static void on_close_timer(tcp_tcb *t, tern_time now)
{
	if (t->state == TERN_TCP_TIME_WAIT || t->state == TERN_TCP_FIN_WAIT_2)
		tcp_enter_closed(t, "timeout", 0, now);
}

static void on_delack(tcp_tcb *t, tern_time now)
{
	if (t->state < TERN_TCP_SYN_RECEIVED)
		return;
	stat_inc(t, TERN_CTR_TCP_DELAYED_ACKS);
	out_ack(t, now);
}

/* FIN_WAIT_2 for an orphan lasts tcp_fin_timeout (Linux): the peer may
 * never send its FIN, and nobody is left to notice. */
void fin_wait_2_timer(tcp_tcb *t, tern_time now)
{
	if (t->state == TERN_TCP_FIN_WAIT_2 && (t->flags & TCP_F_ORPHAN))
		timer_set(t, TCP_T_CLOSE, now + secs(t->cfg->tcp_fin_timeout));
}

void tcp_enter_fin_wait_2(tcp_tcb *t, tern_time now)
{
	timer_clear(t, TCP_T_RTX);
	timer_clear(t, TCP_T_PERSIST);
	tcp_set_state(t, TERN_TCP_FIN_WAIT_2, "rx ACK", now);
	fin_wait_2_timer(t, now);
}

void tcp_run_timers(tcp_tcb *t, tern_time now)
{
	static void (*const handlers[TCP_T_COUNT])(tcp_tcb *, tern_time) = {
		[TCP_T_RTX] = on_rtx,
		[TCP_T_PERSIST] = on_persist,
		[TCP_T_DELACK] = on_delack,
		[TCP_T_KEEPALIVE] = on_keepalive,
		[TCP_T_CLOSE] = on_close_timer,
	};

	for (int i = 0; i < TCP_T_COUNT; i++) {
		if (t->deadline[i] > now)
			continue;
		t->deadline[i] = TERN_TIME_NONE;
		handlers[i](t, now);
		if (t->state == TERN_TCP_CLOSED)
			return;
	}
}
