#include <inttypes.h>
#include <stdio.h>

#include "trace/jsonw.h"

static void put(jsonw *w, char c)
{
	if (w->len + 1 < w->size)
		w->buf[w->len] = c;
	w->len++;
}

static void puts_raw(jsonw *w, const char *s)
{
	while (*s)
		put(w, *s++);
}

/* A comma before every member but the first. */
static void sep(jsonw *w)
{
	if (!w->first)
		put(w, ',');
	w->first = false;
}

void jw_init(jsonw *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->first = true;
}

void jw_object_begin(jsonw *w)
{
	sep(w);
	put(w, '{');
	w->first = true;
}

void jw_object_end(jsonw *w)
{
	put(w, '}');
	w->first = false;
}

void jw_array_begin(jsonw *w)
{
	sep(w);
	put(w, '[');
	w->first = true;
}

void jw_array_end(jsonw *w)
{
	put(w, ']');
	w->first = false;
}

/* RFC 8259 7: quote, backslash and control characters are escaped. */
static void put_string(jsonw *w, const char *s)
{
	put(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put(w, '\\');
			put(w, (char)c);
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			puts_raw(w, esc);
		} else {
			put(w, (char)c);
		}
	}
	put(w, '"');
}

void jw_key(jsonw *w, const char *key)
{
	sep(w);
	put_string(w, key);
	put(w, ':');
	w->first = true; /* the value follows without a comma */
}

void jw_str(jsonw *w, const char *value)
{
	sep(w);
	put_string(w, value ? value : "");
}

void jw_uint(jsonw *w, uint64_t value)
{
	char num[24];

	sep(w);
	snprintf(num, sizeof(num), "%" PRIu64, value);
	puts_raw(w, num);
}

void jw_int(jsonw *w, int64_t value)
{
	char num[24];

	sep(w);
	snprintf(num, sizeof(num), "%" PRId64, value);
	puts_raw(w, num);
}

void jw_bool(jsonw *w, bool value)
{
	sep(w);
	puts_raw(w, value ? "true" : "false");
}

void jw_kstr(jsonw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_str(w, value);
}

void jw_kuint(jsonw *w, const char *key, uint64_t value)
{
	jw_key(w, key);
	jw_uint(w, value);
}

size_t jw_finish(jsonw *w)
{
	if (w->size > 0)
		w->buf[w->len < w->size ? w->len : w->size - 1] = '\0';
	return w->len;
}
