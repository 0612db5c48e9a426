/* The JSON Lines trace: one object per event, one event per line. */
#include <stdio.h>
#include <stdlib.h>

#include <tern/link.h>
#include <tern/stats.h>
#include <tern/trace.h>
#include <tern/wire.h>

#include "trace/jsonw.h"
#include "util/rotfile.h"

/* The file rotates between lines, so each file of a series holds whole
 * lines (JSON Lines needs no header). */
struct tern_trace_json {
	rotfile file;
	tern_time start;
};

static void endpoint_text(const tern_endpoint *e, char *buf, size_t size)
{
	char a[16];
	snprintf(buf, size, "%s:%u", tern_addr_format(e->addr, a, sizeof(a)),
		 (unsigned)e->port);
}

static void kendpoint(jsonw *w, const char *key, const tern_endpoint *e)
{
	char text[32];
	endpoint_text(e, text, sizeof(text));
	jw_kstr(w, key, text);
}

static void state_fields(jsonw *w, const tern_trace_event *ev)
{
	char l[32], r[32], conn[72];

	endpoint_text(&ev->state.local, l, sizeof(l));
	endpoint_text(&ev->state.remote, r, sizeof(r));
	snprintf(conn, sizeof(conn), "%s-%s", l, r);
	jw_kstr(w, "conn", conn);
	jw_kstr(w, "from", tern_tcp_state_name(ev->state.from));
	jw_kstr(w, "to", tern_tcp_state_name(ev->state.to));
	jw_kstr(w, "cause", ev->state.cause ? ev->state.cause : "");
}

static void seg_fields(jsonw *w, const tern_trace_event *ev)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} flags[] = {
		{TERN_TCP_SYN, "SYN"}, {TERN_TCP_ACK, "ACK"},
		{TERN_TCP_FIN, "FIN"}, {TERN_TCP_RST, "RST"},
		{TERN_TCP_PSH, "PSH"}, {TERN_TCP_URG, "URG"},
		{TERN_TCP_ECE, "ECE"}, {TERN_TCP_CWR, "CWR"},
	};

	jw_kstr(w, "dir", ev->seg.tx ? "tx" : "rx");
	kendpoint(w, "src", &ev->seg.src);
	kendpoint(w, "dst", &ev->seg.dst);
	jw_key(w, "flags");
	jw_array_begin(w);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (ev->seg.flags & flags[i].bit)
			jw_str(w, flags[i].name);
	jw_array_end(w);
	jw_kuint(w, "seq", ev->seg.seq);
	jw_kuint(w, "ack", ev->seg.ack);
	jw_kuint(w, "len", ev->seg.len);
	jw_kuint(w, "win", ev->seg.win);
	if (ev->seg.mss)
		jw_kuint(w, "mss", ev->seg.mss);
}

static const char *const kinds[] = {"state", "seg", "drop"};

int tern_trace_json_format(char *buf, size_t size, const tern_trace_event *ev,
			   tern_time start)
{
	jsonw w;
	tern_time t = ev->t > start ? ev->t - start : 0;

	if (ev->kind < TERN_TRACE_STATE || ev->kind > TERN_TRACE_DROP)
		return -1;
	jw_init(&w, buf, size);
	jw_object_begin(&w);
	jw_kuint(&w, "t", t / TERN_USEC);
	jw_kstr(&w, "host", ev->host ? ev->host : "");
	jw_kstr(&w, "ev", kinds[ev->kind]);
	if (ev->kind == TERN_TRACE_STATE) {
		state_fields(&w, ev);
	} else if (ev->kind == TERN_TRACE_SEG) {
		seg_fields(&w, ev);
	} else {
		jw_kstr(&w, "reason", tern_drop_reason_name(ev->drop.reason));
		if (ev->drop.have_addrs) {
			kendpoint(&w, "src", &ev->drop.src);
			kendpoint(&w, "dst", &ev->drop.dst);
		}
	}
	jw_object_end(&w);
	return (int)jw_finish(&w);
}

tern_trace_json *tern_trace_json_stream(FILE *out, tern_time start)
{
	tern_trace_json *w = malloc(sizeof(*w));
	if (!w)
		return NULL;
	rotfile_stream(&w->file, out);
	w->start = start;
	return w;
}

