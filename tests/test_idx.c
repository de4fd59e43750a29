/* test_idx.c - the IDX/gzip loader and the data split, on the fixture and on
 * broken files this test writes itself. */
#include "dataset.h"
#include "idx.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* An IDX buffer: images (n x rows x cols) or labels (n). */
static size_t make_idx(uint8_t *buf, int images, uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols)
{
    size_t h = images ? 16 : 8;
    put32(buf, magic);
    put32(buf + 4, n);
    if (images) { put32(buf + 8, rows); put32(buf + 12, cols); }
    size_t body = images ? (size_t)n * rows * cols : n;
    for (size_t i = 0; i < body; i++) buf[h + i] = (uint8_t)(images ? (i * 7) % 256 : i % 10);
    return h + body;
}

static void write_file(const char *path, const uint8_t *buf, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, buf, (unsigned)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
    }
}

static char *path_in_tmp(const char *dir, const char *name)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s/%s", test_tmpdir(), dir, name);
    return p[k];
}

/* Expect reading `path` as images (or labels) to fail with a message
 * containing `want` and the path itself. */
static void expect_error(const char *path, int images, const char *want)
{
    uint8_t *d = NULL;
    int n = 0;
    err_t err = {{0}};
    int rc = images ? idx_read_images(path, &d, &n, &err) : idx_read_labels(path, &d, &n, &err);
    CHECK(rc != 0, "%s: read succeeded, expected '%s'", path, want);
    CHECK(strstr(err.msg, want) != NULL, "%s: error '%s' lacks '%s'", path, err.msg, want);
    CHECK(strstr(err.msg, path) != NULL, "error '%s' does not name the file %s", err.msg, path);
    CHECK(strchr(err.msg, '\n') == NULL, "error is not one line: '%s'", err.msg);
    free(d);
}

TEST(idx_valid_gz_and_raw)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/idx_ok", test_tmpdir());
    mkdir(dir, 0755);
    static uint8_t buf[16 + 3 * 784];
    size_t len = make_idx(buf, 1, 2051, 3, 28, 28);
    for (int gz = 0; gz <= 1; gz++) {
        const char *p = path_in_tmp("idx_ok", gz ? "img.gz" : "img");
        write_file(p, buf, len, gz);
        uint8_t *d;
        int n;
        err_t err;
        CHECK(idx_read_images(p, &d, &n, &err) == 0, "%s", err.msg);
        CHECK(n == 3, "n = %d", n);
        CHECK(memcmp(d, buf + 16, 3 * 784) == 0, "pixels differ");
        free(d);
    }
}

TEST(idx_broken_files)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/idx_bad", test_tmpdir());
    mkdir(dir, 0755);
    static uint8_t buf[16 + 4 * 784 + 64];
    size_t len;
    const char *p;

    len = make_idx(buf, 1, 2049, 3, 28, 28);           /* label magic on an image file */
    write_file(p = path_in_tmp("idx_bad", "magic.gz"), buf, len, 1);
    expect_error(p, 1, "wrong magic number 2049");

    len = make_idx(buf, 1, 2051, 3, 28, 28);
    write_file(p = path_in_tmp("idx_bad", "trunc.gz"), buf, len - 100, 1);
    expect_error(p, 1, "truncated");
    write_file(p = path_in_tmp("idx_bad", "trunc_raw"), buf, len - 1, 0);
    expect_error(p, 1, "truncated");
    write_file(p = path_in_tmp("idx_bad", "header"), buf, 10, 0);
    expect_error(p, 1, "truncated header");

    write_file(p = path_in_tmp("idx_bad", "trailing"), buf, len + 5, 0);
    expect_error(p, 1, "unexpected bytes");

    len = make_idx(buf, 1, 2051, 3, 27, 28);
    write_file(p = path_in_tmp("idx_bad", "dims.gz"), buf, len, 1);
    expect_error(p, 1, "27x28, expected 28x28");

    len = make_idx(buf, 0, 2049, 12, 0, 0);
    buf[8 + 11] = 10;                                   /* a label 10 */
    write_file(p = path_in_tmp("idx_bad", "label10.gz"), buf, len, 1);
    expect_error(p, 0, "label 10 at index 11 is outside 0..9");

    len = make_idx(buf, 0, 2049, 0, 0, 0);
    write_file(p = path_in_tmp("idx_bad", "empty"), buf, len, 0);
    expect_error(p, 0, "implausible item count 0");

    /* gzip with a flipped byte in the compressed body / in the CRC trailer */
    len = make_idx(buf, 1, 2051, 4, 28, 28);
    const char *good = path_in_tmp("idx_bad", "good.gz");
    write_file(good, buf, len, 1);
    FILE *f = fopen(good, "rb");
    static uint8_t gz[65536];
    size_t gzlen = fread(gz, 1, sizeof gz, f);
    fclose(f);
    gz[gzlen - 6] ^= 0xff;                              /* CRC32 trailer */
    write_file(p = path_in_tmp("idx_bad", "crc.gz"), gz, gzlen, 0);
    expect_error(p, 1, "corrupt gzip");
    gz[gzlen - 6] ^= 0xff;
    gz[gzlen / 2] ^= 0x55;                              /* deflate body */
    write_file(p = path_in_tmp("idx_bad", "body.gz"), gz, gzlen, 0);
    expect_error(p, 1, "corrupt gzip");
    write_file(p = path_in_tmp("idx_bad", "cut.gz"), gz, gzlen / 3, 0);  /* stream cut short */
    expect_error(p, 1, "corrupt gzip");

    expect_error(path_in_tmp("idx_bad", "does-not-exist.gz"), 1, "cannot open");
}

