/* Loading JSON Lines traces (the format of src/trace/json.c) with
 * cJSON, one line at a time; and finding the connections in them. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <tern/wire.h>

#include "cli.h"
#include "trace_load.h"

/* ---- interned strings: host names, causes and reasons repeat on
 * every line; each is kept once (open addressing, FNV-1a). ---- */

struct trace_strings {
	char **slot;
	size_t cap, n; /* cap: a power of two */
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool strings_grow(trace_strings *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	char **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return false;
	for (size_t i = 0; i < p->cap; i++) {
		if (!p->slot[i])
			continue;
		size_t j = fnv1a(p->slot[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = p->slot[i];
	}
	free(p->slot);
	p->slot = slot;
	p->cap = cap;
	return true;
}

static const char *intern(trace_strings *p, const char *s)
{
	if (2 * (p->n + 1) > p->cap && !strings_grow(p))
		return NULL;
	size_t j = fnv1a(s) & (p->cap - 1);
	for (; p->slot[j]; j = (j + 1) & (p->cap - 1))
		if (strcmp(p->slot[j], s) == 0)
			return p->slot[j];
	p->slot[j] = strdup(s);
	if (p->slot[j])
		p->n++;
	return p->slot[j];
}

static void strings_free(trace_strings *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++)
		free(p->slot[i]);
	free(p->slot);
	free(p);
}

/* ---- endpoints ---- */

bool trace_endpoint_parse(const char *text, tern_endpoint *e)
{
	char addr[16];
	const char *colon = strchr(text, ':'), *p;
	unsigned long port = 0;

	if (!colon || (size_t)(colon - text) >= sizeof(addr))
		return false;
	memcpy(addr, text, (size_t)(colon - text));
	addr[colon - text] = '\0';
	/* 1 to 5 digits, no sign, no space */
	for (p = colon + 1; *p >= '0' && *p <= '9' && p - colon <= 5; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || port > UINT16_MAX ||
	    tern_addr_parse(addr, &e->addr) != 0)
		return false;
	e->port = (uint16_t)port;
	return true;
}

void trace_endpoint_format(const tern_endpoint *e, char *buf, size_t size)
{
	char a[16];

	snprintf(buf, size, "%s:%u", tern_addr_format(e->addr, a, sizeof(a)),
		 (unsigned)e->port);
}

bool trace_endpoint_eq(const tern_endpoint *a, const tern_endpoint *b)
{
	return a->addr == b->addr && a->port == b->port;
}

/* ---- one line ---- */

/* Why a line is refused: the reason, for "FILE:LINE: reason". */
typedef struct why {
	char text[160];
} why;

static bool refuse(why *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool refuse(why *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->text, sizeof(w->text), fmt, ap);
	va_end(ap);
	return false;
}

static const cJSON *field(const cJSON *o, const char *key, why *w)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		refuse(w, "no \"%s\"", key);
	return v;
}

static bool get_str(const cJSON *o, const char *key, const char **out, why *w)
{
	const cJSON *v = field(o, key, w);

	if (!v)
		return false;
	if (!cJSON_IsString(v))
		return refuse(w, "\"%s\" is not a string", key);
	*out = v->valuestring;
	return true;
}

/* A whole number from 0 to max (at most 2^53, what a double holds
 * exactly). */
static bool get_uint(const cJSON *o, const char *key, uint64_t max,
		     uint64_t *out, why *w)
{
	const cJSON *v = field(o, key, w);

	if (!v)
		return false;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(d >= 0 && d <= (double)max && d == floor(d)))
		return refuse(w, "\"%s\" is not a whole number from 0 to %llu",
			      key, (unsigned long long)max);
	*out = (uint64_t)d;
	return true;
}

