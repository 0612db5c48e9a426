/* The tern command line: one binary, one file per command. */
#ifndef TERN_TOOLS_CLI_H
#define TERN_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/types.h>

int cmd_scenario(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);

/* Argument helpers: each prints the reason and returns false on a bad
 * value. `what` names the option in messages (cli_parse_u64: NULL for
 * none, when the caller says what is wrong). */
bool cli_parse_u64(const char *what, const char *text, uint64_t max,
		   uint64_t *out);
bool cli_parse_double(const char *what, const char *text, double lo, double hi,
		      double *out);
/* A time in milliseconds (may have a fraction), as tern_time. */
bool cli_parse_ms(const char *what, const char *text, tern_time *out);
void cli_error(const char *fmt, ...);

#endif
