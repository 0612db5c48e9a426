/* tern: the command line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  scenario list               the connection scenarios\n"
		"  scenario run NAME [opts]    run one on the simulator and "
		"print its timeline\n"
		"  serve --tun IF --addr A/P --port N --app echo|discard|http\n"
		"                              serve on a TUN/TAP device\n"
		"  connect --tun IF --addr A/P --to IP:PORT [--send F] "
		"[--recv F]\n"
		"                              one connection over a TUN/TAP "
		"device\n"
		"  sysctl -a | KEY... | -p FILE  the settings, as sysctl shows "
		"Linux's\n"
		"  stat --control PATH [-a] [-z] [-r] [--json]\n"
		"                              a running tern's counters, as "
		"nstat shows Linux's\n"
		"  ss --control PATH [-tanloisHK] [FILTER]\n"
		"                              its connections, as ss "
		"lists Linux's\n"
		"  draw seq|states TRACE... [-o FILE.svg]\n"
		"                              a trace as a sequence or "
		"state diagram\n"
		"  help                        this text\n"
		"\n"
		"scenario run, serve and connect take --sysctl KEY=VALUE and "
		"--sysctl-file FILE;\n"
		"serve and connect take --control PATH (for tern stat and tern "
		"ss).\n"
		"Run 'tern COMMAND help' for the options of a command.\n");
}

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

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "scenario") == 0)
		return cmd_scenario(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "connect") == 0)
		return cmd_connect(argc - 1, argv + 1);
	if (strcmp(cmd, "sysctl") == 0)
		return cmd_sysctl(argc - 1, argv + 1);
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(argc - 1, argv + 1);
	if (strcmp(cmd, "ss") == 0)
		return cmd_ss(argc - 1, argv + 1);
	if (strcmp(cmd, "draw") == 0)
		return cmd_draw(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	cli_error("unknown command '%s'", cmd);
	usage(stderr);
	return 2;
}
