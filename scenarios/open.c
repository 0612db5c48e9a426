/* SCENARIOS.md 1-6: opening a connection, and the ways it fails. */
#include "catalogue.h"

static int run_handshake(scn_run *r)
{
	scn_listen(r, NULL);
	scn_connect(r, 0, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "Three segments synchronize both sequence numbers: each SYN "
		 "takes one,\nso the ACKs are J+1 and K+1. Both SYNs carry "
		 "MSS = 1500 - 40 = 1460.");
	return 0;
}

const scn_def scn_handshake = {
	"handshake",
	1,
	"three-way handshake",
	"RFC 9293 3.5 (figure 6), 3.10.7.2, 3.10.7.3",
	10 * TERN_MSEC,
	run_handshake,
	NULL,
};

static int run_simultaneous_open(scn_run *r)
{
	tern_endpoint to_server = {SCN_SERVER_ADDR, SCN_PORT};
	tern_endpoint to_client = {SCN_CLIENT_ADDR, 5000};
	tern_conn_opts oc = {.local_port = 5000};
	tern_conn_opts os = {.local_port = SCN_PORT};

	tern_conn *c = tern_tcp_connect(r->stack[SCN_CLIENT], &to_server, &oc,
					0, NULL);
	tern_conn *s = tern_tcp_connect(r->stack[SCN_SERVER], &to_client, &os,
					0, NULL);
	if (!c || !s)
		return TERN_ERR_NOMEM;
	scn_app_new(r, SCN_CLIENT, c);
	scn_app_new(r, SCN_SERVER, s);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "Each end gets the other's SYN while in SYN_SENT, moves to "
		 "SYN_RECEIVED and\nsends SYN+ACK with its own ISN again; each "
		 "SYN+ACK acknowledges a SYN, so\nfour segments suffice and "
		 "neither end was ever in LISTEN.");
	return 0;
}

const scn_def scn_simultaneous_open = {
	"simultaneous-open",
	2,
	"simultaneous open",
	"RFC 9293 3.5 (figure 7), 3.10.7.3",
	10 * TERN_MSEC,
	run_simultaneous_open,
	NULL,
};

static int run_rst_closed_port(scn_run *r)
{
	scn_app *a;

	scn_connect(r, 0, &a);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "No listener on port %d: the SYN draws <SEQ=0><ACK=J+1>"
		 "<CTL=RST,ACK>, and\nconnect() reports: %s.",
		 SCN_PORT, tern_strerror(a ? a->error : 0));
	return 0;
}

const scn_def scn_rst_closed_port = {
	"rst-closed-port",
	3,
	"SYN to a closed port",
	"RFC 9293 3.10.7.1, 3.10.7.3",
	10 * TERN_MSEC,
	run_rst_closed_port,
	NULL,
};

static int run_syn_timeout(scn_run *r)
{
	scn_app *a;

	/* the server is gone: nothing the client sends arrives */
	scn_add_fault(r, &(scn_fault){.host = SCN_CLIENT, .nth = 0});
	scn_connect(r, 0, &a);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "The SYN is sent again after 1, 2, 4, 8, 16 and 32 s "
		 "(tcp_syn_retries = %d);\n64 s after the last one the client "
		 "gives up: %s, 127 s in all.",
		 tern_stack_settings(r->stack[SCN_CLIENT])->tcp_syn_retries,
		 tern_strerror(a ? a->error : 0));
	return 0;
}

const scn_def scn_syn_timeout = {
	"syn-timeout",
	4,
	"the SYN is never answered",
	"RFC 9293 3.8.1, RFC 6298 5.5, Linux tcp_syn_retries",
	10 * TERN_MSEC,
	run_syn_timeout,
	NULL,
};

static int run_synack_timeout(scn_run *r)
{
	/* the client's SYN gets through; nothing after it does */
	scn_add_fault(
		r, &(scn_fault){.host = SCN_CLIENT, .flags_set = TERN_TCP_ACK});
	scn_listen(r, NULL);
	scn_connect(r, 0, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "The server sends SYN+ACK again after 1, 2, 4, 8 and 16 s "
		 "(tcp_synack_retries = %d),\nthen drops the half-open "
		 "connection at 63 s; the listener stays in LISTEN.\nThe "
		 "client, ESTABLISHED, answers each retransmission with an ACK "
		 "that is lost.",
		 tern_stack_settings(r->stack[SCN_SERVER])->tcp_synack_retries);
	return 0;
}

const scn_def scn_synack_timeout = {
	"synack-timeout",
	5,
	"the client's final ACK never arrives",
	"RFC 9293 3.8.1, Linux tcp_synack_retries",
	10 * TERN_MSEC,
	run_synack_timeout,
	NULL,
};

static void client_abort(scn_run *r, void *arg)
{
	(void)arg;
	scn_app_abort(scn_app_of(r, SCN_CLIENT, 0));
}

static int run_rst_syn_received(scn_run *r)
{
	scn_listen(r, NULL);
	scn_connect(r, 0, NULL);
	/* The client forgets the connection before the SYN+ACK arrives (a
	 * crash, say): the SYN+ACK finds no connection and draws a RST whose
	 * sequence number, SEG.ACK = J+1, is exactly what the server
	 * expects. */
	scn_at(r, 5 * TERN_MSEC, client_abort, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "The RST is acceptable (SEQ = RCV.NXT = J+1): the half-open "
		 "connection is removed\n(RFC 9293: \"return this connection "
		 "to LISTEN\"); the listener itself never left LISTEN.");
	return 0;
}

const scn_def scn_rst_syn_received = {
	"rst-syn-received",
	6,
	"RST for a half-open passive connection",
	"RFC 9293 3.10.7.1, 3.10.7.4 (second check), RFC 5961 3.2",
	10 * TERN_MSEC,
	run_rst_syn_received,
	NULL,
};
