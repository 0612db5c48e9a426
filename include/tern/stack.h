/* tern stack: one host's TCP/IP, driven by the caller.
 *
 * A stack owns its connections, listeners, timers, counters and settings.
 * It does no I/O of its own: the caller attaches a link, feeds received
 * frames with tern_stack_input(), runs due timers with tern_stack_run(),
 * and asks tern_stack_next_deadline() when to come back. Every entry point
 * takes `now`. Two stacks live happily in one process.
 *
 * Connections are tern_conn handles. A handle stays valid until the
 * application gives it up with tern_tcp_close() or tern_tcp_abort(); the
 * connection may live on after that (FIN_WAIT_2, TIME_WAIT ...) owned by
 * the stack, as an orphan.
 */
#ifndef TERN_STACK_H
#define TERN_STACK_H

#include <tern/link.h>
#include <tern/stats.h>
#include <tern/trace.h>
#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_stack tern_stack;
typedef struct tern_conn tern_conn;

/* Settings, with Linux's names, units and defaults (see
 * Documentation/networking/ip-sysctl.rst), plus the few constants Linux
 * compiles in (RTO bounds, delayed-ACK time) that tern lets you change. */
typedef struct tern_settings {
	int tcp_syn_retries;	/* 6: SYN retransmissions before giving up */
	int tcp_synack_retries; /* 5: SYN+ACK retransmissions */
	int tcp_retries1;	/* 3: retransmissions before the path is
				 * suspect (RFC 1122 4.2.3.5 R1) */
	int tcp_retries2;	/* 15: data retransmissions (as a time bound) */
	int tcp_orphan_retries; /* 0 (means 8): probes for orphans */
	int tcp_fin_timeout;	/* 60 s: orphaned FIN_WAIT_2 lifetime */
	int tcp_keepalive_time; /* 7200 s idle before the first probe */
	int tcp_keepalive_intvl;  /* 75 s between probes */
	int tcp_keepalive_probes; /* 9 unanswered probes close */
	int tcp_rmem[3];	  /* 4096 131072 6291456 bytes */
	int tcp_wmem[3];	  /* 4096 16384 4194304 bytes */
	/* RFC 7323 and RFC 2018, each 1 (offered and accepted) or 0 (never
	 * offered, ignored when the peer offers it), as Linux's sysctls. */
	int tcp_window_scaling; /* 1: window scale option */
	int tcp_timestamps;	/* 1: timestamps, RTT measurement, PAWS */
	int tcp_sack;		/* 1: selective acknowledgments */
	/* Initial congestion window in segments: 10 (RFC 6928, Linux's
	 * initcwnd); 0: RFC 5681 3.1's min(4*SMSS, max(2*SMSS, 4380)). */
	int tcp_initcwnd;
	/* 1: the receive buffer grows from tcp_rmem[1] towards tcp_rmem[2]
	 * as the application reads (Linux's tcp_moderate_rcvbuf) */
	int tcp_moderate_rcvbuf;
	/* "cubic" (RFC 9438, as Linux) or "reno" (RFC 5681) */
	char tcp_congestion_control[16];
	int somaxconn; /* 4096: cap on a listener's backlog */
	/* SYN_RECEIVED connections a listener holds at most: 2048 */
	int tcp_max_syn_backlog;
	/* 1: SYN cookies once the SYN queue overflows; 2: always; 0: never
	 * (a SYN that finds the queue full is dropped) */
	int tcp_syncookies;
	/* Outgoing connections may take over a 4-tuple in TIME_WAIT when
	 * timestamps make it safe: 0 never, 1 always, 2 (Linux's default)
	 * only to loopback addresses (127/8). */
	int tcp_tw_reuse;
	int tcp_max_tw_buckets; /* 131072: TIME_WAIT records at most */
	int tcp_max_orphans;	/* 131072: orphaned connections at most */
	/* Challenge ACKs (RFC 5961) a second, for the whole stack: 2^31-1
	 * means no limit (Linux since 6.0; 1000 before). */
	int tcp_challenge_ack_limit;
	int ip_local_port_range[2]; /* 32768 60999 */
	int ip_default_ttl;	    /* 64 */
	uint32_t msl_ms;	    /* 30000: TIME_WAIT lasts 2 MSL = 60 s */
	uint32_t rto_initial_ms;    /* 1000 (RFC 6298 2.1) */
	uint32_t rto_min_ms;	    /* 200 (Linux TCP_RTO_MIN) */
	uint32_t rto_max_ms;	    /* 120000 (Linux TCP_RTO_MAX) */
	uint32_t delack_ms;	    /* 40 (Linux TCP_DELACK_MIN) */
	/* 500 ms: the least time between ACKs answering out-of-window pure
	 * ACKs (Linux tcp_invalid_ratelimit, RFC 5961 10) */
	uint32_t tcp_invalid_ratelimit;
} tern_settings;

