/* IPv4 input and output around the transport: which packets are ours,
 * and the header of the packets we send. */
#ifndef TERN_IP_IP_H
#define TERN_IP_IP_H

#include <tern/wire.h>

/* Parses pkt and decides whether the stack at local_addr takes it:
 * 0 with *out filled, or the drop reason. Fragments and protocols are the
 * caller's to dispatch (reasm.h, icmp.h). */
int ip_accept(const uint8_t *pkt, size_t len, uint32_t local_addr,
	      tern_ipv4_hdr *out);

/* Writes the 20-byte header of a packet from src to dst. */
size_t ip_header(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		 uint8_t ttl, uint16_t id, size_t payload_len);
/* The same for a fragment: DF clear, fragment offset `off` bytes (a
 * multiple of 8), MF set unless it is the last. */
size_t ip_header_frag(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, size_t payload_len,
		      uint16_t off, bool more);

#endif
