#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"

/* A TUN or TAP device has no carrier until a reader attaches; the kernel
 * then turns its queue on from its link-watch work, up to a second
 * later, and drops what it would send the device until then (the first
 * SYN+ACK, say, costing a 1 s SYN timeout). When the device is up, wait
 * (at most 2 s) for IFF_RUNNING, which the same work sets. */
static void wait_running(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	for (int i = 0; i < 200; i++) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
		    !(ifr.ifr_flags & IFF_UP) || (ifr.ifr_flags & IFF_RUNNING))
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	close(fd);
}

static const char device_usage[] =
	"  --tun IFNAME | --tap IFNAME  the device (created if absent)\n"
	"  --addr ADDR/PREFIX  tern's address, e.g. 10.7.0.2/24\n"
	"  --gateway ADDR      TAP: next hop off the subnet\n"
	"  --mtu N             IP MTU (default 1500)\n"
	"  --offload on|off    TSO and checksum offload on the device\n"
	"                      (default on; the plain path if the "
	"kernel\n"
	"                      lacks them; never used on the wire with\n"
	"                      impairments, which act on plain frames)\n"
	"  --pcap FILE         capture everything sent and received\n"
	"  --json FILE         JSON Lines trace of the stack\n";

static const char other_usage[] =
	"  --stats FILE        the counters, as JSON, at exit\n"
	"  --control PATH      a control socket for `tern stat` "
	"(docs/CONTROL.md)\n"
	"  --loss P --dup P --reorder P --corrupt P (0..1 or 0%..100%)"
	"\n  --delay MS --jitter MS --seed N\n"
	"                      impair the link, both directions\n";

const char *net_opts_usage(void)
{
	static char text[4096];

	snprintf(text, sizeof(text), "%s%s%s%s", device_usage, cli_rotate_usage,
		 other_usage, cli_sysctl_usage);
	return text;
}

/* --sysctl and --sysctl-file: onto the defaults, the first time. */
static int settings_opt(net_opts *o, const char *opt, const char *val)
{
	if (!o->tuned) {
		tern_settings_default(&o->settings);
		o->tuned = true;
	}
	return cli_sysctl_opt(&o->settings, opt, val);
}

/* "10.7.0.2/24" */
static bool parse_cidr(const char *text, uint32_t *addr, uint8_t *prefix)
{
	char buf[32];
	const char *slash = strchr(text, '/');
	uint64_t p = 32;

	if (strlen(text) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s",
		 (int)(slash ? (size_t)(slash - text) : strlen(text)), text);
	if (tern_addr_parse(buf, addr) < 0 || *addr == 0)
		return false;
	if (slash && !cli_parse_u64(NULL, slash + 1, 32, &p))
		return false;
	if (p < 1)
		return false;
	*prefix = (uint8_t)p;
	return true;
}

static bool parse_prob(const char *what, const char *text, double *out)
{
	size_t len = strlen(text);
	char buf[64];

	if (len > 0 && len < sizeof(buf) && text[len - 1] == '%') {
		snprintf(buf, sizeof(buf), "%.*s", (int)(len - 1), text);
		if (!cli_parse_double(what, buf, 0, 100, out))
			return false;
		*out /= 100;
		return true;
	}
	return cli_parse_double(what, text, 0, 1, out);
}

/* The impairment options; 1 taken, 0 not ours, -1 bad. */
static int impair_opt(net_opts *o, const char *opt, const char *val)
{
	static const struct {
		const char *name;
		size_t off;
	} probs[] = {
		{"--loss", offsetof(tern_sim_path, loss)},
		{"--dup", offsetof(tern_sim_path, dup)},
		{"--reorder", offsetof(tern_sim_path, reorder)},
		{"--corrupt", offsetof(tern_sim_path, corrupt)},
	};
	for (size_t k = 0; k < sizeof(probs) / sizeof(probs[0]); k++)
		if (strcmp(opt, probs[k].name) == 0) {
			o->impaired = true;
			return parse_prob(opt, val,
					  (double *)((char *)&o->impair +
						     probs[k].off))
				       ? 1
				       : -1;
		}
	if (strcmp(opt, "--delay") == 0 || strcmp(opt, "--jitter") == 0) {
		o->impaired = true;
		return cli_parse_ms(opt, val,
				    opt[2] == 'd' ? &o->impair.delay
						  : &o->impair.jitter)
			       ? 1
			       : -1;
	}
	if (strcmp(opt, "--seed") == 0)
		return cli_parse_u64(opt, val, UINT64_MAX, &o->seed) ? 1 : -1;
	return 0;
}

