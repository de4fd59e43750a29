/* kernels_avx512.c - AVX-512 kernels, same contract as kernels_ref.c.
 *
 * Compiled with explicit AVX-512 target flags (see the Makefile), so the
 * rest of the program still runs on CPUs without AVX-512; kernels.c only
 * hands this table out when __builtin_cpu_supports("avx512f") says so.
 *
 * Layouts are those of tensor.h: activations NHWC, conv weights HWIO with
 * Cout contiguous. A vector holds 16 consecutive channels of one pixel;
 * channel counts that are not a multiple of 16 use masked loads/stores.
 *
 * conv_forward: register tile of 14 output pixels (half an image row) x 16
 *   output channels. For each (ky, ci) the three kx weight vectors stay in
 *   registers, each input pixel is broadcast once and feeds the three
 *   outputs it touches.
 * conv_backward_weights: register tile of 3 kx x 8 ci x 16 co for one ky,
 *   accumulated over every output row of an image; the dout row slides
 *   through three registers so each broadcast input feeds three FMAs. For
 *   Cin <= 2 the tile covers all 9 taps instead (enough accumulators to
 *   hide the FMA latency).
 * Elementwise passes handle C % 16 == 0 and 16 % C == 0 (a vector then
 * holds whole pixels and the per-channel pattern repeats every vector); any
 * other C falls back to the reference kernel.
 * Dense: the (K,10) weight is read 8 rows (80 floats = 5 vectors) at a
 *   time against x permuted to match; its data gradient gathers 16 rows'
 *   columns once per call and reuses them for every image.
 *
 * Measured on one Sapphire-Rapids-class core (245 GFLOP/s FP32 FMA peak),
 * 8 images, F -> F channels: forward and backward-data 84-92% of peak,
 * weight gradient 83-89%, at F = 16, 32, 64 (`lemonade bench`). */
#include "kernels.h"
#include "tensor.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define HALF 14 /* output pixels per conv_forward tile */

static __mmask16 tail_mask(int n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

/* ------------------------------------------------------------ conv fwd */

/* One tile: out pixels [x0, x0+14) of row y, channels [co, co+16) under
 * mask m. in is one image (28,28,Cin), out one image (28,28,Cout). x0 is a
 * literal 0 or 14 at each call site so the edge tests fold away. */
ALWAYS_INLINE void conv_tile(float *out, const float *in, const float *w, const float *bias,
                             int y, const int x0, int Cin, int Cout, int co, __mmask16 m,
                             int accumulate)
{
    __m512 acc[HALF];
    float *orow = out + ((size_t)y * IMG_SIDE + x0) * Cout + co;
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m, bias + co) : _mm512_setzero_ps();
#pragma GCC unroll 14
    for (int j = 0; j < HALF; j++)
        acc[j] = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, orow + (size_t)j * Cout), b0) : b0;
    for (int ky = 0; ky < 3; ky++) {
        int iy = y + ky - 1;
        if (iy < 0 || iy >= IMG_SIDE) continue;
        const float *irow = in + (size_t)iy * IMG_SIDE * Cin;
        const float *wk = w + (size_t)ky * 3 * Cin * Cout + co;
        const size_t ws = (size_t)Cin * Cout;
        for (int ci = 0; ci < Cin; ci++) {
            const float *wc = wk + (size_t)ci * Cout;
            __m512 w0 = _mm512_maskz_loadu_ps(m, wc);
            __m512 w1 = _mm512_maskz_loadu_ps(m, wc + ws);
            __m512 w2 = _mm512_maskz_loadu_ps(m, wc + 2 * ws);
            const float *ip = irow + ci;
#pragma GCC unroll 16
            for (int j = -1; j <= HALF; j++) {
                int ix = x0 + j;
                if (ix < 0 || ix >= IMG_SIDE) continue;
                __m512 b = _mm512_set1_ps(ip[(size_t)ix * Cin]);
                if (j + 1 < HALF) acc[j + 1] = _mm512_fmadd_ps(w0, b, acc[j + 1]);
                if (j >= 0 && j < HALF) acc[j] = _mm512_fmadd_ps(w1, b, acc[j]);
                if (j - 1 >= 0) acc[j - 1] = _mm512_fmadd_ps(w2, b, acc[j - 1]);
            }
        }
    }
#pragma GCC unroll 14
    for (int j = 0; j < HALF; j++) _mm512_mask_storeu_ps(orow + (size_t)j * Cout, m, acc[j]);
}

