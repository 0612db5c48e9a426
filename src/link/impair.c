/* tern impair: a frame's fate on one impaired direction.
 *
 * A direction is a chain of small steps (loss -> corruption -> rate limit
 * -> delay/jitter -> reorder -> duplication), in the manner of quicly's
 * test network. Randomness is splitmix64 on a per-direction state, never
 * rand() or a clock, so a seed and a sequence of frames give one sequence
 * of fates.
 */
#include "link/impair.h"

#define DEFAULT_QUEUE_BYTES ((size_t)256 * 1024)
#define GOLDEN 0x9e3779b97f4a7c15ull

/* ---- randomness: splitmix64 ---- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t next64(uint64_t *state)
{
	*state += GOLDEN;
	return mix64(*state);
}

uint64_t impair_stream(uint64_t seed, uint64_t index, int dir)
{
	return mix64(seed ^ mix64(GOLDEN * (2 * index + (uint64_t)dir + 1)));
}

/* True with probability p: the top 53 bits as a double in [0, 1). */
static bool chance(uint64_t r, double p)
{
	return (double)(r >> 11) * 0x1.0p-53 < p;
}

/* Uniform in [0, max]; the modulo bias (< max / 2^64) does not matter. */
static uint64_t upto(uint64_t r, uint64_t max)
{
	return max == UINT64_MAX ? r : r % (max + 1);
}

static tern_time add_time(tern_time a, tern_time b)
{
	/* Saturate below TERN_TIME_NONE: an arrival is always at a real
	 * time. */
	return a > TERN_TIME_NONE - 1 - b ? TERN_TIME_NONE - 1 : a + b;
}

bool impair_path_valid(const tern_sim_path *p)
{
	/* Written so that NaN fails too. */
	return p->loss >= 0 && p->loss <= 1 && p->dup >= 0 && p->dup <= 1 &&
	       p->reorder >= 0 && p->reorder <= 1 && p->corrupt >= 0 &&
	       p->corrupt <= 1;
}

void impair_init(struct impair_dir *d, const tern_sim_path *path, uint64_t rng)
{
	static const tern_sim_path perfect;

	*d = (struct impair_dir){.path = path ? *path : perfect, .rng = rng};
}

/* ---- the steps ---- */

/* The random draws of one frame. Every frame takes all of them, whatever
 * the settings, so that turning one impairment on does not change the
 * fate other impairments deal to later frames. */
enum draw { D_LOSS, D_CORRUPT, D_BIT, D_JITTER, D_REORDER, D_DUP, D_COUNT };

/* A frame on its way through one direction. */
struct transit {
	struct impair_dir *dir;
	size_t len;
	uint64_t r[D_COUNT];
	struct impair_fate *fate; /* its `at` built up by the steps */
};

/* A step returns false when it drops the frame. */
typedef bool (*step_fn)(struct transit *t);

static bool step_loss(struct transit *t)
{
	if (!chance(t->r[D_LOSS], t->dir->path.loss))
		return true;
	t->dir->stats.lost++;
	t->fate->drop = IMPAIR_LOST;
	return false;
}

static bool step_corrupt(struct transit *t)
{
	if (t->len == 0 || !chance(t->r[D_CORRUPT], t->dir->path.corrupt))
		return true;
	t->fate->corrupt = true;
	t->fate->bit = t->r[D_BIT] % ((uint64_t)t->len * 8);
	t->dir->stats.corrupted++;
	return true;
}

/* Time to clock len bytes onto the wire, rounded up. */
static tern_time serialise_ns(size_t len, uint64_t rate_bps)
{
	uint64_t bits_ns = (uint64_t)len * 8 * TERN_SEC;
	return bits_ns / rate_bps + (bits_ns % rate_bps != 0);
}

/* Bytes not yet clocked onto the wire at `now`; saturates when huge. */
static uint64_t backlog(const struct impair_dir *d, tern_time now)
{
	uint64_t ns = d->busy_until - now, rate = d->path.rate_bps;

	if (ns > UINT64_MAX / rate)
		return UINT64_MAX;
	return ns * rate / (8 * TERN_SEC);
}

/* A serialisation queue: frames leave one after another at rate_bps; a
 * frame that does not fit behind the bytes still queued is dropped (an
 * empty queue always takes one frame, whatever its size). */
static bool step_rate(struct transit *t)
{
	struct impair_dir *d = t->dir;
	uint64_t limit =
		d->path.queue_bytes ? d->path.queue_bytes : DEFAULT_QUEUE_BYTES;
	tern_time start = t->fate->at;

	if (d->path.rate_bps == 0)
		return true;
	if (d->busy_until > t->fate->at) {
		uint64_t queued = backlog(d, t->fate->at);
		if (queued > limit || t->len > limit - queued) {
			d->stats.queue_drops++;
			t->fate->drop = IMPAIR_QUEUE_FULL;
			return false;
		}
		start = d->busy_until;
	}
	t->fate->at = add_time(start, serialise_ns(t->len, d->path.rate_bps));
	d->busy_until = t->fate->at;
	return true;
}

static bool step_delay(struct transit *t)
{
	const tern_sim_path *p = &t->dir->path;

	t->fate->at = add_time(t->fate->at, p->delay);
	t->fate->at = add_time(t->fate->at, upto(t->r[D_JITTER], p->jitter));
	return true;
}

static bool step_reorder(struct transit *t)
{
	const tern_sim_path *p = &t->dir->path;
	tern_time hold = p->reorder_delay;

	if (!chance(t->r[D_REORDER], p->reorder))
		return true;
	if (hold == 0)
		hold = add_time(add_time(p->delay, p->delay), TERN_MSEC);
	t->fate->at = add_time(t->fate->at, hold);
	t->dir->stats.reordered++;
	return true;
}

/* The copy arrives at the same time as the first, right after it. */
static bool step_dup(struct transit *t)
{
	if (chance(t->r[D_DUP], t->dir->path.dup)) {
		t->fate->dup = true;
		t->fate->dup_at = t->fate->at;
		t->dir->stats.duplicated++;
	}
	return true;
}

static const step_fn pipeline[] = {
	step_loss, step_corrupt, step_rate, step_delay, step_reorder, step_dup,
};

void impair_decide(struct impair_dir *d, size_t len, tern_time now,
		   struct impair_fate *fate)
{
	struct transit t = {.dir = d, .len = len, .fate = fate};

	*fate = (struct impair_fate){.drop = IMPAIR_PASS, .at = now};
	for (int i = 0; i < D_COUNT; i++)
		t.r[i] = next64(&d->rng);
	d->stats.frames++;
	d->stats.bytes += len;
	for (size_t i = 0; i < sizeof(pipeline) / sizeof(pipeline[0]); i++) {
		if (!pipeline[i](&t))
			return;
	}
}

void impair_corrupt(const struct impair_fate *fate, uint8_t *data)
{
	if (fate->drop == IMPAIR_PASS && fate->corrupt)
		data[fate->bit / 8] ^= (uint8_t)(1u << (fate->bit % 8));
}
