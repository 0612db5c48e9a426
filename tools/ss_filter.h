/* ss(8)'s filter expressions, for `tern ss`: conditions on the ports and
 * addresses of a connection, combined with and, or, not and parentheses,
 * in ss's grammar (its ssfilter.y):
 *
 *   EXPR   := TERM { (or | '||') TERM }
 *   TERM   := FACTOR { [and | '&&'] FACTOR }
 *   FACTOR := (not | '!') FACTOR | '(' EXPR ')' | COND
 *   COND   := (dport | sport) [OP] :PORT
 *           | (dst | src) [= | == | eq | != | ne | neq] ADDR[/LEN][:PORT]
 *   OP     := = == eq != ne neq < lt > gt <= le >= ge
 *
 * `dport`/`dst` are the peer's, `sport`/`src` ours; `*` stands for any
 * address or port. State filters (`state NAME`) are cmd_ss.c's. */
#ifndef TERN_TOOLS_SS_FILTER_H
#define TERN_TOOLS_SS_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#define SS_FILTER_NODES 64

/* What a filter looks at. */
typedef struct ss_ends {
	uint32_t laddr, raddr;
	int lport, rport;
} ss_ends;

typedef struct ss_node {
	uint8_t kind; /* enum in ss_filter.c */
	uint8_t op;
	bool peer;     /* dport/dst: the peer's end */
	uint32_t addr; /* dst/src: the network, under mask */
	uint32_t mask;
	int port; /* -1: any */
	int a, b; /* and/or: both sides; not: a */
} ss_node;

typedef struct ss_expr {
	ss_node node[SS_FILTER_NODES];
	int n, root; /* root -1: no expression, everything matches */
} ss_expr;

/* Parses the words of an expression (as the shell gave them: several
 * words or one quoted string; parentheses and '!' may be glued to a
 * word). 0, or 2 (the exit status) with the reason printed. */
int ss_expr_parse(ss_expr *e, char *const *words, int nwords);
bool ss_expr_match(const ss_expr *e, const ss_ends *c);

#endif
