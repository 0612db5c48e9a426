/* The SVG writer: a standalone SVG 1.1 document (xmlns, width, height and
 * viewBox, one <title>, one <style>), every text and attribute value
 * escaped for XML 1.0, numbers written with at most one decimal. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

struct svg {
	FILE *out;
	bool failed; /* a write failed, or memory ran out */
};

/* Arrowheads: length along the line and half their width. */
#define HEAD_LEN 9.0
#define HEAD_HALF 4.0

/* Rules every drawing starts from: strokes, arrowheads and text take
 * the current colour, so a class setting `color` colours a line, its
 * head and its label alike; the caller's rules come after and win. */
static const char base_css[] =
	"svg{color:#000;font-family:'DejaVu Sans',Arial,sans-serif;"
	"font-size:12px}"
	"line,path{fill:none;stroke:currentColor;stroke-width:1.2}"
	"polygon{fill:currentColor;stroke:none}"
	"rect,circle{fill:#fff;stroke:currentColor}"
	"text{fill:currentColor;stroke:none}"
	".svg-bg{fill:#fff;stroke:none}";

static void put(svg *s, const char *str)
{
	if (fputs(str, s->out) == EOF)
		s->failed = true;
}

static void put_char(svg *s, char c)
{
	if (fputc(c, s->out) == EOF)
		s->failed = true;
}

/* "%.1f" without a trailing ".0", and never "-0" or "nan". */
static void put_num(svg *s, double v)
{
	char buf[64];

	if (!(v > -1e15 && v < 1e15)) /* NaN, infinities, absurd sizes */
		v = 0;
	snprintf(buf, sizeof buf, "%.1f", v);
	size_t n = strlen(buf);
	if (n >= 2 && strcmp(buf + n - 2, ".0") == 0)
		buf[n - 2] = '\0';
	put(s, strcmp(buf, "-0") == 0 ? "0" : buf);
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* U+FFFE and U+FFFF: UTF-8, but not XML 1.0 characters (its 2.2). */
static bool xml_nonchar(const unsigned char *p, size_t n)
{
	return n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe;
}

/* Text or an attribute value, escaped: the five markup characters as
 * entities; control characters XML 1.0 forbids even as references, and
 * bytes that are not UTF-8, as U+FFFD; tab and newline as references so
 * attribute values keep them. */
static void put_esc(svg *s, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	while (*p) {
		size_t n = 1;
		const char *rep = NULL;

		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		case 0x7f:
			rep = "&#127;";
			break;
		default:
			if (*p < 0x20)
				rep = "\xef\xbf\xbd";
			else if (*p >= 0x80 && (n = utf8_len(p)) == 0) {
				rep = "\xef\xbf\xbd";
				n = 1;
			} else if (xml_nonchar(p, n)) {
				rep = "\xef\xbf\xbd";
			}
		}
		if (rep)
			put(s, rep);
		else if (fwrite(p, 1, n, s->out) != n)
			s->failed = true;
		p += n;
	}
}

static void put_attr_num(svg *s, const char *name, double v)
{
	put_char(s, ' ');
	put(s, name);
	put(s, "=\"");
	put_num(s, v);
	put_char(s, '"');
}

static void put_attr(svg *s, const char *name, const char *value)
{
	if (!value)
		return;
	put_char(s, ' ');
	put(s, name);
	put(s, "=\"");
	put_esc(s, value);
	put_char(s, '"');
}

svg *svg_begin(FILE *out, double width, double height, const char *title,
	       const char *css)
{
	svg *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->out = out;
	put(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"");
	put_attr_num(s, "width", width);
	put_attr_num(s, "height", height);
	put(s, " viewBox=\"0 0 ");
	put_num(s, width);
	put_char(s, ' ');
	put_num(s, height);
	put(s, "\">\n<title>");
	put_esc(s, title ? title : "");
	put(s, "</title>\n<style>");
	put(s, base_css);
	if (css)
		put_esc(s, css);
	put(s, "</style>\n");
	/* An opaque background: dark viewers would lose black on none. */
	svg_rect(s, 0, 0, width, height, 0, "svg-bg");
	return s;
}

int svg_end(svg *s)
{
	if (!s)
		return -1;
	put(s, "</svg>\n");
	if (fflush(s->out) == EOF || ferror(s->out))
		s->failed = true;
	int rc = s->failed ? -1 : 0;
	free(s);
	return rc;
}

static void open_elem(svg *s, const char *name, const char *cls)
{
	put_char(s, '<');
	put(s, name);
	put_attr(s, "class", cls);
}

/* An element's start with n numeric attributes, names[i]="v[i]". */
static void open_nums(svg *s, const char *name, const char *cls,
		      const char *const *names, const double *v, int n)
{
	open_elem(s, name, cls);
	for (int i = 0; i < n; i++)
		put_attr_num(s, names[i], v[i]);
}

