/* A hierarchical timing wheel with exact deadlines.
 *
 * Layout. Time is cut into ticks of 2^20 ns. The wheel stands at tick `cur`
 * (the tick of the last tw_expire). A timer due at tick e >= cur goes to
 * the level of the highest base-64 digit (base 256 for level 0) in which e
 * and cur differ, in the slot named by e's digit there: level 0 holds the
 * timers of cur's 256-tick block, one tick per slot; level k holds those of
 * cur's level-(k+1) span, one level-k digit per slot. The digit of a
 * non-empty slot is always above cur's (at level 0, at least cur's), so
 * slots never wrap, and slot order is time order: the lowest non-empty slot
 * of the lowest non-empty level holds the earliest timer. Flat slot indices
 * run level by level, so that slot is the first set bit of `used`: a scan of
 * ten words. 44 tick bits cover all of tern_time, so there is no overflow
 * list. A timer due at or before cur is filed at cur.
 *
 * Exact times. Ticks only sort timers into slots; each slot keeps the
 * minimum `expires` of its timers, exact after inserts, possibly too low
 * after a cancel (a "stale" bit says so). tw_next_deadline returns that
 * minimum for the first non-empty slot, recomputing it first if the slot is
 * stale and in level 0 (a scan of one tick's timers). A stale slot higher up
 * keeps its low minimum: the early wake-up it causes is the one at which the
 * slot must cascade anyway. So a far timer fires with no wasted wake-up.
 *
 * Expiry. tw_expire walks the first non-empty slot while its start tick is
 * at or before now's tick: a higher-level slot is cascaded (cur moves to its
 * start and its timers are filed again, one level lower or more); a level-0
 * slot gives up its due timers, which are sorted by (expires, seq) into a
 * batch and fired one by one. A callback that schedules a timer due at or
 * before the batch's tick puts it into the batch in order, so firing order
 * is exactly that of a priority queue keyed by (expires, seq). Nothing
 * depends on pointer values: the same operations give the same firings.
 */
#include <assert.h>

#include "stack/timer_wheel.h"

#define TW_SLOT_NONE UINT32_MAX
#define TW_SLOT_BATCH ((uint32_t)TW_SLOTS)
#define TW_TICK_BITS (64 - TW_TICK_SHIFT)

_Static_assert(TW_L0_BITS + (TW_LEVELS - 1) * TW_LN_BITS == TW_TICK_BITS,
	       "the levels must cover every tick of tern_time");
_Static_assert(TW_SLOTS % 64 == 0, "slot bitmaps are whole words");

static unsigned lowest_bit(uint64_t x)
{
	assert(x != 0);
#if defined(__GNUC__)
	return (unsigned)__builtin_ctzll(x);
#else
	unsigned n = 0;
	while (!(x & 1)) {
		x >>= 1;
		n++;
	}
	return n;
#endif
}

static unsigned highest_bit(uint64_t x)
{
	assert(x != 0);
#if defined(__GNUC__)
	return 63u - (unsigned)__builtin_clzll(x);
#else
	unsigned n = 0;
	while (x >>= 1)
		n++;
	return n;
#endif
}

static uint64_t tick_of(tern_time t)
{
	return t >> TW_TICK_SHIFT;
}

/* The lowest tick bit of level `lvl`'s digit. */
static unsigned level_shift(unsigned lvl)
{
	return lvl == 0 ? 0 : TW_L0_BITS + (lvl - 1) * TW_LN_BITS;
}

static unsigned level_of_slot(uint32_t idx)
{
	return idx < TW_L0_SLOTS ? 0 : 1 + (idx - TW_L0_SLOTS) / TW_LN_SLOTS;
}

/* The slot for a timer due at tick e >= cur. */
static uint32_t slot_for(uint64_t cur, uint64_t e)
{
	uint64_t diff = e ^ cur;
	if (diff < TW_L0_SLOTS)
		return (uint32_t)(e & (TW_L0_SLOTS - 1));
	unsigned lvl = 1 + (highest_bit(diff) - TW_L0_BITS) / TW_LN_BITS;
	uint64_t digit = (e >> level_shift(lvl)) & (TW_LN_SLOTS - 1);
	return TW_L0_SLOTS + (lvl - 1) * TW_LN_SLOTS + (uint32_t)digit;
}

/* The first tick a slot covers, given the tick the wheel stands at. */
static uint64_t slot_start(uint64_t cur, uint32_t idx)
{
	unsigned lvl = level_of_slot(idx);
	unsigned lo = level_shift(lvl);
	unsigned hi = lvl == 0 ? TW_L0_BITS : lo + TW_LN_BITS;
	uint64_t digit = lvl == 0 ? idx : (idx - TW_L0_SLOTS) % TW_LN_SLOTS;
	uint64_t above = hi >= TW_TICK_BITS ? 0 : (cur >> hi) << hi;
	return above | (digit << lo);
}

