/* Offloads without a device: the virtio-net header as tern writes and
 * reads it (vnet.c), and the software TSO and checksum completion the
 * impairment wrapper and the simulator use (offload.c). */
#include <linux/virtio_net.h>
#include <string.h>

#include <tern/link.h>
#include <tern/wire.h>

#include "link/offload.h"
#include "link/vnet.h"
#include "testutil.h"

#define SRC 0x0a000001u
#define DST 0x0a000002u
#define PKT_MAX 20000

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* A TCP/IPv4 packet with plen payload bytes and a 32-byte TCP header (12
 * bytes of options), checksums complete; flags as given. */
static size_t tcp_packet(uint8_t *p, size_t plen, uint8_t flags)
{
	tern_tcp_hdr th = {.sport = 80,
			   .dport = 4000,
			   .seq = 0xfffff000u, /* wraps inside the packet */
			   .ack = 77,
			   .flags = flags,
			   .win = 1000};
	tern_ipv4_hdr ih = {.id = 0xfffe,
			    .df = true,
			    .ttl = 64,
			    .proto = TERN_IPPROTO_TCP,
			    .src = SRC,
			    .dst = DST};
	tern_csum c;
	size_t tl;

	th.opts.present = TERN_TCPOPT_TIMESTAMP;
	th.opts.ts_val = 5;
	tl = tern_tcp_emit(p + 20, 60, &th);
	assert_int_equal(tl, 32);
	for (size_t i = 0; i < plen; i++)
		p[20 + tl + i] = (uint8_t)(i * 7 + i / 251);
	tern_ipv4_emit(p, 20, &ih, tl + plen);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, SRC, DST, TERN_IPPROTO_TCP,
			     (uint16_t)(tl + plen));
	tern_csum_add(&c, p + 20, tl + plen);
	tern_store16(p + 36, tern_csum_final(&c));
	return 20 + tl + plen;
}

/* Puts the pseudo-header sum in the checksum field, as a stack with
 * checksum offload leaves it. */
static void make_partial(uint8_t *p, size_t len)
{
	tern_csum c;

	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, SRC, DST, TERN_IPPROTO_TCP,
			     (uint16_t)(len - 20));
	tern_store16(p + 36, (uint16_t)~tern_csum_final(&c));
}

static bool tcp_ok(const uint8_t *p, size_t len, tern_tcp_hdr *th)
{
	tern_ipv4_hdr ih;

	return tern_ipv4_parse(p, len, &ih) == 0 && ih.total_len == len &&
	       tern_tcp_parse(ih.payload, ih.payload_len, ih.src, ih.dst, true,
			      th) == 0;
}

/* ---- the virtio-net header ---- */

static void test_vnet_encode(void **state)
{
	uint8_t h[VNET_HDR_LEN];
	tern_frame_meta m = {.flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};

	(void)state;
	memset(h, 0xaa, sizeof(h));
	vnet_encode(h, NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		assert_int_equal(h[i], 0);
	vnet_encode(h, &m, 0);
	assert_int_equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16(h + 6), 20);
	assert_int_equal(le16(h + 8), 16);
	m.gso_size = 1448;
	vnet_encode(h, &m, 52);
	assert_int_equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16(h + 2), 52);
	assert_int_equal(le16(h + 4), 1448);
	assert_int_equal(le16(h + 10), 0); /* num_buffers */
	/* CSUM_OK means nothing on the way out. */
	m = (tern_frame_meta){.flags = TERN_FRAME_CSUM_OK};
	vnet_encode(h, &m, 0);
	assert_int_equal(h[0], 0);
}

static void test_vnet_decode(void **state)
{
	uint8_t h[VNET_HDR_LEN] = {0};
	tern_frame_meta m;

	(void)state;
	assert_int_equal(vnet_decode(h, 100, &m), 0);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.gso_size, 0);
	/* The local kernel's partial checksum: nothing to verify. */
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	put_le16(h + 6, 20);
	put_le16(h + 8, 16);
	assert_int_equal(vnet_decode(h, 40, &m), 0);
	assert_int_equal(m.flags, TERN_FRAME_CSUM_PARTIAL | TERN_FRAME_CSUM_OK);
	assert_int_equal(m.csum_start, 20);
	assert_int_equal(m.csum_offset, 16);
	assert_int_equal(vnet_decode(h, 37, &m), -1); /* field past the end */
	h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(vnet_decode(h, 37, &m), 0);
	assert_int_equal(m.flags, TERN_FRAME_CSUM_OK);
	/* A GSO packet, with ECN or without. */
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	put_le16(h + 4, 1460);
	assert_int_equal(vnet_decode(h, 7340, &m), 0);
	assert_int_equal(m.gso_size, 1460);
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(vnet_decode(h, 7340, &m), 0);
	assert_int_equal(m.gso_size, 1460);
	/* What tern cannot take. */
	put_le16(h + 4, 0);
	assert_int_equal(vnet_decode(h, 7340, &m), -1);
	put_le16(h + 4, 1460);
	h[1] = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(vnet_decode(h, 7340, &m), -1);
	h[1] = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(vnet_decode(h, 7340, &m), -1);
}

/* ---- checksum completion and software TSO ---- */

