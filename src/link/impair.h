/* tern impair: the fate of a frame on one impaired direction.
 *
 * One module decides, for the simulator (src/link/sim.c) and for the
 * impairment wrapper around real links (impair_link.c), what happens to
 * a frame entering a direction described by a tern_sim_path: dropped
 * (and why), which bit is flipped, when it arrives, and whether a copy
 * follows. The caller moves the bytes; this module only decides, so the
 * same seed deals the same fates on both.
 */
#ifndef TERN_LINK_IMPAIR_H
#define TERN_LINK_IMPAIR_H

#include <tern/sim.h>

/* One direction: its settings, counters, random stream and the state of
 * its rate limiter. Callers count stats.delivered themselves, as copies
 * are handed on. */
struct impair_dir {
	tern_sim_path path;
	tern_sim_path_stats stats;
	uint64_t rng;
	tern_time busy_until; /* the serialisation queue drains at this time */
};

enum impair_drop {
	IMPAIR_PASS,	   /* the frame goes on */
	IMPAIR_LOST,	   /* random loss */
	IMPAIR_QUEUE_FULL, /* no room behind the rate limiter's backlog */
};

/* What happens to one frame. */
struct impair_fate {
	enum impair_drop drop;
	bool corrupt;	  /* flip bit `bit` (bit 0 is byte 0's lowest) */
	uint64_t bit;	  /* < len * 8 when corrupt */
	tern_time at;	  /* arrival time */
	bool dup;	  /* a second copy follows the first */
	tern_time dup_at; /* its arrival time (right after the first) */
};

/* The random stream of direction dir (0 or 1) of link `index` for a seed:
 * keyed by these alone, so adding links or retuning one direction leaves
 * every other stream as it was. */
uint64_t impair_stream(uint64_t seed, uint64_t index, int dir);

/* True when every probability of p lies in [0, 1] (NaN does not). */
bool impair_path_valid(const tern_sim_path *p);

/* A direction with path (NULL: a perfect wire) and random state rng. */
void impair_init(struct impair_dir *d, const tern_sim_path *path, uint64_t rng);

/* Decides the fate of a frame of len bytes entering d at now, counting it
 * in d->stats and advancing d's random stream and rate limiter. */
void impair_decide(struct impair_dir *d, size_t len, tern_time now,
		   struct impair_fate *fate);

/* Applies the fate's corruption (if any) to the frame's bytes. */
void impair_corrupt(const struct impair_fate *fate, uint8_t *data);

#endif
