/* tern draw seq|states TRACE... [-o FILE.svg] [options]: pictures of a
 * JSON Lines trace (--json): one connection as a sequence diagram, or
 * RFC 9293's state diagram with how often each transition was taken.
 * The trace is loaded and checked whole before anything is written, and
 * -o is written through a temporary file renamed into place, so a
 * refused trace or a failed write leaves no file behind. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "draw_seq.h"
#include "draw_states.h"
#include "trace_load.h"

#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 10000000
#define MS_MAX 1e12 /* --from, --to: 30 years of trace */

typedef struct draw_opts {
	bool seq; /* else states */
	char **files;
	int nfiles;
	const char *out, *conn, *host, *title;
	bool list;
	uint64_t from, to; /* microseconds since the trace's start */
	uint64_t limit;
} draw_opts;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern draw seq TRACE... [-o FILE.svg] [--conn SEL] "
		"[--list]\n"
		"                     [--from MS] [--to MS] [--limit N]\n"
		"       tern draw states TRACE... [-o FILE.svg] [--host NAME] "
		"[--conn SEL]\n"
		"  (both: [--title TEXT])\n\n"
		"  TRACE        a JSON Lines trace (--json FILE). seq: the "
		"files of one\n"
		"               rotated trace, oldest first (T.2 T.1 T); "
		"states: any traces,\n"
		"               counted together\n"
		"  -o FILE.svg  where the SVG goes (default: standard output)\n"
		"  --conn SEL   one connection: its number in --list, or its "
		"endpoints\n"
		"               ADDR:PORT-ADDR:PORT in either order (seq: "
		"default the first)\n"
		"  --list       seq: list the connections, numbered; draw "
		"nothing\n"
		"  --from MS    seq: only events from MS ms into the trace\n"
		"  --to MS      seq: only events up to MS ms into the trace\n"
		"  --limit N    seq: at most N events drawn (default %d)\n"
		"  --host NAME  states: only the state changes stack NAME "
		"reported\n"
		"  --title TEXT the name the drawing gives its source "
		"(default: the trace\n"
		"               files): seq's subtitle, states' title\n",
		LIMIT_DEFAULT);
}

/* Whether the subcommand takes the option. */
static bool takes(const draw_opts *o, const char *opt)
{
	static const char *const seq[] = {"-o",	  "--conn",  "--list", "--from",
					  "--to", "--limit", "--title"};
	static const char *const states[] = {"-o", "--conn", "--host",
					     "--title"};
	const char *const *v = o->seq ? seq : states;
	size_t n = o->seq ? 7 : 4;

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], opt) == 0)
			return true;
	return false;
}

static bool parse_ms_opt(const char *opt, const char *text, uint64_t *us)
{
	double ms;

	if (!cli_parse_double(opt, text, 0, MS_MAX, &ms))
		return false;
	*us = (uint64_t)(ms * 1e3 + 0.5);
	return true;
}

/* One option with its value: 0, or 2 with the reason printed. */
static int take_value(draw_opts *o, const char *opt, const char *val)
{
	if (!*val &&
	    (strcmp(opt, "-o") == 0 || strcmp(opt, "--host") == 0 ||
	     strcmp(opt, "--conn") == 0 || strcmp(opt, "--title") == 0)) {
		cli_error("%s needs a value", opt);
		return 2;
	}
	if (strcmp(opt, "-o") == 0)
		o->out = val;
	else if (strcmp(opt, "--conn") == 0)
		o->conn = val;
	else if (strcmp(opt, "--host") == 0)
		o->host = val;
	else if (strcmp(opt, "--title") == 0)
		o->title = val;
	else if (strcmp(opt, "--from") == 0)
		return parse_ms_opt(opt, val, &o->from) ? 0 : 2;
	else if (strcmp(opt, "--to") == 0)
		return parse_ms_opt(opt, val, &o->to) ? 0 : 2;
	else if (!cli_parse_u64(opt, val, LIMIT_MAX, &o->limit))
		return 2;
	else if (o->limit == 0) {
		cli_error("--limit: '0' draws nothing; give at least 1");
		return 2;
	}
	return 0;
}

