/* ICMP messages: decoding, the echo reply, what may be answered. */
#include "ip/icmp.h"

#include <string.h>

#define IPPROTO_UDP_NUM 17

/* RFC 792: the error messages, which quote the datagram they are about. */
static bool type_is_error(uint8_t type)
{
	switch (type) {
	case IP_ICMP_DEST_UNREACH:
	case IP_ICMP_SOURCE_QUENCH:
	case IP_ICMP_REDIRECT:
	case IP_ICMP_TIME_EXCEEDED:
	case IP_ICMP_PARAM_PROBLEM:
		return true;
	default:
		return false;
	}
}

/* The quoted header is read structurally: its checksum and total length
 * describe the datagram as sent, not the truncated quote. */
static int parse_quote(const uint8_t *q, size_t len, tern_ipv4_hdr *h)
{
	if (len < TERN_IPV4_HDR_MIN || (q[0] >> 4) != 4)
		return TERN_DROP_ICMP_TRUNCATED;
	size_t hdr_len = (size_t)(q[0] & 0x0f) * 4;
	/* RFC 1122 3.2.2: the header and at least 8 octets of its data. */
	if (hdr_len < TERN_IPV4_HDR_MIN || len < hdr_len + 8)
		return TERN_DROP_ICMP_TRUNCATED;
	uint16_t frag = tern_load16(q + 6);
	h->hdr_len = (uint8_t)hdr_len;
	h->tos = q[1];
	h->total_len = tern_load16(q + 2);
	h->id = tern_load16(q + 4);
	h->df = (frag & 0x4000) != 0;
	h->mf = (frag & 0x2000) != 0;
	h->frag_off = (uint16_t)((frag & 0x1fff) * 8);
	h->ttl = q[8];
	h->proto = q[9];
	h->src = tern_load32(q + 12);
	h->dst = tern_load32(q + 16);
	h->payload = q + hdr_len;
	h->payload_len = len - hdr_len;
	return 0;
}

/* The first 8 quoted octets are the transport header's start only in the
 * first fragment: TCP's ports and sequence number (RFC 9293 3.1), UDP's
 * ports (RFC 768). */
static void parse_ports(ip_icmp *m)
{
	const uint8_t *p = m->inner.payload;
	uint8_t proto = m->inner.proto;

	if (m->inner.frag_off != 0 ||
	    (proto != TERN_IPPROTO_TCP && proto != IPPROTO_UDP_NUM))
		return;
	m->inner_sport = tern_load16(p);
	m->inner_dport = tern_load16(p + 2);
	m->inner_has_ports = true;
	if (proto == TERN_IPPROTO_TCP) {
		m->inner_seq = tern_load32(p + 4);
		m->inner_has_seq = true;
	}
}

int ip_icmp_parse(const uint8_t *buf, size_t len, ip_icmp *out)
{
	memset(out, 0, sizeof(*out));
	if (len < IP_ICMP_HDR_LEN)
		return TERN_DROP_ICMP_TRUNCATED;
	/* RFC 792: the checksum covers the whole ICMP message. */
	if (tern_inet_checksum(buf, len) != 0)
		return TERN_DROP_ICMP_CHECKSUM;
	out->type = buf[0];
	out->code = buf[1];
	out->body = buf + IP_ICMP_HDR_LEN;
	out->body_len = len - IP_ICMP_HDR_LEN;
	out->is_error = type_is_error(out->type);
	if (out->type == IP_ICMP_ECHO || out->type == IP_ICMP_ECHO_REPLY) {
		out->id = tern_load16(buf + 4);
		out->seq = tern_load16(buf + 6);
	}
	if (!out->is_error)
		return 0;
	int err = parse_quote(out->body, out->body_len, &out->inner);
	if (err)
		return err;
	parse_ports(out);
	/* RFC 1191 4: the next-hop MTU in the low 16 bits of the second
	 * word; routers older than RFC 1191 leave it 0. */
	if (out->type == IP_ICMP_DEST_UNREACH &&
	    out->code == IP_ICMP_FRAG_NEEDED)
		out->mtu = tern_load16(buf + 6);
	return 0;
}

size_t ip_icmp_echo_reply(uint8_t *buf, size_t cap, const ip_icmp *req)
{
	if (req->type != IP_ICMP_ECHO || cap < IP_ICMP_HDR_LEN ||
	    req->body_len > cap - IP_ICMP_HDR_LEN)
		return 0;
	size_t len = IP_ICMP_HDR_LEN + req->body_len;
	/* The body first: it may sit in buf already (a reply in place). */
	if (req->body_len)
		memmove(buf + IP_ICMP_HDR_LEN, req->body, req->body_len);
	buf[0] = IP_ICMP_ECHO_REPLY;
	buf[1] = 0;
	tern_store16(buf + 2, 0);
	tern_store16(buf + 4, req->id);
	tern_store16(buf + 6, req->seq);
	tern_store16(buf + 2, tern_inet_checksum(buf, len));
	return len;
}

/* RFC 1122 3.2.1.3 and 3.2.2: 0, limited broadcast, multicast (224/4)
 * and the reserved 240/4 are not one host's address. */
static bool unicast(uint32_t a)
{
	return a != 0 && (a >> 28) != 0xe && (a >> 28) != 0xf;
}

bool ip_icmp_may_answer(const ip_icmp *msg, uint32_t dst)
{
	return !msg->is_error && unicast(dst);
}
