/* tern draw's trace loader (tools/trace_load.c) and the matching of
 * transmissions with arrivals behind the sequence diagram
 * (tools/draw_seq.c), on small traces written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "draw_seq.h"
#include "trace_load.h"

/* The loader reports through the CLI's cli_error: kept here. */
static char last_error[512];

void cli_error(const char *fmt, ...);
void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

static char path[256];

/* Writes `text` to a file and loads it: the loader's return value. */
static int load(const char *text, trace *t)
{
	snprintf(path, sizeof(path), "%s/draw-seq-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char *paths[] = {path};
	memset(t, 0, sizeof(*t));
	last_error[0] = '\0';
	int rc = trace_load(t, paths, 1, true);
	unlink(path);
	return rc;
}

#define A "10.0.0.1:1000"
#define B "10.0.0.2:80"
#define SEG(t, host, dir, src, dst, flags, seq, ack, len)                      \
	"{\"t\":" #t ",\"host\":\"" host "\",\"ev\":\"seg\",\"dir\":\"" dir    \
	"\",\"src\":\"" src "\",\"dst\":\"" dst "\",\"flags\":[" flags         \
	"],\"seq\":" #seq ",\"ack\":" #ack ",\"len\":" #len ",\"win\":100}\n"
#define STATE(t, host, conn, from, to)                                         \
	"{\"t\":" #t ",\"host\":\"" host                                       \
	"\",\"ev\":\"state\",\"conn\":\"" conn "\",\"from\":\"" from           \
	"\",\"to\":\"" to "\",\"cause\":\"x\"}\n"

/* A's SYN to B, 10 apart: the usual transit. */
#define SYN_AB                                                                 \
	SEG(0, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),                           \
		SEG(10, "b", "rx", A, B, "\"SYN\"", 1, 0, 0)

/* The trace's connections and the first one's matching. */
typedef struct fixture {
	trace t;
	trace_conns cs;
	seq_match m;
} fixture;

/* The lines of a trace, joined. */
static const char *join(const char *const *lines)
{
	static char text[4096];

	text[0] = '\0';
	for (size_t i = 0; lines[i]; i++)
		strncat(text, lines[i], sizeof(text) - strlen(text) - 1);
	return text;
}

static void match(fixture *f, const char *const *lines)
{
	assert_int_equal(load(join(lines), &f->t), 0);
	assert_int_equal(trace_conns_find(&f->t, &f->cs), 0);
	assert_true(f->cs.n >= 1);
	assert_int_equal(seq_match_conn(&f->t, &f->cs, 0, &f->m), 0);
}

#define MATCH(f, ...) match(f, (const char *const[]){__VA_ARGS__, NULL})

/* The connection's arrows, lost ones, copies and forged ones. */
static void expect_counts(const fixture *f, size_t segs, size_t lost,
			  size_t copies, size_t forged)
{
	assert_int_equal(f->m.nsegs, segs);
	assert_int_equal(f->m.nlost, lost);
	assert_int_equal(f->m.ncopies, copies);
	assert_int_equal(f->m.nforged, forged);
}

static void done(fixture *f)
{
	seq_match_free(&f->m);
	trace_conns_free(&f->cs);
	trace_free(&f->t);
}

/* A segment lost, then sent again: the retransmission is the one that
 * arrived (its transit is the usual one), not the first. */
static void test_match_retransmission_after_loss(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SYN_AB, SEG(20, "a", "tx", A, B, "\"ACK\"", 2, 0, 5),
	      SEG(500, "a", "tx", A, B, "\"ACK\"", 2, 0, 5),
	      SEG(510, "b", "rx", A, B, "\"ACK\"", 2, 0, 5));
	assert_int_equal(f.m.role[0], SEQ_TX);
	assert_int_equal(f.m.peer[0], 1);
	assert_int_equal(f.m.role[2], SEQ_LOST);
	assert_int_equal(f.m.role[3], SEQ_TX);
	assert_int_equal(f.m.peer[3], 4);
	expect_counts(&f, 3, 1, 0, 0);
	done(&f);
}

