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

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;

	if (n == 0 || c > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* RFC 8259 7: quote, backslash and control characters are escaped; a
 * byte that does not start valid UTF-8 becomes U+FFFD, so every line
 * stays valid JSON. */
static void put_string(jsonw *w, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	put(w, '"');
	while (*s) {
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			put(w, '\\');
			put(w, (char)c);
			s++;
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			puts_raw(w, esc);
			s++;
		} else if (c < 0x80) {
			put(w, (char)c);
			s++;
		} else {
			size_t n = utf8_len(s);
			if (n == 0) {
				puts_raw(w, "\\ufffd");
				s++;
				continue;
			}
			for (size_t i = 0; i < n; i++)
				put(w, (char)s[i]);
			s += n;
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
