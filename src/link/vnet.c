/* The virtio-net header (virtio spec 1.x, 5.1.6), as Linux's TUN/TAP
 * reads and writes it (drivers/net/tun.c, include/linux/virtio_net.h). */
#include <linux/virtio_net.h>
#include <string.h>

#include "link/vnet.h"

/* Field offsets: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers. */
#define VH_FLAGS 0
#define VH_GSO_TYPE 1
#define VH_HDR_LEN 2
#define VH_GSO_SIZE 4
#define VH_CSUM_START 6
#define VH_CSUM_OFFSET 8

static void store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* A TSO frame also says NEEDS_CSUM when its checksum is partial, which
 * newer kernels check (csum_offset must be TCP's) before cutting it. */
void vnet_encode(uint8_t *hdr, const tern_frame_meta *meta, uint16_t hdr_len)
{
	memset(hdr, 0, VNET_HDR_LEN);
	if (!meta)
		return;
	if (meta->flags & TERN_FRAME_CSUM_PARTIAL) {
		hdr[VH_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		store_le16(hdr + VH_CSUM_START, meta->csum_start);
		store_le16(hdr + VH_CSUM_OFFSET, meta->csum_offset);
	}
	if (meta->gso_size) {
		hdr[VH_GSO_TYPE] = VIRTIO_NET_HDR_GSO_TCPV4;
		store_le16(hdr + VH_HDR_LEN, hdr_len);
		store_le16(hdr + VH_GSO_SIZE, meta->gso_size);
	}
}

/* tern asked for TSO4 (and TSO6, whose IPv6 packets it drops as not IP
 * before reading this), not UFO/USO: other GSO types mean a confused
 * device. ECN rides on TCPv4 harmlessly for a receiver. */
int vnet_decode(const uint8_t *hdr, size_t len, tern_frame_meta *meta)
{
	uint8_t flags = hdr[VH_FLAGS], type = hdr[VH_GSO_TYPE];

	memset(meta, 0, sizeof(*meta));
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		meta->csum_start = load_le16(hdr + VH_CSUM_START);
		meta->csum_offset = load_le16(hdr + VH_CSUM_OFFSET);
		if ((size_t)meta->csum_start + meta->csum_offset + 2 > len)
			return -1;
		meta->flags |= TERN_FRAME_CSUM_PARTIAL | TERN_FRAME_CSUM_OK;
	}
	if (flags & VIRTIO_NET_HDR_F_DATA_VALID)
		meta->flags |= TERN_FRAME_CSUM_OK;
	switch (type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		meta->gso_size = load_le16(hdr + VH_GSO_SIZE);
		return meta->gso_size ? 0 : -1;
	default:
		return -1;
	}
}
