/* tern: counters. Every dropped packet is counted under one reason; the
 * other counters follow the names operators know from `netstat -s`. */
#ifndef TERN_STATS_H
#define TERN_STATS_H

#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why a received packet was dropped. The first group is found by `wire`
 * while parsing, the rest by the IP layer and the TCP engine. */
#define TERN_DROP_REASONS(X)                                                   \
	X(IP_TRUNCATED, "ip_truncated")		   /* < 20 bytes */            \
	X(IP_VERSION, "ip_version")		   /* version != 4 */          \
	X(IP_IHL, "ip_ihl_short")		   /* IHL < 5 */               \
	X(IP_HDR_TRUNCATED, "ip_header_truncated") /* IHL*4 > buffer */        \
	X(IP_TOTAL_LEN, "ip_total_length")	   /* > buffer or < IHL*4 */   \
	X(IP_CHECKSUM, "ip_bad_checksum")                                      \
	X(IP_FRAGMENT, "ip_fragment")	      /* not reassembled */            \
	X(IP_PROTO, "ip_protocol")	      /* not a protocol we run */      \
	X(IP_NOT_LOCAL, "ip_not_for_us")      /* dst is not our address */     \
	X(IP_BAD_SRC, "ip_bad_source")	      /* multicast/broadcast/0 */      \
	X(IP_FRAG_OVERLAP, "ip_frag_overlap") /* the whole datagram goes */    \
	X(IP_FRAG_TOO_BIG, "ip_frag_too_big") /* past 65535 bytes */           \
	X(IP_FRAG_TIMEOUT, "ip_frag_timeout") /* incomplete in time */         \
	X(IP_FRAG_NO_MEMORY, "ip_frag_no_memory") /* over the bound */         \
	X(ICMP_TRUNCATED, "icmp_truncated")                                    \
	X(ICMP_CHECKSUM, "icmp_bad_checksum")                                  \
	X(ICMP_UNHANDLED, "icmp_unhandled_type")                               \
	X(ICMP_NO_SOCKET, "icmp_error_no_socket")                              \
	X(ICMP_INVALID, "icmp_error_not_in_window") /* RFC 5927 4.1 */         \
	X(TCP_TRUNCATED, "tcp_truncated")	    /* < 20 bytes */           \
	X(TCP_DOFF_SHORT, "tcp_doff_short")	    /* data offset < 5 */      \
	X(TCP_DOFF_LONG, "tcp_doff_past_end")	   /* data offset > segment */ \
	X(TCP_OPT_LEN, "tcp_opt_bad_length")	   /* option length 0 or 1 */  \
	X(TCP_OPT_OVERFLOW, "tcp_opt_past_header") /* option past header */    \
	X(TCP_OPT_MALFORMED, "tcp_opt_malformed")  /* known kind, wrong len */ \
	X(TCP_CHECKSUM, "tcp_bad_checksum")                                    \
	X(TCP_PORT_ZERO, "tcp_port_zero")                                      \
	X(TCP_NO_SOCKET, "tcp_no_socket")	  /* no connection/listener */ \
	X(TCP_OUT_OF_WINDOW, "tcp_out_of_window") /* RFC 9293 3.10.7.4 */      \
	X(TCP_BAD_ACK, "tcp_bad_ack")		  /* acks unsent data */       \
	X(TCP_OLD_ACK, "tcp_old_ack")		  /* RFC 5961 5.2 */           \
	X(TCP_NO_ACK, "tcp_no_ack")		  /* ACK bit off */            \
	X(TCP_RST_OUT_OF_WINDOW, "tcp_rst_out_of_window")                      \
	X(TCP_RST_IN_WINDOW, "tcp_rst_challenged")  /* RFC 5961 3.2 */         \
	X(TCP_SYN_CHALLENGED, "tcp_syn_challenged") /* RFC 5961 4.2 */         \
	X(TCP_LISTEN_NO_SYN, "tcp_listen_no_syn")                              \
	X(TCP_LISTEN_OVERFLOW, "tcp_listen_overflow")                          \
	X(TCP_SYN_QUEUE_FULL, "tcp_syn_queue_full") /* no cookies */           \
	X(TCP_SYNCOOKIE_INVALID,                                               \
	  "tcp_syncookie_invalid") /* an ACK's cookie */                       \
	X(TCP_SYN_SENT_NO_SYN, "tcp_syn_sent_no_syn")                          \
	X(TCP_OOO_FULL, "tcp_ooo_queue_full") /* too many holes */             \
	X(TCP_AFTER_FIN, "tcp_data_after_fin")                                 \
	X(TCP_NO_MEMORY, "tcp_no_memory")                                      \
	X(TCP_PAWS, "tcp_paws") /* RFC 7323 5.3: an old timestamp */           \
	X(TCP_TW_OLD_SYN, "tcp_tw_old_syn") /* RFC 6191: not a new one */

enum tern_drop_reason {
	TERN_DROP_NONE = 0,
#define TERN_DROP_ENUM(name, text) TERN_DROP_##name,
	TERN_DROP_REASONS(TERN_DROP_ENUM)
#undef TERN_DROP_ENUM
		TERN_DROP_COUNT
};

