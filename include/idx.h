/* idx.h - read IDX files (the MNIST / Fashion-MNIST format), gzipped or raw.
 *
 * An IDX file is a big-endian header (magic, then one 32-bit size per
 * dimension) followed by the data. We accept exactly the two kinds the data
 * set uses: unsigned-byte images (magic 2051, dims N x 28 x 28) and
 * unsigned-byte labels (magic 2049, dims N). Everything is validated: magic,
 * dimensions, that the data length matches the header exactly, gzip
 * integrity, and label range. */
#ifndef LEMONADE_IDX_H
#define LEMONADE_IDX_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define IDX_IMAGE_MAGIC 2051
#define IDX_LABEL_MAGIC 2049
#define IDX_SIDE 28
#define IDX_PIXELS (IDX_SIDE * IDX_SIDE)
#define IDX_MAX_ITEMS 10000000  /* a sanity bound against corrupted headers */

/* Read an image file. On success *pixels is a malloc'ed n x 784 byte array
 * (row-major 28x28 per image) and *n the image count. */
int idx_read_images(const char *path, uint8_t **pixels, int *n, err_t *err);

/* Read a label file. On success *labels is malloc'ed, n entries, each 0..9. */
int idx_read_labels(const char *path, uint8_t **labels, int *n, err_t *err);

/* Parse an in-memory IDX image (is_images=1) or label (0) file, already
 * decompressed. `name` is used in error messages. Used by the file readers
 * and directly by the fuzz harness. */
int idx_parse(const uint8_t *buf, size_t len, int is_images, const char *name,
              uint8_t **data, int *n, err_t *err);

/* Read a whole file, gunzipping it if it is gzip (transparently otherwise).
 * On success *buf is malloc'ed with *len bytes. */
int idx_slurp(const char *path, uint8_t **buf, size_t *len, err_t *err);

#endif
