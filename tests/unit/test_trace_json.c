/* The JSON Lines trace: tern_trace_json_format() field by field, string
 * escaping, the writer, and whole scenario traces read back by Python's
 * json module against the format:
 *
 * One object per line. Every line has "t" (microseconds since the run
 * started, an integer), "host" ("client"/"server") and "ev".
 *   "ev":"state": "conn" ("10.0.0.1:40000-10.0.0.2:80", local address
 *     first), "from", "to" (CLOSED LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED
 *     FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT), "cause".
 *   "ev":"seg": "dir" ("tx"/"rx"), "src", "dst" ("ip:port"), "flags" (an
 *     array of names from SYN ACK FIN RST PSH URG ECE CWR), "seq", "ack"
 *     (raw 32-bit), "len", "win"; "mss" when the segment carries one.
 *   "ev":"drop": "reason", and "src"/"dst" when known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <tern/link.h>
#include <tern/stats.h>
#include <tern/trace.h>
#include <tern/wire.h>

#include "scenario.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"

static const tern_endpoint client_ep = {0x0a000001u, 40000};
static const tern_endpoint server_ep = {0x0a000002u, 80};

static void require_python(void)
{
	if (system(PYTHON " -c 'import json' >/dev/null 2>&1") != 0)
		fail_msg(PYTHON " not found: install the Debian package "
				"'python3' (scripts/deps.sh test does)");
}

static char *format(const tern_trace_event *ev, tern_time start)
{
	static char buf[1024];

	int n = tern_trace_json_format(buf, sizeof(buf), ev, start);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	return buf;
}

/* ---- each event kind, field by field ---- */

static tern_trace_event state_event(void)
{
	tern_trace_event ev = {.kind = TERN_TRACE_STATE,
			       .t = 1234567, /* ns */
			       .host = "client"};

	ev.state.conn_id = 1;
	ev.state.local = client_ep;
	ev.state.remote = server_ep;
	ev.state.from = TERN_TCP_SYN_SENT;
	ev.state.to = TERN_TCP_ESTABLISHED;
	ev.state.cause = "rx SYN+ACK";
	return ev;
}

static void test_state(void **state)
{
	tern_trace_event ev = state_event();
	(void)state;

	assert_string_equal(format(&ev, 0),
			    "{\"t\":1234,\"host\":\"client\",\"ev\":\"state\","
			    "\"conn\":\"10.0.0.1:40000-10.0.0.2:80\","
			    "\"from\":\"SYN_SENT\",\"to\":\"ESTABLISHED\","
			    "\"cause\":\"rx SYN+ACK\"}");
}

/* The local address comes first, whichever end it is. */
static void test_state_server_conn(void **state)
{
	tern_trace_event ev = state_event();
	(void)state;

	ev.host = "server";
	ev.state.local = server_ep;
	ev.state.remote = client_ep;
	ev.state.from = TERN_TCP_LISTEN;
	ev.state.to = TERN_TCP_SYN_RECEIVED;
	ev.state.cause = "rx SYN";
	assert_string_equal(format(&ev, 0),
			    "{\"t\":1234,\"host\":\"server\",\"ev\":\"state\","
			    "\"conn\":\"10.0.0.2:80-10.0.0.1:40000\","
			    "\"from\":\"LISTEN\",\"to\":\"SYN_RECEIVED\","
			    "\"cause\":\"rx SYN\"}");
}

static void test_state_names(void **state)
{
	static const char *const names[TERN_TCP_STATE_COUNT] = {
		"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
		"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
		"CLOSING",     "LAST_ACK",   "TIME_WAIT",
	};
	tern_trace_event ev = state_event();
	char want[256];
	(void)state;

	for (int s = 0; s < TERN_TCP_STATE_COUNT; s++) {
		ev.state.from = s;
		ev.state.to = (s + 1) % TERN_TCP_STATE_COUNT;
		snprintf(want, sizeof(want), "\"from\":\"%s\",\"to\":\"%s\",",
			 names[s], names[(s + 1) % TERN_TCP_STATE_COUNT]);
		assert_non_null(strstr(format(&ev, 0), want));
	}
}

