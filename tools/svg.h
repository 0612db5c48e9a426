/* The CLI's one SVG writer: the document, a few elements, and the
 * escaping of text (XML 1.0). Every drawing of `tern draw` goes through
 * it, so no other file knows SVG's syntax. Coordinates are user units
 * (pixels at 100 %). A write error is remembered and reported by
 * svg_end.
 *
 * The document's own rules come before the caller's `css`: lines and
 * paths are stroked, arrowheads and text filled, with the current
 * colour (so a class that sets `color` colours a line, its head and its
 * label alike); rects and circles are white, outlined in it; the font
 * is "DejaVu Sans, Arial, sans-serif" at 12px, on a white background. */
#ifndef TERN_TOOLS_SVG_H
#define TERN_TOOLS_SVG_H

#include <stdbool.h>
#include <stdio.h>

typedef struct svg svg;

/* Starts a document of width x height with a <title> and a <style>
 * block holding `css` (class rules the drawing uses; may be NULL).
 * NULL if out of memory. */
svg *svg_begin(FILE *out, double width, double height, const char *title,
	       const char *css);
/* Closes the document and frees the writer: 0, or -1 if a write failed. */
int svg_end(svg *s);

void svg_line(svg *s, double x1, double y1, double x2, double y2,
	      const char *cls);
/* A line with an arrowhead at (x2, y2), drawn as a polygon (no markers:
 * every viewer draws it the same). */
void svg_arrow(svg *s, double x1, double y1, double x2, double y2,
	       const char *cls);
/* A path `d` (SVG path data, which the caller builds from numbers;
 * escaped all the same). For an arrow, add svg_arrowhead at its end, pointing along
 * its last piece (ax, ay) -> (bx, by). */
void svg_path(svg *s, const char *d, const char *cls);
void svg_arrowhead(svg *s, double ax, double ay, double bx, double by,
		   const char *cls);
void svg_rect(svg *s, double x, double y, double w, double h, double r,
	      const char *cls);
void svg_circle(svg *s, double cx, double cy, double r, const char *cls);
/* Text at (x, y); anchor is "start", "middle" or "end". The formatted
 * text is escaped. */
void svg_text(svg *s, double x, double y, const char *anchor, const char *cls,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* A group with a class and an optional tooltip (<title>), and extra
 * data-* attributes as "name=value" pairs (NULL-terminated list, may be
 * NULL): tests and scripts find elements by them. */
void svg_group_begin(svg *s, const char *cls, const char *tooltip,
		     const char *const *data);
void svg_group_end(svg *s);

#endif
