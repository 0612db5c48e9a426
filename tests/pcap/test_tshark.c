/* tern's pcap captures, read back by Wireshark's tshark.
 *
 * Each scenario runs with a capture of the client's link. tshark must open
 * the file and find exactly the segments the client traced (sent and
 * received), in order and field for field, with good IP and TCP checksums
 * and nothing malformed; its expert analysis must see what the scenario is
 * about (retransmissions, zero windows, resets, the close). The same seed
 * gives the same file, byte for byte. A capture that rotates is a series
 * of captures, each read on its own, together holding every packet.
 *
 * tshark comes from the Debian package "tshark" (scripts/deps.sh test).
 * Without it these tests fail: a capture nobody read back proves nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <tern/stats.h>
#include <tern/wire.h>

#include "scenario.h"
#include "testutil.h"

#define CLIENT_IP "10.0.0.1"
#define SERVER_IP "10.0.0.2"

/* The scenarios talk on port 80 but carry a byte pattern, not HTTP: keep
 * the HTTP dissector from reporting the pattern as bad HTTP. Checksums
 * are not verified by default; they are what we want checked. */
#define TSHARK                                                                 \
	"tshark -n --disable-protocol http -o tcp.check_checksum:TRUE "        \
	"-o ip.check_checksum:TRUE"

#define BAD_FILTER                                                             \
	"_ws.malformed || ip.checksum.status == \"Bad\" || "                   \
	"tcp.checksum.status == \"Bad\""

#define CLIENT_RETRANS                                                         \
	"ip.src == " CLIENT_IP " && (tcp.analysis.retransmission || "          \
	"tcp.analysis.fast_retransmission || "                                 \
	"tcp.analysis.spurious_retransmission)"

/* A finished run: its capture file (complete once the run is freed) and
 * what the test needs of the run. */
typedef struct capture {
	char pcap[1024];
	char err[1040]; /* tshark's stderr */
	scn_event *events;
	size_t nevents;
	tern_stats client_stats;
	uint32_t isn[2];
} capture;

typedef struct tshark_out {
	char *text;
	size_t len;
	int lines;
} tshark_out;

/* ---- running tshark ---- */

static void require_tshark(void)
{
	if (system("command -v tshark >/dev/null 2>&1") != 0)
		fail_msg("tshark not found: install the Debian package "
			 "'tshark' (scripts/deps.sh test does)");
}