/* No cause is an empty string, not a missing key or null. */
static void test_state_no_cause(void **state)
{
	tern_trace_event ev = state_event();
	(void)state;

	ev.state.cause = NULL;
	char *s = format(&ev, 0);
	assert_non_null(strstr(s, ",\"cause\":\"\"}"));
}

static tern_trace_event seg_event(void)
{
	tern_trace_event ev = {
		.kind = TERN_TRACE_SEG, .t = 30 * TERN_MSEC, .host = "client"};

	ev.seg.tx = true;
	ev.seg.src = client_ep;
	ev.seg.dst = server_ep;
	ev.seg.flags = TERN_TCP_ACK | TERN_TCP_PSH;
	ev.seg.seq = 1034987618u;
	ev.seg.ack = 4189918653u;
	ev.seg.len = 5;
	ev.seg.win = 65535;
	return ev;
}

static void test_seg_tx(void **state)
{
	tern_trace_event ev = seg_event();
	(void)state;

	assert_string_equal(
		format(&ev, 0),
		"{\"t\":30000,\"host\":\"client\",\"ev\":\"seg\","
		"\"dir\":\"tx\",\"src\":\"10.0.0.1:40000\","
		"\"dst\":\"10.0.0.2:80\",\"flags\":[\"ACK\",\"PSH\"],"
		"\"seq\":1034987618,\"ack\":4189918653,\"len\":5,"
		"\"win\":65535}");
}

/* A received SYN with an MSS option; seq and ack are raw, up to 2^32-1. */
static void test_seg_rx_syn(void **state)
{
	tern_trace_event ev = seg_event();
	(void)state;

	ev.host = "server";
	ev.seg.tx = false;
	ev.seg.flags = TERN_TCP_SYN;
	ev.seg.seq = UINT32_MAX;
	ev.seg.ack = 0;
	ev.seg.len = 0;
	ev.seg.win = 0;
	ev.seg.mss = 1460;
	assert_string_equal(format(&ev, 0),
			    "{\"t\":30000,\"host\":\"server\",\"ev\":\"seg\","
			    "\"dir\":\"rx\",\"src\":\"10.0.0.1:40000\","
			    "\"dst\":\"10.0.0.2:80\",\"flags\":[\"SYN\"],"
			    "\"seq\":4294967295,\"ack\":0,\"len\":0,\"win\":0,"
			    "\"mss\":1460}");
}

static void test_seg_flags(void **state)
{
	static const struct {
		uint8_t flags;
		const char *text;
	} cases[] = {
		{0, "\"flags\":[],"},
		{TERN_TCP_FIN, "\"flags\":[\"FIN\"],"},
		{TERN_TCP_RST, "\"flags\":[\"RST\"],"},
		{TERN_TCP_URG, "\"flags\":[\"URG\"],"},
		{TERN_TCP_ECE, "\"flags\":[\"ECE\"],"},
		{TERN_TCP_CWR, "\"flags\":[\"CWR\"],"},
		{TERN_TCP_SYN | TERN_TCP_ACK, "\"flags\":[\"SYN\",\"ACK\"],"},
		{TERN_TCP_FIN | TERN_TCP_ACK | TERN_TCP_PSH,
		 "\"flags\":[\"ACK\",\"FIN\",\"PSH\"],"},
		{TERN_TCP_RST | TERN_TCP_ACK, "\"flags\":[\"ACK\",\"RST\"],"},
		{0xff, "\"flags\":[\"SYN\",\"ACK\",\"FIN\",\"RST\",\"PSH\","
		       "\"URG\",\"ECE\",\"CWR\"],"},
	};
	tern_trace_event ev = seg_event();
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev.seg.flags = cases[i].flags;
		char *s = format(&ev, 0);
		if (!strstr(s, cases[i].text))
			fail_msg("flags 0x%02x: %s lacks %s", cases[i].flags, s,
				 cases[i].text);
	}
}

