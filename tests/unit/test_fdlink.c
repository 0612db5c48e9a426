/* The descriptor link over a socketpair: the test holds the other end and
 * plays the network, one datagram per frame. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <tern/link.h>

#include "link/eth.h"
#include "link/vnet.h"
#include "testutil.h"

#define MTU 1500
#define T0 ((tern_time)5 * TERN_SEC)

struct rx_log {
	int n;
	uint8_t last[TERN_FRAME_MAX];
	size_t last_len;
	bool has_meta;
	tern_frame_meta meta;
	tern_time last_now;
	size_t lens[64];
};

static void on_rx(void *ctx, const uint8_t *frame, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct rx_log *log = ctx;

	log->has_meta = meta != NULL;
	if (meta)
		log->meta = *meta;
	assert_true(len <= sizeof(log->last));
	memcpy(log->last, frame, len);
	log->last_len = len;
	log->last_now = now;
	if (log->n < 64)
		log->lens[log->n] = len;
	log->n++;
}

struct pair {
	int sv[2]; /* sv[0] under the link, sv[1] the test's end */
	tern_link *link;
	struct rx_log log;
};

static void pair_open(struct pair *p, int type, uint32_t mtu)
{
	int err = 0;

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, type, 0, p->sv), 0);
	p->link = tern_fd_link(p->sv[0], mtu, true, &err);
	assert_non_null(p->link);
	assert_int_equal(err, 0);
	tern_link_set_rx(p->link, on_rx, &p->log);
}

static void pair_close(struct pair *p)
{
	tern_link_destroy(p->link);
	close(p->sv[1]);
}

static void fill(uint8_t *buf, size_t len, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag + i * 7);
}

static void peer_write(struct pair *p, size_t len, uint8_t tag)
{
	uint8_t buf[MTU + 100];

	assert_true(len <= sizeof(buf));
	fill(buf, len, tag);
	assert_int_equal(send(p->sv[1], buf, len, 0), (ssize_t)len);
}

/* The peer's next datagram, or -1 if none waits. */
static ssize_t peer_read(struct pair *p, uint8_t *buf, size_t cap)
{
	return recv(p->sv[1], buf, cap, MSG_DONTWAIT);
}

static void test_send_pieces_make_one_datagram(void **state)
{
	struct pair p;
	uint8_t frame[300], got[400];
	tern_iov iov[3];

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	fill(frame, sizeof(frame), 1);
	iov[0] = (tern_iov){frame, 20};
	iov[1] = (tern_iov){frame + 20, 1}; /* odd split */
	iov[2] = (tern_iov){frame + 21, sizeof(frame) - 21};
	assert_int_equal(tern_link_send(p.link, iov, 3, NULL, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)), sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	assert_int_equal(peer_read(&p, got, sizeof(got)), -1);
	pair_close(&p);
}

static void test_recv_delivers_with_now(void **state)
{
	struct pair p;
	uint8_t want[200];

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	assert_int_equal(tern_link_recv(p.link, 8, T0), 0);
	peer_write(&p, sizeof(want), 9);
	fill(want, sizeof(want), 9);
	assert_int_equal(tern_link_recv(p.link, 8, T0 + 7), 1);
	assert_int_equal(p.log.n, 1);
	assert_int_equal(p.log.last_len, sizeof(want));
	assert_memory_equal(p.log.last, want, sizeof(want));
	assert_int_equal(p.log.last_now, T0 + 7);
	pair_close(&p);
}

