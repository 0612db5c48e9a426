/* ss(8)'s filter expressions (ss_filter.h): words split into tokens, a
 * recursive-descent parser into a small array of nodes, and a walk. */
#include <stdio.h>
#include <string.h>

#include <tern/wire.h>

#include "cli.h"
#include "ss_filter.h"

enum { K_PORT, K_HOST, K_AND, K_OR, K_NOT };
enum { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

#define MAX_TOKENS 128
#define MAX_DEPTH 16 /* parentheses and nots within each other */

typedef struct parser {
	char *tok[MAX_TOKENS];
	int n, i, depth;
	char buf[2048];
	ss_expr *e;
} parser;

/* ss's lexer takes '(' ')' and a leading '!' (not "!=") as tokens of
 * their own, glued to a word or not. */
static bool split_word(parser *p, char *w)
{
	while (*w && p->n < MAX_TOKENS) {
		size_t len = strlen(w);
		if (*w == '(' || (*w == '!' && w[1] && w[1] != '=')) {
			static char open[] = "(", bang[] = "!";
			p->tok[p->n++] = *w == '(' ? open : bang;
			w++;
		} else if (w[len - 1] == ')' && len > 1) {
			w[len - 1] = '\0';
			if (!split_word(p, w) || p->n == MAX_TOKENS)
				return false;
			static char close[] = ")";
			p->tok[p->n++] = close;
			return true;
		} else {
			p->tok[p->n++] = w;
			return true;
		}
	}
	return !*w;
}

static bool tokenize(parser *p, char *const *words, int nwords)
{
	size_t used = 0;

	for (int i = 0; i < nwords; i++) {
		size_t len = strlen(words[i]) + 1;
		if (used + len > sizeof(p->buf))
			return false;
		memcpy(p->buf + used, words[i], len);
		char *save, *w = strtok_r(p->buf + used, " \t\n", &save);
		for (; w; w = strtok_r(NULL, " \t\n", &save))
			if (!split_word(p, w))
				return false;
		used += len;
	}
	return true;
}

static const char *peek(const parser *p)
{
	return p->i < p->n ? p->tok[p->i] : "";
}

static bool is(const parser *p, const char *a, const char *b)
{
	return strcmp(peek(p), a) == 0 || (b && strcmp(peek(p), b) == 0);
}

static int add(parser *p, ss_node n)
{
	if (p->e->n == SS_FILTER_NODES) {
		cli_error("ss: the filter is too long");
		return -1;
	}
	p->e->node[p->e->n] = n;
	return p->e->n++;
}

/* =, ==, eq ... as OP_*; -1 if the word is no operator. */
static int op_of(const char *w)
{
	static const char *const ops[][3] = {
		{"=", "==", "eq"}, {"!=", "ne", "neq"}, {"<", "lt", NULL},
		{">", "gt", NULL}, {"<=", "le", NULL},	{">=", "ge", NULL},
	};

	for (int i = 0; i < 6; i++)
		for (int k = 0; k < 3; k++)
			if (ops[i][k] && strcmp(w, ops[i][k]) == 0)
				return i;
	return -1;
}

/* :PORT, :* or * */
static bool parse_port(const char *w, int *port)
{
	uint64_t v;

	*port = -1;
	if (strcmp(w, "*") == 0 || strcmp(w, ":*") == 0)
		return true;
	if (w[0] != ':' || !cli_parse_u64(NULL, w + 1, 65535, &v))
		return false;
	*port = (int)v;
	return true;
}

/* ADDR[/LEN][:PORT], :PORT, ADDR:*, * */
static bool parse_host(const char *w, ss_node *n)
{
	char addr[32];
	const char *colon = strrchr(w, ':'), *slash;
	size_t alen = colon ? (size_t)(colon - w) : strlen(w);
	uint64_t len = 32;

	n->addr = n->mask = 0;
	n->port = -1;
	if (alen >= sizeof(addr) || (colon && !parse_port(colon, &n->port)))
		return false;
	snprintf(addr, sizeof(addr), "%.*s", (int)alen, w);
	if (!alen || strcmp(addr, "*") == 0)
		return true;
	if ((slash = strchr(addr, '/'))) {
		if (!cli_parse_u64(NULL, slash + 1, 32, &len))
			return false;
		addr[slash - addr] = '\0';
	}
	if (tern_addr_parse(addr, &n->addr))
		return false;
	n->mask = len ? ~0u << (32 - len) : 0;
	n->addr &= n->mask;
	return true;
}

static int parse_cond(parser *p)
{
	const char *key = peek(p);
	bool port = !strcmp(key, "dport") || !strcmp(key, "sport");
	ss_node n = {.kind = port ? K_PORT : K_HOST, .peer = key[0] == 'd'};

	if (!*key) {
		cli_error("ss: the filter ends where a condition should be");
		return -1;
	}
	if (!port && strcmp(key, "dst") && strcmp(key, "src")) {
		cli_error("ss: unknown filter '%s' (state, dport, sport, dst, "
			  "src, and, or, not, parentheses)",
			  key);
		return -1;
	}
	p->i++;
	int op = op_of(peek(p));
	if (op >= 0)
		p->i++;
	n.op = op < 0 ? OP_EQ : (uint8_t)op;
	if (!port && n.op > OP_NE) {
		cli_error("ss: %s: only = or != compare addresses", key);
		return -1;
	}
	if (port ? !parse_port(peek(p), &n.port) : !parse_host(peek(p), &n)) {
		cli_error("ss: %s: expected %s", key,
			  port ? ":PORT" : "ADDR[/LEN][:PORT]");
		return -1;
	}
	p->i++;
	return add(p, n);
}

static int parse_expr(parser *p);

static int parse_factor(parser *p)
{
	int r;

	if (p->depth++ == MAX_DEPTH) {
		cli_error("ss: the filter nests too deep");
		return -1;
	}
	if (is(p, "not", "!")) {
		p->i++;
		r = parse_factor(p);
		r = r < 0 ? r : add(p, (ss_node){.kind = K_NOT, .a = r});
	} else if (is(p, "(", NULL)) {
		p->i++;
		r = parse_expr(p);
		if (r >= 0 && !is(p, ")", NULL)) {
			cli_error("ss: expected ')' at '%s'", peek(p));
			r = -1;
		}
		p->i++;
	} else {
		r = parse_cond(p);
	}
	p->depth--;
	return r;
}

/* A word that ends a term: nothing more, or, or a closing parenthesis. */
static bool term_ends(const parser *p)
{
	return p->i >= p->n || is(p, "or", "||") || is(p, ")", NULL);
}

static int parse_term(parser *p)
{
	int l = parse_factor(p);

	while (l >= 0 && !term_ends(p)) {
		if (is(p, "and", "&&"))
			p->i++;
		int r = parse_factor(p);
		l = r < 0 ? r
			  : add(p, (ss_node){.kind = K_AND, .a = l, .b = r});
	}
	return l;
}

static int parse_expr(parser *p)
{
	int l = parse_term(p);

	while (l >= 0 && is(p, "or", "||")) {
		p->i++;
		int r = parse_term(p);
		l = r < 0 ? r : add(p, (ss_node){.kind = K_OR, .a = l, .b = r});
	}
	return l;
}

int ss_expr_parse(ss_expr *e, char *const *words, int nwords)
{
	static parser p;

	memset(&p, 0, sizeof(p));
	memset(e, 0, sizeof(*e));
	e->root = -1;
	p.e = e;
	if (!tokenize(&p, words, nwords)) {
		cli_error("ss: the filter is too long");
		return 2;
	}
	if (p.n == 0)
		return 0;
	e->root = parse_expr(&p);
	if (e->root >= 0 && p.i < p.n) {
		cli_error("ss: unexpected '%s' in the filter", peek(&p));
		e->root = -1;
		return 2;
	}
	return e->root < 0 ? 2 : 0;
}

static bool compare(int op, int a, int b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_GT:
		return a > b;
	case OP_LE:
		return a <= b;
	default:
		return a >= b;
	}
}

static bool cond_match(const ss_node *n, const ss_ends *c)
{
	int port = n->peer ? c->rport : c->lport;
	uint32_t addr = n->peer ? c->raddr : c->laddr;

	if (n->kind == K_PORT)
		return n->port < 0 ? n->op != OP_NE
				   : compare(n->op, port, n->port);
	bool match =
		(addr & n->mask) == n->addr && (n->port < 0 || port == n->port);
	return n->op == OP_NE ? !match : match;
}

static bool eval(const ss_expr *e, int i, const ss_ends *c)
{
	const ss_node *n = &e->node[i];

	switch (n->kind) {
	case K_AND:
		return eval(e, n->a, c) && eval(e, n->b, c);
	case K_OR:
		return eval(e, n->a, c) || eval(e, n->b, c);
	case K_NOT:
		return !eval(e, n->a, c);
	default:
		return cond_match(n, c);
	}
}

bool ss_expr_match(const ss_expr *e, const ss_ends *c)
{
	return e->root < 0 || eval(e, e->root, c);
}
