/* SACK: the blocks our ACKs carry (RFC 2018 4), D-SACK both ways (RFC
 * 2883), and SACK-based loss recovery (RFC 6675) retransmitting each
 * lost segment once.
 *
 * The connection has timestamps, SACK and window scaling on; segments
 * carry 1448 bytes; the initial window is 10 segments (RFC 6928);
 * congestion control is RFC 5681's. */
#include "tcp_harness.h"

static const uint8_t SA = TERN_TCP_SYN | TERN_TCP_ACK;
static const uint8_t A = TERN_TCP_ACK;

#define ALL (TERN_TCPOPT_WSCALE | TERN_TCPOPT_SACK_PERM | TERN_TCPOPT_TIMESTAMP)
#define SEG 1448u

static void established_sack(harness *h)
{
	h_use_reno(h); /* ssthresh = FlightSize / 2 */
	h_connect(h, H_T0);
	uint32_t ts0 = h->segs[0].opts.ts_val;
	expect_none(h);
	h->peer_opts = (tern_tcp_opts){.present = ALL, .wscale = 7};
	h->peer_opts.ts_val = 1000;
	h->peer_opts.ts_ecr = ts0;
	h_in(h, SA, 0, 1, 0, AT(100));
	expect_seg(h, A, 1, 1, 0);
	expect_none(h);
	assert_int_equal(!!(h_info(h).options & TERN_TCPI_OPT_SACK),
			 h->cfg.tcp_sack);
	h->peer_opts.present = TERN_TCPOPT_TIMESTAMP;
	h->peer_opts.ts_ecr = 0; /* no RTT samples: times stay simple */
}

/* The peer's blocks on its next segment: pairs of [left, right)
 * relative to our ISS. */
static void peer_sack(harness *h, int n, const uint32_t *rel)
{
	h->peer_opts.present = TERN_TCPOPT_TIMESTAMP;
	h->peer_opts.sack_count = (uint8_t)n;
	if (n > 0)
		h->peer_opts.present |= TERN_TCPOPT_SACK;
	for (int i = 0; i < n; i++) {
		h->peer_opts.sack[i].left = h->iss + rel[2 * i];
		h->peer_opts.sack[i].right = h->iss + rel[2 * i + 1];
	}
	h->peer_opts.ts_val++;
}

/* ---- receiving: our blocks ---- */

static void expect_blocks(harness *h, const h_seg *s, int n,
			  const uint32_t *rel)
{
	assert_int_equal(s->opts.sack_count, n);
	assert_int_equal(!!(s->opts.present & TERN_TCPOPT_SACK), n > 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(s->opts.sack[i].left - h->irs, rel[2 * i]);
		assert_int_equal(s->opts.sack[i].right - h->irs,
				 rel[2 * i + 1]);
	}
}

/* RFC 2018 4: the first block holds the segment that drew the ACK; the
 * others follow (highest first here), three beside timestamps. */
static void test_blocks_of_out_of_order_data(void **state)
{
	harness *h = *state;

	established_sack(h);
	h_in(h, A, 1, 1, 100, AT(200));
	expect_none(h); /* in order, one small segment: delayed */
	h_in(h, A, 201, 1, 100, AT(201));
	expect_blocks(h, expect_seg(h, A, 1, 101, 0), 1,
		      (uint32_t[]){201, 301});
	h_in(h, A, 401, 1, 100, AT(202));
	expect_blocks(h, expect_seg(h, A, 1, 101, 0), 2,
		      (uint32_t[]){401, 501, 201, 301});
	h_in(h, A, 601, 1, 100, AT(203));
	h_in(h, A, 301, 1, 100, AT(204)); /* joins 201 and 401 */
	expect_blocks(h, expect_seg(h, A, 1, 101, 0), 3,
		      (uint32_t[]){601, 701, 401, 501, 201, 301});
	expect_blocks(h, expect_seg(h, A, 1, 101, 0), 2,
		      (uint32_t[]){201, 501, 601, 701});
	h_in(h, A, 801, 1, 100, AT(205));
	h_in(h, A, 1001, 1, 100, AT(206));
	h_next(h);
	expect_blocks(h, expect_seg(h, A, 1, 101, 0), 3,
		      (uint32_t[]){1001, 1101, 801, 901, 601, 701});
	/* the hole filled: everything in order, no block left */
	h_in(h, A, 101, 1, 100, AT(207));
	h_in(h, A, 501, 1, 100, AT(208));
	h_in(h, A, 701, 1, 100, AT(209));
	h_in(h, A, 901, 1, 100, AT(210));
	h->next = h->nseg - 1;
	expect_blocks(h, expect_seg(h, A, 1, 1101, 0), 0, NULL);
}

