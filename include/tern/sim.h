/* tern sim: a simulated network with a virtual clock.
 *
 * Ports are network interfaces with an IPv4 address; tern_sim_join joins
 * two ports with a link whose two directions each have their own seeded
 * impairments (loss, duplication, reordering, delay, jitter, corruption,
 * a rate limit with a drop-tail queue). A frame sent on a port goes over
 * the link joined to the port that owns its destination address.
 *
 * Everything runs on virtual time: tern_sim_run() jumps the clock from one
 * event to the next (a frame arriving, a callback, a node's deadline), so
 * hours of protocol time take milliseconds. The same seed and the same
 * calls give the same run, byte for byte.
 */
#ifndef TERN_SIM_H
#define TERN_SIM_H

#include <tern/link.h>
#include <tern/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_sim tern_sim;
typedef struct tern_stack tern_stack;

/* One direction of a link. All-zero means a perfect wire: no delay, no
 * loss, unlimited rate. Probabilities are in [0, 1]. */
typedef struct tern_sim_path {
	tern_time delay;	 /* one-way propagation delay */
	tern_time jitter;	 /* extra delay, uniform in [0, jitter] */
	double loss;		 /* frame dropped */
	double dup;		 /* frame delivered twice */
	double reorder;		 /* frame held back by reorder_delay */
	tern_time reorder_delay; /* 0: 2 * delay + 1 ms */
	double corrupt;		 /* one random bit of the frame flipped */
	uint64_t rate_bps;	 /* serialisation rate; 0 = unlimited */
	size_t queue_bytes;	 /* queue limit with a rate; 0 = 256 KiB */
} tern_sim_path;

/* What happened to the frames that entered one direction of a link.
 * frames/bytes count every frame sent into it; lost and queue_drops the
 * ones it dropped; delivered counts arrivals as they happen (a duplicated
 * frame arrives twice; frames still in flight are not counted yet). */
typedef struct tern_sim_path_stats {
	uint64_t frames, bytes;
	uint64_t lost, duplicated, reordered, corrupted, queue_drops;
	uint64_t delivered;
} tern_sim_path_stats;

/* A new network; its clock starts at 0. NULL on allocation failure. */
TERN_API tern_sim *tern_sim_new(uint64_t seed);
/* Frees the network, its ports, links and frames in flight. Stacks and
 * wrappers attached to ports must be freed first. */
TERN_API void tern_sim_free(tern_sim *sim);

TERN_API tern_time tern_sim_now(const tern_sim *sim);
TERN_API uint64_t tern_sim_seed(const tern_sim *sim);

/* A network interface with address addr (host order). The port belongs to
 * the network: destroying it (directly or through a wrapper) is a no-op;
 * tern_sim_free releases it. NULL on allocation failure.
 *
 * A frame sent on a port is a raw IPv4 packet: its destination address
 * (bytes 16..19) picks the joined port it travels to. The frame is copied
 * at once and timed by the network's clock (send's `now` is ignored).
 * send returns 0 (also for a frame the network drops), TERN_ERR_INVAL
 * (longer than TERN_FRAME_MAX, or meta asking for offloads the port does
 * not offer) or TERN_ERR_NOMEM. */
TERN_API tern_link *tern_sim_port(tern_sim *sim, uint32_t addr, uint32_t mtu);

/* Offloads on a port, off by default: on, the port takes TSO frames of up
 * to 64 KB (tso_max 65535) and partial TCP checksums (tx_csum), as an
 * offloading TUN device does. Such a frame crosses the link as one frame
 * (each impairment acts on it whole) and arrives as one packet with its
 * gso_size, flagged TERN_FRAME_CSUM_OK, as a GRO packet from a NIC that
 * checked it: two stacks on such ports exchange 64 KB segments and
 * compute no checksum over the payload. A frame the path corrupts has
 * its checksum finished before the bit flips and arrives plain, so the
 * receiver still catches it. Set it before tern_sim_add_stack (a stack
 * reads its link's offloads when attached). 0, or TERN_ERR_INVAL (not a
 * simulator port). */