static int device_opt(net_opts *o, const char *opt, const char *val)
{
	uint64_t v;

	if (strcmp(opt, "--tun") == 0 || strcmp(opt, "--tap") == 0) {
		if (o->tun || o->tap || !*val || strlen(val) >= 16) {
			cli_error("%s: give one device, a name of 1 to 15 "
				  "characters",
				  opt);
			return -1;
		}
		*(opt[4] == 'n' ? &o->tun : &o->tap) = val;
		return 1;
	}
	if (strcmp(opt, "--addr") == 0) {
		if (parse_cidr(val, &o->addr, &o->prefix_len))
			return 1;
		cli_error("--addr: '%s' is not ADDR/PREFIX (e.g. 10.7.0.2/24)",
			  val);
		return -1;
	}
	if (strcmp(opt, "--gateway") == 0) {
		if (tern_addr_parse(val, &o->gateway) == 0)
			return 1;
		cli_error("--gateway: '%s' is not an IPv4 address", val);
		return -1;
	}
	if (strcmp(opt, "--offload") == 0) {
		if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
			cli_error("--offload: '%s' is not on or off", val);
			return -1;
		}
		o->offload_off = strcmp(val, "off") == 0;
		return 1;
	}
	if (strcmp(opt, "--mtu") == 0) {
		if (!cli_parse_u64("--mtu", val, 65535, &v) || v < 576) {
			cli_error("--mtu: from 576 to 65535");
			return -1;
		}
		o->mtu = (uint32_t)v;
		return 1;
	}
	return 0;
}

int net_opt(net_opts *o, int argc, char **argv, int *i)
{
	const char *opt = argv[*i];
	const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
	static const char *const known[] = {
		"--tun",	 "--tap",	  "--addr",    "--gateway",
		"--mtu",	 "--pcap",	  "--json",    "--loss",
		"--dup",	 "--reorder",	  "--corrupt", "--delay",
		"--jitter",	 "--seed",	  "--stats",   "--offload",
		"--sysctl",	 "--sysctl-file", "--control", "--rotate-size",
		"--rotate-keep",
	};
	bool ours = false;

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		ours |= strcmp(opt, known[k]) == 0;
	if (!ours)
		return 0;
	if (!val) {
		cli_error("%s needs a value", opt);
		return -1;
	}
	*i += 1;
	if (strncmp(opt, "--sysctl", 8) == 0)
		return settings_opt(o, opt, val);
	if (strncmp(opt, "--rotate-", 9) == 0)
		return cli_rotate_opt(&o->rotate, opt, val);
	if (strcmp(opt, "--control") == 0) {
		o->control = val;
		return 1;
	}
	if (strcmp(opt, "--pcap") == 0 || strcmp(opt, "--json") == 0 ||
	    strcmp(opt, "--stats") == 0) {
		*(opt[2] == 'p'	  ? &o->pcap
		  : opt[2] == 'j' ? &o->json
				  : &o->stats) = val;
		return 1;
	}
	int r = device_opt(o, opt, val);
	return r != 0 ? r : impair_opt(o, opt, val);
}

bool net_opts_check(const net_opts *o)
{
	if (!o->tun && !o->tap) {
		cli_error("which device? (--tun IFNAME or --tap IFNAME)");
		return false;
	}
	if (!o->addr) {
		cli_error("which address? (--addr ADDR/PREFIX)");
		return false;
	}
	if (o->control && !control_path_check(o->control))
		return false;
	if (!cli_outputs_apart((const char *const[]){"--json", "--pcap",
						     "--stats", "--control"},
			       (const char *const[]){o->json, o->pcap, o->stats,
						     o->control},
			       4))
		return false;
	return !o->tuned || cli_sysctl_check(&o->settings);
}

static const char *device_error(int err)
{
	switch (err) {
	case TERN_ERR_NOENT:
		return "/dev/net/tun does not exist (no TUN/TAP support?)";
	case TERN_ERR_PERM:
		return "no permission: a TUN/TAP device needs CAP_NET_ADMIN "
		       "(run as root)";
	case TERN_ERR_BUSY:
		return "the device is in use, or exists as the other kind "
		       "(TUN/TAP)";
	case TERN_ERR_INVAL:
		return "not a valid device name";
	default:
		return tern_strerror(err);
	}
}

/* The device, then impairments, then the capture outermost, so the
 * capture shows what the stack sent and what reached it. The impairment
 * wrapper offers no offloads, so an impaired stack sends plain frames,
 * and the wrapper cuts the kernel's GSO packets before dealing fates. */
static tern_link *open_link(net_host *n, const net_opts *o)
{
	tern_tun_config tc = {
		.ifname = o->tun ? o->tun : o->tap,
		.tap = o->tap != NULL,
		.addr = o->addr,
		.prefix_len = o->prefix_len,
		.gateway = o->gateway,
		.mtu = o->mtu,
		.offload = o->offload_off ? TERN_TUN_OFFLOAD_OFF
					  : TERN_TUN_OFFLOAD_ON,
	};
	int err = 0;
	tern_link *l = tern_tun_open(&tc, &err);

	if (!l) {
		cli_error("%s %s: %s", o->tun ? "--tun" : "--tap", tc.ifname,
			  device_error(err));
		return NULL;
	}
	n->device = l;
	wait_running(tc.ifname);
	if (o->impaired) {
		tern_link *w = tern_impair_wrap(l, &o->impair, &o->impair,
						o->seed, &err);
		if (!w) {
			cli_error("impairment: %s", tern_strerror(err));
			tern_link_destroy(l);
			return NULL;
		}
		l = w;
	}
	if (o->pcap) {
		tern_rotate rot = cli_rotate(&o->rotate);
		tern_link *w = tern_pcap_wrap_rotating(
			l, o->pcap, TERN_PCAP_LINKTYPE_IPV4, &rot, &err);
		if (!w) {
			cli_error("--pcap: cannot write '%s': %s", o->pcap,
				  strerror(errno));
			tern_link_destroy(l);
			return NULL;
		}
		n->pcap = l = w;
	}
	return l;
}

