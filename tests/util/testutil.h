/* Helpers shared by tern's tests (cmocka programs). */
#ifndef TERN_TESTUTIL_H
#define TERN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A path under the build directory for a test's output file. */
const char *tu_build_path(const char *name);

#endif
