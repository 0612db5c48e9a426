/* The TCP engine: one connection's RFC 9293 state machine.
 *
 * No I/O, no clock, no allocation of its own: segments leave through
 * env->emit, state changes are reported through env->state, events for the
 * application through env->event, buffers come from env->alloc. Every entry
 * point takes `now`. The stack owns the connection table, listeners and
 * the timer wheel; it calls tcp_next_deadline() after each entry point.
 */
#ifndef TERN_TCP_TCP_H
#define TERN_TCP_TCP_H

#include <tern/stack.h>
#include <tern/wire.h>

#include "tcp/ring.h"
#include "tcp/seq.h"

typedef struct tcp_tcb tcp_tcb;
typedef struct tcp_cc_ops tcp_cc_ops;

/* A segment the engine wants sent; the stack adds addresses and headers. */
typedef struct tcp_seg {
	tcp_seq seq, ack;
	uint8_t flags;
	uint16_t win;
	tern_tcp_opts opts;
	uint32_t len; /* payload bytes, in data[0..ndata) */
	int ndata;
	tern_iov data[2];
} tcp_seg;

typedef struct tcp_env_ops {
	void (*emit)(tcp_tcb *tcb, const tcp_seg *seg, tern_time now);
	void (*state)(tcp_tcb *tcb, int from, int to, const char *cause,
		      tern_time now);
	void (*event)(tcp_tcb *tcb, unsigned events);
	/* A segment (or part of one) was dropped; counted and traced. */
	void (*drop)(tcp_tcb *tcb, int reason, tern_time now);
	void *(*alloc)(tcp_tcb *tcb, size_t size);
	void (*free)(tcp_tcb *tcb, void *ptr, size_t size);
	/* A pure ACK is due: true if the stack takes it to send later (at
	 * the end of a batch of received frames, tcp_flush_ack), false to
	 * send it now. May be NULL. */
	bool (*defer_ack)(tcp_tcb *tcb);
	/* A challenge ACK (RFC 5961) is due: may it go, under the limit
	 * for the whole stack (RFC 5961 10)? May be NULL: always. */
	bool (*challenge_ack_ok)(tcp_tcb *tcb, tern_time now);
	/* The retransmissions have run past tcp_retries1 (RFC 1122 4.2.3.5
	 * R1): the path to the peer is in doubt. May be NULL. */
	void (*path_doubt)(tcp_tcb *tcb, tern_time now);
} tcp_env_ops;

enum tcp_timer {
	TCP_T_RTX,	 /* retransmission, also SYN and SYN+ACK */
	TCP_T_PERSIST,	 /* zero-window probe */
	TCP_T_DELACK,	 /* delayed ACK */
	TCP_T_KEEPALIVE, /* keepalive idle/probe */
	TCP_T_CLOSE,	 /* TIME_WAIT 2 MSL, orphaned FIN_WAIT_2 */
	TCP_T_COUNT
};

enum tcp_flag {
	TCP_F_PASSIVE = 1u << 0,    /* opened by a listener */
	TCP_F_FIN_QUEUED = 1u << 1, /* our FIN follows the queued data */
	TCP_F_FIN_ACKED = 1u << 2,  /* ... and the peer acknowledged it */
	TCP_F_RCVD_FIN = 1u << 3,   /* the peer's FIN was processed */
	TCP_F_OOO_FIN = 1u << 4,    /* a FIN arrived ahead of a hole */
	TCP_F_NODELAY = 1u << 5,    /* Nagle off */
	TCP_F_KEEPALIVE = 1u << 6,
	TCP_F_ORPHAN = 1u << 7,	      /* the application closed its handle */
	TCP_F_SHUT_RD = 1u << 8,      /* discard what arrives */
	TCP_F_ACK_NOW = 1u << 9,      /* an ACK must go out at once */
	TCP_F_RTT_TIMING = 1u << 10,  /* rtt_seq is being timed */
	TCP_F_IN_RECOVERY = 1u << 11, /* NewReno fast recovery */
	TCP_F_RTT_VALID = 1u << 12,   /* srtt/rttvar hold a measurement */
	/* Negotiated in the handshake (RFC 7323, RFC 2018): both ends
	 * offered it, and our settings allow it. */
	TCP_F_WSCALE = 1u << 13,
	TCP_F_TSTAMP = 1u << 14,
	TCP_F_SACK = 1u << 15,
	TCP_F_DSACK = 1u << 16, /* a D-SACK block waits for the next ACK */
};

