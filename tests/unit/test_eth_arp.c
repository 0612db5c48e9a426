/* Ethernet and ARP (RFC 826, RFC 1122 2.3.2): the wrapper over an fd link
 * on a socketpair, the test playing the neighbours at the other end with
 * hand-made frames and explicit times. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tern/link.h>
#include <tern/wire.h>

#include "link/eth.h"
#include "testutil.h"

#define OUR_IP 0x0a000001u  /* 10.0.0.1/24 */
#define PEER_IP 0x0a000002u /* 10.0.0.2 */
#define GW_IP 0x0a0000feu   /* 10.0.0.254 */
#define FAR_IP 0xc0a80707u  /* 192.168.7.7, off the subnet */
#define T0 ((tern_time)1000 * TERN_SEC)
#define SEC TERN_SEC
#define FRAME_CAP 10000

static const uint8_t OUR_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t GW_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x03};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO[6];

struct env {
	int sv[2]; /* sv[0] under the fd link, sv[1] the neighbours' end */
	tern_link *raw, *eth;
	int rx_n;
	uint8_t rx_last[FRAME_CAP];
	size_t rx_len;
};

static void on_rx(void *ctx, const uint8_t *frame, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct env *e = ctx;
	(void)meta;

	(void)now;
	assert_true(len <= sizeof(e->rx_last));
	memcpy(e->rx_last, frame, len);
	e->rx_len = len;
	e->rx_n++;
}

static tern_tun_config config(uint32_t gateway, uint8_t prefix, uint32_t mtu)
{
	tern_tun_config c = {
		.ifname = "unused",
		.tap = true,
		.addr = OUR_IP,
		.prefix_len = prefix,
		.gateway = gateway,
		.mtu = mtu,
	};
	memcpy(c.mac, OUR_MAC, 6);
	return c;
}

static struct env *env_open_cfg(const tern_tun_config *cfg)
{
	struct env *e = calloc(1, sizeof(*e));
	int err = 0;

	assert_non_null(e);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, e->sv), 0);
	e->raw = tern_fd_link(e->sv[0], TERN_FRAME_MAX, true, &err);
	assert_non_null(e->raw);
	e->eth = eth_wrap(e->raw, cfg, &err);
	assert_non_null(e->eth);
	assert_int_equal(err, 0);
	tern_link_set_rx(e->eth, on_rx, e);
	return e;
}

static struct env *env_open(uint32_t gateway)
{
	tern_tun_config c = config(gateway, 24, 0);
	return env_open_cfg(&c);
}

static void env_close(struct env *e)
{
	tern_link_destroy(e->eth);
	close(e->sv[1]);
	free(e);
}

static tern_link_counters counters(struct env *e)
{
	tern_link_counters c;

	assert_int_equal(tern_link_get_counters(e->eth, &c), 0);
	return c;
}

/* ---- the neighbours' side ---- */

static void inject(struct env *e, const uint8_t *frame, size_t len,
		   tern_time now)
{
	assert_int_equal(send(e->sv[1], frame, len, 0), (ssize_t)len);
	assert_int_equal(tern_link_recv(e->eth, 16, now), 1);
}

/* The next frame the wrapper sent, or -1. */
static ssize_t out_next(struct env *e, uint8_t *buf)
{
	return recv(e->sv[1], buf, FRAME_CAP, MSG_DONTWAIT);
}

static void expect_nothing(struct env *e)
{
	uint8_t buf[FRAME_CAP];
	assert_int_equal(out_next(e, buf), -1);
}

static void drain(struct env *e)
{
	uint8_t buf[FRAME_CAP];
	while (out_next(e, buf) > 0)
		;
}

static size_t eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		      uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	tern_store16(f + 12, type);
	return 14;
}

static size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op,
			const uint8_t *sha, uint32_t spa, const uint8_t *tha,
			uint32_t tpa)
{
	uint8_t *a = f + eth_hdr(f, eth_dst, sha, 0x0806);

	tern_store16(a, 1);
	tern_store16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	tern_store16(a + 6, op);
	memcpy(a + 8, sha, 6);
	tern_store32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	tern_store32(a + 24, tpa);
	return 42;
}

static void peer_arp(struct env *e, const uint8_t *eth_dst, uint16_t op,
		     const uint8_t *sha, uint32_t spa, const uint8_t *tha,
		     uint32_t tpa, tern_time now)
{
	uint8_t f[64];
	inject(e, f, arp_frame(f, eth_dst, op, sha, spa, tha, tpa), now);
}

/* A neighbour's answer to our request for ip. */
static void reply_from(struct env *e, const uint8_t *mac, uint32_t ip,
		       tern_time now)
{
	peer_arp(e, OUR_MAC, 2, mac, ip, OUR_MAC, OUR_IP, now);
}

