/* fileio.h - crash-safe file writing and whole-file reading.
 *
 * atomic_write writes to "PATH.tmp", flushes it to disk (fsync), then
 * renames it over PATH and syncs the directory, so a reader (or a resumed
 * run after a crash) sees either the old file or the whole new one, never
 * half of it. On failure the temporary file is removed and PATH is left as
 * it was.
 *
 * For fault-injection tests, LEMONADE_FAULT_WRITE=N makes the N-th
 * atomic_write of the process (counting from 1) fail as if the disk were
 * full (ENOSPC) after writing half its bytes. */
#ifndef LEMONADE_FILEIO_H
#define LEMONADE_FILEIO_H

#include <stddef.h>
#include "error.h"

int atomic_write(const char *path, const void *buf, size_t len, err_t *err);

/* Read a whole file (at most max_len bytes, else an error). *buf is
 * malloc'ed and NUL-terminated (not counted in *len). */
int read_file(const char *path, char **buf, size_t *len, size_t max_len, err_t *err);

/* mkdir -p for one level (parent must exist); ok if it exists. */
int ensure_dir(const char *path, err_t *err);

#endif