/* Out-of-order ranges beyond RCV.NXT, kept sorted and disjoint. */
#define TCP_OOO_MAX 64
/* SACKed ranges above SND.UNA the sender keeps (RFC 6675 scoreboard). */
#define TCP_SACKED_MAX 64

typedef struct tcp_range {
	tcp_seq left, right;
} tcp_range;

struct tcp_tcb {
	const tcp_env_ops *env;
	tern_stats *stats;
	const tern_settings *cfg;

	uint8_t state;
	uint8_t backoff; /* consecutive RTO expirations */
	uint8_t probes;	 /* persist or keepalive probes unanswered */
	uint8_t dupacks;
	uint8_t nooo;	/* ranges in ooo */
	uint32_t flags; /* enum tcp_flag */
	int err;	/* what the application is told (SO_ERROR) */
	int soft_err;	/* an ICMP error kept in case of a timeout */

	/* Send sequence space (RFC 9293 3.3.1). snd_max is the highest
	 * sequence ever sent: snd_nxt goes back to snd_una on a timeout. */
	tcp_seq iss, snd_una, snd_nxt, snd_max;
	tcp_seq snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_snd_wnd;
	tcp_seq snd_buf_seq; /* sequence of the first byte in snd */

	/* Receive sequence space. rcv_adv is the right edge we advertised:
	 * it never moves left (RFC 9293 3.8.6.2.2). */
	tcp_seq irs, rcv_nxt, rcv_adv, rcv_fin_seq;
	tcp_seq rcv_right; /* the edge chosen, before rounding to the scale */
	uint32_t rcv_unacked; /* bytes received since our last ACK */

	uint16_t snd_mss; /* effective send MSS (RFC 9293 3.7.1) */
	uint16_t adv_mss; /* the MSS we announce */
	uint16_t rcv_mss; /* largest segment the peer has sent us */
	/* Payload bytes one emitted segment may carry when the link cuts
	 * segments itself (TSO); 0 or below snd_mss: snd_mss. Set by the
	 * stack from its link; the link cuts at snd_mss. */
	uint32_t tso_max;

	/* RFC 7323 2: window shifts, 0 unless negotiated. snd_wscale scales
	 * the windows the peer sends; rcv_wscale ours, chosen at tcp_init
	 * and offered in our SYN or SYN+ACK. */
	uint8_t snd_wscale, rcv_wscale;
	uint32_t rcvbuf_max; /* the receive buffer may grow to this */
	uint32_t sndbuf_max; /* ... and the send buffer to this */
	/* RFC 7323 3-5: TSval = milliseconds + ts_offset (per address pair,
	 * set by the stack); TS.Recent and when it was taken (PAWS's 24-day
	 * limit); Last.ACK.sent. */
	uint32_t ts_offset, ts_recent;
	uint32_t ts_rtx; /* our TSval on the latest retransmission */
	tern_time ts_recent_age;
	tcp_seq last_ack_sent;

	tcp_ring snd, rcv;
	/* Receive buffer autotuning (Linux's dynamic right-sizing): bytes
	 * the application read since rcv_tune_at, a round trip ago */
	uint32_t rcv_copied;
	tern_time rcv_tune_at;
	tcp_range *ooo;	  /* TCP_OOO_MAX ranges, allocated with rcv */
	tcp_seq ooo_last; /* where the latest out-of-order segment began */
	tcp_range dsack;  /* RFC 2883: the duplicate to report */

	/* RFC 6675: the scoreboard (TCP_SACKED_MAX ranges, allocated on
	 * the first SACK block) and HighRxt, the end of the highest
	 * retransmission in this recovery. */
	tcp_range *sacked;
	uint8_t nsacked;
	tcp_seq high_rxt;

	/* RFC 6298 */
	tern_time srtt, rttvar, rto;
	tern_time rtt_start, rtx_start;
	tcp_seq rtt_seq;

