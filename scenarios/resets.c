/* SCENARIOS.md 17-20: resets, bad acknowledgments, aborts, keepalive. */
#include "catalogue.h"

#define CLIENT_PORT 40000

static tern_tcp_info info_of(scn_app *a)
{
	tern_tcp_info i = {0};
	if (a && a->conn)
		tern_tcp_info_get(a->conn, &i);
	return i;
}

tern_tcp_info scn_client_info(scn_run *r)
{
	return info_of(scn_app_of(r, SCN_CLIENT, 0));
}

tern_tcp_info scn_server_info(scn_run *r)
{
	return info_of(scn_app_of(r, SCN_SERVER, 0));
}

/* Forged segments "from the client" to the server and back. */
static void to_server(scn_run *r, uint32_t seq, uint32_t ack, uint8_t flags,
		      uint16_t dport)
{
	scn_inject(r, SCN_SERVER, seq, ack, flags, dport, CLIENT_PORT, 0,
		   scn_now(r));
}

static void to_client(scn_run *r, uint32_t seq, uint32_t ack, uint8_t flags)
{
	scn_inject(r, SCN_CLIENT, seq, ack, flags, CLIENT_PORT, SCN_PORT, 0,
		   scn_now(r));
}

static void connect_fixed(scn_run *r, void *arg)
{
	(void)arg;
	scn_connect(r, CLIENT_PORT, NULL);
}

/* ---- 17 ---- */

static void rst_step(scn_run *r, void *arg)
{
	int step = (int)(intptr_t)arg;
	tern_tcp_info c = scn_client_info(r);

	switch (step) {
	case 0: /* LISTEN: a RST is ignored */
		to_server(r, 1000, 0, TERN_TCP_RST, SCN_PORT);
		break;
	case 1: /* SYN_SENT: a RST without ACK does not count */
		to_client(r, 5000, 0, TERN_TCP_RST);
		break;
	case 2: /* SYN_SENT: nor one whose ACK is not of our SYN */
		to_client(r, 5000, c.snd_nxt + 100,
			  TERN_TCP_RST | TERN_TCP_ACK);
		break;
	case 3: /* in the window, not at RCV.NXT: challenge ACK */
		to_server(r, c.snd_nxt + 1000, 0, TERN_TCP_RST, SCN_PORT);
		break;
	case 4: /* outside the window: dropped */
		to_server(r, c.snd_nxt + 100000, 0, TERN_TCP_RST, SCN_PORT);
		break;
	case 5: /* exactly RCV.NXT: reset */
		to_server(r, c.snd_nxt, 0, TERN_TCP_RST, SCN_PORT);
		break;
	}
}

static void client_hello(scn_run *r, void *arg)
{
	(void)arg;
	scn_app *a = scn_app_of(r, SCN_CLIENT, 0);
	if (a && !a->closed)
		tern_tcp_send(a->conn, "hello", 5, scn_now(r));
}

static int client_error(scn_run *r)
{
	scn_app *a = scn_app_of(r, SCN_CLIENT, 0);
	return a ? a->error : 0;
}

static int run_rst_in_window(scn_run *r)
{
	static const tern_time at[] = {5, 12, 14, 100, 200, 300};

	scn_listen(r, NULL);
	scn_at(r, 10 * TERN_MSEC, connect_fixed, NULL);
	for (int i = 0; i < 6; i++)
		scn_at(r, at[i] * TERN_MSEC, rst_step, (void *)(intptr_t)i);
	scn_at(r, 400 * TERN_MSEC, client_hello, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "Forged RSTs: in LISTEN ignored; in SYN_SENT taken only with "
		 "an "
		 "ACK of the SYN;\nthen, on the established server: in the "
		 "window but not at RCV.NXT, a challenge\nACK (RFC 5961 3.2); "
		 "outside the window, dropped; at RCV.NXT, reset. The client\n"
		 "learns of it when it next sends: the RST it draws reports "
		 "\"%s\".",
		 tern_strerror(client_error(r)));
	return 0;
}

const scn_def scn_rst_in_window = {
	"rst-in-window",
	17,
	"RST processing and blind-reset defence",
	"RFC 9293 3.10.7.2-4 (second check), RFC 5961 3.2",
	10 * TERN_MSEC,
	run_rst_in_window,
	NULL,
};

/* ---- 18 ---- */

