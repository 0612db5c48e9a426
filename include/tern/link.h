/* tern links: what carries a stack's frames.
 *
 * A link is a small struct of function pointers. The stack sends frames
 * with tern_link_send(); frames arriving on the link are handed to the
 * receive hook its owner installed (tern_link_set_rx). Wrappers (pcap
 * capture, fault injection) are links around another link, so the same
 * capture and impairments work on the simulator and on a real device.
 * Links know bytes and this interface only, nothing of TCP.
 */
#ifndef TERN_LINK_H
#define TERN_LINK_H

#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest frame any tern link carries: an IP packet of 64 KB (a TSO
 * or GRO packet at its largest). */
#define TERN_FRAME_MAX 65536

typedef struct tern_link tern_link;

/* What a frame carries beside its bytes: the offloads of a virtio-net
 * header, as Linux's TUN/TAP devices (IFF_VNET_HDR) use them. A NULL
 * meta is a plain frame: no longer than the link's mtu, every checksum
 * complete (on receive: to be verified). Offsets count from the first
 * byte of the frame as the link carries it. */
typedef struct tern_frame_meta {
	/* > 0: a TCP/IPv4 packet longer than the mtu, to be cut into
	 * segments of this many payload bytes (TSO: the headers repeated,
	 * sequence numbers, IP ids, lengths and checksums adjusted, FIN and
	 * PSH on the last). On receive: segments the sender's side merged
	 * (GSO/GRO), each of this size but the last. */
	uint16_t gso_size;
	uint8_t flags; /* TERN_FRAME_* */
	/* CSUM_PARTIAL: the sum of the bytes from csum_start to the end,
	 * complemented, belongs at csum_start + csum_offset (for TCP: the
	 * IP header length and 16). */
	uint16_t csum_start, csum_offset;
} tern_frame_meta;

enum tern_frame_flag {
	/* The TCP checksum field holds only the pseudo-header sum (RFC 9293
	 * 3.1, with the length of this whole packet): the device (or the
	 * kernel, on receive) completes it. */
	TERN_FRAME_CSUM_PARTIAL = 1u << 0,
	/* Receive: the checksums were checked, or the frame comes from the
	 * local kernel and never crossed a wire: skip verifying them. */
	TERN_FRAME_CSUM_OK = 1u << 1,
};

/* Receives one frame: frame (and meta) are valid only during the call. */
typedef void (*tern_link_rx_fn)(void *ctx, const uint8_t *frame, size_t len,
				const tern_frame_meta *meta, tern_time now);

typedef struct tern_link_ops {
	/* Sends one frame made of iovcnt pieces, with meta (NULL: plain).
	 * Returns 0 or a negative TERN_ERR_*; a frame the link drops on
	 * purpose (loss) is still 0. A meta asking for an offload the link
	 * does not take (tso_max, tx_csum below) is TERN_ERR_INVAL. */
	int (*send)(tern_link *link, const tern_iov *iov, int iovcnt,
		    const tern_frame_meta *meta, tern_time now);
	/* Frees the link (and, for a wrapper, the link it wraps). */
	void (*destroy)(tern_link *link);

	/* The rest is optional (NULL when a link has no such thing), for
	 * links on real devices and the wrappers around them. */

	/* A file descriptor that becomes readable when frames arrive, for
	 * an event loop to wait on; -1 if none. */
	int (*fd)(tern_link *link);
	/* Reads up to `budget` frames that are waiting, handing each to the
	 * receive hook; returns how many, 0 if none was waiting, or a
	 * negative TERN_ERR_* (the device went away). Never blocks. */
	int (*recv)(tern_link *link, int budget, tern_time now);
	/* A link's own timers (ARP retries, frames held back by an
	 * impairment): when `poll` next has work (TERN_TIME_NONE: never),
	 * and doing it. */
	tern_time (*next_deadline)(tern_link *link);
	void (*poll)(tern_link *link, tern_time now);
	/* RFC 1122 4.2.3.5: a connection to dst keeps timing out (TCP's R1,
	 * tcp_retries1), so the path is in doubt: a link that resolves
	 * next hops checks dst's again (Ethernet: an ARP unicast poll). */
	void (*advise)(tern_link *link, uint32_t dst, tern_time now);
} tern_link_ops;

