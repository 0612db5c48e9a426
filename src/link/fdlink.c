/* tern fd links: frames over a descriptor, one datagram (or one device
 * read or write) per frame.
 *
 * The same core carries tern_fd_link (a socketpair, a UDP socket, a packet
 * pipe) and the TUN and TAP devices of tun.c: each frame is one writev out
 * and one read in, into a buffer the link owns, so nothing is allocated
 * per frame. The descriptor is non-blocking; a frame the descriptor
 * cannot take right now is dropped and counted, as a device would.
 *
 * With a virtio-net header (vnet.h: a TUN/TAP device with IFF_VNET_HDR)
 * every frame carries it in front: written as a piece of its own before
 * the frame's pieces (the payload is not copied), read into the same
 * buffer as the frame, which then holds up to 64 KB (TSO and GSO
 * packets).
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "eth.h"
#include "link/offload.h"
#include "link/vnet.h"

/* More pieces than any sender makes (headers, two ring pieces). */
#define FDL_PIECES_MAX 64
#define FDL_NAME_MAX 32
/* The largest IPv4 packet (RFC 791: a 16-bit total length). */
#define IP_PACKET_MAX 65535

struct fd_link {
	tern_link link; /* first: a tern_link * is a struct fd_link * */
	int fd;
	bool owns_fd;
	bool is_socket; /* sendmsg(MSG_NOSIGNAL): a gone peer is no SIGPIPE */
	bool vnet;	/* a virtio-net header leads every frame */
	enum fdl_kind kind;
	tern_link_counters ctr;
	char name[FDL_NAME_MAX];
	size_t hdr;	 /* VNET_HDR_LEN with vnet, else 0 */
	size_t l3;	 /* bytes in front of the IP header: 14 on TAP */
	size_t rx_max;	 /* the longest frame read: mtu, or a GSO packet */
	size_t buf_size; /* hdr + rx_max + 1: longer shows as oversize */
	uint8_t buf[];
};

static void drop_tx(struct fd_link *l, uint64_t *reason)
{
	l->ctr.tx_dropped++;
	(*reason)++;
}

static void drop_rx(struct fd_link *l, uint64_t *reason)
{
	l->ctr.rx_dropped++;
	(*reason)++;
}

