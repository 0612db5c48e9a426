/* A small HTTP/1.1 file server for `tern serve --app http` (RFC 9110,
 * RFC 9112): GET and HEAD, Content-Length, persistent connections and
 * pipelined requests, 400/404/501/505. Paths are opened with
 * openat2(RESOLVE_BENEATH): nothing outside the root, symlinks included,
 * can be reached, whatever the request says. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http.h"

void http_init(http_conn *h, int root_fd)
{
	memset(h, 0, sizeof(*h));
	h->root_fd = root_fd;
	h->file_fd = -1;
}

void http_free(http_conn *h)
{
	if (h->file_fd >= 0)
		close(h->file_fd);
	h->file_fd = -1;
}

/* A parsed request line and the headers that matter here. */
typedef struct request {
	char method[8], path[1024];
	int minor; /* HTTP/1.minor */
	bool conn_close, conn_keep_alive, has_body;
} request;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The target's path (query dropped), %-decoded into out. False if it is
 * not an origin-form path, decodes to a NUL, or has a ".." segment. */
static bool decode_path(const char *t, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	if (len == 0 || t[0] != '/')
		return false;
	for (size_t i = 0; i < len && t[i] != '?' && t[i] != '#'; i++) {
		int c = (unsigned char)t[i];
		if (c == '%') {
			int a = i + 2 < len ? hexval(t[i + 1]) : -1;
			int b = i + 2 < len ? hexval(t[i + 2]) : -1;
			if (a < 0 || b < 0)
				return false;
			c = a * 16 + b;
			i += 2;
		}
		if (c == 0 || n + 1 >= cap)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	for (char *seg = out; seg; seg = strchr(seg + 1, '/'))
		if (strncmp(seg, "/..", 3) == 0 && (seg[3] == '/' || !seg[3]))
			return false;
	return true;
}

/* "GET /path HTTP/1.1" */
static bool parse_request_line(const char *line, size_t len, request *r)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2 =
		sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line))
		    : NULL;

	if (!sp1 || !sp2 || sp1 == line ||
	    (size_t)(sp1 - line) >= sizeof(r->method))
		return false;
	memcpy(r->method, line, (size_t)(sp1 - line));
	r->method[sp1 - line] = '\0';
	size_t vlen = len - (size_t)(sp2 + 1 - line);
	if (vlen != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp2[8]))
		return false;
	r->minor = sp2[8] - '0';
	return decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), r->path,
			   sizeof(r->path));
}

/* One header line; only Connection and message-body framing matter. */
static bool parse_header(const char *line, size_t len, request *r)
{
	const char *colon = memchr(line, ':', len);

	if (!colon || colon == line)
		return false;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	if (nlen == 10 && strncasecmp(line, "connection", 10) == 0) {
		r->conn_close |= vlen >= 5 && strncasecmp(v, "close", 5) == 0;
		r->conn_keep_alive |=
			vlen >= 10 && strncasecmp(v, "keep-alive", 10) == 0;
	} else if ((nlen == 14 &&
		    strncasecmp(line, "content-length", 14) == 0 &&
		    !(vlen == 1 && v[0] == '0')) ||
		   (nlen == 17 &&
		    strncasecmp(line, "transfer-encoding", 17) == 0)) {
		r->has_body = true;
	}
	return true;
}

/* Parses the head of req[0..len); false if malformed. */
static bool parse_head(const char *req, size_t len, request *r)
{
	const char *p = req, *end = req + len;
	bool first = true;

	memset(r, 0, sizeof(*r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		if (first ? !parse_request_line(p, l, r)
			  : !parse_header(p, l, r))
			return false;
		first = false;
		p = nl ? nl + 1 : end;
	}
	return !first;
}

static int open_beneath(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path[1] ? path + 1 : ".";
	return (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
}

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 501:
		return "Not Implemented";
	default:
		return "HTTP Version Not Supported";
	}
}

