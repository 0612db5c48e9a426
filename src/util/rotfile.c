/* A file that rotates (rotfile.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/rotfile.h"

static bool limited(const rotfile *rf)
{
	return rf->path && rf->rot.max_bytes > 0;
}

/* PATH.i into one of the two name buffers; PATH itself for i = 0. */
static const char *name_of(rotfile *rf, int slot, unsigned i)
{
	char *buf = rf->names + (size_t)slot * rf->name_size;

	if (i == 0)
		return rf->path;
	snprintf(buf, rf->name_size, "%s.%u", rf->path, i);
	return buf;
}

/* Missing files are fine: a series that has not rotated far yet. */
static bool remove_file(const char *name)
{
	return unlink(name) == 0 || errno == ENOENT;
}

static bool rename_file(const char *from, const char *to)
{
	return rename(from, to) == 0 || errno == ENOENT;
}

void rotfile_write(rotfile *rf, const void *p, size_t n)
{
	if (rf->failed || n == 0)
		return;
	if (fwrite(p, 1, n, rf->f) != n)
		rf->failed = true;
	rf->bytes += n;
}

/* A new PATH with its header. */
static bool start(rotfile *rf)
{
	rf->f = fopen(rf->path, "wb");
	if (!rf->f)
		return false;
	rf->bytes = 0;
	rf->records = 0;
	rotfile_write(rf, rf->header, rf->header_len);
	return !rf->failed;
}

/* PATH.(keep-1) goes, each older file moves up one, PATH becomes PATH.1:
 * oldest first, so no rename replaces a file still wanted. */
static bool shift(rotfile *rf)
{
	if (rf->rot.keep < 2)
		return true;
	if (!remove_file(name_of(rf, 0, rf->rot.keep - 1)))
		return false;
	for (unsigned i = rf->rot.keep - 1; i > 0; i--)
		if (!rename_file(name_of(rf, 0, i - 1), name_of(rf, 1, i)))
			return false;
	return true;
}

/* The current file is complete: close it, make room, begin the next. A
 * failure leaves what was written where it is and stops the writing. */
static void rotate(rotfile *rf)
{
	bool ok = fclose(rf->f) == 0;

	rf->f = NULL;
	if (!(ok && shift(rf) && start(rf)))
		rf->failed = true;
}

void rotfile_begin(rotfile *rf, uint64_t len)
{
	if (rf->failed)
		return;
	if (limited(rf) && rf->records > 0 &&
	    rf->bytes + len > rf->rot.max_bytes)
		rotate(rf);
	rf->records++;
}

void rotfile_fail(rotfile *rf)
{
	rf->failed = true;
}

void rotfile_stream(rotfile *rf, FILE *f)
{
	memset(rf, 0, sizeof(*rf));
	rf->f = f;
}

/* What open allocated; errno is kept for the caller's message. */
static void release(rotfile *rf)
{
	int saved = errno;

	free(rf->path);
	free(rf->names);
	free(rf->header);
	rf->path = rf->names = NULL;
	rf->header = NULL;
	errno = saved;
}

/* The files of an earlier series would otherwise be taken for this one's:
 * those this series will use, and those past them that an earlier run
 * with a larger keep left, up to the first missing one. */
static bool remove_stale(rotfile *rf)
{
	for (unsigned i = 1; limited(rf) && i < UINT_MAX; i++)
		if (unlink(name_of(rf, 0, i)) != 0) {
			if (errno != ENOENT)
				return false;
			if (i >= rf->rot.keep)
				break;
		}
	return true;
}

static int take_names(rotfile *rf, const char *path, const void *header,
		      size_t header_len)
{
	size_t len = strlen(path);

	rf->name_size = len + sizeof(".4294967295");
	rf->path = malloc(len + 1);
	rf->names = malloc(2 * rf->name_size);
	rf->header = malloc(header_len + 1);
	if (!rf->path || !rf->names || !rf->header)
		return TERN_ERR_NOMEM;
	memcpy(rf->path, path, len + 1);
	if (header_len)
		memcpy(rf->header, header, header_len);
	rf->header_len = header_len;
	return 0;
}

/* Only a regular file is rotated: renaming a FIFO a reader holds, a
 * device (/dev/stdout, /dev/null) or a symbolic link would take it from
 * under its user and leave a plain file in its place. */
static bool rotatable(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 || S_ISREG(st.st_mode);
}

int rotfile_open(rotfile *rf, const char *path, const tern_rotate *rot,
		 const void *header, size_t header_len)
{
	memset(rf, 0, sizeof(*rf));
	if (rot && rot->max_bytes > 0) {
		if (rot->keep == 0)
			return TERN_ERR_INVAL;
		if (rotatable(path))
			rf->rot = *rot;
	}
	int err = take_names(rf, path, header, header_len);
	/* PATH first: an earlier series is removed only once this one can
	 * begin */
	if (err == 0 && !(start(rf) && remove_stale(rf)))
		err = TERN_ERR_IO;
	if (err) {
		int saved = errno;
		if (rf->f)
			fclose(rf->f);
		errno = saved;
		release(rf);
		rf->f = NULL;
	}
	return err;
}

int rotfile_flush(rotfile *rf)
{
	if (rf->f && (fflush(rf->f) != 0 || ferror(rf->f)))
		rf->failed = true;
	return rf->failed ? TERN_ERR_IO : 0;
}

int rotfile_close(rotfile *rf)
{
	int err = rotfile_flush(rf);

	if (rf->path && rf->f && fclose(rf->f) != 0)
		err = TERN_ERR_IO;
	rf->f = NULL;
	release(rf);
	return err;
}
