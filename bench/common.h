/* What the in-memory benchmarks share: a wall clock, a counting
 * allocator, a perfectly wired pair of stacks on the simulator, and
 * number parsing for their options. */
#ifndef TERN_BENCH_COMMON_H
#define TERN_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tern/sim.h>
#include <tern/stack.h>

/* Keeps glibc from giving memory back to the kernel at every free: tern
 * allocates a connection's buffers when data arrives and frees them when
 * they empty, and with glibc's default trim threshold (128 KiB) every such
 * round trip grows and shrinks the heap, a page fault per 4 KiB touched.
 * BENCH_MALLOC=glibc in the environment leaves glibc's defaults. */
void bench_malloc_tune(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_wall(void);

/* An allocator that counts what the stack asks for: bytes requested
 * (malloc's own overhead is not in them) and live allocations. */
typedef struct bench_counter {
	size_t bytes, peak;
	size_t allocs; /* live */
} bench_counter;

void bench_counter_init(bench_counter *c, tern_allocator *out);

/* Stack b's side of the wire, seen from the benchmark: a wrapper around
 * its port through which b receives (bench_rx) and sends. It counts the
 * TCP segments with data that b receives (segs), and the full-sized
 * segments they carry (full_segs: payload / mss, so a 64 KB offloaded
 * frame counts as the segments of mss bytes it holds; set mss once it is
 * known); and it lets callgrind
 * count b's input alone (--toggle-collect=bench_rx) and, inside it, the
 * simulated link's own work on what b sends (bench_rx_link_send). */
typedef struct bench_tap {
	tern_link link; /* what stack b is attached to */
	tern_link *port;
	bool in_rx;
	uint32_t mss;
	uint64_t segs, full_segs;
} bench_tap;

/* Two stacks, a (client, 10.0.0.1) and b (server, 10.0.0.2), on one
 * simulated network joined by a perfect link (no delay, no loss, no rate
 * limit) with the given MTU; b through a bench_tap. Each stack allocates
 * through its own counting allocator. */
typedef struct bench_pair {
	tern_sim *sim;
	tern_link *pa, *pb;
	tern_stack *a, *b;
	bench_tap tap;
	bench_counter ca, cb;
	tern_allocator alloc_a, alloc_b;
} bench_pair;

/* false (reason on stderr) on failure. settings may be NULL. offload:
 * both ports take 64 KB TSO frames and partial checksums, and deliver
 * them whole with their checksums marked good (tern_sim_port_set_offload):
 * no checksum over the payload at either end. */
bool bench_pair_open(bench_pair *p, uint32_t mtu, const tern_settings *set,
		     bool offload);
void bench_pair_close(bench_pair *p);

#define BENCH_ADDR_A 0x0a000001u
#define BENCH_ADDR_B 0x0a000002u

/* "20000000", "20M" (10^6), "64K" (10^3), "1Mi" (2^20), "64Ki" (2^10);
 * false if not a whole number in [lo, hi]. */
bool bench_parse_size(const char *text, uint64_t lo, uint64_t hi,
		      uint64_t *out);
/* Prints "NAME: OPTION: 'VALUE' is not ..." and returns false. */
bool bench_bad(const char *prog, const char *opt, const char *val,
	       const char *what);

#endif
