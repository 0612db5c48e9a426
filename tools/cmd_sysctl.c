/* tern sysctl [-n | -N | -d] [-a] [-p FILE]... [--sysctl KEY=VALUE]...
 *             [--sysctl-file FILE]... [KEY | KEY=VALUE]...
 *
 * Shows tern's settings as Linux's sysctl(8) shows the kernel's: the
 * defaults, with whatever the options change applied in command-line
 * order, so a settings file can be checked before a stack ever uses it.
 * Also the --sysctl and --sysctl-file options of the other commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A reason from the library: the longest is a file name, a line number
 * and a value it quotes. */
#define REASON_MAX 4352

const char cli_sysctl_usage[] =
	"  --sysctl KEY=VALUE  a setting under Linux's sysctl name, e.g.\n"
	"                      net.ipv4.tcp_fin_timeout=30 (repeatable;\n"
	"                      'tern sysctl -a' lists the keys)\n"
	"  --sysctl-file FILE  settings from a sysctl.conf-style file\n"
	"                      (both apply in command-line order)\n";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern sysctl [-n | -N | -d] -a | KEY... | KEY=VALUE...\n"
		"       tern sysctl [-n] -p FILE [KEY...]\n"
		"\n"
		"Prints tern's settings as sysctl prints Linux's: the "
		"defaults, changed\nby these in command-line order:\n"
		"  -p FILE, --sysctl-file FILE  a sysctl.conf-style file\n"
		"  --sysctl KEY=VALUE, KEY=VALUE  one setting\n"
		"What it prints:\n"
		"  -a        every key, sorted by name\n"
		"  KEY       that key (KEY=VALUE: that key, once set)\n"
		"            (neither: the keys whose values differ from the "
		"defaults)\n"
		"  -n        values only\n"
		"  -N        names only\n"
		"  -d        each key's meaning and unit\n"
		"Keys are Linux's full names (net.ipv4.tcp_fin_timeout, "
		"net.core.somaxconn;\nalso net/ipv4/tcp_fin_timeout); "
		"net.tern.* are tern's own.\n"
		"Exit status: 0; 1 if a KEY to print is unknown; 2 if a "
		"setting is refused\n(nothing is printed then).\n");
}

/* "KEY=VALUE": split at the first '=' (values never hold one). */
static bool split_assignment(const char *text, char *key, size_t size,
			     const char **value)
{
	const char *eq = strchr(text, '=');

	if (!eq || eq == text || (size_t)(eq - text) >= size)
		return false;
	snprintf(key, size, "%.*s", (int)(eq - text), text);
	*value = eq + 1;
	return true;
}

static bool assign(tern_settings *s, const char *opt, const char *text)
{
	char key[128], reason[REASON_MAX];
	const char *value;

	if (!split_assignment(text, key, sizeof(key), &value)) {
		cli_error("%s: '%s' is not KEY=VALUE", opt, text);
		return false;
	}
	if (tern_sysctl_set(s, key, value, reason, sizeof(reason)) < 0) {
		cli_error("%s: %s", opt, reason);
		return false;
	}
	return true;
}

/* cli_sysctl_opt, with `tern sysctl`'s -p (sysctl's spelling of
 * --sysctl-file) too. */
static int settings_opt(tern_settings *s, const char *opt, const char *val,
			bool short_p)
{
	char reason[REASON_MAX];
	bool file = strcmp(opt, "--sysctl-file") == 0 ||
		    (short_p && strcmp(opt, "-p") == 0);

	if (!file && strcmp(opt, "--sysctl") != 0)
		return 0;
	if (!val) {
		cli_error("%s needs a value", opt);
		return -1;
	}
	if (!file)
		return assign(s, opt, val) ? 1 : -1;
	if (tern_sysctl_load_file(s, val, reason, sizeof(reason)) < 0) {
		cli_error("%s: %s", opt, reason);
		return -1;
	}
	return 1;
}

int cli_sysctl_opt(tern_settings *s, const char *opt, const char *val)
{
	return settings_opt(s, opt, val, false);
}

bool cli_sysctl_check(const tern_settings *s)
{
	char reason[REASON_MAX];

	if (tern_settings_check(s, reason, sizeof(reason)) == 0)
		return true;
	cli_error("--sysctl: %s", reason);
	return false;
}

/* ---- tern sysctl ---- */

