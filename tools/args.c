/* The CLI's argument helpers (cli.h): messages and numbers, shared by
 * every command, and linked into the tests of the tools' modules. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_u64(const char *what, const char *text, uint64_t max,
		   uint64_t *out)
{
	char *end;

	errno = 0;
	/* Digits only: strtoull would also take " 5", "+5" and "-5". */
	if (!text || !(*text >= '0' && *text <= '9')) {
		if (what)
			cli_error("%s: expected a whole number, got '%s'", what,
				  text ? text : "");
		return false;
	}
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v > max) {
		if (what)
			cli_error(
				"%s: '%s' is not a whole number from 0 to %llu",
				what, text, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

/* A plain decimal number ("0.05", "25", "1e-3"): strtod would also take
 * " 1", "0x10", "inf" and "nan". */
static bool is_decimal(const char *text)
{
	return text && *text && strspn(text, "0123456789.eE+-") == strlen(text);
}

bool cli_parse_double(const char *what, const char *text, double lo, double hi,
		      double *out)
{
	char *end = NULL;
	double v = NAN;

	errno = 0;
	if (is_decimal(text))
		v = strtod(text, &end);
	if (!end || errno || *end || !(v >= lo && v <= hi)) {
		cli_error("%s: '%s' is not a number from %.15g to %.15g", what,
			  text ? text : "", lo, hi);
		return false;
	}
	*out = v;
	return true;
}

bool cli_parse_ms(const char *what, const char *text, tern_time *out)
{
	double ms;

	if (!cli_parse_double(what, text, 0, 3600e3, &ms))
		return false;
	*out = (tern_time)(ms * (double)TERN_MSEC + 0.5);
	return true;
}
