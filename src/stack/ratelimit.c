/* Limits for the whole stack: RFC 5961's challenge ACKs a second, and
 * the deterministic generator behind the random part of such rules, so
 * that a simulated run repeats exactly. */
#include "stack/stack.h"

/* splitmix64 (Steele, Lea and Flood, 2014) over the state the secret
 * seeded (stack.c, derive_keys). */
uint64_t stack_random(tern_stack *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The high 32 bits scaled to [0, n) by a multiply, as Linux's
 * get_random_u32_below() (Lemire's method, without its rejection step:
 * the bias is below n / 2^32). */
uint32_t stack_random_below(tern_stack *s, uint32_t n)
{
	uint64_t x = stack_random(s) >> 32;

	return (uint32_t)((x * n) >> 32);
}

/* RFC 5961 10 asks for a limit on challenge ACKs; Linux's
 * tcp_send_challenge_ack() keeps one budget for the whole host, drawn
 * anew in each second it is used: half the limit plus a random part
 * below the limit, get_random_u32_inclusive(half, limit + half - 1),
 * so that an attacker counting the ACKs it draws cannot learn where the
 * second's budget ends (CVE-2016-5696). INT_MAX, the default since Linux
 * 6.0, means no limit; 0 means none at all here (Linux's formula has an
 * empty range there). Linux counts no suppressed ACK, and neither does
 * tern: the segment that would have drawn it is counted already. */
bool stack_challenge_ack_ok(tern_stack *s, tern_time now)
{
	int32_t limit = s->cfg.tcp_challenge_ack_limit;
	uint64_t sec = now / TERN_SEC;

	if (limit == INT32_MAX)
		return true;
	if (limit <= 0)
		return false;
	if (!s->challenge_drawn || sec != s->challenge_sec) {
		uint32_t half = ((uint32_t)limit + 1) >> 1;
		s->challenge_sec = sec;
		s->challenge_drawn = true;
		s->challenge_left =
			half + stack_random_below(s, (uint32_t)limit);
	}
	if (s->challenge_left == 0)
		return false;
	s->challenge_left--;
	return true;
}
