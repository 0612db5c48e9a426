/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): decoding received messages,
 * the echo reply, and the rules about what may be answered. Stateless. */
#ifndef TERN_IP_ICMP_H
#define TERN_IP_ICMP_H

#include <tern/wire.h>

#define IP_ICMP_HDR_LEN 8

enum ip_icmp_type {
	IP_ICMP_ECHO_REPLY = 0,
	IP_ICMP_DEST_UNREACH = 3,
	IP_ICMP_SOURCE_QUENCH = 4, /* deprecated by RFC 6633 */
	IP_ICMP_REDIRECT = 5,
	IP_ICMP_ECHO = 8,
	IP_ICMP_TIME_EXCEEDED = 11,
	IP_ICMP_PARAM_PROBLEM = 12,
};

/* Destination unreachable codes (RFC 792, RFC 1191, RFC 1812 5.2.7.1). */
enum ip_icmp_unreach_code {
	IP_ICMP_NET_UNREACH = 0,
	IP_ICMP_HOST_UNREACH = 1,
	IP_ICMP_PROTO_UNREACH = 2,
	IP_ICMP_PORT_UNREACH = 3,
	IP_ICMP_FRAG_NEEDED = 4,
	IP_ICMP_ADMIN_PROHIBITED = 13,
};

typedef struct ip_icmp {
	uint8_t type, code;
	uint16_t id, seq;    /* echo request and reply only */
	const uint8_t *body; /* everything after the 8-byte header */
	size_t body_len;
	bool is_error; /* types 3, 4, 5, 11, 12 */
	/* Errors: the quoted datagram's header; its payload and payload_len
	 * are the quoted bytes after that header (at least 8), not what its
	 * total length says. */
	tern_ipv4_hdr inner;
	/* From the quoted transport header, when the quote holds its start
	 * (offset 0): ports for TCP and UDP, the sequence number for TCP. */
	uint16_t inner_sport, inner_dport;
	uint32_t inner_seq;
	bool inner_has_ports;
	bool inner_has_seq;
	uint16_t mtu; /* type 3 code 4: next-hop MTU (RFC 1191), 0 if absent */
} ip_icmp;

/* Validates and decodes the ICMP message buf[0..len) (the IP payload).
 * Returns 0 or
 *  -TERN_DROP_ICMP_TRUNCATED: shorter than 8 bytes; or an error message
 *      whose quote is not an IPv4 header (version 4, IHL >= 5, all of it
 *      inside the message) followed by at least 8 bytes (RFC 1122 3.2.2:
 *      "the Internet header and at least the first 8 data octets"; Linux
 *      drops shorter quotes too, icmp_socket_deliver);
 *  -TERN_DROP_ICMP_CHECKSUM: the checksum over the whole message is wrong.
 * The quoted header's checksum and total length are not checked: routers
 * may have changed it, and the quote is truncated. Unknown types decode
 * with is_error false; the caller counts them as ICMP_UNHANDLED. */
int ip_icmp_parse(const uint8_t *buf, size_t len, ip_icmp *out);

/* Writes the echo reply answering the echo request req (same id, sequence
 * number and data; RFC 792) into buf, checksum computed. buf may be the
 * buffer req->body points into. Returns its length, or 0 if req is not an
 * echo request or the reply does not fit in cap. */
size_t ip_icmp_echo_reply(uint8_t *buf, size_t cap, const ip_icmp *req);

/* RFC 1122 3.2.2: no ICMP message answers an ICMP error, nor a datagram
 * sent to a broadcast or multicast address (3.2.2.6 lets echo requests to
 * broadcast be ignored, and Linux does by default). dst is the received
 * datagram's destination; directed subnet broadcasts are the caller's to
 * recognise, as only it knows its netmask. */
bool ip_icmp_may_answer(const ip_icmp *msg, uint32_t dst);

#endif
