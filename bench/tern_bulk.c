/* tern_bulk: bulk transfer between two tern stacks in one process, over
 * the simulator's perfect link (no delay, no loss, no rate limit).
 *
 *   tern_bulk (--seconds S | --bytes N) [--mtu N] [--buf N] [--chunk N]
 *             [--offload on|off]
 *
 * The client writes a repeating pattern (--chunk bytes long, also the
 * size of each write and read) as fast as its send buffer takes it, the
 * server reads as fast as it arrives; one thread does both and runs the
 * network in between. --mtu sets the link's MTU (65535 at most: an IPv4
 * packet's largest), --buf both ends' send and receive buffers. Prints
 * the payload rate by the wall clock and a RESULT line for scripts. With
 * --bytes, every byte received is checked against the pattern (a
 * mismatch or a short count exits 1).
 *
 * The network runs on virtual time, one microsecond per round (and on to
 * the next timer when a round moved nothing), so a run of --bytes N is
 * deterministic: the same segments every time, which is what callgrind
 * counts (bench/run.sh: --toggle-collect=bench_rx, the receiving stack's
 * input; see common.h).
 *
 * --offload on: the simulator's ports offload as a TUN device with
 * TSO and checksum offload does (tern_sim_port_set_offload): the sender
 * hands the link 64 KB segments, the receiver takes them whole, and no
 * checksum is computed over the payload at either end. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct bulk_opts {
	uint64_t seconds, bytes;
	uint64_t mtu, buf, chunk;
	bool offload;
} bulk_opts;

static bool parse(int argc, char **argv, bulk_opts *o)
{
	const char *me = "tern_bulk";

	*o = (bulk_opts){.mtu = 65535, .buf = 128 << 10, .chunk = 64 << 10};
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = argv[i + 1];
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", me, opt);
			return false;
		}
		i++;
		if (!strcmp(opt, "--seconds")) {
			if (!bench_parse_size(val, 1, 3600, &o->seconds))
				return bench_bad(me, opt, val,
						 "a number of seconds from 1 "
						 "to 3600");
		} else if (!strcmp(opt, "--bytes")) {
			if (!bench_parse_size(val, 1, 1ull << 40, &o->bytes))
				return bench_bad(me, opt, val,
						 "a byte count (20M, 64Ki)");
		} else if (!strcmp(opt, "--mtu")) {
			if (!bench_parse_size(val, 576, 65535, &o->mtu))
				return bench_bad(me, opt, val,
						 "an MTU from 576 to 65535");
		} else if (!strcmp(opt, "--buf")) {
			if (!bench_parse_size(val, 4096, 1 << 30, &o->buf))
				return bench_bad(me, opt, val,
						 "a buffer size from 4096");
		} else if (!strcmp(opt, "--offload")) {
			if (strcmp(val, "on") && strcmp(val, "off"))
				return bench_bad(me, opt, val, "on or off");
			o->offload = !strcmp(val, "on");
		} else if (!strcmp(opt, "--chunk")) {
			if (!bench_parse_size(val, 1, 64 << 20, &o->chunk))
				return bench_bad(me, opt, val,
						 "a size from 1 to 64Mi");
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", me, opt);
			return false;
		}
	}
	if (!o->seconds == !o->bytes) {
		fprintf(stderr,
			"usage: %s (--seconds S | --bytes N) [--mtu N] "
			"[--buf N] [--chunk N] [--offload on|off]\n",
			me);
		return false;
	}
	return true;
}

typedef struct bulk {
	bulk_opts o;
	bench_pair p;
	tern_conn *c, *s; /* client (sender), server (receiver) */
	uint8_t *pattern, *sink;
	uint64_t sent, received;
	bool corrupt;
	tern_time vnow;
} bulk;

static tern_time earliest(tern_stack *a, tern_stack *b)
{
	tern_time x = tern_stack_next_deadline(a);
	tern_time y = tern_stack_next_deadline(b);

	return x < y ? x : y;
}

/* Connects the client to the server (port 5001) and accepts. */
static bool connect_pair(bulk *k)
{
	tern_conn_opts co = {.sndbuf = (uint32_t)k->o.buf,
			     .rcvbuf = (uint32_t)k->o.buf};
	int err = 0;
	tern_conn *l = tern_tcp_listen(k->p.b, 5001, 16, &co, k->vnow, &err);

	k->c = l ? tern_tcp_connect(k->p.a,
				    &(tern_endpoint){BENCH_ADDR_B, 5001}, &co,
				    k->vnow, &err)
		 : NULL;
	for (int i = 0; k->c && i < 100 && !k->s; i++) {
		k->vnow += TERN_MSEC;
		tern_sim_run(k->p.sim, k->vnow);
		k->s = tern_tcp_accept(l, &err);
	}
	if (l)
		tern_tcp_close(l, k->vnow);
	if (!k->s) {
		fprintf(stderr, "tern_bulk: the connection did not open: %s\n",
			tern_strerror(err));
		return false;
	}
	return true;
}

/* One round: write what the send buffer takes, run the network, read
 * what arrived. Returns whether anything moved. */
/* --bytes: byte i of the stream must be pattern[i % chunk]. */
static void check(bulk *k, size_t n)
{
	uint64_t at = k->received;

	for (size_t i = 0; i < n && !k->corrupt;) {
		size_t off = (size_t)(at % k->o.chunk), m = k->o.chunk - off;
		if (m > n - i)
			m = n - i;
		k->corrupt = memcmp(k->sink + i, k->pattern + off, m) != 0;
		i += m;
		at += m;
	}
}

