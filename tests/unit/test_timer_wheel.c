/* The timing wheel: exact deadlines, far timers driven the way the
 * simulator drives them, a random model check against a sorted array, and a
 * million timers. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "stack/timer_wheel.h"

#define DAY (86400 * TERN_SEC)

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ---- Small cases: a log of what fired, and scripted callbacks. ---- */

enum act { ACT_NONE, ACT_REARM, ACT_CANCEL, ACT_SCHEDULE };

typedef struct script {
	enum act act;
	int target;	/* timer index for ACT_CANCEL / ACT_SCHEDULE */
	tern_time when; /* deadline for ACT_REARM / ACT_SCHEDULE */
	int times;	/* how many firings still run the action */
} script;

typedef struct env {
	tw_wheel w;
	tw_timer t[8];
	script sc[8];
	int log[32];
	tern_time at[32];
	size_t n;
	tern_time now;
} env;

static void env_init(env *e, tern_time now)
{
	memset(e, 0, sizeof(*e));
	tw_init(&e->w, now);
	e->now = now;
	for (int i = 0; i < 8; i++)
		tw_timer_init(&e->t[i]);
}

static void on_env(tw_timer *t, void *ctx)
{
	env *e = ctx;
	int i = (int)(t - e->t);
	assert_false(tw_pending(t));
	assert_true(t->expires <= e->now);
	assert_true(e->n < 32);
	e->log[e->n] = i;
	e->at[e->n++] = t->expires;
	script *s = &e->sc[i];
	if (s->times <= 0)
		return;
	s->times--;
	if (s->act == ACT_REARM)
		tw_schedule(&e->w, t, s->when);
	else if (s->act == ACT_CANCEL)
		tw_cancel(&e->w, &e->t[s->target]);
	else if (s->act == ACT_SCHEDULE)
		tw_schedule(&e->w, &e->t[s->target], s->when);
}

static size_t env_expire(env *e, tern_time now)
{
	e->now = now;
	return tw_expire(&e->w, now, on_env, e);
}

static void expect_log(const env *e, const int *ids, size_t n)
{
	assert_int_equal(e->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e->log[i], ids[i]);
}

/* The delayed-ACK example: exact nanoseconds, not ticks. */
static void test_fires_at_exact_deadline(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	tern_time armed = 5012345;
	assert_int_equal(env_expire(e, armed), 0);
	assert_false(tw_pending(&e->t[0]));
	tw_schedule(&e->w, &e->t[0], armed + 40 * TERN_MSEC);
	assert_true(tw_pending(&e->t[0]));
	assert_int_equal(tw_count(&e->w), 1);
	assert_true(tw_next_deadline(&e->w) == 45012345);
	assert_int_equal(env_expire(e, 45012344), 0);
	assert_true(tw_pending(&e->t[0]));
	assert_true(tw_next_deadline(&e->w) == 45012345);
	assert_int_equal(env_expire(e, 45012345), 1);
	assert_true(e->at[0] == 45012345);
	assert_false(tw_pending(&e->t[0]));
	assert_int_equal(tw_count(&e->w), 0);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE);
	free(e);
}

static void test_cancel(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	tw_cancel(&e->w, &e->t[0]); /* not pending: a no-op */
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[1], 3 * TERN_SEC);
	tw_cancel(&e->w, &e->t[0]);
	tw_cancel(&e->w, &e->t[0]);
	assert_false(tw_pending(&e->t[0]));
	assert_int_equal(tw_count(&e->w), 1);
	assert_true(tw_next_deadline(&e->w) == 3 * TERN_SEC);
	/* No deadline means cancel. */
	tw_schedule(&e->w, &e->t[1], TERN_TIME_NONE);
	assert_false(tw_pending(&e->t[1]));
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE);
	assert_int_equal(env_expire(e, 10 * TERN_SEC), 0);
	assert_int_equal(e->n, 0);
	free(e);
}

static void test_rearm_earlier_and_later(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	tw_schedule(&e->w, &e->t[0], 100 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[0], 50 * TERN_MSEC + 7);
	assert_int_equal(tw_count(&e->w), 1);
	assert_true(tw_next_deadline(&e->w) == 50 * TERN_MSEC + 7);
	assert_int_equal(env_expire(e, 50 * TERN_MSEC + 7), 1);
	assert_int_equal(env_expire(e, 100 * TERN_MSEC), 0);

	tw_schedule(&e->w, &e->t[0], 10 * TERN_SEC);
	tw_schedule(&e->w, &e->t[0], 20 * TERN_SEC + 3);
	assert_int_equal(env_expire(e, 10 * TERN_SEC), 0);
	assert_true(tw_next_deadline(&e->w) == 20 * TERN_SEC + 3);
	assert_int_equal(env_expire(e, 20 * TERN_SEC + 2), 0);
	assert_int_equal(env_expire(e, 20 * TERN_SEC + 3), 1);
	assert_int_equal(e->n, 2);
	free(e);
}