/* out (N,28,28,Cout) (+)= conv3x3_same(in (N,28,28,Cin), w (3,3,Cin,Cout)) + bias. */
static void avx_conv_forward(float *out, const float *in, const float *w, const float *bias,
                             int N, int Cin, int Cout, int accumulate)
{
    for (int n = 0; n < N; n++) {
        const float *im = in + (size_t)n * IMG_PIXELS * Cin;
        float *om = out + (size_t)n * IMG_PIXELS * Cout;
        for (int y = 0; y < IMG_SIDE; y++)
            for (int co = 0; co < Cout; co += 16) {
                __mmask16 m = tail_mask(Cout - co);
                conv_tile(om, im, w, bias, y, 0, Cin, Cout, co, m, accumulate);
                conv_tile(om, im, w, bias, y, HALF, Cin, Cout, co, m, accumulate);
            }
    }
}

/* wt (3,3,Cout,Cin) = w (3,3,Cin,Cout) rotated 180 degrees, channels swapped. */
static void avx_conv_flip_weights(float *wt, const float *w, int Cin, int Cout)
{
    for (int k = 0; k < 9; k++) {
        const float *src = w + (size_t)k * Cin * Cout;
        float *dst = wt + (size_t)(8 - k) * Cin * Cout;
        for (int ci = 0; ci < Cin; ci++)
            for (int co = 0; co < Cout; co++) dst[(size_t)co * Cin + ci] = src[(size_t)ci * Cout + co];
    }
}

/* ---------------------------------------------------------- conv wgrad */

/* dw tile [ky][kx=0..2][ci0..ci0+CB)[co..co+16) += one image's
 * contribution, accumulated in registers over all its output rows: im is
 * the image's input (28,28,Cin), dm its dout (28,28,Cout). The image (both
 * tensors, at most 400 KB) stays in L2 across the tiles. */
ALWAYS_INLINE void wgrad_tile(float *dwk, const float *im, const float *dm, int ky, const int CB,
                              int Cin, int Cout, int ci0, int co, __mmask16 m)
{
    __m512 acc[3][8];
    const size_t ks = (size_t)Cin * Cout;
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++)
            acc[kx][c] = _mm512_maskz_loadu_ps(m, dwk + kx * ks + (size_t)(ci0 + c) * Cout + co);
    int y0 = ky == 0 ? 1 : 0, y1 = ky == 2 ? IMG_SIDE - 1 : IMG_SIDE;
    for (int y = y0; y < y1; y++) {
        const float *irow = im + (size_t)(y + ky - 1) * IMG_SIDE * Cin + ci0;
        const float *dp = dm + (size_t)y * IMG_SIDE * Cout + co;
        __m512 dprev = _mm512_setzero_ps(), dcur = _mm512_maskz_loadu_ps(m, dp), dnext;
        for (int ix = 0; ix < IMG_SIDE; ix++) {
            dnext = ix + 1 < IMG_SIDE ? _mm512_maskz_loadu_ps(m, dp + (size_t)(ix + 1) * Cout)
                                      : _mm512_setzero_ps();
            const float *ip = irow + (size_t)ix * Cin;
#pragma GCC unroll 8
            for (int c = 0; c < CB; c++) {
                __m512 b = _mm512_set1_ps(ip[c]);
                acc[0][c] = _mm512_fmadd_ps(b, dnext, acc[0][c]);
                acc[1][c] = _mm512_fmadd_ps(b, dcur, acc[1][c]);
                acc[2][c] = _mm512_fmadd_ps(b, dprev, acc[2][c]);
            }
            dprev = dcur;
            dcur = dnext;
        }
    }
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 8
        for (int c = 0; c < CB; c++)
            _mm512_mask_storeu_ps(dwk + kx * ks + (size_t)(ci0 + c) * Cout + co, m, acc[kx][c]);
}

/* For Cin <= 2 (a network's first conv) the tile above has only 3 or 6
 * accumulators, too few to hide the FMA latency: this one keeps all three
 * ky, 9*CB accumulators, and walks the output rows once. Rows outside the
 * image read zeros. */
static const float wgrad_zero_row[IMG_SIDE * 2];

