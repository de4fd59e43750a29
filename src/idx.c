/* idx.c - IDX reader with full validation; see idx.h. */
#include "idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Cap on decompressed size: the largest legitimate file is 60000 images
 * (47 MB); anything much bigger is garbage or a decompression bomb. */
#define IDX_MAX_BYTES ((size_t)IDX_MAX_ITEMS * IDX_PIXELS + 16)

int idx_slurp(const char *path, uint8_t **buf, size_t *len, err_t *err)
{
    *buf = NULL;
    *len = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return err_set(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) { gzclose(f); return err_set(err, "%s: out of memory", path); }
    for (;;) {
        if (n == cap) {
            if (cap >= IDX_MAX_BYTES) {
                free(b); gzclose(f);
                return err_set(err, "%s: larger than any valid IDX file (over %zu bytes)", path, cap);
            }
            cap *= 2;
            uint8_t *nb = realloc(b, cap);
            if (!nb) { free(b); gzclose(f); return err_set(err, "%s: out of memory", path); }
            b = nb;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, b + n, (unsigned)want);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            err_set(err, "%s: corrupt gzip data: %s", path, code == Z_ERRNO ? strerror(errno) : msg);
            free(b); gzclose(f);
            return -1;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    /* A gzip stream cut short reads as a clean EOF; zlib reports it here. */
    int code;
    const char *msg = gzerror(f, &code);
    if (code != Z_OK && code != Z_STREAM_END) {
        err_set(err, "%s: corrupt gzip data: %s", path, msg);
        free(b); gzclose(f);
        return -1;
    }
    int rc = gzclose(f);
    if (rc != Z_OK) {
        free(b);
        return err_set(err, "%s: corrupt gzip data (%s)", path,
                       rc == Z_BUF_ERROR ? "unexpected end of file" : "checksum or format error");
    }
    *buf = b;
    *len = n;
    return 0;
}

int idx_parse(const uint8_t *buf, size_t len, int is_images, const char *name,
              uint8_t **data, int *n, err_t *err)
{
    *data = NULL;
    *n = 0;
    const uint32_t want_magic = is_images ? IDX_IMAGE_MAGIC : IDX_LABEL_MAGIC;
    const size_t header = is_images ? 16 : 8;
    if (len < 4)
        return err_set(err, "%s: too short to be an IDX file (%zu bytes)", name, len);
    uint32_t magic = be32(buf);
    if (magic != want_magic)
        return err_set(err, "%s: wrong magic number %u (expected %u for an IDX %s file)",
                       name, magic, want_magic, is_images ? "image" : "label");
    if (len < header)
        return err_set(err, "%s: truncated header (%zu of %zu bytes)", name, len, header);
    uint32_t count = be32(buf + 4);
    if (count == 0 || count > IDX_MAX_ITEMS)
        return err_set(err, "%s: implausible item count %u in header", name, count);
    size_t item = 1;
    if (is_images) {
        uint32_t rows = be32(buf + 8), cols = be32(buf + 12);
        if (rows != IDX_SIDE || cols != IDX_SIDE)
            return err_set(err, "%s: images are %ux%u, expected 28x28", name, rows, cols);
        item = IDX_PIXELS;
    }
    size_t body = (size_t)count * item;
    if (len - header < body)
        return err_set(err, "%s: truncated: header promises %u items (%zu bytes of data), file has %zu",
                       name, count, body, len - header);
    if (len - header > body)
        return err_set(err, "%s: %zu unexpected bytes after the %u items the header declares",
                       name, len - header - body, count);
    if (!is_images) {
        for (size_t i = 0; i < count; i++)
            if (buf[header + i] > 9)
                return err_set(err, "%s: label %u at index %zu is outside 0..9", name, buf[header + i], i);
    }
    uint8_t *out = malloc(body);
    if (!out)
        return err_set(err, "%s: out of memory", name);
    memcpy(out, buf + header, body);
    *data = out;
    *n = (int)count;
    return 0;
}

static int read_kind(const char *path, int is_images, uint8_t **data, int *n, err_t *err)
{
    uint8_t *buf;
    size_t len;
    if (idx_slurp(path, &buf, &len, err))
        return -1;
    int rc = idx_parse(buf, len, is_images, path, data, n, err);
    free(buf);
    return rc;
}

int idx_read_images(const char *path, uint8_t **pixels, int *n, err_t *err)
{
    return read_kind(path, 1, pixels, n, err);
}

int idx_read_labels(const char *path, uint8_t **labels, int *n, err_t *err)
{
    return read_kind(path, 0, labels, n, err);
}
