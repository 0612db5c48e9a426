/* tern ss --control PATH [options] [FILTER]: a running tern's
 * connections, in ss(8)'s columns, from the control socket's `ss`
 * request; filters are applied here, and -K sends `kill ID...`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "ss_filter.h"

/* Linux's names (ss's sstate_name), indexed by TERN_TCP_*, and the
 * names a `state` filter takes (ss's sstate_namel). */
static const struct {
	const char *tern, *col, *filter;
} states[] = {
	{"CLOSED", "UNCONN", "closed"},
	{"LISTEN", "LISTEN", "listening"},
	{"SYN_SENT", "SYN-SENT", "syn-sent"},
	{"SYN_RECEIVED", "SYN-RECV", "syn-recv"},
	{"ESTABLISHED", "ESTAB", "established"},
	{"FIN_WAIT_1", "FIN-WAIT-1", "fin-wait-1"},
	{"FIN_WAIT_2", "FIN-WAIT-2", "fin-wait-2"},
	{"CLOSE_WAIT", "CLOSE-WAIT", "close-wait"},
	{"CLOSING", "CLOSING", "closing"},
	{"LAST_ACK", "LAST-ACK", "last-ack"},
	{"TIME_WAIT", "TIME-WAIT", "time-wait"},
};
#define NSTATES (int)(sizeof(states) / sizeof(states[0]))
#define BIT(name) (1u << (name))
enum { S_CLOSED, S_LISTEN, S_SYN_SENT, S_SYN_RECV, S_ESTAB, S_TIME_WAIT = 10 };
#define ALL_STATES ((1u << NSTATES) - 1)

typedef struct ss_opts {
	const char *control;
	bool all, listening, options, info, summary, no_header, kill;
	bool extended, memory, processes, oneline;
	struct ucred server; /* who answered (for -e and -p) */
	char comm[32];	     /* its name (for -p) */
	unsigned states;     /* from `state` filters, 0: by -a/-l */
	unsigned exclude;    /* from `exclude` filters */
	ss_expr expr;
} ss_opts;

typedef struct row {
	unsigned long long id;
	int state;
	uint32_t laddr, raddr;
	int lport, rport;
	char line[1024]; /* the server's line, for -o and -i */
} row;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern ss --control PATH [-t] [-a|-l] [-n] [-o] [-i] "
		"[-m] [-e] [-p] [-O]\n"
		"               [-s] [-H] [-K] [FILTER]\n\n"
		"  -a all, -l listening only (default: not listening), -o "
		"timers, -i TCP\n"
		"  internals, -m socket memory, -e uid and sk (the id -K "
		"takes), -p the\n"
		"  process, -O one line each, -s summary, -H no header, -K "
		"reset what\n"
		"  matches; -t, -n and -4 are accepted (TCP, numeric and IPv4 "
		"are all\n"
		"  there is).\n"
		"FILTER: ['state NAME'...] ['exclude NAME'...] [EXPRESSION], "
		"as in ss:\n"
		"  'dport|sport [OP] :PORT', 'dst|src [=|!=] "
		"ADDR[/LEN][:PORT]', joined by\n"
		"  and (or nothing), or, not, and parentheses; OP is = == eq "
		"!= ne neq\n"
		"  < lt > gt <= le >= ge.\n");
}

static int state_index(const char *tern_name)
{
	for (int i = 0; i < NSTATES; i++)
		if (strcmp(states[i].tern, tern_name) == 0)
			return i;
	return -1;
}

/* A state name or one of ss's groups: the set, 0 if unknown. */
static unsigned state_set(const char *name)
{
	unsigned bucket = BIT(S_SYN_RECV) | BIT(S_TIME_WAIT);
	unsigned connected = ALL_STATES & ~(BIT(S_LISTEN) | BIT(S_CLOSED));

	for (int i = 0; i < NSTATES; i++)
		if (strcmp(states[i].filter, name) == 0)
			return BIT(i);
	if (strcmp(name, "all") == 0)
		return ALL_STATES;
	if (strcmp(name, "connected") == 0)
		return connected;
	if (strcmp(name, "synchronized") == 0)
		return connected & ~BIT(S_SYN_SENT);
	if (strcmp(name, "bucket") == 0)
		return bucket;
	if (strcmp(name, "big") == 0)
		return ALL_STATES & ~bucket;
	return 0;
}

