/* The `http` application of `tern serve`: HTTP/1.1 GET and HEAD of the
 * files under a root, with Content-Length and keep-alive (RFC 9112). */
#ifndef TERN_TOOLS_HTTP_H
#define TERN_TOOLS_HTTP_H

#include <tern/tern.h>

#define HTTP_REQ_MAX 8192
#define HTTP_OUT_MAX 65536

typedef struct http_conn {
	int root_fd;
	char req[HTTP_REQ_MAX];
	size_t req_len;
	int file_fd; /* the body being sent, or -1 */
	uint64_t body_left;
	char out[HTTP_OUT_MAX]; /* bytes read for the socket, not yet taken */
	size_t out_len, out_off;
	bool responding, keep_alive, eof;
	unsigned served;
} http_conn;

void http_init(http_conn *h, int root_fd);
void http_free(http_conn *h);

enum { HTTP_WAIT, HTTP_CLOSE };
/* Does what can be done now (read requests, send responses); returns
 * HTTP_CLOSE when the connection should be closed (after what is queued
 * goes out), HTTP_WAIT to wait for the next event. */
int http_pump(http_conn *h, tern_sock *s);

/* For tests: the response line and headers for a request text, as the
 * server would send them; the status code is returned. */
int http_respond_head(int root_fd, const char *req, char *out, size_t cap);

#endif
