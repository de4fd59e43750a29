/* test_kernels.c - every optimised kernel table against the reference on
 * random shapes: channel counts 1..64 including odd ones, Cin = 1, image
 * counts that do not fill a chunk (1, 3, 9), accumulate on and off.
 *
 * Tolerance: float accumulation error grows with the number of summed
 * products, so a result of `terms` products of values in [-1,1] may differ
 * from the reference by 1e-6*terms + 1e-5 (relative to max(1,|ref|)). */
#include "kernels.h"
#include "rng.h"
#include "tensor.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static rng_t R;

static float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)rng_uniform(&R);
    return p;
}

static float *dup(const float *p, size_t n)
{
    float *q = malloc(sizeof(float) * (n ? n : 1));
    memcpy(q, p, sizeof(float) * n);
    return q;
}

/* Whether got[0..n) matches want within the tolerance for `terms`
 * products; reports the first mismatch. */
static int close_f(const char *what, const char *kname, const float *got, const float *want, size_t n,
                   double terms)
{
    double tol = 1e-6 * terms + 1e-5;
    for (size_t i = 0; i < n; i++) {
        double s = fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0;
        if (!(fabs((double)got[i] - want[i]) <= tol * s))
            return test_fail(__FILE__, __LINE__, "%s [%s] at %zu: %.9g vs reference %.9g", what, kname, i,
                             got[i], want[i]);
    }
    return 1;
}

static int close_d(const char *what, const char *kname, const double *got, const double *want, size_t n,
                   double terms)
{
    double tol = 1e-7 * terms + 1e-6;
    for (size_t i = 0; i < n; i++) {
        double s = fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0;
        if (!(fabs(got[i] - want[i]) <= tol * s))
            return test_fail(__FILE__, __LINE__, "%s [%s] at %zu: %.12g vs reference %.12g", what, kname, i,
                             got[i], want[i]);
    }
    return 1;
}

static int n_tables(const kernels_t **k) { return kernels_available(k, 8); }

/* Conv forward (bias or not, accumulate or not), flipped weights and
 * backward-data, weight gradient: one shape, every table. */
static void conv_case(int N, int Cin, int Cout)
{
    const kernels_t *ks[8];
    int nk = n_tables(ks);
    size_t ni = (size_t)N * IMG_PIXELS * Cin, no = (size_t)N * IMG_PIXELS * Cout, nw = 9 * (size_t)Cin * Cout;
    float *in = rnd(ni, -1, 1), *w = rnd(nw, -1, 1), *bias = rnd((size_t)Cout, -1, 1);
    float *dout = rnd(no, -1, 1), *base = rnd(no, -1, 1), *based = rnd(ni, -1, 1);
    float *want = malloc(sizeof(float) * no), *got = malloc(sizeof(float) * no);
    float *wt_want = malloc(sizeof(float) * nw), *wt_got = malloc(sizeof(float) * nw);
    float *din_want = malloc(sizeof(float) * ni), *din_got = malloc(sizeof(float) * ni);
    float *dw_want = malloc(sizeof(float) * nw), *dw_got = malloc(sizeof(float) * nw);
    float db_want[64], db_got[64];
    char what[96];
    for (int a = 0; a < 2; a++) {
        memcpy(want, base, sizeof(float) * no);
        kernels_ref.conv_forward(want, in, w, a ? NULL : bias, N, Cin, Cout, a);
        for (int i = 1; i < nk; i++) {
            memcpy(got, base, sizeof(float) * no);
            ks[i]->conv_forward(got, in, w, a ? NULL : bias, N, Cin, Cout, a);
            snprintf(what, sizeof what, "conv_forward N=%d Cin=%d Cout=%d acc=%d", N, Cin, Cout, a);
            close_f(what, ks[i]->name, got, want, no, 9.0 * Cin + 2);
        }
    }
    kernels_ref.conv_flip_weights(wt_want, w, Cin, Cout);
    for (int a = 0; a < 2; a++) {
        memcpy(din_want, based, sizeof(float) * ni);
        kernels_ref.conv_forward(din_want, dout, wt_want, NULL, N, Cout, Cin, a);
        for (int i = 1; i < nk; i++) {
            ks[i]->conv_flip_weights(wt_got, w, Cin, Cout);
            snprintf(what, sizeof what, "conv_flip_weights Cin=%d Cout=%d", Cin, Cout);
            close_f(what, ks[i]->name, wt_got, wt_want, nw, 0);
            memcpy(din_got, based, sizeof(float) * ni);
            ks[i]->conv_forward(din_got, dout, wt_got, NULL, N, Cout, Cin, a);
            snprintf(what, sizeof what, "conv backward-data N=%d Cin=%d Cout=%d acc=%d", N, Cin, Cout, a);
            close_f(what, ks[i]->name, din_got, din_want, ni, 9.0 * Cout + 1);
        }
    }
    kernels_ref.conv_backward_weights(dw_want, db_want, in, dout, N, Cin, Cout);
    for (int i = 1; i < nk; i++) {
        memset(dw_got, 0x7f, sizeof(float) * nw);   /* must be overwritten */
        ks[i]->conv_backward_weights(dw_got, db_got, in, dout, N, Cin, Cout);
        snprintf(what, sizeof what, "conv_backward_weights N=%d Cin=%d Cout=%d", N, Cin, Cout);
        close_f(what, ks[i]->name, dw_got, dw_want, nw, (double)N * IMG_PIXELS);
        close_f(what, ks[i]->name, db_got, db_want, (size_t)Cout, (double)N * IMG_PIXELS);
    }
    free(in); free(w); free(bias); free(dout); free(base); free(based); free(want); free(got);
    free(wt_want); free(wt_got); free(din_want); free(din_got); free(dw_want); free(dw_got);
}

