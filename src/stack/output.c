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

/* The TCP checksum (RFC 9293 3.1): whole, or, when the link finishes it
 * (tx_csum), only the pseudo-header sum for this packet's length, folded
 * and not complemented, with meta saying where the device completes it
 * (Linux's CHECKSUM_PARTIAL: csum_start the TCP header, csum_offset its
 * checksum field). The payload is then never read on the way out. */
static void tcp_checksum(const tern_stack *s, uint8_t *th, size_t tl,
			 const tcp_seg *seg, uint32_t src, uint32_t dst,
			 tern_frame_meta *meta)
{
	tern_csum cs;

	tern_csum_init(&cs);
	tern_csum_add_pseudo(&cs, src, dst, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + seg->len));
	if (s->link && s->link->tx_csum) {
		tern_store16(th + 16, (uint16_t)~tern_csum_final(&cs));
		meta->flags |= TERN_FRAME_CSUM_PARTIAL;
		meta->csum_start = TERN_IPV4_HDR_MIN;
		meta->csum_offset = 16;
		return;
	}
	tern_csum_add(&cs, th, tl);
	for (int i = 0; i < seg->ndata; i++)
		tern_csum_add(&cs, seg->data[i].base, seg->data[i].len);
	tern_store16(th + 16, tern_csum_final(&cs));
}

/* How many segments a packet of len payload bytes becomes when cut at
 * mss: Linux counts TcpOutSegs so (tcp_skb_pcount), and TcpInSegs by the
 * segments a GRO packet holds. */
uint32_t stack_seg_count(size_t len, uint32_t mss)
{
	return mss && len > mss ? (uint32_t)((len + mss - 1) / mss) : 1;
}

static void count_out(tern_stack *s, const tcp_seg *seg, uint32_t segs)
{
	s->stats.counters[TERN_CTR_TCP_OUT_SEGS] += segs;
	s->stats.counters[TERN_CTR_IP_OUT_REQUESTS]++;
	if (seg->flags & TERN_TCP_RST)
		s->stats.counters[TERN_CTR_TCP_OUT_RSTS]++;
}

void stack_send_tcp(tern_stack *s, const tern_endpoint *local,
		    const tern_endpoint *remote, const tcp_seg *seg,
		    uint32_t mss, tern_time now)
{
	uint8_t hdr[TERN_IPV4_HDR_MIN + TERN_TCP_HDR_MAX];
	tern_frame_meta meta = {0};
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
	tcp_checksum(s, hdr + TERN_IPV4_HDR_MIN, tl, seg, local->addr,
		     remote->addr, &meta);
	/* A segment beyond the MSS is a TSO segment (tcp_tcb.tso_max): the
	 * link cuts it at the MSS, which is the payload each segment
	 * carries with this header's options already off it (the engine
	 * takes the timestamps off snd_mss, as Linux's mss_cache; a TSO
	 * segment carries no SACK blocks). */
	if (mss && seg->len > mss)
		meta.gso_size = (uint16_t)mss;

	tern_iov iov[3] = {{hdr, TERN_IPV4_HDR_MIN + tl}};
	for (int i = 0; i < seg->ndata; i++)
		iov[1 + i] = seg->data[i];

	count_out(s, seg, stack_seg_count(seg->len, meta.gso_size));
	if (s->ntrace)
		stack_trace_seg(s, local, remote, &th, seg->len, true, now);
	if (!s->link ||
	    tern_link_send(s->link, iov, 1 + seg->ndata,
			   meta.flags || meta.gso_size ? &meta : NULL, now) < 0)
		s->stats.counters[TERN_CTR_IP_OUT_DISCARDS]++;
}
