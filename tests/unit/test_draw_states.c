/* `tern draw states` (tools/draw_states.c) and the SVG writer under it
 * (tools/svg.c): text escaped, a well-formed document, taken and untaken
 * edges told apart, transitions the figure lacks listed, the same bytes
 * for the same counts, and a failed write reported. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw_states.h"
#include "svg.h"
#include "testutil.h"

/* An in-memory output file and what was written to it. */
typedef struct memfile {
	FILE *f;
	char *buf;
	size_t len;
} memfile;

static void mem_open(memfile *m)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

/* Closes the file: its contents, a string the caller frees. */
static char *mem_close(memfile *m)
{
	assert_int_equal(fclose(m->f), 0);
	assert_non_null(m->buf);
	return m->buf;
}

/* The whole SVG for counts c, as a string the caller frees. */
static char *render(const draw_state_counts *c, const char *title)
{
	memfile m;

	mem_open(&m);
	assert_int_equal(draw_states_svg(m.f, c, title), 0);
	return mem_close(&m);
}

/* The edge group for from -> to: its opening tag up to its </g>, as a
 * string the caller frees (fails the test if there is none). */
static char *edge_group(const char *doc, const char *from, const char *to)
{
	char key[96];

	snprintf(key, sizeof key, "data-from=\"%s\" data-to=\"%s\"", from, to);
	const char *at = strstr(doc, key);
	assert_non_null(at);
	while (at > doc && strncmp(at, "<g ", 3) != 0)
		at--;
	const char *end = strstr(at, "</g>");
	assert_non_null(end);
	return strndup(at, (size_t)(end - at));
}

/* Is the file well-formed XML? Python's expat-based parser says, and
 * it forgives nothing. */
static int xml_ok(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import sys, xml.dom.minidom; "
		 "xml.dom.minidom.parse(sys.argv[1])' '%s' 2>/dev/null",
		 path);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_draw_states_title_escaped(void **state)
{
	(void)state;
	draw_state_counts c = {0};
	char *doc = render(&c, "a & b < c > d \"e\" \u2192 f");

	assert_non_null(strstr(doc, "<title>a &amp; b &lt; c &gt; d "
				    "&quot;e&quot; \u2192 f</title>"));
	assert_non_null(strstr(doc, ">a &amp; b &lt; c &gt; d &quot;e&quot; "
				    "\u2192 f</text>"));
	assert_null(strstr(doc, "a & b"));
	free(doc);
}

/* Control characters XML 1.0 forbids, bytes that are not UTF-8 and the
 * noncharacters U+FFFE and U+FFFF become U+FFFD; UTF-8 stays as it is; numbers have one decimal at
 * most, and no "-0". */
static void test_svg_text_and_numbers(void **state)
{
	(void)state;
	memfile m;

	mem_open(&m);
	svg *s = svg_begin(m.f, 100, 50.25, "t", NULL);
	assert_non_null(s);
	svg_text(s, 1, 2, "start", NULL,
		 "x\x01y\xffz \u2192 <%d>\xef\xbf\xbf\xef\xbf\xbe.", 7);
	svg_line(s, -0.04, 1.26, 2.0, 1e300, "a\"b");
	assert_int_equal(svg_end(s), 0);
	char *buf = mem_close(&m);
	assert_non_null(strstr(
		buf, ">x\uFFFDy\uFFFDz \u2192 &lt;7&gt;\uFFFD\uFFFD.</text>"));
	assert_non_null(strstr(buf, "<line class=\"a&quot;b\" x1=\"0\" "
				    "y1=\"1.3\" x2=\"2\" y2=\"0\"/>"));
	assert_non_null(strstr(buf, "viewBox=\"0 0 100 50.2\""));
	free(buf);
}

static void test_draw_states_well_formed(void **state)
{
	(void)state;
	draw_state_counts c = {0};
	const char *path = tu_build_path("test_draw_states.svg");

	c.n[TERN_TCP_ESTABLISHED][TERN_TCP_CLOSE_WAIT] = 3;
	c.n[TERN_TCP_TIME_WAIT][TERN_TCP_SYN_RECEIVED] = 1;
	char *doc = render(&c, "<&\"> \x01");
	write_file(path, doc);
	assert_int_equal(xml_ok(path), 0);
	const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<svg xmlns=\"http://www.w3.org/2000/svg\"";
	assert_int_equal(strncmp(doc, head, strlen(head)), 0);
	assert_non_null(strstr(doc, "viewBox=\"0 0 "));
	assert_non_null(strstr(doc, "<style>"));
	assert_null(strstr(doc, "<script"));
	assert_null(strstr(doc, "<marker"));
	/* the check itself catches a broken document */
	char *amp = strstr(doc, "&amp;");
	assert_non_null(amp);
	amp[1] = ' '; /* "& mp;": a bare ampersand */
	write_file(path, doc);
	assert_int_not_equal(xml_ok(path), 0);
	remove(path);
	free(doc);
}