TEST(kernels_conv_match_reference)
{
    rng_seed(&R, 11, 0, 0);
    static const int Fs[] = {1, 3, 4, 5, 7, 8, 13, 16, 17, 31, 32, 48, 64};
    static const int Ns[] = {1, 3, 9};
    int nf = (int)(sizeof Fs / sizeof *Fs);
    for (int i = 0; i < nf; i++) {
        int F = Fs[i], N = F >= 32 ? 1 + 2 * (i % 2) : Ns[i % 3];
        conv_case(N, 1, F);        /* the first conv of a network */
        conv_case(N, F, F);
    }
    conv_case(3, 17, 5);           /* Cin != Cout, both odd */
    conv_case(1, 5, 40);
    conv_case(2, 64, 1);           /* d(loss)/d(image) */
    conv_case(3, 2, 33);           /* Cin = 2: the all-ky weight-gradient tile */
    conv_case(1, 2, 16);
}

/* Batch norm, ReLU and skip-add passes over M = N*784 rows of C channels. */
static void elementwise_case(int N, int C)
{
    const kernels_t *ks[8];
    int nk = n_tables(ks);
    int M = N * IMG_PIXELS;
    size_t n = (size_t)M * C;
    float *x = rnd(n, -2, 2), *dy = rnd(n, -1, 1), *b = rnd(n, -1, 1), *base = rnd(n, -1, 1);
    float *scale = rnd((size_t)C, 0.5f, 1.5f), *shift = rnd((size_t)C, -1, 1);
    float *mean = rnd((size_t)C, -0.2f, 0.2f), *invstd = rnd((size_t)C, 0.5f, 2.0f);
    float *gamma = rnd((size_t)C, 0.5f, 1.5f), *mdy = rnd((size_t)C, -0.1f, 0.1f), *mdx = rnd((size_t)C, -0.1f, 0.1f);
    float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
    float *want2 = malloc(sizeof(float) * n), *got2 = malloc(sizeof(float) * n);
    double s_w[64], q_w[64], s_g[64], q_g[64];
    float f_w[64], f_g[64];
    char what[96];
    for (int i = 1; i < nk; i++) {
        const kernels_t *k = ks[i];
        snprintf(what, sizeof what, "bn_stats N=%d C=%d", N, C);
        kernels_ref.bn_stats(s_w, q_w, x, M, C);
        k->bn_stats(s_g, q_g, x, M, C);
        close_d(what, k->name, s_g, s_w, (size_t)C, M);
        close_d(what, k->name, q_g, q_w, (size_t)C, M);
        for (int relu = 0; relu < 2; relu++) {
            snprintf(what, sizeof what, "bn_apply N=%d C=%d relu=%d", N, C, relu);
            kernels_ref.bn_apply(want, x, scale, shift, M, C, relu);
            k->bn_apply(got, x, scale, shift, M, C, relu);
            close_f(what, k->name, got, want, n, 2);
        }
        snprintf(what, sizeof what, "bn_backward_stats N=%d C=%d", N, C);
        kernels_ref.bn_backward_stats(s_w, q_w, dy, x, mean, invstd, M, C);
        k->bn_backward_stats(s_g, q_g, dy, x, mean, invstd, M, C);
        close_d(what, k->name, s_g, s_w, (size_t)C, M);
        close_d(what, k->name, q_g, q_w, (size_t)C, 10.0 * M);
        snprintf(what, sizeof what, "relu_bn_backward_stats N=%d C=%d", N, C);
        kernels_ref.relu_bn_backward_stats(want, s_w, q_w, dy, b, x, mean, invstd, M, C);
        k->relu_bn_backward_stats(got, s_g, q_g, dy, b, x, mean, invstd, M, C);
        close_f(what, k->name, got, want, n, 0);
        close_d(what, k->name, s_g, s_w, (size_t)C, M);
        close_d(what, k->name, q_g, q_w, (size_t)C, 10.0 * M);
        for (int a = 0; a < 2; a++) {
            snprintf(what, sizeof what, "bn_backward_data N=%d C=%d acc=%d", N, C, a);
            memcpy(want, base, sizeof(float) * n);
            memcpy(got, base, sizeof(float) * n);
            kernels_ref.bn_backward_data(want, dy, x, mean, invstd, gamma, mdy, mdx, M, C, a);
            k->bn_backward_data(got, dy, x, mean, invstd, gamma, mdy, mdx, M, C, a);
            close_f(what, k->name, got, want, n, 10);
        }
        /* ReLU over any length, including ones that are not whole vectors. */
        size_t lens[] = {n, n - 1, 5};
        for (int l = 0; l < 3; l++) {
            snprintf(what, sizeof what, "relu_forward n=%zu", lens[l]);
            memcpy(want, base, sizeof(float) * n);
            memcpy(got, base, sizeof(float) * n);
            kernels_ref.relu_forward(want, x, lens[l]);
            k->relu_forward(got, x, lens[l]);
            close_f(what, k->name, got, want, n, 0);
            for (int a = 0; a < 2; a++) {
                snprintf(what, sizeof what, "relu_backward n=%zu acc=%d", lens[l], a);
                memcpy(want, base, sizeof(float) * n);
                memcpy(got, base, sizeof(float) * n);
                kernels_ref.relu_backward(want, dy, x, lens[l], a);
                k->relu_backward(got, dy, x, lens[l], a);
                close_f(what, k->name, got, want, n, 1);
            }
        }
        snprintf(what, sizeof what, "add_forward N=%d C=%d", N, C);
        kernels_ref.add_forward(want, x, b, scale, M, C);
        k->add_forward(got, x, b, scale, M, C);
        close_f(what, k->name, got, want, n, 2);
        for (int a = 0; a < 4; a++) {
            snprintf(what, sizeof what, "add_backward N=%d C=%d acc_a=%d acc_b=%d", N, C, a & 1, a >> 1);
            memcpy(want, base, sizeof(float) * n); memcpy(got, base, sizeof(float) * n);
            memcpy(want2, x, sizeof(float) * n); memcpy(got2, x, sizeof(float) * n);
            kernels_ref.add_backward(want, want2, f_w, dy, b, scale, M, C, a & 1, a >> 1);
            k->add_backward(got, got2, f_g, dy, b, scale, M, C, a & 1, a >> 1);
            close_f(what, k->name, got, want, n, 1);
            close_f(what, k->name, got2, want2, n, 2);
            close_f(what, k->name, f_g, f_w, (size_t)C, M);
        }
    }
    free(x); free(dy); free(b); free(base); free(scale); free(shift); free(mean); free(invstd);
    free(gamma); free(mdy); free(mdx); free(want); free(got); free(want2); free(got2);
}