TERN_API void tern_settings_default(tern_settings *s);

/* ---- settings by name, as sysctl(8) ----
 *
 * Every field has a key: the full name Linux's sysctl gives it
 * ("net.ipv4.tcp_fin_timeout", "net.core.somaxconn"), or, for the few
 * that Linux compiles in or keeps per route, a name under "net.tern."
 * (msl_ms is "net.tern.tcp_msl_ms"). A key may also be written with slashes
 * ("net/ipv4/tcp_fin_timeout"), as sysctl takes it; short names
 * ("tcp_fin_timeout") are not keys, as with sysctl. Values are text as
 * sysctl prints them: "60", "4096\t131072\t6291456" (numbers separated
 * by blanks when set), "cubic". docs/SETTINGS.md lists every key. */

/* One key, for listings. */
typedef struct tern_sysctl_info {
	const char *name; /* "net.ipv4.tcp_fin_timeout" */
	const char *unit; /* "s", "ms", "bytes" ...; "" for a switch, a mode
			   * or a name */
	const char *help; /* one line */
} tern_sysctl_info;

/* The i-th key, in name order, from 0: false past the last. */
TERN_API bool tern_sysctl_info_get(size_t i, tern_sysctl_info *out);
/* The key named (in either spelling). Errors: NOENT (no such key). */
TERN_API int tern_sysctl_lookup(const char *key, tern_sysctl_info *out);

/* Sets one key from text, as `sysctl -w KEY=VALUE`: the value's syntax,
 * each number's range and the key's own rules (tcp_rmem's min <= default
 * <= max) are checked; rules between keys wait for
 * tern_settings_check(). On error *s is unchanged and reason (NULL, or
 * size bytes) holds why: "net.ipv4.tcp_syncookies: 3 is not one of 0,
 * 1, 2". Errors: NOENT (no such key), INVAL (a bad value). */
TERN_API int tern_sysctl_set(tern_settings *s, const char *key,
			     const char *value, char *reason, size_t size);
/* The key's value as sysctl prints it, NUL-terminated in buf. Errors:
 * NOENT (no such key), NOBUFS (size too small). */
TERN_API int tern_sysctl_get(const tern_settings *s, const char *key, char *buf,
			     size_t size);
/* Every rule on a whole set: each key's, then those between keys
 * (net.tern.tcp_rto_min_ms <= tcp_rto_initial_ms and tcp_rto_max_ms).
 * tern_stack_new refuses exactly the settings this refuses. Errors:
 * INVAL, with the reason. */
TERN_API int tern_settings_check(const tern_settings *s, char *reason,
				 size_t size);
/* Applies sysctl.conf(5) text: "KEY = VALUE" lines (or KEY=VALUE), blank
 * lines and comments ('#' or ';' first). A '-' before a key skips the
 * line if the key is unknown (sysctl.d(5)); a bad value is still an
 * error. All or nothing: every line is applied to a copy, the copy must
 * pass tern_settings_check(), and only then is *s replaced. `name` (the
 * file's) starts each reason: "tern.conf:3: net.ipv4.tcp_rmem: expected
 * 3 numbers (min default max)". Errors: NOENT (an unknown key), INVAL (a
 * bad line or value, or a rule broken). */