struct tern_link {
	const tern_link_ops *ops;
	tern_link_rx_fn rx; /* set by the owner; NULL drops input */
	void *rx_ctx;
	uint32_t mtu; /* largest IP packet the link carries */
	/* The offloads send takes (zero: none). tso_max: the largest IP
	 * packet it takes with meta->gso_size, 0 for no TSO; tx_csum: it
	 * takes TERN_FRAME_CSUM_PARTIAL. Any link takes frames longer than
	 * its mtu on receive (up to TERN_FRAME_MAX). */
	uint32_t tso_max;
	bool tx_csum;
	const char *name;
};

static inline int tern_link_send(tern_link *link, const tern_iov *iov,
				 int iovcnt, const tern_frame_meta *meta,
				 tern_time now)
{
	return link->ops->send(link, iov, iovcnt, meta, now);
}

static inline void tern_link_set_rx(tern_link *link, tern_link_rx_fn rx,
				    void *ctx)
{
	link->rx = rx;
	link->rx_ctx = ctx;
}

/* Hands a received frame to the link's owner (used by link backends). */
static inline void tern_link_deliver(tern_link *link, const uint8_t *frame,
				     size_t len, const tern_frame_meta *meta,
				     tern_time now)
{
	if (link->rx)
		link->rx(link->rx_ctx, frame, len, meta, now);
}

static inline void tern_link_destroy(tern_link *link)
{
	if (link)
		link->ops->destroy(link);
}

static inline int tern_link_fd(tern_link *link)
{
	return link->ops->fd ? link->ops->fd(link) : -1;
}

static inline int tern_link_recv(tern_link *link, int budget, tern_time now)
{
	return link->ops->recv ? link->ops->recv(link, budget, now) : 0;
}

static inline tern_time tern_link_next_deadline(tern_link *link)
{
	return link->ops->next_deadline ? link->ops->next_deadline(link)
					: TERN_TIME_NONE;
}

static inline void tern_link_poll(tern_link *link, tern_time now)
{
	if (link->ops->poll)
		link->ops->poll(link, now);
}

static inline void tern_link_advise(tern_link *link, uint32_t dst,
				    tern_time now)
{
	if (link->ops->advise)
		link->ops->advise(link, dst, now);
}

/* ---- pcap capture wrapper ---- */

/* pcap link types tern writes. */
#define TERN_PCAP_LINKTYPE_ETHERNET 1
#define TERN_PCAP_LINKTYPE_IPV4 228 /* raw IPv4, no link header */

/* Wraps inner: every frame sent through the wrapper and every frame inner
 * delivers is appended to a pcap file (microsecond timestamps taken from
 * `now`, so a simulated run gives a byte-identical file for a seed), then
 * passed on. The file is classic libpcap format in host byte order (magic
 * 0xa1b2c3d4, version 2.4, snaplen 262144), readable by tcpdump and
 * Wireshark. The wrapper takes over inner's receive hook (install yours on
 * the wrapper) and has inner's mtu, offloads and name; meta passes through
 * both ways, and a TSO or GRO packet is recorded as one large packet, as
 * tcpdump on the device would show it (its TCP checksum may be partial). Destroying the wrapper
 * flushes and closes the file, clears inner's receive hook and destroys
 * inner. Returns NULL, leaves inner untouched and sets *err (when err is
 * not NULL) to TERN_ERR_IO (the file cannot be created), TERN_ERR_NOMEM
 * or TERN_ERR_INVAL (inner or path NULL) on failure. */
TERN_API tern_link *tern_pcap_wrap(tern_link *inner, const char *path,
				   int linktype, int *err);

/* tern_pcap_wrap with bounds on the file (rot NULL or rot->max_bytes 0:
 * none), as tern_rotate describes: path is the newest file, each file of
 * the series begins with the global header and holds whole packets, so
 * each is a capture on its own. A failed rename or open while rotating
 * stops the capture (the wrapper keeps forwarding), and tern_pcap_flush
 * reports it as TERN_ERR_IO. Errors as tern_pcap_wrap's; also
 * TERN_ERR_INVAL for keep 0 with a limit, and TERN_ERR_IO when a file of
 * an earlier series cannot be removed. */
TERN_API tern_link *tern_pcap_wrap_rotating(tern_link *inner, const char *path,
					    int linktype,
					    const tern_rotate *rot, int *err);

/* Writes out what is buffered. Returns 0, TERN_ERR_IO if any write to the
 * file has failed (the disk is full, say) or a rotation did, or
 * TERN_ERR_INVAL if link is not a pcap wrapper. */