TEST(kernels_elementwise_match_reference)
{
    rng_seed(&R, 12, 0, 0);
    static const int Cs[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 24, 31, 32, 48, 64};
    static const int Ns[] = {1, 3, 9};
    for (int i = 0; i < (int)(sizeof Cs / sizeof *Cs); i++) elementwise_case(Ns[i % 3], Cs[i]);
}

/* Dense layer; the weight gradient also split into row ranges at odd
 * points, which must give the same bits as one range. */
static void dense_case(int N, int C)
{
    const kernels_t *ks[8];
    int nk = n_tables(ks);
    int K = IMG_PIXELS * C;
    size_t nx = (size_t)N * K, nw = (size_t)K * N_CLASSES;
    float *x = rnd(nx, -1, 1), *w = rnd(nw, -0.1f, 0.1f), *bias = rnd(N_CLASSES, -1, 1);
    float *g = rnd((size_t)N * N_CLASSES, -1, 1), *base = rnd(nx, -1, 1);
    float *lw = malloc(sizeof(float) * N * N_CLASSES), *lg = malloc(sizeof(float) * N * N_CLASSES);
    float *want = malloc(sizeof(float) * nx), *got = malloc(sizeof(float) * nx);
    float *dw_want = malloc(sizeof(float) * nw), *dw_got = malloc(sizeof(float) * nw), *dw_split = malloc(sizeof(float) * nw);
    char what[96];
    for (int i = 1; i < nk; i++) {
        const kernels_t *k = ks[i];
        snprintf(what, sizeof what, "dense_forward N=%d K=%d", N, K);
        kernels_ref.dense_forward(lw, x, w, bias, N, K);
        k->dense_forward(lg, x, w, bias, N, K);
        close_f(what, k->name, lg, lw, (size_t)N * N_CLASSES, 0.1 * K);
        for (int a = 0; a < 2; a++) {
            snprintf(what, sizeof what, "dense_backward_data N=%d K=%d acc=%d", N, K, a);
            memcpy(want, base, sizeof(float) * nx);
            memcpy(got, base, sizeof(float) * nx);
            kernels_ref.dense_backward_data(want, g, w, N, K, a);
            k->dense_backward_data(got, g, w, N, K, a);
            close_f(what, k->name, got, want, nx, 10);
        }
        snprintf(what, sizeof what, "dense_backward_weights N=%d K=%d", N, K);
        kernels_ref.dense_backward_weights(dw_want, x, g, N, K, 0, K);
        k->dense_backward_weights(dw_got, x, g, N, K, 0, K);
        close_f(what, k->name, dw_got, dw_want, nw, N);
        int cuts[] = {0, 5, K / 3, K / 3 + 13, K - 7, K};
        for (int c = 0; c + 1 < 6; c++) k->dense_backward_weights(dw_split, x, g, N, K, cuts[c], cuts[c + 1]);
        CHECK(memcmp(dw_split, dw_got, sizeof(float) * nw) == 0,
              "%s [%s]: a split into row ranges changes the bits", what, k->name);
    }
    free(x); free(w); free(bias); free(g); free(base); free(lw); free(lg); free(want); free(got);
    free(dw_want); free(dw_got); free(dw_split);
}