static bool round_trip(bulk *k, bool sending)
{
	ptrdiff_t n;
	bool moved = false;

	while (sending) {
		size_t off = (size_t)(k->sent % k->o.chunk);
		size_t want = k->o.chunk - off;
		if (k->o.bytes && k->o.bytes - k->sent < want)
			want = (size_t)(k->o.bytes - k->sent);
		if (want == 0 || (n = tern_tcp_send(k->c, k->pattern + off,
						    want, k->vnow)) <= 0)
			break;
		k->sent += (uint64_t)n;
		moved = true;
	}
	tern_sim_run(k->p.sim, k->vnow);
	while ((n = tern_tcp_recv(k->s, k->sink, k->o.chunk, k->vnow)) > 0) {
		if (k->o.bytes)
			check(k, (size_t)n);
		k->received += (uint64_t)n;
		moved = true;
	}
	return moved;
}

static void advance(bulk *k, bool moved)
{
	k->vnow += TERN_USEC;
	if (!moved) {
		tern_time d = earliest(k->p.a, k->p.b);
		if (d != TERN_TIME_NONE && d > k->vnow)
			k->vnow = d;
	}
}

static uint64_t transfer(bulk *k)
{
	uint64_t t0 = bench_wall(), end = t0 + k->o.seconds * 1000000000u;
	unsigned idle = 0;

	for (uint64_t rounds = 0;; rounds++) {
		bool moved = round_trip(k, true);
		advance(k, moved);
		idle = moved ? 0 : idle + 1;
		if (k->o.bytes && k->received >= k->o.bytes)
			break;
		if (k->o.seconds && (rounds & 15) == 0 && bench_wall() >= end)
			break;
		if (idle > 1000) {
			fprintf(stderr, "tern_bulk: the transfer stalled\n");
			break;
		}
	}
	return bench_wall() - t0;
}

/* Both sides close; the network runs until they are done. */
static void finish(bulk *k)
{
	tern_tcp_close(k->c, k->vnow);
	for (int i = 0; i < 1000; i++) {
		if (tern_tcp_recv(k->s, k->sink, k->o.chunk, k->vnow) == 0)
			break;
		k->vnow += TERN_MSEC;
		tern_sim_run(k->p.sim, k->vnow);
	}
	tern_tcp_close(k->s, k->vnow);
	tern_sim_run(k->p.sim, k->vnow + 200 * TERN_SEC);
}

static int run(bulk *k)
{
	tern_settings set;
	tern_tcp_info info;

	tern_settings_default(&set);
	set.tcp_wmem[2] = set.tcp_rmem[2] = (int)k->o.buf;
	/* min <= default <= max (tern_settings_check), whatever --buf is */
	for (int i = 0; i < 2; i++) {
		if (set.tcp_wmem[i] > set.tcp_wmem[2])
			set.tcp_wmem[i] = set.tcp_wmem[2];
		if (set.tcp_rmem[i] > set.tcp_rmem[2])
			set.tcp_rmem[i] = set.tcp_rmem[2];
	}
	if (!bench_pair_open(&k->p, (uint32_t)k->o.mtu, &set, k->o.offload) ||
	    !connect_pair(k))
		return 1;
	tern_tcp_info_get(k->c, &info);
	k->p.tap.mss = info.mss;

	uint64_t ns = transfer(k);
	finish(k);
	if (k->corrupt || (k->o.bytes && k->received != k->o.bytes)) {
		fprintf(stderr,
			"tern_bulk: %" PRIu64
			" bytes arrived%s, not the %" PRIu64 " sent\n",
			k->received, k->corrupt ? " with wrong bytes" : "",
			k->o.bytes);
		return 1;
	}
	double secs = (double)ns / 1e9;
	double gbps = (double)k->received * 8 / secs / 1e9;
	printf("tern_bulk: %" PRIu64 " bytes in %.2f s: %.2f Gbit/s "
	       "(mtu %" PRIu64 "%s, mss %u, buffers %" PRIu64 ", %" PRIu64
	       " frames with data, %" PRIu64 " full-sized segments' worth)\n",
	       k->received, secs, gbps, k->o.mtu,
	       k->o.offload ? " with offloads" : "", info.mss, k->o.buf,
	       k->p.tap.segs, k->p.tap.full_segs);
	printf("RESULT gbps=%.3f bytes=%" PRIu64 " seconds=%.3f segs=%" PRIu64
	       " full_segs=%" PRIu64 " mss=%u\n",
	       gbps, k->received, secs, k->p.tap.segs, k->p.tap.full_segs,
	       info.mss);
	return 0;
}

int main(int argc, char **argv)
{
	bulk *k = calloc(1, sizeof(*k));
	int rc = 2;

	if (!k)
		return 1;
	bench_malloc_tune();
	if (parse(argc, argv, &k->o)) {
		k->pattern = malloc(k->o.chunk);
		k->sink = malloc(k->o.chunk);
		if (k->pattern && k->sink) {
			for (size_t i = 0; i < k->o.chunk; i++)
				k->pattern[i] = (uint8_t)(i * 7 + 1);
			rc = run(k);
		} else {
			rc = 1;
		}
	}
	bench_pair_close(&k->p);
	free(k->pattern);
	free(k->sink);
	free(k);
	return rc;
}
