/* SipHash-2-4, from the specification ("SipHash: a fast short-input
 * PRF", section 2), checked against the paper's test vectors. */
#include <string.h>

#include "stack/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

typedef struct sip {
	uint64_t v0, v1, v2, v3;
} sip;

static void sipround(sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void sip_init(sip *s, const uint64_t key[2])
{
	s->v0 = key[0] ^ 0x736f6d6570736575ull;
	s->v1 = key[1] ^ 0x646f72616e646f6dull;
	s->v2 = key[0] ^ 0x6c7967656e657261ull;
	s->v3 = key[1] ^ 0x7465646279746573ull;
}

static void sip_block(sip *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

static uint64_t sip_final(sip *s)
{
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* Little-endian 64-bit load of up to 8 bytes. */
static uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t siphash24(const uint64_t key[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t blocks = len / 8;
	sip s;

	sip_init(&s, key);
	for (size_t i = 0; i < blocks; i++)
		sip_block(&s, load_le(p + 8 * i, 8));
	uint64_t last = load_le(p + 8 * blocks, len % 8);
	sip_block(&s, last | ((uint64_t)(len & 0xff) << 56));
	return sip_final(&s);
}

uint64_t siphash24_tuple(const uint64_t key[2], uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport)
{
	sip s;

	sip_init(&s, key);
	sip_block(&s, (uint64_t)laddr | ((uint64_t)raddr << 32));
	sip_block(&s, (uint64_t)lport | ((uint64_t)rport << 16) |
			      ((uint64_t)12 << 56));
	return sip_final(&s);
}
