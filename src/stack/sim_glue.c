/* tern_sim_add_stack: a stack on the simulated network, its timers run
 * by the virtual clock. Kept here so src/link knows nothing of stacks. */
#include <tern/sim.h>

#include "stack/stack.h"

static tern_time node_deadline(void *ctx)
{
	return tern_stack_next_deadline(ctx);
}

static void node_run(void *ctx, tern_time now)
{
	tern_stack_run(ctx, now);
}

static const tern_sim_node_ops stack_node = {
	.next_deadline = node_deadline,
	.run = node_run,
};

int tern_sim_add_stack(tern_sim *sim, tern_stack *stack, tern_link *link)
{
	tern_stack_attach(stack, link);
	return tern_sim_add_node(sim, &stack_node, stack);
}
