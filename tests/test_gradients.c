/* test_gradients.c - analytic gradients of every layer and of a whole
 * network against central finite differences of an independent
 * double-precision forward pass (ref_forward.c), for every kernel table. */
#include "kernels.h"
#include "net.h"
#include "pool.h"
#include "ref_forward.h"
#include "tensor.h"
#include "test.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

/* Random but well-conditioned parameters: every path carries signal (skip
 * scales non-zero, BN gammas away from zero). */
static void randomise(net_t *net, rng_t *r)
{
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = (float)(rng_uniform(r) - 0.5);
    for (int i = 1; i < net->n_nodes; i++) {
        node_t *nd = &net->nodes[i];
        if (nd->kind == NODE_BN)
            for (int c = 0; c < net->filters; c++) {
                net->params[nd->p_off + c] = (float)(0.5 + rng_uniform(r));
                net->state[nd->s_off + c] = (float)(rng_uniform(r) - 0.5);
                net->state[nd->s_off + net->filters + c] = (float)(0.5 + rng_uniform(r));
            }
    }
    size_t K = (size_t)IMG_PIXELS * net->filters;
    for (size_t i = 0; i < K * N_CLASSES; i++)
        net->params[net->dense_off + i] *= 0.2f;
}

typedef struct { double worst_rel, worst_abs; int n, bad; } cmp_t;

static void compare(cmp_t *c, double analytic, double numeric, double scale, const char *what, size_t idx)
{
    double d = fabs(analytic - numeric);
    double tol = 2e-3 * fmax(fabs(analytic), fabs(numeric)) + 1e-4 * scale;
    c->n++;
    if (d / (scale + 1e-30) > c->worst_abs) c->worst_abs = d / (scale + 1e-30);
    if (!(d <= tol)) {
        c->bad++;
        test_fail(__FILE__, __LINE__, "%s[%zu]: analytic %.8g vs finite difference %.8g", what, idx,
                  analytic, numeric);
    }
}

static double fd(const net_t *net, double *pd, const double *sd, double *xd, const uint8_t *y, int N,
                 double *slot)
{
    /* Small enough that few ReLU inputs cross zero, large enough for double
     * rounding (loss ~ 2, eps 2e-16) to stay near 1e-9. */
    const double h = 1e-6, keep = *slot;
    *slot = keep + h;
    double lp = ref_loss(net, pd, sd, xd, y, N, 1, NULL);
    *slot = keep - h;
    double lm = ref_loss(net, pd, sd, xd, y, N, 1, NULL);
    *slot = keep;
    return (lp - lm) / (2 * h);
}

static void grad_check(const char *arch, int F, int N, const kernels_t *k)
{
    err_t err;
    net_t net;
    if (!CHECK(net_from_arch(&net, F, arch, &err) == 0, "%s", err.msg)) return;
    rng_t r;
    rng_seed(&r, 42, 1, 2);
    randomise(&net, &r);
    float *x = malloc(sizeof(float) * N * IMG_PIXELS), *dx = malloc(sizeof(float) * N * IMG_PIXELS);
    uint8_t *y = malloc((size_t)N);
    for (int i = 0; i < N * IMG_PIXELS; i++) x[i] = (float)rng_uniform(&r);
    for (int n = 0; n < N; n++) y[n] = (uint8_t)rng_below(&r, 10);

    pool_t *pool = pool_create(1, &err);
    trainer_t *t = trainer_create(&net, N, pool, k, hyper_default(), &err);
    float loss;
    const float *g = trainer_gradient(t, x, y, N, &loss, dx);

    double *pd = malloc(sizeof(double) * net.n_params), *sd = malloc(sizeof(double) * (net.n_state + 1));
    double *xd = malloc(sizeof(double) * N * IMG_PIXELS);
    for (size_t i = 0; i < net.n_params; i++) pd[i] = net.params[i];
    for (size_t i = 0; i < net.n_state; i++) sd[i] = net.state[i];
    for (int i = 0; i < N * IMG_PIXELS; i++) xd[i] = x[i];
    double L = ref_loss(&net, pd, sd, xd, y, N, 1, NULL);
    CHECK(fabs(L - loss) <= 1e-4 * fabs(L) + 1e-5, "%s: loss %.8g vs double reference %.8g", arch, loss, L);

    /* Every non-dense parameter, a sample of dense weights, all dense
     * biases, and a sample of input pixels. */
    size_t idx[4096];
    int n_idx = 0;
    for (size_t i = 0; i < net.dense_off && n_idx < 3000; i++) idx[n_idx++] = i;
    size_t K = (size_t)IMG_PIXELS * F;
    for (int s = 0; s < 150; s++) idx[n_idx++] = net.dense_off + rng_below(&r, K * N_CLASSES);
    for (int j = 0; j < N_CLASSES; j++) idx[n_idx++] = net.dense_off + K * N_CLASSES + j;
    double *num = malloc(sizeof(double) * (n_idx + 200));
    double scale = 0;
    for (int i = 0; i < n_idx; i++) {
        num[i] = fd(&net, pd, sd, xd, y, N, &pd[idx[i]]);
        scale = fmax(scale, fabs(num[i]));
    }
    cmp_t c = {0};
    for (int i = 0; i < n_idx; i++) compare(&c, g[idx[i]], num[i], scale, "param", idx[i]);

    size_t pix[200];
    double xscale = 0;
    for (int s = 0; s < 200; s++) {
        pix[s] = rng_below(&r, (uint64_t)N * IMG_PIXELS);
        num[s] = fd(&net, pd, sd, xd, y, N, &xd[pix[s]]);
        xscale = fmax(xscale, fabs(num[s]));
    }
    for (int s = 0; s < 200; s++) compare(&c, dx[pix[s]], num[s], xscale, "input", pix[s]);
    if (c.bad) fprintf(stderr, "    %s (F=%d, %s kernels): %d of %d gradients off\n", arch, F, k->name, c.bad, c.n);

    free(num); free(pd); free(sd); free(xd); free(x); free(dx); free(y);
    trainer_destroy(t);
    pool_destroy(pool);
    net_free(&net);
}

static void grad_check_all_kernels(const char *arch, int F, int N)
{
    const kernels_t *ks[8];
    int n = kernels_available(ks, 8);
    for (int i = 0; i < n; i++) grad_check(arch, F, N, ks[i]);
}

/* Each layer kind in the smallest network that contains it (the dense layer
 * and softmax cross-entropy are in all of them). N = 9 images spans two
 * chunks, one of them partial. */
TEST(grad_conv_dense_xent) { grad_check_all_kernels("conv", 3, 9); }
TEST(grad_conv_to_conv) { grad_check_all_kernels("conv,conv", 3, 9); }
TEST(grad_batchnorm) { grad_check_all_kernels("conv,bn", 3, 9); }
TEST(grad_relu) { grad_check_all_kernels("conv,relu", 3, 9); }
TEST(grad_skip_add) { grad_check_all_kernels("conv,relu,conv,relu,add(2)", 2, 9); }
/* The whole small network of the foundation issue. */
TEST(grad_whole_network) { grad_check_all_kernels("conv,bn,relu,conv,add(3)", 4, 9); }
