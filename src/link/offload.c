/* Offloads in software: cutting a TSO packet and finishing a partial
 * checksum, as a NIC (or Linux's software GSO) does. */
#include <string.h>

#include <tern/wire.h>

#include "link/offload.h"

/* Offsets in the IPv4 (RFC 791 3.1) and TCP (RFC 9293 3.1) headers. */
#define IP_TOTAL_LEN 2
#define IP_ID 4
#define IP_CSUM 10
#define IP_SRC 12
#define IP_DST 16
#define TCP_SEQ 4
#define TCP_FLAGS 13
#define TCP_CSUM 16

size_t frame_read(const tern_iov *iov, int iovcnt, size_t off, void *out,
		  size_t want)
{
	uint8_t *o = out;
	size_t got = 0;

	for (int i = 0; i < iovcnt && got < want; i++) {
		size_t n = iov[i].len;
		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > want - got)
			n = want - got;
		memcpy(o + got, (const uint8_t *)iov[i].base + off, n);
		got += n;
		off = 0;
	}
	return got;
}

/* The field already holds the pseudo-header sum, so the sum from
 * csum_start on covers pseudo-header, header and data (RFC 1071 2). */
bool frame_csum_complete(uint8_t *frame, size_t len, const tern_frame_meta *m)
{
	size_t at = (size_t)m->csum_start + m->csum_offset;

	if (m->csum_start >= len || at + 2 > len)
		return false;
	tern_store16(frame + at, tern_inet_checksum(frame + m->csum_start,
						    len - m->csum_start));
	return true;
}

/* The headers of a TCP/IPv4 packet: ihl, thl, payload length. */
struct tcp4 {
	size_t ihl, thl, plen;
};

static bool tcp4_headers(const uint8_t *p, size_t len, struct tcp4 *h)
{
	size_t total;

	if (len < TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MIN || p[0] >> 4 != 4 ||
	    p[9] != TERN_IPPROTO_TCP)
		return false;
	h->ihl = (size_t)(p[0] & 0x0f) * 4;
	total = tern_load16(p + IP_TOTAL_LEN);
	if (h->ihl < TERN_IPV4_HDR_MIN || total > len ||
	    total < h->ihl + TERN_TCP_HDR_MIN)
		return false;
	h->thl = (size_t)(p[h->ihl + 12] >> 4) * 4;
	if (h->thl < TERN_TCP_HDR_MIN || h->ihl + h->thl > total)
		return false;
	h->plen = total - h->ihl - h->thl;
	return true;
}

/* Segment i: payload bytes [off, off + n) of p, behind a copy of its
 * headers. Linux's tcp_gso_segment: the sequence number advances by the
 * offset, FIN and PSH stay on the last segment, CWR on the first; the IP
 * id counts up per segment (no SKB_GSO_TCP_FIXEDID). */
static size_t build_segment(uint8_t *out, const uint8_t *p,
			    const struct tcp4 *h, size_t off, size_t n,
			    unsigned i, bool last)
{
	size_t hl = h->ihl + h->thl;
	uint8_t *tcp = out + h->ihl;
	uint8_t flags = p[h->ihl + TCP_FLAGS];
	tern_csum c;

	memcpy(out, p, hl);
	memcpy(out + hl, p + hl + off, n);
	tern_store16(out + IP_TOTAL_LEN, (uint16_t)(hl + n));
	tern_store16(out + IP_ID, (uint16_t)(tern_load16(p + IP_ID) + i));
	tern_store16(out + IP_CSUM, 0);
	tern_store16(out + IP_CSUM, tern_inet_checksum(out, h->ihl));
	tern_store32(tcp + TCP_SEQ,
		     tern_load32(p + h->ihl + TCP_SEQ) + (uint32_t)off);
	if (!last)
		flags &= (uint8_t) ~(TERN_TCP_FIN | TERN_TCP_PSH);
	if (i > 0)
		flags &= (uint8_t)~TERN_TCP_CWR;
	tcp[TCP_FLAGS] = flags;
	tern_store16(tcp + TCP_CSUM, 0);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, tern_load32(p + IP_SRC),
			     tern_load32(p + IP_DST), TERN_IPPROTO_TCP,
			     (uint16_t)(h->thl + n));
	tern_csum_add(&c, tcp, h->thl + n);
	tern_store16(tcp + TCP_CSUM, tern_csum_final(&c));
	return hl + n;
}

int frame_to_wire(const uint8_t *frame, size_t len, const tern_frame_meta *m,
		  uint8_t *scratch, size_t cap, frame_out_fn out, void *ctx)
{
	struct tcp4 h;
	size_t off = 0;

	if (!m->gso_size) {
		if (len > cap)
			return -1;
		memcpy(scratch, frame, len);
		if ((m->flags & TERN_FRAME_CSUM_PARTIAL) &&
		    !frame_csum_complete(scratch, len, m))
			return -1;
		out(ctx, scratch, len);
		return 0;
	}
	if (!tcp4_headers(frame, len, &h) || h.ihl + h.thl + m->gso_size > cap)
		return -1;
	for (unsigned i = 0;; i++) {
		size_t n =
			h.plen - off < m->gso_size ? h.plen - off : m->gso_size;
		bool last = off + n >= h.plen;
		out(ctx, scratch,
		    build_segment(scratch, frame, &h, off, n, i, last));
		off += n;
		if (last)
			return 0;
	}
}