/* A neighbour asks for us (and learns our reply, drained here). */
static void request_from(struct env *e, const uint8_t *mac, uint32_t ip,
			 tern_time now)
{
	peer_arp(e, BCAST, 1, mac, ip, ZERO, OUR_IP, now);
	drain(e);
}

/* ---- IPv4 packets ---- */

static void ip_packet(uint8_t *p, size_t len, uint32_t dst, uint8_t tag)
{
	for (size_t i = 20; i < len; i++)
		p[i] = (uint8_t)(tag * 31 + i);
	memset(p, 0, 20);
	p[0] = 0x45;
	tern_store16(p + 2, (uint16_t)len);
	p[8] = 64;
	p[9] = 17;
	tern_store32(p + 12, OUR_IP);
	tern_store32(p + 16, dst);
	tern_store16(p + 10, tern_inet_checksum(p, 20));
}

/* Sends a packet in two pieces, as the stack does (header, payload). */
static int ip_send(struct env *e, uint32_t dst, uint8_t tag, size_t len,
		   tern_time now)
{
	uint8_t p[FRAME_CAP];
	tern_iov iov[2] = {{p, 20}, {p + 20, len - 20}};

	ip_packet(p, len, dst, tag);
	return tern_link_send(e->eth, iov, 2, NULL, now);
}

static void expect_ip(struct env *e, const uint8_t *mac, uint32_t dst,
		      uint8_t tag, size_t len)
{
	uint8_t got[FRAME_CAP], want[FRAME_CAP];

	eth_hdr(want, mac, OUR_MAC, 0x0800);
	ip_packet(want + 14, len, dst, tag);
	assert_int_equal(out_next(e, got), (ssize_t)(len + 14));
	assert_memory_equal(got, want, len + 14);
}

static void expect_request(struct env *e, const uint8_t *eth_dst, uint32_t ip)
{
	uint8_t got[FRAME_CAP], want[64];
	size_t n = arp_frame(want, eth_dst, 1, OUR_MAC, OUR_IP, ZERO, ip);

	assert_int_equal(out_next(e, got), (ssize_t)n);
	assert_memory_equal(got, want, n);
}

/* ---- answering ---- */

static void test_request_for_us_answered(void **state)
{
	static const uint8_t want[42] = {
		0x02, 0,    0,	  0, 0,	   0x02, 0x02, 0, 0, 0, 0,
		0x01, 0x08, 0x06, 0, 1,	   8,	 0,    6, 4, 0, 2,
		0x02, 0,    0,	  0, 0,	   0x01, 10,   0, 0, 1, 2,
		0,    0,    0,	  0, 0x02, 10,	 0,    0, 2,
	};
	struct env *e = env_open(GW_IP);
	uint8_t got[FRAME_CAP];
	tern_link_counters c;

	(void)state;
	peer_arp(e, BCAST, 1, PEER_MAC, PEER_IP, ZERO, OUR_IP, T0);
	assert_int_equal(out_next(e, got), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	expect_nothing(e);
	assert_int_equal(e->rx_n, 0); /* ARP stays in the link */
	/* The requester was learned: no request before sending to it. */
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 1), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 1, 60);
	expect_nothing(e);
	c = counters(e);
	assert_int_equal(c.arp_requests_in, 1);
	assert_int_equal(c.arp_replies_out, 1);
	assert_int_equal(c.arp_requests_out, 0);
	assert_int_equal(c.tx_frames, 2);
	assert_int_equal(c.rx_frames, 1);
	assert_int_equal(c.rx_dropped, 0);
	env_close(e);
}

static void test_request_for_other_ignored(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	peer_arp(e, BCAST, 1, PEER_MAC, PEER_IP, ZERO, 0x0a000003u, T0);
	expect_nothing(e);
	/* Not for us: the sender is not learned either (RFC 826). */
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	expect_nothing(e);
	assert_int_equal(counters(e).rx_dropped, 0);
	env_close(e);
}

static void test_bad_arp_ignored(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t f[64];
	size_t n;

	(void)state;
	/* A group address as sender, our own address as sender (a
	 * conflict), a wrong hardware type, an unknown operation. */
	peer_arp(e, BCAST, 1, BCAST, PEER_IP, ZERO, OUR_IP, T0);
	peer_arp(e, BCAST, 1, PEER_MAC, OUR_IP, ZERO, OUR_IP, T0);
	n = arp_frame(f, BCAST, 1, PEER_MAC, PEER_IP, ZERO, OUR_IP);
	f[15] = 6;
	inject(e, f, n, T0);
	n = arp_frame(f, BCAST, 3, PEER_MAC, PEER_IP, ZERO, OUR_IP);
	inject(e, f, n, T0);
	expect_nothing(e);
	assert_int_equal(counters(e).rx_malformed, 4);
	assert_int_equal(counters(e).rx_dropped, 4);
	env_close(e);
}