/* The same name, or two names of one file (./T and T, a link). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* What the options say together. */
static int check(const draw_opts *o, const char *sub)
{
	if (o->nfiles == 0) {
		cli_error("draw %s: which trace? (tern draw %s TRACE...)", sub,
			  sub);
		return 2;
	}
	if (o->from > o->to) {
		cli_error("--from %.3f is after --to %.3f", o->from / 1e3,
			  o->to / 1e3);
		return 2;
	}
	if (o->list && o->out) {
		cli_error("--list prints the connections and draws nothing: "
			  "no -o with it");
		return 2;
	}
	for (int i = 0; o->out && i < o->nfiles; i++) {
		if (same_file(o->out, o->files[i])) {
			cli_error("-o '%s' is a trace being read", o->out);
			return 2;
		}
	}
	return 0;
}

static int parse(draw_opts *o, int argc, char **argv)
{
	const char *sub = argv[1];

	o->seq = strcmp(sub, "seq") == 0;
	o->to = UINT64_MAX;
	o->limit = LIMIT_DEFAULT;
	o->files = calloc((size_t)argc, sizeof(*o->files));
	if (!o->files) {
		cli_error("out of memory");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			o->files[o->nfiles++] = argv[i];
			continue;
		}
		if (!takes(o, a)) {
			cli_error("draw %s: unknown option '%s'", sub, a);
			return 2;
		}
		if (strcmp(a, "--list") == 0) {
			o->list = true;
			continue;
		}
		if (i + 1 >= argc) {
			cli_error("%s needs a value", a);
			return 2;
		}
		int rc = take_value(o, a, argv[++i]);
		if (rc)
			return rc;
	}
	return check(o, sub);
}

/* ---- connections ---- */

/* --conn SEL: a number from --list, or the endpoints in either order. */
static bool select_conn(const trace_conns *cs, const char *sel, uint32_t *id)
{
	tern_endpoint a, b;
	uint64_t n;
	char first[32];
	const char *dash = strchr(sel, '-');

	if (cli_parse_u64(NULL, sel, UINT32_MAX, &n)) {
		if (n >= 1 && n <= cs->n) {
			*id = (uint32_t)(n - 1);
			return true;
		}
		cli_error("--conn %s: the trace has %zu connection%s (--list "
			  "shows them)",
			  sel, cs->n, cs->n == 1 ? "" : "s");
		return false;
	}
	size_t alen = dash ? (size_t)(dash - sel) : 0;
	if (!dash || alen >= sizeof(first)) {
		cli_error("--conn: '%s' is neither a number from --list nor "
			  "ADDR:PORT-ADDR:PORT",
			  sel);
		return false;
	}
	memcpy(first, sel, alen);
	first[alen] = '\0';
	if (!trace_endpoint_parse(first, &a) ||
	    !trace_endpoint_parse(dash + 1, &b)) {
		cli_error("--conn: '%s' is neither a number from --list nor "
			  "ADDR:PORT-ADDR:PORT",
			  sel);
		return false;
	}
	for (size_t i = 0; i < cs->n; i++) {
		int sa = trace_conn_side(&cs->v[i], &a);
		int sb = trace_conn_side(&cs->v[i], &b);
		if (sa >= 0 && sb >= 0 && sa != sb) {
			*id = (uint32_t)i;
			return true;
		}
	}
	cli_error("--conn %s: no such connection in the trace (--list shows "
		  "them)",
		  sel);
	return false;
}

static void conn_name(const trace_conn *c, char *buf, size_t size)
{
	char a[32], b[32];

	trace_endpoint_format(&c->end[0], a, sizeof(a));
	trace_endpoint_format(&c->end[1], b, sizeof(b));
	snprintf(buf, size, "%s-%s", a, b);
}

