/* Running a scenario: two stacks on a simulated link, a recorder of
 * everything they do, scripted faults, and small applications. */
#include <stdlib.h>
#include <string.h>

#include <tern/wire.h>

#include "scenario.h"

void scn_record(scn_run *r, const scn_event *e)
{
	if (r->nevents == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		scn_event *n = realloc(r->events, cap * sizeof(*n));
		if (!n)
			return; /* the run goes on; the record is short */
		r->events = n;
		r->cap = cap;
	}
	r->events[r->nevents++] = *e;
}

/* Every packet a stack sends has its own IPv4 ID, and the fault wrapper
 * sees each frame as it leaves one stack and as it reaches the other: so
 * each segment's fate is known exactly, by (sender, IP ID). */
static void recorder(void *ctx, const tern_trace_event *ev)
{
	struct scn_hook *h = ctx;
	scn_event e = {.ev = *ev, .host = h->host};

	if (ev->kind == TERN_TRACE_SEG && !ev->seg.tx && h->rx_known) {
		e.has_id = !h->rx_forged;
		e.ip_id = h->rx_id;
		e.forged_rx = h->rx_forged;
		h->rx_known = false;
	}
	scn_record(h->run, &e);
	if (ev->kind == TERN_TRACE_SEG && ev->seg.tx)
		h->last_tx = (long)h->run->nevents - 1;
}

tern_time scn_now(const scn_run *r)
{
	return tern_sim_now(r->sim);
}

/* ---- callbacks at a time ---- */

struct at_call {
	scn_run *run;
	void (*fn)(scn_run *r, void *arg);
	void *arg;
};

static void at_fire(void *arg, tern_time now)
{
	struct at_call *c = arg;
	(void)now;
	c->fn(c->run, c->arg);
	free(c);
}

void scn_at(scn_run *r, tern_time t, void (*fn)(scn_run *r, void *arg),
	    void *arg)
{
	struct at_call *c = malloc(sizeof(*c));
	if (!c)
		return;
	*c = (struct at_call){r, fn, arg};
	if (tern_sim_at(r->sim, t, at_fire, c) < 0)
		free(c);
}

/* ---- scripted faults: a link wrapper on each stack's side ---- */

typedef struct fault_link {
	tern_link link;
	tern_link *inner;
	scn_run *run;
	int host;
} fault_link;

struct held_frame {
	fault_link *fl;
	size_t len;
	uint8_t data[];
};

static void held_send(void *arg, tern_time now)
{
	struct held_frame *h = arg;
	tern_iov iov = {h->data, h->len};

	tern_link_send(h->fl->inner, &iov, 1, NULL, now);
	free(h);
}

static bool fault_matches(scn_fault *f, const uint8_t *frame, size_t len)
{
	tern_ipv4_hdr ip;
	tern_tcp_hdr tcp;

	if (tern_ipv4_parse(frame, len, &ip) ||
	    tern_tcp_parse(ip.payload, ip.payload_len, 0, 0, false, &tcp))
		return false;
	if ((tcp.flags & f->flags_set) != f->flags_set ||
	    (tcp.flags & f->flags_clear) ||
	    (f->with_data && !tcp.payload_len) ||
	    (f->no_data && tcp.payload_len))
		return false;
	return ++f->seen == f->nth || f->nth == 0;
}

static void hold(fault_link *fl, const uint8_t *frame, size_t len,
		 tern_time when)
{
	struct held_frame *h = malloc(sizeof(*h) + len);

	if (!h)
		return;
	h->fl = fl;
	h->len = len;
	memcpy(h->data, frame, len);
	tern_sim_at(fl->run->sim, when, held_send, h);
}

/* Every rule sees every frame (so each counts its own matches); a frame
 * goes out now unless a matching rule drops or holds it. */