enum show { SHOW_LINE, SHOW_VALUE, SHOW_NAME, SHOW_HELP };

typedef struct sysctl_cmd {
	tern_settings set;
	enum show show;
	bool all;
	int nkeys;	   /* KEY arguments to print */
	const char **keys; /* argc of them at most */
} sysctl_cmd;

static void show(const sysctl_cmd *c, const tern_sysctl_info *info)
{
	char value[128];

	tern_sysctl_get(&c->set, info->name, value, sizeof(value));
	switch (c->show) {
	case SHOW_VALUE:
		printf("%s\n", value);
		break;
	case SHOW_NAME:
		printf("%s\n", info->name);
		break;
	case SHOW_HELP:
		printf("%s: %s%s%s%s\n", info->name, info->help,
		       *info->unit ? " (" : "", info->unit,
		       *info->unit ? ")" : "");
		break;
	default:
		printf("%s = %s\n", info->name, value);
	}
}

static bool same_value(const tern_settings *a, const tern_settings *b,
		       const char *key)
{
	char x[128], y[128];

	tern_sysctl_get(a, key, x, sizeof(x));
	tern_sysctl_get(b, key, y, sizeof(y));
	return strcmp(x, y) == 0;
}

/* Every key (-a), or those that differ from the defaults. */
static void show_many(const sysctl_cmd *c)
{
	tern_settings defaults;
	tern_sysctl_info info;

	tern_settings_default(&defaults);
	for (size_t i = 0; tern_sysctl_info_get(i, &info); i++)
		if (c->all || !same_value(&c->set, &defaults, info.name))
			show(c, &info);
}

/* The KEY arguments, in order (with -a, only whether they exist): 1 if
 * one of them is unknown (procps-ng's sysctl also goes on to the next,
 * and exits 1). */
static int show_keys(const sysctl_cmd *c)
{
	tern_sysctl_info info;
	int rc = 0;

	for (int i = 0; i < c->nkeys; i++) {
		if (tern_sysctl_lookup(c->keys[i], &info) < 0) {
			fflush(stdout);
			cli_error("sysctl: %s: unknown key", c->keys[i]);
			rc = 1;
			continue;
		}
		if (!c->all)
			show(c, &info);
	}
	return rc;
}

/* A flag of tern sysctl: true if taken. */
static bool flag(sysctl_cmd *c, const char *arg)
{
	static const struct {
		const char *name;
		enum show show;
	} shows[] = {{"-n", SHOW_VALUE}, {"-N", SHOW_NAME}, {"-d", SHOW_HELP}};

	if (strcmp(arg, "-a") == 0 || strcmp(arg, "--all") == 0) {
		c->all = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++)
		if (strcmp(arg, shows[i].name) == 0) {
			c->show = shows[i].show;
			return true;
		}
	return false;
}

/* Applies the settings and gathers the keys to print, in order; false
 * (reason printed) on anything refused. */
static bool parse(sysctl_cmd *c, int argc, char **argv, bool *changed)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		int r = settings_opt(&c->set, arg, val, true);
		if (r < 0)
			return false;
		if (r > 0) {
			*changed = true;
			i++;
		} else if (flag(c, arg)) {
			continue;
		} else if (arg[0] == '-') {
			cli_error("sysctl: unknown option '%s'", arg);
			return false;
		} else if (strchr(arg, '=')) {
			if (!assign(&c->set, "sysctl", arg))
				return false;
			*changed = true;
			*strchr(argv[i], '=') = '\0';
			c->keys[c->nkeys++] = arg;
		} else {
			c->keys[c->nkeys++] = arg;
		}
	}
	return cli_sysctl_check(&c->set);
}

int cmd_sysctl(int argc, char **argv)
{
	sysctl_cmd c = {.show = SHOW_LINE};
	bool changed = false;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	tern_settings_default(&c.set);
	c.keys = calloc((size_t)argc, sizeof(*c.keys));
	if (!c.keys) {
		cli_error("sysctl: out of memory");
		return 1;
	}
	int rc = 2;
	if (!parse(&c, argc - 1, argv + 1, &changed)) {
		free(c.keys);
		return 2;
	}
	if (c.all || (c.nkeys == 0 && changed))
		show_many(&c);
	if (c.nkeys > 0)
		rc = show_keys(&c);
	else if (c.all || changed)
		rc = 0;
	else
		usage(stderr);
	free(c.keys);
	return rc;
}