static int list_conns(const trace *t, const trace_conns *cs)
{
	char name[72], hosts[160], first[32], last[32];

	printf("%3s  %-43s  %-24s  %8s  %10s  %10s\n", "#", "client-server",
	       "traced by", "segments", "first ms", "last ms");
	for (size_t i = 0; i < cs->n; i++) {
		const trace_conn *c = &cs->v[i];
		seq_match m;
		if (seq_match_conn(t, cs, (uint32_t)i, &m) != 0) {
			cli_error("out of memory");
			return 1;
		}
		conn_name(c, name, sizeof(name));
		const char *h0 = c->host[0], *h1 = c->host[1];
		snprintf(hosts, sizeof(hosts), "%s%s%s", h0 ? h0 : "",
			 h0 && h1 && h1 != h0 ? ", " : "",
			 h1 && h1 != h0 ? h1 : "");
		seq_ms_text((int64_t)c->first, first, sizeof(first));
		seq_ms_text((int64_t)c->last, last, sizeof(last));
		printf("%3zu  %-43s  %-24s  %8zu  %10s  %10s\n", i + 1, name,
		       hosts, m.nsegs, first, last);
		seq_match_free(&m);
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* ---- writing: -o through a temporary file next to it ---- */

typedef struct job {
	const trace *t;
	const trace_conn *c; /* seq */
	const seq_match *m;
	const seq_range *r;
	const draw_state_counts *counts; /* states */
	const char *title;
} job;

static int render(FILE *f, const job *j)
{
	if (j->counts)
		return draw_states_svg(f, j->counts, j->title);
	return draw_seq_svg(f, j->t, j->c, j->m, j->r, j->title);
}

/* Straight into a file that is not a regular one (a FIFO, a device,
 * /dev/stdout): there is nothing to replace. 0 or an errno value. */
static int write_direct(const char *path, const job *j)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return errno;
	errno = 0;
	int rc = render(f, j), err = errno ? errno : EIO;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	return rc == 0 ? 0 : err;
}

/* Through PATH.PID.tmp next to it, renamed over it once whole: a reader
 * never sees half a drawing, and a failure leaves the old one. 0 or an
 * errno value. */
static int write_replace(const char *path, const job *j)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	int err;

	if (!tmp)
		return ENOMEM;
	snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = errno; /* not ours to remove, if it exists */
		free(tmp);
		return err;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		close(fd);
	} else {
		errno = 0;
		int rc = render(f, j);
		err = rc == 0 ? 0 : errno ? errno : EIO;
		if (fclose(f) != 0 && err == 0)
			err = errno;
		if (err == 0 && rename(tmp, path) != 0)
			err = errno;
	}
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* 0, or 1 with the reason printed (the exit status). A symbolic link is
 * followed: its target is written, not the link replaced. */
static int write_svg(const char *path, const job *j)
{
	struct stat st;
	char *real = NULL;
	int err;

	if (!path) {
		if (render(stdout, j) == 0)
			return 0;
		cli_error("cannot write standard output: %s",
			  errno ? strerror(errno) : "write error");
		return 1;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		err = write_direct(path, j);
	else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		/* a dangling link: its target is made through it */
		err = (real = realpath(path, NULL)) ? write_replace(real, j)
						    : write_direct(path, j);
	else
		err = write_replace(path, j);
	free(real);
	if (err)
		cli_error("-o: cannot write '%s': %s", path, strerror(err));
	return err ? 1 : 0;
}

/* The trace files, as titles name them: "T", "T.1, T", or for more
 * than two "T1 and 3 more traces" (a title must fit the drawing). */
static char *source_name(const draw_opts *o)
{
	const char *a = o->files[0], *b = o->nfiles > 1 ? o->files[1] : "";
	size_t n = strlen(a) + strlen(b) + 48;
	char *s = malloc(n);

	if (!s)
		return NULL;
	if (o->nfiles > 2)
		snprintf(s, n, "%s and %d more %s", a, o->nfiles - 1,
			 o->seq ? "files" : "traces");
	else
		snprintf(s, n, "%s%s%s", a, o->nfiles > 1 ? ", " : "", b);
	return s;
}

/* ---- seq ---- */

static int draw_conn(const draw_opts *o, const trace *t, const trace_conns *cs,
		     uint32_t id, const char *source)
{
	const trace_conn *c = &cs->v[id];
	char name[72], a[32], b[32], first[32], last[32];
	seq_match m;
	seq_range r;
	int rc = 2;

	if (seq_match_conn(t, cs, id, &m) != 0) {
		cli_error("out of memory");
		return 1;
	}
	conn_name(c, name, sizeof(name));
	if (seq_window(t, &m, o->from, o->to, (size_t)o->limit, &r)) {
		job j = {.t = t, .c = c, .m = &m, .r = &r, .title = source};
		rc = write_svg(o->out, &j);
	} else {
		seq_ms_text((int64_t)o->from, a, sizeof(a));
		seq_ms_text((int64_t)(o->to == UINT64_MAX ? c->last : o->to), b,
			    sizeof(b));
		seq_ms_text((int64_t)c->first, first, sizeof(first));
		seq_ms_text((int64_t)c->last, last, sizeof(last));
		cli_error("--from/--to: connection %u (%s) has no event from "
			  "%s to %s ms; its events run from %s to %s ms",
			  id + 1, name, a, b, first, last);
	}
	seq_match_free(&m);
	return rc;
}

static int run_seq(const draw_opts *o, const trace *t, const char *source)
{
	trace_conns cs;
	uint32_t id = 0;
	char name[72];
	int rc = 2;

	if (trace_conns_find(t, &cs) != 0) {
		cli_error("out of memory");
		return 1;
	}
	if (cs.n == 0)
		cli_error("%s: no connection in the trace (a listener is not "
			  "one)",
			  source);
	else if (o->list)
		rc = list_conns(t, &cs);
	else if (!o->conn || select_conn(&cs, o->conn, &id))
		rc = draw_conn(o, t, &cs, id, source);
	if (rc == 0 && !o->list && !o->conn && cs.n > 1) {
		conn_name(&cs.v[0], name, sizeof(name));
		cli_error("drew connection 1 of %zu (%s); --list shows them, "
			  "--conn N draws another",
			  cs.n, name);
	}
	trace_conns_free(&cs);
	return rc;
}

/* ---- states ---- */

/* --host NAME must name a stack of the trace. */
static bool check_host(const trace *t, const char *host)
{
	const char *seen[8];
	size_t n = 0;
	char list[256] = "";

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->ev[i].host, host) == 0)
			return true;
		size_t j = 0;
		while (j < n && seen[j] != t->ev[i].host)
			j++;
		if (j == n && n < 8)
			seen[n++] = t->ev[i].host;
	}
	for (size_t j = 0; j < n; j++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s'%s'",
			 j ? ", " : "", seen[j]);
	}
	cli_error("--host %s: no stack of that name in the trace (it has %s)",
		  host, list);
	return false;
}

