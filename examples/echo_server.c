/* An echo server over a TUN device with tern's socket API, in threaded
 * mode: the stack runs in a thread of its own and this program makes
 * blocking calls, one client at a time.
 *
 *   ip tuntap add dev tern0 mode tun
 *   ip addr add 10.7.0.1/24 dev tern0
 *   ip link set tern0 up
 *   echo_server tern0 10.7.0.2 7
 *   nc 10.7.0.2 7          (from the Linux side)
 */
#include <stdio.h>
#include <stdlib.h>

#include <tern/tern.h>

static int die(const char *what, int err)
{
	fprintf(stderr, "echo_server: %s: %s\n", what, tern_strerror(err));
	return 1;
}

/* Echoes until the client closes; then closes our side too. */
static void serve_one(tern_sock *c)
{
	char buf[16384];
	ptrdiff_t n;

	while ((n = tern_recv(c, buf, sizeof(buf))) > 0)
		if (tern_send(c, buf, (size_t)n) < 0)
			break;
	tern_close(c);
}

int main(int argc, char **argv)
{
	tern_tun_config tc = {.prefix_len = 24};
	int err = 0;

	if (argc != 4 || tern_addr_parse(argv[2], &tc.addr) < 0) {
		fprintf(stderr, "usage: echo_server IFNAME ADDR PORT\n");
		return 2;
	}
	tc.ifname = argv[1];
	tern_link *link = tern_tun_open(&tc, &err);
	if (!link)
		return die(argv[1], err);
	tern_host *h = tern_host_new(
		&(tern_host_config){.addr = tc.addr, .link = link}, &err);
	if (!h)
		return die("host", err);
	if ((err = tern_host_start(h)) < 0)
		return die("start", err);

	tern_sock *l = tern_socket(h, &err);
	if (!l || (err = tern_bind(l, (uint16_t)atoi(argv[3]))) < 0 ||
	    (err = tern_listen(l, 16)) < 0)
		return die("listen", err);
	for (;;) {
		tern_sock *c = tern_accept(l, NULL, &err);
		if (!c)
			return die("accept", err);
		serve_one(c);
	}
}