static void test_csum_complete(void **state)
{
	uint8_t p[200];
	size_t len = tcp_packet(p, 100, TERN_TCP_ACK);
	tern_frame_meta m = {.flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	uint16_t good = tern_load16(p + 36);
	tern_tcp_hdr th;

	(void)state;
	make_partial(p, len);
	assert_false(tcp_ok(p, len, &th));
	assert_true(frame_csum_complete(p, len, &m));
	assert_int_equal(tern_load16(p + 36), good);
	assert_true(tcp_ok(p, len, &th));
	m.csum_start = (uint16_t)len;
	assert_false(frame_csum_complete(p, len, &m));
	m.csum_start = (uint16_t)(len - 17);
	assert_false(frame_csum_complete(p, len, &m));
}

struct cuts {
	int n;
	size_t lens[16];
	uint8_t frames[16][1600];
};

static void keep(void *ctx, const uint8_t *frame, size_t len)
{
	struct cuts *c = ctx;

	assert_true(c->n < 16 && len <= sizeof(c->frames[0]));
	memcpy(c->frames[c->n], frame, len);
	c->lens[c->n++] = len;
}

/* Linux's TSO: 10000 bytes at 1448 make 6 full segments and one of
 * 1312; sequence numbers advance (and wrap), IP ids count up (and wrap),
 * FIN and PSH only on the last, CWR only on the first; every checksum
 * right; the payload comes back whole. */
static void test_tso_cut(void **state)
{
	static uint8_t p[PKT_MAX], scratch[PKT_MAX], whole[PKT_MAX];
	static struct cuts c;
	size_t len = tcp_packet(p, 10000,
				TERN_TCP_ACK | TERN_TCP_PSH | TERN_TCP_FIN |
					TERN_TCP_CWR);
	tern_frame_meta m = {.gso_size = 1448,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	size_t off = 0;

	(void)state;
	memcpy(whole, p + 52, 10000);
	make_partial(p, len);
	assert_int_equal(
		frame_to_wire(p, len, &m, scratch, sizeof(scratch), keep, &c),
		0);
	assert_int_equal(c.n, 7);
	for (int i = 0; i < c.n; i++) {
		tern_tcp_hdr th;
		bool last = i == c.n - 1;
		assert_true(tcp_ok(c.frames[i], c.lens[i], &th));
		assert_int_equal(th.payload_len,
				 last ? 10000 - 6 * 1448 : 1448);
		assert_int_equal(th.seq, (uint32_t)(0xfffff000u + off));
		assert_int_equal(tern_load16(c.frames[i] + 4),
				 (uint16_t)(0xfffe + i));
		assert_int_equal(th.flags & (TERN_TCP_FIN | TERN_TCP_PSH),
				 last ? TERN_TCP_FIN | TERN_TCP_PSH : 0);
		assert_int_equal(th.flags & TERN_TCP_CWR,
				 i == 0 ? TERN_TCP_CWR : 0);
		assert_true(th.flags & TERN_TCP_ACK);
		assert_int_equal(th.opts.ts_val, 5);
		assert_memory_equal(th.payload, whole + off, th.payload_len);
		off += th.payload_len;
	}
	assert_int_equal(off, 10000);
}

static void test_wire_refuses(void **state)
{
	static uint8_t p[PKT_MAX], scratch[PKT_MAX];
	static struct cuts c;
	size_t len = tcp_packet(p, 3000, TERN_TCP_ACK);
	tern_frame_meta m = {.gso_size = 1000};

	(void)state;
	/* Too small a scratch for a segment. */
	assert_int_equal(frame_to_wire(p, len, &m, scratch, 1000, keep, &c),
			 -1);
	/* Not TCP. */
	p[9] = 17;
	assert_int_equal(
		frame_to_wire(p, len, &m, scratch, sizeof(scratch), keep, &c),
		-1);
	p[9] = TERN_IPPROTO_TCP;
	/* A total length beyond the frame. */
	assert_int_equal(frame_to_wire(p, len - 1, &m, scratch, sizeof(scratch),
				       keep, &c),
			 -1);
	assert_int_equal(c.n, 0);
	/* No GSO, a partial checksum: completed; one frame. */
	m = (tern_frame_meta){.flags = TERN_FRAME_CSUM_PARTIAL,
			      .csum_start = 20,
			      .csum_offset = 16};
	len = tcp_packet(p, 500, TERN_TCP_ACK);
	make_partial(p, len);
	assert_int_equal(
		frame_to_wire(p, len, &m, scratch, sizeof(scratch), keep, &c),
		0);
	assert_int_equal(c.n, 1);
	tern_tcp_hdr th;
	assert_true(tcp_ok(c.frames[0], c.lens[0], &th));
}

static void test_frame_read(void **state)
{
	const uint8_t a[] = {1, 2, 3}, b[] = {4}, d[] = {5, 6, 7, 8};
	tern_iov iov[4] = {{a, 3}, {NULL, 0}, {b, 1}, {d, 4}};
	uint8_t out[8];

	(void)state;
	assert_int_equal(frame_read(iov, 4, 2, out, 4), 4);
	assert_memory_equal(out, ((uint8_t[]){3, 4, 5, 6}), 4);
	assert_int_equal(frame_read(iov, 4, 6, out, 8), 2);
	assert_memory_equal(out, ((uint8_t[]){7, 8}), 2);
	assert_int_equal(frame_read(iov, 4, 8, out, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet_encode),
		cmocka_unit_test(test_vnet_decode),
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_tso_cut),
		cmocka_unit_test(test_wire_refuses),
		cmocka_unit_test(test_frame_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
