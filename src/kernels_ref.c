/* kernels_ref.c - portable reference kernels. Plain loops, written to be
 * obviously correct; the loop order keeps the innermost loop on the
 * contiguous channel axis so a compiler can vectorise it. Every optimised
 * kernel table is tested against this one. */
#include "kernels.h"
#include "tensor.h"

#include <math.h>
#include <string.h>

static void ref_conv_forward(float *out, const float *in, const float *w, const float *bias,
                             int N, int Cin, int Cout, int accumulate)
{
    for (int n = 0; n < N; n++)
        for (int y = 0; y < IMG_SIDE; y++)
            for (int x = 0; x < IMG_SIDE; x++) {
                float *o = out + (((size_t)n * IMG_SIDE + y) * IMG_SIDE + x) * Cout;
                if (!accumulate) {
                    for (int co = 0; co < Cout; co++) o[co] = 0.0f;
                }
                if (bias)
                    for (int co = 0; co < Cout; co++) o[co] += bias[co];
                for (int ky = 0; ky < 3; ky++) {
                    int iy = y + ky - 1;
                    if (iy < 0 || iy >= IMG_SIDE) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int ix = x + kx - 1;
                        if (ix < 0 || ix >= IMG_SIDE) continue;
                        const float *ip = in + (((size_t)n * IMG_SIDE + iy) * IMG_SIDE + ix) * Cin;
                        const float *wp = w + (size_t)(ky * 3 + kx) * Cin * Cout;
                        for (int ci = 0; ci < Cin; ci++) {
                            float v = ip[ci];
                            const float *wr = wp + (size_t)ci * Cout;
                            for (int co = 0; co < Cout; co++) o[co] += v * wr[co];
                        }
                    }
                }
            }
}

static void ref_conv_flip_weights(float *wt, const float *w, int Cin, int Cout)
{
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            for (int ci = 0; ci < Cin; ci++)
                for (int co = 0; co < Cout; co++)
                    wt[(((2 - ky) * 3 + (2 - kx)) * Cout + co) * Cin + ci] =
                        w[((ky * 3 + kx) * Cin + ci) * Cout + co];
}

static void ref_conv_backward_weights(float *dw, float *dbias, const float *in, const float *dout,
                                      int N, int Cin, int Cout)
{
    memset(dw, 0, sizeof(float) * 9 * Cin * Cout);
    double db[Cout];
    for (int co = 0; co < Cout; co++) db[co] = 0.0;
    for (int n = 0; n < N; n++)
        for (int y = 0; y < IMG_SIDE; y++)
            for (int x = 0; x < IMG_SIDE; x++) {
                const float *d = dout + (((size_t)n * IMG_SIDE + y) * IMG_SIDE + x) * Cout;
                for (int co = 0; co < Cout; co++) db[co] += d[co];
                for (int ky = 0; ky < 3; ky++) {
                    int iy = y + ky - 1;
                    if (iy < 0 || iy >= IMG_SIDE) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int ix = x + kx - 1;
                        if (ix < 0 || ix >= IMG_SIDE) continue;
                        const float *ip = in + (((size_t)n * IMG_SIDE + iy) * IMG_SIDE + ix) * Cin;
                        float *wp = dw + (size_t)(ky * 3 + kx) * Cin * Cout;
                        for (int ci = 0; ci < Cin; ci++) {
                            float v = ip[ci];
                            float *wr = wp + (size_t)ci * Cout;
                            for (int co = 0; co < Cout; co++) wr[co] += v * d[co];
                        }
                    }
                }
            }
    for (int co = 0; co < Cout; co++) dbias[co] = (float)db[co];
}

static void ref_bn_stats(double *sum, double *sumsq, const float *x, int M, int C)
{
    for (int c = 0; c < C; c++) sum[c] = sumsq[c] = 0.0;
    for (int m = 0; m < M; m++) {
        const float *r = x + (size_t)m * C;
        for (int c = 0; c < C; c++) {
            double v = r[c];
            sum[c] += v;
            sumsq[c] += v * v;
        }
    }
}

static void ref_bn_apply(float *y, const float *x, const float *scale, const float *shift,
                         int M, int C, int relu)
{
    for (int m = 0; m < M; m++) {
        const float *r = x + (size_t)m * C;
        float *o = y + (size_t)m * C;
        for (int c = 0; c < C; c++) {
            float v = r[c] * scale[c] + shift[c];
            o[c] = relu && v < 0.0f ? 0.0f : v;
        }
    }
}

static void ref_bn_backward_stats(double *sum_dy, double *sum_dy_xhat, const float *dy,
                                  const float *x, const float *mean, const float *invstd,
                                  int M, int C)
{
    for (int c = 0; c < C; c++) sum_dy[c] = sum_dy_xhat[c] = 0.0;
    for (int m = 0; m < M; m++) {
        const float *d = dy + (size_t)m * C, *r = x + (size_t)m * C;
        for (int c = 0; c < C; c++) {
            sum_dy[c] += d[c];
            sum_dy_xhat[c] += (double)d[c] * ((r[c] - mean[c]) * invstd[c]);
        }
    }
}

static void ref_relu_bn_backward_stats(float *dy, double *sum_dy, double *sum_dy_xhat, const float *dout,
                                       const float *y, const float *x, const float *mean,
                                       const float *invstd, int M, int C)
{
    size_t n = (size_t)M * C;
    for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dout[i] : 0.0f;
    ref_bn_backward_stats(sum_dy, sum_dy_xhat, dy, x, mean, invstd, M, C);
}

