/* The Internet checksum (RFC 1071): a one's-complement sum of 16-bit
 * big-endian words.
 *
 * Two properties of that sum make the fast path possible: it is
 * independent of byte order up to a final byte swap (RFC 1071 2(B)), and
 * it can be computed in wider words with the carries folded back in at the
 * end (2(C), 2(D)). So the
 * inner loop adds native-order 32-bit halves of 64-bit loads into 64-bit
 * accumulators (no carry handling needed until they could overflow), and
 * the folded result is swapped to big-endian lanes once per piece.
 *
 * tern_csum.sum always holds a value in big-endian lanes (congruent,
 * modulo 0xffff, to the sum of the big-endian words added so far), so the
 * pseudo-header can be added from host-order integers.
 */
#include <string.h>

#include <tern/wire.h>

/* Bytes summed between folds of the 64-bit accumulators: each 8 bytes add
 * less than 2^33 to them, so 2^30 bytes stay far below 2^64. */
#define BLOCK_MAX ((size_t)1 << 30)

static bool little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 1;
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

/* Folds a 64-bit one's-complement sum to 16 bits (end-around carries). */
static uint16_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* Sums len bytes (len a multiple of 8, at most BLOCK_MAX) as native-order
 * words. memcpy keeps the loads free of alignment and aliasing UB; the
 * compiler turns it into plain (unaligned-capable) loads. */
static uint64_t sum_words(const uint8_t *p, size_t len)
{
	uint64_t a = 0, b = 0, w[4];

	for (; len >= sizeof(w); len -= sizeof(w), p += sizeof(w)) {
		memcpy(w, p, sizeof(w));
		a += (uint32_t)w[0];
		b += w[0] >> 32;
		a += (uint32_t)w[1];
		b += w[1] >> 32;
		a += (uint32_t)w[2];
		b += w[2] >> 32;
		a += (uint32_t)w[3];
		b += w[3] >> 32;
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(w, p, 8);
		a += (uint32_t)w[0];
		b += w[0] >> 32;
	}
	return a + b;
}

/* The last len % 8 bytes, in the same native lanes as sum_words. Fixed-
 * size copies compile to single loads; a variable-size memcpy would be a
 * library call, which costs more than the whole sum of a 20-byte header.
 * An odd final byte is padded with a zero on its right to form a word
 * (RFC 9293 3.1): it is the low-address byte of a native 16-bit lane. */
static uint64_t sum_tail(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	uint32_t w32;
	uint16_t w16;

	if (len & 4) {
		memcpy(&w32, p, 4);
		s += w32;
		p += 4;
	}
	if (len & 2) {
		memcpy(&w16, p, 2);
		s += w16;
		p += 2;
	}
	if (len & 1)
		s += little_endian() ? p[0] : (uint32_t)p[0] << 8;
	return s;
}

/* The folded sum of one piece as if it started at an even offset, in
 * big-endian lanes. */
static uint16_t sum_piece(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	while (len >= 8) {
		size_t n = len < BLOCK_MAX ? len & ~(size_t)7 : BLOCK_MAX;
		s += fold64(sum_words(p, n));
		p += n;
		len -= n;
	}
	s += sum_tail(p, len);
	uint16_t folded = fold64(s);
	return little_endian() ? swap16(folded) : folded;
}

/* Adds a folded 16-bit sum of a piece that starts at the running offset:
 * after an odd number of bytes its words straddle the lanes, which is the
 * byte-swapped sum (RFC 1071 2(B)). */
static void add_folded(tern_csum *c, uint16_t s)
{
	c->sum += c->odd ? swap16(s) : s;
}

void tern_csum_init(tern_csum *c)
{
	c->sum = 0;
	c->odd = false;
}

void tern_csum_add(tern_csum *c, const void *data, size_t len)
{
	if (len == 0)
		return;
	add_folded(c, sum_piece(data, len));
	c->odd ^= (len & 1) != 0;
}

/* RFC 9293 3.1: source, destination, zero, protocol, TCP length. The
 * pseudo-header is 12 bytes, so it leaves the odd flag as it was. */
void tern_csum_add_pseudo(tern_csum *c, uint32_t src, uint32_t dst,
			  uint8_t proto, uint16_t len)
{
	uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) +
		     (dst & 0xffffu) + proto + len;

	add_folded(c, fold64(s));
}

uint16_t tern_csum_final(const tern_csum *c)
{
	return (uint16_t)~fold64(c->sum);
}

uint16_t tern_inet_checksum(const void *data, size_t len)
{
	tern_csum c;

	tern_csum_init(&c);
	tern_csum_add(&c, data, len);
	return tern_csum_final(&c);
}
