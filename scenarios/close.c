/* SCENARIOS.md 10-15: the ways a connection ends. */
#include "catalogue.h"

static void client_close(scn_run *r, void *arg)
{
	(void)arg;
	scn_app_close(scn_app_of(r, SCN_CLIENT, 0));
}

static void server_close(scn_run *r, void *arg)
{
	(void)arg;
	scn_app_close(scn_app_of(r, SCN_SERVER, 0));
}

/* handshake, then the client closes at 100 ms; the server's application
 * closes `server_delay` after it reads the end of stream */
static int run_close(scn_run *r, tern_time server_delay)
{
	r->server_tmpl.close_on_eof = true;
	r->server_tmpl.close_delay = server_delay;
	scn_listen(r, NULL);
	if (!scn_connect(r, 0, NULL))
		return TERN_ERR_NOMEM;
	scn_at(r, 100 * TERN_MSEC, client_close, NULL);
	scn_run_until(r, SCN_LIMIT);
	return 0;
}

static int run_active_close(scn_run *r)
{
	run_close(r, 200 * TERN_MSEC);
	snprintf(r->note, sizeof(r->note),
		 "The server's application closes 200 ms after it reads the "
		 "end of stream, so\nits ACK of the FIN leaves alone, after "
		 "the 40 ms delayed-ACK time: four\nsegments. The client waits "
		 "2 MSL = 60 s in TIME_WAIT.");
	return 0;
}

const scn_def scn_active_close = {
	"active-close",
	10,
	"four-way close",
	"RFC 9293 3.6 (figure 12), 3.10.4, 3.10.7.4 (eighth step)",
	10 * TERN_MSEC,
	run_active_close,
	NULL,
};

static int run_close_fin_ack_combined(scn_run *r)
{
	run_close(r, 0);
	snprintf(r->note, sizeof(r->note),
		 "The server's application closes as soon as it reads the end "
		 "of stream, before\nthe delayed ACK is due: the ACK of the "
		 "client's FIN rides on the server's FIN,\nand the client goes "
		 "from FIN_WAIT_1 straight to TIME_WAIT.");
	return 0;
}

const scn_def scn_close_fin_ack_combined = {
	"close-fin-ack-combined",
	11,
	"three-segment close",
	"RFC 9293 3.10.7.4 (eighth step: \"our FIN has been ACKed (perhaps "
	"in this segment)\")",
	10 * TERN_MSEC,
	run_close_fin_ack_combined,
	NULL,
};

static void both_close(scn_run *r, void *arg)
{
	client_close(r, arg);
	server_close(r, arg);
}

static int run_simultaneous_close(scn_run *r)
{
	scn_listen(r, NULL);
	if (!scn_connect(r, 0, NULL))
		return TERN_ERR_NOMEM;
	scn_at(r, 100 * TERN_MSEC, both_close, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(
		r->note, sizeof(r->note),
		"Both FINs cross: each end receives the other's FIN before the "
		"ACK of its own\n(FIN_WAIT_1 -> CLOSING), acknowledges it at "
		"once, and each ACK takes its\nreceiver to TIME_WAIT. Both "
		"ends wait 2 MSL.");
	return 0;
}

const scn_def scn_simultaneous_close = {
	"simultaneous-close",
	12,
	"simultaneous close through CLOSING",
	"RFC 9293 3.6 (figure 13), 3.10.7.4",
	10 * TERN_MSEC,
	run_simultaneous_close,
	NULL,
};

#define HC_REQUEST 100
#define HC_RESPONSE 5000

static int run_half_close(scn_run *r)
{
	scn_app *a;

	r->server_tmpl.to_send = HC_RESPONSE;
	r->server_tmpl.send_on_eof = true;
	r->server_tmpl.close_after_send = true;
	scn_listen(r, NULL);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = HC_REQUEST;
	a->shutdown_after_send = true;
	a->close_on_eof = true;
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "The client sends a %d-byte request and shuts down its "
		 "sending side; in FIN_WAIT_2\nit goes on receiving the "
		 "server's %d-byte answer (read: %zu), which the server\nsends "
		 "from CLOSE_WAIT before it closes.",
		 HC_REQUEST, HC_RESPONSE, a->received);
	return 0;
}

const scn_def scn_half_close = {
	"half-close",
	13,
	"half-close: shutdown(SHUT_WR), then receive",
	"RFC 9293 3.6, 3.10.4 (CLOSE as \"I have no more to send\")",
	10 * TERN_MSEC,
	run_half_close,
	NULL,
};

