/* tern connect (--tun IFNAME | --tap IFNAME) --addr ADDR/PREFIX
 *              --to IP:PORT [--send FILE | --send-for SECONDS |
 *              --send-size BYTES] [--recv FILE] [--local-port N]
 * Connects, sends the file (or generated data, for a time or a byte
 * count), shuts down its sending side, writes what it receives; exits 0
 * on a clean close, 1 naming the error otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"

/* --send-size: up to 1 TiB */
#define SEND_SIZE_MAX (1ull << 40)

typedef struct client {
	net_opts net;
	tern_endpoint to;
	uint16_t local_port;
	const char *send_path, *recv_path;
	int send_fd, recv_fd;
	/* generated data: for send_for after the handshake, or send_size
	 * bytes (0 and 0: none) */
	tern_time send_for;
	uint64_t send_size;
	bool time_up;
	tern_time started, finished; /* the handshake done; all done */
	net_host nh;
	tern_sock *s;
	uint8_t buf[65536];
	size_t len, off;
	bool sent_all, shut, eof, done;
	int error;	 /* the connection's */
	bool write_fail; /* writing --recv */
	uint64_t bytes_in, bytes_out;
} client;

static void finish(client *c, int error)
{
	if (c->done)
		return;
	c->done = true;
	c->error = error;
	c->finished = tern_host_now(c->nh.host);
	tern_host_stop(c->nh.host);
}

static bool generated(const client *c)
{
	return c->send_for || c->send_size;
}

/* The next piece of generated data: the pattern in buf (the bytes 0 to
 * 255, repeating, so byte k of the stream is k mod 256) from where the
 * stream is (c->off) to the end of buf or of --send-size. Returns its
 * length, 0 when there is no more. */
static ssize_t generate(client *c)
{
	uint64_t left = c->send_size ? c->send_size - c->bytes_out : UINT64_MAX;
	size_t n = sizeof(c->buf) - (size_t)(c->bytes_out % sizeof(c->buf));

	if (c->time_up || left == 0)
		return 0;
	c->off = sizeof(c->buf) - n;
	return (ssize_t)(n < left ? n : left);
}

/* Sends the file or generated data; once it is all queued,
 * shutdown(SHUT_WR). */