static void ref_bn_backward_data(float *dx, const float *dy, const float *x, const float *mean,
                                 const float *invstd, const float *gamma, const float *mean_dy,
                                 const float *mean_dy_xhat, int M, int C, int accumulate)
{
    for (int m = 0; m < M; m++) {
        const float *d = dy + (size_t)m * C, *r = x + (size_t)m * C;
        float *o = dx + (size_t)m * C;
        for (int c = 0; c < C; c++) {
            float xhat = (r[c] - mean[c]) * invstd[c];
            float g = gamma[c] * invstd[c] * (d[c] - mean_dy[c] - xhat * mean_dy_xhat[c]);
            o[c] = accumulate ? o[c] + g : g;
        }
    }
}

static void ref_relu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void ref_relu_backward(float *dx, const float *dy, const float *y, size_t n, int accumulate)
{
    for (size_t i = 0; i < n; i++) {
        float g = y[i] > 0.0f ? dy[i] : 0.0f;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

static void ref_add_forward(float *y, const float *a, const float *b, const float *scale, int M, int C)
{
    for (int m = 0; m < M; m++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)m * C + c;
            y[i] = a[i] + scale[c] * b[i];
        }
}

static void ref_add_backward(float *da, float *db, float *dscale, const float *dy, const float *b,
                             const float *scale, int M, int C, int accumulate_a, int accumulate_b)
{
    for (int c = 0; c < C; c++) dscale[c] = 0.0f;
    for (int m = 0; m < M; m++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)m * C + c;
            float g = dy[i];
            dscale[c] += g * b[i];
            da[i] = accumulate_a ? da[i] + g : g;
            db[i] = accumulate_b ? db[i] + scale[c] * g : scale[c] * g;
        }
}

static void ref_dense_forward(float *logits, const float *x, const float *w, const float *bias,
                              int N, int K)
{
    for (int n = 0; n < N; n++) {
        float acc[N_CLASSES];
        for (int j = 0; j < N_CLASSES; j++) acc[j] = bias[j];
        const float *xr = x + (size_t)n * K;
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N_CLASSES; j++) acc[j] += xr[k] * w[(size_t)k * N_CLASSES + j];
        for (int j = 0; j < N_CLASSES; j++) logits[n * N_CLASSES + j] = acc[j];
    }
}

static void ref_dense_backward_data(float *dx, const float *dlogits, const float *w, int N, int K,
                                    int accumulate)
{
    for (int n = 0; n < N; n++) {
        const float *g = dlogits + n * N_CLASSES;
        float *o = dx + (size_t)n * K;
        for (int k = 0; k < K; k++) {
            float s = 0.0f;
            for (int j = 0; j < N_CLASSES; j++) s += g[j] * w[(size_t)k * N_CLASSES + j];
            o[k] = accumulate ? o[k] + s : s;
        }
    }
}

static void ref_dense_backward_weights(float *dw, const float *x, const float *dlogits, int N, int K,
                                       int k0, int k1)
{
    for (int k = k0; k < k1; k++)
        for (int j = 0; j < N_CLASSES; j++) dw[(size_t)k * N_CLASSES + j] = 0.0f;
    for (int n = 0; n < N; n++) {
        const float *g = dlogits + n * N_CLASSES;
        const float *xr = x + (size_t)n * K;
        for (int k = k0; k < k1; k++)
            for (int j = 0; j < N_CLASSES; j++) dw[(size_t)k * N_CLASSES + j] += xr[k] * g[j];
    }
}

static void ref_adam_update(float *p, const float *g, float *m, float *v, size_t n,
                            float lr_t, float beta1, float beta2, float eps)
{
    for (size_t i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

void softmax_xent(float *dlogits, float *loss, const float *logits, const unsigned char *labels,
                  int N, float grad_scale)
{
    for (int n = 0; n < N; n++) {
        const float *z = logits + n * N_CLASSES;
        float mx = z[0];
        for (int j = 1; j < N_CLASSES; j++) mx = z[j] > mx ? z[j] : mx;
        double se = 0.0;
        for (int j = 0; j < N_CLASSES; j++) se += exp((double)(z[j] - mx));
        double lse = mx + log(se);
        loss[n] = (float)(lse - z[labels[n]]);
        if (dlogits)
            for (int j = 0; j < N_CLASSES; j++) {
                float p = (float)exp((double)z[j] - lse);
                dlogits[n * N_CLASSES + j] = (p - (j == labels[n] ? 1.0f : 0.0f)) * grad_scale;
            }
    }
}

const kernels_t kernels_ref = {
    .name = "reference",
    .conv_forward = ref_conv_forward,
    .conv_flip_weights = ref_conv_flip_weights,
    .conv_backward_weights = ref_conv_backward_weights,
    .bn_stats = ref_bn_stats,
    .bn_apply = ref_bn_apply,
    .bn_backward_stats = ref_bn_backward_stats,
    .relu_bn_backward_stats = ref_relu_bn_backward_stats,
    .bn_backward_data = ref_bn_backward_data,
    .relu_forward = ref_relu_forward,
    .relu_backward = ref_relu_backward,
    .add_forward = ref_add_forward,
    .add_backward = ref_add_backward,
    .dense_forward = ref_dense_forward,
    .dense_backward_data = ref_dense_backward_data,
    .dense_backward_weights = ref_dense_backward_weights,
    .adam_update = ref_adam_update,
};
