/* What tern's fuzz targets share: reading the input as a stream of
 * fields, a checking allocator, and explicit checks.
 *
 * Each target is one .c file defining LLVMFuzzerTestOneInput. It is linked
 * either with libFuzzer (make fuzz, clang) or with replay.c, a plain main
 * that runs it over files, so every reproducer and seed is a CTest test in
 * the gcc and the ASan build alike. Targets are deterministic: no clock,
 * no randomness, fixed secrets, no state kept from one input to the next.
 */
#ifndef TERN_FUZZ_H
#define TERN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/types.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which and abort, so that libFuzzer keeps the
 * input and the replay test fails, in any build (assert() may be off). */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
	abort();
}

/* The input as fields. Past its end every field reads as 0, so any input
 * is a valid one and a short input means "defaults". */
typedef struct fuzz_in {
	const uint8_t *p;
	size_t left;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);

	return hi << 16 | fuzz_u16(in);
}

/* Copies up to n bytes (fewer if the input ends); returns how many. */
static inline size_t fuzz_bytes(fuzz_in *in, uint8_t *out, size_t n)
{
	if (n > in->left)
		n = in->left;
	if (n == 0)
		return 0;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

/* A time step from one byte, µs to hours on a rough log scale, so that
 * both a delayed ACK (40 ms) and TIME_WAIT (60 s) or keepalive (2 h) are
 * a byte away: ((v & 15) + 1) << 2 * (v >> 4) µs, 0 for 0. */
static inline tern_time fuzz_step(uint8_t v)
{
	if (v == 0)
		return 0;
	return (((tern_time)(v & 15) + 1) << (2 * (v >> 4))) * TERN_USEC;
}

/* An allocator that checks what the code under test does with memory:
 * every free must give back the size it was allocated with, and the
 * bytes outstanding are known at any time. It can fail on purpose: with
 * fail_every = k > 0 and armed, every k-th allocation returns NULL. */
typedef struct fuzz_alloc {
	size_t outstanding; /* bytes allocated and not freed */
	size_t blocks;
	unsigned fail_every;
	unsigned count;
	bool armed;
} fuzz_alloc;

/* Each block carries its size ahead of the caller's bytes (16 bytes, so
 * the caller's pointer keeps malloc's alignment). */
#define FUZZ_ALLOC_HDR 16

static inline void *fuzz_alloc_fn(void *ctx, size_t size)
{
	fuzz_alloc *a = ctx;

	if (a->armed && a->fail_every && ++a->count % a->fail_every == 0)
		return NULL;
	uint8_t *p = malloc(FUZZ_ALLOC_HDR + size);
	FUZZ_CHECK(p != NULL);
	memcpy(p, &size, sizeof(size));
	a->outstanding += size;
	a->blocks++;
	return p + FUZZ_ALLOC_HDR;
}

static inline void fuzz_free_fn(void *ctx, void *ptr, size_t size)
{
	fuzz_alloc *a = ctx;
	size_t had;

	if (!ptr)
		return;
	uint8_t *p = (uint8_t *)ptr - FUZZ_ALLOC_HDR;
	memcpy(&had, p, sizeof(had));
	FUZZ_CHECK(had == size);
	FUZZ_CHECK(a->outstanding >= size && a->blocks > 0);
	a->outstanding -= size;
	a->blocks--;
	free(p);
}

static inline tern_allocator fuzz_allocator(fuzz_alloc *a)
{
	return (tern_allocator){fuzz_alloc_fn, fuzz_free_fn, a};
}

/* RFC 1071, written again here on purpose: the targets check tern's
 * checksums against a second implementation. */
static inline uint32_t fuzz_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline uint16_t fuzz_csum(uint32_t sum, const uint8_t *p, size_t n)
{
	return (uint16_t)~fuzz_sum(sum, p, n);
}

/* The TCP pseudo-header's sum (RFC 9293 3.1). */
static inline uint32_t fuzz_pseudo(uint32_t src, uint32_t dst, size_t len)
{
	uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) +
		     (dst & 0xffff) + 6 + (uint32_t)len;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

#endif
