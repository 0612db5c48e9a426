/* The file that rotates (src/util/rotfile.c), and the two outputs written
 * on it: the JSON Lines trace and the pcap capture.
 *
 * Records are lines naming their number, of 20 to 69 bytes, so that a
 * series read back oldest first shows whether any record was split,
 * lost in the middle or put out of order. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tern/link.h>
#include <tern/trace.h>

#include "testutil.h"
#include "util/rotfile.h"

#define HEADER "HDR\n"
#define HEADER_LEN 4
#define NRECORDS 200

/* ---- records and series ---- */

static size_t record(int i, char *buf, size_t size)
{
	size_t len = 20 + (size_t)(i * 7 % 50);
	int n = snprintf(buf, size, "record %d ", i);

	assert_true(len < size);
	memset(buf + n, 'x', len - (size_t)n - 1);
	buf[len - 1] = '\n';
	buf[len] = '\0';
	return len;
}

/* Each record in two pieces: what the pcap writer does. */
static void put_records(rotfile *rf, int from, int to)
{
	char buf[80];

	for (int i = from; i < to; i++) {
		size_t len = record(i, buf, sizeof(buf));
		rotfile_begin(rf, len);
		rotfile_write(rf, buf, len / 2);
		rotfile_write(rf, buf + len / 2, len - len / 2);
	}
}

/* File i of the series (0: base itself). */
static const char *series_name(const char *base, int i)
{
	static char name[2][4200];
	static int which;

	which ^= 1;
	if (i == 0)
		snprintf(name[which], sizeof(name[which]), "%s", base);
	else
		snprintf(name[which], sizeof(name[which]), "%s.%d", base, i);
	return name[which];
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return buf;
}

/* How many files the series has: base, base.1, ... while they exist. */
static int count_files(const char *base)
{
	int n = 0;

	while (exists(series_name(base, n)))
		n++;
	return n;
}

/* A path for a test's series, with no file of an earlier run about. */
static const char *fresh(const char *name)
{
	static char base[4096];

	snprintf(base, sizeof(base), "%s", tu_build_path(name));
	for (int i = 0; i < 1000; i++)
		unlink(series_name(base, i));
	return base;
}

/* ---- checking a series ---- */

/* The number of the first record of a file. */
static int first_record(const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	int n = -1;

	assert_true(len > HEADER_LEN);
	assert_int_equal(sscanf(text + HEADER_LEN, "record %d ", &n), 1);
	free(text);
	return n;
}

/* File i holds the header, then whole records from *next on, in order;
 * no more than limit bytes unless it holds a single record; and (unless
 * it is the newest) it was full: the record after it would not fit. */
static void check_file(const char *base, int i, uint64_t limit, int *next)
{
	size_t len, wlen;
	char *text = slurp(series_name(base, i), &len), want[80];
	const char *p = text + HEADER_LEN, *end = text + len;
	int count = 0;

	assert_true(len >= HEADER_LEN);
	assert_memory_equal(text, HEADER, HEADER_LEN);
	for (; p < end; (*next)++, count++, p += wlen) {
		wlen = record(*next, want, sizeof(want));
		assert_true((size_t)(end - p) >= wlen);
		assert_memory_equal(p, want, wlen);
	}
	assert_true(count >= 1);
	if (limit && count > 1)
		assert_true(len <= limit);
	if (limit && i > 0)
		assert_true(len + record(*next, want, sizeof(want)) > limit);
	free(text);
}

/* The series, oldest first, holds records first..NRECORDS-1 in order,
 * in exactly nfiles files; returns first. */
static int check_series(const char *base, int nfiles, uint64_t limit)
{
	int first = first_record(series_name(base, nfiles - 1));
	int next = first;

	assert_int_equal(count_files(base), nfiles);
	for (int i = nfiles - 1; i >= 0; i--)
		check_file(base, i, limit, &next);
	assert_int_equal(next, NRECORDS);
	return first;
}

static void write_series(const char *base, uint64_t limit, unsigned keep)
{
	tern_rotate rot = {limit, keep};
	rotfile rf;

	assert_int_equal(rotfile_open(&rf, base, &rot, HEADER, HEADER_LEN), 0);
	put_records(&rf, 0, NRECORDS);
	assert_int_equal(rotfile_flush(&rf), 0);
	assert_int_equal(rotfile_close(&rf), 0);
}

