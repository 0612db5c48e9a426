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

/* The largest frame any tern link carries (issue: 64 KB with TSO later). */
#define TERN_FRAME_MAX 65536

typedef struct tern_link tern_link;

/* Receives one frame: frame is valid only during the call. */
typedef void (*tern_link_rx_fn)(void *ctx, const uint8_t *frame, size_t len,
				tern_time now);

typedef struct tern_link_ops {
	/* Sends one frame made of iovcnt pieces. Returns 0 or a negative
	 * TERN_ERR_*; a frame the link drops on purpose (loss) is still 0. */
	int (*send)(tern_link *link, const tern_iov *iov, int iovcnt,
		    tern_time now);
	/* Frees the link (and, for a wrapper, the link it wraps). */
	void (*destroy)(tern_link *link);
} tern_link_ops;

struct tern_link {
	const tern_link_ops *ops;
	tern_link_rx_fn rx; /* set by the owner; NULL drops input */
	void *rx_ctx;
	uint32_t mtu; /* largest IP packet the link carries */
	const char *name;
};

static inline int tern_link_send(tern_link *link, const tern_iov *iov,
				 int iovcnt, tern_time now)
{
	return link->ops->send(link, iov, iovcnt, now);
}

static inline void tern_link_set_rx(tern_link *link, tern_link_rx_fn rx,
				    void *ctx)
{
	link->rx = rx;
	link->rx_ctx = ctx;
}

/* Hands a received frame to the link's owner (used by link backends). */
static inline void tern_link_deliver(tern_link *link, const uint8_t *frame,
				     size_t len, tern_time now)
{
	if (link->rx)
		link->rx(link->rx_ctx, frame, len, now);
}

static inline void tern_link_destroy(tern_link *link)
{
	if (link)
		link->ops->destroy(link);
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
 * the wrapper) and has inner's mtu and name. Destroying the wrapper
 * flushes and closes the file, clears inner's receive hook and destroys
 * inner. Returns NULL, leaves inner untouched and sets *err (when err is
 * not NULL) to TERN_ERR_IO (the file cannot be created), TERN_ERR_NOMEM
 * or TERN_ERR_INVAL (inner or path NULL) on failure. */
TERN_API tern_link *tern_pcap_wrap(tern_link *inner, const char *path,
				   int linktype, int *err);

/* Writes out what is buffered. Returns 0, TERN_ERR_IO if any write to the
 * file has failed (the disk is full, say), or TERN_ERR_INVAL if link is not
 * a pcap wrapper. */
TERN_API int tern_pcap_flush(tern_link *link);

#ifdef __cplusplus
}
#endif
#endif