TERN_API int tern_sysctl_load_text(tern_settings *s, const char *name,
				   const char *text, char *reason, size_t size);
/* The same from a file (at most 1 MiB). Errors: those of
 * tern_sysctl_load_text, and IO (the file cannot be read: the reason
 * names it and says why). */
TERN_API int tern_sysctl_load_file(tern_settings *s, const char *path,
				   char *reason, size_t size);

typedef struct tern_stack_config {
	const char *name;	       /* for traces: "client", "server" */
	uint32_t addr;		       /* our IPv4 address, host order */
	const tern_settings *settings; /* NULL: defaults */
	const tern_allocator *alloc;   /* NULL: malloc/free */
	/* Secret for ISNs (RFC 6528) and ephemeral ports (RFC 6056). Real
	 * links pass random bytes; the simulator derives it from its seed
	 * so runs repeat exactly. */
	uint64_t secret[2];
} tern_stack_config;

/* NULL on allocation failure or a bad setting (tern_settings_check()
 * says which). */
TERN_API tern_stack *tern_stack_new(const tern_stack_config *cfg);
/* Frees every connection (silently, nothing is sent) and the stack. The
 * link is not destroyed. */
TERN_API void tern_stack_free(tern_stack *stack);

/* Sends through link from now on, and takes the frames it delivers. The
 * link's offloads are used as they are now: partial checksums if it takes
 * them (tx_csum), and TSO segments (tso_max) for connections created from
 * now on. */
TERN_API void tern_stack_attach(tern_stack *stack, tern_link *link);

/* One received IPv4 packet. Bad packets are counted and dropped. It may
 * be longer than the link's MTU (a GSO/GRO packet, up to 65535 bytes). */
TERN_API void tern_stack_input(tern_stack *stack, const uint8_t *pkt,
			       size_t len, tern_time now);
/* The same with the frame's offloads as a link delivered it (NULL: as
 * tern_stack_input). With TERN_FRAME_CSUM_OK the TCP checksum is not
 * verified; a gso_size counts the segments the packet holds in
 * TcpInSegs, as Linux counts a GRO packet. */
TERN_API void tern_stack_input_meta(tern_stack *stack, const uint8_t *pkt,
				    size_t len, const tern_frame_meta *meta,
				    tern_time now);
/* Runs every timer due at now. */
TERN_API void tern_stack_run(tern_stack *stack, tern_time now);
/* When tern_stack_run next has work (TERN_TIME_NONE: no timer pending).
 * Never later than the earliest deadline; it may be earlier. */
TERN_API tern_time tern_stack_next_deadline(tern_stack *stack);
/* A batch of received frames: between tern_stack_batch(s, true, now) and
 * tern_stack_batch(s, false, now) the pure ACKs that input draws are kept
 * back, and the end of the batch sends one per connection (if a data
 * segment has not carried it meanwhile). A loop that reads frames in
 * batches brackets each batch so: fewer ACKs, fewer writes. Every batch
 * must be ended; nothing else changes. */
TERN_API void tern_stack_batch(tern_stack *stack, bool on, tern_time now);

TERN_API const tern_stats *tern_stack_stats(const tern_stack *stack);
TERN_API const tern_settings *tern_stack_settings(const tern_stack *stack);
TERN_API const char *tern_stack_name(const tern_stack *stack);
TERN_API uint32_t tern_stack_addr(const tern_stack *stack);
/* Connections alive in any state but CLOSED, listeners included. */
TERN_API size_t tern_stack_conn_count(const tern_stack *stack);
/* How many connections are in each state (counts[TERN_TCP_*], listeners
 * in LISTEN); returns the total. O(connections). */
TERN_API size_t tern_stack_state_counts(const tern_stack *stack,
					size_t counts[TERN_TCP_STATE_COUNT]);
/* Bytes currently allocated through the stack's allocator. */
TERN_API size_t tern_stack_mem_in_use(const tern_stack *stack);

/* Up to 4 hooks per stack; each sees every event. */
TERN_API int tern_stack_add_trace(tern_stack *stack, tern_trace_fn fn,
				  void *ctx);