static void test_probe_for_our_address_answered(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t got[FRAME_CAP], want[64];
	size_t n;

	(void)state;
	/* RFC 5227 probe: sender address 0; answered, nothing learned. */
	peer_arp(e, BCAST, 1, PEER_MAC, 0, ZERO, OUR_IP, T0);
	n = arp_frame(want, PEER_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, 0);
	assert_int_equal(out_next(e, got), (ssize_t)n);
	assert_memory_equal(got, want, n);
	env_close(e);
}

/* ---- resolving ---- */

static void test_first_send_queues_and_requests(void **state)
{
	static const uint8_t want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0,
		0x01, 0x08, 0x06, 0,	1,    8,    0,	  6, 4, 0, 1,
		2,    0,    0,	  0,	0,    1,    10,	  0, 0, 1, 0,
		0,    0,    0,	  0,	0,    10,   0,	  0, 2,
	};
	struct env *e = env_open(GW_IP);
	uint8_t got[FRAME_CAP];

	(void)state;
	assert_int_equal(tern_link_next_deadline(e->eth), TERN_TIME_NONE);
	assert_int_equal(ip_send(e, PEER_IP, 1, 100, T0), 0);
	assert_int_equal(out_next(e, got), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + SEC);
	/* Still resolving: the next packet waits, no second request. */
	assert_int_equal(ip_send(e, PEER_IP, 2, 100, T0 + 1), 0);
	expect_nothing(e);
	assert_int_equal(counters(e).arp_requests_out, 1);
	env_close(e);
}

static void test_reply_flushes_queue_in_order(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	assert_int_equal(ip_send(e, PEER_IP, 1, 100, T0), 0);
	assert_int_equal(ip_send(e, PEER_IP, 2, 1500, T0 + 1), 0);
	assert_int_equal(ip_send(e, PEER_IP, 3, 20, T0 + 2), 0);
	expect_request(e, BCAST, PEER_IP);
	reply_from(e, PEER_MAC, PEER_IP, T0 + SEC / 10);
	expect_ip(e, PEER_MAC, PEER_IP, 1, 100);
	expect_ip(e, PEER_MAC, PEER_IP, 2, 1500);
	expect_ip(e, PEER_MAC, PEER_IP, 3, 20);
	expect_nothing(e);
	/* Resolved: no retry is due, only the entry's freshness. */
	assert_int_equal(tern_link_next_deadline(e->eth),
			 T0 + SEC / 10 + 60 * SEC);
	tern_link_poll(e->eth, T0 + SEC);
	expect_nothing(e);
	assert_int_equal(ip_send(e, PEER_IP, 4, 64, T0 + SEC), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 4, 64);
	assert_int_equal(counters(e).tx_dropped, 0);
	env_close(e);
}

static void test_retries_then_give_up(void **state)
{
	struct env *e = env_open(GW_IP);
	tern_link_counters c;

	(void)state;
	assert_int_equal(ip_send(e, PEER_IP, 1, 100, T0), 0);
	assert_int_equal(ip_send(e, PEER_IP, 2, 100, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	tern_link_poll(e->eth, T0 + SEC - 1);
	expect_nothing(e);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(tern_link_next_deadline(e->eth), T0 + i * SEC);
		tern_link_poll(e->eth, T0 + i * SEC);
		expect_request(e, BCAST, PEER_IP);
		expect_nothing(e);
	}
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 4 * SEC);
	tern_link_poll(e->eth, T0 + 4 * SEC);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), TERN_TIME_NONE);
	c = counters(e);
	assert_int_equal(c.arp_requests_out, 4);
	assert_int_equal(c.tx_unresolved, 2);
	assert_int_equal(c.tx_dropped, 2);
	/* A later packet starts over. */
	assert_int_equal(ip_send(e, PEER_IP, 3, 100, T0 + 5 * SEC), 0);
	expect_request(e, BCAST, PEER_IP);
	reply_from(e, PEER_MAC, PEER_IP, T0 + 5 * SEC);
	expect_ip(e, PEER_MAC, PEER_IP, 3, 100);
	expect_nothing(e);
	env_close(e);
}