tern_trace_json *tern_trace_json_open(const char *path, tern_time start,
				      int *err)
{
	return tern_trace_json_open_rotating(path, start, NULL, err);
}

tern_trace_json *tern_trace_json_open_rotating(const char *path,
					       tern_time start,
					       const tern_rotate *rot, int *err)
{
	tern_trace_json *w = malloc(sizeof(*w));
	int e = w ? rotfile_open(&w->file, path, rot, NULL, 0) : TERN_ERR_NOMEM;

	if (e) {
		free(w);
		w = NULL;
	} else {
		w->start = start;
	}
	if (err)
		*err = e;
	return w;
}

/* One line per event. A line longer than the stack buffer (which takes
 * a very long host name) is formatted again into the heap: no event is
 * ever dropped or cut. */
void tern_trace_json_hook(void *writer, const tern_trace_event *ev)
{
	tern_trace_json *w = writer;
	char line[512], *text = line;

	int n = tern_trace_json_format(line, sizeof(line), ev, w->start);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		text = malloc((size_t)n + 1);
		if (!text) {
			rotfile_fail(&w->file); /* a line missing: stop */
			return;
		}
		tern_trace_json_format(text, (size_t)n + 1, ev, w->start);
	}
	rotfile_begin(&w->file, (uint64_t)n + 1);
	rotfile_write(&w->file, text, (size_t)n);
	rotfile_write(&w->file, "\n", 1);
	if (text != line)
		free(text);
}

int tern_trace_json_flush(tern_trace_json *w)
{
	return rotfile_flush(&w->file);
}

int tern_trace_json_close(tern_trace_json *w)
{
	if (!w)
		return 0;
	int err = rotfile_close(&w->file);
	free(w);
	return err;
}

static void counter_map(jsonw *w, const char *key, const uint64_t *v, int n,
			const char *(*name)(int), int first)
{
	jw_key(w, key);
	jw_object_begin(w);
	for (int i = first; i < n; i++)
		if (v[i])
			jw_kuint(w, name(i), v[i]);
	jw_object_end(w);
}

/* Every field, even zero: a link's counters are few, and a zero is news
 * (nothing dropped). */
static void link_map(jsonw *w, const tern_link_counters *c)
{
#define LINK_FIELD(f) jw_kuint(w, #f, c->f)
	jw_key(w, "link");
	jw_object_begin(w);
	jw_key(w, "offload");
	jw_bool(w, c->offload);
	LINK_FIELD(rx_frames);
	LINK_FIELD(rx_bytes);
	LINK_FIELD(tx_frames);
	LINK_FIELD(tx_bytes);
	LINK_FIELD(rx_gso_frames);
	LINK_FIELD(rx_gso_bytes);
	LINK_FIELD(tx_gso_frames);
	LINK_FIELD(tx_gso_bytes);
	LINK_FIELD(rx_dropped);
	LINK_FIELD(tx_dropped);
	LINK_FIELD(rx_not_ip);
	LINK_FIELD(rx_not_ours);
	LINK_FIELD(rx_malformed);
	LINK_FIELD(rx_bad_vnet);
	LINK_FIELD(tx_full);
	LINK_FIELD(tx_down);
	LINK_FIELD(tx_unroutable);
	LINK_FIELD(tx_unresolved);
	LINK_FIELD(tx_queue_full);
	LINK_FIELD(arp_requests_in);
	LINK_FIELD(arp_replies_in);
	LINK_FIELD(arp_requests_out);
	LINK_FIELD(arp_replies_out);
	LINK_FIELD(arp_advised);
	jw_object_end(w);
#undef LINK_FIELD
}

int tern_stats_json(char *buf, size_t size, const tern_stats *st,
		    const tern_link_counters *link)
{
	jsonw w;

	jw_init(&w, buf, size);
	jw_object_begin(&w);
	counter_map(&w, "counters", st->counters, TERN_CTR_COUNT,
		    tern_counter_name, 0);
	counter_map(&w, "drops", st->drops, TERN_DROP_COUNT,
		    tern_drop_reason_name, 1);
	if (link)
		link_map(&w, link);
	jw_object_end(&w);
	return (int)jw_finish(&w);
}
