/* A small JSON writer into a caller's buffer: the one place that knows
 * JSON's syntax and escaping. Output past the buffer is counted, not
 * written, so the caller can size a second try (as snprintf). */
#ifndef TERN_TRACE_JSONW_H
#define TERN_TRACE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jsonw {
	char *buf;
	size_t size, len; /* len may exceed size: what was needed */
	bool first;	  /* no member yet in the open object/array */
} jsonw;

void jw_init(jsonw *w, char *buf, size_t size);
void jw_object_begin(jsonw *w);
void jw_object_end(jsonw *w);
void jw_key(jsonw *w, const char *key);
void jw_str(jsonw *w, const char *value);
void jw_uint(jsonw *w, uint64_t value);
void jw_int(jsonw *w, int64_t value);
void jw_bool(jsonw *w, bool value);
void jw_array_begin(jsonw *w);
void jw_array_end(jsonw *w);
/* key + value in one call */
void jw_kstr(jsonw *w, const char *key, const char *value);
void jw_kuint(jsonw *w, const char *key, uint64_t value);
/* Terminates the text; returns the length needed (excluding NUL). */
size_t jw_finish(jsonw *w);

#endif
