/* Selective acknowledgments (RFC 2018) and D-SACK (RFC 2883) on both
 * sides, and the sender's SACK-based loss recovery (RFC 6675).
 *
 * Receiving, the blocks come from the out-of-order table: first the one
 * holding the segment that drew the ACK (RFC 2018 4), then the others,
 * highest first; a duplicate is reported once as a D-SACK block ahead
 * of them. Sending, the scoreboard is a sorted set of SACKed ranges
 * above SND.UNA, allocated when the first block arrives and freed with
 * the send buffer. */
#include "tcp/internal.h"

/* RFC 6675 2: DupThresh. */
#define DUP_THRESH 3

/* ---- receiving: the blocks our ACKs carry ---- */

/* RFC 2883: a duplicate segment [left, right) is reported in the next
 * ACK's first block. */
void sack_dsack_note(tcp_tcb *t, tcp_seq left, tcp_seq right)
{
	if (!(t->flags & TCP_F_SACK) || left == right)
		return;
	t->dsack = (tcp_range){left, right};
	t->flags |= TCP_F_DSACK | TCP_F_ACK_NOW;
	stat_inc(t, TERN_CTR_TCP_DSACK_SENT);
}

static void put_block(tern_tcp_opts *o, const tcp_range *r)
{
	o->sack[o->sack_count].left = r->left;
	o->sack[o->sack_count].right = r->right;
	o->sack_count++;
}

/* The blocks of an ACK, as many as `room` option bytes take (2 bytes
 * of kind and length, 2 of padding, 8 a block): 3 beside timestamps, 4
 * without (RFC 2018 3). A D-SACK waits for a segment with room. */
void sack_fill(tcp_tcb *t, tern_tcp_opts *o, uint32_t room)
{
	int max = room >= 12 ? (int)((room - 4) / 8) : 0;
	int first = -1;

	if (max > TERN_TCP_SACK_MAX)
		max = TERN_TCP_SACK_MAX;
	o->sack_count = 0;
	if (max == 0)
		return;

	if (t->flags & TCP_F_DSACK) {
		put_block(o, &t->dsack);
		t->flags &= ~TCP_F_DSACK;
	}
	for (int i = 0; i < t->nooo; i++)
		if (seq_in(t->ooo_last, t->ooo[i].left, t->ooo[i].right))
			first = i;
	if (first >= 0 && o->sack_count < max)
		put_block(o, &t->ooo[first]);
	for (int i = t->nooo - 1; i >= 0 && o->sack_count < max; i--)
		if (i != first)
			put_block(o, &t->ooo[i]);
	if (o->sack_count > 0)
		o->present |= TERN_TCPOPT_SACK;
}

/* ---- sending: the scoreboard ---- */

void sack_release(tcp_tcb *t)
{
	if (!t->sacked)
		return;
	t->env->free(t, t->sacked, TCP_SACKED_MAX * sizeof(tcp_range));
	t->sacked = NULL;
	t->nsacked = 0;
}

/* RFC 2883 4: a first block below the cumulative ACK, or inside the
 * second, reports a duplicate, not new data. */
static bool is_dsack(const tern_tcp_opts *o, tcp_seq ack)
{
	if (o->sack_count == 0)
		return false;
	const tern_sack_block *b = &o->sack[0];
	if (seq_le(b->right, ack))
		return true;
	return o->sack_count > 1 && seq_ge(b->left, o->sack[1].left) &&
	       seq_le(b->right, o->sack[1].right);
}

static uint32_t sacked_bytes(const tcp_tcb *t)
{
	uint32_t n = 0;

	for (int i = 0; i < t->nsacked; i++)
		n += seq_diff(t->sacked[i].right, t->sacked[i].left);
	return n;
}

/* RFC 6675 5: the scoreboard takes every valid block (one within
 * SND.UNA..SND.MAX); true when one SACKed octets not SACKed before. */
bool sack_update(tcp_tcb *t, const tcp_in *s)
{
	const tern_tcp_opts *o = s->opts;
	int i = 0;

	if (t->sacked)
		ranges_trim_below(t->sacked, &t->nsacked, t->snd_una);
	if (!(o->present & TERN_TCPOPT_SACK))
		return false;
	if (is_dsack(o, s->ack)) {
		stat_inc(t, TERN_CTR_TCP_DSACK_RECV);
		i = 1;
	}
	if (!t->sacked && !t->snd.buf)
		return false; /* nothing but a FIN outstanding */
	if (!t->sacked) {
		t->sacked =
			t->env->alloc(t, TCP_SACKED_MAX * sizeof(tcp_range));
		if (!t->sacked)
			return false;
	}
	uint32_t before = sacked_bytes(t);
	for (; i < o->sack_count; i++) {
		tcp_seq l = o->sack[i].left, r = o->sack[i].right;
		if (!seq_lt(l, r) || seq_le(l, t->snd_una) ||
		    seq_gt(r, t->snd_max))
			continue;
		ranges_add(t->sacked, &t->nsacked, TCP_SACKED_MAX, l, r);
	}
	return sacked_bytes(t) > before;
}

/* Hole i lies below SACKed range i (hole 0 starts at SND.UNA). RFC 6675
 * 4, IsLost(): its octets are lost when more than (DupThresh - 1) * SMSS
 * bytes, or DupThresh ranges, are SACKed above them. */