static bool get_u32(const cJSON *o, const char *key, uint32_t *out, why *w)
{
	uint64_t v;

	if (!get_uint(o, key, UINT32_MAX, &v, w))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool get_u16(const cJSON *o, const char *key, uint16_t *out, why *w)
{
	uint64_t v;

	if (!get_uint(o, key, UINT16_MAX, &v, w))
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool get_endpoint(const cJSON *o, const char *key, tern_endpoint *e,
			 why *w)
{
	const char *s;

	if (!get_str(o, key, &s, w))
		return false;
	if (!trace_endpoint_parse(s, e))
		return refuse(w, "\"%s\": '%.40s' is not ADDR:PORT", key, s);
	return true;
}

static bool get_state(const cJSON *o, const char *key, uint8_t *out, why *w)
{
	const char *s;

	if (!get_str(o, key, &s, w))
		return false;
	for (int i = 0; i < TERN_TCP_STATE_COUNT; i++) {
		if (strcmp(tern_tcp_state_name(i), s) == 0) {
			*out = (uint8_t)i;
			return true;
		}
	}
	return refuse(w, "\"%s\": unknown state '%.40s'", key, s);
}

/* A flag's bit from its name, by the library's own names (one bit at a
 * time through tern_tcp_flags_format); 0 if none. */
static uint8_t flag_bit(const char *name)
{
	char text[8];

	for (unsigned b = 0; b < 8; b++)
		if (strcmp(tern_tcp_flags_format((uint8_t)(1u << b), text,
						 sizeof(text)),
			   name) == 0)
			return (uint8_t)(1u << b);
	return 0;
}

static bool get_flags(const cJSON *o, uint8_t *out, why *w)
{
	const cJSON *v = field(o, "flags", w), *f;

	if (!v)
		return false;
	if (!cJSON_IsArray(v))
		return refuse(w, "\"flags\" is not an array");
	*out = 0;
	cJSON_ArrayForEach(f, v)
	{
		uint8_t bit = cJSON_IsString(f) ? flag_bit(f->valuestring) : 0;
		if (!bit)
			return refuse(w, "\"flags\": not a TCP flag name");
		*out |= bit;
	}
	return true;
}

static bool parse_state(const cJSON *o, trace_event *e, const char **text,
			why *w)
{
	const char *conn, *dash;

	if (!get_str(o, "conn", &conn, w))
		return false;
	/* "LOCAL-REMOTE": addresses have no '-' */
	dash = strchr(conn, '-');
	char local[32];
	if (!dash || (size_t)(dash - conn) >= sizeof(local))
		return refuse(w, "\"conn\": '%.60s' is not LOCAL-REMOTE", conn);
	memcpy(local, conn, (size_t)(dash - conn));
	local[dash - conn] = '\0';
	if (!trace_endpoint_parse(local, &e->src) ||
	    !trace_endpoint_parse(dash + 1, &e->dst))
		return refuse(w, "\"conn\": '%.60s' is not LOCAL-REMOTE", conn);
	return get_state(o, "from", &e->from, w) &&
	       get_state(o, "to", &e->to, w) && get_str(o, "cause", text, w);
}

static bool parse_seg(const cJSON *o, trace_event *e, why *w)
{
	const char *dir;

	if (!get_str(o, "dir", &dir, w))
		return false;
	if (strcmp(dir, "tx") != 0 && strcmp(dir, "rx") != 0)
		return refuse(w, "\"dir\" is neither \"tx\" nor \"rx\"");
	e->tx = dir[0] == 't';
	if (!get_endpoint(o, "src", &e->src, w) ||
	    !get_endpoint(o, "dst", &e->dst, w) ||
	    !get_flags(o, &e->flags, w) || !get_u32(o, "seq", &e->seq, w) ||
	    !get_u32(o, "ack", &e->ack, w) || !get_u32(o, "len", &e->len, w) ||
	    !get_u16(o, "win", &e->win, w))
		return false;
	/* optional: present only when the segment carried the option */
	return !cJSON_HasObjectItem(o, "mss") || get_u16(o, "mss", &e->mss, w);
}

static bool parse_drop(const cJSON *o, trace_event *e, const char **text,
		       why *w)
{
	bool src = cJSON_HasObjectItem(o, "src");

	if (!get_str(o, "reason", text, w))
		return false;
	if (src != cJSON_HasObjectItem(o, "dst"))
		return refuse(w, "\"src\" and \"dst\" come together");
	e->have_addrs = src;
	return !src || (get_endpoint(o, "src", &e->src, w) &&
			get_endpoint(o, "dst", &e->dst, w));
}

/* One object: fills *e; *skip for an event kind this reader does not
 * know (a newer trace's). */
static bool parse_event(trace *t, const cJSON *o, trace_event *e, bool *skip,
			why *w)
{
	static const char *const kinds[] = {"state", "seg", "drop"};
	const char *host, *kind, *text = NULL;
	uint64_t us;

	*skip = false;
	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(o))
		return refuse(w, "not a JSON object");
	if (!get_uint(o, "t", 1ull << 53, &us, w) ||
	    !get_str(o, "host", &host, w) || !get_str(o, "ev", &kind, w))
		return false;
	e->t = us;
	while (e->kind < 3 && strcmp(kind, kinds[e->kind]) != 0)
		e->kind++;
	*skip = e->kind == 3;
	if (*skip)
		return true;
	if (!(e->kind == TERN_TRACE_STATE ? parse_state(o, e, &text, w)
	      : e->kind == TERN_TRACE_SEG ? parse_seg(o, e, w)
					  : parse_drop(o, e, &text, w)))
		return false;
	e->host = intern(t->strings, host);
	e->text = text ? intern(t->strings, text) : NULL;
	if (!e->host || (text && !e->text))
		return refuse(w, "out of memory");
	return true;
}

static bool append(trace *t, const trace_event *e, why *w)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		trace_event *v = realloc(t->ev, cap * sizeof(*v));
		if (!v)
			return refuse(w, "out of memory");
		t->ev = v;
		t->cap = cap;
	}
	t->ev[t->n++] = *e;
	return true;
}

