/* States, their properties, and the table of legal transitions.
 *
 * The edges are those of the RFC 9293 3.3.2 diagram (figure 5) plus the
 * RST, ABORT and timeout edges of 3.10, and FIN_WAIT_1 -> TIME_WAIT for a
 * FIN that also acknowledges ours (3.10.7.4, eighth step: "If our FIN has
 * been ACKed (perhaps in this segment)"). A passive child that the RFC
 * would "return to LISTEN" (SYN_RECEIVED + RST) is a clone of its
 * listener in tern, so it goes to CLOSED and the listener stays.
 */
#include <assert.h>

#include "tcp/tcp.h"

enum {
	SYNC = TCP_P_SYNCHRONIZED,
	RECV = TCP_P_RECV_DATA,
	SEND = TCP_P_SEND_DATA,
	USER = TCP_P_USER_SEND,
	FINR = TCP_P_FIN_RECEIVED,
};

static const struct {
	const char *name;
	unsigned props;
} states[TERN_TCP_STATE_COUNT] = {
	[TERN_TCP_CLOSED] = {"CLOSED", 0},
	[TERN_TCP_LISTEN] = {"LISTEN", 0},
	[TERN_TCP_SYN_SENT] = {"SYN_SENT", USER},
	[TERN_TCP_SYN_RECEIVED] = {"SYN_RECEIVED", SYNC | USER},
	[TERN_TCP_ESTABLISHED] = {"ESTABLISHED", SYNC | RECV | SEND | USER},
	[TERN_TCP_FIN_WAIT_1] = {"FIN_WAIT_1", SYNC | RECV | SEND},
	[TERN_TCP_FIN_WAIT_2] = {"FIN_WAIT_2", SYNC | RECV},
	[TERN_TCP_CLOSE_WAIT] = {"CLOSE_WAIT", SYNC | SEND | USER | FINR},
	[TERN_TCP_CLOSING] = {"CLOSING", SYNC | SEND | FINR},
	[TERN_TCP_LAST_ACK] = {"LAST_ACK", SYNC | SEND | FINR},
	[TERN_TCP_TIME_WAIT] = {"TIME_WAIT", SYNC | FINR},
};

#define E(a, b) (1u << TERN_TCP_##b)

/* edges[from] is a bit set of the states `from` may move to. */
static const uint16_t edges[TERN_TCP_STATE_COUNT] = {
	/* OPEN passive / active */
	[TERN_TCP_CLOSED] = E(CLOSED, LISTEN) | E(CLOSED, SYN_SENT),
	/* rcv SYN (a child, cloned); CLOSE */
	[TERN_TCP_LISTEN] = E(LISTEN, SYN_RECEIVED) | E(LISTEN, CLOSED),
	/* rcv SYN (simultaneous open); rcv SYN+ACK; CLOSE, RST, timeout */
	[TERN_TCP_SYN_SENT] = E(SYN_SENT, SYN_RECEIVED) |
			      E(SYN_SENT, ESTABLISHED) | E(SYN_SENT, CLOSED),
	/* rcv ACK of SYN; CLOSE; RST, timeout, ABORT */
	[TERN_TCP_SYN_RECEIVED] = E(SYN_RECEIVED, ESTABLISHED) |
				  E(SYN_RECEIVED, FIN_WAIT_1) |
				  E(SYN_RECEIVED, CLOSED),
	/* CLOSE; rcv FIN; RST, ABORT, timeout */
	[TERN_TCP_ESTABLISHED] = E(ESTABLISHED, FIN_WAIT_1) |
				 E(ESTABLISHED, CLOSE_WAIT) |
				 E(ESTABLISHED, CLOSED),
	/* rcv ACK of FIN; rcv FIN; rcv FIN+ACK of FIN; RST, timeout */
	[TERN_TCP_FIN_WAIT_1] =
		E(FIN_WAIT_1, FIN_WAIT_2) | E(FIN_WAIT_1, CLOSING) |
		E(FIN_WAIT_1, TIME_WAIT) | E(FIN_WAIT_1, CLOSED),
	/* rcv FIN; RST, orphan timeout */
	[TERN_TCP_FIN_WAIT_2] =
		E(FIN_WAIT_2, TIME_WAIT) | E(FIN_WAIT_2, CLOSED),
	/* CLOSE; RST, ABORT, timeout */
	[TERN_TCP_CLOSE_WAIT] = E(CLOSE_WAIT, LAST_ACK) | E(CLOSE_WAIT, CLOSED),
	/* rcv ACK of FIN; RST, timeout */
	[TERN_TCP_CLOSING] = E(CLOSING, TIME_WAIT) | E(CLOSING, CLOSED),
	/* rcv ACK of FIN; RST, timeout */
	[TERN_TCP_LAST_ACK] = E(LAST_ACK, CLOSED),
	/* 2 MSL timeout; RST */
	[TERN_TCP_TIME_WAIT] = E(TIME_WAIT, CLOSED),
};

#undef E

const char *tern_tcp_state_name(int state)
{
	if (state < 0 || state >= TERN_TCP_STATE_COUNT)
		return "UNKNOWN";
	return states[state].name;
}

unsigned tcp_state_props(int state)
{
	return states[state].props;
}

bool tcp_edge_legal(int from, int to)
{
	if (from < 0 || from >= TERN_TCP_STATE_COUNT || to < 0 ||
	    to >= TERN_TCP_STATE_COUNT)
		return false;
	return (edges[from] >> to) & 1u;
}

void tcp_set_state(tcp_tcb *t, int to, const char *cause, tern_time now)
{
	int from = t->state;

	assert(tcp_edge_legal(from, to));
	t->state = (uint8_t)to;
	t->env->state(t, from, to, cause, now);
}
