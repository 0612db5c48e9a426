/* Scenario applications: a pattern sender and reader on each endpoint,
 * and forged segments. */
#include <stdlib.h>
#include <string.h>

#include <tern/wire.h>

#include "scenario.h"

/* The byte at offset i of what an app sends: a pattern, so the reader
 * can check order and content with a running checksum. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 131u + 7u) ^ (i >> 8));
}

void scn_app_close(scn_app *a)
{
	if (!a || a->closed || !a->conn)
		return;
	a->closed = true;
	tern_tcp_close(a->conn, scn_now(a->run));
}

void scn_app_abort(scn_app *a)
{
	if (!a || a->closed || !a->conn)
		return;
	a->closed = true;
	tern_tcp_abort(a->conn, scn_now(a->run));
}

scn_app *scn_app_of(scn_run *r, int host, int nth)
{
	for (int i = 0; i < r->napps; i++)
		if (r->apps[i].host == host && nth-- == 0)
			return &r->apps[i];
	return NULL;
}

static void close_later(scn_run *r, void *arg)
{
	(void)r;
	scn_app_close(arg);
}

void scn_app_pump(scn_app *a)
{
	uint8_t chunk[4096];

	if (a->send_on_eof && !a->eof)
		return;
	while (!a->closed && a->sent < a->to_send) {
		size_t n = a->to_send - a->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(a->sent + i);
		ptrdiff_t w = tern_tcp_send(a->conn, chunk, n, scn_now(a->run));
		if (w <= 0)
			return;
		a->sent += (size_t)w;
	}
	if (a->closed || a->sent < a->to_send)
		return;
	if (a->shutdown_after_send) {
		a->shutdown_after_send = false;
		tern_tcp_shutdown(a->conn, TERN_SHUT_WR, scn_now(a->run));
	}
	if (a->close_after_send)
		scn_app_close(a);
}

void scn_app_read(scn_app *a)
{
	uint8_t buf[8192];
	ptrdiff_t n;

	while (!a->paused && !a->closed &&
	       (n = tern_tcp_recv(a->conn, buf, sizeof(buf), scn_now(a->run))) >
		       0) {
		for (ptrdiff_t i = 0; i < n; i++)
			a->checksum = a->checksum * 31 + buf[i];
		a->received += (size_t)n;
	}
	if (a->paused || a->closed || n != 0 || a->eof)
		return;
	a->eof = true;
	scn_app_pump(a);
	if (!a->close_on_eof)
		return;
	if (a->close_delay)
		scn_at(a->run, scn_now(a->run) + a->close_delay, close_later,
		       a);
	else
		scn_app_close(a);
}

static void app_event(tern_conn *c, unsigned ev, void *user, tern_time now)
{
	scn_app *a = user;
	(void)c;
	(void)now;
	if (ev & TERN_EV_ERROR)
		a->error = tern_tcp_error(a->conn);
	if (ev & (TERN_EV_CONNECTED | TERN_EV_WRITABLE))
		scn_app_pump(a);
	if (ev & TERN_EV_READABLE)
		scn_app_read(a);
}

scn_app *scn_app_new(scn_run *r, int host, tern_conn *conn)
{
	if (r->napps == SCN_APP_MAX)
		return NULL;
	scn_app *a = &r->apps[r->napps++];
	memset(a, 0, sizeof(*a));
	a->run = r;
	a->host = host;
	a->conn = conn;
	if (conn)
		tern_tcp_set_callback(conn, app_event, a);
	return a;
}

static void on_accept(tern_conn *l, unsigned ev, void *user, tern_time now)
{
	scn_run *r = user;
	tern_conn *c;
	(void)now;

	if (!(ev & TERN_EV_ACCEPT))
		return;
	while ((c = tern_tcp_accept(l, NULL)) != NULL) {
		scn_app *a = scn_app_new(r, SCN_SERVER, NULL);
		if (!a) {
			tern_tcp_abort(c, scn_now(r));
			continue;
		}
		scn_app tmpl = r->server_tmpl;
		tmpl.run = r;
		tmpl.host = SCN_SERVER;
		tmpl.conn = c;
		*a = tmpl;
		tern_tcp_set_callback(c, app_event, a);
		scn_app_pump(a);
		scn_app_read(a);
	}
}

tern_conn *scn_listen(scn_run *r, const tern_conn_opts *opts)
{
	tern_conn_opts o = {0};

	if (opts)
		o = *opts;
	o.on_event = on_accept;
	o.user = r;
	r->listener = tern_tcp_listen(r->stack[SCN_SERVER], SCN_PORT, 16, &o,
				      scn_now(r), NULL);
	return r->listener;
}

tern_conn *scn_connect(scn_run *r, uint16_t client_port, scn_app **app)
{
	tern_endpoint to = {SCN_SERVER_ADDR, SCN_PORT};
	tern_conn_opts o = {.local_port = client_port};
	tern_conn *c = tern_tcp_connect(r->stack[SCN_CLIENT], &to, &o,
					scn_now(r), NULL);
	scn_app *a = c ? scn_app_new(r, SCN_CLIENT, c) : NULL;
	if (app)
		*app = a;
	return c;
}

/* ---- forged segments ---- */

