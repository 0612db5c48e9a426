/* Private to the TCP engine: what its files share. */
#ifndef TERN_TCP_INTERNAL_H
#define TERN_TCP_INTERNAL_H

#include "tcp/tcp.h"

/* A received segment as the arrival steps see it: trimmed to the window
 * as processing goes (RFC 9293 3.10.7.4, first check). */
typedef struct tcp_in {
	tcp_seq seq, ack;
	uint8_t flags;
	uint32_t wnd; /* SEG.WND */
	uint32_t len; /* text bytes at data */
	const uint8_t *data;
	const tern_tcp_opts *opts;
	bool synack; /* a simultaneous open's SYN+ACK, its SYN taken off */
} tcp_in;

static inline uint32_t tcp_in_seglen(const tcp_in *s)
{
	return s->len + ((s->flags & TERN_TCP_SYN) ? 1 : 0) +
	       ((s->flags & TERN_TCP_FIN) ? 1 : 0);
}

static inline void stat_inc(tcp_tcb *t, int counter)
{
	t->stats->counters[counter]++;
}

static inline void seg_drop(tcp_tcb *t, int reason, tern_time now)
{
	t->env->drop(t, reason, now);
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Congestion control algorithms (cc.c). */
struct tcp_cc_ops {
	const char *name;
	/* acked bytes of new data acknowledged outside loss recovery */
	void (*on_ack)(tcp_tcb *t, uint32_t acked, tern_time now);
	/* ssthresh after a loss, given the flight it happened in */
	uint32_t (*ssthresh)(tcp_tcb *t, uint32_t flight, tern_time now);
};

extern const tcp_cc_ops tcp_cc_reno, tcp_cc_cubic;
/* The algorithm of that name, or NULL. */
const tcp_cc_ops *cc_find(const char *name);
void cc_init(tcp_tcb *t);
uint32_t cc_initial_window(const tcp_tcb *t);

/* RFC 6298 (rtt.c) */
void rtt_init(tcp_tcb *t);
void rtt_sample(tcp_tcb *t, tern_time r);
void rtt_sample_ts(tcp_tcb *t, tern_time r);
void rtt_backoff(tcp_tcb *t);
void rtt_after_handshake(tcp_tcb *t);
void rtt_start(tcp_tcb *t, tcp_seq seq, tern_time now);
void rtt_on_ack(tcp_tcb *t, tcp_seq ack, tern_time now);
void rtt_cancel(tcp_tcb *t);

/* Extensions (opts.c): RFC 7323, RFC 2018 */
uint8_t opt_wscale_for(uint32_t rcvbuf_max);
uint32_t opt_ts_now(const tcp_tcb *t, tern_time now);
void opt_syn(tcp_tcb *t, tern_tcp_opts *o, bool synack, tern_time now);
void opt_negotiate(tcp_tcb *t, const tern_tcp_opts *peer, tern_time now);
void opt_segment(tcp_tcb *t, tcp_seg *s, tern_time now);
bool opt_paws_reject(tcp_tcb *t, const tcp_in *s, tern_time now);
void opt_ts_update(tcp_tcb *t, const tcp_in *s, tern_time now);
bool opt_rtt_sample(tcp_tcb *t, const tcp_in *s, tern_time now);

/* Range sets (ranges.c) */
bool ranges_add(tcp_range *r, uint8_t *n, int max, tcp_seq left, tcp_seq right);
bool ranges_cover(const tcp_range *r, uint8_t n, tcp_seq left, tcp_seq right);
void ranges_trim_below(tcp_range *r, uint8_t *n, tcp_seq seq);

/* SACK (sack.c): RFC 2018, RFC 2883, RFC 6675 */
void sack_dsack_note(tcp_tcb *t, tcp_seq left, tcp_seq right);
void sack_fill(tcp_tcb *t, tern_tcp_opts *o, uint32_t room);
void sack_release(tcp_tcb *t);
bool sack_update(tcp_tcb *t, const tcp_in *s);
bool sack_is_lost(const tcp_tcb *t, tcp_seq seq);
uint32_t sack_pipe(const tcp_tcb *t);
void sack_recovery_output(tcp_tcb *t, tern_time now);
bool sack_enter_recovery(tcp_tcb *t, tern_time now);
bool sack_loss_detected(const tcp_tcb *t);
uint32_t sack_skip(const tcp_tcb *t, tcp_seq *seq, uint32_t len);

/* Timers (timer.c) */
static inline void timer_set(tcp_tcb *t, int which, tern_time when)
{
	t->deadline[which] = when;
}
static inline void timer_clear(tcp_tcb *t, int which)
{
	t->deadline[which] = TERN_TIME_NONE;
}
static inline bool timer_armed(const tcp_tcb *t, int which)
{
	return t->deadline[which] != TERN_TIME_NONE;
}
void timers_clear_all(tcp_tcb *t);
void keepalive_arm(tcp_tcb *t, tern_time now);
tern_time persist_interval(const tcp_tcb *t);

/* Output (output.c) */
void tcp_output(tcp_tcb *t, tern_time now);
void out_ack(tcp_tcb *t, tern_time now);
void out_challenge_ack(tcp_tcb *t, tern_time now);
void out_syn(tcp_tcb *t, tern_time now);
void out_syn_build(tcp_tcb *t, tcp_seg *s, bool synack, tern_time now);
void out_rst(tcp_tcb *t, tcp_seq seq, bool with_ack, tern_time now);
void out_retransmit(tcp_tcb *t, tcp_seq seq, uint32_t len, tern_time now);
void out_retransmit_head(tcp_tcb *t, tern_time now);
bool snd_new_data(tcp_tcb *t, tern_time now);
void out_probe(tcp_tcb *t, tern_time now);
void out_keepalive(tcp_tcb *t, tern_time now);
bool snd_pending(const tcp_tcb *t);
uint32_t snd_usable(const tcp_tcb *t);
tcp_seq snd_fin_seq(const tcp_tcb *t);
tcp_seq snd_ctl_seq(const tcp_tcb *t);

/* Receiving (recv.c) */
uint32_t rcv_wnd(const tcp_tcb *t);
uint16_t rcv_window_adv(tcp_tcb *t);
uint32_t rcv_space(const tcp_tcb *t);
uint16_t rcv_window_syn(const tcp_tcb *t);
void rcv_syn_edge(tcp_tcb *t, uint16_t win);
void rcv_text(tcp_tcb *t, tcp_in *s, tern_time now);
void rcv_fin(tcp_tcb *t, const tcp_in *s, tern_time now);
void rcv_after_read(tcp_tcb *t);
void rcv_autotune(tcp_tcb *t, uint32_t read, tern_time now);
void snd_autotune(tcp_tcb *t);
void rcv_release(tcp_tcb *t);
void snd_release(tcp_tcb *t);

/* ACK processing (ack.c): false when the segment is done with. */
bool tcp_rcv_ack(tcp_tcb *t, tcp_in *s, tern_time now);
void ack_new(tcp_tcb *t, const tcp_in *s, tern_time now);

/* Header prediction (fast.c): true if the segment was taken. */
bool tcp_fast_path(tcp_tcb *t, tcp_in *s, tern_time now);

/* Life cycle (open.c) */
void tcp_apply_syn_options(tcp_tcb *t, const tern_tcp_opts *opts,
			   tern_time now);
void tcp_established(tcp_tcb *t, const char *cause, tern_time now);
void tcp_enter_closed(tcp_tcb *t, const char *cause, int err, tern_time now);
void tcp_enter_fin_wait_2(tcp_tcb *t, tern_time now);
void fin_wait_2_timer(tcp_tcb *t, tern_time now);
void tcp_enter_time_wait(tcp_tcb *t, const char *cause, tern_time now);
void tcp_input_syn_sent(tcp_tcb *t, tcp_in *s, tern_time now);

#endif
