/* Segments out: the engine's tcp_seg becomes an IPv4 packet, headers in
 * a small buffer and payload straight from the send buffer, written to
 * the link as pieces. */
#include "ip/ip.h"
#include "stack/stack.h"

void stack_trace_seg(tern_stack *s, const tern_endpoint *src,
		     const tern_endpoint *dst, const tern_tcp_hdr *h,
		     uint32_t len, bool tx, tern_time now)
{
	tern_trace_event ev = {.kind = TERN_TRACE_SEG, .t = now};

	ev.seg.tx = tx;
	ev.seg.src = *src;
	ev.seg.dst = *dst;
	ev.seg.flags = h->flags;
	ev.seg.seq = h->seq;
	ev.seg.ack = h->ack;
	ev.seg.len = len;
	ev.seg.win = h->win;
	ev.seg.mss = (h->opts.present & TERN_TCPOPT_MSS) ? h->opts.mss : 0;
	stack_trace(s, &ev);
}

void stack_send_tcp(tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote, const tcp_seg *seg,
		    tern_time now)
{
	uint8_t hdr[TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MAX];
	tern_tcp_hdr th = {
		.sport = local->port,
		.dport = remote->port,
		.seq = seg->seq,
		.ack = seg->ack,
		.flags = seg->flags,
		.win = seg->win,
		.opts = seg->opts,
	};
	size_t tl = tern_tcp_emit(hdr + TERN_IPV4_HDR_MIN,
				  sizeof(hdr) - TERN_IPV4_HDR_MIN, &th);
	ip_header(hdr, local->addr, remote->addr, TERN_IPPROTO_TCP,
		  (uint8_t)s->cfg.ip_default_ttl, s->ip_id++, tl + seg->len);

	tern_csum cs;
	tern_csum_init(&cs);
	tern_csum_add_pseudo(&cs, local->addr, remote->addr, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + seg->len));
	tern_csum_add(&cs, hdr + TERN_IPV4_HDR_MIN, tl);
	for (int i = 0; i < seg->ndata; i++)
		tern_csum_add(&cs, seg->data[i].base, seg->data[i].len);
	tern_store16(hdr + TERN_IPV4_HDR_MIN + 16, tern_csum_final(&cs));

	tern_iov iov[3] = {{hdr, TERN_IPV4_HDR_MIN + tl}};
	for (int i = 0; i < seg->ndata; i++)
		iov[1 + i] = seg->data[i];

	s->stats.counters[TERN_CTR_TCP_OUT_SEGS]++;
	s->stats.counters[TERN_CTR_IP_OUT_REQUESTS]++;
	if (seg->flags & TERN_TCP_RST)
		s->stats.counters[TERN_CTR_TCP_OUT_RSTS]++;
	if (s->ntrace)
		stack_trace_seg(s, local, remote, &th, seg->len, true, now);
	if (!s->link || tern_link_send(s->link, iov, 1 + seg->ndata, now) < 0)
		s->stats.counters[TERN_CTR_IP_OUT_DISCARDS]++;
}