	/* Congestion control (RFC 5681, RFC 6582, RFC 3042) by cc, with
	 * CUBIC's state (RFC 9438): W_max, W_est, K, the epoch's start */
	const tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh, acked_frac;
	uint32_t cubic_wmax, cubic_west, cubic_k_us;
	tern_time cubic_epoch;
	uint32_t lt_bytes; /* sent beyond cwnd by limited transmit */
	/* The largest flight of the window ending at max_flight_seq: cwnd
	 * grows only when it is used (RFC 7661; Linux's max_packets_out) */
	uint32_t max_flight;
	tcp_seq max_flight_seq;
	tcp_seq recover;

	tern_time deadline[TCP_T_COUNT];
	tern_time last_rx;  /* keepalive idle is measured from here */
	tern_time last_oow; /* last ACK answering an out-of-window ACK */

	uint64_t bytes_acked, bytes_received, total_retrans;
};

/* ---- set-up ---- */

/* A closed TCB with buffers sized sndbuf/rcvbuf (bytes) and our MSS. */
void tcp_init(tcp_tcb *t, const tcp_env_ops *env, tern_stats *stats,
	      const tern_settings *cfg, uint32_t sndbuf, uint32_t rcvbuf,
	      uint16_t adv_mss);
/* Releases the buffers (the stack frees the TCB itself). */
void tcp_release(tcp_tcb *t);

/* Is there a congestion control algorithm of that name? */
bool tcp_cc_known(const char *name);

/* ---- user calls (RFC 9293 3.10.1 - 3.10.6) ---- */

/* OPEN, passive: CLOSED -> LISTEN. */
void tcp_open_passive(tcp_tcb *t, tern_time now);
/* OPEN, active: sends SYN with sequence iss, CLOSED -> SYN_SENT. */
void tcp_open_active(tcp_tcb *t, tcp_seq iss, tern_time now);
ptrdiff_t tcp_send(tcp_tcb *t, const void *buf, size_t len, tern_time now);
ptrdiff_t tcp_recv(tcp_tcb *t, void *buf, size_t len, tern_time now);
int tcp_shutdown(tcp_tcb *t, int how, tern_time now);
/* CLOSE and ABORT. tcp_close marks the TCB orphaned. */
int tcp_close(tcp_tcb *t, tern_time now);
int tcp_abort(tcp_tcb *t, tern_time now);
int tcp_kill(tcp_tcb *t, tern_time now);
/* Into CLOSED without a word to the peer (a listener's half-open child
 * when the listener goes). */
void tcp_drop(tcp_tcb *t, const char *cause, tern_time now);
void tcp_set_nodelay(tcp_tcb *t, bool on, tern_time now);
void tcp_set_keepalive(tcp_tcb *t, bool on, tern_time now);
/* Poll-style readiness (TERN_EV_* bits). */
unsigned tcp_poll(const tcp_tcb *t);
void tcp_info(const tcp_tcb *t, tern_tcp_info *out);

/* ---- segment arrival (RFC 9293 3.10.7) ---- */

/* A SYN reached a listener: t is a fresh TCB cloned for it, in LISTEN.
 * Sends SYN+ACK with sequence iss: LISTEN -> SYN_RECEIVED. */
void tcp_input_listen_syn(tcp_tcb *t, const tern_tcp_hdr *syn, tcp_seq iss,
			  tern_time now);
/* A SYN cookie's SYN+ACK: the one a child of listener l would send for
 * syn with ISS iss, built without a TCB into out (the caller sends it).
 * ts_offset: the address pair's timestamp offset. */
void tcp_synack_stateless(const tcp_tcb *l, const tern_tcp_hdr *syn,
			  tcp_seq iss, uint32_t ts_offset, tcp_seg *out,
			  tern_time now);
/* An ACK with a valid SYN cookie: t, a fresh TCB cloned from the
 * listener, goes LISTEN -> SYN_RECEIVED as if it had sent the SYN+ACK
 * with ISS iss for a SYN with ISN irs and options syn_opts. The caller
 * then passes it the ACK with tcp_input. */
void tcp_open_from_cookie(tcp_tcb *t, tcp_seq irs, tcp_seq iss,
			  const tern_tcp_opts *syn_opts, tern_time now);
/* A segment for this TCB (SYN_SENT or any later state). */
void tcp_input(tcp_tcb *t, const tern_tcp_hdr *seg, tern_time now);
/* The reset a segment for no TCB draws (RFC 9293 3.10.7.1); false if none
 * (the segment is itself a RST). */