static void test_drop_with_addrs(void **state)
{
	tern_trace_event ev = {
		.kind = TERN_TRACE_DROP, .t = 14 * TERN_MSEC, .host = "client"};
	(void)state;

	ev.drop.reason = TERN_DROP_TCP_BAD_ACK;
	ev.drop.have_addrs = true;
	ev.drop.src = server_ep;
	ev.drop.dst = client_ep;
	assert_string_equal(format(&ev, 0),
			    "{\"t\":14000,\"host\":\"client\",\"ev\":\"drop\","
			    "\"reason\":\"tcp_bad_ack\","
			    "\"src\":\"10.0.0.2:80\","
			    "\"dst\":\"10.0.0.1:40000\"}");
}

/* A packet too broken to have addresses: only the reason. */
static void test_drop_without_addrs(void **state)
{
	tern_trace_event ev = {
		.kind = TERN_TRACE_DROP, .t = 7 * TERN_USEC, .host = "server"};
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	ev.drop.src = server_ep; /* ignored without have_addrs */
	assert_string_equal(format(&ev, 0),
			    "{\"t\":7,\"host\":\"server\",\"ev\":\"drop\","
			    "\"reason\":\"ip_truncated\"}");
}

/* ---- time ---- */

static void test_time_is_microseconds_since_start(void **state)
{
	tern_trace_event ev = state_event();
	(void)state;

	ev.t = 5 * TERN_SEC + 999; /* sub-microsecond parts are cut */
	assert_non_null(strstr(format(&ev, 0), "{\"t\":5000000,"));
	assert_non_null(strstr(format(&ev, 2 * TERN_SEC), "{\"t\":3000000,"));
	assert_non_null(strstr(format(&ev, ev.t), "{\"t\":0,"));
	/* an event from before the start is not negative */
	assert_non_null(strstr(format(&ev, ev.t + TERN_SEC), "{\"t\":0,"));
	/* large times stay integers */
	ev.t = 3 * 3600 * TERN_SEC;
	assert_non_null(strstr(format(&ev, 0), "{\"t\":10800000000,"));
}

/* ---- buffer sizes: as snprintf ---- */