static ssize_t write_frame(struct fd_link *l, struct iovec *v, int n)
{
	struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)n};
	ssize_t r;

	do {
		if (l->is_socket)
			r = sendmsg(l->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			r = writev(l->fd, v, n);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* What a failed write means. Links may lose frames, so a descriptor that
 * is full or a device that is down drops the frame (0); a frame the
 * descriptor refuses is the caller's error; anything else means the
 * other end is gone. */
static int send_error(struct fd_link *l, int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
		drop_tx(l, &l->ctr.tx_full);
		return 0;
	case EIO:	   /* TUN/TAP: the interface is administratively down */
	case ENETDOWN:	   /* likewise, from other descriptors */
	case ECONNREFUSED: /* UDP: nobody listens at the other end yet */
		drop_tx(l, &l->ctr.tx_down);
		return 0;
	case EMSGSIZE: /* larger than the descriptor carries */
	case EINVAL:   /* TUN: the kernel cannot parse the packet */
		return TERN_ERR_INVAL;
	default: /* EPIPE, ECONNRESET, EBADFD: the device went away */
		return TERN_ERR_IO;
	}
}

/* A TSO frame's hdr_len for the device: the link header, the IP header
 * (IHL) and the TCP header (data offset). 0 if the frame is too short. */
static uint16_t tso_hdr_len(const struct fd_link *l, const tern_iov *iov,
			    int iovcnt, size_t len)
{
	uint8_t b;
	size_t ihl, thl;

	if (frame_read(iov, iovcnt, l->l3, &b, 1) != 1)
		return 0;
	ihl = (size_t)(b & 0x0f) * 4;
	if (frame_read(iov, iovcnt, l->l3 + ihl + 12, &b, 1) != 1)
		return 0;
	thl = (size_t)(b >> 4) * 4;
	return l->l3 + ihl + thl <= len ? (uint16_t)(l->l3 + ihl + thl) : 0;
}

/* What send takes: a frame no longer than the mtu, or a TSO frame up to
 * tso_max; offloads only with the header. Fills the header (vh). */
static int tx_prepare(const struct fd_link *l, const tern_iov *iov, int iovcnt,
		      size_t len, const tern_frame_meta *meta, uint8_t *vh)
{
	bool gso = meta && meta->gso_size;
	bool partial = meta && (meta->flags & TERN_FRAME_CSUM_PARTIAL);
	uint16_t hdr_len = 0;

	/* An empty datagram would read as end of file on SEQPACKET. */
	if (len == 0 || len > (gso ? l->link.tso_max : l->link.mtu))
		return TERN_ERR_INVAL;
	if (partial && (!l->link.tx_csum ||
			(size_t)meta->csum_start + meta->csum_offset + 2 > len))
		return TERN_ERR_INVAL;
	if (gso && (hdr_len = tso_hdr_len(l, iov, iovcnt, len)) == 0)
		return TERN_ERR_INVAL;
	if (l->vnet)
		vnet_encode(vh, meta, hdr_len);
	return 0;
}

static int fdl_send(tern_link *link, const tern_iov *iov, int iovcnt,
		    const tern_frame_meta *meta, tern_time now)
{
	struct fd_link *l = (struct fd_link *)link;
	struct iovec v[FDL_PIECES_MAX + 1];
	uint8_t vh[VNET_HDR_LEN];
	size_t len = 0;
	int n = 0, e;
	ssize_t r;

	(void)now;
	if (!iov || iovcnt <= 0 || iovcnt > FDL_PIECES_MAX)
		return TERN_ERR_INVAL;
	if (l->vnet)
		v[n++] = (struct iovec){.iov_base = vh, .iov_len = sizeof(vh)};
	for (int i = 0; i < iovcnt; i++, n++) {
		if (iov[i].len > 0 && !iov[i].base)
			return TERN_ERR_INVAL;
		v[n].iov_base = (void *)iov[i].base;
		v[n].iov_len = iov[i].len;
		len += iov[i].len;
	}
	e = tx_prepare(l, iov, iovcnt, len, meta, vh);
	if (e)
		return e;
	r = write_frame(l, v, n);
	if (r < 0)
		return send_error(l, errno);
	l->ctr.tx_frames++;
	l->ctr.tx_bytes += len;
	if (meta && meta->gso_size) {
		l->ctr.tx_gso_frames++;
		l->ctr.tx_gso_bytes += len;
	}
	return 0;
}

/* After a read of 0 bytes: the end of a SEQPACKET socket or a pipe shows
 * as a hang-up; without one it was an empty datagram. */
static bool hung_up(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	if (poll(&p, 1, 0) < 0)
		return false;
	return (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

/* The header's meta for a frame of len bytes (NULL: a plain frame), or
 * false for a header tern cannot take. */
static bool rx_meta(struct fd_link *l, size_t len, tern_frame_meta *meta,
		    const tern_frame_meta **out)
{
	*out = NULL;
	if (!l->vnet)
		return true;
	if (vnet_decode(l->buf, len, meta) != 0)
		return false;
	if (meta->flags || meta->gso_size)
		*out = meta;
	return true;
}

static void fdl_input(struct fd_link *l, size_t n, tern_time now)
{
	const uint8_t *frame = l->buf + l->hdr;
	size_t len = n >= l->hdr ? n - l->hdr : 0;
	tern_frame_meta m;
	const tern_frame_meta *meta;

	l->ctr.rx_frames++;
	l->ctr.rx_bytes += len;
	if (len == 0) {
		drop_rx(l, &l->ctr.rx_malformed);
		return;
	}
	/* A TUN device also carries IPv6 (router solicitations the kernel
	 * sends on its own): tern speaks IPv4 only. */
	if (l->kind == FDL_TUN && frame[0] >> 4 != 4) {
		drop_rx(l, &l->ctr.rx_not_ip);
		return;
	}
	if (!rx_meta(l, len, &m, &meta)) {
		drop_rx(l, &l->ctr.rx_bad_vnet);
		return;
	}
	if (len > (meta && meta->gso_size ? l->rx_max : l->link.mtu)) {
		drop_rx(l, &l->ctr.rx_malformed);
		return;
	}
	if (meta && meta->gso_size) {
		l->ctr.rx_gso_frames++;
		l->ctr.rx_gso_bytes += len;
	}
	tern_link_deliver(&l->link, frame, len, meta, now);
}

static int fdl_recv(tern_link *link, int budget, tern_time now)
{
	struct fd_link *l = (struct fd_link *)link;
	int n = 0;

	while (n < budget) {
		ssize_t r = read(l->fd, l->buf, l->buf_size);
		if (r < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue; /* UDP: an old ICMP error, reported once */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return n > 0 ? n : TERN_ERR_IO;
		}
		if (r == 0 && hung_up(l->fd))
			return n > 0 ? n : TERN_ERR_IO;
		n++;
		fdl_input(l, (size_t)r, now);
	}
	return n;
}

static int fdl_fd(tern_link *link)
{
	return ((struct fd_link *)link)->fd;
}

static void fdl_destroy(tern_link *link)
{
	struct fd_link *l = (struct fd_link *)link;

	if (l->owns_fd)
		close(l->fd);
	free(l);
}

static const tern_link_ops fdl_ops = {
	.send = fdl_send,
	.destroy = fdl_destroy,
	.fd = fdl_fd,
	.recv = fdl_recv,
};

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return errno == EBADF ? TERN_ERR_INVAL : TERN_ERR_IO;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return TERN_ERR_IO;
	return 0;
}

/* The longest frame the link reads: its mtu, or with the header a GSO
 * packet of up to 64 KB behind the link header. */
static size_t rx_max_of(uint32_t mtu, enum fdl_kind kind, bool vnet)
{
	size_t l3 = kind == FDL_TAP ? ETH_HDR_LEN : 0;
	size_t gso = vnet ? IP_PACKET_MAX + l3 : 0;

	return gso > mtu ? gso : mtu;
}

tern_link *fdl_open(int fd, uint32_t mtu, bool owns_fd, enum fdl_kind kind,
		    bool vnet, const char *name, int *err)
{
	struct fd_link *l = NULL;
	struct stat st;
	size_t rx_max = rx_max_of(mtu, kind, vnet);
	int e = TERN_ERR_INVAL;

	if (fd < 0 || mtu == 0 || mtu > TERN_FRAME_MAX)
		goto fail;
	e = set_nonblocking(fd);
	if (e)
		goto fail;
	e = TERN_ERR_NOMEM;
	l = calloc(1, sizeof(*l) + VNET_HDR_LEN + rx_max + 1);
	if (!l)
		goto fail;
	l->fd = fd;
	l->owns_fd = owns_fd;
	l->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	l->kind = kind;
	l->vnet = vnet;
	l->ctr.offload = vnet;
	l->hdr = vnet ? VNET_HDR_LEN : 0;
	l->l3 = kind == FDL_TAP ? ETH_HDR_LEN : 0;
	l->rx_max = rx_max;
	l->buf_size = l->hdr + rx_max + 1;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "fd");
	l->link.ops = &fdl_ops;
	l->link.mtu = mtu;
	/* The header brings TSO and partial checksums with it. */
	l->link.tso_max = vnet ? (uint32_t)(IP_PACKET_MAX + l->l3) : 0;
	l->link.tx_csum = vnet;
	l->link.name = l->name;
	return &l->link;
fail:
	if (err)
		*err = e;
	return NULL;
}

tern_link *tern_fd_link(int fd, uint32_t mtu, bool owns_fd, int *err)
{
	return fdl_open(fd, mtu, owns_fd, FDL_DATAGRAM, false, NULL, err);
}

int tern_link_get_counters(const tern_link *link, tern_link_counters *out)
{
	if (!link || !out)
		return TERN_ERR_INVAL;
	if (link->ops == &fdl_ops) {
		*out = ((const struct fd_link *)link)->ctr;
		return 0;
	}
	return eth_counters(link, out);
}