/* A.B.C.D:PORT, as the server writes an end. */
static bool parse_end(const char *text, uint32_t *addr, int *port)
{
	char buf[32];
	const char *colon = strrchr(text, ':');
	uint64_t v;

	if (!colon || (size_t)(colon - text) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)(colon - text), text);
	if (tern_addr_parse(buf, addr) ||
	    !cli_parse_u64(NULL, colon + 1, 65535, &v))
		return false;
	*port = (int)v;
	return true;
}

/* ss's FILTER: `state NAME` and `exclude NAME` first (several add up;
 * ss's groups too), then an expression (ss_filter.h). */
static int parse_filter(ss_opts *o, char **tok, int n)
{
	int i = 0;

	while (i < n &&
	       (!strcmp(tok[i], "state") || !strcmp(tok[i], "exclude"))) {
		unsigned set = i + 1 < n ? state_set(tok[i + 1]) : 0;
		if (!set) {
			cli_error("ss: %s: unknown state '%s'", tok[i],
				  i + 1 < n ? tok[i + 1] : "");
			return 2;
		}
		*(tok[i][0] == 's' ? &o->states : &o->exclude) |= set;
		i += 2;
	}
	for (int k = i; k < n; k++)
		if (!strcmp(tok[k], "state") || !strcmp(tok[k], "exclude")) {
			cli_error("ss: '%s' comes before the expression, as in "
				  "ss",
				  tok[k]);
			return 2;
		}
	return ss_expr_parse(&o->expr, tok + i, n - i);
}

static bool short_flags(ss_opts *o, const char *a)
{
	for (const char *p = a + 1; *p; p++) {
		switch (*p) {
		case 't':
		case 'n':
		case '4':
			break;
		case 'a':
			o->all = true;
			break;
		case 'l':
			o->listening = true;
			break;
		case 'o':
			o->options = true;
			break;
		case 'i':
			o->info = true;
			break;
		case 's':
			o->summary = true;
			break;
		case 'H':
			o->no_header = true;
			break;
		case 'K':
			o->kill = true;
			break;
		case 'e':
			o->extended = true;
			break;
		case 'm':
			o->memory = true;
			break;
		case 'p':
			o->processes = true;
			break;
		case 'O':
			o->oneline = true;
			break;
		default:
			cli_error("ss: option '-%c' is not supported", *p);
			return false;
		}
	}
	return true;
}

static int parse_ss(ss_opts *o, int argc, char **argv)
{
	static const char *const longs[][2] = {
		{"--tcp", "-t"},       {"--numeric", "-n"},
		{"--all", "-a"},       {"--listening", "-l"},
		{"--options", "-o"},   {"--info", "-i"},
		{"--summary", "-s"},   {"--no-header", "-H"},
		{"--kill", "-K"},      {"--ipv4", "-4"},
		{"--extended", "-e"},  {"--memory", "-m"},
		{"--processes", "-p"}, {"--oneline", "-O"},
	};
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		for (size_t k = 0; k < sizeof(longs) / sizeof(longs[0]); k++)
			if (strcmp(a, longs[k][0]) == 0)
				a = longs[k][1];
		if (strcmp(a, "--control") == 0) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				cli_error("--control needs a value");
				return 2;
			}
			o->control = argv[++i];
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (a[1] == '-' || !short_flags(o, a)) {
			if (a[1] == '-')
				cli_error("ss: unknown option '%s'", a);
			return 2;
		}
	}
	if (!o->control) {
		cli_error("ss: which tern? (--control PATH)");
		return 2;
	}
	/* ss takes the filter as words or as one quoted string */
	static char words[1024];
	char *tok[64];
	int n = 0;
	size_t used = 0;
	for (; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;
		if (used + len > sizeof(words))
			break;
		memcpy(words + used, argv[i], len);
		for (char *save, *w = strtok_r(words + used, " \t", &save);
		     w && n < 64; w = strtok_r(NULL, " \t", &save))
			tok[n++] = w;
		used += len;
	}
	if (i < argc || n == 64) {
		cli_error("ss: the filter is too long");
		return 2;
	}
	return parse_filter(o, tok, n);
}

/* The value of `key=` in a server line, copied to buf ("" if none). */
static const char *field(const char *line, const char *key, char *buf,
			 size_t size)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *p = line; p && *p; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \n");
			if (n >= size)
				n = size - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			break;
		}
	}
	return buf;
}

static unsigned long long num(const char *line, const char *key)
{
	char buf[32];
	return strtoull(field(line, key, buf, sizeof(buf)), NULL, 10);
}

