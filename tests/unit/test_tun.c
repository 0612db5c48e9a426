/* TUN and TAP links against the Linux kernel. They need root: the test
 * creates its own network namespace (tern-tun-test-<pid>), moves itself
 * into it with setns(2), and deletes it at the end, so that devices,
 * addresses and packets never leave it. Without root every test skips. */
#define _GNU_SOURCE /* setns */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <tern/link.h>
#include <tern/wire.h>

#include "testutil.h"

#define TUN_NET 0x0a630000u /* 10.99.0.0/24: the kernel is .1 */
#define TAP_NET 0x0a630100u /* 10.99.1.0/24: the kernel is .1, we .2 */
#define UDP_PORT 5555
#define WAIT (2 * TERN_SEC)

static char ns_name[64];
static int home_ns = -1;
static bool in_ns;

/* Runs a shell command (in the namespace once we are in it). */
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	return system(cmd);
}

static void leave_ns(void)
{
	if (!in_ns)
		return;
	in_ns = false;
	if (home_ns >= 0 && setns(home_ns, CLONE_NEWNET) != 0)
		perror("setns home");
	if (run("ip netns del %s", ns_name) != 0)
		fprintf(stderr, "could not delete namespace %s\n", ns_name);
}

static int enter_ns(void **state)
{
	char path[128];
	int fd;

	(void)state;
	if (geteuid() != 0)
		return 0; /* every test skips */
	snprintf(ns_name, sizeof(ns_name), "tern-tun-test-%d", (int)getpid());
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_ns < 0 || run("ip netns add %s", ns_name) != 0)
		return -1;
	in_ns = true;
	atexit(leave_ns); /* also when a test crashes out */
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		perror("setns");
		leave_ns();
		return -1;
	}
	close(fd);
	return 0;
}

static int exit_ns(void **state)
{
	(void)state;
	leave_ns();
	return 0;
}

static void need_root(void)
{
	if (!in_ns)
		skip();
}

static tern_time clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tern_time)ts.tv_sec * TERN_SEC + (tern_time)ts.tv_nsec;
}

/* ---- what the link delivers ---- */

struct seen {
	int ipv4;
	int icmp_echo; /* echo requests to `want_dst` with `want_id` */
	uint32_t want_dst;
	uint16_t want_id;
};

static void on_rx(void *ctx, const uint8_t *p, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct seen *s = ctx;
	tern_ipv4_hdr h;
	(void)meta;

	(void)now;
	if (tern_ipv4_parse(p, len, &h) != 0)
		return;
	s->ipv4++;
	if (h.proto == TERN_IPPROTO_ICMP && h.dst == s->want_dst &&
	    h.payload_len >= 8 && h.payload[0] == 8 &&
	    tern_load16(h.payload + 4) == s->want_id)
		s->icmp_echo++;
}

/* Runs the link (reads, timers) until *flag is set or WAIT passes. */
static bool run_link_until(tern_link *link, const int *flag)
{
	tern_time end = clock_now() + WAIT;
	struct pollfd p = {.fd = tern_link_fd(link), .events = POLLIN};

	while (!*flag && clock_now() < end) {
		poll(&p, 1, 20);
		assert_true(tern_link_recv(link, 64, clock_now()) >= 0);
		tern_link_poll(link, clock_now());
	}
	return *flag != 0;
}

/* ---- the kernel's side ---- */

static void send_echo(uint32_t dst, uint16_t id)
{
	uint8_t m[16] = {8, 0, 0, 0, 0, 0, 0, 1, 't', 'e', 'r', 'n'};
	struct sockaddr_in to = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	assert_true(s >= 0);
	tern_store16(m + 4, id);
	tern_store16(m + 2, tern_inet_checksum(m, sizeof(m)));
	to.sin_addr.s_addr = htonl(dst);
	assert_int_equal(
		sendto(s, m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)),
		sizeof(m));
	close(s);
}

static int udp_listen(uint32_t addr)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(UDP_PORT)};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(addr);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

/* A UDP datagram "tern!" from src:4000 to dst:UDP_PORT, checksums right. */
static size_t udp_packet(uint8_t *p, uint32_t src, uint32_t dst)
{
	static const char data[] = "tern!";
	const size_t len = 20 + 8 + 5;
	tern_csum c;

	memset(p, 0, len);
	p[0] = 0x45;
	tern_store16(p + 2, (uint16_t)len);
	p[8] = 64;
	p[9] = 17;
	tern_store32(p + 12, src);
	tern_store32(p + 16, dst);
	tern_store16(p + 10, tern_inet_checksum(p, 20));
	tern_store16(p + 20, 4000);
	tern_store16(p + 22, UDP_PORT);
	tern_store16(p + 24, 8 + 5);
	memcpy(p + 28, data, 5);
	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, src, dst, 17, 8 + 5);
	tern_csum_add(&c, p + 20, 8 + 5);
	tern_store16(p + 26, tern_csum_final(&c));
	return len;
}

