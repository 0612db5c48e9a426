/* A file that rotates: an output that grows for as long as a program runs
 * (a capture, a trace) kept within a size, as whole records.
 *
 * The writer declares each record's size first (rotfile_begin), then
 * writes its pieces. A record that would take the file past max_bytes,
 * when the file already holds one, first rotates the series: PATH.(keep-1)
 * is removed, PATH.i becomes PATH.(i+1), PATH becomes PATH.1, and a new
 * PATH begins with the file's header. So PATH is always the newest file,
 * each file is valid on its own, and no record is split. A failure
 * (a write, a rename, an open) is remembered and stops the writing; the
 * caller carries on and learns of it from flush or close.
 *
 * Depends on libc alone (and the plain types of tern/types.h), so that
 * any layer can use it.
 */
#ifndef TERN_UTIL_ROTFILE_H
#define TERN_UTIL_ROTFILE_H

#include <stdio.h>

#include <tern/types.h>

typedef struct rotfile {
	FILE *f;	  /* NULL once writing has stopped */
	char *path;	  /* NULL: a stream the caller owns, never rotated */
	char *names;	  /* room for two names PATH.N, for rotating */
	size_t name_size; /* of each */
	uint8_t *header;  /* written at the start of every file */
	size_t header_len;
	tern_rotate rot;  /* max_bytes 0: no limit */
	uint64_t bytes;	  /* in the current file, header included */
	uint64_t records; /* in the current file */
	bool failed;
} rotfile;

/* Creates (or truncates) path and writes the header (which is copied).
 * With a limit, it then removes the files of an earlier series (PATH.1 to
 * PATH.(keep-1), and PATH.keep onwards up to the first missing one), so
 * that the series holds this run's records alone. rot NULL or max_bytes
 * 0: no limit; a path that exists and is not a regular file (a FIFO, a
 * device, a symbolic link) is written without a limit, never rotated. Returns 0, TERN_ERR_IO (path cannot be
 * created, a stale file cannot be removed, the header cannot be written;
 * errno says why), TERN_ERR_NOMEM or TERN_ERR_INVAL (keep 0 with a
 * limit). On failure nothing is left to close. */
int rotfile_open(rotfile *rf, const char *path, const tern_rotate *rot,
		 const void *header, size_t header_len);
/* Writes to a stream the caller opened and closes: no limit, no header. */
void rotfile_stream(rotfile *rf, FILE *f);
/* Announces a record of len bytes: rotates first if it would not fit. */
void rotfile_begin(rotfile *rf, uint64_t len);
/* A piece of the record begun; nothing once writing has stopped. */
void rotfile_write(rotfile *rf, const void *p, size_t n);
/* Stops writing, as a failure would (a record that could not be made). */
void rotfile_fail(rotfile *rf);
/* Writes out what is buffered: 0, or TERN_ERR_IO if anything failed. */
int rotfile_flush(rotfile *rf);
/* Flushes, closes (unless a stream) and frees what open took; returns
 * as rotfile_flush does, including a failed close. */
int rotfile_close(rotfile *rf);

#endif
