/* `tern draw states`: RFC 9293's state diagram (3.3.2, Figure 5) with
 * each transition labelled by how many times a trace took it. */
#ifndef TERN_TOOLS_DRAW_STATES_H
#define TERN_TOOLS_DRAW_STATES_H

#include <stdint.h>
#include <stdio.h>

#include <tern/trace.h>

/* How many times each transition was taken: n[from][to], states as
 * enum tern_tcp_state. */
typedef struct draw_state_counts {
	uint64_t n[TERN_TCP_STATE_COUNT][TERN_TCP_STATE_COUNT];
} draw_state_counts;

/* Writes the whole diagram as SVG. Every transition of the RFC's figure,
 * and the resets, aborts and timeouts it leaves out, is drawn; one never
 * taken is greyed out; one taken that the drawing has no edge for is
 * listed beside it, so no count is hidden. 0, or -1 if a write failed. */
int draw_states_svg(FILE *out, const draw_state_counts *c, const char *title);

#endif