static bool send_more(client *c)
{
	while (!c->sent_all) {
		if (c->off == c->len) {
			ssize_t n = generated(c)      ? generate(c)
				    : c->send_fd >= 0 ? read(c->send_fd, c->buf,
							     sizeof(c->buf))
						      : 0;
			if (n < 0)
				return false;
			c->len = generated(c) && n > 0 ? c->off + (size_t)n
						       : (size_t)n;
			if (!generated(c))
				c->off = 0;
			c->sent_all = n == 0;
			continue;
		}
		ptrdiff_t n = tern_send(c->s, c->buf + c->off, c->len - c->off);
		if (n == TERN_ERR_AGAIN)
			return true;
		if (n < 0)
			return false;
		c->off += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	if (!c->shut) {
		c->shut = true;
		tern_shutdown(c->s, TERN_SHUT_WR);
	}
	return true;
}

static void on_event(tern_sock *s, unsigned ev, void *user);

/* --send-for: the time is up; what is queued goes, then our FIN. */
static void send_time_up(tern_host *h, void *arg)
{
	client *c = arg;

	(void)h;
	c->time_up = true;
	if (!c->done && c->s)
		on_event(c->s, 0, c);
}

/* The handshake is done: the clock of --send-for starts. */
static void connected(client *c)
{
	c->started = tern_host_now(c->nh.host);
	if (c->send_for)
		tern_host_after(c->nh.host, c->send_for, send_time_up, c);
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool receive(client *c)
{
	uint8_t buf[65536];
	ptrdiff_t n;

	while ((n = tern_recv(c->s, buf, sizeof(buf))) > 0) {
		c->bytes_in += (uint64_t)n;
		if (c->recv_fd >= 0 && !write_all(c->recv_fd, buf, (size_t)n)) {
			c->write_fail = true;
			return false;
		}
	}
	if (n == 0)
		c->eof = true;
	return n == 0 || n == TERN_ERR_AGAIN;
}

/* Done when both sides have finished: our FIN sent and theirs received,
 * and our last ACK out (TIME_WAIT) or theirs in (CLOSED). */
static void on_event(tern_sock *s, unsigned ev, void *user)
{
	client *c = user;
	(void)ev;

	if (c->done)
		return;
	if (!c->started && tern_sock_state(s) >= TERN_TCP_ESTABLISHED)
		connected(c);
	if (tern_sock_state(s) != TERN_TCP_SYN_SENT &&
	    (!send_more(c) || !receive(c))) {
		int e = 0;
		tern_getsockopt(s, TERN_SO_ERROR, &e);
		finish(c, c->write_fail ? TERN_ERR_IO : e ? e : TERN_ERR_RESET);
		return;
	}
	int st = tern_sock_state(s);
	if (st == TERN_TCP_CLOSED && tern_sock_conn(s) &&
	    tern_tcp_error(tern_sock_conn(s)))
		finish(c, tern_tcp_error(tern_sock_conn(s)));
	else if (c->shut && c->eof &&
		 (st == TERN_TCP_TIME_WAIT || st == TERN_TCP_CLOSED))
		finish(c, 0);
}

static void stop_connect(void *arg)
{
	client *c = arg;

	if (c->s && !c->done)
		tern_close(c->s);
	c->s = NULL;
	c->done = true;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern connect (--tun IFNAME | --tap IFNAME) --addr "
		"ADDR/PREFIX --to IP:PORT\n"
		"                    [--send FILE | --send-for SECONDS | "
		"--send-size BYTES]\n"
		"                    [--recv FILE] [--local-port N] "
		"[options]\n\n"
		"  --to IP:PORT        the server\n"
		"  --send FILE         send this file, then shut down sending\n"
		"  --send-for SECONDS  send generated data (the bytes 0 to "
		"255,\n"
		"                      repeating) for this long, then shut "
		"down sending\n"
		"  --send-size BYTES   send this many bytes of generated data\n"
		"                      (with --stats, both print the bytes "
		"and rates)\n"
		"  --recv FILE         write what arrives here\n"
		"  --local-port N      our port (default: an ephemeral one)\n"
		"%s",
		net_opts_usage());
}

static bool parse_endpoint(const char *text, tern_endpoint *e)
{
	char buf[32];
	const char *colon = strrchr(text, ':');
	uint64_t port;

	if (!colon || (size_t)(colon - text) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)(colon - text), text);
	if (tern_addr_parse(buf, &e->addr) < 0 || e->addr == 0 ||
	    !cli_parse_u64(NULL, colon + 1, 65535, &port) || !port)
		return false;
	e->port = (uint16_t)port;
	return true;
}

/* One option of connect's own; false with the reason printed. */
static bool connect_opt(client *c, const char *opt, const char *val)
{
	uint64_t port, n;

	if (strcmp(opt, "--to") == 0) {
		if (parse_endpoint(val, &c->to))
			return true;
		cli_error("--to: '%s' is not IP:PORT", val);
	} else if (strcmp(opt, "--send") == 0) {
		c->send_path = val;
		return true;
	} else if (strcmp(opt, "--send-for") == 0) {
		if (cli_parse_u64(NULL, val, 3600, &n) && n) {
			c->send_for = n * TERN_SEC;
			return true;
		}
		cli_error("--send-for: '%s' is not a number of seconds from 1 "
			  "to 3600",
			  val);
	} else if (strcmp(opt, "--send-size") == 0) {
		if (cli_parse_u64(NULL, val, SEND_SIZE_MAX, &n) && n) {
			c->send_size = n;
			return true;
		}
		cli_error("--send-size: '%s' is not a number of bytes from 1 "
			  "to %llu",
			  val, (unsigned long long)SEND_SIZE_MAX);
	} else if (strcmp(opt, "--recv") == 0) {
		c->recv_path = val;
		return true;
	} else if (strcmp(opt, "--local-port") == 0) {
		if (cli_parse_u64(NULL, val, 65535, &port) && port) {
			c->local_port = (uint16_t)port;
			return true;
		}
		cli_error("--local-port: '%s' is not a port from 1 to 65535",
			  val);
	}
	return false;
}

/* --send first, --recv once the device is open: a refused device leaves
 * the file --recv names as it was. */
static bool open_send(client *c)
{
	if (c->send_path) {
		c->send_fd = open(c->send_path, O_RDONLY | O_CLOEXEC);
		if (c->send_fd < 0) {
			cli_error("--send: cannot read '%s': %s", c->send_path,
				  strerror(errno));
			return false;
		}
	}
	return true;
}

