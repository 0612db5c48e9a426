/* ICMP errors about our segments (RFC 5927, RFC 1122 4.2.3.9, RFC 1191).
 * The quoted sequence number must lie in SND.UNA .. SND.NXT, so a blind
 * attacker cannot aim one; and in a synchronized state an error is only
 * "soft": kept, and reported if the connection later times out. A forged
 * ICMP message can therefore never reset a connection, only fail one in
 * SYN_SENT (as Linux), where the quote must name our ISN. */
#include "tcp/internal.h"

enum {
	ICMP_DEST_UNREACH = 3,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAM_PROBLEM = 12,
	UNREACH_NET = 0,
	UNREACH_HOST = 1,
	UNREACH_PROTO = 2,
	UNREACH_PORT = 3,
	UNREACH_FRAG_NEEDED = 4,
	UNREACH_NET_TOS = 11,
	UNREACH_NET_UNKNOWN = 6,
};

/* Linux's icmp_err_convert, in tern's errors. */
static int icmp_to_error(uint8_t type, uint8_t code)
{
	if (type != ICMP_DEST_UNREACH)
		return TERN_ERR_HOSTUNREACH;
	switch (code) {
	case UNREACH_NET:
	case UNREACH_NET_UNKNOWN:
	case UNREACH_NET_TOS:
		return TERN_ERR_NETUNREACH;
	case UNREACH_PROTO:
	case UNREACH_PORT:
		return TERN_ERR_REFUSED;
	default:
		return TERN_ERR_HOSTUNREACH;
	}
}

/* RFC 1191: a smaller path MTU. Linux ignores one below 552 bytes
 * (min_pmtu), which would otherwise let a forged message shrink segments
 * to nothing (RFC 5927 7). Segments go again, smaller, from SND.UNA. */
static void path_mtu(tcp_tcb *t, uint16_t mtu, tern_time now)
{
	uint32_t mss = (mtu < 552 ? 552u : mtu) - 40;

	if (mss >= t->snd_mss)
		return;
	t->snd_mss = (uint16_t)mss;
	if (t->state >= TERN_TCP_ESTABLISHED && t->snd_una != t->snd_max) {
		t->snd_nxt = t->snd_una;
		tcp_output(t, now);
	}
}

void tcp_icmp_error(tcp_tcb *t, uint8_t type, uint8_t code, uint32_t seq,
		    uint16_t mtu, tern_time now)
{
	if (!seq_in(seq, t->snd_una, t->snd_max)) {
		seg_drop(t, TERN_DROP_ICMP_INVALID, now); /* RFC 5927 4.1 */
		return;
	}
	if (type == ICMP_DEST_UNREACH && code == UNREACH_FRAG_NEEDED) {
		path_mtu(t, mtu, now);
		return;
	}
	if (type != ICMP_DEST_UNREACH && type != ICMP_TIME_EXCEEDED &&
	    type != ICMP_PARAM_PROBLEM)
		return;
	int err = icmp_to_error(type, code);
	if (t->state == TERN_TCP_SYN_SENT && type == ICMP_DEST_UNREACH) {
		stat_inc(t, TERN_CTR_TCP_ATTEMPT_FAILS);
		tcp_enter_closed(t, "rx ICMP", err, now);
		return;
	}
	if (t->state == TERN_TCP_SYN_RECEIVED && (t->flags & TCP_F_PASSIVE) &&
	    type == ICMP_DEST_UNREACH) {
		tcp_enter_closed(t, "rx ICMP", 0, now); /* a half-open child */
		return;
	}
	t->soft_err = err; /* RFC 5927 4.2: soft in synchronized states */
}
