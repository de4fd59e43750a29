/* dataset.h - Fashion-MNIST as the search uses it.
 *
 * Split as the original report: validation = the first 1/12 of the training
 * file (5,000 of 60,000), train = the rest (55,000), test = the t10k file.
 * Images are float32 in [0,1], stored N x 28 x 28 x 1 (the NHWC layout of
 * every activation, see tensor.h); labels are bytes 0..9. */
#ifndef LEMONADE_DATASET_H
#define LEMONADE_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

typedef struct {
    int n;          /* number of images */
    float *x;       /* n x 784, pixel/255 */
    uint8_t *y;     /* n labels */
} split_t;

typedef struct {
    split_t train, val, test;
    char dir[4096]; /* directory the files were read from */
} dataset_t;

/* Pick the data directory: `explicit_dir` if non-NULL (no fallback), else
 * $LEMONADE_DATA, else data/fashion-mnist/, else
 * /usr/share/datasets/fashion-mnist/. The first that holds a train image
 * file (.gz or raw) wins. Writes it to out (size outlen). */
int dataset_find_dir(const char *explicit_dir, char *out, size_t outlen, err_t *err);

/* Load all four files from dir and split. train_limit / val_limit > 0 keep
 * only the first so many images of that split; want_test = 0 skips the test
 * files. */
int dataset_load(dataset_t *ds, const char *dir, int train_limit, int val_limit,
                 int want_test, err_t *err);

void dataset_free(dataset_t *ds);

#endif