/* Did the kernel hand the datagram to the socket? */
static bool udp_received(int s, int timeout_ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	char buf[64];

	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	return recv(s, buf, sizeof(buf), MSG_DONTWAIT) == 5 &&
	       memcmp(buf, "tern!", 5) == 0;
}

static tern_link *open_cfg(const char *name, bool tap, tern_tun_offload off,
			   bool mq, int *err)
{
	tern_tun_config cfg = {
		.ifname = name,
		.tap = tap,
		.addr = TAP_NET + 2,
		.prefix_len = 24,
		.mac = {0x02, 0x00, 0x00, 0x00, 0x63, 0x02},
		.offload = off,
		.multi_queue = mq,
	};
	*err = 0;
	return tern_tun_open(&cfg, err);
}

/* The device's IFF_* flags as the kernel keeps them (TUNGETIFF on the
 * link's descriptor; sysfs would show the test's first namespace). */
static unsigned tun_flags(tern_link *l)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(ioctl(tern_link_fd(l), TUNGETIFF, &ifr), 0);
	return (unsigned short)ifr.ifr_flags;
}

static tern_link *open_tun(const char *name, bool tap, int *err)
{
	tern_tun_config cfg = {
		.ifname = name,
		.tap = tap,
		.addr = TAP_NET + 2,
		.prefix_len = 24,
		.mac = {0x02, 0x00, 0x00, 0x00, 0x63, 0x02},
	};
	*err = 0;
	return tern_tun_open(&cfg, err);
}

/* ---- TUN ---- */

static void test_tun_created_and_removed(void **state)
{
	tern_link *l;
	int err;

	(void)state;
	need_root();
	l = open_tun("terntun0", false, &err);
	assert_non_null(l);
	assert_string_equal(l->name, "terntun0");
	assert_int_equal(l->mtu, 1500);
	assert_true(tern_link_fd(l) >= 0);
	assert_true(fcntl(tern_link_fd(l), F_GETFD) & FD_CLOEXEC);
	assert_int_equal(
		run("ip -d link show terntun0 | grep -q 'tun type tun'"), 0);
	tern_link_destroy(l);
	/* Created by the open, so gone with the descriptor. */
	assert_true(run("ip link show terntun0 >/dev/null 2>&1") != 0);
}

static void test_tun_reads_echo_request(void **state)
{
	struct seen s = {.want_dst = TUN_NET + 2, .want_id = 0x7e01};
	tern_link *l;
	int err;

	(void)state;
	need_root();
	l = open_tun("terntun1", false, &err);
	assert_non_null(l);
	tern_link_set_rx(l, on_rx, &s);
	assert_int_equal(run("ip addr add 10.99.0.1/24 dev terntun1 && "
			     "ip link set terntun1 up"),
			 0);
	/* Like `ping 10.99.0.2`: nobody serves it, so it goes out the TUN. */
	send_echo(TUN_NET + 2, 0x7e01);
	assert_true(run_link_until(l, &s.icmp_echo));
	tern_link_destroy(l);
}

static void test_tun_write_accepted(void **state)
{
	uint8_t p[64];
	tern_link_counters c;
	tern_link *l;
	int err, sock;
	size_t len;

	(void)state;
	need_root();
	l = open_tun("terntun2", false, &err);
	assert_non_null(l);
	len = udp_packet(p, TUN_NET + 2, TUN_NET + 1);
	tern_iov iov = {p, len};
	/* Down: the kernel says EIO; the frame is dropped and counted. */
	assert_int_equal(tern_link_send(l, &iov, 1, NULL, clock_now()), 0);
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_int_equal(c.tx_down, 1);
	assert_int_equal(c.tx_dropped, 1);
	assert_int_equal(run("ip addr add 10.99.0.1/24 dev terntun2 && "
			     "ip link set terntun2 up"),
			 0);
	sock = udp_listen(TUN_NET + 1);
	assert_int_equal(tern_link_send(l, &iov, 1, NULL, clock_now()), 0);
	assert_true(udp_received(sock, 1000));
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_int_equal(c.tx_frames, 1);
	assert_int_equal(c.tx_bytes, len);
	/* Not an IP packet at all: the kernel refuses it. */
	iov.len = 2;
	p[0] = 0x12;
	assert_int_equal(tern_link_send(l, &iov, 1, NULL, clock_now()),
			 TERN_ERR_INVAL);
	close(sock);
	tern_link_destroy(l);
}