ALWAYS_INLINE void wgrad_tile_allky(float *dw, const float *im, const float *dm, const int CB, int Cin,
                                    int Cout, int co, __mmask16 m)
{
    __m512 acc[3][3][2];
    const size_t ks = (size_t)Cin * Cout;
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 2
            for (int c = 0; c < CB; c++)
                acc[ky][kx][c] = _mm512_maskz_loadu_ps(m, dw + (ky * 3 + kx) * ks + (size_t)c * Cout + co);
    for (int y = 0; y < IMG_SIDE; y++) {
        const float *rows[3];
        for (int ky = 0; ky < 3; ky++) {
            int iy = y + ky - 1;
            rows[ky] = iy < 0 || iy >= IMG_SIDE ? wgrad_zero_row : im + (size_t)iy * IMG_SIDE * Cin;
        }
        const float *dp = dm + (size_t)y * IMG_SIDE * Cout + co;
        __m512 dprev = _mm512_setzero_ps(), dcur = _mm512_maskz_loadu_ps(m, dp), dnext;
        for (int ix = 0; ix < IMG_SIDE; ix++) {
            dnext = ix + 1 < IMG_SIDE ? _mm512_maskz_loadu_ps(m, dp + (size_t)(ix + 1) * Cout)
                                      : _mm512_setzero_ps();
#pragma GCC unroll 3
            for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 2
                for (int c = 0; c < CB; c++) {
                    __m512 b = _mm512_set1_ps(rows[ky][(size_t)ix * Cin + c]);
                    acc[ky][0][c] = _mm512_fmadd_ps(b, dnext, acc[ky][0][c]);
                    acc[ky][1][c] = _mm512_fmadd_ps(b, dcur, acc[ky][1][c]);
                    acc[ky][2][c] = _mm512_fmadd_ps(b, dprev, acc[ky][2][c]);
                }
            dprev = dcur;
            dcur = dnext;
        }
    }
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 2
            for (int c = 0; c < CB; c++)
                _mm512_mask_storeu_ps(dw + (ky * 3 + kx) * ks + (size_t)c * Cout + co, m, acc[ky][kx][c]);
}

static void wgrad_image(float *dwk, const float *im, const float *dm, int ky, int Cin, int Cout, int ci0,
                        int cb, int co, __mmask16 m)
{
    switch (cb) {
    case 8: wgrad_tile(dwk, im, dm, ky, 8, Cin, Cout, ci0, co, m); break;
    case 7: wgrad_tile(dwk, im, dm, ky, 7, Cin, Cout, ci0, co, m); break;
    case 6: wgrad_tile(dwk, im, dm, ky, 6, Cin, Cout, ci0, co, m); break;
    case 5: wgrad_tile(dwk, im, dm, ky, 5, Cin, Cout, ci0, co, m); break;
    case 4: wgrad_tile(dwk, im, dm, ky, 4, Cin, Cout, ci0, co, m); break;
    case 3: wgrad_tile(dwk, im, dm, ky, 3, Cin, Cout, ci0, co, m); break;
    case 2: wgrad_tile(dwk, im, dm, ky, 2, Cin, Cout, ci0, co, m); break;
    default: wgrad_tile(dwk, im, dm, ky, 1, Cin, Cout, ci0, co, m); break;
    }
}

/* dw (3,3,Cin,Cout), dbias (Cout) = this chunk's sums over N images of
 * in (N,28,28,Cin) x dout (N,28,28,Cout) correlations; overwritten. */
static void avx_conv_backward_weights(float *dw, float *dbias, const float *in, const float *dout,
                                      int N, int Cin, int Cout)
{
    memset(dw, 0, sizeof(float) * 9 * (size_t)Cin * Cout);
    for (int n = 0; n < N; n++) {
        const float *im = in + (size_t)n * IMG_PIXELS * Cin;
        const float *dm = dout + (size_t)n * IMG_PIXELS * Cout;
        if (Cin <= 2) {
            for (int co = 0; co < Cout; co += 16) {
                if (Cin == 1) wgrad_tile_allky(dw, im, dm, 1, Cin, Cout, co, tail_mask(Cout - co));
                else wgrad_tile_allky(dw, im, dm, 2, Cin, Cout, co, tail_mask(Cout - co));
            }
            continue;
        }
        for (int ky = 0; ky < 3; ky++) {
            float *dwk = dw + (size_t)ky * 3 * Cin * Cout;
            for (int ci0 = 0; ci0 < Cin; ci0 += 8) {
                int cb = Cin - ci0 < 8 ? Cin - ci0 : 8;
                for (int co = 0; co < Cout; co += 16)
                    wgrad_image(dwk, im, dm, ky, Cin, Cout, ci0, cb, co, tail_mask(Cout - co));
            }
        }
    }
    /* Bias gradient: sum of dout per channel, in double like the reference. */
    size_t M = (size_t)N * IMG_PIXELS;
    for (int co = 0; co < Cout; co += 16) {
        __mmask16 m = tail_mask(Cout - co);
        __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
        for (size_t p = 0; p < M; p++) {
            __m512 d = _mm512_maskz_loadu_ps(m, dout + p * Cout + co);
            lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(d)));
            hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d), 1))));
        }
        __m512 s = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
        _mm512_mask_storeu_ps(dbias + co, m, s);
    }
}

/* ------------------------------------------------------- elementwise */

/* Whether a vector of 16 floats at a multiple-of-16 offset always holds the
 * same channel pattern (C divides 16) or whole channel blocks (16 divides
 * C). Every activation has M*C = N*784*C floats, a multiple of 16. */
static int vec_ok(int C) { return C % 16 == 0 || 16 % C == 0; }

/* Number of distinct per-channel vectors: C/16 blocks, or 1 pattern. */
static int n_pat(int C) { return C % 16 == 0 ? C / 16 : 1; }