TERN_API int tern_sim_port_set_offload(tern_link *port, bool on);

/* Frames sent on port that could go nowhere: shorter than an IPv4 header,
 * or no port joined to this one owns the destination. 0 if port is not a
 * simulator port. */
TERN_API uint64_t tern_sim_port_unroutable(const tern_link *port);

/* Joins ports a and b: ab impairs frames from a to b, ba the reverse (NULL
 * for a perfect direction). A direction's steps run in this order: loss,
 * corruption, rate limit (a serialisation queue, drop-tail), delay and
 * jitter, reorder, duplication. Each direction draws from its own random
 * stream, keyed by (seed, link index, direction), so adding links or
 * retuning one direction never changes the fate of another's frames.
 * Returns a link index >= 0 for the other calls, TERN_ERR_NOMEM, or
 * TERN_ERR_INVAL (not ports of this network, a == b, same address, a
 * probability outside [0, 1], already joined, or a already joined to a
 * port with b's address). */
TERN_API int tern_sim_join(tern_sim *sim, tern_link *a, tern_link *b,
			   const tern_sim_path *ab, const tern_sim_path *ba);
/* Changes the impairments of one direction (dir 0: a->b, 1: b->a) from now
 * on; frames already in flight keep their fate. NULL: a perfect wire.
 * 0 or TERN_ERR_INVAL. */
TERN_API int tern_sim_set_path(tern_sim *sim, int link, int dir,
			       const tern_sim_path *path);
TERN_API int tern_sim_path_stats_get(const tern_sim *sim, int link, int dir,
				     tern_sim_path_stats *out);

/* Something with its own deadlines that the clock must wake. run() must
 * do everything due at now: afterwards next_deadline() must lie beyond
 * now, or the clock could not move on (asserted in debug builds). A node
 * may be added or removed from within a run(), a callback or a delivery. */
typedef struct tern_sim_node_ops {
	tern_time (*next_deadline)(void *ctx); /* TERN_TIME_NONE: none */
	void (*run)(void *ctx, tern_time now); /* called when due */
} tern_sim_node_ops;

TERN_API int tern_sim_add_node(tern_sim *sim, const tern_sim_node_ops *ops,
			       void *ctx);
TERN_API void tern_sim_remove_node(tern_sim *sim, void *ctx);

/* Puts stack on the network: attaches it to link (a port, or a wrapper
 * around one) and lets the clock run its timers. */
TERN_API int tern_sim_add_stack(tern_sim *sim, tern_stack *stack,
				tern_link *link);

/* Calls fn(arg, now) once at time t. 0, TERN_ERR_NOMEM, or TERN_ERR_INVAL
 * (t before now or TERN_TIME_NONE, fn NULL). */
TERN_API int tern_sim_at(tern_sim *sim, tern_time t,
			 void (*fn)(void *arg, tern_time now), void *arg);

/* Delivers a crafted frame to port at time t, as if it arrived from the
 * wire (no impairment, not counted in any path's stats). The frame is
 * copied. 0, TERN_ERR_NOMEM, or TERN_ERR_INVAL (t before now, too long,
 * not a port of this network). */
TERN_API int tern_sim_inject(tern_sim *sim, tern_link *port, const void *frame,
			     size_t len, tern_time t);

/* Runs events in time order until nothing is pending (returns 1: idle,
 * clock left at the last event) or the next event lies beyond `until`
 * (returns 0, clock set to until; TERN_TIME_NONE runs until idle).
 * Events at one instant run in this order: frames (in the order they were
 * sent), callbacks (in the order they were set), node deadlines (in the
 * order nodes were added); whatever they start for the same instant (a
 * frame over a zero-delay link) runs at that instant too, frames first,
 * before the clock moves on.
 * Not reentrant: do not call it from a callback, node or receive hook. */
TERN_API int tern_sim_run(tern_sim *sim, tern_time until);

#ifdef __cplusplus
}
#endif
#endif
