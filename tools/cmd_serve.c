/* tern serve --tun IFNAME --addr ADDR/PREFIX --port N
 *            --app echo|discard|http [--root DIR] [network options] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "net.h"

enum app { APP_ECHO, APP_DISCARD, APP_HTTP };

typedef struct client client;

typedef struct server {
	net_opts net;
	uint16_t port;
	enum app app;
	const char *root;
	int root_fd;
	net_host nh;
	tern_sock *listener;
	client *clients;
} server;

/* One accepted connection and its application's state. */
struct client {
	server *sv;
	tern_sock *s;
	client *prev, *next;
	uint8_t buf[65536]; /* echo: read, not yet sent back */
	size_t len, off;
	bool eof;
	http_conn http;
};

static void client_free(client *c)
{
	server *sv = c->sv;

	if (c->prev)
		c->prev->next = c->next;
	else
		sv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	http_free(&c->http);
	free(c);
}

/* The application is done with it: FIN after what is queued. */
static void client_close(client *c)
{
	tern_close(c->s);
	client_free(c);
}

/* echo: send back what was read, read only what can be held. */
static bool echo_pump(client *c)
{
	for (;;) {
		while (c->off < c->len) {
			ptrdiff_t n = tern_send(c->s, c->buf + c->off,
						c->len - c->off);
			if (n == TERN_ERR_AGAIN)
				return true;
			if (n < 0)
				return false;
			c->off += (size_t)n;
		}
		c->off = c->len = 0;
		if (c->eof)
			return false;
		ptrdiff_t n = tern_recv(c->s, c->buf, sizeof(c->buf));
		if (n == TERN_ERR_AGAIN)
			return true;
		if (n <= 0) {
			c->eof = true;
			if (n < 0)
				return false;
			continue;
		}
		c->len = (size_t)n;
	}
}

/* discard: read and drop everything, close at the end. */
static bool discard_pump(client *c)
{
	ptrdiff_t n;

	while ((n = tern_recv(c->s, c->buf, sizeof(c->buf))) > 0)
		;
	return n == TERN_ERR_AGAIN;
}

static void client_event(tern_sock *s, unsigned ev, void *user)
{
	client *c = user;
	bool keep;
	(void)s;
	(void)ev;

	switch (c->sv->app) {
	case APP_ECHO:
		keep = echo_pump(c);
		break;
	case APP_DISCARD:
		keep = discard_pump(c);
		break;
	default:
		keep = http_pump(&c->http, c->s) == HTTP_WAIT;
		break;
	}
	if (!keep)
		client_close(c);
}

static void accept_all(tern_sock *l, unsigned ev, void *user)
{
	server *sv = user;
	tern_sock *s;
	(void)ev;

	while ((s = tern_accept(l, NULL, NULL)) != NULL) {
		client *c = calloc(1, sizeof(*c));
		if (!c) {
			tern_abort(s);
			continue;
		}
		c->sv = sv;
		c->s = s;
		http_init(&c->http, sv->root_fd);
		c->next = sv->clients;
		if (sv->clients)
			sv->clients->prev = c;
		sv->clients = c;
		tern_sock_set_callback(s, client_event, c);
		client_event(s, 0, c); /* data may be there already */
	}
}

/* SIGINT/SIGTERM: stop listening, close every connection gracefully. */
static void stop_serving(void *arg)
{
	server *sv = arg;

	if (sv->listener)
		tern_close(sv->listener);
	sv->listener = NULL;
	while (sv->clients)
		client_close(sv->clients);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tern serve (--tun IFNAME | --tap IFNAME) --addr "
		"ADDR/PREFIX --port N\n"
		"                  --app echo|discard|http [--root DIR] "
		"[options]\n\n"
		"  --port N            the TCP port to listen on\n"
		"  --app APP           echo: send back what arrives; discard: "
		"read and drop;\n"
		"                      http: HTTP/1.1 GET/HEAD of the files "
		"under --root\n"
		"  --root DIR          http: the directory served\n"
		"%s",
		net_opts_usage());
}

static bool parse_app(server *sv, const char *v)
{
	static const char *const names[] = {"echo", "discard", "http"};

	for (int i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			sv->app = (enum app)i;
			return true;
		}
	cli_error("--app: '%s' is not echo, discard or http", v);
	return false;
}

static bool check_serve(server *sv, bool have_app)
{
	if (!sv->port || !have_app) {
		cli_error("serve: --port and --app are required");
		return false;
	}
	if ((sv->app == APP_HTTP) != (sv->root != NULL)) {
		cli_error(sv->root ? "--root is for --app http"
				   : "--app http needs --root DIR");
		return false;
	}
	if (sv->root) {
		sv->root_fd =
			open(sv->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sv->root_fd < 0) {
			cli_error("--root: cannot open directory '%s': %s",
				  sv->root, strerror(errno));
			return false;
		}
	}
	return true;
}

static bool parse_serve(server *sv, int argc, char **argv)
{
	uint64_t port = 0;
	bool have_app = false;

	for (int i = 0; i < argc; i++) {
		int r = net_opt(&sv->net, argc, argv, &i);
		if (r < 0)
			return false;
		if (r > 0)
			continue;
		const char *opt = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(opt, "--port") && strcmp(opt, "--app") &&
		    strcmp(opt, "--root")) {
			cli_error("serve: unknown option '%s'", opt);
			return false;
		}
		if (!val) {
			cli_error("%s needs a value", opt);
			return false;
		}
		i++;
		if (strcmp(opt, "--port") == 0 &&
		    (!cli_parse_u64(NULL, val, 65535, &port) || !port)) {
			cli_error("--port: '%s' is not a port from 1 to 65535",
				  val);
			return false;
		}
		if (strcmp(opt, "--app") == 0 &&
		    !(have_app = parse_app(sv, val)))
			return false;
		if (strcmp(opt, "--root") == 0)
			sv->root = val;
	}
	sv->port = (uint16_t)port;
	return net_opts_check(&sv->net) && check_serve(sv, have_app);
}

static int listen_on(server *sv)
{
	int err = 0;
	tern_sock *l = tern_socket(sv->nh.host, &err);

	if (l && (err = tern_bind(l, sv->port)) == 0 &&
	    (err = tern_listen(l, 4096)) == 0) {
		sv->listener = l;
		tern_sock_set_callback(l, accept_all, sv);
		return 0;
	}
	if (l)
		tern_close(l);
	cli_error("--port %u: %s", (unsigned)sv->port,
		  err == TERN_ERR_ADDRINUSE ? "port in use"
					    : tern_strerror(err));
	return err;
}

int cmd_serve(int argc, char **argv)
{
	server sv = {.root_fd = -1, .net.linger = 5 * TERN_SEC};

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (!parse_serve(&sv, argc - 1, argv + 1)) {
		if (sv.root_fd >= 0)
			close(sv.root_fd);
		return 2;
	}
	int rc = 1;
	if (net_host_open(&sv.nh, &sv.net)) {
		if (listen_on(&sv) == 0)
			rc = net_host_run(&sv.nh, &sv.net, stop_serving, &sv);
		stop_serving(&sv);
		if (!net_host_close(&sv.nh, &sv.net) && rc == 0)
			rc = 1;
	}
	if (sv.root_fd >= 0)
		close(sv.root_fd);
	return rc;
}
