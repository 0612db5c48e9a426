#include "ip/ip.h"

/* RFC 1122 3.2.1.3: a source address that cannot be a host's (0,
 * limited broadcast, multicast, class E, loopback from the wire). */
static bool bad_source(uint32_t a)
{
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe ||
	       (a >> 28) == 0xf || (a >> 24) == 127;
}

int ip_accept(const uint8_t *pkt, size_t len, uint32_t local_addr,
	      tern_ipv4_hdr *out)
{
	int r = tern_ipv4_parse(pkt, len, out);

	if (r)
		return r;
	if (out->dst != local_addr)
		return TERN_DROP_IP_NOT_LOCAL;
	if (bad_source(out->src))
		return TERN_DROP_IP_BAD_SRC;
	return 0;
}

size_t ip_header_frag(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		      uint8_t ttl, uint16_t id, size_t payload_len,
		      uint16_t off, bool more)
{
	size_t n = ip_header(buf, src, dst, proto, ttl, id, payload_len);

	tern_store16(buf + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
	tern_store16(buf + 10, 0);
	tern_store16(buf + 10, tern_inet_checksum(buf, TERN_IPV4_HDR_MIN));
	return n;
}

/* DF set, as Linux does with path MTU discovery on (RFC 1191). */
size_t ip_header(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		 uint8_t ttl, uint16_t id, size_t payload_len)
{
	tern_ipv4_hdr h = {
		.id = id,
		.df = true,
		.ttl = ttl,
		.proto = proto,
		.src = src,
		.dst = dst,
	};
	return tern_ipv4_emit(buf, TERN_IPV4_HDR_MIN, &h, payload_len);
}