static void test_recv_respects_budget(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	for (int i = 0; i < 5; i++)
		peer_write(&p, 40 + (size_t)i, (uint8_t)i);
	assert_int_equal(tern_link_recv(p.link, 2, T0), 2);
	assert_int_equal(p.log.n, 2);
	assert_int_equal(tern_link_recv(p.link, 0, T0), 0);
	assert_int_equal(tern_link_recv(p.link, 10, T0), 3);
	assert_int_equal(p.log.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(p.log.lens[i], 40 + i); /* in order */
	assert_int_equal(tern_link_recv(p.link, 10, T0), 0);
	pair_close(&p);
}

static void test_oversize_refused_and_dropped(void **state)
{
	struct pair p;
	uint8_t frame[101], got[200];
	tern_iov iov = {frame, sizeof(frame)};
	tern_link_counters c;

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, 100);
	fill(frame, sizeof(frame), 3);
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(peer_read(&p, got, sizeof(got)), -1);
	iov.len = 100;
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)), 100);
	/* Empty frames and bad piece lists are refused too. */
	iov.len = 0;
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_link_send(p.link, &iov, 0, NULL, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_link_send(p.link, NULL, 1, NULL, T0),
			 TERN_ERR_INVAL);
	/* Incoming: one byte over the mtu is read whole and dropped. */
	peer_write(&p, 101, 4);
	peer_write(&p, 100, 5);
	assert_int_equal(tern_link_recv(p.link, 8, T0), 2);
	assert_int_equal(p.log.n, 1);
	assert_int_equal(p.log.last_len, 100);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.rx_frames, 2);
	assert_int_equal(c.rx_dropped, 1);
	assert_int_equal(c.rx_malformed, 1);
	assert_int_equal(c.tx_frames, 1);
	pair_close(&p);
}

static void test_full_descriptor_drops(void **state)
{
	struct pair p;
	uint8_t frame[1000], got[MTU];
	tern_iov iov = {frame, sizeof(frame)};
	tern_link_counters c;
	int sent = 0, attempts = 0;

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	assert_true(fcntl(p.sv[0], F_GETFL) & O_NONBLOCK);
	fill(frame, sizeof(frame), 1);
	/* Nobody reads: the socket fills, and sends drop instead of
	 * blocking. */
	for (attempts = 0; attempts < 100000; attempts++) {
		assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0), 0);
		assert_int_equal(tern_link_get_counters(p.link, &c), 0);
		if (c.tx_full >= 3)
			break;
	}
	assert_int_equal(c.tx_full, 3);
	assert_int_equal(c.tx_dropped, 3);
	assert_int_equal(c.tx_frames + c.tx_dropped, (uint64_t)attempts + 1);
	assert_int_equal(c.tx_bytes, c.tx_frames * sizeof(frame));
	while (peer_read(&p, got, sizeof(got)) > 0)
		sent++;
	assert_int_equal(sent, c.tx_frames);
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)), sizeof(frame));
	pair_close(&p);
}

static void test_counters(void **state)
{
	struct pair p;
	uint8_t frame[64];
	tern_iov iov = {frame, sizeof(frame)};
	tern_link_counters c;
	tern_link_ops other_ops = {0};
	tern_link other = {.ops = &other_ops};

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	fill(frame, sizeof(frame), 0);
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0), 0);
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0), 0);
	peer_write(&p, 10, 0);
	assert_int_equal(tern_link_recv(p.link, 4, T0), 1);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.tx_frames, 2);
	assert_int_equal(c.tx_bytes, 128);
	assert_int_equal(c.rx_frames, 1);
	assert_int_equal(c.rx_bytes, 10);
	assert_int_equal(c.rx_dropped + c.tx_dropped, 0);
	assert_int_equal(tern_link_get_counters(NULL, &c), TERN_ERR_INVAL);
	assert_int_equal(tern_link_get_counters(p.link, NULL), TERN_ERR_INVAL);
	assert_int_equal(tern_link_get_counters(&other, &c), TERN_ERR_NOTSUP);
	pair_close(&p);
}

static void test_fd_op_and_fields(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, 1234);
	assert_int_equal(tern_link_fd(p.link), p.sv[0]);
	assert_int_equal(p.link->mtu, 1234);
	assert_string_equal(p.link->name, "fd");
	assert_null(p.link->ops->next_deadline);
	pair_close(&p);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

