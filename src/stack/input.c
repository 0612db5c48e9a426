/* Packets in: IPv4 checks, then TCP demultiplexing to a connection, a
 * listener (RFC 9293 3.10.7.2) or nobody (3.10.7.1). */
#include "ip/ip.h"
#include "stack/stack.h"

/* A whole datagram, to its protocol. */
static void deliver(tern_stack *s, const tern_ipv4_hdr *ip,
		    const tern_frame_meta *meta, tern_time now)
{
	switch (ip->proto) {
	case TERN_IPPROTO_TCP:
		s->stats.counters[TERN_CTR_IP_IN_DELIVERS]++;
		stack_tcp_input(s, ip, meta, now);
		break;
	case TERN_IPPROTO_ICMP:
		s->stats.counters[TERN_CTR_IP_IN_DELIVERS]++;
		stack_icmp_input(s, ip, now);
		break;
	default:
		stack_drop(s, TERN_DROP_IP_PROTO, NULL, NULL, now);
	}
}

/* Evictions under the memory bound are counted apart by the reassembler
 * (an input can report only one reason). */
static void count_evicted(tern_stack *s, tern_time now)
{
	for (unsigned n = ip_reasm_take_evicted(&s->reasm); n > 0; n--)
		stack_drop(s, TERN_DROP_IP_FRAG_NO_MEMORY, NULL, NULL, now);
}

/* RFC 791 3.2: a fragment waits for the others; the datagram they make
 * is delivered as if it had come whole. */
static void reassemble(tern_stack *s, const tern_ipv4_hdr *frag, tern_time now)
{
	const uint8_t *pkt;
	size_t len;
	tern_ipv4_hdr whole;

	s->stats.counters[TERN_CTR_IP_REASM_REQDS]++;
	int r = ip_reasm_input(&s->reasm, frag, now, &pkt, &len);
	count_evicted(s, now);
	if (r < 0) {
		s->stats.counters[TERN_CTR_IP_REASM_FAILS]++;
		stack_drop(s, -r, NULL, NULL, now);
	} else if (r > 0 && tern_ipv4_parse(pkt, len, &whole) == 0) {
		s->stats.counters[TERN_CTR_IP_REASM_OKS]++;
		deliver(s, &whole, NULL, now);
	}
}

void stack_ip_expire(tern_stack *s, tern_time now)
{
	if (ip_reasm_next_deadline(&s->reasm) > now)
		return;
	for (unsigned n = ip_reasm_expire(&s->reasm, now); n > 0; n--) {
		s->stats.counters[TERN_CTR_IP_REASM_FAILS]++;
		stack_drop(s, TERN_DROP_IP_FRAG_TIMEOUT, NULL, NULL, now);
	}
}

/* A GSO/GRO packet longer than the MTU is taken like any other: IP
 * checks the total length against the frame only. */
void tern_stack_input_meta(tern_stack *s, const uint8_t *pkt, size_t len,
			   const tern_frame_meta *meta, tern_time now)
{
	tern_ipv4_hdr ip;

	now = stack_clock(s, now);
	stack_enter(s);
	s->stats.counters[TERN_CTR_IP_IN_RECEIVES]++;
	int r = ip_accept(pkt, len, s->addr, &ip);
	if (r)
		stack_drop(s, r, NULL, NULL, now);
	else if (ip.mf || ip.frag_off)
		reassemble(s, &ip, now);
	else
		deliver(s, &ip, meta, now);
	stack_leave(s, now);
}

void tern_stack_input(tern_stack *s, const uint8_t *pkt, size_t len,
		      tern_time now)
{
	tern_stack_input_meta(s, pkt, len, NULL, now);
}

/* RFC 9293 3.10.7.1: no connection. A RST goes unanswered; anything else
 * draws one. */
static void input_closed(tern_stack *s, const tern_endpoint *local,
			 const tern_endpoint *remote, const tern_tcp_hdr *h,
			 tern_time now)
{
	tcp_seg rst;

	stack_drop(s, TERN_DROP_TCP_NO_SOCKET, remote, local, now);
	if (tcp_reset_for(h, &rst))
		stack_send_tcp(s, local, remote, &rst, 0, now);
}

/* Linux's sk_acceptq_is_full(): a listener holds backlog + 1 completed
 * connections (so listen(fd, 0) admits one). */
static bool aq_full(const tern_conn *l)
{
	return l->aq_len > l->backlog;
}