/* Channel vector v of a per-channel array p (pattern lane i -> p[i % C]). */
static __m512 chan_vec(const float *p, int C, int v)
{
    if (C % 16 == 0) return _mm512_loadu_ps(p + 16 * v);
    float t[16];
    for (int i = 0; i < 16; i++) t[i] = p[i % C];
    return _mm512_loadu_ps(t);
}

/* Channel of lane l of channel vector v. */
static int lane_chan(int C, int v, int l) { return C % 16 == 0 ? 16 * v + l : l % C; }

/* The passes below walk the data row by row (P channel vectors a row, in
 * memory order) with the per-channel vectors of a group of up to 4 channel
 * vectors [v0, v0+NVB) in registers: NVB is a literal at each call site. */
#define CHANNEL_GROUPS(P, BODY)                                   \
    for (int v0 = 0; v0 < (P); v0 += 4) {                         \
        switch ((P) - v0 < 4 ? (P) - v0 : 4) {                    \
        case 4: BODY(4); break;                                   \
        case 3: BODY(3); break;                                   \
        case 2: BODY(2); break;                                   \
        default: BODY(1); break;                                  \
        }                                                         \
    }

static __m512d lo_pd(__m512 a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
static __m512d hi_pd(__m512 a) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))); }

/* sum/sumsq lanes of channel vectors v0.. into per-channel doubles. */
static void fold_d(double *sum, double *sumsq, const __m512d *s, const __m512d *q, int C, int v0, int nvb)
{
    for (int v = 0; v < nvb; v++) {
        double t[32];
        _mm512_storeu_pd(t, s[2 * v]); _mm512_storeu_pd(t + 8, s[2 * v + 1]);
        _mm512_storeu_pd(t + 16, q[2 * v]); _mm512_storeu_pd(t + 24, q[2 * v + 1]);
        for (int l = 0; l < 16; l++) {
            int c = lane_chan(C, v0 + v, l);
            sum[c] += t[l];
            sumsq[c] += t[16 + l];
        }
    }
}

ALWAYS_INLINE void bn_stats_group(double *sum, double *sumsq, const float *x, size_t rows, int P, int C,
                                  int v0, const int NVB)
{
    __m512d s[8], q[8];
    for (int v = 0; v < 2 * NVB; v++) s[v] = q[v] = _mm512_setzero_pd();
    for (size_t r = 0; r < rows; r++) {
        const float *p = x + (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            __m512 a = _mm512_loadu_ps(p + 16 * v);
            __m512d lo = lo_pd(a), hi = hi_pd(a);
            s[2 * v] = _mm512_add_pd(s[2 * v], lo);
            s[2 * v + 1] = _mm512_add_pd(s[2 * v + 1], hi);
            q[2 * v] = _mm512_fmadd_pd(lo, lo, q[2 * v]);
            q[2 * v + 1] = _mm512_fmadd_pd(hi, hi, q[2 * v + 1]);
        }
    }
    fold_d(sum, sumsq, s, q, C, v0, NVB);
}

/* Per-channel double sums of x and x^2 over M rows of C channels. */
static void avx_bn_stats(double *sum, double *sumsq, const float *x, int M, int C)
{
    if (!vec_ok(C)) { kernels_ref.bn_stats(sum, sumsq, x, M, C); return; }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
    for (int c = 0; c < C; c++) sum[c] = sumsq[c] = 0.0;
#define BODY(n) bn_stats_group(sum, sumsq, x, rows, P, C, v0, n)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

ALWAYS_INLINE void bn_apply_group(float *y, const float *x, const float *scale, const float *shift, size_t rows,
                                  int P, int C, int v0, const int NVB, int relu)
{
    __m512 sc[4], sh[4], z = _mm512_setzero_ps();
    for (int v = 0; v < NVB; v++) { sc[v] = chan_vec(scale, C, v0 + v); sh[v] = chan_vec(shift, C, v0 + v); }
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            __m512 a = _mm512_fmadd_ps(_mm512_loadu_ps(x + o + 16 * v), sc[v], sh[v]);
            if (relu) a = _mm512_max_ps(a, z);
            _mm512_storeu_ps(y + o + 16 * v, a);
        }
    }
}

