/* tern_synflood: a SYN flood in the simulator (SCENARIOS.md 21 at scale).
 *
 *   tern_synflood [--syns N] [--clients N] [--seconds S] [--cookies 0|1|2]
 *                 (defaults 1000000, 1000, 100, 1)
 *
 * N spoofed SYNs from random addresses and ports, never answered, go to
 * a listener at an even rate over S seconds of virtual time, while the
 * genuine clients of a second stack connect among them, each sending a
 * byte and closing (tests/util/synflood.h, which tests/sim uses with
 * 100,000 SYNs). Prints the genuine clients' success rate (ESTABLISHED
 * and the byte read by the server), the spoofed SYNs handled per second
 * of real time (the whole run: the flood, the clients, the simulated
 * network), and the server's memory: bytes its stack had from the
 * allocator after 10 % of the flood, at the end and at most. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/util/synflood.h"
#include "common.h"

/* One option and its bounds. */
static const struct opt {
	const char *name;
	uint64_t lo, hi;
	const char *what;
} opts[] = {
	{"--syns", 10, 100000000, "a count of SYNs from 10 to 100M"},
	{"--clients", 0, 60000, "a count of clients up to 60000"},
	{"--seconds", 1, 3600, "seconds from 1 to 3600"},
	{"--cookies", 0, 2, "0, 1 or 2"},
};

static bool parse_args(int argc, char **argv, sf_config *cfg)
{
	for (int i = 1; i < argc; i += 2) {
		size_t k = 0;
		uint64_t v;
		while (k < sizeof(opts) / sizeof(opts[0]) &&
		       strcmp(argv[i], opts[k].name) != 0)
			k++;
		if (k == sizeof(opts) / sizeof(opts[0]) || i + 1 >= argc)
			return bench_bad("tern_synflood", argv[i],
					 i + 1 < argc ? argv[i + 1] : "",
					 "an option of the usage");
		if (!bench_parse_size(argv[i + 1], opts[k].lo, opts[k].hi, &v))
			return bench_bad("tern_synflood", argv[i], argv[i + 1],
					 opts[k].what);
		if (k == 0)
			cfg->spoofed = (uint32_t)v;
		else if (k == 1)
			cfg->genuine = (uint32_t)v;
		else if (k == 2)
			cfg->duration = (tern_time)v * TERN_SEC;
		else
			cfg->syncookies = (int)v;
	}
	return true;
}

int main(int argc, char **argv)
{
	sf_config cfg = {
		.seed = 21,
		.spoofed = 1000000,
		.genuine = 1000,
		.duration = 100 * TERN_SEC,
		.syncookies = 1,
	};
	sf_result res;

	if (!parse_args(argc, argv, &cfg)) {
		fprintf(stderr, "usage: tern_synflood [--syns N] [--clients N] "
				"[--seconds S] [--cookies 0|1|2]\n");
		return 2;
	}
	bench_malloc_tune();
	uint64_t t0 = bench_wall();
	int err = sf_flood(&cfg, &res);
	double secs = (double)(bench_wall() - t0) / 1e9;
	if (err < 0) {
		fprintf(stderr, "tern_synflood: %s\n", tern_strerror(err));
		return 1;
	}
	double rate = cfg.genuine ? 100.0 * res.delivered / cfg.genuine : 100;
	printf("%" PRIu32 " spoofed SYNs in %.0f s virtual, %.2f s real: "
	       "%.0f SYNs/s; genuine clients %" PRIu32 "/%" PRIu32
	       " connected, %.2f %% with their byte through; server memory "
	       "%zu bytes after 10 %%, %zu at the end, %zu at most; "
	       "SyncookiesSent %" PRIu64 "\n",
	       res.injected, (double)cfg.duration / TERN_SEC, secs,
	       res.injected / secs, res.connected, cfg.genuine, rate,
	       res.mem_10, res.mem_end, res.mem_peak,
	       res.server.counters[TERN_CTR_SYNCOOKIES_SENT]);
	printf("RESULT success=%.2f syns_per_s=%.0f mem_10=%zu mem_end=%zu "
	       "mem_peak=%zu\n",
	       rate, res.injected / secs, res.mem_10, res.mem_end,
	       res.mem_peak);
	return 0;
}
