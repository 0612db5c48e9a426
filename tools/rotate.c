/* --rotate-size SIZE and --rotate-keep N: bounds on the --json and --pcap
 * files of every command that writes them, so that a long run cannot fill
 * the disk. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The defaults bound each output to 1 GiB. */
#define ROTATE_SIZE_DEFAULT (256ull << 20)
#define ROTATE_KEEP_DEFAULT 4
/* Below this a file would hold a handful of packets: a slip of the
 * fingers ("--rotate-size 10" meaning 10M), not a wish. */
#define ROTATE_SIZE_MIN 4096
#define ROTATE_KEEP_MAX 1000

const char cli_rotate_usage[] =
	"  --rotate-size SIZE  bytes per --json or --pcap file before the "
	"next one\n"
	"                      begins (k/K, M, G: 1024, 1024^2, 1024^3; "
	"0: no limit;\n"
	"                      at least 4096; default 256M)\n"
	"  --rotate-keep N     files kept of each, the current one "
	"included: FILE is\n"
	"                      the newest, then FILE.1, ... (1 to 1000; "
	"default 4)\n";

tern_rotate cli_rotate(const tern_rotate *r)
{
	if (r->keep == 0)
		return (tern_rotate){ROTATE_SIZE_DEFAULT, ROTATE_KEEP_DEFAULT};
	return *r;
}

/* "4096", "64k", "256M", "1G": powers of 1024, as tcpdump's -C counts. */
static bool parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "kKMG";
	static const unsigned shifts[] = {10, 10, 20, 30};
	size_t len = strlen(text);
	const char *unit = len > 0 ? strchr(units, text[len - 1]) : NULL;
	unsigned shift = unit && *unit ? shifts[unit - units] : 0;
	char digits[32];
	uint64_t v;

	if (len >= sizeof(digits))
		return false;
	snprintf(digits, sizeof(digits), "%.*s", (int)(len - (shift > 0)),
		 text);
	if (!cli_parse_u64(NULL, digits, UINT64_MAX >> shift, &v))
		return false;
	*out = v << shift;
	return true;
}

static bool size_opt(tern_rotate *r, const char *val)
{
	uint64_t v;

	if (!parse_size(val, &v)) {
		cli_error("--rotate-size: '%s' is not a size in bytes (a whole "
			  "number, with k, M or G for powers of 1024)",
			  val);
		return false;
	}
	if (v > 0 && v < ROTATE_SIZE_MIN) {
		cli_error(
			"--rotate-size: '%s' is below the minimum of %d bytes "
			"(0: no limit)",
			val, ROTATE_SIZE_MIN);
		return false;
	}
	r->max_bytes = v;
	return true;
}

static bool keep_opt(tern_rotate *r, const char *val)
{
	uint64_t v;

	if (!cli_parse_u64(NULL, val, ROTATE_KEEP_MAX, &v) || v < 1) {
		cli_error("--rotate-keep: '%s' is not a number of files from 1 "
			  "to %d",
			  val, ROTATE_KEEP_MAX);
		return false;
	}
	r->keep = (unsigned)v;
	return true;
}

int cli_rotate_opt(tern_rotate *r, const char *opt, const char *val)
{
	bool size = strcmp(opt, "--rotate-size") == 0;

	if (!size && strcmp(opt, "--rotate-keep") != 0)
		return 0;
	if (!val) {
		cli_error("%s needs a value", opt);
		return -1;
	}
	*r = cli_rotate(r); /* onto the defaults, the first time */
	return (size ? size_opt(r, val) : keep_opt(r, val)) ? 1 : -1;
}

/* Whether `name` is `base` or one of its rotated files, base.N. */
static bool in_series(const char *base, const char *name)
{
	size_t n = strlen(base);

	if (strncmp(base, name, n) != 0)
		return false;
	if (name[n] == '\0')
		return true;
	if (name[n] != '.' || !name[n + 1])
		return false;
	for (const char *p = name + n + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* The path with its directory resolved (./F and F, or a linked
 * directory, name one file); a copy of the text if that fails. */
static char *canonical(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], *real, *out;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1),
			 path);
	real = realpath(dir, NULL);
	if (!real)
		return strdup(path);
	size_t n = strlen(real) + strlen(path) + 2;
	if ((out = malloc(n)))
		snprintf(out, n, "%s/%s", real, slash ? slash + 1 : path);
	free(real);
	return out;
}

/* Whether j's file is i's or one of those i's rotates into. */
static bool clash(const char *i, const char *j)
{
	char *a = canonical(i), *b = canonical(j);
	bool r = a && b && in_series(a, b);

	free(a);
	free(b);
	return r;
}

bool cli_outputs_apart(const char *const *opts, const char *const *paths, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			if (i == j || !paths[i] || !paths[j] ||
			    !clash(paths[i], paths[j]))
				continue;
			if (clash(paths[j], paths[i]))
				cli_error("%s and %s both name '%s'", opts[i],
					  opts[j], paths[i]);
			else
				cli_error("%s '%s' is one of the files %s "
					  "'%s' rotates into",
					  opts[j], paths[j], opts[i], paths[i]);
			return false;
		}
	return true;
}
