/* The control socket's server: non-blocking, in the host's loop (through
 * tern_host_watch_fd), so that a query sees the stack between two rounds
 * and a slow or silent client costs nothing but a slot. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

typedef struct ctl_client {
	int fd;
	char req[CONTROL_REQUEST_MAX];
	size_t len;
	char *resp; /* NULL while the request is being read */
	size_t resp_len, resp_off;
	tern_time deadline;
} ctl_client;

struct control {
	tern_host *host;
	tern_link *device;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;	     /* the listening socket */
	int timerfd; /* the next client deadline */
	ctl_client clients[CONTROL_MAX_CLIENTS];
	int nclients;
};

static char *answer_stats(tern_host *h, tern_link *device)
{
	const tern_stats *st = tern_stack_stats(tern_host_stack(h));
	tern_link_counters lc;
	const tern_link_counters *link =
		device && tern_link_get_counters(device, &lc) == 0 ? &lc : NULL;
	int len = tern_stats_json(NULL, 0, st, link);
	char *out = malloc((size_t)len + 5);

	if (out) {
		memcpy(out, "OK\n", 3);
		tern_stats_json(out + 3, (size_t)len + 1, st, link);
		strcpy(out + 3 + len, "\n");
	}
	return out;
}

typedef struct ss_out {
	FILE *f;
	tern_time now;
	const char *cc;
	size_t n;
} ss_out;

static void ss_timer(FILE *f, const tern_conn_view *v, tern_time now)
{
	static const char *const names[] = {"off", "on", "keepalive",
					    "timewait", "persist"};
	tern_time left = v->timer_expires == TERN_TIME_NONE ? 0
			 : v->timer_expires > now ? v->timer_expires - now
						  : 0;

	fprintf(f, " timer=%s expires_ms=%llu timer_count=%u", names[v->timer],
		(unsigned long long)(left / TERN_MSEC), v->timer_count);
}

/* The figures of ss -i, for a connection (a record has none). */
static void ss_info(FILE *f, const tern_tcp_info *i, const char *cc)
{
	fprintf(f,
		" cc=%s rtt_us=%llu rttvar_us=%llu rto_us=%llu mss=%u "
		"cwnd=%u ssthresh=%u bytes_acked=%llu bytes_received=%llu "
		"retrans=%u total_retrans=%llu snd_buf=%u/%u rcv_buf=%u/%u",
		cc, (unsigned long long)(i->srtt / TERN_USEC),
		(unsigned long long)(i->rttvar / TERN_USEC),
		(unsigned long long)(i->rto / TERN_USEC), i->mss, i->cwnd,
		i->ssthresh, (unsigned long long)i->bytes_acked,
		(unsigned long long)i->bytes_received, i->retransmits,
		(unsigned long long)i->total_retrans, i->snd_buf_used,
		i->snd_buf_size, i->rcv_buf_used, i->rcv_buf_size);
}

static void ss_line(const tern_conn_view *v, void *arg)
{
	ss_out *o = arg;
	char la[16], ra[16];

	if (o->n++ >= CONTROL_SS_MAX)
		return;
	tern_addr_format(v->info.local.addr, la, sizeof(la));
	tern_addr_format(v->info.remote.addr, ra, sizeof(ra));
	fprintf(o->f, "id=%llu state=%s local=%s:%u remote=%s:%u",
		(unsigned long long)v->info.conn_id,
		tern_tcp_state_name(v->info.state), la, v->info.local.port, ra,
		v->info.remote.port);
	fprintf(o->f, " recvq=%u sendq=%u listener=%d orphan=%d record=%d",
		v->recv_q, v->send_q, v->listener, v->orphan,
		v->timewait_record);
	ss_timer(o->f, v, o->now);
	if (!v->timewait_record && !v->listener)
		ss_info(o->f, &v->info, o->cc);
	fputc('\n', o->f);
}

/* One line per connection (docs/CONTROL.md); past CONTROL_SS_MAX, a
 * last line says how many were left out. */