/* Event counters, named after Linux's TcpExt/Tcp MIB where one exists. */
#define TERN_COUNTERS(X)                                                       \
	X(IP_IN_RECEIVES, "IpInReceives")                                      \
	X(IP_IN_DELIVERS, "IpInDelivers")                                      \
	X(IP_OUT_REQUESTS, "IpOutRequests")                                    \
	X(IP_OUT_DISCARDS, "IpOutDiscards") /* the link refused */             \
	X(TCP_IN_SEGS, "TcpInSegs")                                            \
	X(TCP_OUT_SEGS, "TcpOutSegs")                                          \
	X(TCP_RETRANS_SEGS, "TcpRetransSegs")                                  \
	X(TCP_OUT_RSTS, "TcpOutRsts")                                          \
	X(TCP_IN_RSTS, "TcpInRsts")                                            \
	X(TCP_ACTIVE_OPENS, "TcpActiveOpens")                                  \
	X(TCP_PASSIVE_OPENS, "TcpPassiveOpens")                                \
	X(TCP_ATTEMPT_FAILS, "TcpAttemptFails")                                \
	X(TCP_ESTAB_RESETS, "TcpEstabResets")                                  \
	X(TCP_CHALLENGE_ACKS, "TcpExtTCPChallengeACK")                         \
	X(TCP_SYN_CHALLENGE, "TcpExtTCPSYNChallenge")                          \
	X(TCP_TIMEOUTS, "TcpExtTCPTimeouts")                                   \
	X(TCP_SYN_RETRANS, "TcpExtTCPSynRetrans")                              \
	X(TCP_FAST_RETRANS, "TcpExtTCPFastRetrans")                            \
	X(TCP_PERSIST_PROBES, "TcpExtTCPWinProbe")                             \
	X(TCP_KEEPALIVE_PROBES, "TcpExtTCPKeepAlive")                          \
	X(TCP_DELAYED_ACKS, "TcpExtDelayedACKs")                               \
	X(TCP_PURE_ACKS_OUT, "TcpExtTCPPureAcksOut")                           \
	X(TCP_OFO_QUEUE, "TcpExtTCPOFOQueue")                                  \
	X(TCP_ABORT_ON_DATA, "TcpExtTCPAbortOnData")                           \
	X(TCP_ABORT_ON_CLOSE, "TcpExtTCPAbortOnClose")                         \
	X(TCP_ABORT_ON_TIMEOUT, "TcpExtTCPAbortOnTimeout")                     \
	X(TCP_ABORT_ON_LINGER, "TcpExtTCPAbortOnLinger")                       \
	X(TCP_TIME_WAITS, "TcpExtTW")                                          \
	X(TCP_TW_RECYCLED, "TcpExtTWRecycled") /* tcp_tw_reuse */              \
	X(TCP_TW_OVERFLOW, "TcpExtTCPTimeWaitOverflow")                        \
	X(TCP_ABORT_ON_MEMORY, "TcpExtTCPAbortOnMemory") /* tcp_max_orphans */ \
	X(TCP_PAWS_ESTAB, "TcpExtPAWSEstab")                                   \
	X(TCP_HP_HITS, "TcpExtTCPHPHits") /* data by header prediction */      \
	X(TCP_HP_ACKS, "TcpExtTCPHPAcks") /* pure ACKs by it */                \
	X(TCP_SACK_RECOVERY, "TcpExtTCPSackRecovery")                          \
	X(TCP_DSACK_RECV, "TcpExtTCPDSACKRecv")                                \
	X(TCP_DSACK_SENT, "TcpExtTCPDSACKOldSent")                             \
	X(TCP_LISTEN_OVERFLOWS, "TcpExtListenOverflows")                       \
	X(TCP_LISTEN_DROPS, "TcpExtListenDrops")                               \
	X(TCP_REQQ_FULL_DROP, "TcpExtTCPReqQFullDrop")                         \
	X(TCP_REQQ_FULL_COOKIES, "TcpExtTCPReqQFullDoCookies")                 \
	X(SYNCOOKIES_SENT, "TcpExtSyncookiesSent")                             \
	X(SYNCOOKIES_RECV, "TcpExtSyncookiesRecv")                             \
	X(SYNCOOKIES_FAILED, "TcpExtSyncookiesFailed")                         \
	X(IP_REASM_REQDS, "IpReasmReqds")                                      \
	X(IP_REASM_OKS, "IpReasmOKs")                                          \
	X(IP_REASM_FAILS, "IpReasmFails")                                      \
	X(ICMP_IN_MSGS, "IcmpInMsgs")                                          \
	X(ICMP_IN_ERRORS, "IcmpInErrors")                                      \
	X(ICMP_IN_ECHOS, "IcmpInEchos")                                        \
	X(ICMP_OUT_ECHO_REPS, "IcmpOutEchoReps")

enum tern_counter {
#define TERN_COUNTER_ENUM(name, text) TERN_CTR_##name,
	TERN_COUNTERS(TERN_COUNTER_ENUM)
#undef TERN_COUNTER_ENUM
		TERN_CTR_COUNT
};

typedef struct tern_stats {
	uint64_t drops[TERN_DROP_COUNT]; /* index by enum tern_drop_reason */
	uint64_t counters[TERN_CTR_COUNT];
} tern_stats;

/* Names for printing ("ip_bad_checksum", "TcpRetransSegs"). */
TERN_API const char *tern_drop_reason_name(int reason);
TERN_API const char *tern_counter_name(int counter);

#ifdef __cplusplus
}
#endif
#endif
