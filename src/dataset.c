/* dataset.c - locate, load and split Fashion-MNIST; see dataset.h. */
#include "dataset.h"
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const default_dirs[] = {
    "data/fashion-mnist",
    "/usr/share/datasets/fashion-mnist",
};

/* Path of base (e.g. "train-images-idx3-ubyte") in dir, preferring .gz.
 * Returns 0 if either form exists. */
static int find_file(const char *dir, const char *base, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s.gz", dir, base);
    if (access(out, F_OK) == 0) return 0;
    snprintf(out, outlen, "%s/%s", dir, base);
    if (access(out, F_OK) == 0) return 0;
    snprintf(out, outlen, "%s/%s.gz", dir, base);
    return -1;
}

static int dir_has_data(const char *dir)
{
    char p[4200];
    return find_file(dir, "train-images-idx3-ubyte", p, sizeof p) == 0;
}

int dataset_find_dir(const char *explicit_dir, char *out, size_t outlen, err_t *err)
{
    if (explicit_dir) {
        if (access(explicit_dir, F_OK) != 0)
            return err_set(err, "--data %s: no such directory", explicit_dir);
        if (!dir_has_data(explicit_dir))
            return err_set(err, "--data %s: no train-images-idx3-ubyte(.gz) in this directory", explicit_dir);
        snprintf(out, outlen, "%s", explicit_dir);
        return 0;
    }
    const char *env = getenv("LEMONADE_DATA");
    if (env && *env) {
        if (!dir_has_data(env))
            return err_set(err, "LEMONADE_DATA=%s: no train-images-idx3-ubyte(.gz) in this directory", env);
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    for (size_t i = 0; i < sizeof default_dirs / sizeof *default_dirs; i++)
        if (dir_has_data(default_dirs[i])) {
            snprintf(out, outlen, "%s", default_dirs[i]);
            return 0;
        }
    return err_set(err, "no Fashion-MNIST found (looked in --data, $LEMONADE_DATA, %s, %s); "
                   "install dataset-fashion-mnist or pass --data DIR",
                   default_dirs[0], default_dirs[1]);
}

/* Load one image+label file pair as float images. */
static int load_pair(const char *dir, const char *img_base, const char *lbl_base,
                     split_t *s, err_t *err)
{
    char ip[4200], lp[4200];
    if (find_file(dir, img_base, ip, sizeof ip))
        return err_set(err, "%s: missing (neither .gz nor raw file exists)", ip);
    if (find_file(dir, lbl_base, lp, sizeof lp))
        return err_set(err, "%s: missing (neither .gz nor raw file exists)", lp);
    uint8_t *pix = NULL, *lbl = NULL;
    int ni, nl;
    if (idx_read_images(ip, &pix, &ni, err)) return -1;
    if (idx_read_labels(lp, &lbl, &nl, err)) { free(pix); return -1; }
    if (ni != nl) {
        free(pix); free(lbl);
        return err_set(err, "%s: %d labels but %s has %d images", lp, nl, ip, ni);
    }
    float *x = malloc((size_t)ni * IDX_PIXELS * sizeof *x);
    if (!x) { free(pix); free(lbl); return err_set(err, "%s: out of memory", ip); }
    for (size_t i = 0; i < (size_t)ni * IDX_PIXELS; i++)
        x[i] = pix[i] / 255.0f;
    free(pix);
    s->n = ni;
    s->x = x;
    s->y = lbl;
    return 0;
}

/* Copy images [from, from+n) of src into a new split. */
static int take(split_t *dst, const split_t *src, int from, int n, err_t *err)
{
    dst->n = n;
    dst->x = malloc((size_t)(n > 0 ? n : 1) * IDX_PIXELS * sizeof(float));
    dst->y = malloc((size_t)(n > 0 ? n : 1));
    if (!dst->x || !dst->y) return err_set(err, "out of memory splitting the data");
    memcpy(dst->x, src->x + (size_t)from * IDX_PIXELS, (size_t)n * IDX_PIXELS * sizeof(float));
    memcpy(dst->y, src->y + from, (size_t)n);
    return 0;
}

int dataset_load(dataset_t *ds, const char *dir, int train_limit, int val_limit,
                 int want_test, err_t *err)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->dir, sizeof ds->dir, "%s", dir);
    split_t all = {0};
    if (load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", &all, err))
        return -1;
    int n_val = all.n / 12;  /* 5,000 of 60,000, as the original */
    if (n_val < 1 || all.n - n_val < 1) {
        free(all.x); free(all.y);
        return err_set(err, "%s: only %d training images; need at least 12 to split off validation",
                       dir, all.n);
    }
    int n_train = all.n - n_val;
    if (val_limit > 0 && val_limit < n_val) n_val = val_limit;
    if (train_limit > 0 && train_limit < n_train) n_train = train_limit;
    int rc = take(&ds->val, &all, 0, n_val, err);
    if (!rc) rc = take(&ds->train, &all, all.n / 12, n_train, err);
    free(all.x); free(all.y);
    if (!rc && want_test)
        rc = load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &ds->test, err);
    if (rc) dataset_free(ds);
    return rc;
}

void dataset_free(dataset_t *ds)
{
    free(ds->train.x); free(ds->train.y);
    free(ds->val.x); free(ds->val.y);
    free(ds->test.x); free(ds->test.y);
    ds->train = ds->val = ds->test = (split_t){0};
}
