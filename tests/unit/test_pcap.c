/* The pcap capture wrapper, around a simulator port: the file is read back
 * and checked field by field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/link.h>
#include <tern/sim.h>
#include <tern/wire.h>

#include "testutil.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u
#define DELAY ((tern_time)1234567) /* ns: 1234 us in the file */

struct frame {
	uint8_t bytes[1600];
	size_t len;
};

static void make_frame(struct frame *f, size_t len, uint32_t dst, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		f->bytes[i] = (uint8_t)(tag + i * 3);
	f->bytes[0] = 0x45;
	f->bytes[16] = (uint8_t)(dst >> 24);
	f->bytes[17] = (uint8_t)(dst >> 16);
	f->bytes[18] = (uint8_t)(dst >> 8);
	f->bytes[19] = (uint8_t)dst;
	f->len = len;
}

/* Sends one frame from a port when called on the sim's clock. */
struct later {
	tern_link *from;
	const struct frame *f;
};

static void send_later(void *arg, tern_time now)
{
	struct later *l = arg;
	tern_iov iov = {l->f->bytes, l->f->len};

	assert_int_equal(tern_link_send(l->from, &iov, 1, NULL, now), 0);
}

struct rx_count {
	int n;
	tern_time last;
};

static void on_rx(void *ctx, const uint8_t *frame, size_t len,
		  const tern_frame_meta *meta, tern_time now)
{
	struct rx_count *c = ctx;
	(void)meta;

	(void)frame;
	(void)len;
	c->n++;
	c->last = now;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4); /* the file is in host order */
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Checks one record at *off and moves past it. */
static void check_record(const uint8_t *file, size_t size, size_t *off,
			 tern_time t, const struct frame *f)
{
	const uint8_t *r = file + *off;

	assert_true(*off + 16 + f->len <= size);
	assert_int_equal(get32(r), t / TERN_SEC);
	assert_int_equal(get32(r + 4), t % TERN_SEC / TERN_USEC);
	assert_int_equal(get32(r + 8), f->len);
	assert_int_equal(get32(r + 12), f->len);
	assert_memory_equal(r + 16, f->bytes, f->len);
	*off += 16 + f->len;
}

static void check_header(const uint8_t *h, uint32_t linktype)
{
	assert_int_equal(get32(h), 0xa1b2c3d4u);
	assert_int_equal(get16(h + 4), 2);
	assert_int_equal(get16(h + 6), 4);
	assert_int_equal(get32(h + 8), 0);
	assert_int_equal(get32(h + 12), 0);
	assert_int_equal(get32(h + 16), 262144);
	assert_int_equal(get32(h + 20), linktype);
}

/* Destroys the wrapper: the port must no longer call into it. */
static void destroy_and_check(tern_sim *sim, tern_link *w, tern_link *port,
			      const struct frame *f)
{
	tern_link_destroy(w);
	assert_null(port->rx);
	tern_sim_inject(sim, port, f->bytes, f->len, tern_sim_now(sim));
	tern_sim_run(sim, TERN_TIME_NONE);
}

static void test_capture_both_ways(void **state)
{
	const char *path = tu_build_path("test_pcap_both_ways.pcap");
	tern_sim_path wire = {.delay = DELAY};
	tern_sim *sim = tern_sim_new(1);
	tern_link *a = tern_sim_port(sim, ADDR_A, 1500);
	tern_link *b = tern_sim_port(sim, ADDR_B, 1400);
	struct rx_count at_a = {0}, at_b = {0};
	struct frame f1, f2, f3;
	struct later later = {b, &f2};
	tern_time t2 = 2 * TERN_SEC + 500 * TERN_USEC + 999;
	tern_iov iov[3];
	tern_link *w;
	uint8_t *file;
	size_t size, off = 24;
	int err = 0;

	(void)state;
	assert_int_equal(tern_sim_join(sim, a, b, &wire, &wire), 0);
	w = tern_pcap_wrap(a, path, TERN_PCAP_LINKTYPE_IPV4, &err);
	assert_non_null(w);
	assert_int_equal(w->mtu, 1500);
	assert_string_equal(w->name, a->name);
	tern_link_set_rx(w, on_rx, &at_a);
	tern_link_set_rx(b, on_rx, &at_b);

	/* Out through the wrapper at 0. */
	make_frame(&f1, 60, ADDR_B, 1);
	iov[0] = (tern_iov){f1.bytes, f1.len};
	assert_int_equal(tern_link_send(w, iov, 1, NULL, 0), 0);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(at_b.n, 1);

	/* In through the wrapper: sent by b at t2, arrives DELAY later. */
	make_frame(&f2, 1400, ADDR_A, 2);
	assert_int_equal(tern_sim_at(sim, t2, send_later, &later), 0);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(at_a.n, 1);
	assert_int_equal(at_a.last, t2 + DELAY);

	/* Out again, in three pieces. */
	make_frame(&f3, 1500, ADDR_B, 3);
	iov[0] = (tern_iov){f3.bytes, 20};
	iov[1] = (tern_iov){f3.bytes + 20, 0};
	iov[2] = (tern_iov){f3.bytes + 20, 1480};
	assert_int_equal(tern_link_send(w, iov, 3, NULL, tern_sim_now(sim)), 0);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(at_b.n, 2);

	destroy_and_check(sim, w, a, &f2);

	tern_sim_free(sim);

	file = read_all(path, &size);
	assert_int_equal(size, 24 + 3 * 16 + f1.len + f2.len + f3.len);
	check_header(file, TERN_PCAP_LINKTYPE_IPV4);
	check_record(file, size, &off, 0, &f1);
	check_record(file, size, &off, t2 + DELAY, &f2);
	check_record(file, size, &off, t2 + DELAY, &f3);
	assert_int_equal(off, size);
	free(file);
	remove(path);
}

