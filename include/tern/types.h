/* tern: basic types shared by every layer.
 *
 * Time is a count of nanoseconds on a monotonic clock, passed into every
 * entry point that may act on it; the engine never reads a clock itself.
 */
#ifndef TERN_TYPES_H
#define TERN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TERN_API __attribute__((visibility("default")))
#else
#define TERN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Nanoseconds on a monotonic clock (virtual time on the simulator). */
typedef uint64_t tern_time;

#define TERN_TIME_NONE UINT64_MAX
#define TERN_USEC ((tern_time)1000)
#define TERN_MSEC ((tern_time)1000000)
#define TERN_SEC ((tern_time)1000000000)

/* Errors: 0 or one of these negative codes. Each maps to the errno a
 * socket user knows (see tern_err_to_errno). */
#define TERN_ERRORS(X)                                                         \
	X(INVAL, -1, "invalid argument")                                       \
	X(NOMEM, -2, "out of memory")                                          \
	X(AGAIN, -3, "operation would block")                                  \
	X(REFUSED, -4, "connection refused")                                   \
	X(RESET, -5, "connection reset by peer")                               \
	X(TIMEDOUT, -6, "connection timed out")                                \
	X(PIPE, -7, "broken pipe")                                             \
	X(ADDRINUSE, -8, "address already in use")                             \
	X(NOTCONN, -9, "not connected")                                        \
	X(ISCONN, -10, "already connected")                                    \
	X(CLOSING, -11, "connection closing")                                  \
	X(STATE, -12, "operation not valid in this state")                     \
	X(ADDRNOTAVAIL, -13, "address not available")                          \
	X(NOBUFS, -14, "no buffer space")                                      \
	X(ALREADY, -15, "operation already in progress")                       \
	X(ABORTED, -16, "connection aborted")                                  \
	X(IO, -17, "input/output error")                                       \
	X(NOENT, -18, "no such file or device")                                \
	X(PERM, -19, "operation not permitted")                                \
	X(BUSY, -20, "device or resource busy")                                \
	X(INPROGRESS, -21, "operation now in progress")                        \
	X(NOTSUP, -22, "operation not supported")                              \
	X(HOSTUNREACH, -23, "no route to host")                                \
	X(NETUNREACH, -24, "network is unreachable")

enum tern_err {
	TERN_OK = 0,
#define TERN_ERR_ENUM(name, code, text) TERN_ERR_##name = code,
	TERN_ERRORS(TERN_ERR_ENUM)
#undef TERN_ERR_ENUM
};

/* A short English description of an error code (0 gives "success"). */
TERN_API const char *tern_strerror(int err);
/* The errno value with the same meaning (ECONNREFUSED for REFUSED ...). */
TERN_API int tern_err_to_errno(int err);

/* An IPv4 address and port, both in host byte order. */
typedef struct tern_endpoint {
	uint32_t addr;
	uint16_t port;
} tern_endpoint;

/* One piece of a frame being sent: frames are written as a short list of
 * pieces (headers, then payload straight from a send buffer). */
typedef struct tern_iov {
	const void *base;
	size_t len;
} tern_iov;

/* Memory comes from the caller: the stack allocates only through these. */
typedef struct tern_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
} tern_allocator;

/* Bounds on an output file that grows as long as its program runs (a pcap
 * capture, a JSON Lines trace). Before a record (a packet, a line) that
 * would take the file past max_bytes, when the file already holds one,
 * the series rotates: PATH.(keep-1) is removed, PATH.i is renamed
 * PATH.(i+1), PATH becomes PATH.1, and a new PATH begins (with its own
 * header). PATH is always the newest file, each file is complete on its
 * own, and no record is split: a record larger than max_bytes gets a file
 * of its own. At most `keep` files exist (keep 1: PATH alone, started
 * again). Opening with a limit removes the files of an earlier series
 * (PATH.1 to PATH.(keep-1), and PATH.keep onwards up to the first missing
 * one). max_bytes 0: no limit, PATH alone (keep unused), nothing else
 * touched. */
typedef struct tern_rotate {
	uint64_t max_bytes; /* per file, headers included; 0: no limit */
	unsigned keep;	    /* files kept, the current one included; >= 1 */
} tern_rotate;

/* "10.0.0.1" <-> host-order address. Parse returns 0 or TERN_ERR_INVAL. */
TERN_API int tern_addr_parse(const char *text, uint32_t *addr);
/* Writes "a.b.c.d" into buf (at least 16 bytes); returns buf. */
TERN_API char *tern_addr_format(uint32_t addr, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