static void print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  tshark: %s", line);
	fclose(f);
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n;
	char *buf = malloc(cap);

	assert_non_null(buf);
	*len = 0;
	while ((n = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
		*len += n;
		if (cap - *len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[*len] = '\0';
	return buf;
}

/* Runs tshark on the capture with `args` (shell words); it must exit 0. */
static void tshark(tshark_out *o, const capture *c, const char *args)
{
	char cmd[4096];

	require_tshark();
	assert_null(strchr(c->pcap, '\'')); /* quoted with '...' below */
	snprintf(cmd, sizeof(cmd), TSHARK " -r '%s' %s 2>'%s'", c->pcap, args,
		 c->err);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	o->text = read_all(p, &o->len);
	int status = pclose(p);
	o->lines = 0;
	for (size_t i = 0; i < o->len; i++)
		o->lines += o->text[i] == '\n';
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_file(c->err);
		fail_msg("%s: exit status %d", cmd,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/* Packets matching a display filter. (-Y exits 0 even when none do.) */
static int tshark_count(const capture *c, const char *filter)
{
	char args[1024];
	tshark_out o;

	snprintf(args, sizeof(args), "-Y '%s'", filter);
	tshark(&o, c, args);
	free(o.text);
	return o.lines;
}

/* ---- the run and its trace ---- */

/* rot: bounds on the capture (NULL: none). */
static void capture_run_rotating(capture *c, const char *name, uint64_t seed,
				 double loss, const tern_rotate *rot)
{
	char file[256];
	const scn_def *d = scn_find(name);

	assert_non_null(d);
	snprintf(file, sizeof(file), "tshark-%s-seed%llu-loss%g%s.pcap", name,
		 (unsigned long long)seed, loss * 100, rot ? "-rotated" : "");
	snprintf(c->pcap, sizeof(c->pcap), "%s", tu_build_path(file));
	snprintf(c->err, sizeof(c->err), "%s.err", c->pcap);
	scn_params p = {
		.seed = seed, .loss = loss, .pcap = c->pcap, .rotate = rot};
	scn_run *r;
	assert_int_equal(scn_execute(d, &p, &r), 0);
	c->nevents = r->nevents;
	c->events = malloc((r->nevents + 1) * sizeof(*c->events));
	assert_non_null(c->events);
	memcpy(c->events, r->events, r->nevents * sizeof(*c->events));
	for (size_t i = 0; i < c->nevents; i++)
		c->events[i].ev.host = NULL; /* the stack's name, freed below */
	c->client_stats = *tern_stack_stats(r->stack[SCN_CLIENT]);
	c->isn[SCN_CLIENT] = scn_isn(r, SCN_CLIENT, NULL);
	c->isn[SCN_SERVER] = scn_isn(r, SCN_SERVER, NULL);
	scn_free(r); /* closes the capture file */
}

static void capture_run(capture *c, const char *name, uint64_t seed,
			double loss)
{
	capture_run_rotating(c, name, seed, loss, NULL);
}

static void capture_free(capture *c)
{
	free(c->events);
}

/* The client's own segment events (not the scenario's record of a forged
 * one): what its link, and so the capture, carried. */
static size_t client_segs(const capture *c, const tern_trace_event **out,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nevents; i++) {
		const scn_event *e = &c->events[i];
		if (e->host == SCN_CLIENT && !e->injected &&
		    e->ev.kind == TERN_TRACE_SEG) {
			if (n < max)
				out[n] = &e->ev;
			n++;
		}
	}
	return n;
}

static int client_segs_with(const capture *c, uint8_t flags)
{
	const tern_trace_event *segs[1024];
	size_t n = client_segs(c, segs, 1024);
	int count = 0;

	assert_true(n <= 1024);
	for (size_t i = 0; i < n; i++)
		count += (segs[i]->seg.flags & flags) == flags;
	return count;
}

static uint64_t client_counter(const capture *c, int counter)
{
	return c->client_stats.counters[counter];
}

/* ---- the packets against the trace ---- */

enum {
	F_TIME,
	F_SRC,
	F_SPORT,
	F_DST,
	F_DPORT,
	F_FLAGS,
	F_SEQ,
	F_ACK,
	F_LEN,
	F_WIN,
	F_MSS,
	F_IP_CSUM,
	F_TCP_CSUM,
	F_MALFORMED,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"frame.time_epoch",
	"ip.src",
	"tcp.srcport",
	"ip.dst",
	"tcp.dstport",
	"tcp.flags",
	"tcp.seq_raw",
	"tcp.ack_raw",
	"tcp.len",
	"tcp.window_size_value",
	"tcp.options.mss_val",
	"ip.checksum.status",
	"tcp.checksum.status",
	"_ws.malformed",
};

/* Wireshark's checksum status values (proto.h): 1 is "Good". */
#define CSUM_GOOD "1"

static void fields_args(char *args, size_t size)
{
	size_t len = (size_t)snprintf(args, size, "-T fields");

	for (int i = 0; i < F_COUNT && len < size; i++)
		len += (size_t)snprintf(args + len, size - len, " -e %s",
					field_names[i]);
}

/* Splits a tab-separated line in place; empty fields stay empty. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

static void expect_num(int frame, int field, const char *got, uint64_t want)
{
	char *end;
	unsigned long long v = strtoull(got, &end, 0);

	if (*end || v != want)
		fail_msg("frame %d: %s is '%s', the client's trace says %llu",
			 frame, field_names[field], got,
			 (unsigned long long)want);
}

static void expect_str(int frame, int field, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("frame %d: %s is '%s', expected '%s'", frame,
			 field_names[field], got, want);
}

/* "12.345678000" seconds, as nanoseconds. */
static uint64_t epoch_ns(const char *text)
{
	char *end;
	uint64_t ns = strtoull(text, &end, 10) * TERN_SEC;
	uint64_t scale = TERN_SEC / 10;

	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
			ns += (uint64_t)(*end - '0') * scale;
	return ns;
}

static void check_packet(int frame, char **f, const tern_trace_event *ev)
{
	char addr[16];

	/* pcap keeps microseconds */
	if (epoch_ns(f[F_TIME]) != ev->t / TERN_USEC * TERN_USEC)
		fail_msg("frame %d: time %s s, the trace says %llu ns", frame,
			 f[F_TIME], (unsigned long long)ev->t);
	expect_str(frame, F_SRC, f[F_SRC],
		   tern_addr_format(ev->seg.src.addr, addr, sizeof(addr)));
	expect_num(frame, F_SPORT, f[F_SPORT], ev->seg.src.port);
	expect_str(frame, F_DST, f[F_DST],
		   tern_addr_format(ev->seg.dst.addr, addr, sizeof(addr)));
	expect_num(frame, F_DPORT, f[F_DPORT], ev->seg.dst.port);
	expect_num(frame, F_FLAGS, f[F_FLAGS], ev->seg.flags);
	expect_num(frame, F_SEQ, f[F_SEQ], ev->seg.seq);
	if (ev->seg.flags & TERN_TCP_ACK)
		expect_num(frame, F_ACK, f[F_ACK], ev->seg.ack);
	expect_num(frame, F_LEN, f[F_LEN], ev->seg.len);
	expect_num(frame, F_WIN, f[F_WIN], ev->seg.win);
	expect_num(frame, F_MSS, f[F_MSS], ev->seg.mss); /* "" is none */
	expect_str(frame, F_IP_CSUM, f[F_IP_CSUM], CSUM_GOOD);
	expect_str(frame, F_TCP_CSUM, f[F_TCP_CSUM], CSUM_GOOD);
	expect_str(frame, F_MALFORMED, f[F_MALFORMED], "");
}

/* Every packet is one the client traced, in the same order, with the same
 * numbers, good checksums and nothing malformed; and there are exactly as
 * many packets as traced segments. */
static void check_packets(const capture *c)
{
	const tern_trace_event *segs[1024];
	size_t nsegs = client_segs(c, segs, 1024);
	char args[1024];
	tshark_out o;

	assert_true(nsegs <= 1024);
	fields_args(args, sizeof(args));
	tshark(&o, c, args);
	if ((size_t)o.lines != nsegs)
		fail_msg("%s: %d packets, but the client sent and received "
			 "%zu segments",
			 c->pcap, o.lines, nsegs);
	char *line = o.text;
	for (int i = 0; i < o.lines; i++) {
		char *nl = strchr(line, '\n');
		char *f[F_COUNT];
		*nl = '\0';
		if (split(line, f, F_COUNT) != F_COUNT)
			fail_msg("frame %d: '%s' has too few fields", i + 1,
				 line);
		check_packet(i + 1, f, segs[i]);
		line = nl + 1;
	}
	free(o.text);
}

/* The packets, and the same verdict from a display filter. */
static void check_capture(const capture *c)
{
	check_packets(c);
	assert_int_equal(tshark_count(c, BAD_FILTER), 0);
}

/* tshark's expert summary; never an error-level finding. */
static char *expert(const capture *c)
{
	tshark_out o;

	tshark(&o, c, "-q -z expert");
	if (strstr(o.text, "Errors ("))
		fail_msg("%s: tshark's expert analysis reports errors:\n%s",
			 c->pcap, o.text);
	return o.text;
}

static void expect_expert(const char *text, const char *finding)
{
	if (!strstr(text, finding))
		fail_msg("tshark's expert analysis lacks '%s':\n%s", finding,
			 text);
}

/* The fields of the first `count` packets, comma-separated, one a line. */
static char *first_packets(const capture *c, int count, const char *fields)
{
	char args[512];
	tshark_out o;

	snprintf(args, sizeof(args), "-c %d -T fields -E separator=, %s", count,
		 fields);
	tshark(&o, c, args);
	return o.text;
}

/* ---- the scenarios ---- */

static void test_handshake(void **state)
{
	capture c;
	char want[256];
	(void)state;

	capture_run(&c, "handshake", 1, 0);
	check_capture(&c);
	uint32_t j = c.isn[SCN_CLIENT], k = c.isn[SCN_SERVER];
	char *first = first_packets(&c, 3,
				    "-e ip.src -e tcp.flags.syn -e "
				    "tcp.flags.ack -e tcp.options.mss_val "
				    "-e tcp.seq_raw -e tcp.ack_raw");
	snprintf(want, sizeof(want),
		 CLIENT_IP ",1,0,1460,%u,0\n" SERVER_IP
			   ",1,1,1460,%u,%u\n" CLIENT_IP ",0,1,,%u,%u\n",
		 j, k, j + 1, j + 1, k + 1);
	assert_string_equal(first, want);
	free(first);
	/* A clean handshake: nothing for the analysis to remark on. */
	char *e = expert(&c);
	assert_null(strstr(e, "Warns ("));
	assert_null(strstr(e, "Notes ("));
	free(e);
	assert_int_equal(tshark_count(&c, "tcp.analysis.flags"), 0);
	capture_free(&c);
}

/* Every retransmission tern counts, tshark recognizes as one, and no
 * other segment looks like one to it. (TcpRetransSegs includes SYN
 * retransmissions, as in Linux; zero-window probes are counted apart.) */
static void check_retransmissions(const capture *c)
{
	uint64_t counted = client_counter(c, TERN_CTR_TCP_RETRANS_SEGS);

	assert_true(counted > 0);
	assert_int_equal(tshark_count(c, CLIENT_RETRANS), counted);
	char *e = expert(c);
	expect_expert(e, "retransmission");
	free(e);
}

static void test_lossy_transfer(void **state)
{
	capture c;
	(void)state;

	capture_run(&c, "lossy-transfer", 1, 0);
	check_capture(&c);
	check_retransmissions(&c);
	capture_free(&c);
}

/* Random loss on top of the scripted faults; with seed 2 at 10 % the SYN+ACK
 * is lost too, so a SYN is retransmitted. */
static void test_lossy_transfer_random_loss(void **state)
{
	static const struct {
		uint64_t seed;
		double loss;
		bool syn_lost;
	} runs[] = {{1, 0.05, false}, {2, 0.10, true}};
	(void)state;

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		capture c;
		capture_run(&c, "lossy-transfer", runs[i].seed, runs[i].loss);
		check_capture(&c);
		check_retransmissions(&c);
		assert_int_equal(client_counter(&c, TERN_CTR_TCP_SYN_RETRANS) >
					 0,
				 runs[i].syn_lost);
		capture_free(&c);
	}
}

static void test_zero_window(void **state)
{
	capture c;
	(void)state;

	capture_run(&c, "zero-window", 1, 0);
	check_capture(&c);
	assert_true(tshark_count(&c, "ip.src == " SERVER_IP
				     " && tcp.analysis.zero_window") > 0);
	uint64_t probes = client_counter(&c, TERN_CTR_TCP_PERSIST_PROBES);
	assert_true(probes > 0);
	assert_int_equal(tshark_count(&c, "ip.src == " CLIENT_IP
					  " && tcp.analysis.zero_window_probe"),
			 probes);
	assert_true(tshark_count(&c, "tcp.analysis.zero_window_probe_ack") > 0);
	char *e = expert(&c);
	expect_expert(e, "TCP Zero Window Probe");
	expect_expert(e, "TCP window update");
	free(e);
	capture_free(&c);
}

static void test_rst_in_window(void **state)
{
	capture c;
	(void)state;

	capture_run(&c, "rst-in-window", 1, 0);
	check_capture(&c);
	/* Two forged RSTs reach the client in SYN_SENT; the server's RST
	 * ends it. */
	int rsts = client_segs_with(&c, TERN_TCP_RST);
	assert_int_equal(rsts, 3);
	assert_int_equal(tshark_count(&c, "tcp.flags.reset == 1"), rsts);
	char *e = expert(&c);
	expect_expert(e, "Connection reset (RST)");
	free(e);
	capture_free(&c);
}

/* The forged SYN+ACK that acknowledges nothing the client sent. */
static uint32_t forged_synack_ack(const capture *c)
{
	for (size_t i = 0; i < c->nevents; i++) {
		const scn_event *e = &c->events[i];
		if (e->injected && e->host == SCN_CLIENT &&
		    e->ev.seg.flags == (TERN_TCP_SYN | TERN_TCP_ACK))
			return e->ev.seg.ack;
	}
	fail_msg("bad-ack forged no SYN+ACK");
	return 0;
}

static void test_bad_ack(void **state)
{
	capture c;
	char want[32];
	tshark_out o;
	(void)state;

	capture_run(&c, "bad-ack", 1, 0);
	check_capture(&c);
	/* RFC 9293 3.10.7.3: in SYN_SENT, an unacceptable ACK draws
	 * <SEQ=SEG.ACK><CTL=RST>. */
	tshark(&o, &c,
	       "-Y 'ip.src == " CLIENT_IP " && tcp.flags.reset == 1' "
	       "-T fields -e tcp.seq_raw");
	snprintf(want, sizeof(want), "%u\n", forged_synack_ack(&c));
	assert_string_equal(o.text, want);
	free(o.text);
	capture_free(&c);
}

static void test_time_wait(void **state)
{
	capture c;
	(void)state;

	capture_run(&c, "time-wait", 1, 0);
	check_capture(&c);
	int fins = client_segs_with(&c, TERN_TCP_FIN);
	assert_true(fins >= 2); /* the client's FIN, the server's */
	assert_int_equal(tshark_count(&c, "tcp.flags.fin == 1"), fins);
	char *e = expert(&c);
	expect_expert(e, "This frame initiates the connection closing");
	free(e);
	capture_free(&c);
}

/* The packets of every scenario of the catalogue (one tshark run each:
 * its fields include the checksum verdicts and malformed marks). */
static void test_every_scenario(void **state)
{
	size_t n;
	const scn_def *const *all = scn_all(&n);
	(void)state;

	for (size_t i = 0; i < n; i++) {
		capture c;
		capture_run(&c, all[i]->name, 1, 0);
		check_packets(&c);
		capture_free(&c);
	}
}

/* ---- repeatability ---- */

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	uint8_t *buf = (uint8_t *)read_all(f, len);
	fclose(f);
	return buf;
}

static void test_same_seed_same_file(void **state)
{
	capture a, b, other;
	size_t alen, blen, olen;
	(void)state;

	capture_run(&a, "lossy-transfer", 7, 0.05);
	uint8_t *abytes = load(a.pcap, &alen);
	capture_free(&a);
	capture_run(&b, "lossy-transfer", 7, 0.05);
	uint8_t *bbytes = load(b.pcap, &blen);
	assert_true(alen > 24);
	assert_int_equal(alen, blen);
	assert_memory_equal(abytes, bbytes, alen);

	capture_run(&other, "lossy-transfer", 8, 0.05);
	uint8_t *obytes = load(other.pcap, &olen);
	assert_true(olen != alen || memcmp(abytes, obytes, alen) != 0);
	/* Different seeds, different secrets, different ISNs. */
	char *first_b = first_packets(&b, 1, "-e tcp.seq_raw");
	char *first_o = first_packets(&other, 1, "-e tcp.seq_raw");
	assert_string_not_equal(first_b, first_o);
	free(first_b);
	free(first_o);
	free(abytes);
	free(bbytes);
	free(obytes);
	capture_free(&b);
	capture_free(&other);
}

/* ---- rotated captures ---- */

/* tshark said nothing on stderr but its warning about running as root. */
static bool tshark_quiet(const capture *c)
{
	static const char root[] = "Running as user \"root\"";
	FILE *f = fopen(c->err, "r");
	char line[512];
	bool quiet = true;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		quiet &= strncmp(line, root, sizeof(root) - 1) == 0;
	fclose(f);
	return quiet;
}

/* The packets tshark reads in a capture, which it must read without a
 * word of complaint (a file cut short, say). */
static int count_packets(const capture *c)
{
	tshark_out o;

	tshark(&o, c, "-T fields -e frame.number");
	free(o.text);
	if (!tshark_quiet(c)) {
		print_file(c->err);
		fail_msg("%s: tshark complained", c->pcap);
	}
	return o.lines;
}

/* Captured with --rotate-size 4096: every file of the series is a capture
 * tshark reads on its own, none is over the limit, none holds a bad
 * packet, and together they hold the packets of the same run unrotated. */
static void test_rotated_capture(void **state)
{
	tern_rotate rot = {4096, 1000};
	capture whole, rotated, part;
	struct stat st;
	int files = 0, packets = 0;
	(void)state;

	capture_run(&whole, "lossy-transfer", 1, 0);
	capture_run_rotating(&rotated, "lossy-transfer", 1, 0, &rot);
	for (part = rotated;; files++) {
		if (files > 0)
			snprintf(part.pcap, sizeof(part.pcap), "%.1000s.%d",
				 rotated.pcap, files);
		if (stat(part.pcap, &st) != 0)
			break;
		assert_true(st.st_size > 24 && st.st_size <= 4096);
		packets += count_packets(&part);
		assert_int_equal(tshark_count(&part, BAD_FILTER), 0);
	}
	assert_true(files >= 5); /* some 23 KB */
	assert_int_equal(packets, count_packets(&whole));
	capture_free(&whole);
	capture_free(&rotated);
}

/* ---- the checks themselves: damage they must see ---- */

/* Offset of record `n` (0-based) of a classic pcap file in host order. */
static size_t record_at(const uint8_t *p, size_t len, int n)
{
	size_t off = 24;

	for (int i = 0; i < n; i++) {
		uint32_t caplen;
		assert_true(off + 16 <= len);
		memcpy(&caplen, p + off + 8, 4);
		off += 16 + caplen;
	}
	assert_true(off + 16 + 40 <= len);
	return off;
}

/* Replaces the 16-bit word at `at` and updates the checksum at `csum` to
 * match (RFC 1624 3: HC' = ~(~HC + ~m + m')). */
static void patch16(uint8_t *p, size_t at, size_t csum, uint16_t word)
{
	uint32_t hc = (uint32_t)(p[csum] << 8 | p[csum + 1]);
	uint32_t m = (uint32_t)(p[at] << 8 | p[at + 1]);
	uint32_t sum = (~hc & 0xffff) + (~m & 0xffff) + word;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	p[at] = (uint8_t)(word >> 8);
	p[at + 1] = (uint8_t)word;
	p[csum] = (uint8_t)(~sum >> 8);
	p[csum + 1] = (uint8_t)~sum;
}

static void test_checks_see_damage(void **state)
{
	capture c, bad;
	size_t len;
	(void)state;

	capture_run(&c, "handshake", 1, 0);
	uint8_t *p = load(c.pcap, &len);
	/* record 0: a data offset past the end of the segment (checksum
	 * kept right); record 1: a wrong TCP checksum; record 2: a wrong
	 * IP header checksum. */
	size_t tcp0 = record_at(p, len, 0) + 16 + 20;
	patch16(p, tcp0 + 12, tcp0 + 16, (uint16_t)(0xf000 | p[tcp0 + 13]));
	p[record_at(p, len, 1) + 16 + 20 + 16] ^= 0x5a;
	p[record_at(p, len, 2) + 16 + 10] ^= 0x5a;
	snprintf(bad.pcap, sizeof(bad.pcap), "%s",
		 tu_build_path("tshark-damaged.pcap"));
	snprintf(bad.err, sizeof(bad.err), "%s.err", bad.pcap);
	FILE *f = fopen(bad.pcap, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(p);

	assert_int_equal(tshark_count(&bad, "_ws.malformed"), 1);
	assert_int_equal(tshark_count(&bad, "tcp.checksum.status == \"Bad\""),
			 1);
	assert_int_equal(tshark_count(&bad, "ip.checksum.status == \"Bad\""),
			 1);
	assert_int_equal(tshark_count(&bad, BAD_FILTER), 3);
	capture_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_lossy_transfer),
		cmocka_unit_test(test_lossy_transfer_random_loss),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_rst_in_window),
		cmocka_unit_test(test_bad_ack),
		cmocka_unit_test(test_time_wait),
		cmocka_unit_test(test_every_scenario),
		cmocka_unit_test(test_same_seed_same_file),
		cmocka_unit_test(test_rotated_capture),
		cmocka_unit_test(test_checks_see_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
