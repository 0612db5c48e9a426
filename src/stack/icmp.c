/* ICMP for the stack (RFC 792, RFC 1122 3.2.2): echo replies so that ping
 * works, and errors about our TCP segments handed to their connection. */
#include "ip/icmp.h"
#include "ip/ip.h"
#include "stack/stack.h"

/* RFC 1122 3.2.2.6: the reply carries the request's data back. It goes
 * only if it fits the link (tern does not fragment what it sends). */
static void echo_reply(tern_stack *s, const tern_ipv4_hdr *ip,
		       const ip_icmp *req, tern_time now)
{
	size_t len = IP_ICMP_HDR_LEN + req->body_len;
	uint32_t mtu = s->link && s->link->mtu ? s->link->mtu : 1500;

	if (!ip_icmp_may_answer(req, ip->dst) ||
	    TERN_IPV4_HDR_MIN + len > mtu) {
		stack_drop(s, TERN_DROP_ICMP_UNHANDLED, NULL, NULL, now);
		return;
	}
	uint8_t *buf = stack_alloc(s, TERN_IPV4_HDR_MIN + len);
	if (!buf)
		return;
	size_t n = ip_icmp_echo_reply(buf + TERN_IPV4_HDR_MIN, len, req);
	ip_header(buf, s->addr, ip->src, TERN_IPPROTO_ICMP,
		  (uint8_t)s->cfg.ip_default_ttl, s->ip_id++, n);
	tern_iov iov = {buf, TERN_IPV4_HDR_MIN + n};
	s->stats.counters[TERN_CTR_ICMP_OUT_ECHO_REPS]++;
	s->stats.counters[TERN_CTR_IP_OUT_REQUESTS]++;
	if (!s->link || tern_link_send(s->link, &iov, 1, now) < 0)
		s->stats.counters[TERN_CTR_IP_OUT_DISCARDS]++;
	stack_free(s, buf, TERN_IPV4_HDR_MIN + len);
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
