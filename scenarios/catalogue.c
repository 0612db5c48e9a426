/* The catalogue, in the order of SCENARIOS.md. */
#include <string.h>

#include "catalogue.h"

static const scn_def *const all[] = {
	&scn_handshake,
	&scn_simultaneous_open,
	&scn_rst_closed_port,
	&scn_syn_timeout,
	&scn_synack_timeout,
	&scn_rst_syn_received,
	&scn_data_transfer,
	&scn_lossy_transfer,
	&scn_zero_window,
	&scn_active_close,
	&scn_close_fin_ack_combined,
	&scn_simultaneous_close,
	&scn_half_close,
	&scn_time_wait,
	&scn_fin_wait_2_timeout,
	&scn_fin_wait_1_zero_window,
	&scn_rst_in_window,
	&scn_bad_ack,
	&scn_abort,
	&scn_keepalive_dead_peer,
	&scn_syn_flood,
};

const scn_def *const *scn_all(size_t *count)
{
	*count = sizeof(all) / sizeof(all[0]);
	return all;
}

const scn_def *scn_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