/* A key twice in one object: RFC 8259 4 leaves its meaning to the
 * reader, and readers differ (cJSON takes the first, Python the last),
 * so such a line is refused rather than read one way. */
static const char *duplicate_key(const cJSON *o)
{
	for (const cJSON *a = o->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string &&
			    strcmp(a->string, b->string) == 0)
				return a->string;
	return NULL;
}

static bool parse_line(trace *t, char *line, size_t len, why *w)
{
	const char *end = NULL;
	trace_event e;
	bool skip;

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (strlen(line) != len)
		return refuse(w, "a NUL byte in the line");
	if (strspn(line, " \t\r") == len)
		return true; /* a blank line holds no event */
	cJSON *o = cJSON_ParseWithOpts(line, &end, true);
	if (!o)
		return refuse(w, "not JSON (at column %zu)",
			      end ? (size_t)(end - line) + 1 : 1);
	const char *dup = cJSON_IsObject(o) ? duplicate_key(o) : NULL;
	bool ok = dup ? refuse(w, "\"%.40s\" twice", dup)
		      : parse_event(t, o, &e, &skip, w);
	cJSON_Delete(o);
	return ok && (skip || append(t, &e, w));
}

/* One file. As a piece of one trace, it must start where the one before
 * it ended: time runs down the drawing, so pieces out of order are
 * refused rather than drawn wrong. */
static int load_file(trace *t, const char *path, bool pieces)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, before = t->n;
	uint64_t prev_end = t->n ? t->ev[t->n - 1].t : 0;
	ssize_t len;
	why w;

	if (!f) {
		cli_error("%s: cannot read: %s", path, strerror(errno));
		return 2;
	}
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (!parse_line(t, line, (size_t)len, &w)) {
			cli_error("%s:%zu: %s", path, lineno, w.text);
			break;
		}
	}
	int err = len < 0 && ferror(f) ? errno : 0;
	free(line);
	fclose(f);
	if (err)
		cli_error("%s: cannot read: %s", path, strerror(err));
	if (len >= 0 || err)
		return 2;
	if (pieces && before && t->n > before && t->ev[before].t < prev_end) {
		cli_error("%s: its first event (%.3f ms) comes before the end "
			  "of the file before it (%.3f ms): the files of a "
			  "rotated trace go oldest first (T.2 T.1 T)",
			  path, t->ev[before].t / 1e3, prev_end / 1e3);
		return 2;
	}
	return 0;
}

