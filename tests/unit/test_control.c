/* The control socket's server (tools/control.c) on a real host whose
 * loop runs in a thread: ping, stats, refusals, the 0600 mode, the stale
 * socket, a silent client dropped in time, the client limit. No root: the
 * host's link is one end of a socketpair. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <tern/tern.h>

#include "cli.h"
#include "control.h"
#include "testutil.h"

/* control.c reports through the CLI's cli_error (tools/main.c). */
void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

typedef struct fixture {
	tern_host *h;
	int peer; /* the link's other end */
	char dir[32], path[64];
	control *c;
} fixture;

static int setup(void **state)
{
	static fixture f;
	int sv[2], err = -1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	tern_link *l = tern_fd_link(sv[0], 1500, true, &err);
	assert_non_null(l);
	tern_host_config hc = {.addr = 0x0a000001u, .link = l};
	f.h = tern_host_new(&hc, &err);
	assert_non_null(f.h);
	f.peer = sv[1];
	snprintf(f.dir, sizeof(f.dir), "/tmp/tern-ctl-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/ctl", f.dir);
	f.c = control_open(f.path, f.h, l);
	assert_non_null(f.c);
	assert_int_equal(tern_host_start(f.h), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tern_host_stop(f->h);
	tern_host_join(f->h);
	control_close(f->c);
	tern_host_free(f->h);
	close(f->peer);
	rmdir(f->dir);
	return 0;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Everything until the server closes (at most 3 s). */
static char *read_to_eof(int fd)
{
	static char buf[65536];
	size_t len = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 3000), 1);
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == ECONNRESET && len > 0)
			n = 0; /* refused before it read us: still answered */
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static char *ask(const char *path, const char *text)
{
	int fd = dial(path);
	assert_true(fd >= 0);
	/* a server that refused us (ERR busy) may have closed before the
	 * request went: its answer is there to read all the same */
	ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL);
	assert_true(n == (ssize_t)strlen(text) ||
		    (n < 0 && (errno == EPIPE || errno == ECONNRESET)));
	char *r = read_to_eof(fd);
	close(fd);
	return r;
}

static void test_control_ping(void **state)
{
	fixture *f = *state;

	assert_string_equal(ask(f->path, "ping\n"), "OK\npong\n");
	assert_string_equal(ask(f->path, "ping\r\n"), "OK\npong\n");
}

static void test_control_stats(void **state)
{
	fixture *f = *state;
	char *r = ask(f->path, "stats\n");

	assert_memory_equal(r, "OK\n{\"counters\":{", 15);
	assert_non_null(strstr(r, "\"drops\":{"));
	assert_non_null(strstr(r, "\"link\":{"));
	assert_non_null(strstr(r, "\"rx_frames\":"));
	assert_int_equal(r[strlen(r) - 1], '\n');
}

static void test_control_unknown_request(void **state)
{
	fixture *f = *state;

	assert_string_equal(ask(f->path, "bogus\n"),
			    "ERR unknown request 'bogus'\n");
	char big[400];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(ask(f->path, big), "ERR request too long\n");
}

static void test_control_mode_0600(void **state)
{
	fixture *f = *state;
	struct stat st;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client that says nothing is dropped after CONTROL_REQUEST_TIMEOUT,
 * and holds nobody else up meanwhile. */
static void test_control_silent_client_dropped(void **state)
{
	fixture *f = *state;
	int silent = dial(f->path);
	double t0 = seconds();

	assert_true(silent >= 0);
	assert_string_equal(ask(f->path, "ping\n"), "OK\npong\n");
	assert_true(seconds() - t0 < 0.5);
	assert_string_equal(read_to_eof(silent), ""); /* closed, no answer */
	double waited = seconds() - t0;
	assert_true(waited > 0.9 && waited < 2.5);
	close(silent);
}

/* CONTROL_MAX_CLIENTS silent clients hold every slot: the next one is
 * told so at once; once they are gone, a query works again. */
static void test_control_client_limit(void **state)
{
	fixture *f = *state;
	int fds[CONTROL_MAX_CLIENTS];

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		assert_true((fds[i] = dial(f->path)) >= 0);
	usleep(100 * 1000); /* the loop has taken them all */
	assert_string_equal(ask(f->path, "ping\n"), "ERR busy\n");
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	usleep(100 * 1000);
	assert_string_equal(ask(f->path, "ping\n"), "OK\npong\n");
}

/* What may not be replaced is refused; a stale socket is; the path goes
 * at close. */
static void test_control_path_rules(void **state)
{
	fixture *f = *state;
	char path[100];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	assert_null(control_open(f->path, f->h, NULL)); /* live */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
	assert_false(control_path_check(path));
	assert_null(control_open(path, f->h, NULL));
	unlink(path);

	snprintf(path, sizeof(path), "%s/stale", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s); /* bound, never listened, closed: stale */
	control *c = control_open(path, f->h, NULL);
	assert_non_null(c);
	assert_string_equal(ask(path, "ping\n"), "OK\npong\n");
	control_close(c);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_ping, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control_stats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control_unknown_request,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_mode_0600, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_control_silent_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_client_limit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_path_rules, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