TEST(dataset_count_mismatch)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/ds_mismatch", test_tmpdir());
    mkdir(dir, 0755);
    static uint8_t buf[16 + 24 * 784];
    size_t len = make_idx(buf, 1, 2051, 24, 28, 28);
    write_file(path_in_tmp("ds_mismatch", "train-images-idx3-ubyte.gz"), buf, len, 1);
    len = make_idx(buf, 0, 2049, 23, 0, 0);
    write_file(path_in_tmp("ds_mismatch", "train-labels-idx1-ubyte.gz"), buf, len, 1);
    dataset_t ds;
    err_t err;
    CHECK(dataset_load(&ds, dir, 0, 0, 0, &err) != 0, "mismatch accepted");
    CHECK(strstr(err.msg, "23 labels but") && strstr(err.msg, "24 images"), "error: %s", err.msg);
}

TEST(dataset_fixture_split)
{
    dataset_t ds;
    err_t err;
    if (!CHECK(dataset_load(&ds, "data/fixture", 0, 0, 1, &err) == 0, "%s", err.msg)) return;
    /* 3000 training images: the first 1/12 (250) are validation */
    CHECK(ds.val.n == 250 && ds.train.n == 2750 && ds.test.n == 500, "split %d/%d/%d",
          ds.val.n, ds.train.n, ds.test.n);
    uint8_t *pix, *lbl;
    int n;
    CHECK(idx_read_images("data/fixture/train-images-idx3-ubyte.gz", &pix, &n, &err) == 0, "%s", err.msg);
    CHECK(idx_read_labels("data/fixture/train-labels-idx1-ubyte.gz", &lbl, &n, &err) == 0, "%s", err.msg);
    /* validation is the head of the file, train the rest, pixels /255 */
    CHECK(ds.val.x[100] == pix[100] / 255.0f, "val pixel");
    CHECK(ds.train.x[0] == pix[250 * 784] / 255.0f, "train pixel");
    CHECK(ds.train.y[0] == lbl[250] && ds.val.y[249] == lbl[249], "labels");
    float lo = 1, hi = 0;
    for (int i = 0; i < ds.train.n * 784; i++) {
        lo = ds.train.x[i] < lo ? ds.train.x[i] : lo;
        hi = ds.train.x[i] > hi ? ds.train.x[i] : hi;
    }
    CHECK(lo == 0.0f && hi == 1.0f, "pixel range %g..%g", lo, hi);
    free(pix);
    free(lbl);
    dataset_free(&ds);
    /* limits keep the head of each split */
    CHECK(dataset_load(&ds, "data/fixture", 100, 50, 0, &err) == 0, "%s", err.msg);
    CHECK(ds.train.n == 100 && ds.val.n == 50 && ds.test.n == 0, "limits %d/%d", ds.train.n, ds.val.n);
    dataset_free(&ds);
}
