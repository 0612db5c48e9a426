/* The scenario catalogue of SCENARIOS.md, run on the simulator between a
 * client stack and a server stack. `tern scenario` prints them as
 * timelines; tests/scenario asserts their segments and states exactly.
 * Both use the same definitions, from here. */
#ifndef TERN_SCENARIO_H
#define TERN_SCENARIO_H

#include <stdio.h>

#include <tern/sim.h>
#include <tern/stack.h>
#include <tern/trace.h>

#define SCN_CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SCN_SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define SCN_PORT 80

enum scn_host { SCN_CLIENT = 0, SCN_SERVER = 1 };

/* What the caller may change about a run. */
typedef struct scn_params {
	uint64_t seed;
	double loss;	  /* random loss on both directions, 0..1 */
	tern_time delay;  /* one-way delay; 0: the scenario's default */
	const char *json; /* JSON Lines trace file, or NULL */
	const char *pcap; /* pcap capture (of the client's link) */
	const tern_rotate *rotate; /* bounds on both files; NULL: none */
	/* Both stacks' settings (e.g. scn_settings() changed by --sysctl);
	 * NULL: scn_settings() */
	const tern_settings *settings;
} scn_params;

/* The settings every scenario runs with (see run.c for why). */
void scn_settings(tern_settings *set);

/* One thing that happened, in order: a trace event of either stack, or
 * a segment forged by the scenario itself (injected). */
typedef struct scn_event {
	tern_trace_event ev;
	int host;	/* enum scn_host */
	bool injected;	/* a forged segment delivered to `host` */
	bool lost;	/* tx that never arrived (filled after the run) */
	bool copy;	/* rx of a copy the network made (dup, late) */
	bool forged_rx; /* rx of a forged segment */
	bool has_id;	/* ip_id is known: the IPv4 ID of the packet */
	uint16_t ip_id;
} scn_event;

/* A segment with its numbers made relative: seq to the sender's ISN,
 * ack to the receiver's (raw when that side has sent no SYN). */
typedef struct scn_seg {
	int from; /* enum scn_host; for injected ones: the target's
			* peer, i.e. who it claims to come from */
	uint8_t flags;
	int64_t seq, ack; /* relative */
	uint32_t len;
	bool injected, lost;
	bool copy; /* a network-made copy arriving (t is its arrival) */
	tern_time t;
} scn_seg;

/* A state change of one endpoint. */
typedef struct scn_state {
	int host;
	uint64_t conn_id;
	int from, to;
	const char *cause;
	tern_time t;
} scn_state;

/* A scripted fault: the nth segment (1-based; 0: every one) that `host`
 * sends with all of `flags_set`, none of `flags_clear`, and payload if
 * `with_data` (none if `no_data`), is dropped, or held back `delay`; with
 * `dup` it is also sent at once, so the held copy arrives late. */
typedef struct scn_fault {
	int host;
	uint8_t flags_set, flags_clear;
	bool with_data, no_data;
	int nth;
	tern_time delay; /* 0: drop */
	bool dup;
	int seen; /* matched so far (run state) */
} scn_fault;

#define SCN_FAULTS_MAX 8
#define SCN_APP_MAX 4

typedef struct scn_run scn_run;

/* A tiny application on one endpoint: sends `to_send` bytes (a fixed
 * pattern), reads (unless `paused`), and closes or shuts down as told. */
typedef struct scn_app {
	scn_run *run;
	int host;
	tern_conn *conn;
	size_t to_send, sent, received;
	bool paused;		  /* not reading */
	bool close_on_eof;	  /* close() when the peer's FIN is read */
	tern_time close_delay;	  /* ... this long after it */
	bool send_on_eof;	  /* answer only after the peer's FIN */
	bool shutdown_after_send; /* shutdown(WR) once all is queued */
	bool close_after_send;	  /* close() once all is queued */
	bool eof, closed;
	int error;
	uint64_t checksum; /* of what was read, to compare with the pattern */
} scn_app;