/* An empty capture is a valid file: just the header. */
static void test_empty_capture(void **state)
{
	const char *path = tu_build_path("test_pcap_empty.pcap");
	tern_sim *sim = tern_sim_new(1);
	tern_link *a = tern_sim_port(sim, ADDR_A, 1500);
	tern_link *w;
	uint8_t *file;
	size_t size;
	int err = 0;

	(void)state;
	w = tern_pcap_wrap(a, path, TERN_PCAP_LINKTYPE_ETHERNET, &err);
	assert_non_null(w);
	tern_link_destroy(w);
	file = read_all(path, &size);
	assert_int_equal(size, 24);
	check_header(file, TERN_PCAP_LINKTYPE_ETHERNET);
	free(file);
	tern_sim_free(sim);
	remove(path);
}

static void test_unwritable_path(void **state)
{
	tern_sim *sim = tern_sim_new(1);
	tern_link *a = tern_sim_port(sim, ADDR_A, 1500);
	struct rx_count c = {0};
	int err = 0;

	(void)state;
	tern_link_set_rx(a, on_rx, &c);
	assert_null(tern_pcap_wrap(a, "/nonexistent-tern-dir/x.pcap",
				   TERN_PCAP_LINKTYPE_IPV4, &err));
	assert_int_equal(err, TERN_ERR_IO);
	/* inner untouched */
	assert_true(a->rx == on_rx);
	assert_ptr_equal(a->rx_ctx, &c);
	tern_sim_free(sim);
}

/* ---- offloads: the wrapper has inner's, and meta passes both ways ---- */

/* A TSO frame each way, recorded whole (as tcpdump on the device shows
 * it), its meta handed on unchanged. */
static void test_offload_pass_through(void **state)
{
	const char *path = tu_build_path("test_pcap_offload.pcap");
	static uint8_t big[10000];
	tern_sim *sim = tern_sim_new(1);
	tern_link *a = tern_sim_port(sim, ADDR_A, 1500);
	tern_link *b = tern_sim_port(sim, ADDR_B, 1500);
	tu_meta_seen at_a = {0}, at_b = {0};
	tern_frame_meta m = {.gso_size = 1400,
			     .flags = TERN_FRAME_CSUM_PARTIAL,
			     .csum_start = 20,
			     .csum_offset = 16};
	tern_iov iov = {big, sizeof(big)};
	uint8_t *file;
	size_t size;
	tern_link *w;
	int err = 0;

	(void)state;
	assert_int_equal(tern_sim_join(sim, a, b, NULL, NULL), 0);
	w = tern_pcap_wrap(a, path, TERN_PCAP_LINKTYPE_IPV4, &err);
	assert_int_equal(w->tso_max, 0);
	assert_false(w->tx_csum);
	tern_link_destroy(w);
	tern_sim_port_set_offload(a, true);
	tern_sim_port_set_offload(b, true);
	w = tern_pcap_wrap(a, path, TERN_PCAP_LINKTYPE_IPV4, &err);
	assert_non_null(w);
	assert_int_equal(w->tso_max, 65535);
	assert_true(w->tx_csum);
	tern_link_set_rx(w, tu_on_meta, &at_a);
	tern_link_set_rx(b, tu_on_meta, &at_b);
	memset(big, 0x5a, sizeof(big));
	big[0] = 0x45;
	tern_store32(big + 16, ADDR_B);
	assert_int_equal(tern_link_send(w, &iov, 1, &m, 0), 0);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(at_b.n, 1);
	assert_true(at_b.has);
	assert_int_equal(at_b.m.gso_size, 1400);
	tern_store32(big + 16, ADDR_A);
	iov.len = 5000;
	assert_int_equal(tern_link_send(b, &iov, 1, &m, 0), 0);
	tern_sim_run(sim, TERN_TIME_NONE);
	assert_int_equal(at_a.n, 1);
	assert_true(at_a.has);
	assert_int_equal(at_a.m.gso_size, 1400);
	assert_int_equal(at_a.m.flags,
			 TERN_FRAME_CSUM_PARTIAL | TERN_FRAME_CSUM_OK);
	tern_link_destroy(w);
	tern_sim_free(sim);
	file = read_all(path, &size);
	assert_int_equal(size, 24 + 16 + 10000 + 16 + 5000);
	assert_int_equal(get32(file + 24 + 8), 10000);
	assert_int_equal(get32(file + 24 + 16 + 10000 + 12), 5000);
	free(file);
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_both_ways),
		cmocka_unit_test(test_empty_capture),
		cmocka_unit_test(test_unwritable_path),
		cmocka_unit_test(test_offload_pass_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