/* y = x*scale[c] + shift[c], then max(0, .) if relu. */
static void avx_bn_apply(float *y, const float *x, const float *scale, const float *shift,
                         int M, int C, int relu)
{
    if (!vec_ok(C)) { kernels_ref.bn_apply(y, x, scale, shift, M, C, relu); return; }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
#define BODY(n) bn_apply_group(y, x, scale, shift, rows, P, C, v0, n, relu)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

ALWAYS_INLINE void bn_bstats_group(double *sum_dy, double *sum_dy_xhat, const float *dy, const float *x,
                                   const float *mean, const float *invstd, size_t rows, int P, int C, int v0,
                                   const int NVB)
{
    __m512 mu[4], is[4];
    __m512d s[8], q[8];
    for (int v = 0; v < NVB; v++) { mu[v] = chan_vec(mean, C, v0 + v); is[v] = chan_vec(invstd, C, v0 + v); }
    for (int v = 0; v < 2 * NVB; v++) s[v] = q[v] = _mm512_setzero_pd();
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            __m512 d = _mm512_loadu_ps(dy + o + 16 * v);
            __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + o + 16 * v), mu[v]), is[v]);
            __m512d dlo = lo_pd(d), dhi = hi_pd(d);
            s[2 * v] = _mm512_add_pd(s[2 * v], dlo);
            s[2 * v + 1] = _mm512_add_pd(s[2 * v + 1], dhi);
            q[2 * v] = _mm512_fmadd_pd(dlo, lo_pd(xh), q[2 * v]);
            q[2 * v + 1] = _mm512_fmadd_pd(dhi, hi_pd(xh), q[2 * v + 1]);
        }
    }
    fold_d(sum_dy, sum_dy_xhat, s, q, C, v0, NVB);
}

static void avx_bn_backward_stats(double *sum_dy, double *sum_dy_xhat, const float *dy,
                                  const float *x, const float *mean, const float *invstd,
                                  int M, int C)
{
    if (!vec_ok(C)) {
        kernels_ref.bn_backward_stats(sum_dy, sum_dy_xhat, dy, x, mean, invstd, M, C);
        return;
    }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
    for (int c = 0; c < C; c++) sum_dy[c] = sum_dy_xhat[c] = 0.0;
#define BODY(n) bn_bstats_group(sum_dy, sum_dy_xhat, dy, x, mean, invstd, rows, P, C, v0, n)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

ALWAYS_INLINE void relu_bn_bstats_group(float *dyo, double *sum_dy, double *sum_dy_xhat, const float *dout,
                                        const float *y, const float *x, const float *mean, const float *invstd,
                                        size_t rows, int P, int C, int v0, const int NVB)
{
    __m512 mu[4], is[4], z = _mm512_setzero_ps();
    __m512d s[8], q[8];
    for (int v = 0; v < NVB; v++) { mu[v] = chan_vec(mean, C, v0 + v); is[v] = chan_vec(invstd, C, v0 + v); }
    for (int v = 0; v < 2 * NVB; v++) s[v] = q[v] = _mm512_setzero_pd();
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            size_t i = o + 16 * v;
            __mmask16 pos = _mm512_cmp_ps_mask(_mm512_loadu_ps(y + i), z, _CMP_GT_OQ);
            __m512 d = _mm512_maskz_loadu_ps(pos, dout + i);
            _mm512_storeu_ps(dyo + i, d);
            __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), mu[v]), is[v]);
            __m512d dlo = lo_pd(d), dhi = hi_pd(d);
            s[2 * v] = _mm512_add_pd(s[2 * v], dlo);
            s[2 * v + 1] = _mm512_add_pd(s[2 * v + 1], dhi);
            q[2 * v] = _mm512_fmadd_pd(dlo, lo_pd(xh), q[2 * v]);
            q[2 * v + 1] = _mm512_fmadd_pd(dhi, hi_pd(xh), q[2 * v + 1]);
        }
    }
    fold_d(sum_dy, sum_dy_xhat, s, q, C, v0, NVB);
}

static void avx_relu_bn_backward_stats(float *dy, double *sum_dy, double *sum_dy_xhat, const float *dout,
                                       const float *y, const float *x, const float *mean,
                                       const float *invstd, int M, int C)
{
    if (!vec_ok(C)) {
        kernels_ref.relu_bn_backward_stats(dy, sum_dy, sum_dy_xhat, dout, y, x, mean, invstd, M, C);
        return;
    }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
    for (int c = 0; c < C; c++) sum_dy[c] = sum_dy_xhat[c] = 0.0;
#define BODY(n) relu_bn_bstats_group(dy, sum_dy, sum_dy_xhat, dout, y, x, mean, invstd, rows, P, C, v0, n)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

ALWAYS_INLINE void bn_bdata_group(float *dx, const float *dy, const float *x, const float *mean,
                                  const float *invstd, const float *gamma, const float *mean_dy,
                                  const float *mean_dy_xhat, size_t rows, int P, int C, int v0, const int NVB,
                                  int accumulate)
{
    __m512 mu[4], is[4], gi[4], mdy[4], mdx[4];
    for (int v = 0; v < NVB; v++) {
        mu[v] = chan_vec(mean, C, v0 + v);
        is[v] = chan_vec(invstd, C, v0 + v);
        gi[v] = _mm512_mul_ps(chan_vec(gamma, C, v0 + v), is[v]);
        mdy[v] = chan_vec(mean_dy, C, v0 + v);
        mdx[v] = chan_vec(mean_dy_xhat, C, v0 + v);
    }
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            size_t i = o + 16 * v;
            __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), mu[v]), is[v]);
            __m512 g = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(dy + i), mdy[v]), _mm512_mul_ps(xh, mdx[v]));
            g = _mm512_mul_ps(gi[v], g);
            if (accumulate) g = _mm512_add_ps(_mm512_loadu_ps(dx + i), g);
            _mm512_storeu_ps(dx + i, g);
        }
    }
}