static void test_destroy_closes_only_owned(void **state)
{
	int sv[2], err;
	tern_link *l;
	char c;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	l = tern_fd_link(sv[0], MTU, false, &err);
	assert_non_null(l);
	tern_link_destroy(l);
	assert_true(fd_open(sv[0]));
	l = tern_fd_link(sv[0], MTU, true, &err);
	assert_non_null(l);
	tern_link_destroy(l);
	assert_false(fd_open(sv[0]));
	/* The peer sees the end. */
	assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), 0);
	close(sv[1]);
}

static void test_peer_gone(void **state)
{
	struct pair p;
	uint8_t frame[64] = {0x45};
	tern_iov iov = {frame, sizeof(frame)};

	(void)state;
	pair_open(&p, SOCK_SEQPACKET, MTU);
	peer_write(&p, 30, 1);
	close(p.sv[1]);
	/* What was sent before the end still arrives, then the error. */
	assert_int_equal(tern_link_recv(p.link, 8, T0), 1);
	assert_int_equal(p.log.n, 1);
	assert_int_equal(tern_link_recv(p.link, 8, T0), TERN_ERR_IO);
	/* No SIGPIPE: the error comes back instead. */
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0),
			 TERN_ERR_IO);
	tern_link_destroy(p.link);
}

static void test_empty_datagram_is_no_end(void **state)
{
	struct pair p;
	tern_link_counters c;

	(void)state;
	pair_open(&p, SOCK_DGRAM, MTU);
	assert_int_equal(send(p.sv[1], "", 0, 0), 0);
	peer_write(&p, 50, 2);
	assert_int_equal(tern_link_recv(p.link, 8, T0), 2);
	assert_int_equal(p.log.n, 1);
	assert_int_equal(p.log.last_len, 50);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.rx_malformed, 1);
	pair_close(&p);
}

