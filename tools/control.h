/* The control socket (--control PATH): a UNIX stream socket that a
 * running `tern serve` or `tern connect` answers in its loop's thread.
 * One request line in, one response out, then the server closes; the
 * protocol is in docs/CONTROL.md. */
#ifndef TERN_TOOLS_CONTROL_H
#define TERN_TOOLS_CONTROL_H

#include <tern/tern.h>

/* At most this many clients at once (more are answered "ERR busy"), and
 * each must send its request within CONTROL_REQUEST_TIMEOUT and take its
 * response within CONTROL_RESPONSE_TIMEOUT, or it is dropped. */
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_REQUEST_MAX 256
#define CONTROL_REQUEST_TIMEOUT (1 * TERN_SEC)
#define CONTROL_RESPONSE_TIMEOUT (5 * TERN_SEC)
/* `ss` lists at most this many connections (about 300 bytes each):
 * the loop stops for one walk of them, a few milliseconds. */
#define CONTROL_SS_MAX 16384

typedef struct control control;

/* The checks that need no device: the path fits a socket address and is
 * not some other kind of file. false with the reason printed. */
bool control_path_check(const char *path);
/* Listens at path (mode 0600) and serves it in h's loop; device is the
 * link whose counters `stats` reports (NULL: none). A stale socket at
 * path (nobody listening) is replaced; anything else there is refused.
 * Returns NULL with the reason printed. */
control *control_open(const char *path, tern_host *h, tern_link *device);
/* Drops the clients, closes the socket and removes its path. */
void control_close(control *c);

/* The response to one request line (without its newline): "OK\n" and a
 * body, or "ERR reason\n". Returns a malloc'ed string, NULL if out of
 * memory. */
char *control_answer(tern_host *h, tern_link *device, const char *request);

#endif