static void test_queue_bound_per_hop(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(ip_send(e, PEER_IP, (uint8_t)i, 200, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	assert_int_equal(counters(e).tx_queue_full, 2);
	reply_from(e, PEER_MAC, PEER_IP, T0 + 1);
	for (int i = 2; i < 10; i++) /* the oldest made room */
		expect_ip(e, PEER_MAC, PEER_IP, (uint8_t)i, 200);
	expect_nothing(e);
	env_close(e);
}

static void test_queue_bound_in_all(void **state)
{
	tern_tun_config cfg = config(GW_IP, 24, 9000);
	struct env *e = env_open_cfg(&cfg);
	tern_link_counters c;

	(void)state;
	/* 4 next hops x 8 packets x 9000 bytes = 288000 > 256 KB: the
	 * three oldest of all (the first hop's) make room. */
	for (uint32_t h = 0; h < 4; h++)
		for (int i = 0; i < 8; i++)
			assert_int_equal(
				ip_send(e, PEER_IP + h, (uint8_t)i, 9000, T0),
				0);
	drain(e);
	c = counters(e);
	assert_int_equal(c.tx_queue_full, 3);
	assert_int_equal(c.tx_dropped, 3);
	reply_from(e, PEER_MAC, PEER_IP, T0 + 1);
	for (int i = 3; i < 8; i++)
		expect_ip(e, PEER_MAC, PEER_IP, (uint8_t)i, 9000);
	expect_nothing(e);
	reply_from(e, OTHER_MAC, PEER_IP + 3, T0 + 1);
	for (int i = 0; i < 8; i++)
		expect_ip(e, OTHER_MAC, PEER_IP + 3, (uint8_t)i, 9000);
	expect_nothing(e);
	env_close(e);
}

/* ---- the cache over time ---- */

static void test_idle_entry_expires(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	request_from(e, PEER_MAC, PEER_IP, T0);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 60 * SEC);
	tern_link_poll(e->eth, T0 + 60 * SEC - 1);
	expect_nothing(e);
	tern_link_poll(e->eth, T0 + 60 * SEC);
	expect_nothing(e); /* unused: removed without a poll */
	assert_int_equal(tern_link_next_deadline(e->eth), TERN_TIME_NONE);
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 61 * SEC), 0);
	expect_request(e, BCAST, PEER_IP);
	env_close(e);
}

static void test_entry_in_use_revalidated(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	request_from(e, PEER_MAC, PEER_IP, T0);
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 30 * SEC), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 1, 60);
	/* Stale and in use: a unicast poll (RFC 1122 2.3.2.1). */
	tern_link_poll(e->eth, T0 + 60 * SEC);
	expect_request(e, PEER_MAC, PEER_IP);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 61 * SEC);
	/* Packets keep flowing to the known address meanwhile. */
	assert_int_equal(ip_send(e, PEER_IP, 2, 60, T0 + 60 * SEC + 1), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 2, 60);
	reply_from(e, PEER_MAC, PEER_IP, T0 + 61 * SEC - 1);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 121 * SEC - 1);
	tern_link_poll(e->eth, T0 + 61 * SEC);
	expect_nothing(e);
	/* Not used after the confirmation: it expires quietly. */
	tern_link_poll(e->eth, T0 + 121 * SEC);
	expect_nothing(e);
	assert_int_equal(ip_send(e, PEER_IP, 3, 60, T0 + 122 * SEC), 0);
	expect_request(e, BCAST, PEER_IP);
	env_close(e);
}

static void test_revalidation_fails(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	request_from(e, PEER_MAC, PEER_IP, T0);
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 10 * SEC), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 1, 60);
	for (int i = 60; i <= 63; i++) {
		tern_link_poll(e->eth, T0 + i * SEC);
		expect_request(e, PEER_MAC, PEER_IP);
		expect_nothing(e);
	}
	tern_link_poll(e->eth, T0 + 64 * SEC);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), TERN_TIME_NONE);
	/* Gone: the next packet waits for a broadcast resolution. */
	assert_int_equal(ip_send(e, PEER_IP, 2, 60, T0 + 64 * SEC), 0);
	expect_request(e, BCAST, PEER_IP);
	expect_nothing(e);
	env_close(e);
}

/* tcp_retries1 (RFC 1122 4.2.3.5): TCP's doubt about a path makes the
 * link poll the next hop by unicast at once, fresh as the entry is; the
 * poll goes on as any revalidation does. */
static void test_advice_polls_next_hop(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	tern_link_advise(e->eth, PEER_IP, T0); /* nothing known: nothing */
	expect_nothing(e);
	request_from(e, PEER_MAC, PEER_IP, T0);
	tern_link_advise(e->eth, PEER_IP, T0 + SEC);
	expect_request(e, PEER_MAC, PEER_IP);
	expect_nothing(e);
	assert_int_equal(counters(e).arp_advised, 1);
	/* being polled already: a second word changes nothing */
	tern_link_advise(e->eth, PEER_IP, T0 + SEC + 1);
	expect_nothing(e);
	assert_int_equal(counters(e).arp_advised, 1);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 2 * SEC);
	reply_from(e, PEER_MAC, PEER_IP, T0 + SEC + 2);
	tern_link_poll(e->eth, T0 + 2 * SEC);
	expect_nothing(e);
	/* off the subnet, the gateway is the hop polled */
	request_from(e, GW_MAC, GW_IP, T0 + 3 * SEC);
	tern_link_advise(e->eth, FAR_IP, T0 + 3 * SEC);
	expect_request(e, GW_MAC, GW_IP);
	expect_nothing(e);
	env_close(e);
}