static void set_bit(uint64_t *map, uint32_t idx, bool on)
{
	uint64_t bit = (uint64_t)1 << (idx % 64);
	if (on)
		map[idx / 64] |= bit;
	else
		map[idx / 64] &= ~bit;
}

static bool get_bit(const uint64_t *map, uint32_t idx)
{
	return (map[idx / 64] >> (idx % 64)) & 1;
}

/* The first non-empty slot: the one holding the earliest timer. */
static uint32_t first_slot(const tw_wheel *w)
{
	for (uint32_t i = 0; i < TW_WORDS; i++)
		if (w->used[i])
			return i * 64 + lowest_bit(w->used[i]);
	return TW_SLOT_NONE;
}

static void slot_reset(tw_wheel *w, uint32_t idx)
{
	w->slots[idx] = (tw_slot){NULL, NULL, TERN_TIME_NONE};
	set_bit(w->used, idx, false);
	set_bit(w->stale, idx, false);
}

static void slot_append(tw_wheel *w, uint32_t idx, tw_timer *t)
{
	tw_slot *s = &w->slots[idx];
	t->slot = idx;
	t->next = NULL;
	t->prev = s->tail;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
	set_bit(w->used, idx, true);
	/* A new minimum is a present timer, so it is exact again. */
	if (t->expires < s->min) {
		s->min = t->expires;
		set_bit(w->stale, idx, false);
	}
}

static void slot_unlink(tw_wheel *w, tw_timer *t)
{
	tw_slot *s = &w->slots[t->slot];
	if (t->prev)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		s->tail = t->prev;
	if (!s->head)
		slot_reset(w, t->slot);
	else if (t->expires == s->min)
		set_bit(w->stale, t->slot, true);
}

static void recompute_min(tw_wheel *w, uint32_t idx)
{
	tw_slot *s = &w->slots[idx];
	s->min = TERN_TIME_NONE;
	for (tw_timer *t = s->head; t; t = t->next)
		if (t->expires < s->min)
			s->min = t->expires;
	set_bit(w->stale, idx, false);
}

static void file_timer(tw_wheel *w, tw_timer *t)
{
	uint64_t e = tick_of(t->expires);
	slot_append(w, slot_for(w->cur, e < w->cur ? w->cur : e), t);
}

static bool before(const tw_timer *a, const tw_timer *b)
{
	return a->expires < b->expires ||
	       (a->expires == b->expires && a->seq < b->seq);
}

static void batch_unlink(tw_wheel *w, tw_timer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->batch = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		w->batch_tail = t->prev;
}

/* Put `t` into the firing batch in (expires, seq) order. Its seq is the
 * newest, so it goes after every timer with expires <= its own; searching
 * from the tail finds that at once when it is due last, the usual case. */
static void batch_insert(tw_wheel *w, tw_timer *t)
{
	tw_timer *p = w->batch_tail;
	while (p && p->expires > t->expires)
		p = p->prev;
	t->slot = TW_SLOT_BATCH;
	t->prev = p;
	t->next = p ? p->next : w->batch;
	if (t->next)
		t->next->prev = t;
	else
		w->batch_tail = t;
	if (p)
		p->next = t;
	else
		w->batch = t;
}

void tw_init(tw_wheel *w, tern_time now)
{
	w->now = now;
	w->cur = tick_of(now);
	w->seq = 0;
	w->count = 0;
	w->batch = w->batch_tail = NULL;
	w->firing = false;
	for (uint32_t i = 0; i < TW_SLOTS; i++)
		w->slots[i] = (tw_slot){NULL, NULL, TERN_TIME_NONE};
	for (uint32_t i = 0; i < TW_WORDS; i++)
		w->used[i] = w->stale[i] = 0;
}

void tw_timer_init(tw_timer *t)
{
	t->next = t->prev = NULL;
	t->expires = TERN_TIME_NONE;
	t->seq = 0;
	t->slot = TW_SLOT_NONE;
}

bool tw_pending(const tw_timer *t)
{
	return t->slot != TW_SLOT_NONE;
}

void tw_cancel(tw_wheel *w, tw_timer *t)
{
	if (!tw_pending(t))
		return;
	if (t->slot == TW_SLOT_BATCH)
		batch_unlink(w, t);
	else
		slot_unlink(w, t);
	t->next = t->prev = NULL;
	t->slot = TW_SLOT_NONE;
	w->count--;
}

