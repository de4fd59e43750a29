/* fileio.c - see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_count;  /* atomic_write calls so far, for fault injection */

static int should_fail_now(void)
{
    const char *s = getenv("LEMONADE_FAULT_WRITE");
    return s && *s && atoi(s) == write_count;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int atomic_write(const char *path, const void *buf, size_t len, err_t *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    write_count++;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return err_set(err, "%s: cannot create: %s", tmp, strerror(errno));
    int rc;
    if (should_fail_now()) {
        (void)!write(fd, buf, len / 2);
        errno = ENOSPC;
        rc = -1;
    } else {
        rc = write_all(fd, buf, len);
    }
    if (rc == 0 && fsync(fd) != 0) rc = -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) { rc = -1; saved = errno; }
    if (rc != 0) {
        unlink(tmp);
        return err_set(err, "%s: write failed: %s (the previous version, if any, is intact)", path,
                       strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return err_set(err, "%s: cannot rename into place: %s", path, strerror(saved));
    }
    /* Make the rename itself durable. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int read_file(const char *path, char **buf, size_t *len, size_t max_len, err_t *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        if (cap >= max_len) {
            free(b);
            fclose(f);
            return err_set(err, "%s: larger than %zu bytes", path, max_len);
        }
        cap *= 2;
        char *nb = realloc(b, cap + 1);
        if (!nb) { free(b); b = NULL; break; }
        b = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) return err_set(err, "%s: out of memory", path);
    if (bad) { free(b); return err_set(err, "%s: read error", path); }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

int ensure_dir(const char *path, err_t *err)
{
    if (mkdir(path, 0755) == 0) return 0;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    return err_set(err, "%s: cannot create directory: %s", path, strerror(errno));
}