static void test_short_buffer(void **state)
{
	tern_trace_event ev = seg_event();
	char full[512], small[16];
	(void)state;

	int n = tern_trace_json_format(full, sizeof(full), &ev, 0);
	assert_int_equal(tern_trace_json_format(NULL, 0, &ev, 0), n);
	memset(small, 'X', sizeof(small));
	assert_int_equal(tern_trace_json_format(small, sizeof(small), &ev, 0),
			 n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
}

/* ---- string escaping (RFC 8259 7) ---- */

static void test_escaping(void **state)
{
	tern_trace_event ev = {.kind = TERN_TRACE_DROP, .host = "a\"b\\c/d"};
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	assert_string_equal(format(&ev, 0),
			    "{\"t\":0,\"host\":\"a\\\"b\\\\c/d\",\"ev\":"
			    "\"drop\",\"reason\":\"ip_truncated\"}");
}

/* Every control character is escaped: as \uXXXX, or for five of them
 * optionally the two-character form. */
static void test_escaping_control_chars(void **state)
{
	static const char *const short_forms[0x20] = {
		['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n",
		['\r'] = "\\r", ['\t'] = "\\t",
	};
	tern_trace_event ev = {.kind = TERN_TRACE_DROP};
	char host[4], want_u[32], want_short[32];
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	for (int c = 1; c < 0x20; c++) {
		snprintf(host, sizeof(host), "x%cy", c);
		ev.host = host;
		char *s = format(&ev, 0);
		snprintf(want_u, sizeof(want_u), "\"host\":\"x\\u%04xy\"", c);
		snprintf(want_short, sizeof(want_short), "\"host\":\"x%sy\"",
			 short_forms[c] ? short_forms[c] : "-");
		if (!strstr(s, want_u) && !strstr(s, want_short))
			fail_msg("control character 0x%02x: %s", c, s);
		for (const char *p = s; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
	}
}

/* UTF-8 and DEL need no escape: they pass through unchanged. */
static void test_utf8_passes_through(void **state)
{
	tern_trace_event ev = {.kind = TERN_TRACE_DROP,
			       .host = "h\xc3\xa9te\x7f"};
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	assert_non_null(strstr(format(&ev, 0), "\"host\":\"h\xc3\xa9te\x7f\""));
}

/* Bytes that are not UTF-8 (a stray continuation byte, an overlong
 * form, a surrogate, a truncated sequence) become U+FFFD: the line stays
 * valid JSON. Valid 2-, 3- and 4-byte sequences pass through. */
static void test_invalid_utf8_replaced(void **state)
{
	static const struct {
		const char *host, *want;
	} cases[] = {
		{"a\x80"
		 "b",
		 "\"a\\ufffdb\""},
		{"a\xc0\xaf"
		 "b",
		 "\"a\\ufffd\\ufffdb\""},
		{"a\xed\xa0\x80"
		 "b",
		 "\"a\\ufffd\\ufffd\\ufffdb\""},
		{"a\xe2\x82", "\"a\\ufffd\\ufffd\""},
		{"\xe2\x82\xac\xf0\x9f\x98\x80",
		 "\"\xe2\x82\xac\xf0\x9f\x98\x80\""},
	};
	tern_trace_event ev = {.kind = TERN_TRACE_DROP};
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev.host = cases[i].host;
		char *s = format(&ev, 0);
		if (!strstr(s, cases[i].want))
			fail_msg("case %zu: %s", i, s);
	}
}

/* An unknown event kind is refused, not used as an index. */
static void test_unknown_kind(void **state)
{
	tern_trace_event ev = {.kind = 7, .host = "a"};
	char buf[64];
	(void)state;
	assert_int_equal(tern_trace_json_format(buf, sizeof(buf), &ev, 0), -1);
}

/* A line longer than the writer's buffer is written whole. */
static void test_long_line_written_whole(void **state)
{
	char host[2000], path[256], line[4096];
	tern_trace_event ev = {.kind = TERN_TRACE_DROP, .host = host};
	(void)state;

	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	snprintf(path, sizeof(path), "%s", tu_build_path("long_line.jsonl"));
	tern_trace_json *w = tern_trace_json_open(path, 0, NULL);
	assert_non_null(w);
	tern_trace_json_hook(w, &ev);
	assert_int_equal(tern_trace_json_close(w), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	int need = tern_trace_json_format(NULL, 0, &ev, 0);
	assert_true(need > 2000);
	assert_int_equal(strlen(line), (size_t)need + 1); /* and newline */
}

/* A write that fails (a full disk) is reported by flush and close. */
static void test_write_failure_reported(void **state)
{
	tern_trace_event ev = {.kind = TERN_TRACE_DROP, .host = "a"};
	(void)state;

	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	tern_trace_json *w = tern_trace_json_open("/dev/full", 0, NULL);
	assert_non_null(w);
	for (int i = 0; i < 1000; i++) /* more than stdio buffers */
		tern_trace_json_hook(w, &ev);
	assert_int_equal(tern_trace_json_flush(w), TERN_ERR_IO);
	assert_int_equal(tern_trace_json_close(w), TERN_ERR_IO);
}

/* What the escapes decode to is the name itself, byte for byte. */
static void test_escaping_round_trip(void **state)
{
	static const char *const hosts[] = {
		"quote\"",
		"back\\slash",
		"\x01\x02\x1f",
		"tab\tnl\ncr\r",
		"\"\\\"\\",
		"h\xc3\xa9te\x7f",
		"",
	};
	char path[1024], cmd[2200], want[64];
	tern_trace_event ev = {.kind = TERN_TRACE_DROP};
	(void)state;

	require_python();
	ev.drop.reason = TERN_DROP_IP_TRUNCATED;
	snprintf(path, sizeof(path), "%s", tu_build_path("trace-escapes.json"));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		ev.host = hosts[i];
		fprintf(f, "%s\n", format(&ev, 0));
	}
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd),
		 PYTHON " -c 'import json, sys\n"
			"for line in open(sys.argv[1], encoding=\"utf-8\"):\n"
			"    print(json.loads(line)[\"host\"].encode().hex())'"
			" '%s'",
		 path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char line[128] = "";
		size_t len = 0;
		assert_non_null(fgets(line, sizeof(line), p));
		for (const char *c = hosts[i]; *c; c++)
			len += (size_t)snprintf(want + len, sizeof(want) - len,
						"%02x", (unsigned char)*c);
		want[len] = '\0';
		strcat(want, "\n");
		assert_string_equal(line, want);
	}
	assert_int_equal(pclose(p), 0);
}

