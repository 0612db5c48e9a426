/* tern tun: links on Linux TUN and TAP devices.
 *
 * Opening attaches a descriptor of /dev/net/tun to the named device
 * (TUNSETIFF creates it when it does not exist; it then lives as long as
 * the descriptor). Frames then go through the descriptor core of
 * fdlink.c, one read or writev each. A TUN device carries IP packets;
 * a TAP device carries Ethernet frames, so its link is wrapped in the
 * Ethernet/ARP layer of eth.c and callers see IPv4 packets either way.
 *
 * Offloads (Documentation/networking/tuntap.rst, drivers/net/tun.c): with
 * IFF_VNET_HDR a virtio-net header leads every frame; TUNSETOFFLOAD says
 * what the reader takes from the kernel (TUN_F_CSUM: partial checksums;
 * TUN_F_TSO4/6: GSO packets of up to 64 KB), and the header lets the
 * writer hand the kernel the same. A kernel that refuses any step gets
 * the plain path, silently; the counters say which path runs.
 */
#define _GNU_SOURCE /* struct ifreq */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "eth.h"
#include "link/vnet.h"

#define TUN_PATH "/dev/net/tun"
#define TUN_MTU_DEFAULT 1500
/* RFC 791: every internet module must take a 68-octet datagram. */
#define IP_MTU_MIN 68
#define IP_MTU_MAX 65535
/* TSO6 too, as virtio-net asks for both: the IPv6 packets are dropped
 * unread either way (tern speaks IPv4). */
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

/* The kernel's dev_valid_name(): 1..IFNAMSIZ-1 bytes, not "." or "..",
 * no '/', ':' or white space. Checking first lets a later EINVAL from
 * TUNSETIFF mean one thing only. */
static bool name_ok(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len >= IFNAMSIZ || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

static int config_check(const tern_tun_config *cfg, uint32_t *mtu)
{
	if (!cfg || !name_ok(cfg->ifname))
		return TERN_ERR_INVAL;
	*mtu = cfg->mtu ? cfg->mtu : TUN_MTU_DEFAULT;
	if (*mtu < IP_MTU_MIN || *mtu > IP_MTU_MAX)
		return TERN_ERR_INVAL;
	if (cfg->offload != TERN_TUN_OFFLOAD_ON &&
	    cfg->offload != TERN_TUN_OFFLOAD_OFF)
		return TERN_ERR_INVAL;
	return cfg->tap ? eth_config_check(cfg) : 0;
}

static int open_error(int e)
{
	switch (e) {
	case ENOENT: /* no device node */
	case ENODEV: /* a node, but no tun driver behind it */
	case ENXIO:
		return TERN_ERR_NOENT;
	case EPERM:
	case EACCES:
		return TERN_ERR_PERM;
	case ENOMEM:
		return TERN_ERR_NOMEM;
	default:
		return TERN_ERR_IO;
	}
}

/* TUNSETIFF's errors once the name is known to be valid: EBUSY when the
 * device already has a reader, EINVAL when the name belongs to a device
 * of the other kind (or to no TUN/TAP device at all, such as "lo"), EPERM
 * without CAP_NET_ADMIN or for a device owned by another user. */
static int setiff_error(int e)
{
	switch (e) {
	case EBUSY:
	case EINVAL:
	case EEXIST:
		return TERN_ERR_BUSY;
	case EPERM:
	case EACCES:
		return TERN_ERR_PERM;
	case ENOMEM:
	case ENOBUFS:
		return TERN_ERR_NOMEM;
	default:
		return TERN_ERR_IO;
	}
}

/* Does the kernel's TUN driver know IFF_VNET_HDR? Asked before
 * attaching: TUNGETFEATURES answers on any descriptor. */
static bool has_vnet_hdr(int fd)
{
	unsigned int features = 0;

	return ioctl(fd, TUNGETFEATURES, &features) == 0 &&
	       (features & IFF_VNET_HDR);
}

/* The device's flags as the kernel keeps them. The first queue of a
 * device sets them; a later queue of a multi-queue device inherits them
 * whatever it asked for (tun_set_iff), so *vnet must be read back. */
static int check_vnet(int fd, const tern_tun_config *cfg, bool *vnet)
{
	struct ifreq ifr;
	bool has;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return TERN_ERR_IO;
	has = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
	/* Asked for offloads, got a device without: the plain path. Asked
	 * for none, got a device with them: the queues must agree. */
	if (has && !*vnet)
		return cfg->multi_queue ? TERN_ERR_BUSY : TERN_ERR_IO;
	*vnet = has;
	return 0;
}

/* Opens /dev/net/tun and attaches it, with IFF_VNET_HDR if *vnet and the
 * kernel has it (*vnet says what was done); name receives the device's
 * name as the kernel reports it. Returns the descriptor or a TERN_ERR_*. */
static int tun_attach(const tern_tun_config *cfg, bool *vnet,
		      char name[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, e;

	fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return open_error(errno);
	*vnet = *vnet && has_vnet_hdr(fd);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)((cfg->tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
				(*vnet ? IFF_VNET_HDR : 0) |
				(cfg->multi_queue ? IFF_MULTI_QUEUE : 0));
	memcpy(ifr.ifr_name, cfg->ifname, strlen(cfg->ifname) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		e = setiff_error(errno);
	else
		e = check_vnet(fd, cfg, vnet);
	if (e) {
		close(fd);
		return e;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* The header's size (12: vnet.h says why), its byte order (little-endian
 * whatever the host: the encoder writes that), then the offloads. */
static bool offloads_on(int fd)
{
	int size = VNET_HDR_LEN, le = 1;

	return ioctl(fd, TUNSETVNETHDRSZ, &size) == 0 &&
	       ioctl(fd, TUNSETVNETLE, &le) == 0 &&
	       ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS) == 0;
}

/* Attaches with offloads as cfg asks and the kernel allows; *vnet says
 * which path runs. On the plain path the device's offloads are switched
 * off: a persistent device keeps what its last reader set, and GSO
 * packets would reach a reader without the header whole. */
static int open_device(const tern_tun_config *cfg, char name[IFNAMSIZ],
		       bool *vnet)
{
	int fd;

	*vnet = cfg->offload == TERN_TUN_OFFLOAD_ON;
	fd = tun_attach(cfg, vnet, name);
	if (fd >= 0 && *vnet && !offloads_on(fd)) {
		close(fd);
		*vnet = false;
		fd = tun_attach(cfg, vnet, name);
	}
	if (fd >= 0 && !*vnet)
		(void)ioctl(fd, TUNSETOFFLOAD, 0UL);
	return fd;
}

tern_link *tern_tun_open(const tern_tun_config *cfg, int *err)
{
	char name[IFNAMSIZ];
	tern_tun_config eth_cfg;
	tern_link *raw, *link;
	uint32_t mtu;
	bool vnet;
	int fd, e;

	e = config_check(cfg, &mtu);
	if (e)
		goto fail;
	fd = open_device(cfg, name, &vnet);
	if (fd < 0) {
		e = fd;
		goto fail;
	}
	raw = fdl_open(fd, cfg->tap ? mtu + ETH_HDR_LEN : mtu, true,
		       cfg->tap ? FDL_TAP : FDL_TUN, vnet, name, &e);
	if (!raw) {
		close(fd);
		goto fail;
	}
	if (!cfg->tap)
		return raw;
	eth_cfg = *cfg;
	eth_cfg.mtu = mtu;
	link = eth_wrap(raw, &eth_cfg, &e);
	if (link)
		return link;
	tern_link_destroy(raw);
fail:
	if (err)
		*err = e;
	return NULL;
}