/* ---- connections ---- */

enum tern_event {
	TERN_EV_READABLE = 1u << 0,  /* data, or end of stream, to read */
	TERN_EV_WRITABLE = 1u << 1,  /* send buffer has room */
	TERN_EV_CONNECTED = 1u << 2, /* handshake complete */
	TERN_EV_ACCEPT = 1u << 3,    /* listener: a connection to accept */
	TERN_EV_CLOSED = 1u << 4,    /* reached CLOSED (see the error) */
	TERN_EV_ERROR = 1u << 5,     /* refused, reset or timed out */
};

typedef void (*tern_event_fn)(tern_conn *conn, unsigned events, void *user,
			      tern_time now);

/* Options for a new connection or listener (accepted connections inherit
 * their listener's). Zero means the default. */
typedef struct tern_conn_opts {
	uint16_t local_port; /* connect: 0 picks an ephemeral port */
	bool nodelay;	     /* disable Nagle (TCP_NODELAY) */
	bool keepalive;	     /* SO_KEEPALIVE */
	uint32_t sndbuf;     /* bytes; default tcp_wmem[1] */
	uint32_t rcvbuf;     /* bytes; default tcp_rmem[1] */
	tern_event_fn on_event;
	void *user;
} tern_conn_opts;

/* Passive OPEN on port (any local address). backlog caps the queue of
 * completed connections (<= somaxconn). Errors: ADDRINUSE, INVAL, NOMEM. */
TERN_API tern_conn *tern_tcp_listen(tern_stack *stack, uint16_t port,
				    int backlog, const tern_conn_opts *opts,
				    tern_time now, int *err);
/* The next completed connection, or NULL with *err = AGAIN. */
TERN_API tern_conn *tern_tcp_accept(tern_conn *listener, int *err);
/* Active OPEN: sends SYN. Errors: ADDRINUSE (4-tuple taken),
 * ADDRNOTAVAIL (no ephemeral port left), INVAL, NOMEM. */
TERN_API tern_conn *tern_tcp_connect(tern_stack *stack,
				     const tern_endpoint *remote,
				     const tern_conn_opts *opts, tern_time now,
				     int *err);

/* SEND: queues up to len bytes; returns the count queued, or AGAIN (buffer
 * full), PIPE (sending side shut down), NOTCONN, or the connection's error.
 * Data queued before the handshake completes goes out after it. */
TERN_API ptrdiff_t tern_tcp_send(tern_conn *conn, const void *buf, size_t len,
				 tern_time now);
/* RECEIVE: up to len bytes; 0 at end of stream; AGAIN when nothing yet;
 * RESET, TIMEDOUT, REFUSED when the connection failed. */
TERN_API ptrdiff_t tern_tcp_recv(tern_conn *conn, void *buf, size_t len,
				 tern_time now);

enum { TERN_SHUT_RD = 1, TERN_SHUT_WR = 2, TERN_SHUT_RDWR = 3 };
/* shutdown(2): WR queues a FIN after the data (half-close); RD discards
 * what arrives from now on. */
TERN_API int tern_tcp_shutdown(tern_conn *conn, int how, tern_time now);
/* CLOSE: the application is done with the handle. Sends FIN after queued
 * data; with unread received data, sends RST instead (RFC 2525 2.17, as
 * Linux). The connection finishes closing on its own. */
TERN_API int tern_tcp_close(tern_conn *conn, tern_time now);
/* ABORT: sends RST (in synchronized states) and frees at once. */
TERN_API int tern_tcp_abort(tern_conn *conn, tern_time now);

TERN_API int tern_tcp_set_nodelay(tern_conn *conn, bool on, tern_time now);
TERN_API int tern_tcp_set_keepalive(tern_conn *conn, bool on, tern_time now);
TERN_API void tern_tcp_set_callback(tern_conn *conn, tern_event_fn fn,
				    void *user);