static bool parse_row(const char *line, row *r)
{
	char buf[64];

	snprintf(r->line, sizeof(r->line), "%s", line);
	r->id = num(line, "id");
	r->state = state_index(field(line, "state", buf, sizeof(buf)));
	return r->state >= 0 &&
	       parse_end(field(line, "local", buf, sizeof(buf)), &r->laddr,
			 &r->lport) &&
	       parse_end(field(line, "remote", buf, sizeof(buf)), &r->raddr,
			 &r->rport);
}

static bool selected(const ss_opts *o, const row *r)
{
	unsigned set = o->states;

	if (!set)
		set = o->all	     ? ALL_STATES
		      : o->listening ? BIT(S_LISTEN)
				     : ALL_STATES & ~BIT(S_LISTEN);
	if (!(set & ~o->exclude & BIT(r->state)))
		return false;
	ss_ends ends = {r->laddr, r->raddr, r->lport, r->rport};
	return ss_expr_match(&o->expr, &ends);
}

/* ss's print_ms_timer: "1min", "2.500ms" ... as ss shows them. */
static void ms_timer(char *buf, size_t size, unsigned long long ms)
{
	unsigned long long min = ms / 60000, sec = ms / 1000 % 60,
			   msec = ms % 1000;
	size_t n = 0;

	buf[0] = '\0';
	if (min) {
		msec = 0;
		n += (size_t)snprintf(buf, size, "%llumin", min);
		if (min > 9)
			sec = 0;
	}
	if (sec) {
		if (sec > 9)
			msec = 0;
		n += (size_t)snprintf(buf + n, size - n, "%llu%s", sec,
				      msec ? "." : "sec");
	}
	if (msec)
		snprintf(buf + n, size - n, "%03llums", msec);
}

/* -p: the process that holds every connection, tern itself (its
 * connections are no descriptors of its own: no fd=). */
static void print_process(const ss_opts *o)
{
	if (o->server.pid)
		printf(" users:((\"%s\",pid=%d))", o->comm, (int)o->server.pid);
}

/* -e: the owner's uid, no inode (no kernel socket), and the connection's
 * id as sk (what kill takes). */
static void print_extended(const ss_opts *o, const row *r)
{
	printf(" uid:%u ino:0 sk:%llx", (unsigned)o->server.uid, r->id);
}

/* -m: ss's skmem from the buffers' use and sizes: r/rb the receive side,
 * t/tb and w the send side; tern keeps no other kinds. */
static void print_memory(const row *r, const char *sep)
{
	char b[64];
	unsigned long long su = 0, ss = 0, ru = 0, rs = 0;

	if (!*field(r->line, "snd_buf", b, sizeof(b)))
		return;
	sscanf(b, "%llu/%llu", &su, &ss);
	sscanf(field(r->line, "rcv_buf", b, sizeof(b)), "%llu/%llu", &ru, &rs);
	printf("%sskmem:(r%llu,rb%llu,t%llu,tb%llu,f0,w%llu,o0,bl0,d0)", sep,
	       ru, rs, su, ss, su);
}

static void print_info(const row *r, const char *sep)
{
	char b[64];
	unsigned long long mss = num(r->line, "mss");
	unsigned long long ss = num(r->line, "ssthresh");

	if (!*field(r->line, "cc", b, sizeof(b)))
		return;
	mss = mss ? mss : 1;
	printf("%s%s rto:%g rtt:%g/%g mss:%llu cwnd:%llu", sep, b,
	       num(r->line, "rto_us") / 1000.0, num(r->line, "rtt_us") / 1000.0,
	       num(r->line, "rttvar_us") / 1000.0, mss,
	       num(r->line, "cwnd") / mss);
	if (ss < 0x7fffffffull)
		printf(" ssthresh:%llu", ss / mss);
	printf(" bytes_acked:%llu bytes_received:%llu retrans:%llu/%llu",
	       num(r->line, "bytes_acked"), num(r->line, "bytes_received"),
	       num(r->line, "retrans"), num(r->line, "total_retrans"));
	printf(" snd_buf:%s", field(r->line, "snd_buf", b, sizeof(b)));
	printf(" rcv_buf:%s", field(r->line, "rcv_buf", b, sizeof(b)));
}

/* After the columns, in ss's order: -p, -o, -e on the row's line, then
 * -m and -i on lines of their own (on the same line with -O). */
static void print_extras(const ss_opts *o, const row *r)
{
	const char *sep = o->oneline ? " " : "\n\t ";
	char b[64], t[32];

	if (o->processes)
		print_process(o);
	if (o->options &&
	    strcmp(field(r->line, "timer", b, sizeof(b)), "off")) {
		ms_timer(t, sizeof(t), num(r->line, "expires_ms"));
		printf(" timer:(%s,%s,%llu)", b, t,
		       num(r->line, "timer_count"));
	}
	if (o->extended)
		print_extended(o, r);
	if (o->memory)
		print_memory(r, sep);
	if (o->info)
		print_info(r, sep);
	putchar('\n');
}