static void test_schedule_in_past_fires_next_expire(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	assert_int_equal(env_expire(e, 7 * TERN_SEC), 0);
	tw_schedule(&e->w, &e->t[0], 2 * TERN_SEC);
	tw_schedule(&e->w, &e->t[1], 7 * TERN_SEC);
	tw_schedule(&e->w, &e->t[2], 0);
	assert_true(tw_next_deadline(&e->w) == 0);
	assert_int_equal(env_expire(e, 7 * TERN_SEC), 3);
	expect_log(e, (int[]){2, 0, 1}, 3);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE);
	free(e);
}

static void test_ties_fire_in_schedule_order(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[1], 5 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[2], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[3], 5 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[4], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC); /* now after 2 and 4 */
	assert_int_equal(env_expire(e, 20 * TERN_MSEC), 5);
	expect_log(e, (int[]){1, 3, 2, 4, 0}, 5);
	free(e);
}

static void test_callback_rearms_itself(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	e->sc[0] = (script){ACT_REARM, 0, 30 * TERN_MSEC, 1};
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
	assert_int_equal(env_expire(e, 10 * TERN_MSEC), 1);
	assert_true(tw_pending(&e->t[0]));
	assert_true(tw_next_deadline(&e->w) == 30 * TERN_MSEC);
	assert_int_equal(env_expire(e, 30 * TERN_MSEC), 1);
	/* Re-armed at or before now: fires again in the same call. */
	e->sc[0] = (script){ACT_REARM, 0, 35 * TERN_MSEC, 2};
	tw_schedule(&e->w, &e->t[0], 40 * TERN_MSEC);
	assert_int_equal(env_expire(e, 40 * TERN_MSEC), 3);
	expect_log(e, (int[]){0, 0, 0, 0, 0}, 5);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE);
	free(e);
}

static void test_callback_cancels_due_timer(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	e->sc[0] = (script){ACT_CANCEL, 1, 0, 1};
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[1], 10 * TERN_MSEC + 1);
	tw_schedule(&e->w, &e->t[2], 80 * TERN_MSEC);
	assert_int_equal(env_expire(e, 90 * TERN_MSEC), 2);
	expect_log(e, (int[]){0, 2}, 2);
	assert_false(tw_pending(&e->t[1]));
	assert_int_equal(tw_count(&e->w), 0);
	free(e);
}

/* A callback scheduling another timer at or before now: it fires in the
 * same call, in its place among the rest, as a priority queue would. */
static void test_callback_schedules_due_timer(void **state)
{
	(void)state;
	/* Timer 0 (10 ms) schedules timer 2; timer 4 (10.4 ms) shares 0's
	 * tick; 1 and 3 are at 12 and 19 ms. */
	tern_time when[] = {9 * TERN_MSEC, 10200 * TERN_USEC, 11 * TERN_MSEC,
			    15 * TERN_MSEC};
	int order[][5] = {{0, 2, 4, 1, 3},
			  {0, 2, 4, 1, 3},
			  {0, 4, 2, 1, 3},
			  {0, 4, 1, 2, 3}};
	for (int k = 0; k < 4; k++) {
		env *e = malloc(sizeof(*e));
		env_init(e, 0);
		e->sc[0] = (script){ACT_SCHEDULE, 2, when[k], 1};
		tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
		tw_schedule(&e->w, &e->t[1], 12 * TERN_MSEC);
		tw_schedule(&e->w, &e->t[3], 19 * TERN_MSEC);
		tw_schedule(&e->w, &e->t[4], 10400 * TERN_USEC);
		assert_int_equal(env_expire(e, 20 * TERN_MSEC), 5);
		expect_log(e, order[k], 5);
		free(e);
	}
}