/* ---- the writer ---- */

static void test_stream_writer(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	(void)state;

	assert_non_null(mem);
	tern_trace_json *w = tern_trace_json_stream(mem, 1 * TERN_MSEC);
	assert_non_null(w);
	tern_trace_event a = state_event(), b = seg_event();
	tern_trace_json_hook(w, &a);
	tern_trace_json_hook(w, &b);
	tern_trace_json_close(w); /* a stream stays open */
	assert_int_equal(fputs("end\n", mem) >= 0, 1);
	assert_int_equal(fclose(mem), 0);

	char want[1100];
	char line_a[512], line_b[512];
	tern_trace_json_format(line_a, sizeof(line_a), &a, TERN_MSEC);
	tern_trace_json_format(line_b, sizeof(line_b), &b, TERN_MSEC);
	snprintf(want, sizeof(want), "%s\n%s\nend\n", line_a, line_b);
	assert_string_equal(text, want);
	assert_non_null(strstr(text, "{\"t\":234,")); /* 1234 us - 1 ms */
	free(text);
}

static void test_open_bad_path(void **state)
{
	int err = 0;
	(void)state;

	assert_null(tern_trace_json_open("/nonexistent-dir/x.json", 0, &err));
	assert_int_equal(err, TERN_ERR_IO);
	assert_null(tern_trace_json_open("/nonexistent-dir/x.json", 0, NULL));
}

/* --stats: the counters that are not zero, by name; with a link, every
 * field of its counters, zeros included, and which path the device runs
 * (offload) with its GSO packets each way. */
static void test_stats_json(void **state)
{
	tern_stats st = {0};
	tern_link_counters lc = {.rx_frames = 7,
				 .rx_not_ip = 2,
				 .offload = true,
				 .tx_gso_frames = 3,
				 .tx_gso_bytes = 190000,
				 .rx_gso_frames = 5,
				 .rx_bad_vnet = 4};
	char buf[2048];
	(void)state;

	st.counters[TERN_CTR_TCP_IN_SEGS] = 12;
	st.drops[TERN_DROP_TCP_CHECKSUM] = 1;
	int n = tern_stats_json(buf, sizeof(buf), &st, NULL);
	assert_string_equal(buf, "{\"counters\":{\"TcpInSegs\":12},"
				 "\"drops\":{\"tcp_bad_checksum\":1}}");
	assert_int_equal(n, strlen(buf));
	n = tern_stats_json(buf, sizeof(buf), &st, &lc);
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "\"drops\":{\"tcp_bad_checksum\":1},"
				    "\"link\":{\"offload\":true,"
				    "\"rx_frames\":7,"
				    "\"rx_bytes\":0,"));
	assert_non_null(strstr(buf, "\"rx_not_ip\":2,"));
	assert_non_null(strstr(buf, "\"rx_gso_frames\":5,\"rx_gso_bytes\":0,"
				    "\"tx_gso_frames\":3,"
				    "\"tx_gso_bytes\":190000,"));
	assert_non_null(strstr(buf, "\"rx_bad_vnet\":4,"));
	assert_non_null(
		strstr(buf, "\"arp_replies_out\":0,\"arp_advised\":0}}"));
	/* as snprintf: the length needed, whatever the buffer */
	assert_int_equal(tern_stats_json(NULL, 0, &st, &lc), n);
	assert_int_equal(tern_stats_json(buf, 10, &st, &lc), n);
	assert_int_equal(strlen(buf), 9);
	lc.offload = false;
	tern_stats_json(buf, sizeof(buf), &st, &lc);
	assert_non_null(strstr(buf, "\"link\":{\"offload\":false,"));
}

/* ---- whole traces, read back by Python ---- */

/* A strict reader of the format: every line a JSON object (no duplicate
 * keys, no NaN), exactly the keys of its kind, the types and values the
 * format allows, "t" never going back, addresses that belong to the host.
 * Prints the state changes, "host from to cause t", for the caller to
 * compare. */