bool tcp_reset_for(const tern_tcp_hdr *seg, tcp_seg *rst);

/* An ICMP error quoting one of our segments (RFC 5927): type and code,
 * the quoted sequence number, and the next-hop MTU of "fragmentation
 * needed" (0 if none). */
void tcp_icmp_error(tcp_tcb *t, uint8_t type, uint8_t code, uint32_t seq,
		    uint16_t mtu, tern_time now);

/* ---- timers ---- */

void tcp_run_timers(tcp_tcb *t, tern_time now);
/* Sends the ACK a defer_ack() kept back, if it is still due. */
void tcp_flush_ack(tcp_tcb *t, tern_time now);
tern_time tcp_next_deadline(const tcp_tcb *t);

/* ---- TIME_WAIT without the TCB (timewait.c) ---- */

enum tcp_tw_flag {
	TCP_TW_TSTAMP = 1u << 0, /* timestamps were on */
	TCP_TW_SACK = 1u << 1,	 /* SACK was on (D-SACK blocks) */
	TCP_TW_OOW = 1u << 2,	 /* last_oow_ms is set */
};

/* All of TIME_WAIT's protocol state: 20 bytes. */
typedef struct tcp_tw {
	tcp_seq snd_nxt, rcv_nxt;
	uint32_t ts_recent;
	uint32_t last_oow_ms; /* the last rate-limited answer (ms clock) */
	uint16_t win;	      /* the window field of our ACKs */
	uint8_t rcv_wscale;
	uint8_t flags; /* enum tcp_tw_flag */
} tcp_tw;

typedef struct tcp_tw_ctx {
	tern_stats *stats;
	const tern_settings *cfg;
	tern_time now;
	uint32_t ts_now; /* our TSval now (ms clock + the pair's offset) */
	bool listening;	 /* a listener would take a new SYN */
} tcp_tw_ctx;

enum tcp_tw_action {
	TCP_TW_KEEP,	/* the wait goes on */
	TCP_TW_RESTART, /* the wait starts again: 2 MSL from now */
	TCP_TW_CLOSE,	/* the wait ends now (a RST at RCV.NXT) */
	TCP_TW_NEW_SYN, /* RFC 6191: the SYN may open a new incarnation */
};

typedef struct tcp_tw_out {
	int action;	/* enum tcp_tw_action */
	int drop;	/* the drop reason, 0: the segment was taken */
	bool send_ack;	/* send `ack` */
	bool challenge; /* ... as an RFC 5961 challenge ACK */
	tcp_seg ack;
} tcp_tw_out;

/* A TCB entering TIME_WAIT, kept as its tcp_tw. */
void tcp_tw_capture(tcp_tw *tw, tcp_tcb *t, tern_time now);
/* A segment for a 4-tuple in TIME_WAIT: what to do with it (RFC 9293
 * 3.10.7.4 in TIME_WAIT, RFC 5961, RFC 7323 PAWS, RFC 6191). */
void tcp_tw_input(tcp_tw *tw, const tern_tcp_hdr *h, const tcp_tw_ctx *c,
		  tcp_tw_out *out);
/* RFC 6191: may this SYN open a new incarnation of the 4-tuple? */
bool tcp_tw_syn_acceptable(const tcp_tw *tw, const tern_tcp_hdr *h,
			   const tern_settings *cfg);

/* ---- state (state.c) ---- */

enum tcp_state_prop {
	TCP_P_SYNCHRONIZED = 1u << 0, /* SYN exchanged (RFC 9293 3.3.2) */
	TCP_P_RECV_DATA = 1u << 1,    /* accepts segment text */
	TCP_P_SEND_DATA = 1u << 2,    /* may transmit queued data/FIN */
	TCP_P_USER_SEND = 1u << 3,    /* SEND is allowed */
	TCP_P_FIN_RECEIVED = 1u << 4, /* the peer's FIN is in */
};

unsigned tcp_state_props(int state);
bool tcp_edge_legal(int from, int to);
/* The one function that changes state (RFC 9293 3.3.2). */
void tcp_set_state(tcp_tcb *t, int to, const char *cause, tern_time now);

#endif