struct scn_run {
	const struct scn_def *def;
	scn_params params;
	tern_sim *sim;
	tern_stack *stack[2];
	tern_link *port[2];
	tern_link *link[2]; /* what the stacks send on (fault wrapper) */
	int link_id;
	tern_trace_json *json;
	scn_event *events;
	size_t nevents, cap;
	scn_fault faults[SCN_FAULTS_MAX];
	int nfaults;
	scn_app apps[SCN_APP_MAX];
	int napps;
	scn_app server_tmpl; /* how accepted connections behave */
	tern_conn *listener;
	struct scn_hook {
		struct scn_run *run;
		int host;
		long last_tx;  /* index of its latest tx event, or -1 */
		bool rx_known; /* the frame being delivered: */
		bool rx_forged;
		uint16_t rx_id;
	} hooks[2];
	char note[1024]; /* what the scenario shows, for the timeline */
};

typedef struct scn_def {
	const char *name; /* as in SCENARIOS.md */
	int number;	  /* its number there */
	const char *title;
	const char *rfc; /* where the rules come from */
	tern_time delay; /* default one-way delay */
	/* Sets up the apps and faults, runs the simulation. 0 or an error. */
	int (*run)(scn_run *r);
	/* Changes a host's settings from the scenarios' pinned ones before
	 * its stack is made; NULL: none. */
	void (*settings)(int host, tern_settings *set);
} scn_def;

const scn_def *scn_find(const char *name);
const scn_def *const *scn_all(size_t *count);

/* Runs a scenario and keeps everything for inspection; free with
 * scn_free. The trace and capture files are complete when it returns.
 * Returns 0, or TERN_ERR_IO (a file could not be opened or written),
 * TERN_ERR_NOMEM. */
int scn_execute(const scn_def *def, const scn_params *params, scn_run **out);
void scn_free(scn_run *r);

/* The wire and the states, derived from the events. */
size_t scn_segments(const scn_run *r, scn_seg *out, size_t max);
size_t scn_states(const scn_run *r, int host, scn_state *out, size_t max);
uint32_t scn_isn(const scn_run *r, int host, bool *known);
/* The ISN `host` chose for the connection of event i. */
uint32_t scn_isn_for(const scn_run *r, int host, size_t i, bool *known);
/* Which of `host`'s ISNs `isn` is, in the order it chose them: 1 for the
 * first (named J or K), 2 for the next (J2 or K2), ...; 0 if not one. */
int scn_isn_ordinal(const scn_run *r, int host, uint32_t isn);

void scn_print_timeline(const scn_run *r, FILE *out);

/* ---- for scenario definitions ---- */

void scn_add_fault(scn_run *r, const scn_fault *f);
void scn_record(scn_run *r, const scn_event *e);
scn_app *scn_app_new(scn_run *r, int host, tern_conn *conn);
/* The nth (0-based) app of host, or NULL: under loss a server app may not
 * exist yet, or ever. */
scn_app *scn_app_of(scn_run *r, int host, int nth);
/* close() or abort() of an app's connection, once; NULL is fine. */
void scn_app_close(scn_app *a);
void scn_app_abort(scn_app *a);
/* The server listens on SCN_PORT (opts may set buffer sizes...);
 * accepted connections get an app made from r->server_tmpl. */
tern_conn *scn_listen(scn_run *r, const tern_conn_opts *opts);
tern_conn *scn_connect(scn_run *r, uint16_t client_port, scn_app **app);
/* Runs callbacks and the network until idle or `until`. */
int scn_run_until(scn_run *r, tern_time until);
void scn_at(scn_run *r, tern_time t, void (*fn)(scn_run *r, void *arg),
	    void *arg);
/* Forged packets carry this TTL (stacks send 64), so arrivals can be told
 * from the stacks' own. */
#define SCN_FORGED_TTL 255

/* Delivers a forged segment to `host`, as if sent by its peer. */
void scn_inject(scn_run *r, int host, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t dport, uint16_t sport, uint32_t len, tern_time t);
/* The same from address src (a spoofed one: what `host` sends back to
 * an address no port owns goes nowhere). */
void scn_inject_from(scn_run *r, int host, uint32_t src, uint32_t seq,
		     uint32_t ack, uint8_t flags, uint16_t dport,
		     uint16_t sport, uint32_t len, tern_time t);
tern_time scn_now(const scn_run *r);
/* Pushes more of the app's bytes into its connection. */
void scn_app_pump(scn_app *a);
/* Reads what is there (unless paused), and acts on the end of stream. */
void scn_app_read(scn_app *a);

#endif
