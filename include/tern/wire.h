/* tern wire: checked views of IPv4 and TCP headers, and their emitters.
 *
 * Parsing validates every length and offset once and fills a plain struct
 * in host byte order; nothing after a successful parse can read outside the
 * buffer. Failures return the specific enum tern_drop_reason (never 0).
 * This module is stateless: no clock, no allocation, no OS headers.
 */
#ifndef TERN_WIRE_H
#define TERN_WIRE_H

#include <tern/stats.h>
#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Internet checksum (RFC 1071) ---- */

/* Running one's-complement sum over pieces of any length and alignment:
 * pieces may split the data at odd offsets. */
typedef struct tern_csum {
	uint64_t sum;
	bool odd; /* an odd number of bytes has been added so far */
} tern_csum;

TERN_API void tern_csum_init(tern_csum *c);
TERN_API void tern_csum_add(tern_csum *c, const void *data, size_t len);
/* Adds the IPv4 pseudo-header (RFC 9293 3.1) for a transport segment. */
TERN_API void tern_csum_add_pseudo(tern_csum *c, uint32_t src, uint32_t dst,
				   uint8_t proto, uint16_t len);
/* The folded, complemented 16-bit checksum, in host byte order: store it
 * big-endian. Over data that includes a correct checksum field it is 0. */
TERN_API uint16_t tern_csum_final(const tern_csum *c);
/* One-shot form for a contiguous buffer. */
TERN_API uint16_t tern_inet_checksum(const void *data, size_t len);

/* ---- IPv4 (RFC 791) ---- */

#define TERN_IPPROTO_ICMP 1
#define TERN_IPPROTO_TCP 6
#define TERN_IPV4_HDR_MIN 20
#define TERN_IPV4_HDR_MAX 60

typedef struct tern_ipv4_hdr {
	uint8_t hdr_len; /* IHL * 4, 20..60; options are skipped, not kept */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	bool df, mf;
	uint16_t frag_off; /* in bytes */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src, dst;
	const uint8_t *payload; /* points into the parsed buffer */
	size_t payload_len;	/* total_len - hdr_len (link padding trimmed) */
} tern_ipv4_hdr;

/* Validates version, IHL, total length (trailing link padding beyond it is
 * ignored) and the header checksum. Returns 0 or a TERN_DROP_IP_* reason. */
TERN_API int tern_ipv4_parse(const uint8_t *buf, size_t len,
			     tern_ipv4_hdr *out);

/* Writes a 20-byte header (no options) for a payload of payload_len bytes,
 * header checksum included. Uses tos, id, df, ttl, proto, src, dst of h.
 * Returns 20, or 0 if cap < 20. */
TERN_API size_t tern_ipv4_emit(uint8_t *buf, size_t cap, const tern_ipv4_hdr *h,
			       size_t payload_len);

/* ---- TCP (RFC 9293 3.1, RFC 7323, RFC 2018) ---- */

#define TERN_TCP_HDR_MIN 20
#define TERN_TCP_HDR_MAX 60

enum tern_tcp_flag {
	TERN_TCP_FIN = 0x01,
	TERN_TCP_SYN = 0x02,
	TERN_TCP_RST = 0x04,
	TERN_TCP_PSH = 0x08,
	TERN_TCP_ACK = 0x10,
	TERN_TCP_URG = 0x20,
	TERN_TCP_ECE = 0x40,
	TERN_TCP_CWR = 0x80,
};

/* Option presence bits in tern_tcp_opts.present. */
enum tern_tcp_opt_bit {
	TERN_TCPOPT_MSS = 1u << 0,
	TERN_TCPOPT_WSCALE = 1u << 1,
	TERN_TCPOPT_SACK_PERM = 1u << 2,
	TERN_TCPOPT_SACK = 1u << 3,
	TERN_TCPOPT_TIMESTAMP = 1u << 4,
};

#define TERN_TCP_SACK_MAX 4

typedef struct tern_sack_block {
	uint32_t left, right; /* [left, right) in sequence space */
} tern_sack_block;

typedef struct tern_tcp_opts {
	uint32_t present; /* TERN_TCPOPT_* bits */
	uint16_t mss;
	uint8_t wscale;	    /* as received; the engine clamps to 14 */
	uint8_t sack_count; /* 0..4 */
	uint32_t ts_val, ts_ecr;
	tern_sack_block sack[TERN_TCP_SACK_MAX];
} tern_tcp_opts;

typedef struct tern_tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* data offset * 4, 20..60 */
	uint8_t flags;	 /* TERN_TCP_* */
	uint16_t win;	 /* raw header field, not scaled */
	uint16_t csum;
	uint16_t urg;
	tern_tcp_opts opts;
	const uint8_t *payload;
	size_t payload_len;
} tern_tcp_hdr;

/* Parses a TCP segment of len bytes (the IP payload). When src/dst are
 * given (verify_csum true) the checksum over the pseudo-header is checked.
 * Options: EOL ends the list, NOP is skipped, MSS/WS/SACK-permitted/SACK/
 * timestamps are decoded (a known kind with the wrong length is
 * TCP_OPT_MALFORMED), unknown kinds are skipped by their length.
 * Returns 0 or a TERN_DROP_TCP_* reason. */
TERN_API int tern_tcp_parse(const uint8_t *buf, size_t len, uint32_t src,
			    uint32_t dst, bool verify_csum, tern_tcp_hdr *out);

/* Length of the header emit would write for these options: 20 plus the
 * options, padded to a multiple of 4 (at most 60). */
TERN_API size_t tern_tcp_hdr_len(const tern_tcp_opts *opts);

/* Writes the header and options of h (hdr_len, csum and payload fields are
 * ignored; the checksum field is written as 0). Option order follows Linux:
 * MSS, SACK-permitted+timestamps, window scale, SACK blocks, NOP-padded.
 * Returns the header length, or 0 if it does not fit in cap. */
TERN_API size_t tern_tcp_emit(uint8_t *buf, size_t cap, const tern_tcp_hdr *h);

/* Flags as text, "SYN|ACK" style, ACK last as in the usual notation
 * (SYN+ACK, FIN+ACK): SYN FIN RST PSH URG ECE CWR ACK; returns buf. */
TERN_API char *tern_tcp_flags_format(uint8_t flags, char *buf, size_t size);

/* Big-endian load/store helpers, for callers that build packets by hand. */
static inline uint16_t tern_load16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t tern_load32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}
static inline void tern_store16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void tern_store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#ifdef __cplusplus
}
#endif
#endif