int trace_load(trace *t, char *const *paths, int npaths, bool pieces)
{
	int rc = 0;

	t->strings = calloc(1, sizeof(*t->strings));
	if (!t->strings) {
		cli_error("out of memory");
		return 2;
	}
	for (int i = 0; i < npaths && rc == 0; i++)
		rc = load_file(t, paths[i], pieces);
	if (rc == 0 && t->n == 0) {
		cli_error("%s%s: no trace events in %s", paths[0],
			  npaths > 1 ? " ..." : "", npaths > 1 ? "them" : "it");
		rc = 2;
	}
	if (rc)
		trace_free(t);
	return rc;
}

void trace_free(trace *t)
{
	free(t->ev);
	strings_free(t->strings);
	memset(t, 0, sizeof(*t));
}

/* ---- connections ---- */

/* An endpoint as one number that orders as (addr, port). */
static uint64_t ep_key(const tern_endpoint *e)
{
	return (uint64_t)e->addr << 16 | e->port;
}

typedef struct keyed {
	uint64_t lo, hi; /* the pair, ordered */
	size_t ev;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* The events that belong to a connection, with their pair. */
static size_t key_events(const trace *t, keyed *k)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		const trace_event *e = &t->ev[i];
		if (e->kind == TERN_TRACE_DROP && !e->have_addrs)
			continue;
		if (e->kind == TERN_TRACE_STATE && e->dst.addr == 0 &&
		    e->dst.port == 0)
			continue; /* a listener */
		uint64_t a = ep_key(&e->src), b = ep_key(&e->dst);
		k[n++] = (keyed){a < b ? a : b, a < b ? b : a, i};
	}
	return n;
}

/* The endpoint of the stack that reported an event (for a drop without
 * addresses: none, a zero endpoint). */
static const tern_endpoint *local_end(const trace_event *e)
{
	bool src = e->kind == TERN_TRACE_STATE ||
		   (e->kind == TERN_TRACE_SEG && e->tx);

	return src ? &e->src : &e->dst;
}

int trace_conn_side(const trace_conn *c, const tern_endpoint *e)
{
	return trace_endpoint_eq(&c->end[0], e)	  ? 0
	       : trace_endpoint_eq(&c->end[1], e) ? 1
						  : -1;
}

/* Who is the client, and which stack traces each side. */
static void conn_sides(const trace *t, const keyed *k, size_t n, trace_conn *c)
{
	const trace_event *first_seg = NULL, *syn = NULL;

	for (size_t i = 0; i < n; i++) {
		const trace_event *e = &t->ev[k[i].ev];
		if (e->kind != TERN_TRACE_SEG)
			continue;
		if (!first_seg)
			first_seg = e;
		if (!syn &&
		    (e->flags & (TERN_TCP_SYN | TERN_TCP_ACK)) == TERN_TCP_SYN)
			syn = e;
	}
	const trace_event *by = syn ? syn : first_seg ? first_seg : NULL;
	const trace_event *e0 = &t->ev[k[0].ev];
	c->end[0] = by ? by->src : e0->src;
	c->end[1] = trace_endpoint_eq(&c->end[0], &e0->src) ? e0->dst : e0->src;
	for (size_t i = 0; i < n; i++) {
		const trace_event *e = &t->ev[k[i].ev];
		int side = trace_conn_side(c, local_end(e));
		if (side >= 0 && !c->host[side])
			c->host[side] = e->host;
	}
}

/* The connection whose events are k[off...off + n) in *cs. */
static void conn_make(const trace *t, const keyed *k, size_t off, size_t n,
		      trace_conns *cs)
{
	trace_conn *c = &cs->v[cs->n];

	memset(c, 0, sizeof(*c));
	c->first_ev = k[off].ev;
	c->nevents = n;
	c->ev_off = off;
	c->first = UINT64_MAX;
	for (size_t i = off; i < off + n; i++) {
		uint64_t tt = t->ev[k[i].ev].t;
		c->first = tt < c->first ? tt : c->first;
		c->last = tt > c->last ? tt : c->last;
		cs->of[k[i].ev] = (uint32_t)cs->n;
		cs->events[i] = k[i].ev;
	}
	conn_sides(t, k + off, n, c);
	cs->n++;
}