static void test_stale_entry_used_before_poll(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	request_from(e, PEER_MAC, PEER_IP, T0);
	/* The event loop ran late: the send itself starts revalidation. */
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 70 * SEC), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 1, 60);
	expect_request(e, PEER_MAC, PEER_IP);
	expect_nothing(e);
	/* The overdue sweep finds the entry already being revalidated. */
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 60 * SEC);
	tern_link_poll(e->eth, T0 + 70 * SEC);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 71 * SEC);
	env_close(e);
}

static void test_gratuitous_arp_refreshes(void **state)
{
	static const uint8_t NEW_MAC[6] = {0x02, 0, 0, 0, 0, 0x22};
	struct env *e = env_open(GW_IP);

	(void)state;
	request_from(e, PEER_MAC, PEER_IP, T0);
	/* The peer announces a new address (sender = target = itself). */
	peer_arp(e, BCAST, 1, NEW_MAC, PEER_IP, ZERO, PEER_IP, T0 + 30 * SEC);
	expect_nothing(e);
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0 + 31 * SEC), 0);
	expect_ip(e, NEW_MAC, PEER_IP, 1, 60);
	/* Refreshed: fresh until 90 s, not 60. */
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 60 * SEC);
	tern_link_poll(e->eth, T0 + 60 * SEC);
	expect_nothing(e);
	assert_int_equal(tern_link_next_deadline(e->eth), T0 + 90 * SEC);
	/* An unknown host's announcement adds nothing. */
	peer_arp(e, BCAST, 1, OTHER_MAC, PEER_IP + 1, ZERO, PEER_IP + 1,
		 T0 + 61 * SEC);
	assert_int_equal(ip_send(e, PEER_IP + 1, 2, 60, T0 + 61 * SEC), 0);
	expect_request(e, BCAST, PEER_IP + 1);
	env_close(e);
}

static void test_cache_bounded(void **state)
{
	tern_tun_config cfg = config(GW_IP, 16, 0);
	struct env *e = env_open_cfg(&cfg);
	const uint32_t base = 0x0a000100u; /* 10.0.1.0/16 onwards */
	uint8_t mac[6] = {0x02, 0x10, 0, 0, 0, 0};

	(void)state;
	for (uint32_t i = 0; i <= 1024; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		request_from(e, mac, base + i, T0 + i);
	}
	/* 1025 neighbours in a cache of 1024: the oldest went (checked
	 * last, since resolving it evicts the next oldest). */
	mac[4] = 0;
	mac[5] = 1;
	assert_int_equal(ip_send(e, base + 1, 2, 60, T0 + SEC), 0);
	expect_ip(e, mac, base + 1, 2, 60);
	assert_int_equal(ip_send(e, base, 1, 60, T0 + SEC), 0);
	expect_request(e, BCAST, base);
	expect_nothing(e);
	env_close(e);
}

/* ---- next hops ---- */

static void test_off_subnet_goes_to_gateway(void **state)
{
	struct env *e = env_open(GW_IP);

	(void)state;
	assert_int_equal(ip_send(e, FAR_IP, 1, 80, T0), 0);
	expect_request(e, BCAST, GW_IP);
	reply_from(e, GW_MAC, GW_IP, T0 + 1);
	expect_ip(e, GW_MAC, FAR_IP, 1, 80);
	assert_int_equal(ip_send(e, FAR_IP + 1, 2, 80, T0 + 2), 0);
	expect_ip(e, GW_MAC, FAR_IP + 1, 2, 80);
	expect_nothing(e);
	env_close(e);
}