static void print_row(const ss_opts *o, const row *r)
{
	char b[64], local[32], peer[32];

	snprintf(local, sizeof(local), "%s",
		 field(r->line, "local", b, sizeof(b)));
	snprintf(peer, sizeof(peer), "%s",
		 field(r->line, "remote", b, sizeof(b)));
	if (r->state == S_LISTEN)
		snprintf(peer, sizeof(peer), "0.0.0.0:*");
	printf("%-11s %6llu %6llu %21s %21s", states[r->state].col,
	       num(r->line, "recvq"), num(r->line, "sendq"), local, peer);
	print_extras(o, r);
}

static void summary(row *rows, size_t n)
{
	size_t count[NSTATES] = {0}, orphans = 0;

	for (size_t i = 0; i < n; i++) {
		count[rows[i].state]++;
		orphans += num(rows[i].line, "orphan") != 0;
	}
	printf("Total: %zu\n", n);
	printf("TCP:   %zu (estab %zu, closed %zu, orphaned %zu, timewait "
	       "%zu)\n\n",
	       n, count[S_ESTAB], count[S_CLOSED], orphans, count[S_TIME_WAIT]);
	printf("%-11s %s\n", "State", "Count");
	for (int s = 0; s < NSTATES; s++)
		if (count[s])
			printf("%-11s %zu\n", states[s].col, count[s]);
}

/* -K: the ids go in requests under 255 bytes; a row is printed once its
 * connection is reset (as ss -K prints what it closed). */
static int kill_rows(const ss_opts *o, row **sel, size_t n)
{
	int status = 0;

	for (size_t i = 0; i < n;) {
		char req[240] = "kill";
		size_t len = 4, first = i;
		while (i < n && len < sizeof(req) - 24)
			len += (size_t)snprintf(req + len, sizeof(req) - len,
						" %llu", sel[i++]->id);
		char *resp = cli_control_query(o->control, req);
		if (!resp)
			return 1;
		for (size_t k = first; k < i; k++) {
			char want[40];
			snprintf(want, sizeof(want), "%llu ok\n", sel[k]->id);
			if (strstr(resp, want))
				print_row(o, sel[k]);
			else
				status = 1;
		}
		free(resp);
	}
	return status;
}

static int list_rows(const ss_opts *o, row *rows, size_t n)
{
	row **sel = calloc(n ? n : 1, sizeof(*sel));
	size_t m = 0;
	int status = 0;

	if (!sel)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (selected(o, &rows[i]))
			sel[m++] = &rows[i];
	if (!o->no_header)
		printf("%-11s %6s %6s %21s %21s\n", "State", "Recv-Q", "Send-Q",
		       "Local Address:Port", "Peer Address:Port");
	if (o->kill)
		status = kill_rows(o, sel, m);
	else
		for (size_t i = 0; i < m; i++)
			print_row(o, sel[i]);
	free(sel);
	return status;
}

/* The answering process's name, as ss shows it (its comm). */
static void process_name(ss_opts *o)
{
	char path[64];
	FILE *f;

	snprintf(o->comm, sizeof(o->comm), "tern");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)o->server.pid);
	if (o->server.pid && (f = fopen(path, "r"))) {
		if (fgets(o->comm, sizeof(o->comm), f))
			o->comm[strcspn(o->comm, "\n")] = '\0';
		fclose(f);
	}
}

int cmd_ss(int argc, char **argv)
{
	ss_opts o = {0};
	int r = parse_ss(&o, argc, argv);

	if (r)
		return r;
	char *body = cli_control_query_from(o.control, "ss", &o.server);
	if (!body)
		return 1;
	process_name(&o);
	size_t n = 0, cap = 64;
	row *rows = malloc(cap * sizeof(*rows));
	for (char *save, *line = strtok_r(body, "\n", &save); rows && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			rows = realloc(rows, (cap *= 2) * sizeof(*rows));
		if (rows && strncmp(line, "id=", 3) == 0 &&
		    parse_row(line, &rows[n]))
			n++;
	}
	free(body);
	if (!rows) {
		cli_error("ss: out of memory");
		return 1;
	}
	r = o.summary ? (summary(rows, n), 0) : list_rows(&o, rows, n);
	free(rows);
	return r;
}