static void test_stale_minimum_after_cancel(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 0);
	/* Same tick in level 0: the answer is exact at once. */
	tw_schedule(&e->w, &e->t[0], 10 * TERN_MSEC);
	tw_schedule(&e->w, &e->t[1], 10 * TERN_MSEC + 300 * TERN_USEC);
	tw_cancel(&e->w, &e->t[0]);
	assert_true(tw_next_deadline(&e->w) ==
		    10 * TERN_MSEC + 300 * TERN_USEC);
	assert_int_equal(env_expire(e, 10 * TERN_MSEC + 300 * TERN_USEC), 1);
	/* Same far slot: may be early, never late, then exact. */
	tw_schedule(&e->w, &e->t[0], 100 * TERN_SEC);
	tw_schedule(&e->w, &e->t[1], 100 * TERN_SEC + 200 * TERN_MSEC);
	tw_cancel(&e->w, &e->t[0]);
	int jumps = 0;
	tern_time nd;
	while ((nd = tw_next_deadline(&e->w)) != TERN_TIME_NONE) {
		assert_true(nd <= 100 * TERN_SEC + 200 * TERN_MSEC);
		env_expire(e, nd);
		jumps++;
	}
	assert_int_equal(e->n, 2);
	assert_true(e->at[1] == 100 * TERN_SEC + 200 * TERN_MSEC);
	assert_true(jumps <= 2);
	free(e);
}

static void test_latest_representable_deadline(void **state)
{
	(void)state;
	env *e = malloc(sizeof(*e));
	env_init(e, 12345);
	tw_schedule(&e->w, &e->t[0], TERN_TIME_NONE - 1);
	tw_schedule(&e->w, &e->t[1], TERN_TIME_NONE / 2);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE / 2);
	assert_int_equal(env_expire(e, TERN_TIME_NONE / 2), 1);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE - 1);
	assert_int_equal(env_expire(e, TERN_TIME_NONE - 2), 0);
	assert_int_equal(env_expire(e, TERN_TIME_NONE - 1), 1);
	assert_true(tw_next_deadline(&e->w) == TERN_TIME_NONE);
	free(e);
}

/* ---- Far timers, driven by jumping to the next deadline. ---- */

/* Jump to each next deadline until nothing is pending, checking every
 * firing is at its exact deadline. Returns the jumps that fired nothing. */
static int drive(env *e)
{
	int empty = 0;
	tern_time nd;
	while ((nd = tw_next_deadline(&e->w)) != TERN_TIME_NONE) {
		assert_true(nd >= e->now);
		size_t before = e->n;
		if (env_expire(e, nd) == 0)
			empty++;
		for (size_t i = before; i < e->n; i++)
			assert_true(e->at[i] == nd);
		assert_true(tw_next_deadline(&e->w) > nd);
	}
	return empty;
}

static void test_far_timers_fire_exactly(void **state)
{
	(void)state;
	const tern_time far[] = {TERN_SEC, 60 * TERN_SEC, 7200 * TERN_SEC,
				 120 * TERN_SEC, 30 * DAY};
	const tern_time base = 5012345;
	env *e = malloc(sizeof(*e));
	for (int i = 0; i < 5; i++) {
		env_init(e, base);
		tw_schedule(&e->w, &e->t[0], base + far[i]);
		assert_true(tw_next_deadline(&e->w) == base + far[i]);
		assert_true(drive(e) <= 8);
		assert_int_equal(e->n, 1);
		assert_true(e->at[0] == base + far[i]);
	}
	/* All together, plus a near one, from an odd starting time. */
	env_init(e, 3 * DAY + 777);
	for (int i = 0; i < 5; i++)
		tw_schedule(&e->w, &e->t[i], e->now + far[i] + (tern_time)i);
	tw_schedule(&e->w, &e->t[5], e->now + 40 * TERN_MSEC);
	tern_time start = e->now;
	assert_true(drive(e) <= 8 * 6);
	expect_log(e, (int[]){5, 0, 1, 3, 2, 4}, 6);
	for (size_t i = 1; i < 6; i++)
		assert_true(e->at[i] ==
			    start + far[e->log[i]] + (tern_time)e->log[i]);
	free(e);
}

/* ---- Random operations against a reference: a sorted array. ---- */

#define M_TIMERS 512
#define M_STEPS 200000

typedef struct ref_ent {
	tern_time expires;
	uint64_t seq;
	int id;
} ref_ent;

typedef struct model {
	tw_wheel w;
	tw_timer t[M_TIMERS];
	/* Pending timers sorted by (expires, seq), latest first, so the
	 * earliest is at the end. */
	ref_ent ent[M_TIMERS];
	size_t n;
	bool pending[M_TIMERS];
	tern_time expires[M_TIMERS];
	uint64_t seqs[M_TIMERS];
	uint64_t seq;
	tern_time now;
	uint64_t rng;
	size_t fired, early, inexact, jumps;
} model;

