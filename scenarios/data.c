/* SCENARIOS.md 7-9: data, over a clean link, a faulty one, and into a
 * receiver that stops reading. */
#include "catalogue.h"

/* What the server's application read (0 if it never accepted). */
static size_t server_read(scn_run *r)
{
	scn_app *a = scn_app_of(r, SCN_SERVER, 0);
	return a ? a->received : 0;
}

#define DATA_BYTES 3000

static int run_data_transfer(scn_run *r)
{
	scn_app *a;

	r->server_tmpl.to_send = DATA_BYTES;
	scn_listen(r, NULL);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = DATA_BYTES;
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "Each side sends %d bytes: two full 1460-byte segments, and "
		 "the last 80 bytes once\nthe first are acknowledged (Nagle). "
		 "seq grows by the payload length; ack is the\nnext byte "
		 "expected. Read: client %zu, server %zu bytes.",
		 DATA_BYTES, a->received, server_read(r));
	return 0;
}

const scn_def scn_data_transfer = {
	"data-transfer",
	7,
	"data both ways",
	"RFC 9293 3.4, 3.8.6.2.1 (Nagle), 3.8.6.3 (delayed ACK)",
	10 * TERN_MSEC,
	run_data_transfer,
	NULL,
};

#define LOSSY_BYTES 20000

static int run_lossy_transfer(scn_run *r)
{
	scn_app *a;
	const uint8_t pure = TERN_TCP_SYN | TERN_TCP_FIN | TERN_TCP_RST;

	/* Scripted faults, so that the run shows each repair once: a data
	 * segment lost, one duplicated, one overtaken, an ACK lost. With
	 * --loss, random loss comes on top. */
	scn_add_fault(
		r,
		&(scn_fault){.host = SCN_CLIENT, .with_data = true, .nth = 3});
	scn_add_fault(r, &(scn_fault){.host = SCN_CLIENT,
				      .with_data = true,
				      .nth = 7,
				      .dup = true,
				      .delay = 1 * TERN_MSEC});
	scn_add_fault(r, &(scn_fault){.host = SCN_CLIENT,
				      .with_data = true,
				      .nth = 9,
				      .delay = 5 * TERN_MSEC});
	scn_add_fault(r, &(scn_fault){.host = SCN_SERVER,
				      .no_data = true,
				      .flags_set = TERN_TCP_ACK,
				      .flags_clear = pure,
				      .nth = 6});
	r->server_tmpl.close_on_eof = true;
	scn_listen(r, NULL);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = LOSSY_BYTES;
	a->close_after_send = true;
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "%d bytes sent; the server read %zu, in order and intact: %s.",
		 LOSSY_BYTES, server_read(r),
		 server_read(r) == LOSSY_BYTES ? "yes" : "NO");
	return 0;
}

const scn_def scn_lossy_transfer = {
	"lossy-transfer",
	8,
	"data over a link that loses, duplicates, "
	"reorders",
	"RFC 6298 (RTO, Karn), RFC 5681 3.2 (fast retransmit), RFC 9293 "
	"3.10.7.4 (reassembly)",
	10 * TERN_MSEC,
	run_lossy_transfer,
	NULL,
};

#define ZW_BYTES 10000
#define ZW_RCVBUF 4096

static void resume_reading(scn_run *r, void *arg)
{
	scn_app *a = scn_app_of(r, SCN_SERVER, 0);
	(void)arg;
	if (!a)
		return; /* under --loss the server may not have accepted */
	a->paused = false;
	scn_app_read(a);
}

static int run_zero_window(scn_run *r)
{
	scn_app *a;
	tern_conn_opts o = {.rcvbuf = ZW_RCVBUF};

	r->server_tmpl.paused = true;
	scn_listen(r, &o);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = ZW_BYTES;
	scn_at(r, 2 * TERN_SEC, resume_reading, NULL);
	scn_run_until(r, SCN_LIMIT);
	snprintf(r->note, sizeof(r->note),
		 "The server's application does not read; its %d-byte buffer "
		 "fills and it\nadvertises a zero window. The client probes it "
		 "with one byte at growing\nintervals (persist timer, backoff) "
		 "until the application reads at 2 s and\nthe window opens. "
		 "Server read %zu of %d bytes.",
		 ZW_RCVBUF, server_read(r), ZW_BYTES);
	return 0;
}

const scn_def scn_zero_window = {
	"zero-window",
	9,
	"a receiver that stops reading",
	"RFC 9293 3.8.6.1 (zero-window probes), 3.8.6.2.2 (receiver SWS)",
	10 * TERN_MSEC,
	run_zero_window,
	NULL,
};