static void test_tun_open_errors(void **state)
{
	tern_tun_config cfg = {.ifname = "terntun3"};
	tern_link *l, *other;
	int err;

	(void)state;
	need_root();
	l = open_tun("terntun3", false, &err);
	assert_non_null(l);
	/* The same name as the other kind, or while in use. */
	assert_null(open_tun("terntun3", true, &err));
	assert_int_equal(err, TERN_ERR_BUSY);
	assert_null(open_tun("terntun3", false, &err));
	assert_int_equal(err, TERN_ERR_BUSY);
	/* A device that is no TUN at all. */
	assert_null(open_tun("lo", false, &err));
	assert_int_equal(err, TERN_ERR_BUSY);
	assert_null(open_tun("terntun-name-too-long", false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(open_tun("", false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(open_tun("a/b", false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(open_tun(NULL, false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	assert_null(tern_tun_open(NULL, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	cfg.mtu = 67;
	assert_null(tern_tun_open(&cfg, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	cfg.mtu = 0;
	cfg.tap = true; /* no address */
	assert_null(tern_tun_open(&cfg, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
	tern_link_destroy(l);
	/* Free again: the other kind may now take the name. */
	other = open_tun("terntun3", true, &err);
	assert_non_null(other);
	tern_link_destroy(other);
}

/* ---- TAP ---- */

static void tap_up(const char *name)
{
	assert_int_equal(run("ip addr add 10.99.1.1/24 dev %s && "
			     "ip link set %s up",
			     name, name),
			 0);
}

static void test_tap_answers_arp_then_reads(void **state)
{
	struct seen s = {.want_dst = TAP_NET + 2, .want_id = 0x7e02};
	tern_link_counters c;
	tern_link *l;
	int err;

	(void)state;
	need_root();
	l = open_tun("terntap0", true, &err);
	assert_non_null(l);
	assert_int_equal(l->mtu, 1500);
	assert_int_equal(
		run("ip -d link show terntap0 | grep -q 'tun type tap'"), 0);
	tern_link_set_rx(l, on_rx, &s);
	tap_up("terntap0");
	/* The kernel must ARP for 10.99.1.2 before its echo request. */
	send_echo(TAP_NET + 2, 0x7e02);
	assert_true(run_link_until(l, &s.icmp_echo));
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_true(c.arp_requests_in >= 1);
	assert_true(c.arp_replies_out >= 1);
	assert_int_equal(run("ip neigh show 10.99.1.2 dev terntap0 | "
			     "grep -q 02:00:00:00:63:02"),
			 0);
	tern_link_destroy(l);
}

static void test_tap_resolves_and_writes(void **state)
{
	uint8_t p[64];
	tern_link *l;
	int err, sock, got = 0;
	tern_iov iov;
	tern_time end;

	(void)state;
	need_root();
	l = open_tun("terntap1", true, &err);
	assert_non_null(l);
	tap_up("terntap1");
	sock = udp_listen(TAP_NET + 1);
	iov.base = p;
	iov.len = udp_packet(p, TAP_NET + 2, TAP_NET + 1);
	/* Queued while the link asks who has 10.99.1.1; sent on the
	 * kernel's reply. */
	assert_int_equal(tern_link_send(l, &iov, 1, NULL, clock_now()), 0);
	for (end = clock_now() + WAIT; !got && clock_now() < end;) {
		assert_true(tern_link_recv(l, 64, clock_now()) >= 0);
		tern_link_poll(l, clock_now());
		got = udp_received(sock, 20);
	}
	assert_true(got);
	close(sock);
	tern_link_destroy(l);
}

/* ---- offloads ---- */

/* A UDP datagram whose checksum field holds only the pseudo-header sum,
 * as a stack with checksum offload leaves it. */
static size_t udp_partial(uint8_t *p, uint32_t src, uint32_t dst)
{
	size_t len = udp_packet(p, src, dst);
	tern_csum c;

	tern_csum_init(&c);
	tern_csum_add_pseudo(&c, src, dst, 17, (uint16_t)(len - 20));
	tern_store16(p + 26, (uint16_t)~tern_csum_final(&c));
	return len;
}

/* On by default: the vnet header, TSO up to 64 KB, partial checksums the
 * kernel finishes (a datagram with one reaches its socket; sent plain,
 * the kernel drops it for its checksum). Off: none of it. */
static void test_tun_offload_paths(void **state)
{
	tern_frame_meta m = {.flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 6};
	tern_link_counters c;
	uint8_t p[64];
	tern_link *l;
	int err, sock;

	(void)state;
	need_root();
	l = open_tun("terntun5", false, &err);
	assert_non_null(l);
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_true(c.offload);
	assert_int_equal(l->tso_max, 65535);
	assert_true(l->tx_csum);
	assert_true(tun_flags(l) & IFF_VNET_HDR);
	assert_int_equal(run("ip addr add 10.99.0.1/24 dev terntun5 && "
			     "ip link set terntun5 up"),
			 0);
	sock = udp_listen(TUN_NET + 1);
	tern_iov iov = {p, udp_partial(p, TUN_NET + 2, TUN_NET + 1)};
	assert_int_equal(tern_link_send(l, &iov, 1, NULL, clock_now()), 0);
	assert_false(udp_received(sock, 200));
	assert_int_equal(tern_link_send(l, &iov, 1, &m, clock_now()), 0);
	assert_true(udp_received(sock, 1000));
	close(sock);
	tern_link_destroy(l);

	l = open_cfg("terntun5", false, TERN_TUN_OFFLOAD_OFF, false, &err);
	assert_non_null(l);
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_false(c.offload);
	assert_int_equal(l->tso_max, 0);
	assert_false(l->tx_csum);
	assert_false(tun_flags(l) & IFF_VNET_HDR);
	assert_int_equal(tern_link_send(l, &iov, 1, &m, clock_now()),
			 TERN_ERR_INVAL);
	tern_link_destroy(l);
	assert_null(
		open_cfg("terntun5", false, (tern_tun_offload)7, false, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
}

/* TAP: the same offloads, less the Ethernet header. */
static void test_tap_offload(void **state)
{
	tern_link_counters c;
	tern_link *l;
	int err;

	(void)state;
	need_root();
	l = open_tun("terntap2", true, &err);
	assert_non_null(l);
	assert_int_equal(l->tso_max, 65535);
	assert_true(l->tx_csum);
	assert_int_equal(tern_link_get_counters(l, &c), 0);
	assert_true(c.offload);
	assert_true(tun_flags(l) & IFF_VNET_HDR);
	tern_link_destroy(l);
}

/* Two queues of one multi-queue device, each a descriptor of its own;
 * a single-queue open, or a queue differing in offloads, is refused. */
static void test_tun_multi_queue(void **state)
{
	tern_link *q0, *q1;
	int err;

	(void)state;
	need_root();
	q0 = open_cfg("terntun6", false, TERN_TUN_OFFLOAD_ON, true, &err);
	assert_non_null(q0);
	q1 = open_cfg("terntun6", false, TERN_TUN_OFFLOAD_ON, true, &err);
	assert_non_null(q1);
	assert_true(tern_link_fd(q0) != tern_link_fd(q1));
	assert_true(tun_flags(q1) & IFF_MULTI_QUEUE);
	assert_true(q1->tso_max > 0);
	assert_null(
		open_cfg("terntun6", false, TERN_TUN_OFFLOAD_ON, false, &err));
	assert_int_equal(err, TERN_ERR_BUSY);
	assert_null(
		open_cfg("terntun6", false, TERN_TUN_OFFLOAD_OFF, true, &err));
	assert_int_equal(err, TERN_ERR_BUSY);
	assert_int_equal(run("ip addr add 10.99.6.1/24 dev terntun6 && "
			     "ip link set terntun6 up"),
			 0);
	tern_link_destroy(q0);
	tern_link_destroy(q1);
	assert_true(run("ip link show terntun6 >/dev/null 2>&1") != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tun_created_and_removed),
		cmocka_unit_test(test_tun_reads_echo_request),
		cmocka_unit_test(test_tun_write_accepted),
		cmocka_unit_test(test_tun_open_errors),
		cmocka_unit_test(test_tap_answers_arp_then_reads),
		cmocka_unit_test(test_tap_resolves_and_writes),
		cmocka_unit_test(test_tun_offload_paths),
		cmocka_unit_test(test_tap_offload),
		cmocka_unit_test(test_tun_multi_queue),
	};
	return cmocka_run_group_tests(tests, enter_ns, exit_ns);
}