static int fault_send(tern_link *link, const tern_iov *iov, int n,
		      const tern_frame_meta *meta, tern_time now)
{
	fault_link *fl = (fault_link *)link;
	uint8_t frame[TERN_FRAME_MAX];
	size_t len = 0;
	bool send_now = true;

	for (int i = 0; i < n; i++) {
		memcpy(frame + len, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	struct scn_hook *h = &fl->run->hooks[fl->host];
	if (h->last_tx >= 0 && len >= TERN_IPV4_HDR_MIN) {
		fl->run->events[h->last_tx].has_id = true;
		fl->run->events[h->last_tx].ip_id = tern_load16(frame + 4);
		h->last_tx = -1;
	}
	for (int i = 0; i < fl->run->nfaults; i++) {
		scn_fault *f = &fl->run->faults[i];
		if (f->host != fl->host || !fault_matches(f, frame, len))
			continue;
		if (f->delay)
			hold(fl, frame, len, now + f->delay);
		if (!f->dup)
			send_now = false;
	}
	if (!send_now)
		return 0;
	tern_iov one = {frame, len};
	return tern_link_send(fl->inner, &one, 1, meta, now);
}

static void fault_rx(void *ctx, const uint8_t *frame, size_t len,
		     const tern_frame_meta *meta, tern_time now)
{
	fault_link *fl = ctx;
	struct scn_hook *h = &fl->run->hooks[fl->host];

	h->rx_known = len >= TERN_IPV4_HDR_MIN;
	if (h->rx_known) {
		h->rx_id = tern_load16(frame + 4);
		h->rx_forged = frame[8] == SCN_FORGED_TTL;
	}
	tern_link_deliver(&fl->link, frame, len, meta, now);
	h->rx_known = false;
}

static void fault_destroy(tern_link *link)
{
	fault_link *fl = (fault_link *)link;
	tern_link_destroy(fl->inner);
	free(fl);
}

static const tern_link_ops fault_ops = {.send = fault_send,
					.destroy = fault_destroy};

static tern_link *fault_wrap(scn_run *r, int host, tern_link *inner)
{
	fault_link *fl = calloc(1, sizeof(*fl));
	if (!fl)
		return NULL;
	fl->link.ops = &fault_ops;
	fl->link.mtu = inner->mtu;
	fl->link.name = inner->name;
	fl->inner = inner;
	fl->run = r;
	fl->host = host;
	tern_link_set_rx(inner, fault_rx, fl);
	return &fl->link;
}

void scn_add_fault(scn_run *r, const scn_fault *f)
{
	if (r->nfaults < SCN_FAULTS_MAX)
		r->faults[r->nfaults++] = *f;
}

/* ---- set-up and tear-down ---- */

/* The scenarios show RFC 9293's TCP: the extensions of RFC 7323 and
 * RFC 2018 are off, the initial window and congestion control are RFC
 * 5681's, buffers keep their sizes, so that every number in them follows from the RFCs the
 * catalogue cites (Karn's rule, an MSS of 1460, unscaled windows).
 * tests/scenario pins them so; the extensions have tests of their own. */
void scn_settings(tern_settings *set)
{
	tern_settings_default(set);
	set->tcp_window_scaling = 0;
	set->tcp_timestamps = 0;
	set->tcp_sack = 0;
	set->tcp_initcwnd = 0;	      /* RFC 5681 3.1 */
	set->tcp_moderate_rcvbuf = 0; /* buffers keep their sizes */
	set->tcp_wmem[2] = set->tcp_wmem[1];
	snprintf(set->tcp_congestion_control,
		 sizeof(set->tcp_congestion_control), "reno");
}

static tern_stack *make_stack(scn_run *r, int host)
{
	tern_settings set;
	if (r->params.settings)
		set = *r->params.settings; /* --sysctl on top of them */
	else
		scn_settings(&set);
	if (r->def->settings)
		r->def->settings(host, &set); /* what the scenario is about */
	tern_stack_config cfg = {
		.settings = &set,
		.name = host == SCN_CLIENT ? "client" : "server",
		.addr = host == SCN_CLIENT ? SCN_CLIENT_ADDR : SCN_SERVER_ADDR,
		.secret = {r->params.seed * 2 + (uint64_t)host,
			   0x7465726e ^ (uint64_t)host},
	};
	tern_stack *s = tern_stack_new(&cfg);
	if (!s)
		return NULL;
	r->hooks[host] =
		(struct scn_hook){.run = r, .host = host, .last_tx = -1};
	tern_stack_add_trace(s, recorder, &r->hooks[host]);
	if (r->json)
		tern_stack_add_trace(s, tern_trace_json_hook, r->json);
	return s;
}

static int make_network(scn_run *r)
{
	tern_time delay = r->params.delay ? r->params.delay : r->def->delay;
	tern_sim_path path = {.delay = delay, .loss = r->params.loss};
	int err = 0;

	r->port[0] = tern_sim_port(r->sim, SCN_CLIENT_ADDR, 1500);
	r->port[1] = tern_sim_port(r->sim, SCN_SERVER_ADDR, 1500);
	if (!r->port[0] || !r->port[1])
		return TERN_ERR_NOMEM;
	r->link_id =
		tern_sim_join(r->sim, r->port[0], r->port[1], &path, &path);
	if (r->link_id < 0)
		return r->link_id;
	for (int h = 0; h < 2; h++) {
		r->link[h] = fault_wrap(r, h, r->port[h]);
		if (!r->link[h])
			return TERN_ERR_NOMEM;
	}
	if (r->params.pcap) {
		tern_link *p = tern_pcap_wrap_rotating(
			r->link[0], r->params.pcap, TERN_PCAP_LINKTYPE_IPV4,
			r->params.rotate, &err);
		if (!p)
			return err;
		r->link[0] = p;
	}
	return 0;
}

static int setup(scn_run *r)
{
	int err = 0;

	r->sim = tern_sim_new(r->params.seed);
	if (!r->sim)
		return TERN_ERR_NOMEM;
	if (r->params.json) {
		r->json = tern_trace_json_open_rotating(r->params.json, 0,
							r->params.rotate, &err);
		if (!r->json)
			return err;
	}
	if ((err = make_network(r)) < 0)
		return err;
	for (int h = 0; h < 2; h++) {
		r->stack[h] = make_stack(r, h);
		if (!r->stack[h])
			return TERN_ERR_NOMEM;
		tern_sim_add_stack(r->sim, r->stack[h], r->link[h]);
	}
	return 0;
}

void scn_free(scn_run *r)
{
	if (!r)
		return;
	for (int h = 0; h < 2; h++) {
		tern_stack_free(r->stack[h]);
		tern_link_destroy(r->link[h]);
	}
	tern_trace_json_close(r->json); /* after the stacks: their hook */
	tern_sim_free(r->sim);
	free(r->events);
	free(r);
}

/* A transmission no arrival matches (same sender, same IPv4 ID) was lost;
 * a second arrival of the same packet is a copy the network made. Forged
 * segments are matched by their own record. */
static void mark_lost(scn_run *r)
{
	for (size_t i = 0; i < r->nevents; i++) {
		scn_event *tx = &r->events[i];
		if (tx->ev.kind != TERN_TRACE_SEG || !tx->ev.seg.tx ||
		    tx->injected)
			continue;
		int arrivals = 0;
		for (size_t j = i + 1; j < r->nevents; j++) {
			scn_event *rx = &r->events[j];
			if (rx->ev.kind != TERN_TRACE_SEG || rx->ev.seg.tx ||
			    rx->host == tx->host || !rx->has_id ||
			    !tx->has_id || rx->ip_id != tx->ip_id)
				continue;
			rx->copy = arrivals++ > 0;
		}
		tx->lost = arrivals == 0;
	}
}

int scn_execute(const scn_def *def, const scn_params *params, scn_run **out)
{
	scn_run *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return TERN_ERR_NOMEM;
	r->def = def;
	r->params = *params;
	int err = setup(r);
	if (err == 0)
		err = def->run(r);
	mark_lost(r);
	/* the files are complete when the run is, and a failed write (a
	 * full disk) is an error, not a silently short file */
	if (err == 0 && r->json && tern_trace_json_flush(r->json) < 0)
		err = TERN_ERR_IO;
	if (err == 0 && r->params.pcap && tern_pcap_flush(r->link[0]) < 0)
		err = TERN_ERR_IO;
	if (err < 0) {
		scn_free(r);
		return err;
	}
	*out = r;
	return 0;
}

int scn_run_until(scn_run *r, tern_time until)
{
	return tern_sim_run(r->sim, until);
}