/* A segment sent as the receiver's trace ends (a run stopped) was in
 * flight: its fate is unknown, so it is not called lost. One the
 * receiver's trace outlived by more than the usual transit is lost. */
static void test_match_inflight_at_end(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SYN_AB, SEG(20, "a", "tx", A, B, "\"ACK\"", 2, 0, 5),
	      SEG(40, "b", "tx", B, A, "\"ACK\"", 9, 2, 0),
	      SEG(50, "a", "rx", B, A, "\"ACK\"", 9, 2, 0),
	      SEG(55, "a", "tx", A, B, "\"ACK\"", 7, 0, 5));
	assert_int_equal(f.m.role[2], SEQ_LOST);     /* b went on to 40 */
	assert_int_equal(f.m.role[5], SEQ_INFLIGHT); /* b ended at 40 */
	expect_counts(&f, 4, 1, 0, 0);
	assert_int_equal(f.m.ninflight, 1);
	done(&f);
}

/* Identical segments in flight together (duplicate ACKs) arrive in the
 * order they left: no arrows crossing. */
static void test_match_burst_keeps_order(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SYN_AB, SEG(100, "b", "tx", B, A, "\"ACK\"", 7, 3, 0),
	      SEG(101, "b", "tx", B, A, "\"ACK\"", 7, 3, 0),
	      SEG(102, "b", "tx", B, A, "\"ACK\"", 7, 3, 0),
	      SEG(110, "a", "rx", B, A, "\"ACK\"", 7, 3, 0),
	      SEG(111, "a", "rx", B, A, "\"ACK\"", 7, 3, 0),
	      SEG(112, "a", "rx", B, A, "\"ACK\"", 7, 3, 0));
	for (size_t i = 2; i < 5; i++) {
		assert_int_equal(f.m.role[i], SEQ_TX);
		assert_int_equal(f.m.peer[i], i + 3);
	}
	expect_counts(&f, 4, 0, 0, 0);
	done(&f);
}

/* An arrival nobody is left to explain: a copy if its sender sent the
 * segment, forged if it never did. */
static void test_match_copy_and_forged(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SYN_AB, SEG(11, "b", "rx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(20, "b", "rx", A, B, "\"RST\"", 9, 0, 0));
	assert_int_equal(f.m.role[1], SEQ_ARRIVAL);
	assert_int_equal(f.m.role[2], SEQ_COPY);
	assert_int_equal(f.m.role[3], SEQ_FORGED);
	expect_counts(&f, 3, 0, 1, 1);
	done(&f);
}

/* Only one side traced (tern against Linux): nothing is lost or forged,
 * the peer's segments simply arrive. */
static void test_match_untraced_peer(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SEG(0, "tern", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(10, "tern", "rx", B, A, "\"SYN\",\"ACK\"", 5, 2, 0));
	assert_string_equal(f.cs.v[0].host[0], "tern");
	assert_null(f.cs.v[0].host[1]);
	assert_int_equal(f.m.role[0], SEQ_SENT);
	assert_int_equal(f.m.role[1], SEQ_RECEIVED);
	expect_counts(&f, 2, 0, 0, 0);
	done(&f);
}

/* A side whose stack traced nothing of the connection, but listens on
 * its endpoint, is traced: what it never received (while its trace went
 * on) was lost. */
static void test_listener_owns_its_endpoint(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, STATE(0, "srv", B "-0.0.0.0:0", "CLOSED", "LISTEN"),
	      SEG(5, "cli", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      STATE(900, "srv", B "-0.0.0.0:0", "LISTEN", "CLOSED"));
	assert_int_equal(f.cs.n, 1); /* the listener is no connection */
	assert_string_equal(f.cs.v[0].host[1], "srv");
	assert_int_equal(f.m.n, 1);
	assert_int_equal(f.m.role[0], SEQ_LOST);
	done(&f);
}

