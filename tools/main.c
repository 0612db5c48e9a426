/* tern: the command line. */
#include <stdio.h>
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
