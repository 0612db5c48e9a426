/* Settings by name, as sysctl(8) shows Linux's: one table names every
 * field of tern_settings, with its kind, unit, range and help, and every
 * rule on the settings lives here (settings_valid in stack.c asks
 * tern_settings_check), so `tern sysctl`, a sysctl.conf file and
 * tern_stack_new refuse exactly the same things.
 *
 * Ranges are Linux's where Linux has them (the proc_dointvec_minmax and
 * proc_dou8vec_minmax bounds of net/ipv4/sysctl_net_ipv4.c and
 * net/core/sysctl_net_core.c; u8 values end at 255). Where Linux takes 0
 * and tern's least is 1 (somaxconn, tcp_max_syn_backlog, tcp_fin_timeout
 * and the keepalive keys), 1 is the floor tern's engine has always been
 * held to; docs/SETTINGS.md lists each difference. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"

enum kind {
	K_INT,	  /* int */
	K_U32,	  /* uint32_t, within the int range */
	K_PAIR,	  /* int[2]: low high */
	K_TRIPLE, /* int[3]: min default max */
	K_STRING, /* char[16] */
};

/* A rule of one key beyond each number's range; NULL: none. Writes the
 * reason (after "KEY: ") and returns false when the value breaks it. */
typedef bool (*key_rule)(const long long *v, char *why, size_t size);

typedef struct sysctl_key {
	const char *name; /* as Linux's sysctl spells it */
	size_t off;	  /* offsetof(tern_settings, field) */
	enum kind kind;
	int min, max;	  /* each number's range */
	key_rule rule;	  /* more than the range, or NULL */
	const char *unit; /* "s", "ms", "bytes", ... or "" */
	const char *help;
} sysctl_key;

/* The least default buffer tern has always required (Linux's floor is
 * 1 byte for each of the three): the engine's windows are tested from
 * there up. */
#define BUF_DEFAULT_MIN 1024
/* Linux's proc_dointvec_jiffies refuses a number of seconds above
 * INT_MAX / HZ; with HZ = 1000 that is 2147483. */
#define JIFFIES_SECS_MAX (INT_MAX / 1000)

static bool rule_ordered_pair(const long long *v, char *why, size_t size)
{
	if (v[0] <= v[1])
		return true;
	/* Linux's ipv4_local_port_range: EINVAL if range[1] < range[0] */
	snprintf(why, size, "low %lld is above high %lld", v[0], v[1]);
	return false;
}

static bool rule_buffers(const long long *v, char *why, size_t size)
{
	if (v[0] > v[1] || v[1] > v[2]) {
		snprintf(why, size,
			 "%lld %lld %lld is not in order (min <= default <= "
			 "max)",
			 v[0], v[1], v[2]);
		return false;
	}
	if (v[1] < BUF_DEFAULT_MIN) {
		snprintf(why, size, "default %lld is below tern's least, %d",
			 v[1], BUF_DEFAULT_MIN);
		return false;
	}
	return true;
}

/* One entry of the table, its facts in sysctl_key's order */
#define KEY(name, field, kind, min, max, rule, unit, help)                     \
	{                                                                      \
		name, offsetof(tern_settings, field), kind, min, max, rule,    \
			unit, help                                             \
	}
/* The congestion control's name, its NUL included */
#define CC_MAX ((int)sizeof(((tern_settings *)0)->tcp_congestion_control))

/* Sorted by name: `tern sysctl -a` lists them in this order, as `sysctl
 * -a` does. tests/unit/test_sysctl.c checks the order and that every
 * field of tern_settings has exactly one key. */
