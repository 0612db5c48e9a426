/* A plain main for a fuzz target, without libFuzzer: runs the target once
 * per file named, or per file in each directory named (in name order, so
 * runs repeat). A directory that does not exist is skipped: a target may
 * have no reproducers yet. This is how seeds and reproducers become CTest
 * tests in every build, gcc's included; a failing input aborts.
 *
 * Usage: <target>_replay PATH...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The largest input replayed: far above every target's -max_len. */
#define REPLAY_MAX (1u << 20)

static int run_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX];
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "replay: %s: unreadable or too long\n", path);
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	/* A copy of exactly n bytes, so ASan sees a read past the end. */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return -1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the regular files in dir, sorted; NULL-terminated. */
static char **list_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	*count = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "README"))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				abort();
			names = grown;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	*count = n;
	return names;
}

static int run_path(const char *path, int *files)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: none\n", path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*files)++;
		return run_file(path);
	}
	size_t n;
	char **names = list_dir(path, &n);
	int err = 0;
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			(*files)++;
			err |= run_file(names[i]);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	int files = 0, err = 0;

	/* libFuzzer starts with the empty input too (never a NULL one). */
	static const uint8_t none[1];
	LLVMFuzzerTestOneInput(none, 0);
	for (int i = 1; i < argc; i++)
		err |= run_path(argv[i], &files);
	printf("replay: %d inputs, %s\n", files, err ? "errors" : "all passed");
	return err ? 1 : 0;
}