static void test_bad_arguments(void **state)
{
	int sv[2], err = 0;

	(void)state;
	assert_null(tern_fd_link(-1, MTU, false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	err = 0;
	assert_null(tern_fd_link(sv[0], 0, true, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	err = 0;
	assert_null(tern_fd_link(sv[0], TERN_FRAME_MAX + 1, true, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	/* A failed open leaves the descriptor to its owner. */
	assert_true(fd_open(sv[0]));
	close(sv[0]);
	close(sv[1]);
	err = 0;
	assert_null(tern_fd_link(sv[0], MTU, true, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(tern_fd_link(-1, MTU, false, NULL)); /* err optional */
}

/* ---- the virtio-net header (a TUN/TAP device's, played over a
 * socketpair: the descriptor core does not know the difference) ---- */

static void pair_open_vnet(struct pair *p, enum fdl_kind kind)
{
	int err = 0;

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p->sv), 0);
	p->link = fdl_open(p->sv[0], MTU, true, kind, true, "vnet", &err);
	assert_non_null(p->link);
	tern_link_set_rx(p->link, on_rx, &p->log);
}

static uint16_t le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

/* An IPv4 packet of len bytes behind l3 bytes of link header, with a
 * 20-byte TCP header (the bytes need not be a valid packet: the link
 * reads only the header lengths). */
static void tcp_like(uint8_t *f, size_t l3, size_t len)
{
	fill(f, l3 + len, 3);
	f[l3] = 0x45;
	f[l3 + 20 + 12] = 0x50;
}

static void test_vnet_send(void **state)
{
	static uint8_t f[TERN_FRAME_MAX + 64], got[TERN_FRAME_MAX + 64];
	struct pair p;
	tern_link_counters c;
	tern_frame_meta m = {.gso_size = 1460,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	tern_iov iov[2] = {{f, 40}, {f + 40, 10000 - 40}};

	(void)state;
	pair_open_vnet(&p, FDL_TUN);
	assert_int_equal(p.link->tso_max, 65535);
	assert_true(p.link->tx_csum);
	/* A plain frame: a header of zeros in front. */
	tcp_like(f, 0, 10000);
	assert_int_equal(tern_link_send(p.link, iov, 1, NULL, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)), VNET_HDR_LEN + 40);
	for (int i = 0; i < VNET_HDR_LEN; i++)
		assert_int_equal(got[i], 0);
	assert_memory_equal(got + VNET_HDR_LEN, f, 40);
	/* A TSO frame with a partial checksum, in pieces. */
	assert_int_equal(tern_link_send(p.link, iov, 2, &m, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)), VNET_HDR_LEN + 10000);
	assert_int_equal(got[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16(got + 2), 40);
	assert_int_equal(le16(got + 4), 1460);
	assert_int_equal(le16(got + 6), 20);
	assert_int_equal(le16(got + 8), 16);
	assert_memory_equal(got + VNET_HDR_LEN, f, 10000);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_true(c.offload);
	assert_int_equal(c.tx_frames, 2);
	assert_int_equal(c.tx_bytes, 40 + 10000);
	assert_int_equal(c.tx_gso_frames, 1);
	assert_int_equal(c.tx_gso_bytes, 10000);
	pair_close(&p);
}

/* TAP: the offsets count from the Ethernet header, hdr_len too. */
static void test_vnet_send_tap(void **state)
{
	static uint8_t f[4000], got[4100];
	struct pair p;
	tern_frame_meta m = {.gso_size = 1000};
	tern_iov iov = {f, 14 + 3000};

	(void)state;
	pair_open_vnet(&p, FDL_TAP);
	assert_int_equal(p.link->tso_max, 65535 + 14);
	tcp_like(f, 14, 3000);
	assert_int_equal(tern_link_send(p.link, &iov, 1, &m, T0), 0);
	assert_int_equal(peer_read(&p, got, sizeof(got)),
			 VNET_HDR_LEN + 14 + 3000);
	assert_int_equal(got[0], 0); /* the checksum is complete */
	assert_int_equal(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16(got + 2), 14 + 20 + 20);
	pair_close(&p);
}

static void test_vnet_send_refused(void **state)
{
	static uint8_t f[TERN_FRAME_MAX + 64];
	struct pair p;
	tern_frame_meta gso = {.gso_size = 1000};
	tern_frame_meta partial = {.flags = TERN_FRAME_CSUM_PARTIAL,
				   .csum_start = 20,
				   .csum_offset = 16};
	tern_iov iov = {f, 65536};
	tern_link_counters c;

	(void)state;
	tcp_like(f, 0, sizeof(f) - 64);
	pair_open_vnet(&p, FDL_TUN);
	assert_int_equal(tern_link_send(p.link, &iov, 1, &gso, T0),
			 TERN_ERR_INVAL); /* beyond tso_max */
	iov.len = MTU + 1;
	assert_int_equal(tern_link_send(p.link, &iov, 1, NULL, T0),
			 TERN_ERR_INVAL); /* beyond the mtu, no gso_size */
	iov.len = 37;
	assert_int_equal(tern_link_send(p.link, &iov, 1, &partial, T0),
			 TERN_ERR_INVAL); /* the checksum field past the end */
	iov.len = 39;
	assert_int_equal(tern_link_send(p.link, &iov, 1, &gso, T0),
			 TERN_ERR_INVAL); /* shorter than its headers */
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.tx_frames + c.tx_dropped, 0);
	pair_close(&p);
	/* A plain link takes no offloads at all. */
	pair_open(&p, SOCK_SEQPACKET, MTU);
	assert_int_equal(p.link->tso_max, 0);
	assert_false(p.link->tx_csum);
	iov.len = 100;
	assert_int_equal(tern_link_send(p.link, &iov, 1, &gso, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_link_send(p.link, &iov, 1, &partial, T0),
			 TERN_ERR_INVAL);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_false(c.offload);
	pair_close(&p);
}

/* The peer (the kernel) writes a header and a frame in one datagram. */
static void peer_vnet(struct pair *p, uint8_t flags, uint8_t type, uint16_t gso,
		      size_t len, uint8_t version)
{
	static uint8_t b[VNET_HDR_LEN + TERN_FRAME_MAX + 8];

	memset(b, 0, VNET_HDR_LEN);
	b[0] = flags;
	b[1] = type;
	b[4] = (uint8_t)gso;
	b[5] = (uint8_t)(gso >> 8);
	b[6] = 20; /* csum_start */
	b[8] = 16; /* csum_offset */
	tcp_like(b + VNET_HDR_LEN, 0, len);
	b[VNET_HDR_LEN] = (uint8_t)(version << 4 | 5);
	assert_int_equal(send(p->sv[1], b, VNET_HDR_LEN + len, 0),
			 (ssize_t)(VNET_HDR_LEN + len));
}

static void test_vnet_recv(void **state)
{
	static struct pair p;
	tern_link_counters c;

	(void)state;
	pair_open_vnet(&p, FDL_TUN);
	/* The kernel's GSO packet, its checksum left partial. */
	peer_vnet(&p, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
		  1448, 30000, 4);
	assert_int_equal(tern_link_recv(p.link, 8, T0), 1);
	assert_int_equal(p.log.n, 1);
	assert_int_equal(p.log.last_len, 30000);
	assert_true(p.log.has_meta);
	assert_int_equal(p.log.meta.gso_size, 1448);
	assert_int_equal(p.log.meta.flags,
			 TERN_FRAME_CSUM_PARTIAL | TERN_FRAME_CSUM_OK);
	assert_int_equal(p.log.meta.csum_start, 20);
	/* Plain, and validated by the kernel. */
	peer_vnet(&p, 0, 0, 0, 100, 4);
	peer_vnet(&p, VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 100, 4);
	assert_int_equal(tern_link_recv(p.link, 1, T0), 1);
	assert_false(p.log.has_meta);
	assert_int_equal(tern_link_recv(p.link, 1, T0), 1);
	assert_true(p.log.has_meta);
	assert_int_equal(p.log.meta.flags, TERN_FRAME_CSUM_OK);
	assert_int_equal(p.log.n, 3);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.rx_frames, 3);
	assert_int_equal(c.rx_bytes, 30000 + 200);
	assert_int_equal(c.rx_gso_frames, 1);
	assert_int_equal(c.rx_gso_bytes, 30000);
	pair_close(&p);
}

static void test_vnet_recv_drops(void **state)
{
	static struct pair p;
	tern_link_counters c;

	(void)state;
	pair_open_vnet(&p, FDL_TUN);
	peer_vnet(&p, 0, VIRTIO_NET_HDR_GSO_UDP, 1400, 3000, 4);
	peer_vnet(&p, 0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 3000, 4);
	peer_vnet(&p, 0, VIRTIO_NET_HDR_GSO_TCPV6, 1400, 3000, 6);
	peer_vnet(&p, 0, 0, 0, MTU + 1, 4); /* no GSO, beyond the mtu */
	peer_vnet(&p, 0, VIRTIO_NET_HDR_GSO_TCPV4, 1400, 65536, 4);
	assert_int_equal(send(p.sv[1], "short", 5, 0), 5); /* no header */
	assert_int_equal(tern_link_recv(p.link, 16, T0), 6);
	assert_int_equal(p.log.n, 0);
	assert_int_equal(tern_link_get_counters(p.link, &c), 0);
	assert_int_equal(c.rx_bad_vnet, 2);
	assert_int_equal(c.rx_not_ip, 1);
	assert_int_equal(c.rx_malformed, 3);
	assert_int_equal(c.rx_dropped, 6);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_pieces_make_one_datagram),
		cmocka_unit_test(test_recv_delivers_with_now),
		cmocka_unit_test(test_recv_respects_budget),
		cmocka_unit_test(test_oversize_refused_and_dropped),
		cmocka_unit_test(test_full_descriptor_drops),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_fd_op_and_fields),
		cmocka_unit_test(test_destroy_closes_only_owned),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_empty_datagram_is_no_end),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_vnet_send),
		cmocka_unit_test(test_vnet_send_tap),
		cmocka_unit_test(test_vnet_send_refused),
		cmocka_unit_test(test_vnet_recv),
		cmocka_unit_test(test_vnet_recv_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
