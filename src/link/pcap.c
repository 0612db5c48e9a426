/* tern pcap: a link wrapper that records every frame to a capture file.
 *
 * The file is classic libpcap format (not pcapng), written in host byte
 * order with microsecond timestamps: every reader detects the byte order
 * from the magic number. Timestamps come from the `now` each frame is sent
 * or delivered with, so a simulated run gives the same file for a seed.
 *
 * Writing goes through struct capture, on a file that rotates
 * (src/util/rotfile.c): with bounds, each file of the series begins with
 * the global header and holds whole records, so each is a capture that
 * tcpdump and Wireshark read on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/link.h>

#include "util/rotfile.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
/* libpcap's default; larger than TERN_FRAME_MAX, so nothing is cut. */
#define PCAP_SNAPLEN 262144u

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_record_header {
	uint32_t ts_sec, ts_usec, caplen, len;
};

/* An open capture file. */
struct capture {
	rotfile file;
	uint32_t snaplen;
};

struct pcap_link {
	tern_link link; /* first: a tern_link * is a struct pcap_link * */
	tern_link *inner;
	struct capture cap;
};

static int capture_open(struct capture *cap, const char *path, int linktype,
			const tern_rotate *rot)
{
	struct pcap_file_header h = {
		.magic = PCAP_MAGIC_USEC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = (uint32_t)linktype,
	};
	uint8_t bytes[24];

	/* Fields one by one: the struct might hold padding on odd ABIs. */
	memcpy(bytes, &h.magic, 4);
	memcpy(bytes + 4, &h.version_major, 2);
	memcpy(bytes + 6, &h.version_minor, 2);
	memcpy(bytes + 8, &h.thiszone, 4);
	memcpy(bytes + 12, &h.sigfigs, 4);
	memcpy(bytes + 16, &h.snaplen, 4);
	memcpy(bytes + 20, &h.linktype, 4);
	cap->snaplen = PCAP_SNAPLEN;
	return rotfile_open(&cap->file, path, rot, bytes, sizeof(bytes));
}

/* Appends one record made of pieces, cut at snaplen. */
static void capture_frame(struct capture *cap, const tern_iov *iov, int iovcnt,
			  tern_time now)
{
	struct pcap_record_header r;
	size_t len = 0, room;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].len;
	r.ts_sec = (uint32_t)(now / TERN_SEC);
	r.ts_usec = (uint32_t)(now % TERN_SEC / TERN_USEC);
	r.len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	r.caplen = r.len < cap->snaplen ? r.len : cap->snaplen;
	/* its whole size first: a record never straddles two files */
	rotfile_begin(&cap->file, 16 + (uint64_t)r.caplen);
	rotfile_write(&cap->file, &r.ts_sec, 4);
	rotfile_write(&cap->file, &r.ts_usec, 4);
	rotfile_write(&cap->file, &r.caplen, 4);
	rotfile_write(&cap->file, &r.len, 4);
	room = r.caplen;
	for (int i = 0; i < iovcnt && room > 0; i++) {
		size_t n = iov[i].len < room ? iov[i].len : room;
		rotfile_write(&cap->file, iov[i].base, n);
		room -= n;
	}
}

/* A TSO frame is recorded as sent, one large packet with its partial
 * checksum, as tcpdump on an offloading device shows it. */
static int pcap_send(tern_link *link, const tern_iov *iov, int iovcnt,
		     const tern_frame_meta *meta, tern_time now)
{
	struct pcap_link *w = (struct pcap_link *)link;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return TERN_ERR_INVAL;
	capture_frame(&w->cap, iov, iovcnt, now);
	return tern_link_send(w->inner, iov, iovcnt, meta, now);
}

/* Installed as inner's receive hook: record, then pass up. */
static void pcap_rx(void *ctx, const uint8_t *frame, size_t len,
		    const tern_frame_meta *meta, tern_time now)
{
	struct pcap_link *w = ctx;
	tern_iov iov = {.base = frame, .len = len};

	capture_frame(&w->cap, &iov, 1, now);
	tern_link_deliver(&w->link, frame, len, meta, now);
}

static void pcap_destroy(tern_link *link)
{
	struct pcap_link *w = (struct pcap_link *)link;

	/* A destroyed wrapper must not be called back: simulator ports
	 * outlive their wrappers. */
	tern_link_set_rx(w->inner, NULL, NULL);
	/* Nobody to report a failed flush to at this point. */
	(void)rotfile_close(&w->cap.file);
	tern_link_destroy(w->inner);
	free(w);
}

/* A capture is transparent: what the inner link waits on, reads and
 * times is the wrapper's too (its frames come back through pcap_rx). */
static int pcap_fd(tern_link *link)
{
	return tern_link_fd(((struct pcap_link *)link)->inner);
}

static int pcap_recv(tern_link *link, int budget, tern_time now)
{
	return tern_link_recv(((struct pcap_link *)link)->inner, budget, now);
}

static tern_time pcap_next_deadline(tern_link *link)
{
	return tern_link_next_deadline(((struct pcap_link *)link)->inner);
}

static void pcap_poll(tern_link *link, tern_time now)
{
	tern_link_poll(((struct pcap_link *)link)->inner, now);
}

static void pcap_advise(tern_link *link, uint32_t dst, tern_time now)
{
	tern_link_advise(((struct pcap_link *)link)->inner, dst, now);
}

static const tern_link_ops pcap_ops = {
	.send = pcap_send,
	.destroy = pcap_destroy,
	.fd = pcap_fd,
	.recv = pcap_recv,
	.next_deadline = pcap_next_deadline,
	.poll = pcap_poll,
	.advise = pcap_advise,
};

int tern_pcap_flush(tern_link *link)
{
	if (!link || link->ops != &pcap_ops)
		return TERN_ERR_INVAL;
	return rotfile_flush(&((struct pcap_link *)link)->cap.file);
}

tern_link *tern_pcap_wrap(tern_link *inner, const char *path, int linktype,
			  int *err)
{
	return tern_pcap_wrap_rotating(inner, path, linktype, NULL, err);
}

tern_link *tern_pcap_wrap_rotating(tern_link *inner, const char *path,
				   int linktype, const tern_rotate *rot,
				   int *err)
{
	struct pcap_link *w;
	int e;

	if (!inner || !path || linktype < 0) {
		e = TERN_ERR_INVAL;
		goto fail;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		e = TERN_ERR_NOMEM;
		goto fail;
	}
	e = capture_open(&w->cap, path, linktype, rot);
	if (e) {
		free(w);
		goto fail;
	}
	w->inner = inner;
	w->link.ops = &pcap_ops;
	w->link.mtu = inner->mtu;
	w->link.tso_max = inner->tso_max;
	w->link.tx_csum = inner->tx_csum;
	w->link.name = inner->name;
	tern_link_set_rx(inner, pcap_rx, w);
	return &w->link;
fail:
	if (err)
		*err = e;
	return NULL;
}