static void avx_bn_backward_data(float *dx, const float *dy, const float *x, const float *mean,
                                 const float *invstd, const float *gamma, const float *mean_dy,
                                 const float *mean_dy_xhat, int M, int C, int accumulate)
{
    if (!vec_ok(C)) {
        kernels_ref.bn_backward_data(dx, dy, x, mean, invstd, gamma, mean_dy, mean_dy_xhat, M, C,
                                     accumulate);
        return;
    }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
#define BODY(n) bn_bdata_group(dx, dy, x, mean, invstd, gamma, mean_dy, mean_dy_xhat, rows, P, C, v0, n, accumulate)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

static void avx_relu_forward(float *y, const float *x, size_t n)
{
    __m512 z = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), z));
    if (i < n) {
        __mmask16 m = tail_mask((int)(n - i));
        _mm512_mask_storeu_ps(y + i, m, _mm512_max_ps(_mm512_maskz_loadu_ps(m, x + i), z));
    }
}

static void avx_relu_backward(float *dx, const float *dy, const float *y, size_t n, int accumulate)
{
    __m512 z = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i < 16 ? (int)(n - i) : 16);
        __mmask16 pos = _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, y + i), z, _CMP_GT_OQ);
        __m512 g = _mm512_maskz_loadu_ps(pos, dy + i);
        if (accumulate) g = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dx + i), g);
        _mm512_mask_storeu_ps(dx + i, m, g);
    }
}

ALWAYS_INLINE void add_fwd_group(float *y, const float *a, const float *b, const float *scale, size_t rows,
                                 int P, int C, int v0, const int NVB)
{
    __m512 sc[4];
    for (int v = 0; v < NVB; v++) sc[v] = chan_vec(scale, C, v0 + v);
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++)
            _mm512_storeu_ps(y + o + 16 * v, _mm512_fmadd_ps(sc[v], _mm512_loadu_ps(b + o + 16 * v),
                                                             _mm512_loadu_ps(a + o + 16 * v)));
    }
}

