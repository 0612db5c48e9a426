/* Sorted, disjoint sets of sequence ranges: the receiver's out-of-order
 * data and the sender's SACK scoreboard. */
#include <string.h>

#include "tcp/internal.h"

static void ranges_remove(tcp_range *r, uint8_t *n, int from, int to)
{
	memmove(&r[from], &r[to], (size_t)(*n - to) * sizeof(tcp_range));
	*n = (uint8_t)(*n - (to - from));
}

/* Adds [left, right), merging what it overlaps or touches; false if it
 * needs a new range and all `max` are in use. */
bool ranges_add(tcp_range *r, uint8_t *n, int max, tcp_seq left, tcp_seq right)
{
	int i = 0;

	while (i < *n && seq_lt(r[i].right, left))
		i++;
	if (i < *n && seq_le(r[i].left, right)) {
		r[i].left = seq_min(r[i].left, left);
		r[i].right = seq_max(r[i].right, right);
		int j = i + 1;
		while (j < *n && seq_le(r[j].left, r[i].right)) {
			r[i].right = seq_max(r[i].right, r[j].right);
			j++;
		}
		ranges_remove(r, n, i + 1, j);
		return true;
	}
	if (*n == max)
		return false;
	memmove(&r[i + 1], &r[i], (size_t)(*n - i) * sizeof(tcp_range));
	r[i] = (tcp_range){left, right};
	(*n)++;
	return true;
}

/* Is [left, right) inside one range? */
bool ranges_cover(const tcp_range *r, uint8_t n, tcp_seq left, tcp_seq right)
{
	for (int i = 0; i < n; i++)
		if (seq_le(r[i].left, left) && seq_ge(r[i].right, right))
			return true;
	return false;
}

/* Forgets what lies below seq. */
void ranges_trim_below(tcp_range *r, uint8_t *n, tcp_seq seq)
{
	int i = 0;

	while (i < *n && seq_le(r[i].right, seq))
		i++;
	ranges_remove(r, n, 0, i);
	if (*n > 0 && seq_lt(r[0].left, seq))
		r[0].left = seq;
}
