/* SCENARIOS.md 21: a SYN flood against a listener, with and without SYN
 * cookies. */
#include "catalogue.h"

/* Where the spoofed SYNs claim to come from: no port of the simulated
 * network has it, so what the server sends there goes nowhere and the
 * half-open connections it makes are never completed nor reset. */
#define FLOOD_ADDR 0x0a000063u /* 10.0.0.99 */
#define FLOOD_SYNS 4

/* A SYN queue of 4 (tcp_max_syn_backlog) that the flood fills, and one
 * SYN+ACK retransmission (tcp_synack_retries), so that the spoofed
 * half-open connections go after 1 + 2 = 3 s and the run stays short. */
static void flood_settings(int host, tern_settings *set, int cookies)
{
	if (host != SCN_SERVER)
		return;
	set->tcp_max_syn_backlog = FLOOD_SYNS;
	set->tcp_synack_retries = 1;
	if (cookies >= 0)
		set->tcp_syncookies = cookies;
}

static void settings_cookies(int host, tern_settings *set)
{
	flood_settings(host, set, -1); /* 1 by default; --sysctl may say 0 */
}

static void settings_no_cookies(int host, tern_settings *set)
{
	flood_settings(host, set, 0);
}

static uint64_t server_ctr(scn_run *r, int counter)
{
	return tern_stack_stats(r->stack[SCN_SERVER])->counters[counter];
}

static size_t server_read(scn_run *r)
{
	scn_app *a = scn_app_of(r, SCN_SERVER, 0);
	return a ? a->received : 0;
}

static void flood_note(scn_run *r)
{
	int cookies = tern_stack_settings(r->stack[SCN_SERVER])->tcp_syncookies;
	const char *what =
		cookies ? "gets a cookie:\nits ISN K encodes the 4-tuple, J, "
			  "the minute and the MSS; the ACK K+1 makes\nthe "
			  "connection then (LISTEN -> SYN_RECEIVED -> "
			  "ESTABLISHED at once)"
			: "is dropped;\nthe client sends it again at 1 and 3 "
			  "s, and gets in once the spoofed\nhalf-open "
			  "connections are gone";

	snprintf(r->note, sizeof(r->note),
		 "%d spoofed SYNs fill the SYN queue (tcp_max_syn_backlog = "
		 "%d); their SYN+ACKs go\nnowhere. tcp_syncookies = %d: the "
		 "client's SYN finds the queue full and %s.\nServer: "
		 "TCPReqQFullDoCookies %llu, SyncookiesSent %llu, "
		 "SyncookiesRecv %llu,\nTCPReqQFullDrop %llu. The server read "
		 "%zu of the client's 100 bytes.",
		 FLOOD_SYNS, FLOOD_SYNS, cookies, what,
		 (unsigned long long)server_ctr(r,
						TERN_CTR_TCP_REQQ_FULL_COOKIES),
		 (unsigned long long)server_ctr(r, TERN_CTR_SYNCOOKIES_SENT),
		 (unsigned long long)server_ctr(r, TERN_CTR_SYNCOOKIES_RECV),
		 (unsigned long long)server_ctr(r, TERN_CTR_TCP_REQQ_FULL_DROP),
		 server_read(r));
}

/* Spoofed SYNs at 1, 2, 3, 4 ms from ports 1001..., before the genuine
 * client's SYN, sent at 0, arrives at 10 ms. Its application sends 100
 * bytes once connected. */
static int run_flood(scn_run *r)
{
	scn_app *a;

	scn_listen(r, NULL);
	for (int i = 1; i <= FLOOD_SYNS; i++)
		scn_inject_from(r, SCN_SERVER, FLOOD_ADDR,
				(uint32_t)i * 1000000u, 0, TERN_TCP_SYN,
				SCN_PORT, (uint16_t)(1000 + i), 0,
				(tern_time)i * TERN_MSEC);
	scn_connect(r, 0, &a);
	if (!a)
		return TERN_ERR_NOMEM;
	a->to_send = 100;
	scn_run_until(r, SCN_LIMIT);
	flood_note(r);
	return 0;
}

const scn_def scn_syn_flood = {
	"syn-flood",
	21,
	"a SYN flood, answered with SYN cookies",
	"RFC 4987 3.6, Linux tcp_max_syn_backlog, tcp_syncookies",
	10 * TERN_MSEC,
	run_flood,
	settings_cookies,
};

const scn_def scn_syn_flood_no_cookies = {
	"syn-flood-no-cookies",
	21,
	"a SYN flood, without SYN cookies",
	"RFC 4987 2, Linux tcp_max_syn_backlog, tcp_syncookies = 0",
	10 * TERN_MSEC,
	run_flood,
	settings_no_cookies,
};