/* RFC 2883 4.1.1: a duplicate of data already acknowledged is reported
 * in the first block of the ACK it draws, once. */
static void test_dsack_for_old_duplicate(void **state)
{
	harness *h = *state;

	established_sack(h);
	h_in(h, A, 1, 1, 100, AT(200));
	h_in(h, A, 101, 1, 100, AT(201));
	expect_none(h); /* 200 bytes: still one delayed ACK */
	h_in(h, A, 1, 1, 100, AT(202));
	expect_blocks(h, expect_seg(h, A, 1, 201, 0), 1, (uint32_t[]){1, 101});
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_DSACK_SENT), 1);
	h_in(h, A, 301, 1, 100, AT(203));
	expect_blocks(h, expect_seg(h, A, 1, 201, 0), 1,
		      (uint32_t[]){301, 401});
}

/* RFC 2883 4.2.1: a duplicate of out-of-order data: the D-SACK block,
 * then the block that holds it. */
static void test_dsack_for_out_of_order_duplicate(void **state)
{
	harness *h = *state;

	established_sack(h);
	h_in(h, A, 201, 1, 100, AT(200));
	h_in(h, A, 301, 1, 100, AT(201));
	h_in(h, A, 201, 1, 100, AT(202));
	h_next(h);
	h_next(h);
	expect_blocks(h, expect_seg(h, A, 1, 1, 0), 2,
		      (uint32_t[]){201, 301, 201, 401});
}

/* ---- sending: the scoreboard ---- */

/* RFC 2883: a D-SACK block is counted and is not news of a loss: the
 * ACK carrying it is no duplicate ACK. */
static void test_dsack_received_not_a_dupack(void **state)
{
	harness *h = *state;

	established_sack(h);
	assert_int_equal(h_send(h, 3 * SEG, AT(1000)), 3 * SEG);
	for (int k = 0; k < 3; k++)
		expect_seg(h, k == 2 ? TERN_TCP_PSH | A : A, 1 + k * SEG, 1,
			   SEG);
	h_in(h, A, 1, 1 + SEG, 0, AT(1100));
	for (int i = 0; i < 3; i++) {
		peer_sack(h, 1, (uint32_t[]){1, 1 + SEG});
		h_in(h, A, 1, 1 + SEG, 0, AT(1101 + i));
	}
	expect_none(h);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_DSACK_RECV), 3);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 0);
}

/* A receiver model for the recovery test: segments k = 0..n-1 of SEG
 * bytes from relative sequence 1; its ACKs carry RFC 2018 blocks. */
typedef struct peer_rx {
	bool got[16];
	int n;
} peer_rx;

static void peer_rx_ack(harness *h, peer_rx *p, int k, tern_time now)
{
	uint32_t rel[6];
	int nb = 0, cum = 0;

	p->got[k] = true;
	while (cum < p->n && p->got[cum])
		cum++;
	/* runs of received segments above cum: the one holding k first */
	for (int pass = 0; pass < 2; pass++)
		for (int i = p->n - 1; i > cum && nb < 3; i--) {
			if (!p->got[i] || (i + 1 < p->n && p->got[i + 1]))
				continue; /* i is the top of a run */
			int lo = i;
			while (lo > cum && p->got[lo - 1])
				lo--;
			bool holds_k = k >= lo && k <= i;
			if (holds_k != (pass == 0))
				continue;
			rel[2 * nb] = 1 + (uint32_t)lo * SEG;
			rel[2 * nb + 1] = 1 + (uint32_t)(i + 1) * SEG;
			nb++;
		}
	peer_sack(h, nb, rel);
	h_in(h, A, 1, 1 + (uint32_t)cum * SEG, 0, now);
}

/* What the stack sent since the last look: counts retransmissions of
 * each segment; every segment must be one of ours, SEG bytes. */