TERN_API int tern_pcap_flush(tern_link *link);

/* ---- links on devices and descriptors (Linux) ---- */

/* Offloads on a TUN/TAP device (the zero value is on). */
typedef enum tern_tun_offload {
	/* IFF_VNET_HDR with TSO and checksum offload both ways, if the
	 * kernel has them; otherwise, silently, the plain path. */
	TERN_TUN_OFFLOAD_ON = 0,
	TERN_TUN_OFFLOAD_OFF = 1, /* the plain path: one packet per frame */
} tern_tun_offload;

typedef struct tern_tun_config {
	const char *ifname; /* the device; created if it does not exist */
	bool tap;	    /* TAP (Ethernet, with ARP) rather than TUN */
	uint32_t addr;	    /* our IPv4 address: TAP answers ARP for it */
	uint8_t prefix_len; /* TAP: the on-link subnet, 1..32 */
	uint32_t gateway;   /* TAP: next hop off the subnet (0: none) */
	uint8_t mac[6];	    /* TAP: ours; all zero: a random local one */
	uint32_t mtu;	    /* IP MTU; 0: 1500 */
	tern_tun_offload offload;
	/* Attach one queue of a multi-queue device (IFF_MULTI_QUEUE): each
	 * open of the same name adds a queue (a descriptor of its own), and
	 * the kernel spreads flows over the queues by hash. A device made
	 * without it (`ip tuntap add` without multi_queue) refuses (BUSY). */
	bool multi_queue;
} tern_tun_config;

/* Opens (attaching to, or creating) a TUN device (IFF_TUN|IFF_NO_PI,
 * frames are IPv4 packets) or a TAP device (IFF_TAP|IFF_NO_PI: Ethernet,
 * ARP answered and resolved, with a cache that expires and packets
 * queued while resolving). Non-blocking; recv reads in batches. The
 * kernel side (address, link up) is the caller's.
 *
 * With offloads on (cfg->offload) the device runs with a 12-byte
 * virtio-net header on every frame (IFF_VNET_HDR, TUNSETVNETHDRSZ 12,
 * little-endian) and TUNSETOFFLOAD TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6: the
 * link takes TSO packets of up to 64 KB (tso_max) and partial TCP
 * checksums (tx_csum), and delivers the kernel's GSO packets whole, with
 * meta (gso_size, CSUM_OK for the kernel's partial or validated
 * checksums). If the kernel refuses any step, the link runs the plain
 * path; tern_link_get_counters tells which (offload). With offloads off
 * the device's offloads are switched off (TUNSETOFFLOAD 0), since a
 * persistent device keeps what an earlier user set.
 *
 * Errors: NOENT (no /dev/net/tun), PERM (no CAP_NET_ADMIN), BUSY (the
 * device is in use, is of the other kind, differs in multi_queue, or its
 * queues already run with offloads and cfg turns them off),
 * INVAL (bad name or config), NOMEM, IO. */
TERN_API tern_link *tern_tun_open(const tern_tun_config *cfg, int *err);

/* A link over a datagram descriptor (a socketpair of SOCK_SEQPACKET or
 * SOCK_DGRAM, a pipe of packets): each datagram is one IPv4 packet. The
 * link closes fd when destroyed if owns_fd. For tests, and for carrying
 * a stack's packets anywhere a descriptor goes. */
TERN_API tern_link *tern_fd_link(int fd, uint32_t mtu, bool owns_fd, int *err);

/* What a device or descriptor link has seen, for diagnostics. Frames are
 * counted at the device: rx_frames were read from it, tx_frames written
 * to it (ARP included). A frame read and not delivered upward counts once
 * in rx_dropped and once under its reason (rx_*); a packet handed to send
 * that never reaches the device once in tx_dropped and once under its
 * reason (tx_*). ARP frames consumed by the link are neither. Bytes are
 * those of the frames, without the virtio-net header. */