static void bad_ack_step(scn_run *r, void *arg)
{
	int step = (int)(intptr_t)arg;
	tern_tcp_info c = scn_client_info(r);
	tern_tcp_info s = scn_server_info(r);

	switch (step) {
	case 0: /* LISTEN: any ACK draws <SEQ=SEG.ACK><CTL=RST> */
		to_server(r, 777, 12345, TERN_TCP_ACK, SCN_PORT);
		break;
	case 1: /* SYN_SENT: SEG.ACK =< ISS: the same */
		to_client(r, 5000, c.iss, TERN_TCP_SYN | TERN_TCP_ACK);
		break;
	case 2: /* ESTABLISHED: ACK of data never sent: ACK, drop */
		to_server(r, c.snd_nxt, s.snd_nxt + 10000, TERN_TCP_ACK,
			  SCN_PORT);
		break;
	case 3: /* no connection: RST */
		to_server(r, 3000, 0, TERN_TCP_SYN, SCN_PORT + 1);
		break;
	case 4: /* no connection, and a RST: nothing */
		to_server(r, 3000, 0, TERN_TCP_RST, SCN_PORT + 1);
		break;
	}
}

static int run_bad_ack(scn_run *r)
{
	static const tern_time at[] = {5, 12, 100, 200, 300};

	scn_listen(r, NULL);
	scn_at(r, 10 * TERN_MSEC, connect_fixed, NULL);
	for (int i = 0; i < 5; i++)
		scn_at(r, at[i] * TERN_MSEC, bad_ack_step, (void *)(intptr_t)i);
	scn_run_until(r, SCN_LIMIT);
	snprintf(
		r->note, sizeof(r->note),
		"An ACK of something never sent: on a listener and in "
		"SYN_SENT it draws\n<SEQ=SEG.ACK><CTL=RST>; on an established "
		"connection an ACK, and the segment\nis dropped. A segment for "
		"no connection draws a RST, unless it is a RST.");
	return 0;
}

const scn_def scn_bad_ack = {
	"bad-ack",
	18,
	"acknowledgments of data never sent",
	"RFC 9293 3.10.7.1-4 (fifth check), RFC 5961 5.2",
	10 * TERN_MSEC,
	run_bad_ack,
	NULL,
};

/* ---- 19 ---- */

static void abort_step(scn_run *r, void *arg)
{
	int step = (int)(intptr_t)arg;

	switch (step) {
	case 0: /* the server closes with 1000 unread bytes */
		scn_app_close(scn_app_of(r, SCN_SERVER, 0));
		break;
	case 1:
		scn_connect(r, CLIENT_PORT + 1, NULL);
		break;
	case 2: /* the client aborts its second connection */
		scn_app_abort(scn_app_of(r, SCN_CLIENT, 1));
		break;
	}
}

static int run_abort(scn_run *r)
{
	scn_app *a;

	r->server_tmpl.paused = true;
	scn_listen(r, NULL);
	scn_connect(r, CLIENT_PORT, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = 1000;
	scn_at(r, 500 * TERN_MSEC, abort_step, (void *)0);
	scn_at(r, 1000 * TERN_MSEC, abort_step, (void *)1);
	scn_at(r, 1500 * TERN_MSEC, abort_step, (void *)2);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "First connection: the server's application closes without "
		 "reading 1000 bytes:\nthat data is lost, so a RST says so "
		 "(RFC 2525 2.17, as Linux), not a FIN; the\nclient reports "
		 "\"%s\". Second connection: the client aborts, sending RST.",
		 tern_strerror(a->error));
	return 0;
}

const scn_def scn_abort = {
	"abort",
	19,
	"close() with unread data, and abort()",
	"RFC 9293 3.10.5 (ABORT), RFC 2525 2.17, RFC 1122 4.2.2.13",
	10 * TERN_MSEC,
	run_abort,
	NULL,
};

/* ---- 20 ---- */

static int run_keepalive_dead_peer(scn_run *r)
{
	scn_app *a;

	/* after its SYN+ACK, nothing the server sends arrives */
	scn_add_fault(r, &(scn_fault){.host = SCN_SERVER,
				      .flags_set = TERN_TCP_ACK,
				      .flags_clear = TERN_TCP_SYN});
	scn_listen(r, NULL);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	tern_tcp_set_keepalive(a->conn, true, 0);
	scn_run_until(r, SCN_LIMIT);
	const tern_settings *s = tern_stack_settings(r->stack[SCN_CLIENT]);
	snprintf(r->note, sizeof(r->note),
		 "Idle for tcp_keepalive_time = %d s, the client probes every "
		 "tcp_keepalive_intvl = %d s;\nthe answers are lost. After "
		 "tcp_keepalive_probes = %d unanswered probes it resets\nthe "
		 "connection: \"%s\".",
		 s->tcp_keepalive_time, s->tcp_keepalive_intvl,
		 s->tcp_keepalive_probes, tern_strerror(a->error));
	return 0;
}

const scn_def scn_keepalive_dead_peer = {
	"keepalive-dead-peer",
	20,
	"keepalive finds a dead peer",
	"RFC 9293 3.8.4, RFC 1122 4.2.3.6, Linux tcp_keepalive_*",
	10 * TERN_MSEC,
	run_keepalive_dead_peer,
	NULL,
};
