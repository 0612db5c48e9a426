/* Private interfaces of the device links (src/link/fdlink.c, tun.c,
 * eth.c): the Ethernet/ARP layer a TAP link is made of, reachable without
 * a device so that tests can play the neighbour over a socketpair, and
 * the descriptor core that TUN and TAP devices share with tern_fd_link.
 */
#ifndef TERN_LINK_ETH_H
#define TERN_LINK_ETH_H

#include <tern/link.h>

#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6

/* ---- Ethernet and ARP (eth.c) ---- */

/* Checks the TAP fields of cfg (addr, prefix_len, gateway, mac, mtu) as
 * eth_wrap will: returns 0 or TERN_ERR_INVAL. */
int eth_config_check(const tern_tun_config *cfg);

/* Wraps frames_link, which carries Ethernet frames (at least cfg's mtu
 * plus 14 bytes), in a link that carries IPv4 packets: it answers ARP for
 * cfg->addr, resolves next hops with a cache and queues packets while
 * resolving; its timers run through next_deadline/poll. The wrapper takes
 * over frames_link's receive hook and destroys frames_link with itself.
 * Returns NULL, leaves frames_link untouched and sets *err (when not NULL)
 * to TERN_ERR_INVAL, TERN_ERR_NOMEM or TERN_ERR_IO (no randomness for a
 * MAC address) on failure. */
tern_link *eth_wrap(tern_link *frames_link, const tern_tun_config *cfg,
		    int *err);

/* tern_link_get_counters for an eth_wrap link; TERN_ERR_NOTSUP for any
 * other link. */
int eth_counters(const tern_link *link, tern_link_counters *out);

/* ---- descriptor core (fdlink.c) ---- */

enum fdl_kind {
	FDL_DATAGRAM, /* tern_fd_link: any datagram descriptor */
	FDL_TUN,      /* a TUN device: IPv4 delivered, the rest dropped */
	FDL_TAP,      /* a TAP device: raw Ethernet frames */
};

/* A link over fd (made non-blocking) carrying frames of at most mtu bytes,
 * named name (copied; NULL: "fd"). With vnet, a virtio-net header
 * (vnet.h) leads every frame on the descriptor, and the link takes and
 * delivers TSO/GSO frames of up to 64 KB behind the link header
 * (tso_max) and partial checksums (tx_csum); counters show offload.
 * Errors as tern_fd_link. */
tern_link *fdl_open(int fd, uint32_t mtu, bool owns_fd, enum fdl_kind kind,
		    bool vnet, const char *name, int *err);

#endif