/* Counts the state changes the filters keep: false if none. */
static bool count_states(const trace *t, const trace_conns *cs, uint32_t id,
			 const char *host, draw_state_counts *counts)
{
	uint64_t total = 0;

	memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; i < t->n; i++) {
		const trace_event *e = &t->ev[i];
		if (e->kind != TERN_TRACE_STATE ||
		    (host && strcmp(e->host, host) != 0) ||
		    (cs && cs->of[i] != id))
			continue;
		counts->n[e->from][e->to]++;
		total++;
	}
	return total > 0;
}

static int run_states(const draw_opts *o, const trace *t, const char *source)
{
	trace_conns cs = {0};
	uint32_t id = 0;
	draw_state_counts counts;
	char title[512], name[72] = "";
	int rc = 2;

	if (o->host && !check_host(t, o->host))
		return 2;
	if (o->conn && trace_conns_find(t, &cs) != 0) {
		cli_error("out of memory");
		return 1;
	}
	if (o->conn && !select_conn(&cs, o->conn, &id))
		goto out;
	if (o->conn)
		conn_name(&cs.v[id], name, sizeof(name));
	if (!count_states(t, o->conn ? &cs : NULL, id, o->host, &counts)) {
		cli_error("%s: no state changes%s%s%s%s", source,
			  o->host ? " reported by " : "",
			  o->host ? o->host : "", o->conn ? " of " : "", name);
		goto out;
	}
	snprintf(title, sizeof(title), "%s%s%s%s%s", source,
		 o->host ? ", host " : "", o->host ? o->host : "",
		 o->conn ? ", connection " : "", name);
	job j = {.t = t, .counts = &counts, .title = title};
	rc = write_svg(o->out, &j);
out:
	trace_conns_free(&cs);
	return rc;
}

int cmd_draw(int argc, char **argv)
{
	draw_opts o = {0};
	trace t = {0};
	char *source = NULL;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "seq") != 0 && strcmp(argv[1], "states") != 0) {
		cli_error("draw: unknown subcommand '%s'", argv[1]);
		usage(stderr);
		return 2;
	}
	rc = parse(&o, argc, argv);
	if (rc == 0)
		rc = trace_load(&t, o.files, o.nfiles, o.seq);
	if (rc == 0 &&
	    !(source = o.title ? strdup(o.title) : source_name(&o))) {
		cli_error("out of memory");
		rc = 1;
	}
	if (rc == 0)
		rc = o.seq ? run_seq(&o, &t, source)
			   : run_states(&o, &t, source);
	free(source);
	trace_free(&t);
	free(o.files);
	return rc;
}
