/* tern stat --control PATH [-a] [-z] [-r] [--json] [--history FILE]:
 * a running tern's counters, the way nstat shows the kernel's: by default
 * what changed since the last call, whose values a history file keeps. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

typedef struct stat_opts {
	const char *control, *history;
	bool absolute, zeros, reset, json;
} stat_opts;

typedef struct counter {
	char name[64];
	uint64_t value, last; /* now, and in the history (0: not there) */
} counter;

typedef struct table {
	counter *v;
	size_t n, cap;
} table;

/* The whole response must come within this. */
#define QUERY_TIMEOUT_MS 5000
#define RESPONSE_MAX (16 << 20) /* ss: CONTROL_SS_MAX lines */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern stat --control PATH [-a] [-z] [-r] [--json] "
		"[--history FILE]\n\n"
		"  --control PATH   the control socket of a running tern "
		"serve/connect\n"
		"  -a               absolute values (not the change since the "
		"last call)\n"
		"  -z               also the counters that are zero\n"
		"  -r               reset the history (print absolute values)\n"
		"  --json           the raw JSON (as --stats writes it)\n"
		"  --history FILE   where the last values are kept (default\n"
		"                   $TMPDIR/tern-stat-UID-HASH, HASH of "
		"PATH)\n");
}

static int parse_stat(stat_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-a") == 0)
			o->absolute = true;
		else if (strcmp(a, "-z") == 0)
			o->zeros = true;
		else if (strcmp(a, "-r") == 0)
			o->reset = true;
		else if (strcmp(a, "--json") == 0)
			o->json = true;
		else if (strcmp(a, "--control") == 0 ||
			 strcmp(a, "--history") == 0) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				cli_error("%s needs a value", a);
				return 2;
			}
			*(a[2] == 'c' ? &o->control : &o->history) = argv[++i];
		} else {
			cli_error("stat: unknown option '%s'", a);
			return 2;
		}
	}
	if (!o->control) {
		cli_error("stat: which tern? (--control PATH)");
		return 2;
	}
	if (strlen(o->control) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		cli_error("--control: the path is too long for a socket");
		return 2;
	}
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 &&
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	cli_error("--control %s: cannot connect: %s (is tern running with "
		  "--control?)",
		  path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Reads until the server closes, the time is up, or too much came. */
static char *read_all(int fd, const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, QUERY_TIMEOUT_MS) <= 0) {
			cli_error("--control %s: no response", path);
			break;
		}
		if (len + 1 == cap)
			buf = cap < RESPONSE_MAX ? realloc(buf, cap *= 2)
						 : NULL;
		ssize_t n = buf ? read(fd, buf + len, cap - 1 - len) : -1;
		/* The server closed with our request unread (ERR busy): the
		 * response came all the same. */
		if (n < 0 && errno == ECONNRESET && len > 0)
			n = 0;
		if (n == 0) {
			buf[len] = '\0';
			return buf;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("--control %s: %s", path,
				  buf ? strerror(errno) : "response too long");
			break;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

char *cli_control_query(const char *path, const char *request)
{
	return cli_control_query_from(path, request, NULL);
}

char *cli_control_query_from(const char *path, const char *request,
			     struct ucred *server)
{
	int fd = connect_to(path);
	char line[256];
	char *resp = NULL;
	socklen_t len_cred = sizeof(*server);

	if (fd < 0)
		return NULL;
	/* the process that answers: the kernel says who it is */
	if (server &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, server, &len_cred) != 0)
		memset(server, 0, sizeof(*server));
	int len = snprintf(line, sizeof(line), "%s\n", request);
	ssize_t sent = send(fd, line, (size_t)len, MSG_NOSIGNAL);
	/* A server that refused us (ERR busy) may have closed before our
	 * request went: its answer is still there to read. */
	if (sent == len ||
	    (sent < 0 && (errno == EPIPE || errno == ECONNRESET)))
		resp = read_all(fd, path);
	else
		cli_error("--control %s: %s", path, strerror(errno));
	close(fd);
	if (resp && strncmp(resp, "OK\n", 3) == 0) {
		memmove(resp, resp + 3, strlen(resp + 3) + 1);
		return resp;
	}
	if (resp)
		cli_error("--control %s: %.*s", path, (int)strcspn(resp, "\n"),
			  resp);
	free(resp);
	return NULL;
}

