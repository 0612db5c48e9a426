/* tern trace hooks: what the stack did, as events.
 *
 * Every state change, every segment sent or received and every dropped
 * packet is reported to the hooks installed on a stack. Traces (JSON
 * Lines), the timelines of `tern scenario` and the tests read from here,
 * never from private fields.
 */
#ifndef TERN_TRACE_H
#define TERN_TRACE_H

#include <stdio.h>

#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 9293 states, in the RFC's order, so that ranges mean something:
 * state >= TERN_TCP_ESTABLISHED is synchronized with data flowing. */
enum tern_tcp_state {
	TERN_TCP_CLOSED = 0,
	TERN_TCP_LISTEN,
	TERN_TCP_SYN_SENT,
	TERN_TCP_SYN_RECEIVED,
	TERN_TCP_ESTABLISHED,
	TERN_TCP_FIN_WAIT_1,
	TERN_TCP_FIN_WAIT_2,
	TERN_TCP_CLOSE_WAIT,
	TERN_TCP_CLOSING,
	TERN_TCP_LAST_ACK,
	TERN_TCP_TIME_WAIT,
	TERN_TCP_STATE_COUNT
};

/* "ESTABLISHED", "FIN_WAIT_1", ... (the names of SCENARIOS.md). */
TERN_API const char *tern_tcp_state_name(int state);

enum tern_trace_kind {
	TERN_TRACE_STATE, /* a connection changed state */
	TERN_TRACE_SEG,	  /* a TCP segment went out or came in */
	TERN_TRACE_DROP,  /* a received packet was dropped */
};

typedef struct tern_trace_event {
	int kind;	  /* enum tern_trace_kind */
	tern_time t;	  /* the `now` of the call that caused it */
	const char *host; /* the stack's name */
	union {
		struct {
			uint64_t conn_id; /* unique within the stack */
			tern_endpoint local, remote;
			int from, to;	   /* enum tern_tcp_state */
			const char *cause; /* "connect", "rx SYN", "close" */
		} state;
		struct {
			bool tx; /* sent (true) or received (false) */
			tern_endpoint src, dst;
			uint8_t flags; /* TERN_TCP_* */
			uint32_t seq, ack;
			uint32_t len; /* payload bytes */
			uint16_t win; /* raw header field */
			uint16_t mss; /* MSS option, 0 if absent */
		} seg;
		struct {
			int reason; /* enum tern_drop_reason */
			bool have_addrs;
			tern_endpoint src, dst;
		} drop;
	};
} tern_trace_event;

typedef void (*tern_trace_fn)(void *ctx, const tern_trace_event *ev);

/* A JSON Lines writer for trace events (the format every tern trace uses):
 * one object per line with "t" (microseconds since `start`), "host", "ev",
 * and the event's fields. Install tern_trace_json_hook with the writer as
 * its context. */
typedef struct tern_trace_json tern_trace_json;

/* Creates (or truncates) path: NULL, with *err (when err is not NULL)
 * TERN_ERR_IO (errno says why) or TERN_ERR_NOMEM, on failure. */
TERN_API tern_trace_json *tern_trace_json_open(const char *path,
					       tern_time start, int *err);
/* tern_trace_json_open with bounds on the file (rot NULL or max_bytes 0:
 * none), as tern_rotate describes: path is the newest file, every file of
 * the series holds whole lines. A failed rename or open while rotating
 * stops the trace, and flush and close report it as TERN_ERR_IO. Also
 * TERN_ERR_INVAL for keep 0 with a limit, and TERN_ERR_IO when a file of
 * an earlier series cannot be removed. */
TERN_API tern_trace_json *tern_trace_json_open_rotating(const char *path,
							tern_time start,
							const tern_rotate *rot,
							int *err);
TERN_API tern_trace_json *tern_trace_json_stream(FILE *out, tern_time start);
TERN_API void tern_trace_json_hook(void *writer, const tern_trace_event *ev);
/* Writes out what is buffered: 0, or TERN_ERR_IO if any write failed. */
TERN_API int tern_trace_json_flush(tern_trace_json *w);
/* Flushes, closes (unless it was a stream) and frees the writer; returns
 * as tern_trace_json_flush does, including a failed close. */
TERN_API int tern_trace_json_close(tern_trace_json *w);
/* Writes one event as a JSON object (no newline) into buf; returns the
 * length it needed, as snprintf does, or -1 for an unknown event kind.
 * Strings are escaped per RFC 8259; bytes that are not UTF-8 become
 * U+FFFD. */
TERN_API int tern_trace_json_format(char *buf, size_t size,
				    const tern_trace_event *ev,
				    tern_time start);

/* The counters as one JSON object: {"counters":{"TcpInSegs":12,...},
 * "drops":{"tcp_bad_checksum":1,...}}, only those that are not zero,
 * then, if `link` is not NULL, "link":{"rx_frames":...} with every field
 * of the device's counters (tern_link_get_counters): what the device
 * dropped before the stack saw it. Returns the length it needed, as
 * snprintf does. */
struct tern_stats;
struct tern_link_counters;
TERN_API int tern_stats_json(char *buf, size_t size,
			     const struct tern_stats *stats,
			     const struct tern_link_counters *link);

#ifdef __cplusplus
}
#endif
#endif