/* Current readiness, poll-style: TERN_EV_* bits that hold now. */
TERN_API unsigned tern_tcp_events(const tern_conn *conn);
/* The connection's error (0, REFUSED, RESET, TIMEDOUT), kept until read
 * here, like SO_ERROR. */
TERN_API int tern_tcp_error(tern_conn *conn);

/* STATUS (RFC 9293 3.10.6), with the figures `ss -i` shows. */
typedef struct tern_tcp_info {
	int state;
	tern_endpoint local, remote;
	uint64_t conn_id;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd;
	uint32_t rcv_nxt, rcv_wnd;
	uint32_t mss;		 /* effective send MSS */
	uint32_t cwnd, ssthresh; /* bytes */
	tern_time srtt, rttvar, rto;
	uint32_t retransmits;	/* consecutive timeouts now */
	uint64_t total_retrans; /* segments retransmitted */
	uint64_t bytes_acked, bytes_received;
	uint32_t snd_buf_used, snd_buf_size;
	uint32_t rcv_buf_used, rcv_buf_size;
	tern_time next_timer; /* TERN_TIME_NONE if none */
	unsigned options;     /* TERN_TCPI_OPT_*: what was negotiated */
	uint8_t snd_wscale;   /* the peer's window shift */
	uint8_t rcv_wscale;   /* ours */
} tern_tcp_info;

/* tern_tcp_info.options, with the values of Linux's tcpi_options. */
enum {
	TERN_TCPI_OPT_TIMESTAMPS = 1,
	TERN_TCPI_OPT_SACK = 2,
	TERN_TCPI_OPT_WSCALE = 4,
};

TERN_API int tern_tcp_info_get(const tern_conn *conn, tern_tcp_info *out);
TERN_API int tern_tcp_state(const tern_conn *conn);

/* ---- every connection of a stack, as `ss` lists them ---- */

/* The timer `ss -o` shows, with the codes of Linux's /proc/net/tcp:
 * retransmission (also SYN, SYN+ACK), keepalive, TIME_WAIT or an
 * orphaned FIN_WAIT_2's end, zero-window probe. A delayed ACK is not
 * shown, as Linux does not. */
enum {
	TERN_TIMER_OFF = 0,
	TERN_TIMER_ON = 1,
	TERN_TIMER_KEEPALIVE = 2,
	TERN_TIMER_TIMEWAIT = 3,
	TERN_TIMER_PERSIST = 4,
};

typedef struct tern_conn_view {
	/* state, local, remote and conn_id always; for a TIME_WAIT record
	 * (an orphan in TIME_WAIT is no connection any more) the rest is 0 */
	tern_tcp_info info;
	bool listener;
	bool timewait_record;
	bool orphan;		 /* the application has closed it */
	int timer;		 /* TERN_TIMER_* */
	tern_time timer_expires; /* when it fires; TERN_TIME_NONE if off */
	uint32_t timer_count;	 /* retransmissions or unanswered probes */
	/* As ss: a listener's accept queue and backlog; otherwise the bytes
	 * received and not read, and those sent and not acknowledged or not
	 * sent yet. */
	uint32_t recv_q, send_q;
} tern_conn_view;

typedef void (*tern_conn_view_fn)(const tern_conn_view *view, void *arg);

/* Calls fn once for each connection in any state but CLOSED (listeners,
 * their SYN_RECEIVED and unaccepted children, orphans) and each
 * TIME_WAIT record, in no set order. fn must not change the stack.
 * Returns the count. O(connections + records). */
TERN_API size_t tern_stack_conns(tern_stack *stack, tern_conn_view_fn fn,
				 void *arg);
/* `ss -K`: the connection whose conn_id is id is reset, as by
 * tern_tcp_abort (RST where the peer holds state), but a handle the
 * application still holds stays valid: it reads RESET and must be
 * closed as usual. A TIME_WAIT record just ends, silently (Linux's
 * tcp_abort() since 6.0). Errors: NOENT (no such id), INVAL (a
 * listener: close it instead). */
TERN_API int tern_stack_abort_conn(tern_stack *stack, uint64_t id,
				   tern_time now);

#ifdef __cplusplus
}
#endif
#endif