/* The file for a path: a regular file, or a directory's index.html. */
static int find_file(int root_fd, const char *path, int *fd, uint64_t *size)
{
	struct stat st;
	int f = open_beneath(root_fd, path);

	if (f >= 0 && fstat(f, &st) == 0 && S_ISDIR(st.st_mode)) {
		int index = open_beneath(f, "/index.html");
		close(f);
		f = index;
	}
	if (f < 0 || fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (f >= 0)
			close(f);
		return 404;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 200;
}

typedef struct response {
	int status, fd;
	uint64_t length; /* of the body the headers announce */
	bool head, keep_alive;
} response;

/* What to answer to the head of a request (RFC 9112 9.3: HTTP/1.1
 * persists unless "close"; 1.0 only with "keep-alive"). */
static response decide(int root_fd, const char *req, size_t len)
{
	request r;
	response a = {.fd = -1};

	if (!parse_head(req, len, &r) || r.has_body) {
		a.status = 400;
	} else if (r.minor > 1) {
		a.status = 505;
	} else if (strcmp(r.method, "GET") && strcmp(r.method, "HEAD")) {
		a.status = 501;
		a.keep_alive = true;
	} else {
		a.head = strcmp(r.method, "HEAD") == 0;
		a.status = find_file(root_fd, r.path, &a.fd, &a.length);
		a.keep_alive = true;
	}
	a.keep_alive = a.keep_alive &&
		       (r.minor == 1 ? !r.conn_close : r.conn_keep_alive);
	if (a.status != 200)
		a.length = strlen(reason(a.status)) + 5; /* "404 Not Found\n" */
	return a;
}

static size_t head_text(const response *a, char *out, size_t cap)
{
	int n = snprintf(
		out, cap,
		"HTTP/1.1 %d %s\r\nServer: tern\r\n"
		"Content-Length: %llu\r\nContent-Type: %s\r\n"
		"Connection: %s\r\n\r\n",
		a->status, reason(a->status), (unsigned long long)a->length,
		a->status == 200 ? "application/octet-stream" : "text/plain",
		a->keep_alive ? "keep-alive" : "close");
	if (n > 0 && a->status != 200 && !a->head)
		n += snprintf(out + n, cap - (size_t)n, "%d %s\n", a->status,
			      reason(a->status));
	return n > 0 ? (size_t)n : 0;
}

int http_respond_head(int root_fd, const char *req, char *out, size_t cap)
{
	response a = decide(root_fd, req, strlen(req));
	head_text(&a, out, cap);
	if (a.fd >= 0)
		close(a.fd);
	return a.status;
}

/* Where the head of the first request ends (past its empty line), or 0
 * if it has not all arrived. */
static size_t head_length(const char *req, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (req[i] == '\n' && req[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && memcmp(req + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return 0;
}

static void start_response(http_conn *h, size_t head, bool too_long)
{
	response a = decide(h->root_fd, h->req, head);

	if (too_long) { /* a head that does not fit: 400, and close */
		if (a.fd >= 0)
			close(a.fd);
		a = (response){.status = 400, .fd = -1};
		a.length = strlen(reason(400)) + 5;
	}
	h->out_len = head_text(&a, h->out, sizeof(h->out));
	h->out_off = 0;
	h->file_fd = a.fd;
	h->body_left = a.status == 200 && !a.head ? a.length : 0;
	h->keep_alive = a.keep_alive;
	h->responding = true;
	memmove(h->req, h->req + head, h->req_len - head);
	h->req_len -= head;
}

/* Sends what is in out: 1 all taken, 0 the socket is full, -1 error. */
static int flush(http_conn *h, tern_sock *s)
{
	while (h->out_off < h->out_len) {
		ptrdiff_t n = tern_send(s, h->out + h->out_off,
					h->out_len - h->out_off);
		if (n == TERN_ERR_AGAIN)
			return 0;
		if (n < 0)
			return -1;
		h->out_off += (size_t)n;
	}
	h->out_len = h->out_off = 0;
	return 1;
}

static bool refill(http_conn *h)
{
	size_t want = h->body_left < sizeof(h->out) ? (size_t)h->body_left
						    : sizeof(h->out);
	ssize_t n = read(h->file_fd, h->out, want);

	if (n <= 0)
		return false; /* the file shrank under us */
	h->out_len = (size_t)n;
	h->out_off = 0;
	h->body_left -= (uint64_t)n;
	return true;
}

/* Continues the response under way; HTTP_WAIT, HTTP_CLOSE, or -1 when it
 * is complete and the next request may be read. */
static int continue_response(http_conn *h, tern_sock *s)
{
	for (;;) {
		int r = flush(h, s);
		if (r <= 0)
			return r < 0 ? HTTP_CLOSE : HTTP_WAIT;
		if (h->body_left == 0)
			break;
		if (!refill(h))
			return HTTP_CLOSE;
	}
	h->responding = false;
	h->served++;
	http_free(h);
	return h->keep_alive ? -1 : HTTP_CLOSE;
}

int http_pump(http_conn *h, tern_sock *s)
{
	for (;;) {
		if (h->responding) {
			int r = continue_response(h, s);
			if (r >= 0)
				return r;
			continue;
		}
		size_t head = head_length(h->req, h->req_len);
		if (head || h->req_len == sizeof(h->req)) {
			start_response(h, head ? head : h->req_len, !head);
			continue;
		}
		if (h->eof)
			return HTTP_CLOSE;
		ptrdiff_t n = tern_recv(s, h->req + h->req_len,
					sizeof(h->req) - h->req_len);
		if (n > 0)
			h->req_len += (size_t)n;
		else if (n == 0)
			h->eof = true;
		else
			return n == TERN_ERR_AGAIN ? HTTP_WAIT : HTTP_CLOSE;
	}
}