static uint64_t rnd(model *m, uint64_t bound)
{
	return xorshift(&m->rng) % bound;
}

/* Whether a comes after b in firing order. */
static bool later(tern_time ea, uint64_t sa, tern_time eb, uint64_t sb)
{
	return ea > eb || (ea == eb && sa > sb);
}

/* The index of the first entry not later than (e, s). */
static size_t ref_pos(const model *m, tern_time e, uint64_t s)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const ref_ent *r = &m->ent[mid];
		if (later(r->expires, r->seq, e, s))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ref_remove(model *m, int id)
{
	if (!m->pending[id])
		return;
	size_t i = ref_pos(m, m->expires[id], m->seqs[id]);
	assert_true(i < m->n && m->ent[i].id == id);
	memmove(&m->ent[i], &m->ent[i + 1], (m->n - i - 1) * sizeof(ref_ent));
	m->n--;
	m->pending[id] = false;
}

static void m_schedule(model *m, int id, tern_time expires)
{
	tw_schedule(&m->w, &m->t[id], expires);
	ref_remove(m, id);
	uint64_t s = m->seq++;
	size_t i = ref_pos(m, expires, s);
	memmove(&m->ent[i + 1], &m->ent[i], (m->n - i) * sizeof(ref_ent));
	m->ent[i] = (ref_ent){expires, s, id};
	m->n++;
	m->pending[id] = true;
	m->expires[id] = expires;
	m->seqs[id] = s;
}

static void m_cancel(model *m, int id)
{
	tw_cancel(&m->w, &m->t[id]);
	ref_remove(m, id);
}

/* A deadline: near (µs..ms), far (s..days), in the past, or a tie. */
static tern_time rand_deadline(model *m)
{
	uint64_t r = rnd(m, 100);
	if (r < 6 && m->n)
		return m->ent[rnd(m, m->n)].expires;
	if (r < 12)
		return m->now - (m->now < 5 * TERN_MSEC
					 ? m->now
					 : rnd(m, 5 * TERN_MSEC));
	if (r < 30)
		return m->now + rnd(m, 100 * TERN_USEC);
	if (r < 70)
		return m->now + rnd(m, 300 * TERN_MSEC);
	if (r < 95)
		return m->now + TERN_SEC + rnd(m, 600 * TERN_SEC);
	return m->now + rnd(m, 30 * DAY);
}

/* What a firing timer's callback does: re-arm itself, cancel another timer
 * (perhaps one also due), or schedule another, perhaps at or before now.
 * Fewer than one in six firings causes another firing in the same call,
 * so chains end. */
static void callback_action(model *m, int id)
{
	uint64_t r = rnd(m, 100);
	int other = (int)rnd(m, M_TIMERS);
	if (r < 3)
		m_schedule(m, id, m->now - rnd(m, m->now < 1000 ? 1 : 1000));
	else if (r < 30)
		m_schedule(m, id, m->now + 1 + rnd(m, 200 * TERN_MSEC));
	else if (r < 45)
		m_cancel(m, other);
	else if (r < 55)
		m_schedule(m, other,
			   m->now - rnd(m, m->now < TERN_MSEC ? 1 : TERN_MSEC));
	else if (r < 65)
		m_schedule(m, other, rand_deadline(m));
}

static void on_model(tw_timer *t, void *ctx)
{
	model *m = ctx;
	int id = (int)(t - m->t);
	/* Exactly the reference's next timer, and it was due. */
	assert_true(m->n > 0);
	const ref_ent *first = &m->ent[m->n - 1];
	assert_int_equal(first->id, id);
	assert_true(first->expires == t->expires);
	assert_true(t->expires <= m->now);
	assert_false(tw_pending(t));
	m->n--;
	m->pending[id] = false;
	m->fired++;
	callback_action(m, id);
}

static size_t m_advance(model *m, tern_time now)
{
	m->now = now;
	size_t fired = m->fired;
	size_t n = tw_expire(&m->w, now, on_model, m);
	assert_int_equal(n, m->fired - fired);
	/* Everything due has fired; the next deadline is in the future. */
	assert_true(m->n == 0 || m->ent[m->n - 1].expires > now);
	assert_true(tw_next_deadline(&m->w) > now);
	return n;
}

