/* The tern command line: one binary, one file per command. */
#ifndef TERN_TOOLS_CLI_H
#define TERN_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <tern/stack.h>
#include <tern/types.h>

int cmd_scenario(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_sysctl(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_ss(int argc, char **argv);
int cmd_draw(int argc, char **argv);

/* One request to a control socket (a line under 255 bytes); the body
 * of an OK response (malloc'ed), or NULL with the reason printed
 * (cmd_stat.c). */
char *cli_control_query(const char *path, const char *request);
/* The same, and the credentials of the process that answered (pid, uid;
 * zeros if the kernel does not say). */
struct ucred;
char *cli_control_query_from(const char *path, const char *request,
			     struct ucred *server);

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

/* --sysctl KEY=VALUE and --sysctl-file FILE, taken by every command that
 * builds a stack: each is applied to *s as it comes, so the command line
 * reads left to right (cmd_sysctl.c). Returns 1 taken, 0 not ours (opt
 * is another option), -1 bad (reason printed). */
int cli_sysctl_opt(tern_settings *s, const char *opt, const char *val);
/* Once every option is in: the rules between keys (tern_settings_check).
 * false with the reason printed. */
bool cli_sysctl_check(const tern_settings *s);
/* The two options' lines for a command's usage text. */
extern const char cli_sysctl_usage[];

/* --rotate-size SIZE and --rotate-keep N, taken by every command that
 * writes --json or --pcap (rotate.c): bounds on each of those files. A
 * zeroed *r stands for the defaults (256 MiB a file, 4 files); the first
 * option sets them, then its own value. Returns 1 taken, 0 not ours (opt
 * is another option), -1 bad (reason printed). */
int cli_rotate_opt(tern_rotate *r, const char *opt, const char *val);
/* *r, or the defaults if no option set it. */
tern_rotate cli_rotate(const tern_rotate *r);
/* The two options' lines for a command's usage text. */
extern const char cli_rotate_usage[];
/* Whether the output files are apart: no two the same, and none one of
 * the files another rotates into (FILE.N), which rotating, or removing
 * an earlier run's series, would overwrite. false with the reason. */
bool cli_outputs_apart(const char *const *opts, const char *const *paths,
		       int n);

#endif