static const sysctl_key keys[] = {
	KEY("net.core.somaxconn", somaxconn, K_INT, 1, INT_MAX, NULL,
	    "connections",
	    "cap on a listener's backlog of accepted connections"),
	KEY("net.ipv4.ip_default_ttl", ip_default_ttl, K_INT, 1, 255, NULL,
	    "hops", "TTL of the IPv4 packets tern sends"),
	/* Linux also keeps the low end at or above ip_unprivileged_port_start
	 * (1024); tern has no privileged ports, so 1 to 65535 */
	KEY("net.ipv4.ip_local_port_range", ip_local_port_range, K_PAIR, 1,
	    65535, rule_ordered_pair, "port",
	    "ephemeral ports for outgoing connections (low high)"),
	KEY("net.ipv4.tcp_challenge_ack_limit", tcp_challenge_ack_limit, K_INT,
	    0, INT_MAX, NULL, "per second",
	    "challenge ACKs a second, whole stack (RFC 5961)"),
	KEY("net.ipv4.tcp_congestion_control", tcp_congestion_control, K_STRING,
	    0, 0, NULL, "",
	    "congestion control of new connections: cubic or reno"),
	KEY("net.ipv4.tcp_fin_timeout", tcp_fin_timeout, K_INT, 1,
	    JIFFIES_SECS_MAX, NULL, "s",
	    "how long an orphaned connection stays in FIN_WAIT_2"),
	KEY("net.ipv4.tcp_invalid_ratelimit", tcp_invalid_ratelimit, K_U32, 0,
	    INT_MAX, NULL, "ms",
	    "least time between ACKs answering out-of-window segments"),
	KEY("net.ipv4.tcp_keepalive_intvl", tcp_keepalive_intvl, K_INT, 1,
	    JIFFIES_SECS_MAX, NULL, "s", "time between keepalive probes"),
	KEY("net.ipv4.tcp_keepalive_probes", tcp_keepalive_probes, K_INT, 1,
	    255, NULL, "probes",
	    "unanswered keepalive probes before the connection is dropped"),
	KEY("net.ipv4.tcp_keepalive_time", tcp_keepalive_time, K_INT, 1,
	    JIFFIES_SECS_MAX, NULL, "s",
	    "idle time before the first keepalive probe"),
	KEY("net.ipv4.tcp_max_orphans", tcp_max_orphans, K_INT, 0, INT_MAX,
	    NULL, "connections",
	    "orphaned connections (closed by the application) at most"),
	KEY("net.ipv4.tcp_max_syn_backlog", tcp_max_syn_backlog, K_INT, 1,
	    INT_MAX, NULL, "connections",
	    "half-open (SYN_RECEIVED) connections a listener holds at most"),
	KEY("net.ipv4.tcp_max_tw_buckets", tcp_max_tw_buckets, K_INT, 0,
	    INT_MAX, NULL, "connections", "TIME_WAIT connections at most"),
	KEY("net.ipv4.tcp_moderate_rcvbuf", tcp_moderate_rcvbuf, K_INT, 0, 1,
	    NULL, "", "grow receive buffers as the application reads"),
	KEY("net.ipv4.tcp_orphan_retries", tcp_orphan_retries, K_INT, 0, 255,
	    NULL, "retries",
	    "retransmissions for an orphan before it is dropped (0: 8)"),
	/* Linux's tcp_retr1_max */
	KEY("net.ipv4.tcp_retries1", tcp_retries1, K_INT, 0, 255, NULL,
	    "retries", "retransmissions before the path is suspect"),
	KEY("net.ipv4.tcp_retries2", tcp_retries2, K_INT, 0, 255, NULL,
	    "retries",
	    "retransmissions (as a time bound) before a connection gives up"),
	KEY("net.ipv4.tcp_rmem", tcp_rmem, K_TRIPLE, 1, INT_MAX, rule_buffers,
	    "bytes", "receive buffer: min default max"),
	KEY("net.ipv4.tcp_sack", tcp_sack, K_INT, 0, 1, NULL, "",
	    "selective acknowledgments (RFC 2018)"),
	/* Linux's tcp_syn_retries_min and MAX_TCP_SYNCNT */
	KEY("net.ipv4.tcp_syn_retries", tcp_syn_retries, K_INT, 1, 127, NULL,
	    "retries", "SYN retransmissions before connect gives up"),
	KEY("net.ipv4.tcp_synack_retries", tcp_synack_retries, K_INT, 0, 255,
	    NULL, "retries",
	    "SYN+ACK retransmissions before a half-open connection is dropped"),
	KEY("net.ipv4.tcp_syncookies", tcp_syncookies, K_INT, 0, 2, NULL, "",
	    "SYN cookies: 0 never, 1 when the SYN queue overflows, 2 always"),
	/* Linux's 2 (timestamps without a random offset) is not tern's */
	KEY("net.ipv4.tcp_timestamps", tcp_timestamps, K_INT, 0, 1, NULL, "",
	    "timestamps, RTT measurement and PAWS (RFC 7323)"),
	KEY("net.ipv4.tcp_tw_reuse", tcp_tw_reuse, K_INT, 0, 2, NULL, "",
	    "reuse of TIME_WAIT 4-tuples: 0 never, 1 always, 2 loopback only"),
	KEY("net.ipv4.tcp_window_scaling", tcp_window_scaling, K_INT, 0, 1,
	    NULL, "", "window scale option (RFC 7323)"),
	KEY("net.ipv4.tcp_wmem", tcp_wmem, K_TRIPLE, 1, INT_MAX, rule_buffers,
	    "bytes", "send buffer: min default max"),
	/* RFC 9293 3.8.6.3 (MUST-40): the delay MUST be less than 0.5 s */
	KEY("net.tern.tcp_delack_ms", delack_ms, K_U32, 1, 499, NULL, "ms",
	    "delayed-ACK time (Linux's TCP_DELACK_MIN)"),
	/* Linux sets this per route (ip route ... initcwnd) */
	KEY("net.tern.tcp_initcwnd", tcp_initcwnd, K_INT, 0, 1000, NULL,
	    "segments",
	    "initial congestion window (0: RFC 5681's 2 to 4 segments)"),
	KEY("net.tern.tcp_msl_ms", msl_ms, K_U32, 1, INT_MAX, NULL, "ms",
	    "maximum segment lifetime: TIME_WAIT lasts twice this"),
	KEY("net.tern.tcp_rto_initial_ms", rto_initial_ms, K_U32, 1, INT_MAX,
	    NULL, "ms",
	    "retransmission timeout before an RTT sample (RFC 6298 2.1)"),
	KEY("net.tern.tcp_rto_max_ms", rto_max_ms, K_U32, 1, INT_MAX, NULL,
	    "ms", "largest retransmission timeout (Linux's TCP_RTO_MAX)"),
	KEY("net.tern.tcp_rto_min_ms", rto_min_ms, K_U32, 1, INT_MAX, NULL,
	    "ms", "least retransmission timeout (Linux's TCP_RTO_MIN)"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Rules between keys: the first key's value must not exceed the
 * second's. RFC 6298 2.4 bounds the RTO below; the initial RTO and the
 * ceiling must lie above that bound. */
static const struct {
	const char *low, *high;
} orders[] = {
	{"net.tern.tcp_rto_min_ms", "net.tern.tcp_rto_initial_ms"},
	{"net.tern.tcp_rto_min_ms", "net.tern.tcp_rto_max_ms"},
};

static void say(char *reason, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!reason || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
}

static int count_of(enum kind kind)
{
	return kind == K_TRIPLE ? 3 : kind == K_PAIR ? 2 : 1;
}

static const sysctl_key *find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* sysctl.d(5): "/" or "." may separate a name's parts; if the first
 * separator is a slash, slashes and dots swap places. */
static bool normalise(const char *key, char *out, size_t size)
{
	size_t len = strlen(key);
	size_t first = strcspn(key, "./");

	if (len == 0 || len >= size)
		return false;
	memcpy(out, key, len + 1);
	if (key[first] != '/')
		return true;
	for (char *p = out; *p; p++)
		if (*p == '/' || *p == '.')
			*p = *p == '/' ? '.' : '/';
	return true;
}

static const sysctl_key *lookup(const char *key)
{
	char name[128];

	return normalise(key, name, sizeof(name)) ? find(name) : NULL;
}

/* The numbers of a key in s (count_of(kind) of them). */
static void load_ints(const sysctl_key *k, const tern_settings *s, long long *v)
{
	const char *p = (const char *)s + k->off;
	int x[3];

	if (k->kind == K_U32) {
		uint32_t u;
		memcpy(&u, p, sizeof(u));
		v[0] = u;
		return;
	}
	memcpy(x, p, sizeof(int) * (size_t)count_of(k->kind));
	for (int i = 0; i < count_of(k->kind); i++)
		v[i] = x[i];
}

static void store_ints(const sysctl_key *k, tern_settings *s, const int *v)
{
	char *p = (char *)s + k->off;

	if (k->kind == K_U32) {
		uint32_t u = (uint32_t)v[0];
		memcpy(p, &u, sizeof(u));
		return;
	}
	memcpy(p, v, sizeof(int) * (size_t)count_of(k->kind));
}

/* "3 is not one of 0, 1, 2" for a key of a few values, "200 is not from
 * 1 to 127" otherwise. */
static void range_reason(const sysctl_key *k, const char *num, char *why,
			 size_t size)
{
	if (k->max - k->min > 2) {
		snprintf(why, size, "%s is not from %d to %d", num, k->min,
			 k->max);
		return;
	}
	char list[32] = "";
	size_t n = 0;
	for (int x = k->min; x <= k->max && n < sizeof(list); x++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d",
				      x > k->min ? ", " : "", x);
	snprintf(why, size, "%s is not one of %s", num, list);
}

static bool cc_ok(const char *name, char *why, size_t size)
{
	size_t n = strnlen(name, CC_MAX);

	if (n == CC_MAX) {
		snprintf(why, size, "a name of at most %d characters",
			 CC_MAX - 1);
		return false;
	}
	if (tcp_cc_known(name))
		return true;
	/* Linux's tcp_set_default_congestion_control: ENOENT */
	snprintf(why, size, "'%s' is not available (cubic, reno)", name);
	return false;
}

/* One key's own rules on its value in s: the range of each number, then
 * the key's rule. why gets the reason, after "KEY: ". */
static bool key_ok(const sysctl_key *k, const tern_settings *s, char *why,
		   size_t size)
{
	long long v[3];
	char num[24];

	if (k->kind == K_STRING)
		return cc_ok((const char *)s + k->off, why, size);
	load_ints(k, s, v);
	for (int i = 0; i < count_of(k->kind); i++)
		if (v[i] < k->min || v[i] > k->max) {
			snprintf(num, sizeof(num), "%lld", v[i]);
			range_reason(k, num, why, size);
			return false;
		}
	return !k->rule || k->rule(v, why, size);
}

static bool orders_ok(const tern_settings *s, char *reason, size_t size,
		      size_t *bad)
{
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		const sysctl_key *lo = find(orders[i].low);
		const sysctl_key *hi = find(orders[i].high);
		long long a, b;
		load_ints(lo, s, &a);
		load_ints(hi, s, &b);
		if (a <= b)
			continue;
		say(reason, size, "%s = %lld is above %s = %lld", lo->name, a,
		    hi->name, b);
		if (bad)
			*bad = i;
		return false;
	}
	return true;
}

int tern_settings_check(const tern_settings *s, char *reason, size_t size)
{
	char why[160];

	for (size_t i = 0; i < NKEYS; i++)
		if (!key_ok(&keys[i], s, why, sizeof(why))) {
			say(reason, size, "%s: %s", keys[i].name, why);
			return TERN_ERR_INVAL;
		}
	return orders_ok(s, reason, size, NULL) ? 0 : TERN_ERR_INVAL;
}

/* ---- text to values ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

typedef struct span {
	const char *p;
	size_t n;
} span;

static span trim(const char *p, size_t n)
{
	while (n > 0 && is_blank(p[0]))
		p++, n--;
	while (n > 0 && is_blank(p[n - 1]))
		n--;
	return (span){p, n};
}

static int clip(size_t n)
{
	return n > 60 ? 60 : (int)n;
}

/* The next whitespace-separated word of *p: [*start, *p). */
static bool next_word(const char **p, const char **start)
{
	while (is_blank(**p))
		(*p)++;
	*start = *p;
	while (**p && !is_blank(**p))
		(*p)++;
	return *p > *start;
}

/* A decimal whole number, as written ("-5", "300"): digits with an
 * optional minus sign. Out of the int range it is kept as a number just
 * past the range, which the range check then refuses with its text. */
static bool parse_num(const char *w, size_t len, long long *out)
{
	size_t i = w[0] == '-';
	long long v = 0;

	if (i == len)
		return false;
	for (; i < len; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		if (v <= INT_MAX)
			v = v * 10 + (w[i] - '0');
	}
	*out = w[0] == '-' ? -v : v;
	return true;
}

static int parse_ints(const sysctl_key *k, const char *text, int *v, char *why,
		      size_t size)
{
	const char *p = text, *w;
	int n = 0, want = count_of(k->kind);
	long long x;
	char num[24];

	while (next_word(&p, &w)) {
		size_t len = (size_t)(p - w);
		if (n == want) {
			n++;
			break;
		}
		if (!parse_num(w, len, &x)) {
			snprintf(why, size, "'%.*s' is not a whole number",
				 (int)(len > 40 ? 40 : len), w);
			return TERN_ERR_INVAL;
		}
		if (x < k->min || x > k->max) {
			snprintf(num, sizeof(num), "%.*s",
				 (int)(len < sizeof(num) ? len : 20), w);
			range_reason(k, num, why, size);
			return TERN_ERR_INVAL;
		}
		v[n++] = (int)x;
	}
	if (n != want) {
		if (want == 1)
			snprintf(why, size, "expected one number");
		else
			snprintf(why, size, "expected %d numbers (%s)", want,
				 want == 3 ? "min default max" : "low high");
		return TERN_ERR_INVAL;
	}
	return 0;
}

static int parse_value(const sysctl_key *k, tern_settings *s, const char *value,
		       char *why, size_t size)
{
	int v[3];

	if (k->kind != K_STRING) {
		int err = parse_ints(k, value, v, why, size);
		if (err == 0)
			store_ints(k, s, v);
		return err;
	}
	const char *p = value, *w;
	if (!next_word(&p, &w)) {
		snprintf(why, size, "expected a name (cubic, reno)");
		return TERN_ERR_INVAL;
	}
	const char *rest = p, *w2;
	size_t len = (size_t)(p - w);
	if (next_word(&rest, &w2) || len >= CC_MAX) {
		span all = trim(value, strlen(value));
		snprintf(why, size, "'%.*s' is not available (cubic, reno)",
			 clip(all.n), all.p);
		return TERN_ERR_INVAL;
	}
	char *dst = (char *)s + k->off;
	memset(dst, 0, CC_MAX);
	memcpy(dst, w, len);
	return 0;
}

int tern_sysctl_set(tern_settings *s, const char *key, const char *value,
		    char *reason, size_t size)
{
	const sysctl_key *k = lookup(key);
	char why[160];
	tern_settings t = *s;

	if (!k) {
		say(reason, size, "%s: unknown key", key);
		return TERN_ERR_NOENT;
	}
	int err = parse_value(k, &t, value, why, sizeof(why));
	if (err == 0 && !key_ok(k, &t, why, sizeof(why)))
		err = TERN_ERR_INVAL;
	if (err < 0) {
		say(reason, size, "%s: %s", k->name, why);
		return err;
	}
	*s = t;
	return 0;
}

int tern_sysctl_get(const tern_settings *s, const char *key, char *buf,
		    size_t size)
{
	const sysctl_key *k = lookup(key);
	char text[64];
	long long v[3];

	if (!k)
		return TERN_ERR_NOENT;
	if (k->kind == K_STRING) {
		snprintf(text, sizeof(text), "%.*s", CC_MAX - 1,
			 (const char *)s + k->off);
	} else {
		load_ints(k, s, v);
		/* Linux prints a vector with tabs between the numbers */
		size_t n = (size_t)snprintf(text, sizeof(text), "%lld", v[0]);
		for (int i = 1; i < count_of(k->kind); i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "\t%lld", v[i]);
	}
	int n = snprintf(buf, size, "%s", text);
	return (size_t)n < size ? 0 : TERN_ERR_NOBUFS;
}

bool tern_sysctl_info_get(size_t i, tern_sysctl_info *out)
{
	if (i >= NKEYS)
		return false;
	*out = (tern_sysctl_info){keys[i].name, keys[i].unit, keys[i].help};
	return true;
}

int tern_sysctl_lookup(const char *key, tern_sysctl_info *out)
{
	const sysctl_key *k = lookup(key);

	if (!k)
		return TERN_ERR_NOENT;
	return tern_sysctl_info_get((size_t)(k - keys), out) ? 0
							     : TERN_ERR_NOENT;
}

/* ---- sysctl.conf(5) text ---- */

#define KEY_MAX 128
#define VALUE_MAX 256
#define FILE_MAX (1 << 20)

/* One line: blank, a comment (sysctl.conf(5): '#' or ';' first), or
 * "KEY = VALUE" applied to t. A '-' before the key is sysctl.d(5)'s
 * "ignore if this fails": tern takes it for an unknown key only, since a
 * bad value for a key it knows is a mistake in the file and tern has no
 * log to report a line it skipped. */
static int conf_line(tern_settings *t, span l, int number, int *line_of,
		     char *why, size_t size)
{
	char key[KEY_MAX], value[VALUE_MAX];

	l = trim(l.p, l.n);
	if (l.n == 0 || l.p[0] == '#' || l.p[0] == ';')
		return 0;
	bool optional = l.p[0] == '-';
	if (optional)
		l = trim(l.p + 1, l.n - 1);
	const char *eq = memchr(l.p, '=', l.n);
	if (!eq) {
		snprintf(why, size, "expected KEY = VALUE, got '%.*s'",
			 clip(l.n), l.p);
		return TERN_ERR_INVAL;
	}
	span k = trim(l.p, (size_t)(eq - l.p));
	span v = trim(eq + 1, l.n - (size_t)(eq + 1 - l.p));
	if (k.n == 0 || k.n >= KEY_MAX || v.n >= VALUE_MAX) {
		snprintf(why, size, "%s",
			 k.n ? "too long" : "no key before '='");
		return TERN_ERR_INVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)k.n, k.p);
	snprintf(value, sizeof(value), "%.*s", (int)v.n, v.p);
	const sysctl_key *sk = lookup(key);
	if (!sk && optional)
		return 0;
	int err = tern_sysctl_set(t, key, value, why, size);
	if (err == 0)
		line_of[sk - keys] = number;
	return err;
}