/* Numbers the connections in order of first appearance: the runs were
 * numbered in the order of their pairs. */
static int renumber(trace_conns *c, size_t nev)
{
	uint32_t *map = malloc((c->n ? c->n : 1) * sizeof(*map));
	trace_conn *v = malloc((c->n ? c->n : 1) * sizeof(*v));
	uint32_t next = 0;

	if (!map || !v) {
		free(map);
		free(v);
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		map[i] = TRACE_NO_CONN;
	for (size_t i = 0; i < nev; i++) {
		uint32_t o = c->of[i];
		if (o == TRACE_NO_CONN)
			continue;
		if (map[o] == TRACE_NO_CONN) {
			map[o] = next;
			v[next++] = c->v[o];
		}
		c->of[i] = map[o];
	}
	free(map);
	free(c->v);
	c->v = v;
	return 0;
}

typedef struct owner {
	uint64_t ep;
	const char *host;
} owner;

static int owner_cmp(const void *a, const void *b)
{
	const owner *x = a, *y = b;

	return x->ep < y->ep ? -1 : x->ep > y->ep;
}

static const char *owner_of(const owner *o, size_t n, uint64_t ep)
{
	owner key = {ep, NULL};
	const owner *f = bsearch(&key, o, n, sizeof(*o), owner_cmp);

	return f ? f->host : NULL;
}

/* A side none of the connection's events came from may still be an
 * endpoint a stack of the trace owns (its listener's, say): that stack
 * would have traced what reached it, so the side counts as traced. */
static void adopt_untraced(const trace *t, trace_conns *c)
{
	size_t need = 0, n = 0;

	for (size_t i = 0; i < c->n; i++)
		need += !c->v[i].host[0] + !c->v[i].host[1];
	owner *o = need ? malloc(t->n * sizeof(*o)) : NULL;
	if (!o)
		return; /* nothing to do, or no memory for a refinement */
	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].kind != TERN_TRACE_DROP || t->ev[i].have_addrs)
			o[n++] = (owner){ep_key(local_end(&t->ev[i])),
					 t->ev[i].host};
	qsort(o, n, sizeof(*o), owner_cmp);
	for (size_t i = 0; i < c->n; i++) {
		for (int s = 0; s < 2; s++) {
			const tern_endpoint *e = &c->v[i].end[s];
			if (!c->v[i].host[s])
				c->v[i].host[s] = owner_of(o, n, ep_key(e));
			if (!c->v[i].host[s]) /* a wildcard listener */
				c->v[i].host[s] = owner_of(o, n, e->port);
		}
	}
	free(o);
}

/* Sorted by pair, the events of one connection are a run. */
int trace_conns_find(const trace *t, trace_conns *c)
{
	size_t room = t->n ? t->n : 1;
	keyed *k = malloc(room * sizeof(*k));

	memset(c, 0, sizeof(*c));
	c->of = malloc(room * sizeof(*c->of));
	c->v = malloc(room * sizeof(*c->v));
	c->events = malloc(room * sizeof(*c->events));
	if (!k || !c->of || !c->v || !c->events) {
		free(k);
		trace_conns_free(c);
		return -1;
	}
	size_t n = key_events(t, k);
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < t->n; i++)
		c->of[i] = TRACE_NO_CONN;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1;
		     j < n && k[j].lo == k[i].lo && k[j].hi == k[i].hi; j++)
			;
		conn_make(t, k, i, j - i, c);
	}
	free(k);
	adopt_untraced(t, c);
	if (renumber(c, t->n) == 0)
		return 0;
	trace_conns_free(c);
	return -1;
}

void trace_conns_free(trace_conns *c)
{
	free(c->v);
	free(c->of);
	free(c->events);
	memset(c, 0, sizeof(*c));
}