static void test_draw_states_taken_and_never(void **state)
{
	(void)state;
	draw_state_counts c = {0};

	c.n[TERN_TCP_ESTABLISHED][TERN_TCP_CLOSE_WAIT] = 12345;
	c.n[TERN_TCP_FIN_WAIT_2][TERN_TCP_CLOSED] = 2; /* a dashed one */
	char *doc = render(&c, NULL);
	char *g = edge_group(doc, "ESTABLISHED", "CLOSE_WAIT");
	assert_non_null(strstr(g, "<g class=\"edge rfc taken\""));
	assert_non_null(strstr(g, "data-count=\"12345\""));
	assert_non_null(strstr(g, "class=\"count\""));
	assert_non_null(strstr(g, ">12345</text>"));
	assert_non_null(strstr(g, ">rcv FIN / snd ACK</text>"));
	free(g);

	g = edge_group(doc, "FIN_WAIT_2", "CLOSED");
	assert_non_null(strstr(g, "<g class=\"edge extra taken\""));
	assert_non_null(strstr(g, ">2</text>"));
	free(g);

	g = edge_group(doc, "LISTEN", "SYN_SENT");
	assert_non_null(strstr(g, "<g class=\"edge rfc never\""));
	assert_non_null(strstr(g, "data-count=\"0\""));
	assert_null(strstr(g, "class=\"count\""));
	free(g);
	assert_non_null(strstr(doc, ".edge.never{color:#b4b4b4}"));
	assert_null(strstr(doc, "other transitions"));
	free(doc);
}

/* Every edge tern's engine may take (src/tcp/state.c), and the two of
 * the figure it does not (SYN_RECEIVED -> LISTEN, LISTEN -> SYN_SENT),
 * is drawn: none is listed among the others, and with all of them
 * taken none is grey. States by number, in enum tern_tcp_state's order. */
static void test_draw_states_every_edge_drawn(void **state)
{
	(void)state;
	static const int legal[][2] = {
		{0, 1},	 {0, 2},  {1, 3}, {1, 0},  {2, 3}, {2, 4}, {2, 0},
		{3, 4},	 {3, 5},  {3, 0}, {4, 5},  {4, 7}, {4, 0}, {5, 6},
		{5, 8},	 {5, 10}, {5, 0}, {6, 10}, {6, 0}, {7, 9}, {7, 0},
		{8, 10}, {8, 0},  {9, 0}, {10, 0}, {3, 1}, {1, 2},
	};
	draw_state_counts c = {0};

	for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
		c.n[legal[i][0]][legal[i][1]] = i + 1;
	char *doc = render(&c, NULL);
	assert_null(strstr(doc, "other transitions"));
	assert_null(strstr(doc, "class=\"edge rfc never\""));
	assert_null(strstr(doc, "class=\"edge extra never\""));
	free(doc);
}

static void test_draw_states_other_transitions(void **state)
{
	(void)state;
	draw_state_counts c = {0};

	c.n[TERN_TCP_TIME_WAIT][TERN_TCP_SYN_RECEIVED] = 4;
	c.n[TERN_TCP_CLOSED][TERN_TCP_ESTABLISHED] = 9;
	c.n[TERN_TCP_LISTEN][TERN_TCP_ESTABLISHED] =
		0; /* not taken: not listed */
	char *doc = render(&c, NULL);
	assert_non_null(strstr(doc, ">other transitions (2)</text>"));
	const char *a = strstr(doc, ">CLOSED \u2192 ESTABLISHED  9</text>");
	const char *b = strstr(doc, ">TIME_WAIT \u2192 SYN_RECEIVED  4</text>");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b); /* in state order */
	assert_null(strstr(doc, "LISTEN \u2192 ESTABLISHED"));
	assert_non_null(strstr(doc, "13 transitions in all"));
	free(doc);
}

static void test_draw_states_deterministic(void **state)
{
	(void)state;
	draw_state_counts c = {0};

	c.n[TERN_TCP_SYN_SENT][TERN_TCP_ESTABLISHED] = 5;
	c.n[TERN_TCP_LAST_ACK][TERN_TCP_LISTEN] = 1;
	char *one = render(&c, "same");
	char *two = render(&c, "same");
	assert_string_equal(one, two);
	c.n[TERN_TCP_SYN_SENT][TERN_TCP_ESTABLISHED] = 6;
	char *three = render(&c, "same");
	assert_string_not_equal(one, three);
	free(one);
	free(two);
	free(three);
}

static void test_draw_states_write_fails(void **state)
{
	(void)state;
	draw_state_counts c = {0};
	const char *path = tu_build_path("test_draw_states_ro.svg");

	FILE *f = fopen("/dev/full", "w");
	if (f) {
		assert_int_equal(draw_states_svg(f, &c, "full"), -1);
		fclose(f);
	}
	/* a stream opened for reading only refuses every write */
	write_file(path, "");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(draw_states_svg(f, &c, "read-only"), -1);
	fclose(f);
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draw_states_title_escaped),
		cmocka_unit_test(test_svg_text_and_numbers),
		cmocka_unit_test(test_draw_states_well_formed),
		cmocka_unit_test(test_draw_states_taken_and_never),
		cmocka_unit_test(test_draw_states_every_edge_drawn),
		cmocka_unit_test(test_draw_states_other_transitions),
		cmocka_unit_test(test_draw_states_deterministic),
		cmocka_unit_test(test_draw_states_write_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
