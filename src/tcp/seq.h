/* Sequence numbers (RFC 9293 3.4): 32-bit values compared modulo 2^32.
 * Never compare two of them with < or >: use these. */
#ifndef TERN_TCP_SEQ_H
#define TERN_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t tcp_seq;

static inline bool seq_lt(tcp_seq a, tcp_seq b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool seq_le(tcp_seq a, tcp_seq b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(tcp_seq a, tcp_seq b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool seq_ge(tcp_seq a, tcp_seq b)
{
	return (int32_t)(a - b) >= 0;
}
/* lo <= x < hi */
static inline bool seq_in(tcp_seq x, tcp_seq lo, tcp_seq hi)
{
	return seq_le(lo, x) && seq_lt(x, hi);
}
static inline tcp_seq seq_max(tcp_seq a, tcp_seq b)
{
	return seq_gt(a, b) ? a : b;
}
static inline tcp_seq seq_min(tcp_seq a, tcp_seq b)
{
	return seq_lt(a, b) ? a : b;
}
/* b - a as a count of bytes; the caller knows a <= b. */
static inline uint32_t seq_diff(tcp_seq b, tcp_seq a)
{
	return b - a;
}

#endif
