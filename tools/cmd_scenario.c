/* tern scenario list | run NAME [--seed N] [--json FILE] [--pcap FILE]
 *                              [--loss P] [--delay MS]
 *                              [--rotate-size SIZE] [--rotate-keep N]
 *                              [--sysctl KEY=VALUE] [--sysctl-file FILE] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern scenario list\n"
		"       tern scenario run NAME [--seed N] [--json FILE] "
		"[--pcap FILE]\n"
		"                             [--loss P] [--delay MS]\n"
		"                             [--rotate-size SIZE] "
		"[--rotate-keep N]\n"
		"                             [--sysctl KEY=VALUE] "
		"[--sysctl-file FILE]\n"
		"\n"
		"  --seed N     seed of the simulated network (default 1)\n"
		"  --json FILE  write the JSON Lines trace of both stacks\n"
		"  --pcap FILE  write the client's traffic as a pcap capture\n"
		"  --loss P     random loss in each direction, 0 to 1 (or "
		"0%%-100%%)\n"
		"  --delay MS   one-way delay in milliseconds (default: the "
		"scenario's)\n"
		"%s%s"
		"  (the settings start as the scenarios' own: RFC 9293's TCP, "
		"without window\n"
		"  scaling, timestamps or SACK, with Reno; 'tern sysctl' "
		"shows Linux's defaults)\n",
		cli_rotate_usage, cli_sysctl_usage);
}

static int list(void)
{
	size_t n;
	const scn_def *const *all = scn_all(&n);

	for (size_t i = 0; i < n; i++)
		printf("%2d  %-24s %s\n", all[i]->number, all[i]->name,
		       all[i]->title);
	return 0;
}

static bool parse_loss(const char *text, double *out)
{
	size_t len = strlen(text);
	char buf[64];

	if (len > 0 && len < sizeof(buf) && text[len - 1] == '%') {
		memcpy(buf, text, len - 1);
		buf[len - 1] = '\0';
		if (!cli_parse_double("--loss (in %)", buf, 0, 100, out))
			return false;
		*out /= 100;
		return true;
	}
	return cli_parse_double("--loss", text, 0, 1, out);
}

/* 0 in scn_params means "the scenario's delay": refuse it rather than
 * quietly run with another delay than the one asked for. */
static bool parse_delay(const char *text, tern_time *out)
{
	if (!cli_parse_ms("--delay", text, out))
		return false;
	if (*out == 0) {
		cli_error("--delay: '%s' is no delay; the simulated link needs "
			  "some (leave --delay out for the scenario's own)",
			  text);
		return false;
	}
	return true;
}

static bool parse_path(const char *opt, const char *text, const char **out)
{
	if (!*text) {
		cli_error("%s needs a file name", opt);
		return false;
	}
	*out = text;
	return true;
}

static bool has_value(const char *opt, const char *val)
{
	if (!val)
		cli_error("%s needs a value", opt);
	return val != NULL;
}

/* One option and its value (NULL: none followed); false, with the reason
 * printed, on a bad one. --sysctl and --sysctl-file change set, which
 * starts as the scenarios' own settings; --rotate-* change rot. */
static bool parse_opt(const char *opt, const char *val, scn_params *p,
		      tern_settings *set, tern_rotate *rot)
{
	int r = cli_sysctl_opt(set, opt, val);
	if (r != 0) {
		p->settings = set;
		return r > 0;
	}
	if ((r = cli_rotate_opt(rot, opt, val)) != 0)
		return r > 0;
	if (strcmp(opt, "--seed") == 0)
		return has_value(opt, val) &&
		       cli_parse_u64(opt, val, UINT64_MAX, &p->seed);
	if (strcmp(opt, "--json") == 0)
		return has_value(opt, val) && parse_path(opt, val, &p->json);
	if (strcmp(opt, "--pcap") == 0)
		return has_value(opt, val) && parse_path(opt, val, &p->pcap);
	if (strcmp(opt, "--loss") == 0)
		return has_value(opt, val) && parse_loss(val, &p->loss);
	if (strcmp(opt, "--delay") == 0)
		return has_value(opt, val) && parse_delay(val, &p->delay);
	cli_error("unknown option '%s'", opt);
	return false;
}

/* Options after NAME; false (with the reason printed) on a bad one. */
static bool parse_run_opts(int argc, char **argv, scn_params *p,
			   tern_settings *set, tern_rotate *rot)
{
	scn_settings(set);
	for (int i = 0; i < argc; i += 2)
		if (!parse_opt(argv[i], i + 1 < argc ? argv[i + 1] : NULL, p,
			       set, rot))
			return false;
	*rot = cli_rotate(rot);
	p->rotate = rot;
	if (p->settings && !cli_sysctl_check(p->settings))
		return false;
	return cli_outputs_apart((const char *const[]){"--json", "--pcap"},
				 (const char *const[]){p->json, p->pcap}, 2);
}

/* The directory a path's file would be created in. */
static void parent_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* The library says no more than TERN_ERR_IO about a file it cannot open,
 * so look first, and name the file and the reason. Creates nothing: a bad
 * --pcap leaves no empty --json file behind. 0 or an errno value. */
static int cannot_write(const char *path)
{
	struct stat st;
	char dir[4096];

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return EISDIR;
		return access(path, W_OK) == 0 ? 0 : errno;
	}
	if (errno != ENOENT)
		return errno;
	parent_dir(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

static bool outputs_writable(const scn_params *p)
{
	const char *opts[] = {"--json", "--pcap"};
	const char *paths[] = {p->json, p->pcap};

	for (int i = 0; i < 2; i++) {
		int err = paths[i] ? cannot_write(paths[i]) : 0;
		if (err) {
			cli_error("%s: cannot write '%s': %s", opts[i],
				  paths[i], strerror(err));
			return false;
		}
	}
	return true;
}

static int run(int argc, char **argv)
{
	scn_params p = {.seed = 1};
	tern_settings set;
	tern_rotate rot = {0};

	if (argc < 1) {
		cli_error("scenario run: which scenario? ('tern scenario "
			  "list' shows them)");
		return 2;
	}
	if (argv[0][0] == '-') {
		cli_error("scenario run: the scenario's name comes first, "
			  "then '%s' ('tern scenario help')",
			  argv[0]);
		return 2;
	}
	const scn_def *d = scn_find(argv[0]);
	if (!d) {
		cli_error("no scenario named '%s' ('tern scenario list' shows "
			  "them)",
			  argv[0]);
		return 2;
	}
	if (!parse_run_opts(argc - 1, argv + 1, &p, &set, &rot))
		return 2;
	if (!outputs_writable(&p))
		return 1;
	scn_run *r;
	int err = scn_execute(d, &p, &r);
	if (err == TERN_ERR_IO && (p.json || p.pcap)) {
		cli_error("scenario %s: writing %s%s%s: %s", d->name,
			  p.json ? p.json : "", p.json && p.pcap ? " or " : "",
			  p.pcap ? p.pcap : "", tern_strerror(err));
		return 1;
	}
	if (err < 0) {
		cli_error("scenario %s: %s", d->name, tern_strerror(err));
		return 1;
	}
	scn_print_timeline(r, stdout);
	scn_free(r);
	return 0;
}

int cmd_scenario(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "list") == 0) {
		if (argc == 2)
			return list();
		cli_error("scenario list: unexpected argument '%s'", argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2);
	cli_error("scenario: unknown subcommand '%s'", argv[1]);
	usage(stderr);
	return 2;
}