static counter *table_find(table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 128;
		counter *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	counter *c = &t->v[t->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

/* The names a counter takes in this listing: the stack's counters keep
 * their netstat-style names, drop reasons and the device's counters get
 * a prefix (docs/CONTROL.md). */
static const char *group_prefix(const char *group)
{
	if (strcmp(group, "counters") == 0)
		return "";
	if (strcmp(group, "drops") == 0)
		return "TernDrop_";
	if (strcmp(group, "link") == 0)
		return "TernLink_";
	return NULL;
}

/* Whole numbers up to 2^53 are exact in a JSON reader's doubles: more
 * than any counter reaches (2^53 bytes is 8 PiB). */
#define JSON_EXACT_MAX 9007199254740992.0

/* One group's members: whole numbers are counters; true/false (the link's
 * "offload") are not. */
static bool read_group(const cJSON *g, table *t, const char *prefix)
{
	const cJSON *m;
	char full[96];

	if (!cJSON_IsObject(g))
		return false;
	cJSON_ArrayForEach(m, g)
	{
		if (cJSON_IsBool(m))
			continue;
		double v = m->valuedouble;
		if (!cJSON_IsNumber(m) || !(v >= 0 && v <= JSON_EXACT_MAX) ||
		    v != (double)(uint64_t)v || strlen(m->string) > 63)
			return false;
		snprintf(full, sizeof(full), "%s%s", prefix, m->string);
		counter *c = table_find(t, full);
		if (!c)
			return false;
		c->value = (uint64_t)v;
	}
	return true;
}

/* The shape tern_stats_json writes: an object of groups ("counters",
 * "drops", "link"). Our own output, but checked all the same: any other
 * shape is refused. */
static bool read_stats(const char *json, table *t)
{
	cJSON *root = cJSON_ParseWithOpts(json, NULL, true);
	const cJSON *g;
	bool ok = cJSON_IsObject(root);

	if (!ok)
		root = (cJSON_Delete(root), NULL);
	cJSON_ArrayForEach(g, root)
	{
		const char *prefix = group_prefix(g->string);
		if (!prefix || !read_group(g, t, prefix)) {
			ok = false;
			break;
		}
	}
	cJSON_Delete(root);
	return ok;
}

/* Every counter the stack has, zero or not, in their order (the JSON
 * leaves zeros out). */
static bool table_init(table *t)
{
	char name[64];

	for (int i = 0; i < TERN_CTR_COUNT; i++)
		if (!table_find(t, tern_counter_name(i)))
			return false;
	for (int i = 1; i < TERN_DROP_COUNT; i++) {
		snprintf(name, sizeof(name), "TernDrop_%s",
			 tern_drop_reason_name(i));
		if (!table_find(t, name))
			return false;
	}
	return true;
}

/* FNV-1a 64: the default history file's name from the socket's path, so
 * that two terns' histories never mix. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3u;
	return h;
}

static void history_path(const stat_opts *o, char *out, size_t size)
{
	const char *dir = getenv("TMPDIR");

	if (o->history) {
		snprintf(out, size, "%s", o->history);
		return;
	}
	snprintf(out, size, "%s/tern-stat-%u-%016llx",
		 dir && *dir ? dir : "/tmp", (unsigned)getuid(),
		 (unsigned long long)fnv1a(o->control));
}

static tern_time wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (tern_time)ts.tv_sec * TERN_SEC + (tern_time)ts.tv_nsec;
}

/* "#tern TIME_NS" then "Name value" lines; returns when it was saved (0:
 * no usable history, which shows everything as new). */
static tern_time history_load(const char *path, table *t)
{
	FILE *f = fopen(path, "re");
	char name[64];
	unsigned long long v, when = 0;

	if (!f)
		return 0;
	if (fscanf(f, "#tern %llu", &when) != 1)
		when = 0;
	while (when && fscanf(f, "%63s %llu", name, &v) == 2) {
		counter *c = table_find(t, name);
		if (c)
			c->last = v;
	}
	fclose(f);
	return (tern_time)when;
}

/* Written aside and renamed, so that a reader never sees half a file. */
static bool history_save(const char *path, const table *t, tern_time now)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	int fd =
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool ok = f != NULL;

	if (ok) {
		fprintf(f, "#tern %llu\n", (unsigned long long)now);
		for (size_t i = 0; i < t->n; i++)
			fprintf(f, "%s %llu\n", t->v[i].name,
				(unsigned long long)t->v[i].value);
		ok = fclose(f) == 0;
	} else if (fd >= 0) {
		close(fd);
	}
	if (ok && rename(tmp, path) == 0)
		return true;
	cli_error("--history: cannot write '%s': %s", path, strerror(errno));
	unlink(tmp);
	return false;
}

/* nstat's columns: name, value, and the rate per second since the
 * history was saved (0.0 without one). */
static void print_table(const stat_opts *o, const table *t, double interval)
{
	printf("#tern\n");
	for (size_t i = 0; i < t->n; i++) {
		const counter *c = &t->v[i];
		/* a tern that restarted counts from 0 again */
		uint64_t delta =
			c->value >= c->last ? c->value - c->last : c->value;
		uint64_t shown = o->absolute ? c->value : delta;
		if (!shown && !o->zeros)
			continue;
		printf("%-32s%-16llu%6.1f\n", c->name,
		       (unsigned long long)shown,
		       interval > 0 ? (double)delta / interval : 0.0);
	}
}

int cmd_stat(int argc, char **argv)
{
	stat_opts o = {0};
	table t = {0};
	char hist[4096];

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	int rc = parse_stat(&o, argc, argv);
	if (rc)
		return rc;
	char *json = cli_control_query(o.control, "stats");
	if (!json)
		return 1;
	if (o.json) {
		fputs(json, stdout);
		free(json);
		return 0;
	}
	history_path(&o, hist, sizeof(hist));
	rc = 1;
	if (table_init(&t) && read_stats(json, &t)) {
		tern_time now = wall_clock();
		tern_time then = o.reset ? 0 : history_load(hist, &t);
		print_table(&o, &t,
			    then && now > then ? (double)(now - then) / TERN_SEC
					       : 0.0);
		rc = history_save(hist, &t, now) ? 0 : 1;
	} else {
		cli_error("--control %s: a response tern stat cannot read",
			  o.control);
	}
	free(json);
	free(t.v);
	return rc;
}
