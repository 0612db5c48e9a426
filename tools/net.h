/* What `tern serve` and `tern connect` share: the device and address
 * options, impairments, captures and traces, the host built from them,
 * and a graceful end on SIGINT/SIGTERM. */
#ifndef TERN_TOOLS_NET_H
#define TERN_TOOLS_NET_H

#include <tern/tern.h>

#include "control.h"

typedef struct net_opts {
	const char *tun, *tap; /* one of them */
	uint32_t addr, gateway;
	uint8_t prefix_len;
	uint32_t mtu;
	const char *pcap, *json, *stats;
	tern_rotate rotate;   /* --rotate-size, --rotate-keep (cli_rotate) */
	const char *control;  /* the control socket's path */
	tern_sim_path impair; /* both directions */
	bool impaired;
	bool offload_off; /* --offload off: the device's plain path */
	uint64_t seed;
	tern_time linger; /* how long the graceful end may take */
	/* --sysctl and --sysctl-file applied to the defaults, in order */
	tern_settings settings;
	bool tuned; /* settings holds them (else: the defaults) */
} net_opts;

/* Takes the option at argv[*i] if it is one of these (advancing *i past
 * its value): returns 1 taken, 0 not ours, -1 bad (reason printed). */
int net_opt(net_opts *o, int argc, char **argv, int *i);
/* Checks what is required; false with the reason printed. */
bool net_opts_check(const net_opts *o);
const char *net_opts_usage(void);

typedef struct net_host {
	tern_host *host;
	tern_trace_json *json;
	tern_link *pcap;   /* the capture wrapper, inside the host's link */
	tern_link *device; /* the TUN/TAP link, innermost */
	control *ctl;	   /* --control */
} net_host;

/* Opens the device and builds the host; prints the reason and returns
 * false on failure. */
bool net_host_open(net_host *n, const net_opts *o);
/* Runs until SIGINT/SIGTERM (or tern_host_stop); then calls on_stop (to
 * close what the application holds) and runs on until every connection
 * is closed or in TIME_WAIT, at most o->linger. Returns the exit code:
 * 0, or 1 if the device failed. */
int net_host_run(net_host *n, const net_opts *o, void (*on_stop)(void *),
		 void *arg);
/* Frees the host; flushes and closes the capture and trace files.
 * Returns false (reason printed) if writing one of them failed. */
bool net_host_close(net_host *n, const net_opts *o);

#endif
