/* tern_connrate: connections per second between two tern stacks in one
 * process, over the simulator's perfect link.
 *
 *   tern_connrate --seconds S [--conc N] [--ports N]   (256, 200)
 *
 * The client keeps --conc connections in flight. Each one: connect, send
 * one byte, shut down its sending side, wait for the server's FIN, close
 * (the client ends in TIME_WAIT, as an active closer does). The server
 * accepts, reads the byte and the end of stream, and closes. A
 * connection counts when the client has seen the server's FIN. The
 * server listens on --ports ports (5001 up) and the client's ephemeral
 * ports span 1024-65535, so that TIME_WAIT (60 s, on a virtual clock
 * that follows the wall clock here) does not run the 4-tuples out; the
 * Linux run (linux_connrate) does the same. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct rate {
	uint64_t seconds, conc, ports;
	bench_pair p;
	tern_conn **listeners;
	tern_time vnow;
	uint64_t inflight, completed, failed, refused_local;
	uint64_t next_port;
} rate;

static void client_event(tern_conn *c, unsigned ev, void *user, tern_time now)
{
	rate *r = user;
	char buf[16];

	if (ev & TERN_EV_ERROR) {
		r->failed++;
		r->inflight--;
		tern_tcp_abort(c, now);
		return;
	}
	if (ev & TERN_EV_CONNECTED) {
		tern_tcp_send(c, "x", 1, now);
		tern_tcp_shutdown(c, TERN_SHUT_WR, now);
	}
	if ((ev & TERN_EV_READABLE) &&
	    tern_tcp_recv(c, buf, sizeof(buf), now) == 0) {
		r->completed++;
		r->inflight--;
		tern_tcp_close(c, now);
	}
}

/* Reads the byte and the end of stream; closes at the end. */
static void server_event(tern_conn *c, unsigned ev, void *user, tern_time now)
{
	char buf[16];
	ptrdiff_t n;

	(void)user;
	if (ev & TERN_EV_ERROR) {
		tern_tcp_abort(c, now);
		return;
	}
	if (!(ev & TERN_EV_READABLE))
		return;
	while ((n = tern_tcp_recv(c, buf, sizeof(buf), now)) > 0)
		;
	if (n != TERN_ERR_AGAIN)
		tern_tcp_close(c, now);
}

static void listener_event(tern_conn *l, unsigned ev, void *user, tern_time now)
{
	tern_conn *c;
	int err;

	if (!(ev & TERN_EV_ACCEPT))
		return;
	while ((c = tern_tcp_accept(l, &err)) != NULL) {
		tern_tcp_set_callback(c, server_event, user);
		/* what arrived before accept() */
		unsigned pending = tern_tcp_events(c);
		if (pending & (TERN_EV_READABLE | TERN_EV_ERROR))
			server_event(c, pending, user, now);
	}
}

static bool open_one(rate *r)
{
	uint16_t port = (uint16_t)(5001 + r->next_port++ % r->ports);
	tern_conn_opts co = {.on_event = client_event, .user = r};
	int err = 0;

	if (!tern_tcp_connect(r->p.a, &(tern_endpoint){BENCH_ADDR_B, port}, &co,
			      r->vnow, &err)) {
		r->refused_local++;
		return false;
	}
	r->inflight++;
	return true;
}

static bool setup(rate *r)
{
	tern_settings set;
	tern_conn_opts lo = {.on_event = listener_event, .user = r};

	tern_settings_default(&set);
	set.ip_local_port_range[0] = 1024;
	set.ip_local_port_range[1] = 65535;
	set.somaxconn = 65535;
	if (!bench_pair_open(&r->p, 1500, &set, false))
		return false;
	r->listeners = calloc(r->ports, sizeof(*r->listeners));
	for (uint64_t i = 0; r->listeners && i < r->ports; i++) {
		r->listeners[i] = tern_tcp_listen(r->p.b, (uint16_t)(5001 + i),
						  4096, &lo, 0, NULL);
		if (!r->listeners[i])
			return false;
	}
	return r->listeners != NULL;
}

static int run(rate *r)
{
	if (!setup(r)) {
		fprintf(stderr, "tern_connrate: setup failed\n");
		return 1;
	}
	uint64_t t0 = bench_wall(), end = t0 + r->seconds * 1000000000u;
	uint64_t now = t0;

	while (now < end) {
		while (r->inflight < r->conc && open_one(r))
			;
		tern_sim_run(r->p.sim, r->vnow);
		now = bench_wall();
		r->vnow = now - t0 > r->vnow ? now - t0 : r->vnow + 1;
	}
	double secs = (double)(now - t0) / 1e9;
	size_t counts[TERN_TCP_STATE_COUNT];
	tern_stack_state_counts(r->p.a, counts);
	printf("tern_connrate: %" PRIu64 " connections in %.2f s: %.0f/s "
	       "(%" PRIu64 " in flight at a time, %" PRIu64
	       " server ports, %" PRIu64 " failed, %" PRIu64
	       " connects refused locally, %zu in TIME_WAIT at the end)\n",
	       r->completed, secs, (double)r->completed / secs, r->conc,
	       r->ports, r->failed, r->refused_local,
	       counts[TERN_TCP_TIME_WAIT]);
	printf("RESULT cps=%.0f completed=%" PRIu64
	       " seconds=%.3f failed=%" PRIu64 "\n",
	       (double)r->completed / secs, r->completed, secs, r->failed);
	return 0;
}

static bool parse(int argc, char **argv, rate *r)
{
	const char *me = "tern_connrate";

	r->conc = 256;
	r->ports = 200;
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", me, opt);
			return false;
		}
		if (!strcmp(opt, "--seconds")) {
			if (!bench_parse_size(val, 1, 3600, &r->seconds))
				return bench_bad(me, opt, val,
						 "a number of seconds from 1 "
						 "to 3600");
		} else if (!strcmp(opt, "--conc")) {
			if (!bench_parse_size(val, 1, 100000, &r->conc))
				return bench_bad(me, opt, val,
						 "a count from 1 to 100000");
		} else if (!strcmp(opt, "--ports")) {
			if (!bench_parse_size(val, 1, 1000, &r->ports))
				return bench_bad(me, opt, val,
						 "a count from 1 to 1000");
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", me, opt);
			return false;
		}
	}
	if (!r->seconds) {
		fprintf(stderr,
			"usage: %s --seconds S [--conc N] [--ports N]\n", me);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	rate *r = calloc(1, sizeof(*r));
	int rc = 2;

	if (!r)
		return 1;
	bench_malloc_tune();
	if (parse(argc, argv, r))
		rc = run(r);
	bench_pair_close(&r->p);
	free(r->listeners);
	free(r);
	return rc;
}
