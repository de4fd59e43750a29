/* kernels.h - the compute kernels of the layer library, behind one table.
 *
 * Each kernel is a plain function: outputs first, then inputs, then shapes.
 * Layouts are those of tensor.h (activations NHWC, conv weights HWIO).
 * `M` is a number of pixel rows, N*28*28 for N images. Kernels that take
 * `accumulate` add into their output when it is non-zero and overwrite it
 * otherwise (the engine uses that where a tensor feeds several consumers).
 *
 * Kernels see only the images of one chunk (see CHUNK_IMAGES); reductions
 * over images are returned as per-chunk partials that the engine sums in a
 * fixed order. Kernels never allocate, print or keep state.
 *
 * `kernels_ref` is the portable reference; optimised variants (kernels_avx512
 * ...) implement the same table and are tested against it. kernels_best()
 * picks the fastest one this CPU supports. */
#ifndef LEMONADE_KERNELS_H
#define LEMONADE_KERNELS_H

#include <stddef.h>

typedef struct kernels {
    const char *name;

    /* out (N,28,28,Cout) (+)= conv3x3_same(in (N,28,28,Cin), w (3,3,Cin,Cout))
     * + bias (Cout; may be NULL). Backward-data is this same kernel run on
     * dout with the weights from conv_flip_weights and no bias. */
    void (*conv_forward)(float *out, const float *in, const float *w, const float *bias,
                         int N, int Cin, int Cout, int accumulate);

    /* wt (3,3,Cout,Cin) = w (3,3,Cin,Cout) rotated 180 degrees with the
     * channel axes swapped, so that conv_forward(din, dout, wt) is the
     * gradient of a conv with respect to its input. */
    void (*conv_flip_weights)(float *wt, const float *w, int Cin, int Cout);

    /* dw (3,3,Cin,Cout) = sum over the N images of in x dout correlations;
     * dbias (Cout) = sum of dout. Both overwritten (a chunk's partial). */
    void (*conv_backward_weights)(float *dw, float *dbias, const float *in, const float *dout,
                                  int N, int Cin, int Cout);

    /* Per-channel sums of x and x^2 over M rows of C channels (partials). */
    void (*bn_stats)(double *sum, double *sumsq, const float *x, int M, int C);

    /* y = x*scale[c] + shift[c]: batch norm folded to an affine map, used in
     * training (batch statistics) and inference (running statistics).
     * relu != 0 also applies max(0, .) in the same pass. */
    void (*bn_apply)(float *y, const float *x, const float *scale, const float *shift,
                     int M, int C, int relu);

    /* Per-channel partials for the batch-norm backward pass:
     * sum_dy = sum dy, sum_dy_xhat = sum dy*(x-mean)*invstd. */
    void (*bn_backward_stats)(double *sum_dy, double *sum_dy_xhat, const float *dy, const float *x,
                              const float *mean, const float *invstd, int M, int C);

    /* A ReLU's backward fused with the batch norm's before it, in one pass:
     * dy = dout where y > 0 else 0 (overwritten; y is the ReLU's output), and
     * the bn_backward_stats partials of that dy. */
    void (*relu_bn_backward_stats)(float *dy, double *sum_dy, double *sum_dy_xhat, const float *dout,
                                   const float *y, const float *x, const float *mean,
                                   const float *invstd, int M, int C);

    /* dx (+)= gamma*invstd * (dy - mean_dy - xhat*mean_dy_xhat), where the two
     * means are the full-batch sums divided by the batch's row count. */
    void (*bn_backward_data)(float *dx, const float *dy, const float *x, const float *mean,
                             const float *invstd, const float *gamma, const float *mean_dy,
                             const float *mean_dy_xhat, int M, int C, int accumulate);

    /* y = max(x, 0) over n values. */
    void (*relu_forward)(float *y, const float *x, size_t n);
    /* dx (+)= dy where y > 0, else 0 (y is the ReLU's output). */
    void (*relu_backward)(float *dx, const float *dy, const float *y, size_t n, int accumulate);

    /* y = a + scale[c]*b : a skip connection entering through a learnable
     * per-channel scale. */
    void (*add_forward)(float *y, const float *a, const float *b, const float *scale, int M, int C);
    /* da (+)= dy; db (+)= scale*dy; dscale = sum dy*b (a chunk partial). */
    void (*add_backward)(float *da, float *db, float *dscale, const float *dy, const float *b,
                         const float *scale, int M, int C, int accumulate_a, int accumulate_b);

    /* logits (N,10) = x (N,K) . w (K,10) + bias. */
    void (*dense_forward)(float *logits, const float *x, const float *w, const float *bias, int N, int K);
    /* dx (N,K) (+)= dlogits (N,10) . w^T. */
    void (*dense_backward_data)(float *dx, const float *dlogits, const float *w, int N, int K,
                                int accumulate);
    /* dw rows [k0,k1) of (K,10) = sum over the N images of x^T . dlogits,
     * overwritten. The image sum runs in order 0..N-1 for every row, so
     * splitting [0,K) across threads gives identical bits. */
    void (*dense_backward_weights)(float *dw, const float *x, const float *dlogits, int N, int K,
                                   int k0, int k1);

    /* Adam (Keras form): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * p -= lr_t * m / (sqrt(v) + eps), lr_t carrying the bias correction. */
    void (*adam_update)(float *p, const float *g, float *m, float *v, size_t n,
                        float lr_t, float beta1, float beta2, float eps);
} kernels_t;

extern const kernels_t kernels_ref;
/* AVX-512F (+VL/BW/DQ) kernels; only valid where kernels_available() lists them. */
extern const kernels_t kernels_avx512;

/* Numerically stable softmax + categorical cross-entropy for N rows of 10
 * logits. loss[n] = -log softmax(logits[n])[label]; dlogits = (softmax -
 * onehot) * grad_scale. Not in the table: it is 10 numbers per image. */
void softmax_xent(float *dlogits, float *loss, const float *logits, const unsigned char *labels,
                  int N, float grad_scale);

/* The best kernel table for this CPU (LEMONADE_KERNELS=reference forces the
 * reference; useful for comparisons). */
const kernels_t *kernels_best(void);
/* Every table this CPU can run, reference first; returns the count. */
int kernels_available(const kernels_t **out, int max);
/* Look up a table by name ("reference", "avx512"); NULL if unknown or not
 * supported by this CPU. */
const kernels_t *kernels_by_name(const char *name);

#endif
