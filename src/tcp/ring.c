#include <string.h>

#include "tcp/ring.h"

static uint32_t wrap(const tcp_ring *r, uint32_t pos)
{
	return pos >= r->cap ? pos - r->cap : pos;
}

void ring_write_at(tcp_ring *r, uint32_t off, const void *data, uint32_t n)
{
	uint32_t start = wrap(r, r->head + off);
	uint32_t first = r->cap - start;

	if (first > n)
		first = n;
	memcpy(r->buf + start, data, first);
	memcpy(r->buf, (const uint8_t *)data + first, n - first);
}

void ring_commit(tcp_ring *r, uint32_t n)
{
	r->len += n;
}

uint32_t ring_write(tcp_ring *r, const void *data, uint32_t n)
{
	if (n > ring_free(r))
		n = ring_free(r);
	if (n == 0)
		return 0;
	ring_write_at(r, r->len, data, n);
	r->len += n;
	return n;
}

/* head never jumps back to 0 when the data runs out: out-of-order data
 * may sit beyond len, placed relative to head. */
void ring_consume(tcp_ring *r, uint32_t n)
{
	r->head = wrap(r, r->head + n);
	r->len -= n;
}

void ring_copy_out(const tcp_ring *r, uint8_t *dst, uint32_t n)
{
	uint32_t first = r->cap - r->head;

	if (first > n)
		first = n;
	memcpy(dst, r->buf + r->head, first);
	memcpy(dst + first, r->buf, n - first);
}

uint32_t ring_read(tcp_ring *r, void *dst, uint32_t n)
{
	tern_iov iov[2];
	uint8_t *out = dst;

	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	int cnt = ring_peek(r, 0, n, iov);
	for (int i = 0; i < cnt; i++) {
		memcpy(out, iov[i].base, iov[i].len);
		out += iov[i].len;
	}
	ring_consume(r, n);
	return n;
}

int ring_peek(const tcp_ring *r, uint32_t off, uint32_t n, tern_iov iov[2])
{
	uint32_t start = wrap(r, r->head + off);
	uint32_t first = r->cap - start;

	if (n == 0)
		return 0;
	iov[0].base = r->buf + start;
	if (first >= n) {
		iov[0].len = n;
		return 1;
	}
	iov[0].len = first;
	iov[1].base = r->buf;
	iov[1].len = n - first;
	return 2;
}