/* ---- the rotating file ---- */

/* Files fill up to the limit, never past it, and nothing is lost while
 * there are files enough to keep. */
static void test_limit_respected(void **state)
{
	const char *base = fresh("rotate-limit.txt");
	(void)state;

	write_series(base, 200, 1000);
	int n = count_files(base);
	assert_true(n > 30); /* about 9 KB in files of 200 bytes */
	assert_int_equal(check_series(base, n, 200), 0);
}

/* keep files exactly, base the newest, the oldest records let go; keep
 * 1 is base alone, started again with its header. */
static void test_keep_bounds_files(void **state)
{
	static const unsigned keeps[] = {1, 2, 3, 7};
	(void)state;

	for (size_t i = 0; i < sizeof(keeps) / sizeof(keeps[0]); i++) {
		const char *base = fresh("rotate-keep.txt");
		write_series(base, 200, keeps[i]);
		assert_true(check_series(base, (int)keeps[i], 200) > 0);
	}
}

/* A record larger than the limit gets a file of its own, whole. */
static void test_record_larger_than_limit(void **state)
{
	const char *base = fresh("rotate-big.txt");
	(void)state;

	write_series(base, 30, 1000); /* a record and the header exceed 30 */
	assert_int_equal(check_series(base, NRECORDS, 30), 0);
}

/* No limit: everything in base, whatever else is there untouched (rot
 * max_bytes 0, or NULL). */
