/* Helpers shared by tern's tests (cmocka programs). */
#ifndef TERN_TESTUTIL_H
#define TERN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <tern/link.h>

/* A path under the build directory for a test's output file. */
const char *tu_build_path(const char *name);

/* A link receive hook that counts frames and keeps the last one's
 * metadata (has: it came with some). */
typedef struct tu_meta_seen {
	int n;
	bool has;
	tern_frame_meta m;
} tu_meta_seen;

void tu_on_meta(void *ctx, const uint8_t *frame, size_t len,
		const tern_frame_meta *meta, tern_time now);

#endif
