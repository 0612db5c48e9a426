/* A byte ring: the send and receive buffers of a connection.
 *
 * The ring owns no memory policy: the caller hands it a buffer of `cap`
 * bytes and takes it back. Data sits at [head, head+len) modulo cap; the
 * receive side may also write beyond len (out-of-order data) and commit it
 * later.
 */
#ifndef TERN_TCP_RING_H
#define TERN_TCP_RING_H

#include <stddef.h>
#include <stdint.h>

#include <tern/types.h>

typedef struct tcp_ring {
	uint8_t *buf; /* NULL until data needs a home */
	uint32_t cap;
	uint32_t head;
	uint32_t len;
} tcp_ring;

static inline uint32_t ring_free(const tcp_ring *r)
{
	return r->cap - r->len;
}

/* Appends up to n bytes; returns how many fit. */
uint32_t ring_write(tcp_ring *r, const void *data, uint32_t n);
/* Copies n bytes to offset off past the data's start (off + n <= cap);
 * does not change len. */
void ring_write_at(tcp_ring *r, uint32_t off, const void *data, uint32_t n);
/* Makes n more bytes (already written with ring_write_at) part of len. */
void ring_commit(tcp_ring *r, uint32_t n);
/* Copies up to n bytes out and consumes them; returns the count. */
uint32_t ring_read(tcp_ring *r, void *dst, uint32_t n);
/* Copies the n bytes from head on (n <= cap, out-of-order data beyond len
 * included) to dst, unwrapped: to move the ring to a bigger buffer. */
void ring_copy_out(const tcp_ring *r, uint8_t *dst, uint32_t n);
/* Drops n bytes from the front (n <= len). */
void ring_consume(tcp_ring *r, uint32_t n);
/* Points iov (at most 2 pieces) at n bytes starting off bytes into the
 * data (off + n <= len); returns the number of pieces. */
int ring_peek(const tcp_ring *r, uint32_t off, uint32_t n, tern_iov iov[2]);

#endif
