#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

const char *tu_build_path(const char *name)
{
	static char buf[4096];
	/* CTest sets TERN_BUILD_DIR; a test run by hand writes to $TMPDIR
	 * (or /tmp), never into the source tree. */
	const char *dir = getenv("TERN_BUILD_DIR");
	if (!dir)
		dir = getenv("TMPDIR");
	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : "/tmp", name);
	return buf;
}

void tu_on_meta(void *ctx, const uint8_t *frame, size_t len,
		const tern_frame_meta *meta, tern_time now)
{
	tu_meta_seen *s = ctx;

	(void)frame;
	(void)len;
	(void)now;
	s->n++;
	s->has = meta != NULL;
	if (meta)
		s->m = *meta;
}