bool listener_overflow(tern_conn *l, const tern_endpoint *local,
		       const tern_endpoint *remote, tern_time now)
{
	tern_stack *s = l->stack;

	if (!aq_full(l))
		return false;
	s->stats.counters[TERN_CTR_TCP_LISTEN_OVERFLOWS]++;
	s->stats.counters[TERN_CTR_TCP_LISTEN_DROPS]++;
	stack_drop(s, TERN_DROP_TCP_LISTEN_OVERFLOW, remote, local, now);
	return true;
}

tern_conn *listener_child(tern_conn *l, const tern_endpoint *local,
			  const tern_endpoint *remote, tern_time now)
{
	tern_stack *s = l->stack;
	tern_conn *c = conn_new(s, &l->opts);

	if (!c) {
		stack_drop(s, TERN_DROP_TCP_NO_MEMORY, remote, local, now);
		return NULL;
	}
	c->local = *local;
	c->remote = *remote;
	c->cb = NULL; /* the application sets its own after accept() */
	c->user = NULL;
	c->listener = l;
	c->sib_next = l->children;
	if (l->children)
		l->children->sib_prev = c;
	l->children = c;
	l->nchildren++;
	table_insert(c);
	s->live++; /* born in LISTEN, a clone of its listener */
	s->stats.counters[TERN_CTR_TCP_PASSIVE_OPENS]++;
	c->tcb.ts_offset = stack_ts_offset(s, local, remote);
	return c;
}

/* Linux's tcp_conn_request: a SYN that finds the SYN queue full (its
 * SYN_RECEIVED children, tcp_max_syn_backlog of them), or any SYN with
 * tcp_syncookies = 2, gets a cookie, or with cookies off is dropped
 * (tcp_syn_flood_action). Returns true if it is to get a cookie, false
 * to go on; *dropped when it went. */
static bool syn_queue_full(tern_conn *l, const tern_endpoint *local,
			   const tern_endpoint *remote, tcp_seq tw_isn,
			   tern_time now, bool *dropped)
{
	tern_stack *s = l->stack;

	*dropped = false;
	/* a SYN that ended a TIME_WAIT (RFC 6191) is a proven peer: it
	 * skips the queue's bound and cookies, as in Linux (`isn` set) */
	if (tw_isn || (s->cfg.tcp_syncookies != 2 &&
		       l->nchildren < s->cfg.tcp_max_syn_backlog))
		return false;
	if (s->cfg.tcp_syncookies) {
		s->stats.counters[TERN_CTR_TCP_REQQ_FULL_COOKIES]++;
		return true;
	}
	s->stats.counters[TERN_CTR_TCP_REQQ_FULL_DROP]++;
	s->stats.counters[TERN_CTR_TCP_LISTEN_DROPS]++;
	stack_drop(s, TERN_DROP_TCP_SYN_QUEUE_FULL, remote, local, now);
	*dropped = true;
	return false;
}

/* A SYN for a listener: a child TCB takes it, or a SYN cookie answers it
 * when the SYN queue is full. A full accept queue drops the SYN, cookie
 * or not, as Linux's tcp_conn_request does after its cookie decision
 * (the peer retries). */
static void listen_syn(tern_conn *l, const tern_endpoint *local,
		       const tern_endpoint *remote, const tern_tcp_hdr *h,
		       tcp_seq tw_isn, tern_time now)
{
	tern_stack *s = l->stack;
	bool dropped;
	bool cookie = syn_queue_full(l, local, remote, tw_isn, now, &dropped);

	if (dropped || listener_overflow(l, local, remote, now))
		return;
	if (cookie) {
		syncookie_answer(l, local, remote, h, now);
		return;
	}
	tern_conn *c = listener_child(l, local, remote, now);
	if (!c)
		return;
	tcp_seq isn = tw_isn ? tw_isn : stack_isn(s, local, remote, now);
	tcp_input_listen_syn(&c->tcb, h, isn, now);
	conn_sync_timer(c);
}

/* RFC 9293 3.10.7.2: first RST (ignored), then ACK (reset), then SYN.
 * An ACK may bring back a SYN cookie (Linux checks any segment without
 * SYN or RST, tcp_v4_cookie_check). */
