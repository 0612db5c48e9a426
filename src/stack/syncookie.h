/* SYN cookies (D. J. Bernstein, 1996; RFC 4987 3.6), in Linux's format:
 * the pure encoding and decoding, apart from the stack (syncookie.c
 * holds both). */
#ifndef TERN_STACK_SYNCOOKIE_H
#define TERN_STACK_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/types.h>

/* The MSS values a cookie can carry (Linux's msstab). */
#define SYNCOOKIE_MSS_COUNT 4
extern const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT];

/* A cookie is good in the minute it was made and the next one. */
#define SYNCOOKIE_PERIOD (60 * TERN_SEC)
#define SYNCOOKIE_MAX_AGE 2

/* No window scaling, in the timestamp's 4 bits. */
#define SYNCOOKIE_NO_WSCALE 0xf

/* What the low 6 bits of a cookie's timestamp say about the SYN. */
typedef struct syncookie_opts {
	uint8_t wscale; /* the peer's shift, 0..14, or SYNCOOKIE_NO_WSCALE */
	bool sack;	/* SACK permitted */
	bool ecn;	/* ECN asked for (tern never negotiates it) */
} syncookie_opts;

/* The ISN for a SYN from remote to local with ISN peer_isn offering
 * peer_mss, at now: *mss gets the table's MSS it encodes. key: two
 * SipHash keys. */
uint32_t syncookie_make(const uint64_t key[2][2], const tern_endpoint *local,
			const tern_endpoint *remote, uint32_t peer_isn,
			uint16_t peer_mss, tern_time now, uint16_t *mss);

/* The MSS the cookie encodes (SEG.ACK - 1 of the ACK; peer_isn is its
 * SEG.SEQ - 1), or 0 if it is not one we made for this 4-tuple within
 * SYNCOOKIE_MAX_AGE minutes. */
uint16_t syncookie_check(const uint64_t key[2][2], const tern_endpoint *local,
			 const tern_endpoint *remote, uint32_t peer_isn,
			 uint32_t cookie, tern_time now);

/* Our timestamp clock ts_clock (milliseconds, before the pair's offset)
 * with o in its low 6 bits, never ahead of ts_clock. */
uint32_t syncookie_ts_make(uint32_t ts_clock, const syncookie_opts *o);
/* The options in an echoed timestamp, its offset taken off. */
void syncookie_ts_decode(uint32_t ts_echo, syncookie_opts *o);

#endif
