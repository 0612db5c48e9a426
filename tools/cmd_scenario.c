/* tern scenario list | run NAME [--seed N] [--json FILE] [--pcap FILE]
 *                              [--loss P] [--delay MS] */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern scenario list\n"
		"       tern scenario run NAME [--seed N] [--json FILE] "
		"[--pcap FILE]\n"
		"                             [--loss P] [--delay MS]\n"
		"\n"
		"  --seed N     seed of the simulated network (default 1)\n"
		"  --json FILE  write the JSON Lines trace of both stacks\n"
		"  --pcap FILE  write the client's traffic as a pcap capture\n"
		"  --loss P     random loss in each direction, 0 to 1 (or "
		"0%%-100%%)\n"
		"  --delay MS   one-way delay in milliseconds (default: the "
		"scenario's)\n");
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
		if (!cli_parse_double("--loss", buf, 0, 100, out))
			return false;
		*out /= 100;
		return true;
	}
	return cli_parse_double("--loss", text, 0, 1, out);
}

/* Options after NAME; false (with the reason printed) on a bad one. */
static bool parse_run_opts(int argc, char **argv, scn_params *p)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			cli_error("%s needs a value", opt);
			return false;
		}
		bool ok = true;
		if (strcmp(opt, "--seed") == 0)
			ok = cli_parse_u64("--seed", val, UINT64_MAX, &p->seed);
		else if (strcmp(opt, "--json") == 0)
			p->json = val;
		else if (strcmp(opt, "--pcap") == 0)
			p->pcap = val;
		else if (strcmp(opt, "--loss") == 0)
			ok = parse_loss(val, &p->loss);
		else if (strcmp(opt, "--delay") == 0)
			ok = cli_parse_ms("--delay", val, &p->delay);
		else {
			cli_error("unknown option '%s'", opt);
			return false;
		}
		if (!ok)
			return false;
		i++;
	}
	return true;
}

static int run(int argc, char **argv)
{
	scn_params p = {.seed = 1};

	if (argc < 1) {
		cli_error("scenario run: which scenario? ('tern scenario "
			  "list' shows them)");
		return 2;
	}
	const scn_def *d = scn_find(argv[0]);
	if (!d) {
		cli_error("no scenario named '%s' ('tern scenario list' shows "
			  "them)",
			  argv[0]);
		return 2;
	}
	if (!parse_run_opts(argc - 1, argv + 1, &p))
		return 2;
	scn_run *r;
	int err = scn_execute(d, &p, &r);
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
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return list();
	if (strcmp(argv[1], "run") == 0)
		return run(argc - 2, argv + 2);
	cli_error("scenario: unknown subcommand '%s'", argv[1]);
	usage(stderr);
	return 2;
}
