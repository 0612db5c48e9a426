/* tern_mem: bytes of memory per connection, read from counting
 * allocators (tern_stack_config.alloc), in the simulator.
 *
 *   tern_mem [--conns N]      (default 10000, at most 1,000,000)
 *
 * Opens N connections between two stacks (60,000 to each of as many
 * server ports as it takes) and measures, per connection:
 * an idle ESTABLISHED connection on each side (no buffers: tern allocates
 * them only while they hold data), the send buffer while data waits for
 * its ACK, the receive buffer while data waits to be read, and a
 * TIME_WAIT record (the client closes first and keeps it). Figures are
 * bytes the stack asked its allocator for; malloc's own overhead (about
 * 8-16 bytes per allocation with glibc) is not in them, so the number of
 * allocations is printed too. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define CONNS_MAX 1000000
#define PER_PORT 60000 /* the client's ports 1024-65535 to one server port */
#define PORTS_MAX ((CONNS_MAX + PER_PORT - 1) / PER_PORT)
#define BUF_CONNS 10000 /* connections that hold data for a while */

typedef struct mem {
	uint64_t n;
	bench_pair p;
	tern_conn *l[PORTS_MAX];
	int nports;
	tern_conn **cli, **srv;
	tern_time vnow;
} mem;

typedef struct snap {
	size_t a_bytes, b_bytes, a_allocs, b_allocs;
} snap;

static snap take(const mem *m)
{
	return (snap){m->p.ca.bytes, m->p.cb.bytes, m->p.ca.allocs,
		      m->p.cb.allocs};
}

static void run_net(mem *m, tern_time dt)
{
	m->vnow += dt;
	tern_sim_run(m->p.sim, m->vnow);
}

static double per(size_t from, size_t to, uint64_t n)
{
	return ((double)to - (double)from) / (double)n;
}

/* Per connection, from one snapshot to the next: bytes, and allocations
 * in parentheses. */
static void report(const char *what, size_t bytes_from, size_t bytes_to,
		   size_t allocs_from, size_t allocs_to, uint64_t n)
{
	printf("  %-44s %9.0f bytes (%.2f allocations)\n", what,
	       per(bytes_from, bytes_to, n), per(allocs_from, allocs_to, n));
}

/* Takes what the listeners have completed. */
static void accept_all(mem *m, uint64_t *got)
{
	int err;

	for (int k = 0; k < m->nports; k++)
		while (*got < m->n &&
		       (m->srv[*got] = tern_tcp_accept(m->l[k], &err)) != NULL)
			(*got)++;
}

static bool open_all(mem *m)
{
	int err = 0;
	uint64_t got = 0;

	for (uint64_t i = 0; i < m->n; i++) {
		tern_endpoint to = {BENCH_ADDR_B,
				    (uint16_t)(80 + i / PER_PORT)};
		m->cli[i] = tern_tcp_connect(m->p.a, &to, NULL, m->vnow, &err);
		if (!m->cli[i]) {
			fprintf(stderr, "tern_mem: connect: %s\n",
				tern_strerror(err));
			return false;
		}
		if ((i & 255) == 255)
			run_net(m, TERN_MSEC);
		accept_all(m, &got);
	}
	for (int k = 0; k < 100 && got < m->n; k++) {
		run_net(m, TERN_MSEC);
		accept_all(m, &got);
	}
	if (got < m->n)
		fprintf(stderr,
			"tern_mem: only %" PRIu64 " of %" PRIu64
			" connections opened\n",
			got, m->n);
	return got == m->n;
}