static bool hole_lost(const tcp_tcb *t, int i)
{
	uint32_t above = 0;

	for (int j = i; j < t->nsacked; j++)
		above += seq_diff(t->sacked[j].right, t->sacked[j].left);
	return above > (DUP_THRESH - 1) * (uint32_t)t->snd_mss ||
	       t->nsacked - i >= DUP_THRESH;
}

static tcp_seq hole_start(const tcp_tcb *t, int i)
{
	return i == 0 ? t->snd_una : t->sacked[i - 1].right;
}

static tcp_seq hole_end(const tcp_tcb *t, int i)
{
	return i < t->nsacked ? t->sacked[i].left : t->snd_max;
}

bool sack_is_lost(const tcp_tcb *t, tcp_seq seq)
{
	for (int i = 0; i < t->nsacked; i++)
		if (seq_lt(seq, t->sacked[i].left))
			return seq_ge(seq, hole_start(t, i)) && hole_lost(t, i);
	return false;
}

/* RFC 6675 4, SetPipe(): octets not SACKed count once if not lost, and
 * once more if retransmitted (below HighRxt). */
uint32_t sack_pipe(const tcp_tcb *t)
{
	uint32_t pipe = 0;

	for (int i = 0; i <= t->nsacked; i++) {
		tcp_seq a = hole_start(t, i), b = hole_end(t, i);
		if (!seq_lt(a, b))
			continue;
		if (i == t->nsacked || !hole_lost(t, i))
			pipe += seq_diff(b, a);
		if (seq_gt(t->high_rxt, a))
			pipe += seq_diff(seq_min(t->high_rxt, b), a);
	}
	return pipe;
}

/* RFC 6675 4, NextSeg() rules 1 and 3: the first unSACKed octet above
 * HighRxt in a lost hole; failing that (rescue, rule 3) in any hole
 * below the highest SACKed octet. */
static bool next_hole(const tcp_tcb *t, bool lost_only, tcp_seq *seq,
		      uint32_t *len)
{
	for (int i = 0; i < t->nsacked; i++) {
		tcp_seq a = seq_max(hole_start(t, i), t->high_rxt);
		tcp_seq b = hole_end(t, i);
		if (!seq_lt(a, b) || (lost_only && !hole_lost(t, i)))
			continue;
		*seq = a;
		*len = min_u32(seq_diff(b, a), t->snd_mss);
		return true;
	}
	return false;
}

/* RFC 6675 5, step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg()
 * names: a lost segment, else new data, else a rescue. */
void sack_recovery_output(tcp_tcb *t, tern_time now)
{
	for (int guard = 0; guard < 1024; guard++) {
		tcp_seq seq;
		uint32_t len;
		if (sack_pipe(t) + t->snd_mss > t->cwnd)
			return;
		if (next_hole(t, true, &seq, &len)) {
			out_retransmit(t, seq, len, now);
			t->high_rxt = seq + len;
		} else if (snd_new_data(t, now)) {
			continue;
		} else if (next_hole(t, false, &seq, &len)) {
			out_retransmit(t, seq, len, now);
			t->high_rxt = seq + len;
		} else {
			return;
		}
	}
}

/* RFC 6675 5 step (4): fast retransmit, with cwnd = ssthresh and pipe
 * governing what follows; false if the SACK path does not apply. */
bool sack_enter_recovery(tcp_tcb *t, tern_time now)
{
	if (!(t->flags & TCP_F_SACK) || !t->sacked)
		return false;
	uint32_t flight = seq_diff(t->snd_max, t->snd_una);
	t->recover = t->snd_max;
	t->ssthresh = t->cc->ssthresh(t, flight - t->lt_bytes, now);
	t->cwnd = t->ssthresh;
	t->lt_bytes = 0;
	t->flags |= TCP_F_IN_RECOVERY;
	t->high_rxt = t->snd_una;
	stat_inc(t, TERN_CTR_TCP_FAST_RETRANS);
	stat_inc(t, TERN_CTR_TCP_SACK_RECOVERY);
	uint32_t len =
		min_u32(seq_diff(hole_end(t, 0), t->snd_una), t->snd_mss);
	out_retransmit(t, t->snd_una, len, now);
	t->high_rxt = t->snd_una + len;
	return true;
}

/* Should a duplicate ACK start recovery? RFC 6675 5: DupThresh of them,
 * or the first unacknowledged octet already lost by the SACK rule. */
bool sack_loss_detected(const tcp_tcb *t)
{
	if (t->dupacks >= DUP_THRESH)
		return true;
	return (t->flags & TCP_F_SACK) && t->sacked &&
	       sack_is_lost(t, t->snd_una);
}

/* After a timeout, go-back-N skips what the peer holds (RFC 6675 5.1):
 * returns how many octets from seq may be sent before the next SACKed
 * range, moving seq past one it lies in. */
uint32_t sack_skip(const tcp_tcb *t, tcp_seq *seq, uint32_t len)
{
	if (!t->sacked || !seq_lt(*seq, t->snd_max))
		return len;
	for (int i = 0; i < t->nsacked; i++) {
		if (seq_in(*seq, t->sacked[i].left, t->sacked[i].right))
			*seq = t->sacked[i].right;
		else if (seq_lt(*seq, t->sacked[i].left))
			return min_u32(len, seq_diff(t->sacked[i].left, *seq));
	}
	return len;
}