static const char checker_py[] =
	"import json, re, sys\n"
	"STATES = {'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED',\n"
	"          'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT',\n"
	"          'CLOSING', 'LAST_ACK', 'TIME_WAIT'}\n"
	"FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR']\n"
	"ADDR = {'client': '10.0.0.1', 'server': '10.0.0.2'}\n"
	"KEYS = {\n"
	"  'state': ({'t', 'host', 'ev', 'conn', 'from', 'to', 'cause'},\n"
	"            set()),\n"
	"  'seg': ({'t', 'host', 'ev', 'dir', 'src', 'dst', 'flags', 'seq',\n"
	"           'ack', 'len', 'win'}, {'mss'}),\n"
	"  'drop': ({'t', 'host', 'ev', 'reason'}, {'src', 'dst'}),\n"
	"}\n"
	"OCTET = r'(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'\n"
	"EP = re.compile(r'(%s(?:\\.%s){3}):([0-9]+)' % (OCTET, OCTET))\n"
	"name = sys.argv[1]\n"
	"def fail(n, msg):\n"
	"    sys.exit('%s:%d: %s' % (name, n, msg))\n"
	"def no_dups(pairs):\n"
	"    keys = [k for k, _ in pairs]\n"
	"    if len(set(keys)) != len(keys):\n"
	"        raise ValueError('duplicate key')\n"
	"    return dict(pairs)\n"
	"def no_const(c):\n"
	"    raise ValueError('not JSON: ' + c)\n"
	"def uint(o, k, n, hi):\n"
	"    v = o[k]\n"
	"    if type(v) is not int or not 0 <= v <= hi:\n"
	"        fail(n, '%s: %r is not an integer 0..%d' % (k, v, hi))\n"
	"def endpoint(n, what, text):\n"
	"    m = EP.fullmatch(text) if type(text) is str else None\n"
	"    if not m or int(m.group(3)) > 65535 or \\\n"
	"       (m.group(3) != '0' and m.group(3).startswith('0')):\n"
	"        fail(n, '%s: %r is not ip:port' % (what, text))\n"
	"    return m.group(1)\n"
	"data = open(name, 'rb').read()\n"
	"text = data.decode('utf-8')\n"
	"if not text.endswith('\\n'):\n"
	"    fail(0, 'empty, or the last line is unfinished')\n"
	"last = 0\n"
	"for n, line in enumerate(text[:-1].split('\\n'), 1):\n"
	"    if line != line.strip():\n"
	"        fail(n, 'white space around the object')\n"
	"    try:\n"
	"        o = json.loads(line, object_pairs_hook=no_dups,\n"
	"                       parse_constant=no_const)\n"
	"    except ValueError as e:\n"
	"        fail(n, 'not JSON (%s): %s' % (e, line))\n"
	"    if type(o) is not dict:\n"
	"        fail(n, 'not an object')\n"
	"    ev = o.get('ev')\n"
	"    if ev not in KEYS:\n"
	"        fail(n, 'ev: %r' % (ev,))\n"
	"    need, may = KEYS[ev]\n"
	"    if need - set(o):\n"
	"        fail(n, 'missing %s' % sorted(need - set(o)))\n"
	"    if set(o) - need - may:\n"
	"        fail(n, 'unexpected %s' % sorted(set(o) - need - may))\n"
	"    uint(o, 't', n, 2**63)\n"
	"    if o['t'] < last:\n"
	"        fail(n, 't went back from %d to %d' % (last, o['t']))\n"
	"    last = o['t']\n"
	"    host = o['host']\n"
	"    if host not in ADDR:\n"
	"        fail(n, 'host: %r' % (host,))\n"
	"    if ev == 'state':\n"
	"        for k in ('from', 'to'):\n"
	"            if o[k] not in STATES:\n"
	"                fail(n, '%s: %r is no state' % (k, o[k]))\n"
	"        if o['from'] == o['to']:\n"
	"            fail(n, 'a change to the same state')\n"
	"        if type(o['cause']) is not str or not o['cause']:\n"
	"            fail(n, 'cause: %r' % (o['cause'],))\n"
	"        conn = o['conn'].split('-') if type(o['conn']) is str else "
	"[]\n"
	"        if len(conn) != 2:\n"
	"            fail(n, 'conn: %r' % (o['conn'],))\n"
	"        if endpoint(n, 'conn', conn[0]) != ADDR[host]:\n"
	"            fail(n, 'conn: the local address is not first')\n"
	"        endpoint(n, 'conn', conn[1])\n"
	"        print(host, o['from'], o['to'], o['cause'], o['t'],\n"
	"              sep='\\t')\n"
	"    elif ev == 'seg':\n"
	"        if o['dir'] not in ('tx', 'rx'):\n"
	"            fail(n, 'dir: %r' % (o['dir'],))\n"
	"        src = endpoint(n, 'src', o['src'])\n"
	"        dst = endpoint(n, 'dst', o['dst'])\n"
	"        if (src if o['dir'] == 'tx' else dst) != ADDR[host]:\n"
	"            fail(n, '%s of %s is not from/to its address' %\n"
	"                 (o['dir'], host))\n"
	"        f = o['flags']\n"
	"        if type(f) is not list or any(x not in FLAGS for x in f) \\\n"
	"           or f != sorted(set(f), key=FLAGS.index):\n"
	"            fail(n, 'flags: %r' % (f,))\n"
	"        uint(o, 'seq', n, 2**32 - 1)\n"
	"        uint(o, 'ack', n, 2**32 - 1)\n"
	"        uint(o, 'len', n, 65535)\n"
	"        uint(o, 'win', n, 65535)\n"
	"        if 'mss' in o:\n"
	"            uint(o, 'mss', n, 65535)\n"
	"            if 'SYN' not in f:\n"
	"                fail(n, 'mss without SYN')\n"
	"    else:\n"
	"        r = o['reason']\n"
	"        if type(r) is not str or not re.fullmatch('[a-z0-9_]+', r):\n"
	"            fail(n, 'reason: %r' % (r,))\n"
	"        if ('src' in o) != ('dst' in o):\n"
	"            fail(n, 'src without dst or dst without src')\n"
	"        if 'src' in o:\n"
	"            endpoint(n, 'src', o['src'])\n"
	"            if endpoint(n, 'dst', o['dst']) != ADDR[host]:\n"
	"                fail(n, 'a drop of a packet not for its host')\n";