static size_t key_index(const char *name)
{
	return (size_t)(find(name) - keys);
}

/* The whole result: a rule between keys names the later line of the two
 * (no line if neither was in the file: the settings given were bad). */
static int conf_check(const tern_settings *t, const char *name,
		      const int *line_of, char *reason, size_t size)
{
	char why[320];
	size_t bad = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if (!key_ok(&keys[i], t, why, sizeof(why))) {
			say(reason, size, "%s: %s: %s", name, keys[i].name,
			    why);
			return TERN_ERR_INVAL;
		}
	if (orders_ok(t, why, sizeof(why), &bad))
		return 0;
	int a = line_of[key_index(orders[bad].low)];
	int b = line_of[key_index(orders[bad].high)];
	int line = a > b ? a : b;
	if (line > 0)
		say(reason, size, "%s:%d: %s", name, line, why);
	else
		say(reason, size, "%s: %s", name, why);
	return TERN_ERR_INVAL;
}

int tern_sysctl_load_text(tern_settings *s, const char *name, const char *text,
			  char *reason, size_t size)
{
	tern_settings t = *s;
	int line_of[NKEYS] = {0};
	char why[320];
	int number = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int err = conf_line(&t, (span){p, len}, ++number, line_of, why,
				    sizeof(why));
		if (err < 0) {
			say(reason, size, "%s:%d: %s", name, number, why);
			return err;
		}
		p += len + (nl != NULL);
	}
	int err = conf_check(&t, name, line_of, reason, size);
	if (err == 0)
		*s = t;
	return err;
}

/* The file's bytes, NUL-terminated, or NULL with the reason. */
static char *read_text(const char *path, char *reason, size_t size)
{
	FILE *f = fopen(path, "r");
	char *text = f ? malloc(FILE_MAX + 1) : NULL;
	size_t n = 0;

	if (!f || !text) {
		say(reason, size, "%s: %s", path, strerror(f ? ENOMEM : errno));
		if (f)
			fclose(f);
		return NULL;
	}
	n = fread(text, 1, FILE_MAX + 1, f);
	const char *bad = ferror(f)	       ? strerror(EIO)
			  : n > FILE_MAX       ? "longer than 1 MiB"
			  : memchr(text, 0, n) ? "not a text file (a NUL byte)"
					       : NULL;
	fclose(f);
	if (bad) {
		say(reason, size, "%s: %s", path, bad);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

int tern_sysctl_load_file(tern_settings *s, const char *path, char *reason,
			  size_t size)
{
	char *text = read_text(path, reason, size);

	if (!text)
		return TERN_ERR_IO;
	int err = tern_sysctl_load_text(s, path, text, reason, size);
	free(text);
	return err;
}