/* The client is whoever sent the first SYN without ACK, whatever came
 * before it; connections are numbered as they first appear. */
static void test_conns_client_and_order(void **state)
{
	fixture f;

	(void)state;
	MATCH(&f, SEG(0, "b", "tx", B, A, "\"RST\"", 4, 0, 0),
	      SEG(1, "c", "tx", "10.0.0.3:7", B, "\"SYN\"", 1, 0, 0),
	      SEG(2, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      STATE(3, "a", A "-" B, "CLOSED", "SYN_SENT"));
	assert_int_equal(f.cs.n, 2);
	char e[32];
	trace_endpoint_format(&f.cs.v[0].end[0], e, sizeof(e));
	assert_string_equal(e, A);
	trace_endpoint_format(&f.cs.v[1].end[0], e, sizeof(e));
	assert_string_equal(e, "10.0.0.3:7");
	assert_int_equal(f.cs.v[0].nevents, 3);
	assert_int_equal(f.cs.of[1], 1);
	assert_int_equal(f.cs.of[3], 0);
	assert_int_equal(f.m.role[2], SEQ_STATE);
	done(&f);
}

static void test_window(void **state)
{
	fixture f;
	seq_range r;

	(void)state;
	MATCH(&f, SEG(0, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(1000, "b", "rx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(2000, "b", "tx", B, A, "\"SYN\",\"ACK\"", 5, 2, 0),
	      SEG(3000, "a", "rx", B, A, "\"SYN\",\"ACK\"", 5, 2, 0));
	assert_true(seq_window(&f.t, &f.m, 0, UINT64_MAX, 1000, &r));
	assert_int_equal(r.r0, 0);
	assert_int_equal(r.r1, 4);
	assert_int_equal(r.more, 0);
	assert_true(seq_window(&f.t, &f.m, 1000, 2000, 1000, &r));
	assert_int_equal(r.r0, 1);
	assert_int_equal(r.r1, 3);
	assert_true(seq_window(&f.t, &f.m, 0, UINT64_MAX, 3, &r));
	assert_int_equal(r.r1, 3);
	assert_int_equal(r.more, 1);
	assert_false(seq_window(&f.t, &f.m, 1500, 1900, 1000, &r));
	done(&f);
}

/* A bad line is refused as FILE:LINE: why, and nothing is kept. */
static void expect_refused(const char *text, size_t line, const char *why)
{
	trace t;
	char want[600];

	assert_int_equal(load(text, &t), 2);
	assert_null(t.ev);
	snprintf(want, sizeof(want), "%s:%zu: %s", path, line, why);
	assert_string_equal(last_error, want);
}

static void test_load_refusals(void **state)
{
	const char *ok = SEG(0, "a", "tx", A, B, "\"SYN\"", 1, 0, 0);
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "%s{\"t\":1,", ok);
	expect_refused(text, 2, "not JSON (at column 8)");
	expect_refused("{\"t\":1} x\n", 1, "not JSON (at column 9)");
	expect_refused("[]\n", 1, "not a JSON object");
	expect_refused("{\"host\":\"a\",\"ev\":\"seg\"}\n", 1, "no \"t\"");
	expect_refused("{\"t\":-1,\"host\":\"a\",\"ev\":\"seg\"}\n", 1,
		       "\"t\" is not a whole number from 0 to "
		       "9007199254740992");
	expect_refused("{\"t\":1.5,\"host\":\"a\",\"ev\":\"seg\"}\n", 1,
		       "\"t\" is not a whole number from 0 to "
		       "9007199254740992");
	expect_refused("{\"t\":1,\"host\":2,\"ev\":\"seg\"}\n", 1,
		       "\"host\" is not a string");
	expect_refused(STATE(0, "a", A "-" B, "CLOSED", "OPEN"), 1,
		       "\"to\": unknown state 'OPEN'");
	expect_refused(STATE(0, "a", A, "CLOSED", "LISTEN"), 1,
		       "\"conn\": '" A "' is not LOCAL-REMOTE");
	expect_refused(SEG(0, "a", "up", A, B, "", 1, 0, 0), 1,
		       "\"dir\" is neither \"tx\" nor \"rx\"");
	expect_refused(SEG(0, "a", "tx", A, "10.0.0.2:70000", "", 1, 0, 0), 1,
		       "\"dst\": '10.0.0.2:70000' is not ADDR:PORT");
	expect_refused(SEG(0, "a", "tx", A, B, "\"SYN\",\"XYZ\"", 1, 0, 0), 1,
		       "\"flags\": not a TCP flag name");
	expect_refused(SEG(0, "a", "tx", A, B, "", 4294967296, 0, 0), 1,
		       "\"seq\" is not a whole number from 0 to 4294967295");
	expect_refused("{\"t\":1,\"host\":\"a\",\"ev\":\"drop\",\"reason\":"
		       "\"r\",\"src\":\"" A "\"}\n",
		       1, "\"src\" and \"dst\" come together");
}

static void test_load_empty(void **state)
{
	trace t;
	char want[300];

	(void)state;
	assert_int_equal(load("\n \n", &t), 2);
	snprintf(want, sizeof(want), "%s: no trace events in it", path);
	assert_string_equal(last_error, want);
}

/* Newer traces load: unknown fields and events are passed over, blank
 * lines too; the MSS is optional. */
static void test_load_forward_compatible(void **state)
{
	trace t;
	const char *const lines[] = {
		"{\"t\":1,\"host\":\"a\",\"ev\":\"rtt\",\"srtt\":4}\n",
		"\n",
		"{\"t\":2,\"host\":\"a\",\"ev\":\"drop\",\"reason\":\"r\","
		"\"new\":{\"x\":[1]}}\n",
		SEG(3, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),
		NULL,
	};

	(void)state;
	assert_int_equal(load(join(lines), &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.ev[0].kind, TERN_TRACE_DROP);
	assert_false(t.ev[0].have_addrs);
	assert_string_equal(t.ev[0].text, "r");
	assert_int_equal(t.ev[1].mss, 0);
	assert_ptr_equal(t.ev[0].host, t.ev[1].host); /* interned */
	trace_free(&t);
}

/* The drawing itself: one arrow group per segment, the lost one with
 * its class (the CLI test checks the rest against real traces). */
static void test_svg_groups(void **state)
{
	fixture f;
	seq_range r;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	MATCH(&f, STATE(0, "a", A "-" B, "CLOSED", "SYN_SENT"),
	      SEG(0, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(100, "a", "tx", A, B, "\"SYN\"", 1, 0, 0),
	      SEG(110, "b", "rx", A, B, "\"SYN\"", 1, 0, 0));
	assert_true(seq_window(&f.t, &f.m, 0, UINT64_MAX, 1000, &r));
	FILE *out = open_memstream(&buf, &len);
	assert_int_equal(draw_seq_svg(out, &f.t, &f.cs.v[0], &f.m, &r, "unit"),
			 0);
	fclose(out);
	assert_non_null(strstr(buf, "<g class=\"seg c2s lost\""));
	assert_non_null(strstr(buf, "<g class=\"seg c2s\""));
	assert_non_null(strstr(buf, "data-to=\"SYN_SENT\""));
	assert_non_null(strstr(buf, ">SYN seq=J win=100<"));
	assert_non_null(strstr(buf, "</svg>"));
	free(buf);
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_retransmission_after_loss),
		cmocka_unit_test(test_match_inflight_at_end),
		cmocka_unit_test(test_match_burst_keeps_order),
		cmocka_unit_test(test_match_copy_and_forged),
		cmocka_unit_test(test_match_untraced_peer),
		cmocka_unit_test(test_listener_owns_its_endpoint),
		cmocka_unit_test(test_conns_client_and_order),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_load_refusals),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_load_forward_compatible),
		cmocka_unit_test(test_svg_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