static const char *checker_path(void)
{
	static char path[1024];

	if (!path[0]) {
		snprintf(path, sizeof(path), "%s",
			 tu_build_path("trace_json_check.py"));
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fputs(checker_py, f) >= 0, 1);
		assert_int_equal(fclose(f), 0);
	}
	return path;
}

/* Runs the checker on a trace; returns what it printed. */
static char *check_trace(const char *json)
{
	char cmd[4096];
	size_t cap = 4096, len = 0, n;
	char *out = malloc(cap);

	require_python();
	assert_non_null(out);
	assert_null(strchr(json, '\''));
	snprintf(cmd, sizeof(cmd), PYTHON " '%s' '%s'", checker_path(), json);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[len] = '\0';
	int status = pclose(p);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s does not read as tern's JSON Lines trace (the "
			 "checker's reason is above)",
			 json);
	return out;
}

/* The states of scn_states(), as the checker prints them. */
static void append_states(const scn_run *r, int host, char *out, size_t size)
{
	scn_state st[256];
	size_t n = scn_states(r, host, st, 256);
	size_t len = strlen(out);

	assert_true(n <= 256);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
			out + len, size - len, "%s\t%s\t%s\t%s\t%llu\n",
			host == SCN_CLIENT ? "client" : "server",
			tern_tcp_state_name(st[i].from),
			tern_tcp_state_name(st[i].to), st[i].cause,
			(unsigned long long)(st[i].t / TERN_USEC));
	assert_true(len < size);
}

/* The lines of `text` that begin with `prefix`. */
static void lines_of(const char *text, const char *prefix, char *out,
		     size_t size)
{
	size_t len = 0, plen = strlen(prefix);

	out[0] = '\0';
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) + 1 : strlen(text);
		if (strncmp(text, prefix, plen) == 0) {
			assert_true(len + n < size);
			memcpy(out + len, text, n);
			len += n;
			out[len] = '\0';
		}
		text += n;
	}
}