bool net_host_open(net_host *n, const net_opts *o)
{
	int err = 0;

	memset(n, 0, sizeof(*n));
	if (o->json) {
		/* "t" in the trace: microseconds since tern started */
		tern_rotate rot = cli_rotate(&o->rotate);
		n->json = tern_trace_json_open_rotating(
			o->json, tern_host_now(NULL), &rot, &err);
		if (!n->json) {
			cli_error("--json: cannot write '%s': %s", o->json,
				  strerror(errno));
			return false;
		}
	}
	tern_link *l = open_link(n, o);
	if (!l)
		return false;
	tern_host_config hc = {.name = "tern",
			       .addr = o->addr,
			       .link = l,
			       .settings = o->tuned ? &o->settings : NULL};
	n->host = tern_host_new(&hc, &err);
	if (!n->host) {
		cli_error("cannot start the stack: %s", tern_strerror(err));
		tern_link_destroy(l);
		return false;
	}
	if (n->json)
		tern_stack_add_trace(tern_host_stack(n->host),
				     tern_trace_json_hook, n->json);
	if (o->control &&
	    !(n->ctl = control_open(o->control, n->host, n->device))) {
		tern_host_free(n->host);
		n->host = NULL;
		tern_trace_json_close(n->json);
		return false;
	}
	return true;
}

/* The signal handler can only reach the host through this. */
static tern_host *signalled_host;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (signalled_host)
		tern_host_stop(signalled_host);
}

static void catch_signals(tern_host *h)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	signalled_host = h;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

typedef struct ending {
	net_host *n;
	tern_time until;
} ending;

/* Every 10 ms of the graceful end: done when nothing is left but TIME_WAIT
 * (which would only wait) or the time is up. */
static void check_ended(tern_host *h, void *arg)
{
	ending *e = arg;
	size_t counts[TERN_TCP_STATE_COUNT];
	size_t total = tern_stack_state_counts(tern_host_stack(h), counts);

	if (total == counts[TERN_TCP_TIME_WAIT] + counts[TERN_TCP_CLOSED] ||
	    tern_host_now(h) >= e->until)
		tern_host_stop(h);
	else
		tern_host_after(h, 10 * TERN_MSEC, check_ended, e);
}

int net_host_run(net_host *n, const net_opts *o, void (*on_stop)(void *),
		 void *arg)
{
	catch_signals(n->host);
	int r = tern_host_run(n->host);
	if (r == 0 && got_signal) {
		ending e = {n, tern_host_now(n->host) + o->linger};
		if (on_stop)
			on_stop(arg);
		tern_host_after(n->host, 0, check_ended, &e);
		r = tern_host_run(n->host);
	}
	signalled_host = NULL;
	if (r < 0) {
		cli_error("the device failed: %s", tern_strerror(r));
		return 1;
	}
	return 0;
}

/* --stats: the stack's counters when it ends, and the device's. */
static bool write_stats(net_host *n, const net_opts *o)
{
	const tern_stats *st = tern_stack_stats(tern_host_stack(n->host));
	tern_link_counters lc;
	const tern_link_counters *link =
		tern_link_get_counters(n->device, &lc) == 0 ? &lc : NULL;
	int len = tern_stats_json(NULL, 0, st, link);
	char *buf = malloc((size_t)len + 1);
	FILE *f = buf ? fopen(o->stats, "w") : NULL;
	bool ok = f != NULL;

	if (ok) {
		tern_stats_json(buf, (size_t)len + 1, st, link);
		ok = fprintf(f, "%s\n", buf) > 0;
		ok = fclose(f) == 0 && ok;
	}
	free(buf);
	if (!ok)
		cli_error("--stats: cannot write '%s': %s", o->stats,
			  strerror(errno));
	return ok;
}

bool net_host_close(net_host *n, const net_opts *o)
{
	bool ok = !o->stats || write_stats(n, o);

	if (n->pcap && tern_pcap_flush(n->pcap) < 0) {
		cli_error("--pcap: writing '%s' failed", o->pcap);
		ok = false;
	}
	control_close(n->ctl);	 /* removes its path */
	tern_host_free(n->host); /* closes the capture */
	if (n->json && tern_trace_json_close(n->json) < 0) {
		cli_error("--json: writing '%s' failed", o->json);
		ok = false;
	}
	return ok;
}
