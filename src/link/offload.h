/* Offloads in software, for the links that must undo them: what a NIC
 * does with a TSO packet or a partial checksum (cut the packet, finish the
 * sum), and reading bytes out of a frame made of pieces. The impairment
 * wrapper and the simulator use these to turn a frame with meta into
 * what a wire would carry.
 */
#ifndef TERN_LINK_OFFLOAD_H
#define TERN_LINK_OFFLOAD_H

#include <tern/link.h>

/* Copies up to want bytes of the frame made of iovcnt pieces, from byte
 * off on, to out; returns how many it copied. */
size_t frame_read(const tern_iov *iov, int iovcnt, size_t off, void *out,
		  size_t want);

/* Finishes a partial checksum in place: the sum of frame[csum_start..len)
 * (whose checksum field holds the pseudo-header sum), complemented, goes
 * to csum_start + csum_offset (RFC 1071). False, frame untouched, if the
 * offsets do not fit in len. */
bool frame_csum_complete(uint8_t *frame, size_t len, const tern_frame_meta *m);

typedef void (*frame_out_fn)(void *ctx, const uint8_t *frame, size_t len);

/* Makes what a wire would carry of an IP frame sent or received with m:
 * a TCP/IPv4 packet with m->gso_size is cut into segments of at most
 * gso_size payload bytes, as Linux's TSO cuts it (tcp_gso_segment: each
 * with the headers, its sequence number and total length, IP ids counting
 * up, FIN and PSH on the last only, CWR on the first only); every segment
 * (or the frame alone, without gso_size) gets its IP and TCP checksums
 * complete. Each result is built in scratch (cap bytes: at least 120 plus
 * gso_size, or len) and handed to out, one after the other. Returns 0,
 * or -1 (out never called) for a frame that is not what m says: not a
 * TCP/IPv4 packet with gso_size, offsets outside it, too big for
 * scratch. */
int frame_to_wire(const uint8_t *frame, size_t len, const tern_frame_meta *m,
		  uint8_t *scratch, size_t cap, frame_out_fn out, void *ctx);

#endif
