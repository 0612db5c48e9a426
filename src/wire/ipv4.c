/* IPv4 header view and emitter (RFC 791 3.1). Options are skipped by the
 * header length, never interpreted; fragments and protocols are judged by
 * the IP layer, not here. */
#include <tern/wire.h>

#define IPV4_FLAG_DF 0x4000u
#define IPV4_FLAG_MF 0x2000u
#define IPV4_FRAG_MASK 0x1fffu

/* Structure checks, in the order the drop reasons are documented. */
static int check_lengths(const uint8_t *buf, size_t len)
{
	if (len < TERN_IPV4_HDR_MIN)
		return TERN_DROP_IP_TRUNCATED;
	if ((buf[0] >> 4) != 4)
		return TERN_DROP_IP_VERSION;

	size_t hdr_len = (size_t)(buf[0] & 0x0f) * 4;
	if (hdr_len < TERN_IPV4_HDR_MIN)
		return TERN_DROP_IP_IHL;
	if (hdr_len > len)
		return TERN_DROP_IP_HDR_TRUNCATED;

	/* Bytes past total length are link padding (an Ethernet frame has a
	 * 46-byte minimum payload) and are ignored, not an error. */
	size_t total = tern_load16(buf + 2);
	if (total > len || total < hdr_len)
		return TERN_DROP_IP_TOTAL_LEN;
	return 0;
}

int tern_ipv4_parse(const uint8_t *buf, size_t len, tern_ipv4_hdr *out)
{
	int err = check_lengths(buf, len);
	if (err)
		return err;

	uint8_t hdr_len = (uint8_t)((buf[0] & 0x0f) * 4);
	/* RFC 791 3.1 "Header Checksum": the sum over the header, checksum
	 * field included, is all ones, so the complement is zero. */
	if (tern_inet_checksum(buf, hdr_len) != 0)
		return TERN_DROP_IP_CHECKSUM;

	uint16_t frag = tern_load16(buf + 6);
	out->hdr_len = hdr_len;
	out->tos = buf[1];
	out->total_len = tern_load16(buf + 2);
	out->id = tern_load16(buf + 4);
	out->df = (frag & IPV4_FLAG_DF) != 0;
	out->mf = (frag & IPV4_FLAG_MF) != 0;
	/* The fragment offset counts 8-octet units (RFC 791 3.1). */
	out->frag_off = (uint16_t)((frag & IPV4_FRAG_MASK) * 8);
	out->ttl = buf[8];
	out->proto = buf[9];
	out->src = tern_load32(buf + 12);
	out->dst = tern_load32(buf + 16);
	out->payload = buf + hdr_len;
	out->payload_len = (size_t)out->total_len - hdr_len;
	return 0;
}

/* A datagram whose total length would not fit the 16-bit field cannot be
 * sent unfragmented; that is reported like a short buffer, as 0. */
size_t tern_ipv4_emit(uint8_t *buf, size_t cap, const tern_ipv4_hdr *h,
		      size_t payload_len)
{
	if (cap < TERN_IPV4_HDR_MIN ||
	    payload_len > UINT16_MAX - TERN_IPV4_HDR_MIN)
		return 0;

	buf[0] = 0x45; /* version 4, IHL 5: no options */
	buf[1] = h->tos;
	tern_store16(buf + 2, (uint16_t)(TERN_IPV4_HDR_MIN + payload_len));
	tern_store16(buf + 4, h->id);
	/* Only DF is taken from h: the emitter never writes fragments. */
	tern_store16(buf + 6, h->df ? IPV4_FLAG_DF : 0);
	buf[8] = h->ttl;
	buf[9] = h->proto;
	tern_store16(buf + 10, 0);
	tern_store32(buf + 12, h->src);
	tern_store32(buf + 16, h->dst);
	tern_store16(buf + 10, tern_inet_checksum(buf, TERN_IPV4_HDR_MIN));
	return TERN_IPV4_HDR_MIN;
}