static bool open_recv(client *c)
{
	if (c->recv_path) {
		c->recv_fd =
			open(c->recv_path,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->recv_fd < 0) {
			cli_error("--recv: cannot write '%s': %s", c->recv_path,
				  strerror(errno));
			return false;
		}
	}
	return true;
}

static bool parse_connect(client *c, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int r = net_opt(&c->net, argc, argv, &i);
		if (r < 0)
			return false;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--to") && strcmp(argv[i], "--send") &&
		    strcmp(argv[i], "--send-for") &&
		    strcmp(argv[i], "--send-size") &&
		    strcmp(argv[i], "--recv") &&
		    strcmp(argv[i], "--local-port")) {
			cli_error("connect: unknown option '%s'", argv[i]);
			return false;
		}
		if (i + 1 >= argc) {
			cli_error("%s needs a value", argv[i]);
			return false;
		}
		if (!connect_opt(c, argv[i], argv[i + 1]))
			return false;
		i++;
	}
	if (!c->to.port) {
		cli_error("connect: where to? (--to IP:PORT)");
		return false;
	}
	if ((c->send_path != NULL) + (c->send_for != 0) + (c->send_size != 0) >
	    1) {
		cli_error("--send, --send-for and --send-size: give one of "
			  "them");
		return false;
	}
	return net_opts_check(&c->net);
}

static int start(client *c)
{
	int err = 0;

	c->s = tern_socket(c->nh.host, &err);
	if (!c->s)
		return err;
	if (c->local_port && (err = tern_bind(c->s, c->local_port)) < 0)
		return err;
	tern_sock_set_callback(c->s, on_event, c);
	err = tern_connect(c->s, &c->to);
	return err == TERN_ERR_INPROGRESS ? 0 : err;
}

static const char *error_name(int err)
{
	switch (err) {
	case TERN_ERR_REFUSED:
		return "connection refused";
	case TERN_ERR_RESET:
		return "connection reset by peer";
	case TERN_ERR_TIMEDOUT:
		return "connection timed out";
	default:
		return tern_strerror(err);
	}
}

/* With --stats: what went each way, from the handshake to the end. */
static void print_rates(const client *c)
{
	double s = (double)(c->finished - c->started) / 1e9;

	printf("sent %llu bytes, received %llu bytes in %.3f s: "
	       "%.1f Mbit/s out, %.1f Mbit/s in\n",
	       (unsigned long long)c->bytes_out,
	       (unsigned long long)c->bytes_in, s,
	       (double)c->bytes_out * 8 / s / 1e6,
	       (double)c->bytes_in * 8 / s / 1e6);
}

static int run_client(client *c)
{
	char to[16];

	if (!open_send(c) || !net_host_open(&c->nh, &c->net))
		return 1;
	if (!open_recv(c)) {
		net_host_close(&c->nh, &c->net);
		return 1;
	}
	for (size_t i = 0; i < sizeof(c->buf); i++)
		c->buf[i] = (uint8_t)i; /* generated data: 0 to 255, again */
	int err = start(c);
	int rc = err ? 1 : net_host_run(&c->nh, &c->net, stop_connect, c);
	if (c->net.stats && c->started && c->finished > c->started)
		print_rates(c);
	if (err)
		cli_error("connect: %s", error_name(err));
	else if (c->write_fail)
		cli_error("--recv: writing '%s' failed: %s", c->recv_path,
			  strerror(errno));
	else if (c->error)
		cli_error("connect to %s:%u: %s",
			  tern_addr_format(c->to.addr, to, sizeof(to)),
			  (unsigned)c->to.port, error_name(c->error));
	if (rc == 0 && (c->error || c->write_fail))
		rc = 1;
	if (!net_host_close(&c->nh, &c->net) && rc == 0)
		rc = 1;
	return rc;
}

int cmd_connect(int argc, char **argv)
{
	client *c = calloc(1, sizeof(*c));
	int rc = 2;

	if (!c)
		return 1;
	c->send_fd = c->recv_fd = -1;
	c->net.linger = 5 * TERN_SEC;
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		rc = 0;
	} else if (parse_connect(c, argc - 1, argv + 1)) {
		rc = run_client(c);
	}
	if (c->send_fd >= 0)
		close(c->send_fd);
	if (c->recv_fd >= 0 && close(c->recv_fd) != 0 && rc == 0) {
		cli_error("--recv: writing '%s' failed", c->recv_path);
		rc = 1;
	}
	free(c);
	return rc;
}