typedef struct tern_link_counters {
	/* The device runs with offloads (tern_tun_open's offload path);
	 * false: the plain path, one packet per frame, every checksum done
	 * by tern. */
	bool offload;
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	/* Of the above, the GSO/GRO packets the kernel handed up whole and
	 * the TSO packets tern wrote for the device to cut. */
	uint64_t rx_gso_frames, rx_gso_bytes;
	uint64_t tx_gso_frames, tx_gso_bytes;
	uint64_t rx_dropped, tx_dropped;
	uint64_t rx_not_ip;    /* TUN: not IPv4; TAP: neither IPv4 nor ARP */
	uint64_t rx_not_ours;  /* TAP: for another MAC address */
	uint64_t rx_malformed; /* empty, runt, oversize, or a bad ARP */
	/* A virtio-net header tern cannot take: a GSO type other than
	 * TCPv4, a GSO size of 0, checksum offsets outside the frame. */
	uint64_t rx_bad_vnet;
	uint64_t tx_full;	/* the device would block (EAGAIN, ENOBUFS) */
	uint64_t tx_down;	/* the device is down or has no carrier */
	uint64_t tx_unroutable; /* TAP: off the subnet and no gateway */
	uint64_t tx_unresolved; /* TAP: queued for a neighbour never found */
	uint64_t tx_queue_full; /* TAP: pushed out of a full ARP queue */
	uint64_t arp_requests_in, arp_replies_in;
	uint64_t arp_requests_out, arp_replies_out;
	uint64_t arp_advised; /* TAP: neighbours polled for tcp_retries1 */
} tern_link_counters;

/* Fills *out for a link made by tern_fd_link or tern_tun_open (a TAP
 * link's counters add its Ethernet/ARP layer to the device's). Returns 0,
 * TERN_ERR_INVAL (a NULL argument) or TERN_ERR_NOTSUP (any other link,
 * wrappers included). */
TERN_API int tern_link_get_counters(const tern_link *link,
				    tern_link_counters *out);

/* The simulator's impairments on any link, each direction on its own:
 * `out` acts on frames sent, `in` on frames received (either may be
 * NULL). Frames held back (delay, jitter, reordering) leave at their time
 * through next_deadline/poll. Same seed, same fate for the same sequence
 * of frames. */
struct tern_sim_path;
TERN_API tern_link *tern_impair_wrap(tern_link *inner,
				     const struct tern_sim_path *out,
				     const struct tern_sim_path *in,
				     uint64_t seed, int *err);
/* The wrapper above in detail. A frame due at once (no delay, not
 * corrupted) passes straight through, pieces and all, without a copy;
 * one held back is copied and leaves when poll() finds it due (out:
 * sent to inner; in: handed to the wrapper's receive hook), with poll's
 * `now`. Frames due at one instant leave in the order they entered.
 * next_deadline is the earlier of the held frames' and inner's; fd and
 * recv are inner's. At most 4 MiB of frames are held in all; a frame
 * beyond that (or that cannot be copied) is dropped and counted in
 * queue_drops. The streams are those of a simulator's link 0 for the same
 * seed (out: its a->b, in: its b->a), so a wrapper and that link deal the
 * same fates. tern_impair_wrap takes over inner's receive hook (install
 * yours on the wrapper) and has inner's mtu and name; destroying the
 * wrapper frees what it holds, clears inner's receive hook and destroys
 * inner. The wrapper offers no offloads (tso_max 0, tx_csum false), so
 * that loss and corruption act on wire-sized frames with complete
 * checksums: a stack above it sends plain frames. Frames inner delivers
 * with meta (an offloading TUN's GSO packets and partial checksums) are
 * first made what a wire would carry: cut into segments of gso_size, each
 * with its headers and checksums complete, and handed up without meta,
 * so the stack verifies every checksum; each segment is dealt its own
 * fate. The same is done to a frame sent with meta. It returns NULL,
 * leaves inner untouched and sets *err (when err is not NULL) to
 * TERN_ERR_INVAL (inner NULL, a probability outside [0, 1]) or
 * TERN_ERR_NOMEM. send returns 0 (also for a frame dropped on purpose),
 * TERN_ERR_INVAL (longer than TERN_FRAME_MAX, or meta that does not fit
 * the frame), TERN_ERR_NOMEM, or inner's error for a frame passed
 * straight through.
 *
 * tern_impair_stats fills *out with the counters of one direction of an
 * impairment wrapper (dir 0: out, 1: in), as tern_sim_path_stats_get
 * does for a simulated link: delivered counts frames passed on. Returns 0
 * or TERN_ERR_INVAL (not such a wrapper, dir not 0 or 1, out NULL). */
struct tern_sim_path_stats;
TERN_API int tern_impair_stats(const tern_link *wrapper, int dir,
			       struct tern_sim_path_stats *out);

#ifdef __cplusplus
}
#endif
#endif