static void m_check(model *m, int id, bool all)
{
	tern_time nd = tw_next_deadline(&m->w);
	tern_time first = m->n ? m->ent[m->n - 1].expires : TERN_TIME_NONE;
	assert_true(nd <= first);
	if (nd != first)
		m->inexact++;
	assert_int_equal(tw_count(&m->w), m->n);
	assert_int_equal(tw_pending(&m->t[id]), m->pending[id]);
	for (int i = 0; all && i < M_TIMERS; i++)
		assert_int_equal(tw_pending(&m->t[i]), m->pending[i]);
}

static void model_step(model *m)
{
	uint64_t r = rnd(m, 100);
	int id = (int)rnd(m, M_TIMERS);
	if (r < 35) {
		m_schedule(m, id, rand_deadline(m));
	} else if (r < 50) {
		m_cancel(m, id);
	} else if (r < 75) {
		tern_time nd = tw_next_deadline(&m->w);
		if (nd != TERN_TIME_NONE) {
			m->jumps++;
			if (m_advance(m, nd > m->now ? nd : m->now) == 0)
				m->early++;
		}
	} else {
		uint64_t k = rnd(m, 100);
		tern_time step = k < 10	  ? 0
				 : k < 60 ? rnd(m, 2 * TERN_MSEC)
				 : k < 97 ? rnd(m, 2 * TERN_SEC)
					  : rnd(m, 3 * 3600 * TERN_SEC);
		m_advance(m, m->now + step);
	}
}

static void test_random_model(void **state)
{
	(void)state;
	model *m = calloc(1, sizeof(*m));
	m->rng = 0x9e3779b97f4a7c15u;
	m->now = 1000 * TERN_SEC + 123;
	tw_init(&m->w, m->now);
	for (int i = 0; i < M_TIMERS; i++)
		tw_timer_init(&m->t[i]);
	for (int step = 0; step < M_STEPS; step++) {
		model_step(m);
		m_check(m, (int)rnd(m, M_TIMERS), step % 1000 == 0);
	}
	print_message("model: %zu fired, %zu jumps, %zu early, %zu inexact\n",
		      m->fired, m->jumps, m->early, m->inexact);
	assert_true(m->fired > M_STEPS / 4);
	/* Early wake-ups come only from cancels in far slots: rare. */
	assert_true(m->early * 50 < m->jumps);
	free(m);
}

/* ---- A million timers. ---- */

#define S_TIMERS 1000000

typedef struct scale {
	tw_timer *t;
	tern_time now, last_expires;
	size_t last_id, fired;
} scale;

static void on_scale(tw_timer *t, void *ctx)
{
	scale *s = ctx;
	size_t id = (size_t)(t - s->t);
	assert_true(t->expires == s->now);
	/* Strictly increasing (expires, id): in order, and none twice. */
	if (s->fired)
		assert_true(t->expires > s->last_expires ||
			    (t->expires == s->last_expires && id > s->last_id));
	s->last_expires = t->expires;
	s->last_id = id;
	s->fired++;
}

static void test_million_timers(void **state)
{
	(void)state;
	scale s = {0};
	s.t = malloc(S_TIMERS * sizeof(tw_timer));
	tw_wheel *w = malloc(sizeof(*w));
	assert_non_null(s.t);
	tw_init(w, 0);
	uint64_t rng = 88172645463325252u;
	for (size_t i = 0; i < S_TIMERS; i++) {
		tern_time e = xorshift(&rng) % (600 * TERN_SEC + 1);
		if (i % 2) /* whole milliseconds, so many deadlines tie */
			e -= e % TERN_MSEC;
		tw_timer_init(&s.t[i]);
		tw_schedule(w, &s.t[i], e);
	}
	assert_int_equal(tw_count(w), S_TIMERS);
	size_t empty = 0;
	tern_time nd;
	while ((nd = tw_next_deadline(w)) != TERN_TIME_NONE) {
		s.now = nd;
		if (tw_expire(w, nd, on_scale, &s) == 0)
			empty++;
	}
	assert_int_equal(s.fired, S_TIMERS);
	assert_int_equal(empty, 0);
	assert_int_equal(tw_count(w), 0);
	free(w);
	free(s.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_at_exact_deadline),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rearm_earlier_and_later),
		cmocka_unit_test(test_schedule_in_past_fires_next_expire),
		cmocka_unit_test(test_ties_fire_in_schedule_order),
		cmocka_unit_test(test_callback_rearms_itself),
		cmocka_unit_test(test_callback_cancels_due_timer),
		cmocka_unit_test(test_callback_schedules_due_timer),
		cmocka_unit_test(test_stale_minimum_after_cancel),
		cmocka_unit_test(test_latest_representable_deadline),
		cmocka_unit_test(test_far_timers_fire_exactly),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_million_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