static void input_listen(tern_conn *l, const tern_endpoint *local,
			 const tern_endpoint *remote, const tern_tcp_hdr *h,
			 tcp_seq tw_isn, tern_time now)
{
	tern_stack *s = l->stack;
	tcp_seg rst;

	if (h->flags & TERN_TCP_RST) {
		stack_drop(s, TERN_DROP_TCP_LISTEN_NO_SYN, remote, local, now);
	} else if (h->flags & TERN_TCP_ACK) {
		int why = TERN_DROP_TCP_LISTEN_NO_SYN;
		if (!(h->flags & TERN_TCP_SYN))
			why = syncookie_ack(l, local, remote, h, now);
		if (why == 0)
			return;
		stack_drop(s, why, remote, local, now);
		if (tcp_reset_for(h, &rst))
			stack_send_tcp(s, local, remote, &rst, 0, now);
	} else if (h->flags & TERN_TCP_SYN) {
		listen_syn(l, local, remote, h, tw_isn, now);
	} else {
		stack_drop(s, TERN_DROP_TCP_LISTEN_NO_SYN, remote, local, now);
	}
}

/* Linux keeps a handshake-completing ACK from overflowing the accept
 * queue: the ACK is dropped and the SYN+ACK retransmits later. */
static bool accept_queue_full(const tern_conn *c, const tern_tcp_hdr *h)
{
	return c->listener && c->tcb.state == TERN_TCP_SYN_RECEIVED &&
	       (h->flags & TERN_TCP_ACK) &&
	       !(h->flags & (TERN_TCP_RST | TERN_TCP_SYN)) &&
	       aq_full(c->listener);
}

/* RFC 6191 for a connection still held by its application in TIME_WAIT
 * (an orphan's is a record, timewait.c): a SYN that may open a new
 * incarnation, with a listener to take it, ends the wait. */
static bool time_wait_new_syn(tern_conn *c, const tern_tcp_hdr *h,
			      tern_time now, tcp_seq *isn)
{
	tern_stack *s = c->stack;
	tcp_tw tw;

	if (c->tcb.state != TERN_TCP_TIME_WAIT ||
	    !table_listener(s, c->local.port))
		return false;
	tcp_tw_capture(&tw, &c->tcb, now);
	if (!tcp_tw_syn_acceptable(&tw, h, &s->cfg))
		return false;
	*isn = timewait_next_isn(tw.snd_nxt);
	tcp_drop(&c->tcb, "rx SYN", now);
	return true;
}

/* RFC 9293 3.1's checksum is verified unless the link vouches for it
 * (CSUM_OK: checked by the device, or from the local kernel). */
void stack_tcp_input(tern_stack *s, const tern_ipv4_hdr *ip,
		     const tern_frame_meta *meta, tern_time now)
{
	tern_tcp_hdr h;
	bool verify = !meta || !(meta->flags & TERN_FRAME_CSUM_OK);
	int r = tern_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst,
			       verify, &h);
	tern_endpoint local = {ip->dst, 0}, remote = {ip->src, 0};

	if (r) {
		stack_drop(s, r, &remote, &local, now);
		return;
	}
	local.port = h.dport;
	remote.port = h.sport;
	if (h.sport == 0 || h.dport == 0) {
		stack_drop(s, TERN_DROP_TCP_PORT_ZERO, &remote, &local, now);
		return;
	}
	s->stats.counters[TERN_CTR_TCP_IN_SEGS] +=
		stack_seg_count(h.payload_len, meta ? meta->gso_size : 0);
	if (s->ntrace)
		stack_trace_seg(s, &remote, &local, &h, (uint32_t)h.payload_len,
				false, now);
	tern_conn *c = table_lookup(s, &local, &remote);
	uint32_t tw = 0;
	tcp_seq tw_isn = 0; /* a SYN that ended a TIME_WAIT: its ISN */
	if (c && time_wait_new_syn(c, &h, now, &tw_isn))
		c = NULL; /* its TIME_WAIT ended for this SYN (RFC 6191) */
	else if (!c)
		tw = timewait_lookup(s, &local, &remote);
	if (tw && !timewait_input(s, tw, &h, now, &tw_isn)) {
		/* the record took it */
	} else if (c) {
		if (accept_queue_full(c, &h)) {
			s->stats.counters[TERN_CTR_TCP_LISTEN_OVERFLOWS]++;
			stack_drop(s, TERN_DROP_TCP_LISTEN_OVERFLOW, &remote,
				   &local, now);
			return;
		}
		tcp_input(&c->tcb, &h, now);
		conn_sync_timer(c);
	} else if ((c = table_listener(s, local.port)) != NULL) {
		input_listen(c, &local, &remote, &h, tw_isn, now);
	} else {
		input_closed(s, &local, &remote, &h, now);
	}
}
