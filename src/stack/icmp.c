/* ICMP for the stack (RFC 792, RFC 1122 3.2.2): echo replies so that ping
 * works, and errors about our TCP segments handed to their connection. */
#include "ip/icmp.h"
#include "ip/ip.h"
#include "stack/stack.h"

static void send_frame(tern_stack *s, const void *hdr, const void *body,
		       size_t body_len, tern_time now)
{
	tern_iov iov[2] = {{hdr, TERN_IPV4_HDR_MIN}, {body, body_len}};

	s->stats.counters[TERN_CTR_IP_OUT_REQUESTS]++;
	if (!s->link || tern_link_send(s->link, iov, 2, NULL, now) < 0)
		s->stats.counters[TERN_CTR_IP_OUT_DISCARDS]++;
}

/* RFC 791 3.2: a datagram larger than the link goes in fragments, each
 * carrying a multiple of 8 bytes but the last. (Only ICMP needs this:
 * TCP sizes its segments to the MSS and sends with DF.) */
static void send_datagram(tern_stack *s, uint32_t dst, uint8_t proto,
			  const uint8_t *body, size_t len, tern_time now)
{
	uint32_t mtu = s->link && s->link->mtu ? s->link->mtu : 1500;
	uint8_t ttl = (uint8_t)s->cfg.ip_default_ttl, hdr[TERN_IPV4_HDR_MIN];
	uint16_t id = s->ip_id++;

	if (TERN_IPV4_HDR_MIN + len <= mtu) {
		ip_header(hdr, s->addr, dst, proto, ttl, id, len);
		send_frame(s, hdr, body, len, now);
		return;
	}
	size_t step = (mtu - TERN_IPV4_HDR_MIN) & ~(size_t)7;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		ip_header_frag(hdr, s->addr, dst, proto, ttl, id, n,
			       (uint16_t)off, off + n < len);
		send_frame(s, hdr, body + off, n, now);
	}
}

/* RFC 1122 3.2.2.6: the reply carries the request's data back. */
static void echo_reply(tern_stack *s, const tern_ipv4_hdr *ip,
		       const ip_icmp *req, tern_time now)
{
	size_t len = IP_ICMP_HDR_LEN + req->body_len;

	if (!ip_icmp_may_answer(req, ip->dst)) {
		stack_drop(s, TERN_DROP_ICMP_UNHANDLED, NULL, NULL, now);
		return;
	}
	uint8_t *buf = stack_alloc(s, len);
	if (!buf)
		return;
	size_t n = ip_icmp_echo_reply(buf, len, req);
	s->stats.counters[TERN_CTR_ICMP_OUT_ECHO_REPS]++;
	send_datagram(s, ip->src, TERN_IPPROTO_ICMP, buf, n, now);
	stack_free(s, buf, len);
}

/* An error quoting a TCP segment we sent goes to its connection. */
static void tcp_error(tern_stack *s, const ip_icmp *m, tern_time now)
{
	tern_endpoint local = {m->inner.src, m->inner_sport};
	tern_endpoint remote = {m->inner.dst, m->inner_dport};

	if (m->inner.proto != TERN_IPPROTO_TCP || m->inner.src != s->addr ||
	    !m->inner_has_seq) {
		stack_drop(s, TERN_DROP_ICMP_UNHANDLED, NULL, NULL, now);
		return;
	}
	tern_conn *c = table_lookup(s, &local, &remote);
	if (!c) {
		stack_drop(s, TERN_DROP_ICMP_NO_SOCKET, &remote, &local, now);
		return;
	}
	tcp_icmp_error(&c->tcb, m->type, m->code, m->inner_seq, m->mtu, now);
	conn_sync_timer(c);
}

void stack_icmp_input(tern_stack *s, const tern_ipv4_hdr *ip, tern_time now)
{
	ip_icmp m;
	int r = ip_icmp_parse(ip->payload, ip->payload_len, &m);

	if (r < 0) {
		stack_drop(s, -r, NULL, NULL, now);
		return;
	}
	s->stats.counters[TERN_CTR_ICMP_IN_MSGS]++;
	if (m.type == IP_ICMP_ECHO) {
		s->stats.counters[TERN_CTR_ICMP_IN_ECHOS]++;
		echo_reply(s, ip, &m, now);
	} else if (m.is_error) {
		s->stats.counters[TERN_CTR_ICMP_IN_ERRORS]++;
		tcp_error(s, &m, now);
	} else {
		stack_drop(s, TERN_DROP_ICMP_UNHANDLED, NULL, NULL, now);
	}
}