static int collect(harness *h, int *rtx, int *order, int nord)
{
	const h_seg *s;

	while ((s = h_next(h))) {
		uint32_t rel = s->seq - h->iss;
		if (s->len == 0)
			continue;
		assert_int_equal(s->len, SEG);
		assert_int_equal((rel - 1) % SEG, 0);
		int k = (int)((rel - 1) / SEG);
		rtx[k]++;
		order[nord++] = k;
	}
	return nord;
}

/* RFC 6675: ten segments in flight, the 2nd, 5th and 8th lost. The
 * third duplicate ACK (the 6th segment's) starts recovery: ssthresh =
 * cwnd = 13032 / 2 = 6516, segment 1 again. Pipe then keeps the sender
 * quiet until the 9th segment's ACK makes segment 4 lost (IsLost: more
 * than 2 SMSS SACKed above it) and leaves room: segment 4 again. The
 * 10th's ACK leaves room once more and segment 7, in a hole below SACKed
 * data but not yet "lost", goes by NextSeg() rule 3. Each lost segment
 * is sent twice in all, every other segment once; no timeout. */
static void test_sack_recovery_three_losses_one_rtx_each(void **state)
{
	harness *h = *state;
	peer_rx p = {.n = 10};
	int rtx[16] = {0}, order[64], nord = 0;

	established_sack(h);
	assert_int_equal(h_send(h, 10 * SEG, AT(1000)), 10 * SEG);
	nord = collect(h, rtx, order, nord);
	assert_int_equal(nord, 10);
	tern_time t = AT(1100);
	for (int k = 0; k < 10; k++) {
		if (k == 1 || k == 4 || k == 7)
			continue;
		peer_rx_ack(h, &p, k, t++);
		nord = collect(h, rtx, order, nord);
	}
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_SACK_RECOVERY), 1);
	assert_int_equal(h_info(h).ssthresh, 6516);
	assert_int_equal(nord, 13);
	assert_int_equal(order[10], 1);
	assert_int_equal(order[11], 4);
	assert_int_equal(order[12], 7);
	/* the retransmissions arrive */
	peer_rx_ack(h, &p, 1, t++);
	peer_rx_ack(h, &p, 4, t++);
	peer_rx_ack(h, &p, 7, t++);
	nord = collect(h, rtx, order, nord);
	assert_int_equal(nord, 13);
	for (int k = 0; k < 10; k++)
		assert_int_equal(rtx[k], k == 1 || k == 4 || k == 7 ? 2 : 1);
	tern_tcp_info i = h_info(h);
	assert_int_equal(i.snd_una - h->iss, 1 + 10 * SEG);
	assert_int_equal(i.total_retrans, 3);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_TIMEOUTS), 0);
	assert_int_equal(i.cwnd, 2 * SEG); /* RFC 6582 3.2 step 3 */
	expect_deadline(h, TERN_TIME_NONE);
}

/* Without SACK the same losses take NewReno a partial ACK each: the
 * retransmissions go one round trip apart, not as the ACKs allow. */
static void test_without_sack_newreno(void **state)
{
	harness *h = *state;
	int rtx[16] = {0}, order[64], nord = 0;

	h->cfg.tcp_sack = 0;
	h_restart(h);
	established_sack(h);
	assert_int_equal(h_info(h).options & TERN_TCPI_OPT_SACK, 0);
	assert_int_equal(h_send(h, 10 * SEG, AT(1000)), 10 * SEG);
	nord = collect(h, rtx, order, nord);
	tern_time t = AT(1100);
	h_in(h, A, 1, 1 + SEG, 0, t++);
	for (int k = 2; k < 10; k++)
		if (k != 4 && k != 7)
			h_in(h, A, 1, 1 + SEG, 0, t++);
	nord = collect(h, rtx, order, nord);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_SACK_RECOVERY), 0);
	assert_int_equal(h_ctr(h, TERN_CTR_TCP_FAST_RETRANS), 1);
	assert_int_equal(rtx[1], 2);
	assert_int_equal(rtx[4] + rtx[7], 2); /* not yet resent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_blocks_of_out_of_order_data),
		H_TEST(test_dsack_for_old_duplicate),
		H_TEST(test_dsack_for_out_of_order_duplicate),
		H_TEST(test_dsack_received_not_a_dupack),
		H_TEST(test_sack_recovery_three_losses_one_rtx_each),
		H_TEST(test_without_sack_newreno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