static void avx_add_forward(float *y, const float *a, const float *b, const float *scale, int M, int C)
{
    if (!vec_ok(C)) { kernels_ref.add_forward(y, a, b, scale, M, C); return; }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
#define BODY(n) add_fwd_group(y, a, b, scale, rows, P, C, v0, n)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

ALWAYS_INLINE void add_bwd_group(float *da, float *db, float *dscale, const float *dy, const float *b,
                                 const float *scale, size_t rows, int P, int C, int v0, const int NVB,
                                 int accumulate_a, int accumulate_b)
{
    __m512 sc[4], ds[4];
    for (int v = 0; v < NVB; v++) { sc[v] = chan_vec(scale, C, v0 + v); ds[v] = _mm512_setzero_ps(); }
    for (size_t r = 0; r < rows; r++) {
        size_t o = (r * P + v0) * 16;
#pragma GCC unroll 4
        for (int v = 0; v < NVB; v++) {
            size_t i = o + 16 * v;
            __m512 g = _mm512_loadu_ps(dy + i);
            ds[v] = _mm512_fmadd_ps(g, _mm512_loadu_ps(b + i), ds[v]);
            __m512 ga = accumulate_a ? _mm512_add_ps(_mm512_loadu_ps(da + i), g) : g;
            __m512 gb = accumulate_b ? _mm512_fmadd_ps(sc[v], g, _mm512_loadu_ps(db + i)) : _mm512_mul_ps(sc[v], g);
            _mm512_storeu_ps(da + i, ga);
            _mm512_storeu_ps(db + i, gb);
        }
    }
    for (int v = 0; v < NVB; v++) {
        float t[16];
        _mm512_storeu_ps(t, ds[v]);
        for (int l = 0; l < 16; l++) dscale[lane_chan(C, v0 + v, l)] += t[l];
    }
}

static void avx_add_backward(float *da, float *db, float *dscale, const float *dy, const float *b,
                             const float *scale, int M, int C, int accumulate_a, int accumulate_b)
{
    if (!vec_ok(C)) {
        kernels_ref.add_backward(da, db, dscale, dy, b, scale, M, C, accumulate_a, accumulate_b);
        return;
    }
    int P = n_pat(C);
    size_t rows = (size_t)M * C / 16 / P;
    for (int c = 0; c < C; c++) dscale[c] = 0.0f;
#define BODY(n) add_bwd_group(da, db, dscale, dy, b, scale, rows, P, C, v0, n, accumulate_a, accumulate_b)
    CHANNEL_GROUPS(P, BODY)
#undef BODY
}

/* ------------------------------------------------------------- dense */

/* The dense weight w (K,10) read 8 rows (80 floats, 5 vectors) at a time:
 * lane l of vector q holds w[k0 + (16q+l)/10][(16q+l)%10]. */
static const int dense_row_of[80] = {
    0,0,0,0,0,0,0,0,0,0, 1,1,1,1,1,1,1,1,1,1, 2,2,2,2,2,2,2,2,2,2, 3,3,3,3,3,3,3,3,3,3,
    4,4,4,4,4,4,4,4,4,4, 5,5,5,5,5,5,5,5,5,5, 6,6,6,6,6,6,6,6,6,6, 7,7,7,7,7,7,7,7,7,7,
};

/* logits (n images, 10) for NI = 1..4 images at once, so each 8-row block
 * of w (5 vectors) is loaded once per NI images. */
ALWAYS_INLINE void dense_forward_group(float *logits, const float *x, const float *w, const float *bias,
                                       const int NI, int K, const __m512i idx[5])
{
    __m512 acc[4][5];
    int K8 = K & ~7;
#pragma GCC unroll 4
    for (int n = 0; n < NI; n++)
#pragma GCC unroll 5
        for (int q = 0; q < 5; q++) acc[n][q] = _mm512_setzero_ps();
    for (int k = 0; k < K8; k += 8) {
        const float *wr = w + (size_t)k * N_CLASSES;
        __m512 wv[5];
#pragma GCC unroll 5
        for (int q = 0; q < 5; q++) wv[q] = _mm512_loadu_ps(wr + 16 * q);
#pragma GCC unroll 4
        for (int n = 0; n < NI; n++) {
            __m512 xv = _mm512_castps256_ps512(_mm256_loadu_ps(x + (size_t)n * K + k));
#pragma GCC unroll 5
            for (int q = 0; q < 5; q++)
                acc[n][q] = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx[q], xv), wv[q], acc[n][q]);
        }
    }
    for (int n = 0; n < NI; n++) {
        float t[80], o[N_CLASSES];
        for (int q = 0; q < 5; q++) _mm512_storeu_ps(t + 16 * q, acc[n][q]);
        const float *xr = x + (size_t)n * K;
        for (int j = 0; j < N_CLASSES; j++) {
            float s = bias[j];
            for (int r = 0; r < 8; r++) s += t[10 * r + j];
            o[j] = s;
        }
        for (int k = K8; k < K; k++)
            for (int j = 0; j < N_CLASSES; j++) o[j] += xr[k] * w[(size_t)k * N_CLASSES + j];
        memcpy(logits + (size_t)n * N_CLASSES, o, sizeof o);
    }
}

/* logits (N,10) = x (N,K) . w (K,10) + bias: 8 rows of w (80 floats, 5
 * vectors) at a time, x[k..k+8) permuted to match their lanes. */
static void avx_dense_forward(float *logits, const float *x, const float *w, const float *bias, int N, int K)
{
    __m512i idx[5];
    for (int q = 0; q < 5; q++) idx[q] = _mm512_loadu_si512(dense_row_of + 16 * q);
    int n = 0;
    for (; n + 4 <= N; n += 4)
        dense_forward_group(logits + (size_t)n * N_CLASSES, x + (size_t)n * K, w, bias, 4, K, idx);
    for (; n < N; n++)
        dense_forward_group(logits + (size_t)n * N_CLASSES, x + (size_t)n * K, w, bias, 1, K, idx);
}

/* dx (N,K) (+)= dlogits (N,10) . w^T: per 16 rows of w, gather the ten
 * columns (lane = row) once and reuse them for every image. */
static void avx_dense_backward_data(float *dx, const float *dlogits, const float *w, int N, int K,
                                    int accumulate)
{
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(N_CLASSES));
    for (int k = 0; k < K; k += 16) {
        __mmask16 m = tail_mask(K - k);
        __m512 wc[N_CLASSES];
        for (int j = 0; j < N_CLASSES; j++)
            wc[j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, rows, w + (size_t)k * N_CLASSES + j, 4);
        for (int n = 0; n < N; n++) {
            const float *g = dlogits + (size_t)n * N_CLASSES;
            __m512 s = _mm512_mul_ps(_mm512_set1_ps(g[0]), wc[0]);
            for (int j = 1; j < N_CLASSES; j++) s = _mm512_fmadd_ps(_mm512_set1_ps(g[j]), wc[j], s);
            float *o = dx + (size_t)n * K + k;
            if (accumulate) s = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), s);
            _mm512_mask_storeu_ps(o, m, s);
        }
    }
}

