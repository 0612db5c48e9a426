/* tern fd links: frames over a descriptor, one datagram (or one device
 * read or write) per frame.
 *
 * The same core carries tern_fd_link (a socketpair, a UDP socket, a packet
 * pipe) and the TUN and TAP devices of tun.c: each frame is one writev out
 * and one read in, into a buffer the link owns, so nothing is allocated
 * per frame. The descriptor is non-blocking; a frame the descriptor
 * cannot take right now is dropped and counted, as a device would.
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

/* More pieces than any sender makes (headers, two ring pieces). */
#define FDL_PIECES_MAX 64
#define FDL_NAME_MAX 32

struct fd_link {
	tern_link link; /* first: a tern_link * is a struct fd_link * */
	int fd;
	bool owns_fd;
	bool is_socket; /* sendmsg(MSG_NOSIGNAL): a gone peer is no SIGPIPE */
	enum fdl_kind kind;
	tern_link_counters ctr;
	char name[FDL_NAME_MAX];
	size_t buf_size; /* mtu + 1: a longer datagram shows as oversize */
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

static int fdl_send(tern_link *link, const tern_iov *iov, int iovcnt,
		    tern_time now)
{
	struct fd_link *l = (struct fd_link *)link;
	struct iovec v[FDL_PIECES_MAX];
	size_t len = 0;
	ssize_t r;

	(void)now;
	if (!iov || iovcnt <= 0 || iovcnt > FDL_PIECES_MAX)
		return TERN_ERR_INVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].len > 0 && !iov[i].base)
			return TERN_ERR_INVAL;
		v[i].iov_base = (void *)iov[i].base;
		v[i].iov_len = iov[i].len;
		len += iov[i].len;
	}
	/* An empty datagram would read as end of file on SEQPACKET. */
	if (len == 0 || len > l->link.mtu)
		return TERN_ERR_INVAL;
	r = write_frame(l, v, iovcnt);
	if (r < 0)
		return send_error(l, errno);
	l->ctr.tx_frames++;
	l->ctr.tx_bytes += (uint64_t)r;
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

static void fdl_input(struct fd_link *l, size_t len, tern_time now)
{
	l->ctr.rx_frames++;
	l->ctr.rx_bytes += len;
	if (len == 0 || len > l->link.mtu) {
		drop_rx(l, &l->ctr.rx_malformed);
		return;
	}
	/* A TUN device also carries IPv6 (router solicitations the kernel
	 * sends on its own): tern speaks IPv4 only. */
	if (l->kind == FDL_TUN && l->buf[0] >> 4 != 4) {
		drop_rx(l, &l->ctr.rx_not_ip);
		return;
	}
	tern_link_deliver(&l->link, l->buf, len, now);
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

tern_link *fdl_open(int fd, uint32_t mtu, bool owns_fd, enum fdl_kind kind,
		    const char *name, int *err)
{
	struct fd_link *l = NULL;
	struct stat st;
	int e = TERN_ERR_INVAL;

	if (fd < 0 || mtu == 0 || mtu > TERN_FRAME_MAX)
		goto fail;
	e = set_nonblocking(fd);
	if (e)
		goto fail;
	e = TERN_ERR_NOMEM;
	l = calloc(1, sizeof(*l) + mtu + 1);
	if (!l)
		goto fail;
	l->fd = fd;
	l->owns_fd = owns_fd;
	l->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	l->kind = kind;
	l->buf_size = (size_t)mtu + 1;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "fd");
	l->link.ops = &fdl_ops;
	l->link.mtu = mtu;
	l->link.name = l->name;
	return &l->link;
fail:
	if (err)
		*err = e;
	return NULL;
}

tern_link *tern_fd_link(int fd, uint32_t mtu, bool owns_fd, int *err)
{
	return fdl_open(fd, mtu, owns_fd, FDL_DATAGRAM, NULL, err);
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
