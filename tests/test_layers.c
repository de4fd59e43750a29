/* test_layers.c - forward passes against hand-computed values. */
#include "kernels.h"
#include "net.h"
#include "pool.h"
#include "tensor.h"
#include "test.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

#define AT(img, y, x) ((img)[(y) * 28 + (x)])

/* One input channel, one output channel, kernel 1..9 (row-major, w[ky][kx]
 * = 3*ky + kx + 1), bias 0.5, an image that is 0 except 1 at the top-left
 * corner and 2 at (10,10). 'same' padding means a corner pixel only meets
 * the taps that stay inside the image. */
static void conv_single_channel(const kernels_t *k)
{
    float w[9], b = 0.5f, in[784] = {0}, out[784];
    for (int i = 0; i < 9; i++) w[i] = (float)(i + 1);
    AT(in, 0, 0) = 1.0f;
    AT(in, 10, 10) = 2.0f;
    k->conv_forward(out, in, w, &b, 1, 1, 1, 0);
    CHECK_NEAR(AT(out, 0, 0), 0.5 + 5, 0);        /* centre tap on the pixel */
    CHECK_NEAR(AT(out, 0, 1), 0.5 + 4, 0);        /* pixel is to the left: w[1][0] */
    CHECK_NEAR(AT(out, 1, 0), 0.5 + 2, 0);        /* pixel is above: w[0][1] */
    CHECK_NEAR(AT(out, 1, 1), 0.5 + 1, 0);        /* up-left: w[0][0] */
    CHECK_NEAR(AT(out, 10, 10), 0.5 + 2 * 5, 0);
    CHECK_NEAR(AT(out, 9, 9), 0.5 + 2 * 9, 0);    /* pixel is down-right: w[2][2] */
    CHECK_NEAR(AT(out, 11, 9), 0.5 + 2 * 3, 0);   /* pixel is up-right: w[0][2] */
    CHECK_NEAR(AT(out, 5, 5), 0.5, 0);
    CHECK_NEAR(AT(out, 27, 27), 0.5, 0);
    /* A constant image: interior sees all 9 taps (sum 45), an edge 6, a
     * corner 4. */
    for (int i = 0; i < 784; i++) in[i] = 1.0f;
    k->conv_forward(out, in, w, NULL, 1, 1, 1, 0);
    CHECK_NEAR(AT(out, 14, 14), 45, 0);
    CHECK_NEAR(AT(out, 0, 14), 4 + 5 + 6 + 7 + 8 + 9, 0);   /* top row: no ky=0 taps */
    CHECK_NEAR(AT(out, 14, 27), 1 + 2 + 4 + 5 + 7 + 8, 0);  /* right edge: no kx=2 taps */
    CHECK_NEAR(AT(out, 27, 0), 2 + 3 + 5 + 6, 0);            /* bottom-left corner */
    /* accumulate adds onto what is there */
    k->conv_forward(out, in, w, NULL, 1, 1, 1, 1);
    CHECK_NEAR(AT(out, 14, 14), 90, 0);
}

/* Two in, two out channels at one interior pixel: out[co] = sum over ci of
 * in[ci] * w[centre][ci][co] for an image that is one pixel. */
static void conv_channels(const kernels_t *k)
{
    float w[9 * 2 * 2] = {0}, bias[2] = {0.25f, -1.0f};
    float *in = calloc(784 * 2, sizeof(float)), *out = malloc(784 * 2 * sizeof(float));
    in[(14 * 28 + 14) * 2 + 0] = 3.0f;
    in[(14 * 28 + 14) * 2 + 1] = -2.0f;
    float *c = w + 4 * 2 * 2;            /* centre tap (ky=1, kx=1) */
    c[0 * 2 + 0] = 1; c[0 * 2 + 1] = 2;  /* from ci=0 */
    c[1 * 2 + 0] = 3; c[1 * 2 + 1] = 4;  /* from ci=1 */
    k->conv_forward(out, in, w, bias, 1, 2, 2, 0);
    CHECK_NEAR(out[(14 * 28 + 14) * 2 + 0], 0.25 + 3 * 1 - 2 * 3, 0);
    CHECK_NEAR(out[(14 * 28 + 14) * 2 + 1], -1.0 + 3 * 2 - 2 * 4, 0);
    CHECK_NEAR(out[(14 * 28 + 15) * 2 + 0], 0.25, 0);
    free(in);
    free(out);
}

TEST(conv_forward_hand_computed)
{
    const kernels_t *ks[8];
    int n = kernels_available(ks, 8);
    for (int i = 0; i < n; i++) {
        conv_single_channel(ks[i]);
        conv_channels(ks[i]);
    }
}