/* dw rows [k0,k1) of (K,10) = sum over images 0..N-1 (in order) of
 * x^T . dlogits. Flat index i = 10k + j: 8 rows of dw are 5 vectors, updated
 * by x[k] (permuted to lanes) times dlogits[j] (a pattern repeating every 10
 * lanes). Every element is one fused multiply-add per image, in image order,
 * whichever path (block or tail) computes it, so any split of [0,K) gives
 * the same bits. Images go in groups of 64 whose patterns sit on the stack. */
static void avx_dense_backward_weights(float *dw, const float *x, const float *dlogits, int N, int K,
                                       int k0, int k1)
{
    enum { G = 64 };
    float gp[G][80];
    __m512i idx[5];
    for (int q = 0; q < 5; q++) idx[q] = _mm512_loadu_si512(dense_row_of + 16 * q);
    for (int k = k0; k < k1; k++)
        for (int j = 0; j < N_CLASSES; j++) dw[(size_t)k * N_CLASSES + j] = 0.0f;
    for (int n0 = 0; n0 < N; n0 += G) {
        int ng = N - n0 < G ? N - n0 : G;
        for (int n = 0; n < ng; n++)
            for (int i = 0; i < 80; i++) gp[n][i] = dlogits[(size_t)(n0 + n) * N_CLASSES + i % 10];
        int k = k0;
        for (; k + 8 <= k1; k += 8) {
            float *d = dw + (size_t)k * N_CLASSES;
            __m512 acc[5];
            for (int q = 0; q < 5; q++) acc[q] = _mm512_loadu_ps(d + 16 * q);
            const float *xr = x + (size_t)n0 * K + k;
            for (int n = 0; n < ng; n++, xr += K) {
                __m512 xv = _mm512_castps256_ps512(_mm256_loadu_ps(xr));
                for (int q = 0; q < 5; q++)
                    acc[q] = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx[q], xv), _mm512_loadu_ps(gp[n] + 16 * q), acc[q]);
            }
            for (int q = 0; q < 5; q++) _mm512_storeu_ps(d + 16 * q, acc[q]);
        }
        for (; k < k1; k++)
            for (int n = 0; n < ng; n++)
                for (int j = 0; j < N_CLASSES; j++)
                    dw[(size_t)k * N_CLASSES + j] = fmaf(x[(size_t)(n0 + n) * K + k], gp[n][j],
                                                         dw[(size_t)k * N_CLASSES + j]);
    }
}

/* ------------------------------------------------------------- adam */

static void avx_adam_update(float *p, const float *g, float *m, float *v, size_t n,
                            float lr_t, float beta1, float beta2, float eps)
{
    const __m512 b1 = _mm512_set1_ps(beta1), b2 = _mm512_set1_ps(beta2);
    const __m512 c1 = _mm512_set1_ps(1.0f - beta1), c2 = _mm512_set1_ps(1.0f - beta2);
    const __m512 lr = _mm512_set1_ps(lr_t), ep = _mm512_set1_ps(eps);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i < 16 ? (int)(n - i) : 16);
        __m512 gv = _mm512_maskz_loadu_ps(k, g + i);
        __m512 mv = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(k, m + i)), _mm512_mul_ps(c1, gv));
        __m512 vv = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(k, v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(c2, gv), gv));
        __m512 step = _mm512_div_ps(_mm512_mul_ps(lr, mv), _mm512_add_ps(_mm512_sqrt_ps(vv), ep));
        _mm512_mask_storeu_ps(m + i, k, mv);
        _mm512_mask_storeu_ps(v + i, k, vv);
        _mm512_mask_storeu_ps(p + i, k, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, p + i), step));
    }
}

const kernels_t kernels_avx512 = {
    .name = "avx512",
    .conv_forward = avx_conv_forward,
    .conv_flip_weights = avx_conv_flip_weights,
    .conv_backward_weights = avx_conv_backward_weights,
    .bn_stats = avx_bn_stats,
    .bn_apply = avx_bn_apply,
    .bn_backward_stats = avx_bn_backward_stats,
    .relu_bn_backward_stats = avx_relu_bn_backward_stats,
    .bn_backward_data = avx_bn_backward_data,
    .relu_forward = avx_relu_forward,
    .relu_backward = avx_relu_backward,
    .add_forward = avx_add_forward,
    .add_backward = avx_add_backward,
    .dense_forward = avx_dense_forward,
    .dense_backward_data = avx_dense_backward_data,
    .dense_backward_weights = avx_dense_backward_weights,
    .adam_update = avx_adam_update,
};