static void test_no_limit(void **state)
{
	const char *base = fresh("rotate-none.txt");
	FILE *f = fopen(series_name(base, 1), "w");
	rotfile rf;
	int next = 0;
	(void)state;

	assert_non_null(f);
	assert_int_equal(fputs("not ours\n", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	write_series(base, 0, 0);
	check_file(base, 0, 0, &next);
	assert_int_equal(next, NRECORDS);
	assert_int_equal(rotfile_open(&rf, base, NULL, HEADER, HEADER_LEN), 0);
	put_records(&rf, 0, NRECORDS);
	assert_int_equal(rotfile_close(&rf), 0);
	next = 0;
	check_file(base, 0, 0, &next);
	assert_int_equal(next, NRECORDS);
	assert_int_equal(count_files(base), 2);
	assert_int_equal(first_record(series_name(base, 0)), 0);
	assert_int_equal(unlink(series_name(base, 1)), 0);
}

/* An earlier series is not taken for this one's: its files go, up to
 * the first missing one past keep. */
static void test_earlier_series_removed(void **state)
{
	const char *base = fresh("rotate-stale.txt");
	static const int stale[] = {1, 2, 3, 5};
	tern_rotate rot = {200, 2};
	rotfile rf;
	(void)state;

	for (int i = 0; i < 4; i++) {
		FILE *f = fopen(series_name(base, stale[i]), "w");
		assert_non_null(f);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(rotfile_open(&rf, base, &rot, HEADER, HEADER_LEN), 0);
	for (int i = 1; i <= 3; i++)
		assert_false(exists(series_name(base, i)));
	assert_true(exists(series_name(base, 5))); /* past the gap */
	assert_int_equal(rotfile_close(&rf), 0);
	unlink(series_name(base, 5));
}

/* The file that would become base.1 cannot be replaced (a directory,
 * which even root cannot unlink or rename a file onto): the writing
 * stops, flush and close say so, and base keeps its whole records. */
static void test_failed_rotation_reported(void **state)
{
	const char *base = fresh("rotate-fail.txt");
	char dir[4200], inside[4300];
	tern_rotate rot = {200, 2};
	rotfile rf;
	int next = 0;
	(void)state;

	assert_int_equal(rotfile_open(&rf, base, &rot, HEADER, HEADER_LEN), 0);
	snprintf(dir, sizeof(dir), "%s", series_name(base, 1));
	snprintf(inside, sizeof(inside), "%s/file", dir);
	rmdir(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	FILE *f = fopen(inside, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	put_records(&rf, 0, NRECORDS);
	assert_int_equal(rotfile_flush(&rf), TERN_ERR_IO);
	assert_int_equal(rotfile_close(&rf), TERN_ERR_IO);
	check_file(base, 0, 200, &next);
	assert_true(next > 1 && next < NRECORDS);
	assert_int_equal(unlink(inside), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void remove_tree(const char *path)
{
	char cmd[4300];

	assert_null(strchr(path, '\''));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* The directory goes away during the run: the new base cannot be
 * created, and close says so. */
static void test_failed_open_reported(void **state)
{
	char dir[4096], moved[4200], base[4200];
	tern_rotate rot = {200, 3};
	rotfile rf;
	(void)state;

	snprintf(dir, sizeof(dir), "%s", tu_build_path("rotate-gone"));
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	snprintf(base, sizeof(base), "%s/x.txt", dir);
	remove_tree(dir);
	remove_tree(moved);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(rotfile_open(&rf, base, &rot, HEADER, HEADER_LEN), 0);
	put_records(&rf, 0, 3);
	assert_int_equal(rename(dir, moved), 0);
	put_records(&rf, 3, NRECORDS);
	assert_int_equal(rotfile_close(&rf), TERN_ERR_IO);
	remove_tree(moved);
}

/* Only a regular file rotates: through a symbolic link or into a FIFO a
 * reader holds, everything goes where the path points, with no limit,
 * and the path stays what it was. */
static void test_link_not_rotated(void **state)
{
	char target[4200];
	const char *link = fresh("rotate-link.txt");
	tern_rotate rot = {200, 3};
	rotfile rf;
	struct stat st;
	(void)state;

	snprintf(target, sizeof(target), "%s.target", link);
	unlink(target);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(rotfile_open(&rf, link, &rot, HEADER, HEADER_LEN), 0);
	put_records(&rf, 0, NRECORDS);
	assert_int_equal(rotfile_close(&rf), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_false(exists(series_name(link, 1)));
	assert_int_equal(first_record(target), 0);
	assert_int_equal(stat(target, &st), 0);
	assert_true(st.st_size > 200 * 20);
	unlink(link);
	unlink(target);
}

static void test_fifo_not_rotated(void **state)
{
	const char *fifo = fresh("rotate-fifo");
	tern_rotate rot = {200, 3};
	rotfile rf;
	struct stat st;
	char buf[65536];
	(void)state;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	int rd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(rotfile_open(&rf, fifo, &rot, HEADER, HEADER_LEN), 0);
	put_records(&rf, 0, 100); /* about 4.5 KB: the pipe holds it */
	assert_int_equal(rotfile_close(&rf), 0);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_false(exists(series_name(fifo, 1)));
	ssize_t n = read(rd, buf, sizeof(buf));
	assert_true(n > 100 * 20);
	assert_memory_equal(buf, HEADER, HEADER_LEN);
	close(rd);
	unlink(fifo);
}

/* An earlier series is removed only once the new file is open: when the
 * path cannot be created, the old files stay. */
static void test_failed_open_keeps_series(void **state)
{
	const char *base = fresh("rotate-keepold");
	tern_rotate rot = {200, 3};
	rotfile rf;
	FILE *f;
	(void)state;

	remove_tree(base);
	assert_int_equal(mkdir(base, 0700), 0);
	assert_non_null(f = fopen(series_name(base, 1), "w"));
	fclose(f);
	assert_int_equal(rotfile_open(&rf, base, &rot, HEADER, HEADER_LEN),
			 TERN_ERR_IO);
	assert_true(exists(series_name(base, 1)));
	unlink(series_name(base, 1));
	remove_tree(base);
}

static void test_open_refused(void **state)
{
	tern_rotate no_keep = {4096, 0};
	rotfile rf;
	(void)state;

	assert_int_equal(rotfile_open(&rf, fresh("rotate-refused.txt"),
				      &no_keep, HEADER, HEADER_LEN),
			 TERN_ERR_INVAL);
	assert_int_equal(rotfile_open(&rf, "/nonexistent-tern-dir/x", NULL,
				      HEADER, HEADER_LEN),
			 TERN_ERR_IO);
}

/* ---- the JSON Lines trace ---- */

/* Every file holds whole lines, each a trace event, and the series
 * read oldest first is the tail of the events, in order, ending with
 * the last. */
static void test_json_series(void **state)
{
	const char *base = fresh("rotate-trace.jsonl");
	tern_rotate rot = {4096, 3};
	tern_trace_event ev = {.kind = TERN_TRACE_DROP, .host = "client"};
	int err = -1, next = -1;
	(void)state;

	tern_trace_json *w = tern_trace_json_open_rotating(base, 0, &rot, &err);
	assert_non_null(w);
	assert_int_equal(err, 0);
	for (int i = 0; i < 1000; i++) {
		ev.t = (tern_time)i * TERN_USEC; /* "t":i */
		tern_trace_json_hook(w, &ev);
	}
	assert_int_equal(tern_trace_json_close(w), 0);
	assert_int_equal(count_files(base), 3);
	for (int i = 2; i >= 0; i--) {
		size_t len;
		char *text = slurp(series_name(base, i), &len), *line = text;
		assert_true(len > 0 && len <= 4096);
		assert_int_equal(text[len - 1], '\n');
		for (char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			int t = -1;
			assert_int_equal(sscanf(line, "{\"t\":%d,", &t), 1);
			assert_int_equal(nl[-1], '}');
			assert_true(next < 0 || t == next);
			next = t + 1;
		}
		free(text);
	}
	assert_int_equal(next, 1000);
	rot.keep = 0;
	assert_null(tern_trace_json_open_rotating(base, 0, &rot, &err));
	assert_int_equal(err, TERN_ERR_INVAL);
}

/* ---- the pcap capture ---- */

static int stub_send(tern_link *link, const tern_iov *iov, int iovcnt,
		     const tern_frame_meta *meta, tern_time now)
{
	(void)link, (void)iov, (void)iovcnt, (void)meta, (void)now;
	return 0;
}

static void stub_destroy(tern_link *link)
{
	(void)link;
}

static const tern_link_ops stub_ops = {.send = stub_send,
				       .destroy = stub_destroy};

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* One capture file: the global header, then whole records of frames
 * *next, *next + 1, ... (frame i is 200 + i bytes of i). */
static void check_capture_file(const char *path, int *next)
{
	size_t len;
	uint8_t *p = (uint8_t *)slurp(path, &len);
	size_t off = 24;

	assert_true(len > 24 && len <= 4096);
	assert_int_equal(get32(p), 0xa1b2c3d4u);
	assert_int_equal(get32(p + 20), TERN_PCAP_LINKTYPE_IPV4);
	for (; off < len; (*next)++) {
		uint32_t caplen = get32(p + off + 8);
		assert_true(off + 16 + caplen <= len);
		assert_int_equal(caplen, 200 + *next);
		assert_int_equal(get32(p + off + 12), caplen);
		assert_int_equal(p[off + 16], (uint8_t)*next);
		off += 16 + caplen;
	}
	free(p);
}

/* Each file of a capture series is a capture on its own, and together
 * they hold every frame once, in order. */
static void test_pcap_series(void **state)
{
	const char *base = fresh("rotate-capture.pcap");
	tern_link stub = {.ops = &stub_ops, .mtu = 1500};
	tern_rotate rot = {4096, 100};
	uint8_t frame[300];
	int err = -1, next = 0;
	(void)state;

	tern_link *w = tern_pcap_wrap_rotating(
		&stub, base, TERN_PCAP_LINKTYPE_IPV4, &rot, &err);
	assert_non_null(w);
	for (int i = 0; i < 100; i++) {
		memset(frame, i, sizeof(frame));
		tern_iov iov = {frame, 200 + (size_t)i};
		assert_int_equal(tern_link_send(w, &iov, 1, NULL, 0), 0);
	}
	assert_int_equal(tern_pcap_flush(w), 0);
	tern_link_destroy(w);
	int n = count_files(base);
	assert_true(n >= 7); /* 25 KB in files of 4 KB */
	for (int i = n - 1; i >= 0; i--)
		check_capture_file(series_name(base, i), &next);
	assert_int_equal(next, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_respected),
		cmocka_unit_test(test_keep_bounds_files),
		cmocka_unit_test(test_record_larger_than_limit),
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_earlier_series_removed),
		cmocka_unit_test(test_failed_rotation_reported),
		cmocka_unit_test(test_failed_open_reported),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_link_not_rotated),
		cmocka_unit_test(test_fifo_not_rotated),
		cmocka_unit_test(test_failed_open_keeps_series),
		cmocka_unit_test(test_json_series),
		cmocka_unit_test(test_pcap_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