/* Batch norm through a one-channel net whose conv is the identity: channel
 * values are 1 on the left half of each image and 3 on the right half, so
 * the batch mean is 2 and the (biased) variance 1. */
TEST(batchnorm_both_modes_hand_computed)
{
    err_t err;
    net_t net;
    CHECK(net_from_arch(&net, 1, "conv,bn", &err) == 0, "%s", err.msg);
    const node_t *conv = &net.nodes[1], *bn = &net.nodes[2];
    memset(net.params, 0, net.n_params * sizeof(float));
    net.params[conv->p_off + 4] = 1.0f;            /* centre tap */
    net.params[bn->p_off] = 2.0f;                  /* gamma */
    net.params[bn->p_off + 1] = 0.5f;              /* beta */
    net.state[bn->s_off] = 0.0f;                   /* moving mean */
    net.state[bn->s_off + 1] = 1.0f;               /* moving variance */
    float x[2 * 784];
    uint8_t y[2] = {0, 1};
    for (int i = 0; i < 2 * 784; i++) x[i] = (i % 28) < 14 ? 1.0f : 3.0f;
    pool_t *pool = pool_create(1, &err);
    trainer_t *t = trainer_create(&net, 2, pool, NULL, hyper_default(), &err);

    /* training mode: (x - 2) / sqrt(1 + 1e-3) * 2 + 0.5 */
    int correct;
    trainer_step(t, x, y, 2, &correct);
    const float *a = trainer_activation(t, 2);
    double s = 1.0 / sqrt(1.0 + 1e-3);
    CHECK_NEAR(a[0], -1.0 * s * 2 + 0.5, 1e-6);
    CHECK_NEAR(a[20], 1.0 * s * 2 + 0.5, 1e-6);
    /* the step updated the moving statistics with momentum 0.99 */
    CHECK_NEAR(net.state[bn->s_off], 0.99 * 0 + 0.01 * 2, 1e-7);
    CHECK_NEAR(net.state[bn->s_off + 1], 0.99 * 1 + 0.01 * 1, 1e-7);

    /* inference mode uses the moving statistics: put known ones in, and an
     * identity conv again (the step moved the weights). */
    memset(net.params, 0, (size_t)bn->p_off * sizeof(float));
    net.params[conv->p_off + 4] = 1.0f;
    float gamma = net.params[bn->p_off], beta = net.params[bn->p_off + 1];
    net.state[bn->s_off] = 1.5f;
    net.state[bn->s_off + 1] = 4.0f;
    trainer_forward(t, x, y, 2, 0, NULL);
    a = trainer_activation(t, 2);
    CHECK_NEAR(a[0], gamma * (1.0 - 1.5) / sqrt(4.0 + 1e-3) + beta, 1e-6);
    CHECK_NEAR(a[27], gamma * (3.0 - 1.5) / sqrt(4.0 + 1e-3) + beta, 1e-6);
    trainer_destroy(t);
    pool_destroy(pool);
    net_free(&net);
}

TEST(softmax_xent_known_logits)
{
    float logits[3 * 10] = {0}, d[3 * 10], loss[3];
    unsigned char labels[3] = {4, 0, 9};
    /* row 0: all equal -> loss ln 10, gradient 0.1 - onehot */
    /* row 1: huge logits must not overflow: 1000 on the right class */
    logits[10 + 0] = 1000.0f;
    /* row 2: 1000 on a wrong class: loss 1000 */
    logits[20 + 3] = 1000.0f;
    softmax_xent(d, loss, logits, labels, 3, 1.0f);
    CHECK_NEAR(loss[0], log(10.0), 1e-6);
    CHECK_NEAR(d[4], 0.1 - 1.0, 1e-6);
    CHECK_NEAR(d[5], 0.1, 1e-6);
    CHECK_NEAR(loss[1], 0.0, 1e-6);
    CHECK_NEAR(loss[2], 1000.0, 1e-3);
    CHECK_NEAR(d[20 + 3], 1.0, 1e-6);
    CHECK_NEAR(d[20 + 9], -1.0, 1e-6);
    /* logits 0,1,...,9 and label 9: loss = log(sum e^j) - 9 */
    float z[10];
    unsigned char l9 = 9;
    for (int j = 0; j < 10; j++) z[j] = (float)j;
    double se = 0;
    for (int j = 0; j < 10; j++) se += exp(j);
    softmax_xent(NULL, loss, z, &l9, 1, 1.0f);
    CHECK_NEAR(loss[0], log(se) - 9, 1e-6);
}