static void check_scenario(const char *name, uint64_t seed, double loss)
{
	static char want[2][32768], got[32768];
	char file[256], json[1024];
	const scn_def *d = scn_find(name);
	scn_run *r;

	assert_non_null(d);
	snprintf(file, sizeof(file), "trace-%s-seed%llu-loss%g.json", name,
		 (unsigned long long)seed, loss * 100);
	snprintf(json, sizeof(json), "%s", tu_build_path(file));
	scn_params p = {.seed = seed, .loss = loss, .json = json};
	assert_int_equal(scn_execute(d, &p, &r), 0);
	for (int h = 0; h < 2; h++) {
		want[h][0] = '\0';
		append_states(r, h, want[h], sizeof(want[h]));
	}
	scn_free(r); /* closes the trace */

	char *out = check_trace(json);
	lines_of(out, "client\t", got, sizeof(got));
	assert_string_equal(got, want[SCN_CLIENT]);
	lines_of(out, "server\t", got, sizeof(got));
	assert_string_equal(got, want[SCN_SERVER]);
	free(out);
}

static void test_every_scenario_trace(void **state)
{
	size_t n;
	const scn_def *const *all = scn_all(&n);
	(void)state;

	for (size_t i = 0; i < n; i++)
		check_scenario(all[i]->name, 1, 0);
}

static void test_lossy_trace(void **state)
{
	(void)state;
	check_scenario("lossy-transfer", 1, 0.05);
	check_scenario("lossy-transfer", 2, 0.10);
	check_scenario("data-transfer", 3, 0.20);
}

/* The checker itself refuses what the format forbids. */
static void test_checker_refuses(void **state)
{
	static const char *const bad[] = {
		"{\"t\":1,\"host\":\"client\",\"ev\":\"drop\"}\n", /* reason */
		"{\"t\":1,\"host\":\"client\",\"ev\":\"drop\","
		"\"reason\":\"x\",\"extra\":1}\n",
		"{\"t\":1.5,\"host\":\"client\",\"ev\":\"drop\","
		"\"reason\":\"x\"}\n",
		"{\"t\":5,\"host\":\"client\",\"ev\":\"drop\",\"reason\":\"x\"}"
		"\n"
		"{\"t\":4,\"host\":\"client\",\"ev\":\"drop\","
		"\"reason\":\"x\"}\n",
		"{\"t\":1,\"host\":\"client\",\"ev\":\"state\",\"conn\":"
		"\"10.0.0.1:1-10.0.0.2:80\",\"from\":\"CLOSED\",\"to\":"
		"\"SYN-SENT\",\"cause\":\"connect\"}\n",
		"{\"t\":1,\"host\":\"client\",\"ev\":\"drop\","
		"\"reason\":\"x\"}", /* no newline */
		"{\"t\":1,\"t\":2,\"host\":\"client\",\"ev\":\"drop\","
		"\"reason\":\"x\"}\n",
	};
	char path[1024];
	char cmd[2200];
	(void)state;

	require_python();
	snprintf(path, sizeof(path), "%s", tu_build_path("trace-bad.json"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		assert_int_equal(fclose(f), 0);
		snprintf(cmd, sizeof(cmd), PYTHON " '%s' '%s' >/dev/null 2>&1",
			 checker_path(), path);
		if (system(cmd) == 0)
			fail_msg("the checker accepted: %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_state_server_conn),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_no_cause),
		cmocka_unit_test(test_seg_tx),
		cmocka_unit_test(test_seg_rx_syn),
		cmocka_unit_test(test_seg_flags),
		cmocka_unit_test(test_drop_with_addrs),
		cmocka_unit_test(test_drop_without_addrs),
		cmocka_unit_test(test_time_is_microseconds_since_start),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_escaping_control_chars),
		cmocka_unit_test(test_utf8_passes_through),
		cmocka_unit_test(test_escaping_round_trip),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_long_line_written_whole),
		cmocka_unit_test(test_write_failure_reported),
		cmocka_unit_test(test_stream_writer),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_every_scenario_trace),
		cmocka_unit_test(test_lossy_trace),
		cmocka_unit_test(test_checker_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