static int measure(mem *m)
{
	char byte;
	size_t counts[TERN_TCP_STATE_COUNT];

	snap s0 = take(m);
	if (!open_all(m))
		return 1;
	run_net(m, TERN_SEC); /* delayed ACKs out, nothing left to do */
	snap est = take(m);
	printf("tern_mem: %" PRIu64 " connections, bytes per connection "
	       "asked of the allocator (allocations per connection)\n",
	       m->n);
	report("idle ESTABLISHED, client side", s0.a_bytes, est.a_bytes,
	       s0.a_allocs, est.a_allocs, m->n);
	report("idle ESTABLISHED, server side", s0.b_bytes, est.b_bytes,
	       s0.b_allocs, est.b_allocs, m->n);

	/* one byte each way of the client, on up to BUF_CONNS of them: its
	 * send buffer until the ACK, then the server's receive buffer until
	 * read (buffers exist only while they hold data) */
	uint64_t k = m->n < BUF_CONNS ? m->n : BUF_CONNS;
	for (uint64_t i = 0; i < k; i++)
		tern_tcp_send(m->cli[i], "x", 1, m->vnow);
	snap sent = take(m);
	report("+ send buffer holding data (client)", est.a_bytes, sent.a_bytes,
	       est.a_allocs, sent.a_allocs, k);
	run_net(m, TERN_SEC);
	snap recvd = take(m);
	report("+ receive buffer holding data (server)", est.b_bytes,
	       recvd.b_bytes, est.b_allocs, recvd.b_allocs, k);
	for (uint64_t i = 0; i < k; i++)
		tern_tcp_recv(m->srv[i], &byte, 1, m->vnow);
	run_net(m, TERN_SEC);
	/* the client closes first and keeps TIME_WAIT */
	for (uint64_t i = 0; i < m->n; i++)
		tern_tcp_close(m->cli[i], m->vnow);
	run_net(m, TERN_SEC);
	for (uint64_t i = 0; i < m->n; i++)
		tern_tcp_close(m->srv[i], m->vnow);
	run_net(m, TERN_SEC);
	snap tw = take(m);
	tern_stack_state_counts(m->p.a, counts);
	bool all_tw = counts[TERN_TCP_TIME_WAIT] == m->n;
	/* 2 MSL later every record has gone, and its memory with it: what
	 * went is what the records held, hash buckets included (the
	 * connection table stays as large as it grew) */
	run_net(m, 61 * TERN_SEC);
	snap end = take(m);
	report("TIME_WAIT record (client)", end.a_bytes, tw.a_bytes,
	       end.a_allocs, tw.a_allocs, m->n);
	size_t left = tern_stack_conn_count(m->p.a) +
		      tern_stack_conn_count(m->p.b) - (size_t)m->nports;
	double idle_mib = (double)(est.a_bytes + est.b_bytes) / 1048576.0;
	double tw_mib = (double)(tw.a_bytes - end.a_bytes) / 1048576.0;
	printf("  all %" PRIu64 " idle ESTABLISHED: %.1f MiB (both sides); "
	       "all in TIME_WAIT: %.1f MiB of records; after 2 MSL: %zu "
	       "connections left\n",
	       m->n, idle_mib, tw_mib, left);
	printf("RESULT conns=%" PRIu64 " idle_client=%.0f idle_server=%.0f "
	       "sndbuf=%.0f rcvbuf=%.0f time_wait=%.1f idle_mib=%.1f "
	       "time_wait_mib=%.1f\n",
	       m->n, per(s0.a_bytes, est.a_bytes, m->n),
	       per(s0.b_bytes, est.b_bytes, m->n),
	       per(est.a_bytes, sent.a_bytes, k),
	       per(est.b_bytes, recvd.b_bytes, k),
	       per(end.a_bytes, tw.a_bytes, m->n), idle_mib, tw_mib);
	return all_tw && left == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	mem m = {.n = 10000};
	tern_settings set;
	int rc = 1;

	if (argc == 3 && strcmp(argv[1], "--conns") == 0) {
		if (!bench_parse_size(argv[2], 1, CONNS_MAX, &m.n))
			return bench_bad("tern_mem", "--conns", argv[2],
					 "a count from 1 to 1000000"),
			       2;
	} else if (argc != 1) {
		fprintf(stderr, "usage: tern_mem [--conns N]\n");
		return 2;
	}
	tern_settings_default(&set);
	set.ip_local_port_range[0] = 1024;
	set.ip_local_port_range[1] = 65535;
	set.somaxconn = 65535;
	/* every connection may wait in TIME_WAIT, or orphaned for the
	 * peer's FIN, at once */
	set.tcp_max_tw_buckets = set.tcp_max_orphans = (int)m.n + 1;
	m.nports = (int)((m.n + PER_PORT - 1) / PER_PORT);
	m.cli = calloc(m.n, sizeof(*m.cli));
	m.srv = calloc(m.n, sizeof(*m.srv));
	bool ok = m.cli && m.srv && bench_pair_open(&m.p, 1500, &set, false);
	for (int k = 0; ok && k < m.nports; k++)
		ok = (m.l[k] = tern_tcp_listen(m.p.b, (uint16_t)(80 + k), 65535,
					       NULL, 0, NULL)) != NULL;
	if (ok)
		rc = measure(&m);
	bench_pair_close(&m.p);
	free(m.cli);
	free(m.srv);
	return rc;
}