static void test_no_gateway_unroutable(void **state)
{
	struct env *e = env_open(0);
	tern_link_counters c;

	(void)state;
	assert_int_equal(ip_send(e, FAR_IP, 1, 80, T0), 0);
	expect_nothing(e);
	c = counters(e);
	assert_int_equal(c.tx_unroutable, 1);
	assert_int_equal(c.tx_dropped, 1);
	assert_int_equal(c.tx_frames, 0);
	assert_int_equal(ip_send(e, PEER_IP, 2, 80, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	env_close(e);
}

static void test_broadcast_and_multicast(void **state)
{
	static const uint8_t mdns[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	static const uint8_t high[6] = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
	struct env *e = env_open(GW_IP);

	(void)state;
	assert_int_equal(ip_send(e, 0x0a0000ffu, 1, 40, T0), 0);
	expect_ip(e, BCAST, 0x0a0000ffu, 1, 40);
	assert_int_equal(ip_send(e, 0xffffffffu, 2, 40, T0), 0);
	expect_ip(e, BCAST, 0xffffffffu, 2, 40);
	/* RFC 1112 6.4: the low 23 bits (239.129.2.3: 0x81 loses bit 7). */
	assert_int_equal(ip_send(e, 0xe00000fbu, 3, 40, T0), 0);
	expect_ip(e, mdns, 0xe00000fbu, 3, 40);
	assert_int_equal(ip_send(e, 0xef810203u, 4, 40, T0), 0);
	expect_ip(e, high, 0xef810203u, 4, 40);
	expect_nothing(e);
	assert_int_equal(counters(e).arp_requests_out, 0);
	env_close(e);
}

static void test_bad_sends_refused(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t p[1600];
	tern_iov iov = {p, 19};

	(void)state;
	ip_packet(p, sizeof(p), PEER_IP, 1);
	assert_int_equal(tern_link_send(e->eth, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL);
	iov.len = 1501;
	assert_int_equal(tern_link_send(e->eth, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_link_send(e->eth, NULL, 1, NULL, T0),
			 TERN_ERR_INVAL);
	expect_nothing(e);
	iov.len = 1500;
	assert_int_equal(tern_link_send(e->eth, &iov, 1, NULL, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	env_close(e);
}

static void test_empty_piece_without_base(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t p[60];
	tern_iov iov[3] = {{p, 20}, {NULL, 0}, {p + 20, 40}};

	(void)state;
	/* Queued while resolving: the copy skips the empty piece. */
	ip_packet(p, sizeof(p), PEER_IP, 7);
	assert_int_equal(tern_link_send(e->eth, iov, 3, NULL, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	reply_from(e, PEER_MAC, PEER_IP, T0 + 1);
	expect_ip(e, PEER_MAC, PEER_IP, 7, 60);
	/* Resolved: the pieces go straight down. */
	assert_int_equal(tern_link_send(e->eth, iov, 3, NULL, T0 + 2), 0);
	expect_ip(e, PEER_MAC, PEER_IP, 7, 60);
	env_close(e);
}

/* ---- receiving ---- */

static void test_ipv4_delivered_without_header(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t f[60];

	(void)state;
	/* A 28-byte packet padded to Ethernet's 60-byte minimum. */
	memset(f, 0, sizeof(f));
	eth_hdr(f, OUR_MAC, PEER_MAC, 0x0800);
	ip_packet(f + 14, 28, OUR_IP, 5);
	inject(e, f, sizeof(f), T0);
	assert_int_equal(e->rx_n, 1);
	assert_int_equal(e->rx_len, 46);
	assert_memory_equal(e->rx_last, f + 14, 46);
	eth_hdr(f, BCAST, PEER_MAC, 0x0800);
	inject(e, f, sizeof(f), T0);
	assert_int_equal(e->rx_n, 2);
	expect_nothing(e);
	/* Receiving IPv4 teaches nothing: only ARP maps addresses. */
	assert_int_equal(ip_send(e, PEER_IP, 1, 60, T0), 0);
	expect_request(e, BCAST, PEER_IP);
	env_close(e);
}

static void test_other_destination_dropped(void **state)
{
	static const uint8_t group[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	struct env *e = env_open(GW_IP);
	uint8_t f[60];
	tern_link_counters c;

	(void)state;
	memset(f, 0, sizeof(f));
	eth_hdr(f, OTHER_MAC, PEER_MAC, 0x0800);
	ip_packet(f + 14, 28, OUR_IP, 5);
	inject(e, f, sizeof(f), T0);
	memcpy(f, group, 6);
	inject(e, f, sizeof(f), T0);
	/* An ARP request for us, sent to another station, is not seen. */
	peer_arp(e, OTHER_MAC, 1, PEER_MAC, PEER_IP, ZERO, OUR_IP, T0);
	expect_nothing(e);
	assert_int_equal(e->rx_n, 0);
	c = counters(e);
	assert_int_equal(c.rx_not_ours, 3);
	assert_int_equal(c.rx_dropped, 3);
	assert_int_equal(c.rx_frames, 3);
	env_close(e);
}

static void test_other_ethertype_dropped(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t f[60];

	(void)state;
	memset(f, 0, sizeof(f));
	eth_hdr(f, OUR_MAC, PEER_MAC, 0x86dd); /* IPv6 */
	f[14] = 0x60;
	inject(e, f, sizeof(f), T0);
	eth_hdr(f, BCAST, PEER_MAC, 0x8100); /* a VLAN tag */
	inject(e, f, sizeof(f), T0);
	assert_int_equal(e->rx_n, 0);
	expect_nothing(e);
	assert_int_equal(counters(e).rx_not_ip, 2);
	assert_int_equal(counters(e).rx_dropped, 2);
	env_close(e);
}

/* Frames handed straight to the wrapper's hook in buffers of their exact
 * size, so that a read past the end shows under AddressSanitizer. */
static void deliver_exact(struct env *e, const uint8_t *f, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, f, len);
	tern_link_deliver(e->raw, copy, len, NULL, T0);
	free(copy);
}

static void test_runts_dropped(void **state)
{
	struct env *e = env_open(GW_IP);
	uint8_t arp[64], ip[64];

	(void)state;
	arp_frame(arp, BCAST, 1, PEER_MAC, PEER_IP, ZERO, OUR_IP);
	eth_hdr(ip, OUR_MAC, PEER_MAC, 0x0800);
	ip_packet(ip + 14, 20, OUR_IP, 1);
	for (size_t len = 0; len < 42; len++)
		deliver_exact(e, arp, len);
	for (size_t len = 14; len < 34; len++)
		deliver_exact(e, ip, len);
	expect_nothing(e);
	assert_int_equal(e->rx_n, 0);
	assert_int_equal(counters(e).rx_malformed, 42 + 20);
	/* Whole, both pass. */
	deliver_exact(e, arp, 42);
	deliver_exact(e, ip, 34);
	assert_int_equal(e->rx_n, 1);
	assert_int_equal(counters(e).arp_replies_out, 1);
	env_close(e);
}

/* ---- set-up ---- */

static void test_random_mac(void **state)
{
	tern_tun_config cfg = config(GW_IP, 24, 0);
	struct env *a, *b;
	uint8_t fa[FRAME_CAP], fb[FRAME_CAP];

	(void)state;
	memset(cfg.mac, 0, 6);
	a = env_open_cfg(&cfg);
	b = env_open_cfg(&cfg);
	assert_int_equal(ip_send(a, PEER_IP, 1, 60, T0), 0);
	assert_int_equal(ip_send(b, PEER_IP, 1, 60, T0), 0);
	assert_int_equal(out_next(a, fa), 42);
	assert_int_equal(out_next(b, fb), 42);
	/* Locally administered unicast, and not the same twice. */
	assert_int_equal(fa[6] & 0x03, 0x02);
	assert_int_equal(fb[6] & 0x03, 0x02);
	assert_memory_not_equal(fa + 6, fb + 6, 6);
	assert_memory_equal(fa + 6, fa + 22, 6); /* sender hardware address */
	env_close(a);
	env_close(b);
}

static void expect_refused(tern_link *raw, const tern_tun_config *cfg)
{
	int err = 0;

	assert_null(eth_wrap(raw, cfg, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_int_equal(eth_config_check(cfg), TERN_ERR_INVAL);
}

static void test_bad_config_refused(void **state)
{
	tern_tun_config good = config(GW_IP, 24, 0), c;
	int sv[2], err = 0;
	tern_link *raw, *small;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	raw = tern_fd_link(sv[0], 1514, true, &err);
	small = tern_fd_link(sv[1], 1513, true, &err);
	assert_int_equal(eth_config_check(&good), 0);
	c = good, c.prefix_len = 0;
	expect_refused(raw, &c);
	c = good, c.prefix_len = 33;
	expect_refused(raw, &c);
	c = good, c.addr = 0;
	expect_refused(raw, &c);
	c = good, c.gateway = FAR_IP; /* not on the subnet */
	expect_refused(raw, &c);
	c = good, c.gateway = OUR_IP;
	expect_refused(raw, &c);
	c = good, c.mac[0] = 0x01; /* a group address */
	expect_refused(raw, &c);
	c = good, c.mtu = 1501; /* more than raw carries */
	assert_null(eth_wrap(raw, &c, &err));
	assert_null(eth_wrap(small, &good, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(eth_wrap(NULL, &good, &err));
	assert_null(eth_wrap(raw, NULL, &err));
	/* Refusals leave the inner link alone. */
	assert_null(raw->rx);
	tern_link_destroy(raw);
	tern_link_destroy(small);
}

/* ---- offloads through the Ethernet layer ---- */

/* A device link that takes TSO and partial checksums and records the
 * meta of what it is given. */
struct odev {
	tern_link link; /* first */
	int n;
	bool has;
	tern_frame_meta m;
	uint16_t type; /* the last frame's EtherType */
};

static int odev_send(tern_link *l, const tern_iov *iov, int iovcnt,
		     const tern_frame_meta *meta, tern_time now)
{
	struct odev *d = (struct odev *)l;

	(void)iovcnt;
	(void)now;
	d->n++;
	d->has = meta != NULL;
	if (meta)
		d->m = *meta;
	d->type = tern_load16((const uint8_t *)iov[0].base + 12);
	return 0;
}

static void odev_destroy(tern_link *l)
{
	(void)l;
}

static const tern_link_ops odev_ops = {.send = odev_send,
				       .destroy = odev_destroy};

/* The wrapper offers the device's offloads less the Ethernet header, and
 * moves checksum offsets by 14 each way; a packet waiting for ARP keeps
 * its meta. */
static void test_offloads_shift(void **state)
{
	static struct odev d = {.link = {.ops = &odev_ops,
					 .mtu = 1514,
					 .tso_max = 65535 + 14,
					 .tx_csum = true}};
	tern_tun_config cfg = config(0, 24, 0);
	static uint8_t p[20000], f[20000];
	tern_frame_meta m = {.gso_size = 1460,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	tern_iov iov = {p, 10000};
	tu_meta_seen up = {0};
	tern_link_counters c;
	tern_link *eth;

	(void)state;
	eth = eth_wrap(&d.link, &cfg, NULL);
	assert_non_null(eth);
	assert_int_equal(eth->tso_max, 65535);
	assert_true(eth->tx_csum);
	tern_link_set_rx(eth, tu_on_meta, &up);
	ip_packet(p, 10000, 0x0a0000ffu, 1); /* the subnet's broadcast */
	assert_int_equal(tern_link_send(eth, &iov, 1, &m, T0), 0);
	assert_true(d.has);
	assert_int_equal(d.m.csum_start, 34);
	assert_int_equal(d.m.gso_size, 1460);
	/* To a neighbour not yet known: ARP first, then the packet. */
	ip_packet(p, 10000, PEER_IP, 2);
	assert_int_equal(tern_link_send(eth, &iov, 1, &m, T0), 0);
	assert_int_equal(d.type, 0x0806);
	assert_false(d.has);
	uint8_t arp[64];
	size_t n =
		arp_frame(arp, OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
	tern_link_deliver(&d.link, arp, n, NULL, T0);
	assert_int_equal(d.type, 0x0800);
	assert_true(d.has);
	assert_int_equal(d.m.csum_start, 34);
	/* Too long without gso_size; a partial checksum it cannot take. */
	assert_int_equal(tern_link_send(eth, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL);
	static struct odev d2 = {.link = {.ops = &odev_ops, .mtu = 1514}};
	tern_link *plain = eth_wrap(&d2.link, &cfg, NULL);
	assert_int_equal(plain->tso_max, 0);
	assert_false(plain->tx_csum);
	iov.len = 1000;
	m.gso_size = 0;
	assert_int_equal(tern_link_send(plain, &iov, 1, &m, T0),
			 TERN_ERR_INVAL);
	tern_link_destroy(plain);
	/* Up: offsets from the IP header. */
	eth_hdr(f, OUR_MAC, PEER_MAC, 0x0800);
	ip_packet(f + 14, 5000, OUR_IP, 3);
	m = (tern_frame_meta){.gso_size = 1448,
			      .flags = TERN_FRAME_CSUM_PARTIAL |
				       TERN_FRAME_CSUM_OK,
			      .csum_start = 34,
			      .csum_offset = 16};
	tern_link_deliver(&d.link, f, 14 + 5000, &m, T0);
	assert_int_equal(up.n, 1);
	assert_true(up.has);
	assert_int_equal(up.m.csum_start, 20);
	assert_int_equal(up.m.gso_size, 1448);
	m.csum_start = 10; /* inside the Ethernet header */
	tern_link_deliver(&d.link, f, 14 + 5000, &m, T0);
	assert_int_equal(up.n, 1);
	assert_int_equal(eth_counters(eth, &c), 0);
	assert_int_equal(c.rx_bad_vnet, 1);
	tern_link_destroy(eth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_for_us_answered),
		cmocka_unit_test(test_request_for_other_ignored),
		cmocka_unit_test(test_bad_arp_ignored),
		cmocka_unit_test(test_probe_for_our_address_answered),
		cmocka_unit_test(test_first_send_queues_and_requests),
		cmocka_unit_test(test_reply_flushes_queue_in_order),
		cmocka_unit_test(test_retries_then_give_up),
		cmocka_unit_test(test_queue_bound_per_hop),
		cmocka_unit_test(test_queue_bound_in_all),
		cmocka_unit_test(test_idle_entry_expires),
		cmocka_unit_test(test_entry_in_use_revalidated),
		cmocka_unit_test(test_revalidation_fails),
		cmocka_unit_test(test_advice_polls_next_hop),
		cmocka_unit_test(test_stale_entry_used_before_poll),
		cmocka_unit_test(test_gratuitous_arp_refreshes),
		cmocka_unit_test(test_cache_bounded),
		cmocka_unit_test(test_off_subnet_goes_to_gateway),
		cmocka_unit_test(test_no_gateway_unroutable),
		cmocka_unit_test(test_broadcast_and_multicast),
		cmocka_unit_test(test_bad_sends_refused),
		cmocka_unit_test(test_empty_piece_without_base),
		cmocka_unit_test(test_ipv4_delivered_without_header),
		cmocka_unit_test(test_other_destination_dropped),
		cmocka_unit_test(test_other_ethertype_dropped),
		cmocka_unit_test(test_runts_dropped),
		cmocka_unit_test(test_random_mac),
		cmocka_unit_test(test_bad_config_refused),
		cmocka_unit_test(test_offloads_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