struct forged {
	int host;
	size_t len;
	tern_trace_event ev;
	uint8_t frame[];
};

static void deliver_forged(scn_run *r, void *arg)
{
	struct forged *f = arg;
	scn_event e = {.ev = f->ev, .host = f->host, .injected = true};

	e.ev.t = scn_now(r);
	scn_record(r, &e);
	tern_sim_inject(r->sim, r->port[f->host], f->frame, f->len, scn_now(r));
	free(f);
}

void scn_inject(scn_run *r, int host, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t dport, uint16_t sport, uint32_t len, tern_time t)
{
	uint32_t src = host == SCN_CLIENT ? SCN_SERVER_ADDR : SCN_CLIENT_ADDR;

	scn_inject_from(r, host, src, seq, ack, flags, dport, sport, len, t);
}

void scn_inject_from(scn_run *r, int host, uint32_t src, uint32_t seq,
		     uint32_t ack, uint8_t flags, uint16_t dport,
		     uint16_t sport, uint32_t len, tern_time t)
{
	uint32_t dst = host == SCN_CLIENT ? SCN_CLIENT_ADDR : SCN_SERVER_ADDR;
	size_t total = TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MIN + len;
	struct forged *f = calloc(1, sizeof(*f) + total);
	if (!f)
		return;
	tern_tcp_hdr th = {.sport = sport,
			   .dport = dport,
			   .seq = seq,
			   .ack = ack,
			   .flags = flags,
			   .win = 8192};
	tern_ipv4_hdr ih = {.ttl = SCN_FORGED_TTL,
			    .proto = TERN_IPPROTO_TCP,
			    .src = src,
			    .dst = dst};
	uint8_t *tcp = f->frame + TERN_IPV4_HDR_MIN;
	tern_ipv4_emit(f->frame, TERN_IPV4_HDR_MIN, &ih,
		       TERN_TCP_HDR_MIN + len);
	tern_tcp_emit(tcp, TERN_TCP_HDR_MIN, &th);
	memset(tcp + TERN_TCP_HDR_MIN, 'x', len);
	tern_csum cs;
	tern_csum_init(&cs);
	tern_csum_add_pseudo(&cs, src, dst, TERN_IPPROTO_TCP,
			     (uint16_t)(TERN_TCP_HDR_MIN + len));
	tern_csum_add(&cs, tcp, TERN_TCP_HDR_MIN + len);
	tern_store16(tcp + 16, tern_csum_final(&cs));
	f->host = host;
	f->len = total;
	f->ev = (tern_trace_event){.kind = TERN_TRACE_SEG, .host = "forged"};
	f->ev.seg.tx = true;
	f->ev.seg.src = (tern_endpoint){src, sport};
	f->ev.seg.dst = (tern_endpoint){dst, dport};
	f->ev.seg.flags = flags;
	f->ev.seg.seq = seq;
	f->ev.seg.ack = ack;
	f->ev.seg.len = len;
	f->ev.seg.win = th.win;
	scn_at(r, t, deliver_forged, f);
}
