/* The virtio-net header that leads every frame on a TUN/TAP descriptor
 * opened with IFF_VNET_HDR (struct virtio_net_hdr of the virtio spec 1.x,
 * 5.1.6, with num_buffers: 12 bytes, little-endian once TUNSETVNETLE is
 * set). Kept apart from the descriptor so that tests can build and read
 * headers without a device.
 */
#ifndef TERN_LINK_VNET_H
#define TERN_LINK_VNET_H

#include <tern/link.h>

/* 12 rather than the legacy 10: the size virtio 1.0 devices use, and a
 * multiple of 4, so the IP header behind it in the read buffer stays
 * 4-byte aligned. */
#define VNET_HDR_LEN 12

/* Writes the header of a frame sent with meta (NULL: a plain frame, all
 * zero). hdr_len counts the bytes in front of the TCP payload (link, IP
 * and TCP headers); only a TSO frame (meta->gso_size) needs it. */
void vnet_encode(uint8_t *hdr, const tern_frame_meta *meta, uint16_t hdr_len);

/* Reads the header of a received frame of len bytes (the header not
 * counted) into *meta: NEEDS_CSUM becomes CSUM_PARTIAL and CSUM_OK (the
 * local kernel left the sum to us: nothing to verify), DATA_VALID
 * CSUM_OK, a TCPv4 GSO packet its gso_size. Returns 0, or -1 for what
 * tern cannot take: another GSO type, a GSO size of 0, checksum offsets
 * outside the frame. */
int vnet_decode(const uint8_t *hdr, size_t len, tern_frame_meta *meta);

#endif