TEST(kernels_dense_match_reference)
{
    rng_seed(&R, 13, 0, 0);
    dense_case(1, 1);
    dense_case(3, 5);
    dense_case(9, 16);
    dense_case(64, 3);
    dense_case(70, 2);   /* more images than one group of the AVX-512 kernel */
}

TEST(kernels_adam_match_reference)
{
    rng_seed(&R, 14, 0, 0);
    const kernels_t *ks[8];
    int nk = n_tables(ks);
    size_t lens[] = {1, 15, 16, 1000, 4099};
    for (int l = 0; l < 5; l++) {
        size_t n = lens[l];
        float *g = rnd(n, -1, 1), *p0 = rnd(n, -1, 1), *m0 = rnd(n, -0.1f, 0.1f), *v0 = rnd(n, 0, 0.01f);
        float *pw = dup(p0, n), *mw = dup(m0, n), *vw = dup(v0, n);
        kernels_ref.adam_update(pw, g, mw, vw, n, 1e-3f, 0.9f, 0.999f, 1e-7f);
        for (int i = 1; i < nk; i++) {
            float *pg = dup(p0, n), *mg = dup(m0, n), *vg = dup(v0, n);
            ks[i]->adam_update(pg, g, mg, vg, n, 1e-3f, 0.9f, 0.999f, 1e-7f);
            close_f("adam p", ks[i]->name, pg, pw, n, 1);
            close_f("adam m", ks[i]->name, mg, mw, n, 1);
            close_f("adam v", ks[i]->name, vg, vw, n, 1);
            free(pg); free(mg); free(vg);
        }
        free(g); free(p0); free(m0); free(v0); free(pw); free(mw); free(vw);
    }
}

TEST(kernels_table_choice)
{
    const kernels_t *ks[8];
    int nk = n_tables(ks);
    CHECK(nk >= 1 && ks[0] == &kernels_ref, "reference comes first");
    CHECK(kernels_by_name("reference") == &kernels_ref, "reference by name");
    CHECK(kernels_by_name("nope") == NULL, "unknown name");
    for (int i = 0; i < nk; i++) CHECK(kernels_by_name(ks[i]->name) == ks[i], "%s by name", ks[i]->name);
    if (nk < 2) fprintf(stderr, "    (no optimised kernel table on this CPU: only the reference is tested)\n");
}
