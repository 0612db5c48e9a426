/* Private to the scenario definitions. */
#ifndef TERN_SCENARIO_CATALOGUE_H
#define TERN_SCENARIO_CATALOGUE_H

#include <stdio.h>

#include <tern/wire.h>

#include "scenario.h"

/* No scenario runs longer than this much virtual time. */
#define SCN_LIMIT (3 * 3600 * TERN_SEC)

extern const scn_def scn_handshake, scn_simultaneous_open, scn_rst_closed_port,
	scn_syn_timeout, scn_synack_timeout, scn_rst_syn_received,
	scn_data_transfer, scn_lossy_transfer, scn_zero_window,
	scn_active_close, scn_close_fin_ack_combined, scn_simultaneous_close,
	scn_half_close, scn_time_wait, scn_fin_wait_2_timeout,
	scn_fin_wait_1_zero_window, scn_rst_in_window, scn_bad_ack, scn_abort,
	scn_keepalive_dead_peer, scn_syn_flood;

/* Scenario 21 with tcp_syncookies = 0: not in the catalogue's list (one
 * scenario a number), run by its test. */
extern const scn_def scn_syn_flood_no_cookies;

/* The client's connection and its numbers, for forged segments. */
tern_tcp_info scn_client_info(scn_run *r);
tern_tcp_info scn_server_info(scn_run *r);

#endif