static char *answer_ss(tern_host *h)
{
	tern_stack *s = tern_host_stack(h);
	char *out = NULL;
	size_t len;
	ss_out o = {.now = tern_host_now(h),
		    .cc = tern_stack_settings(s)->tcp_congestion_control};

	o.f = open_memstream(&out, &len);
	if (!o.f)
		return NULL;
	fputs("OK\n", o.f);
	tern_stack_conns(s, ss_line, &o);
	if (o.n > CONTROL_SS_MAX)
		fprintf(o.f, "truncated=%zu\n", o.n - CONTROL_SS_MAX);
	if (fclose(o.f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* kill ID...: one line per id, "ID ok" or "ID error REASON". */
static char *answer_kill(tern_host *h, const char *ids)
{
	tern_stack *s = tern_host_stack(h);
	char *out = NULL, *end;
	size_t len;
	FILE *f;

	if (!*ids)
		return strdup("ERR kill: expected connection ids\n");
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fputs("OK\n", f);
	for (const char *p = ids; *p;) {
		errno = 0;
		unsigned long long id = strtoull(p, &end, 10);
		if (end == p || errno || (*end && *end != ' ') || *p == '-') {
			fclose(f);
			free(out);
			return strdup("ERR kill: expected connection ids\n");
		}
		int err = tern_stack_abort_conn(s, id, tern_host_now(h));
		if (err)
			fprintf(f, "%llu error %s\n", id, tern_strerror(err));
		else
			fprintf(f, "%llu ok\n", id);
		for (p = end; *p == ' '; p++)
			;
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *control_answer(tern_host *h, tern_link *device, const char *request)
{
	char *out;

	if (strcmp(request, "stats") == 0)
		return answer_stats(h, device);
	if (strcmp(request, "ss") == 0)
		return answer_ss(h);
	if (strncmp(request, "kill ", 5) == 0)
		return answer_kill(h, request + 5);
	if (strcmp(request, "ping") == 0)
		return strdup("OK\npong\n");
	/* Quote no more than a line's worth of what the client sent. */
	if (asprintf(&out, "ERR unknown request '%.64s'\n", request) < 0)
		return NULL;
	return out;
}

/* A later deadline of a client never needs the timer sooner. */
static void arm_timer(control *c)
{
	tern_time first = TERN_TIME_NONE, now = tern_host_now(c->host);
	struct itimerspec it = {0};

	for (int i = 0; i < c->nclients; i++)
		if (c->clients[i].deadline < first)
			first = c->clients[i].deadline;
	if (first != TERN_TIME_NONE) {
		tern_time d = first > now ? first - now : 1;
		it.it_value.tv_sec = (time_t)(d / TERN_SEC);
		it.it_value.tv_nsec = (long)(d % TERN_SEC);
	}
	timerfd_settime(c->timerfd, 0, &it, NULL);
}

/* A UNIX socket closed with unread input resets its peer (ECONNRESET
 * before the end of the response): take what is there, a bounded
 * amount, first. */
static void close_drained(int fd)
{
	char junk[512];

	for (int i = 0; i < 8; i++)
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

static void drop_client(control *c, int i)
{
	tern_host_unwatch_fd(c->host, c->clients[i].fd);
	close_drained(c->clients[i].fd);
	free(c->clients[i].resp);
	c->clients[i] = c->clients[--c->nclients];
}

static int client_index(control *c, int fd)
{
	for (int i = 0; i < c->nclients; i++)
		if (c->clients[i].fd == fd)
			return i;
	return -1;
}

static void client_event(tern_host *h, int fd, unsigned ev, void *arg);

/* A whole line (or a full buffer): answer it, and write from now on. */
static void respond(control *c, ctl_client *cl, const char *nl)
{
	if (!nl) {
		cl->resp = strdup("ERR request too long\n");
	} else {
		cl->req[nl - cl->req] = '\0';
		if (nl > cl->req && nl[-1] == '\r')
			cl->req[nl - cl->req - 1] = '\0';
		cl->resp = control_answer(c->host, c->device, cl->req);
	}
	if (!cl->resp)
		cl->resp = strdup("ERR out of memory\n");
	cl->resp_len = cl->resp ? strlen(cl->resp) : 0;
	cl->deadline = tern_host_now(c->host) + CONTROL_RESPONSE_TIMEOUT;
	tern_host_watch_fd(c->host, cl->fd, TERN_FD_OUT, client_event, c);
	arm_timer(c);
}

/* Returns false when the client is done with (or gone). */
static bool client_read(control *c, ctl_client *cl)
{
	ssize_t n = recv(cl->fd, cl->req + cl->len,
			 sizeof(cl->req) - 1 - cl->len, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false; /* no request: nothing to say */
	cl->len += (size_t)n;
	cl->req[cl->len] = '\0';
	char *nl = memchr(cl->req, '\n', cl->len);
	if (nl || cl->len == sizeof(cl->req) - 1)
		respond(c, cl, nl);
	return true;
}

static bool client_write(ctl_client *cl)
{
	while (cl->resp && cl->resp_off < cl->resp_len) {
		ssize_t n = send(cl->fd, cl->resp + cl->resp_off,
				 cl->resp_len - cl->resp_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		cl->resp_off += (size_t)n;
	}
	return false; /* all sent: close, which ends the response */
}

static void client_event(tern_host *h, int fd, unsigned ev, void *arg)
{
	control *c = arg;
	int i = client_index(c, fd);
	(void)h;
	(void)ev;

	if (i < 0)
		return;
	ctl_client *cl = &c->clients[i];
	bool keep = cl->resp ? client_write(cl) : client_read(c, cl);
	if (!keep)
		drop_client(c, i);
}

static void accept_clients(tern_host *h, int fd, unsigned ev, void *arg)
{
	control *c = arg;
	int cfd;
	(void)ev;

	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		if (c->nclients == CONTROL_MAX_CLIENTS ||
		    tern_host_watch_fd(h, cfd, TERN_FD_IN, client_event, c)) {
			static const char busy[] = "ERR busy\n";
			ssize_t r = send(cfd, busy, sizeof(busy) - 1,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)r; /* refused either way */
			close_drained(cfd);
			continue;
		}
		c->clients[c->nclients++] = (ctl_client){
			.fd = cfd,
			.deadline = tern_host_now(h) + CONTROL_REQUEST_TIMEOUT,
		};
		arm_timer(c);
	}
}

/* The timer: drop every client past its deadline. */
static void expire_clients(tern_host *h, int fd, unsigned ev, void *arg)
{
	control *c = arg;
	uint64_t ticks;
	ssize_t r = read(fd, &ticks, sizeof(ticks));
	tern_time now = tern_host_now(h);
	(void)r;
	(void)ev;

	for (int i = c->nclients - 1; i >= 0; i--)
		if (c->clients[i].deadline <= now)
			drop_client(c, i);
	arm_timer(c);
}

bool control_path_check(const char *path)
{
	struct stat st;

	if (!*path || strlen(path) >= sizeof(((control *)0)->path)) {
		cli_error("--control: the path must have 1 to %zu characters",
			  sizeof(((control *)0)->path) - 1);
		return false;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		cli_error("--control: '%s' exists and is not a socket", path);
		return false;
	}
	return true;
}

/* Something at path: a socket nobody listens on is stale (a tern that
 * was killed), and goes; a live one, or any other file, is refused. */
static bool clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return true;
		cli_error("--control: cannot use '%s': %s", path,
			  strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		cli_error("--control: '%s' exists and is not a socket", path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 &&
		    connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		cli_error("--control: '%s' is in use by a running process",
			  path);
		return false;
	}
	if (unlink(path) < 0) {
		cli_error("--control: cannot remove the stale socket '%s': %s",
			  path, strerror(errno));
		return false;
	}
	return true;
}

/* The socket is made 0600 from the start (the umask at bind), so no
 * other user can connect in between. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!control_path_check(path))
		return -1;
	strcpy(sa.sun_path, path);
	if (!clear_path(path, &sa))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int r = fd < 0 ? -1
		       : bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == 0 && listen(fd, CONTROL_MAX_CLIENTS) == 0)
		return fd;
	cli_error("--control: cannot listen at '%s': %s", path,
		  strerror(errno));
	if (r == 0)
		unlink(path);
	if (fd >= 0)
		close(fd);
	return -1;
}

control *control_open(const char *path, tern_host *h, tern_link *device)
{
	control *c = calloc(1, sizeof(*c));

	if (!c) {
		cli_error("--control: out of memory");
		return NULL;
	}
	c->host = h;
	c->device = device;
	c->timerfd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = listen_at(path);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	c->timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int err = c->timerfd < 0 ? TERN_ERR_IO : 0;
	if (!err)
		err = tern_host_watch_fd(h, c->fd, TERN_FD_IN, accept_clients,
					 c);
	if (!err)
		err = tern_host_watch_fd(h, c->timerfd, TERN_FD_IN,
					 expire_clients, c);
	if (err) {
		cli_error("--control: %s", tern_strerror(err));
		control_close(c);
		return NULL;
	}
	return c;
}

void control_close(control *c)
{
	if (!c)
		return;
	tern_host_lock(c->host); /* the loop may be running still */
	while (c->nclients)
		drop_client(c, c->nclients - 1);
	tern_host_unwatch_fd(c->host, c->fd);
	close(c->fd);
	unlink(c->path);
	if (c->timerfd >= 0) {
		tern_host_unwatch_fd(c->host, c->timerfd);
		close(c->timerfd);
	}
	tern_host_unlock(c->host);
	free(c);
}