void svg_line(svg *s, double x1, double y1, double x2, double y2,
	      const char *cls)
{
	static const char *const names[] = {"x1", "y1", "x2", "y2"};
	const double v[] = {x1, y1, x2, y2};

	open_nums(s, "line", cls, names, v, 4);
	put(s, "/>\n");
}

/* sqrt(v) for v >= 0 by Newton's method, so the CLI needs no libm:
 * drawing lengths need a tenth of a pixel, this gives far more. */
static double root(double v)
{
	double r = v > 1 ? v : 1;

	for (int i = 0; i < 64 && r * r - v > v * 1e-12; i++)
		r = (r + v / r) / 2;
	return r;
}

/* The unit vector from a to b; (1, 0) when they coincide. */
static void unit(double ax, double ay, double bx, double by, double *ux,
		 double *uy)
{
	double dx = bx - ax, dy = by - ay, d = root(dx * dx + dy * dy);

	if (d < 1e-9) {
		*ux = 1;
		*uy = 0;
		return;
	}
	*ux = dx / d;
	*uy = dy / d;
}

void svg_arrowhead(svg *s, double ax, double ay, double bx, double by,
		   const char *cls)
{
	double ux, uy;

	unit(ax, ay, bx, by, &ux, &uy);
	double cx = bx - ux * HEAD_LEN, cy = by - uy * HEAD_LEN;
	double px = -uy * HEAD_HALF, py = ux * HEAD_HALF;
	double pts[6] = {bx, by, cx + px, cy + py, cx - px, cy - py};

	open_elem(s, "polygon", cls);
	put(s, " points=\"");
	for (int i = 0; i < 6; i++) {
		if (i)
			put_char(s, i % 2 ? ',' : ' ');
		put_num(s, pts[i]);
	}
	put(s, "\"/>\n");
}

void svg_arrow(svg *s, double x1, double y1, double x2, double y2,
	       const char *cls)
{
	double ux, uy;

	/* The line stops inside the head, so a thick stroke does not
	 * blunt its point. */
	unit(x1, y1, x2, y2, &ux, &uy);
	svg_line(s, x1, y1, x2 - ux * HEAD_LEN * 0.7, y2 - uy * HEAD_LEN * 0.7,
		 cls);
	svg_arrowhead(s, x1, y1, x2, y2, cls);
}

void svg_path(svg *s, const char *d, const char *cls)
{
	open_elem(s, "path", cls);
	put_attr(s, "d", d);
	put(s, "/>\n");
}

void svg_rect(svg *s, double x, double y, double w, double h, double r,
	      const char *cls)
{
	static const char *const names[] = {"x",      "y",  "width",
					    "height", "rx", "ry"};
	const double v[] = {x, y, w, h, r, r};

	open_nums(s, "rect", cls, names, v, r > 0 ? 6 : 4);
	put(s, "/>\n");
}

void svg_circle(svg *s, double cx, double cy, double r, const char *cls)
{
	static const char *const names[] = {"cx", "cy", "r"};
	const double v[] = {cx, cy, r};

	open_nums(s, "circle", cls, names, v, 3);
	put(s, "/>\n");
}

void svg_text(svg *s, double x, double y, const char *anchor, const char *cls,
	      const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->failed = true;
		return;
	}
	open_elem(s, "text", cls);
	put_attr_num(s, "x", x);
	put_attr_num(s, "y", y);
	if (anchor && strcmp(anchor, "start") != 0)
		put_attr(s, "text-anchor", anchor);
	put_char(s, '>');
	put_esc(s, text);
	put(s, "</text>\n");
	free(text);
}

/* A data-* attribute from "name=value"; a name with characters XML
 * names or the dataset API do not take is left out. */
static void put_data(svg *s, const char *pair)
{
	const char *eq = strchr(pair, '=');
	size_t n = eq ? (size_t)(eq - pair) : 0;

	if (n == 0 || strspn(pair, "abcdefghijklmnopqrstuvwxyz0123456789-") < n)
		return;
	put(s, " data-");
	if (fwrite(pair, 1, n, s->out) != n)
		s->failed = true;
	put(s, "=\"");
	put_esc(s, eq + 1);
	put_char(s, '"');
}

void svg_group_begin(svg *s, const char *cls, const char *tooltip,
		     const char *const *data)
{
	open_elem(s, "g", cls);
	for (size_t i = 0; data && data[i]; i++)
		put_data(s, data[i]);
	put(s, ">\n");
	if (tooltip) {
		put(s, "<title>");
		put_esc(s, tooltip);
		put(s, "</title>\n");
	}
}

void svg_group_end(svg *s)
{
	put(s, "</g>\n");
}
