/* A hierarchical timing wheel: the stack's one deadline per connection.
 *
 * Schedule and cancel are O(1); tw_next_deadline() looks at a few bitmap
 * words. Timers fire at their exact deadline in nanoseconds (the wheel's
 * ticks only sort them into slots), so virtual time can jump straight to
 * tw_next_deadline() and traces show exact times. The wheel never reads a
 * clock and never allocates: the caller embeds a tw_wheel and puts a
 * tw_timer inside each object that needs one. See timer_wheel.c for the
 * layout.
 */
#ifndef TERN_STACK_TIMER_WHEEL_H
#define TERN_STACK_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tern/types.h>

/* One tick is 2^20 ns (about 1.05 ms). Level 0 has 256 slots of one tick;
 * levels 1..6 have 64 slots each, 64 times wider than the level below.
 * 8 + 6 * 6 = 44 tick bits, so the wheel spans all of tern_time and no
 * timer is ever out of range. */
#define TW_TICK_SHIFT 20
#define TW_L0_BITS 8
#define TW_LN_BITS 6
#define TW_LEVELS 7
#define TW_L0_SLOTS (1u << TW_L0_BITS)
#define TW_LN_SLOTS (1u << TW_LN_BITS)
#define TW_SLOTS (TW_L0_SLOTS + (TW_LEVELS - 1) * TW_LN_SLOTS)
#define TW_WORDS (TW_SLOTS / 64)

/* A timer, embedded in the caller's object. Fields are private except
 * `expires`, which may be read: it is the deadline last scheduled (so a
 * callback sees the deadline it fires for). */
typedef struct tw_timer {
	struct tw_timer *next, *prev;
	tern_time expires;
	uint64_t seq;  /* schedule order, to fire equal deadlines in order */
	uint32_t slot; /* slot index, TW_SLOT_BATCH, or TW_SLOT_NONE */
} tw_timer;

/* One list of timers. `min` is never above the earliest `expires` in the
 * list; it may be below it after a cancel (the slot is then "stale"). */
typedef struct tw_slot {
	tw_timer *head, *tail;
	tern_time min;
} tw_slot;

/* The wheel. Embed it; all fields are private. */
typedef struct tw_wheel {
	/* `now` of the last tw_expire (or tw_init), and the tick the wheel
	 * stands at, which slot placement is relative to: now's tick, or
	 * while tw_expire works, the tick it has reached. */
	tern_time now;
	uint64_t cur;
	/* The next schedule sequence number. */
	uint64_t seq;
	/* Pending timers, including the firing batch. */
	size_t count;
	/* Timers found due, sorted, being fired by tw_expire. */
	tw_timer *batch, *batch_tail;
	bool firing;
	/* A bit per non-empty slot, and per slot whose min may be too low. */
	uint64_t used[TW_WORDS];
	uint64_t stale[TW_WORDS];
	tw_slot slots[TW_SLOTS];
} tw_wheel;

/* Start an empty wheel at time `now`. */
void tw_init(tw_wheel *w, tern_time now);

/* Make `t` a timer that is not pending. Call once before any other use. */
void tw_timer_init(tw_timer *t);

/* Whether `t` is scheduled and has not fired or been cancelled. */
bool tw_pending(const tw_timer *t);

/* Arm `t` to fire at `expires`, moving it if it is already pending. An
 * `expires` at or before the wheel's time makes it due at the next
 * tw_expire. TERN_TIME_NONE means no deadline: the timer is cancelled. */
void tw_schedule(tw_wheel *w, tw_timer *t, tern_time expires);

/* Disarm `t`; nothing happens if it is not pending. */
void tw_cancel(tw_wheel *w, tw_timer *t);

/* A time at which tw_expire should next be called, or TERN_TIME_NONE if
 * nothing is pending. Never later than the earliest pending deadline, and
 * after tw_expire(now) always later than `now`. It is that deadline exactly
 * unless the wheel had to be conservative (a cancel left a far slot's
 * minimum too low); tw_expire at an early time fires nothing and the next
 * answer is closer. */
tern_time tw_next_deadline(tw_wheel *w);

/* Fire every timer with expires <= now: each is removed, then fn(t, ctx) is
 * called. Timers fire in order of (expires, schedule order), as if popped
 * one at a time from a priority queue, so fn may schedule or cancel any
 * timer: re-arm `t`, cancel another due timer (it then does not fire), or
 * schedule one at or before `now` (it fires in this same call). `now` must
 * not go backwards; fn must not call tw_expire. Returns the number fired. */
size_t tw_expire(tw_wheel *w, tern_time now, void (*fn)(tw_timer *t, void *ctx),
		 void *ctx);

/* The number of pending timers. */
size_t tw_count(const tw_wheel *w);

#endif