static int run_time_wait(scn_run *r)
{
	const uint8_t not_pure = TERN_TCP_SYN | TERN_TCP_FIN | TERN_TCP_RST;

	/* (b): the server's data segment is duplicated; the copy wanders
	 * and arrives 370 ms later, when the client is in TIME_WAIT. */
	scn_add_fault(r, &(scn_fault){.host = SCN_SERVER,
				      .with_data = true,
				      .nth = 1,
				      .dup = true,
				      .delay = 360 * TERN_MSEC});
	/* (a): the client's pure ACKs after the server's FIN are lost (its
	 * third and fourth: after the handshake's and the data's), so the
	 * server stays in LAST_ACK and sends its FIN again. */
	for (int nth = 3; nth <= 4; nth++)
		scn_add_fault(r, &(scn_fault){.host = SCN_CLIENT,
					      .no_data = true,
					      .flags_set = TERN_TCP_ACK,
					      .flags_clear = not_pure,
					      .nth = nth});
	r->server_tmpl.to_send = 1000;
	run_close(r, 200 * TERN_MSEC);
	snprintf(
		r->note, sizeof(r->note),
		"(a) The client's last ACK is lost: the server, in LAST_ACK, "
		"sends its FIN again;\n    the client, in TIME_WAIT, "
		"acknowledges it again and restarts its 2 MSL timer.\n"
		"(b) A delayed duplicate of old data arrives during TIME_WAIT: "
		"it is answered with\n    an ACK and absorbed, where a new "
		"connection on the same ports could have\n    taken it for its "
		"own (its ACK is lost too, so (a) still shows).");
	return 0;
}

const scn_def scn_time_wait = {
	"time-wait",
	14,
	"why TIME_WAIT lasts 2 MSL",
	"RFC 9293 3.6.1, 3.10.7.4 (TIME-WAIT), RFC 1337",
	10 * TERN_MSEC,
	run_time_wait,
	NULL,
};

static int run_fin_wait_2_timeout(scn_run *r)
{
	scn_listen(r, NULL);
	if (!scn_connect(r, 0, NULL))
		return TERN_ERR_NOMEM;
	scn_at(r, 100 * TERN_MSEC, client_close, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(
		r->note, sizeof(r->note),
		"The client closed (its connection is an orphan); the server "
		"never closes. After\ntcp_fin_timeout = %d s in FIN_WAIT_2 the "
		"client gives up silently, as Linux does.\nThe server stays "
		"in CLOSE_WAIT until its application closes.",
		tern_stack_settings(r->stack[SCN_CLIENT])->tcp_fin_timeout);
	return 0;
}

const scn_def scn_fin_wait_2_timeout = {
	"fin-wait-2-timeout",
	15,
	"an orphan whose peer never closes",
	"Linux tcp_fin_timeout (RFC 9293 leaves FIN_WAIT_2 unbounded)",
	10 * TERN_MSEC,
	run_fin_wait_2_timeout,
	NULL,
};

#define FW1_RCVBUF 4096
#define FW1_SNDBUF 16384

static int run_fin_wait_1_zero_window(scn_run *r)
{
	scn_app *a;
	tern_conn_opts so = {.rcvbuf = FW1_RCVBUF};

	/* The server never reads: its 4096-byte buffer fills and its window
	 * closes. The client fills its own 16384-byte send buffer behind
	 * that, and closes: its FIN waits behind 16384 bytes that cannot
	 * go. */
	r->server_tmpl.paused = true;
	scn_listen(r, &so);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = FW1_RCVBUF + FW1_SNDBUF;
	a->close_after_send = true;
	scn_run_until(r, SCN_LIMIT);
	const tern_settings *s = tern_stack_settings(r->stack[SCN_CLIENT]);
	snprintf(r->note, sizeof(r->note),
		 "The client closed with %d bytes still unsent: its FIN waits "
		 "behind them in\nFIN_WAIT_1 while it probes the zero window, "
		 "the probes answered, the backoff\ndoubling. tcp_fin_timeout "
		 "(%d s) does not apply to FIN_WAIT_1. Once the "
		 "backoff\nreaches "
		 "its maximum (RTO_MAX = %u s) and tcp_orphan_retries = %d "
		 "probes have gone\n(0: as many as it takes to get there, as "
		 "Linux), the orphan is reset and freed.",
		 FW1_SNDBUF, s->tcp_fin_timeout, s->rto_max_ms / 1000,
		 s->tcp_orphan_retries);
	return 0;
}

const scn_def scn_fin_wait_1_zero_window = {
	"fin-wait-1-zero-window",
	16,
	"an orphan stuck behind a zero window",
	"RFC 9293 3.8.6.1 (probes), Linux tcp_orphan_retries and "
	"tcp_probe_timer",
	10 * TERN_MSEC,
	run_fin_wait_1_zero_window,
	NULL,
};