void tw_schedule(tw_wheel *w, tw_timer *t, tern_time expires)
{
	tw_cancel(w, t);
	if (expires == TERN_TIME_NONE)
		return;
	t->expires = expires;
	t->seq = w->seq++;
	w->count++;
	/* Due at or before the tick being fired: it belongs among the batch,
	 * ahead of anything still in the wheel. */
	if (w->firing && expires <= w->now && tick_of(expires) <= w->cur)
		batch_insert(w, t);
	else
		file_timer(w, t);
}

tern_time tw_next_deadline(tw_wheel *w)
{
	if (w->batch)
		return w->batch->expires;
	uint32_t idx = first_slot(w);
	if (idx == TW_SLOT_NONE)
		return TERN_TIME_NONE;
	if (idx < TW_L0_SLOTS && get_bit(w->stale, idx))
		recompute_min(w, idx);
	return w->slots[idx].min;
}

/* Re-file a higher-level slot's timers now that the wheel has reached it;
 * each lands at least one level lower. */
static void cascade(tw_wheel *w, uint32_t idx)
{
	tw_timer *t = w->slots[idx].head;
	slot_reset(w, idx);
	while (t) {
		tw_timer *next = t->next;
		file_timer(w, t);
		t = next;
	}
}

/* Merge two (expires, seq)-sorted lists linked by `next`. */
static tw_timer *merge(tw_timer *a, tw_timer *b)
{
	tw_timer *head = NULL, **tail = &head;
	while (a && b) {
		tw_timer **from = before(b, a) ? &b : &a;
		*tail = *from;
		tail = &(*from)->next;
		*from = (*from)->next;
	}
	*tail = a ? a : b;
	return head;
}

/* Sort a `next`-linked list: bottom-up merge sort, bins[i] holding 2^i. */
static tw_timer *sort_list(tw_timer *list)
{
	tw_timer *bins[64] = {NULL};
	while (list) {
		tw_timer *t = list;
		list = list->next;
		t->next = NULL;
		unsigned i = 0;
		for (; bins[i]; i++) {
			t = merge(bins[i], t);
			bins[i] = NULL;
		}
		bins[i] = t;
	}
	tw_timer *out = NULL;
	for (unsigned i = 0; i < 64; i++)
		if (bins[i])
			out = merge(bins[i], out);
	return out;
}

/* Make the batch from a sorted `next`-linked list. */
static void batch_set(tw_wheel *w, tw_timer *list)
{
	tw_timer *prev = NULL;
	w->batch = list;
	for (tw_timer *t = list; t; t = t->next) {
		t->slot = TW_SLOT_BATCH;
		t->prev = prev;
		prev = t;
	}
	w->batch_tail = prev;
}

/* Move the timers of level-0 slot `idx` that are due into the batch, and
 * leave the slot's minimum exact. Returns whether any was due. */
static bool collect(tw_wheel *w, uint32_t idx)
{
	/* Even a stale minimum is a lower bound. */
	if (w->slots[idx].min > w->now)
		return false;
	tw_timer *due = NULL, **tail = &due;
	tw_timer *t = w->slots[idx].head;
	while (t) {
		tw_timer *next = t->next;
		if (t->expires <= w->now) {
			slot_unlink(w, t);
			*tail = t;
			tail = &t->next;
			*tail = NULL;
		}
		t = next;
	}
	if (w->slots[idx].head)
		recompute_min(w, idx);
	if (!due)
		return false;
	batch_set(w, sort_list(due));
	return true;
}

static size_t fire_batch(tw_wheel *w, void (*fn)(tw_timer *t, void *ctx),
			 void *ctx)
{
	size_t n = 0;
	w->firing = true;
	while (w->batch) {
		tw_timer *t = w->batch;
		tw_cancel(w, t);
		fn(t, ctx);
		n++;
	}
	w->firing = false;
	return n;
}

size_t tw_expire(tw_wheel *w, tern_time now, void (*fn)(tw_timer *t, void *ctx),
		 void *ctx)
{
	assert(!w->firing && "tw_expire called from a timer callback");
	assert(now >= w->now && "time went backwards");
	if (now < w->now)
		now = w->now;
	w->now = now;
	uint64_t end = tick_of(now);
	size_t fired = 0;
	for (;;) {
		uint32_t idx = first_slot(w);
		if (idx == TW_SLOT_NONE)
			break;
		uint64_t start = slot_start(w->cur, idx);
		if (start > end)
			break;
		w->cur = start;
		if (idx >= TW_L0_SLOTS)
			cascade(w, idx);
		else if (collect(w, idx))
			fired += fire_batch(w, fn, ctx);
		else
			break; /* the slot is now's tick; the rest is later */
	}
	w->cur = end;
	return fired;
}

size_t tw_count(const tw_wheel *w)
{
	return w->count;
}
