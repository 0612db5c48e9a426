#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

void bench_malloc_tune(void)
{
	const char *how = getenv("BENCH_MALLOC");

	if (how && strcmp(how, "glibc") == 0)
		return;
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

uint64_t bench_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *count_alloc(void *ctx, size_t size)
{
	bench_counter *c = ctx;
	void *p = malloc(size);

	if (p) {
		c->bytes += size;
		c->allocs++;
		if (c->bytes > c->peak)
			c->peak = c->bytes;
	}
	return p;
}

static void count_free(void *ctx, void *ptr, size_t size)
{
	bench_counter *c = ctx;

	if (!ptr)
		return;
	c->bytes -= size;
	c->allocs--;
	free(ptr);
}

void bench_counter_init(bench_counter *c, tern_allocator *out)
{
	memset(c, 0, sizeof(*c));
	out->alloc = count_alloc;
	out->free = count_free;
	out->ctx = c;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Payload bytes of a TCP/IPv4 frame, 0 if it is not one. */
static size_t tcp_payload(const uint8_t *f, size_t len)
{
	if (len < 40 || f[9] != 6)
		return 0;
	size_t ihl = (size_t)(f[0] & 15) * 4, tot = be16(f + 2);
	if (tot > len || ihl + 20 > tot)
		return 0;
	size_t doff = (size_t)(f[ihl + 12] >> 4) * 4;
	return ihl + doff <= tot ? tot - ihl - doff : 0;
}

/* Not static, never inlined: callgrind finds them by name. */
__attribute__((noinline)) void bench_rx(void *ctx, const uint8_t *frame,
					size_t len, const tern_frame_meta *meta,
					tern_time now);
__attribute__((noinline)) int
bench_rx_link_send(bench_tap *t, const tern_iov *iov, int iovcnt,
		   const tern_frame_meta *meta, tern_time now);

void bench_rx(void *ctx, const uint8_t *frame, size_t len,
	      const tern_frame_meta *meta, tern_time now)
{
	bench_tap *t = ctx;
	size_t pl = tcp_payload(frame, len);

	t->segs += pl > 0;
	t->full_segs += t->mss ? pl / t->mss : 0;
	t->in_rx = true;
	tern_link_deliver(&t->link, frame, len, meta, now);
	t->in_rx = false;
}

int bench_rx_link_send(bench_tap *t, const tern_iov *iov, int iovcnt,
		       const tern_frame_meta *meta, tern_time now)
{
	return tern_link_send(t->port, iov, iovcnt, meta, now);
}

static int tap_send(tern_link *link, const tern_iov *iov, int iovcnt,
		    const tern_frame_meta *meta, tern_time now)
{
	bench_tap *t = (bench_tap *)link;

	if (t->in_rx)
		return bench_rx_link_send(t, iov, iovcnt, meta, now);
	return tern_link_send(t->port, iov, iovcnt, meta, now);
}

static void tap_destroy(tern_link *link)
{
	(void)link; /* the port belongs to the network */
}

static const tern_link_ops tap_ops = {.send = tap_send, .destroy = tap_destroy};

/* b's link: the port's mtu, offloads and name, b's frames through us. */
static void tap_open(bench_tap *t, tern_link *port)
{
	t->link = *port;
	t->link.ops = &tap_ops;
	t->link.rx = NULL;
	t->link.rx_ctx = NULL;
	t->port = port;
	tern_link_set_rx(port, bench_rx, t);
}

bool bench_pair_open(bench_pair *p, uint32_t mtu, const tern_settings *set,
		     bool offload)
{
	memset(p, 0, sizeof(*p));
	p->sim = tern_sim_new(1);
	if (!p->sim)
		goto fail;
	p->pa = tern_sim_port(p->sim, BENCH_ADDR_A, mtu);
	p->pb = tern_sim_port(p->sim, BENCH_ADDR_B, mtu);
	/* NULL paths: a perfect wire both ways */
	if (!p->pa || !p->pb ||
	    tern_sim_join(p->sim, p->pa, p->pb, NULL, NULL) < 0)
		goto fail;
	/* before the stacks are attached: they read their link's offloads */
	if (offload && (tern_sim_port_set_offload(p->pa, true) < 0 ||
			tern_sim_port_set_offload(p->pb, true) < 0))
		goto fail;
	bench_counter_init(&p->ca, &p->alloc_a);
	bench_counter_init(&p->cb, &p->alloc_b);
	p->a = tern_stack_new(&(tern_stack_config){.name = "a",
						   .addr = BENCH_ADDR_A,
						   .settings = set,
						   .alloc = &p->alloc_a,
						   .secret = {1, 2}});
	p->b = tern_stack_new(&(tern_stack_config){.name = "b",
						   .addr = BENCH_ADDR_B,
						   .settings = set,
						   .alloc = &p->alloc_b,
						   .secret = {3, 4}});
	tap_open(&p->tap, p->pb);
	if (!p->a || !p->b || tern_sim_add_stack(p->sim, p->a, p->pa) < 0 ||
	    tern_sim_add_stack(p->sim, p->b, &p->tap.link) < 0)
		goto fail;
	return true;
fail:
	fprintf(stderr, "bench: cannot set up the simulated network "
			"(out of memory, or a bad setting)\n");
	bench_pair_close(p);
	return false;
}

void bench_pair_close(bench_pair *p)
{
	if (p->a)
		tern_stack_free(p->a);
	if (p->b)
		tern_stack_free(p->b);
	if (p->sim)
		tern_sim_free(p->sim);
	memset(p, 0, sizeof(*p));
}

bool bench_parse_size(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	uint64_t mult = 1;

	if (!text || *text < '0' || *text > '9')
		return false;
	errno = 0;
	uint64_t v = strtoull(text, &end, 10);
	if (errno)
		return false;
	if (strcmp(end, "K") == 0)
		mult = 1000;
	else if (strcmp(end, "M") == 0)
		mult = 1000000;
	else if (strcmp(end, "G") == 0)
		mult = 1000000000;
	else if (strcmp(end, "Ki") == 0)
		mult = 1024;
	else if (strcmp(end, "Mi") == 0)
		mult = 1024 * 1024;
	else if (*end)
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	v *= mult;
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool bench_bad(const char *prog, const char *opt, const char *val,
	       const char *what)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", prog, opt, val, what);
	return false;
}
