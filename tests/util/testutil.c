#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

const char *tu_build_path(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("TERN_BUILD_DIR");
	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : ".", name);
	return buf;
}
