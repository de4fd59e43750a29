/* fuzz_idx.c - libFuzzer harness for the IDX/gzip reader.
 *
 * The first input byte picks what the rest is fed to:
 *   bit 0: image (1) or label (0) file;
 *   bit 1: raw bytes straight to idx_parse (0), or written to an in-memory
 *          file and read with idx_slurp, which gunzips it when it is gzip
 *          (1), then idx_parse.
 * Any outcome but a crash, leak or sanitizer report is a pass; on success
 * the item count must agree with the length. */
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const int is_images = data[0] & 1, through_file = data[0] & 2;
    data++;
    size--;
    err_t err;
    uint8_t *out = NULL;
    int n = 0;
    if (!through_file) {
        if (idx_parse(data, size, is_images, "fuzz", &out, &n, &err) == 0 &&
            (size_t)n * (is_images ? IDX_PIXELS : 1) + (is_images ? 16 : 8) != size)
            abort();
        free(out);
        return 0;
    }
    int fd = memfd_create("fuzz_idx", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (idx_slurp(path, &buf, &len, &err) == 0) {
        if (idx_parse(buf, len, is_images, path, &out, &n, &err) == 0) free(out);
        free(buf);
    }
    close(fd);
    return 0;
}
