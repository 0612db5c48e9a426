/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash, so that
 * nobody who lacks the key can pick inputs that collide. Used for the
 * connection table, ISNs (RFC 6528) and ephemeral ports (RFC 6056). */
#ifndef TERN_STACK_SIPHASH_H
#define TERN_STACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint64_t key[2], const void *data, size_t len);

/* The 12-byte form used for a 4-tuple, without a buffer. */
uint64_t siphash24_tuple(const uint64_t key[2], uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport);

#endif
