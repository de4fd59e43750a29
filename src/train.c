/* train.c - training engine; see train.h.
 *
 * A step walks the node list forward, then backward, each layer as one or
 * two parallel loops over the batch's chunks. Reductions over images (BN
 * statistics, weight gradients, skip-scale gradients) are computed as
 * per-chunk partials and summed in chunk order afterwards. */
#include "train.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const timing_kind_names[T_KINDS] = {
    "conv_fwd", "conv_bwd_data", "conv_bwd_weights", "bn", "relu_add", "dense", "adam",
};

hyper_t hyper_default(void)
{
    return (hyper_t){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-7f,
                     .bn_momentum = 0.99f, .bn_eps = 1e-3f};
}

struct trainer {
    net_t *net;
    const kernels_t *k;
    pool_t *pool;
    hyper_t hp;
    int max_batch, max_chunks;

    float *arena;          /* every float buffer below points into it */
    float **act, **grad;   /* per node: (max_batch,28,28,C); act[0] is the input */
    uint8_t *grad_fresh;   /* per node: 0 until this step's first write */
    float *logits, *dlogits, *losses;          /* (max_batch,10), (max_batch,10), (max_batch) */
    float *bn_mean, *bn_invstd;                /* (n_nodes, F) saved batch statistics */
    float *bn_scale, *bn_shift;                /* (F) folded affine of the current BN */
    float *bn_mean_dy, *bn_mean_dy_xhat;       /* (F) */
    float *dparams, *adam_m, *adam_v;          /* (n_params) */
    float *fpartial;       /* (max_chunks, 9*F*F + F) conv/add partial gradients */
    double *dpartial;      /* (max_chunks, 2F) BN partial sums */
    float *wflip;          /* (3,3,F,F) flipped weights for backward-data */
    long adam_t;

    /* The layer the current parallel loop works on. */
    int cur, cur_N, cur_accumulate, cur_accumulate_b, cur_relu;
    const float *cur_x;
    const uint8_t *cur_y;

    int timing_on;
    double ms[T_KINDS];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Run fn over the current batch's chunks, charging the time to `kind`. */
static void run_chunks(trainer_t *t, int kind, pool_fn fn)
{
    double t0 = t->timing_on ? now_ms() : 0.0;
    int chunks = (t->cur_N + CHUNK_IMAGES - 1) / CHUNK_IMAGES;
    pool_run(t->pool, chunks, fn, t);
    if (t->timing_on) t->ms[kind] += now_ms() - t0;
}

static void chunk_range(const trainer_t *t, int chunk, int *n0, int *n)
{
    *n0 = chunk * CHUNK_IMAGES;
    *n = t->cur_N - *n0 < CHUNK_IMAGES ? t->cur_N - *n0 : CHUNK_IMAGES;
}

static size_t act_size(const trainer_t *t, int node)
{
    return (size_t)IMG_PIXELS * t->net->nodes[node].channels;
}

/* ---------------------------------------------------------------- setup */

trainer_t *trainer_create(net_t *net, int max_batch, pool_t *pool, const kernels_t *k,
                          hyper_t hp, err_t *err)
{
    trainer_t *t = calloc(1, sizeof *t);
    if (!t) { err_set(err, "out of memory"); return NULL; }
    const int nn = net->n_nodes, F = net->filters;
    t->net = net;
    t->k = k ? k : kernels_best();
    t->pool = pool;
    t->hp = hp;
    t->max_batch = max_batch;
    t->max_chunks = (max_batch + CHUNK_IMAGES - 1) / CHUNK_IMAGES;
    t->act = calloc((size_t)nn, sizeof *t->act);
    t->grad = calloc((size_t)nn, sizeof *t->grad);
    t->grad_fresh = calloc((size_t)nn, 1);
    t->dpartial = calloc((size_t)t->max_chunks * 2 * F, sizeof(double));
    if (!t->act || !t->grad || !t->grad_fresh || !t->dpartial) goto oom;

    /* Plan the arena: one pass to size it, one to hand out pointers. */
    size_t need = 0, B = (size_t)max_batch;
    need += B * IMG_PIXELS;                                    /* input */
    for (int i = 1; i < nn; i++) need += 2 * B * act_size(t, i);
    need += 2 * B * N_CLASSES + B;
    need += 2 * (size_t)nn * F + 4 * (size_t)F;
    need += 3 * net->n_params;
    need += (size_t)t->max_chunks * (9 * (size_t)F * F + F);
    need += 9 * (size_t)F * F;
    t->arena = aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64);
    if (!t->arena) goto oom;
    memset(t->arena, 0, need * sizeof(float));
    float *p = t->arena;
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
    TAKE(t->act[0], B * IMG_PIXELS);
    for (int i = 1; i < nn; i++) {
        TAKE(t->act[i], B * act_size(t, i));
        TAKE(t->grad[i], B * act_size(t, i));
    }
    TAKE(t->logits, B * N_CLASSES);
    TAKE(t->dlogits, B * N_CLASSES);
    TAKE(t->losses, B);
    TAKE(t->bn_mean, (size_t)nn * F);
    TAKE(t->bn_invstd, (size_t)nn * F);
    TAKE(t->bn_scale, F);
    TAKE(t->bn_shift, F);
    TAKE(t->bn_mean_dy, F);
    TAKE(t->bn_mean_dy_xhat, F);
    TAKE(t->dparams, net->n_params);
    TAKE(t->adam_m, net->n_params);
    TAKE(t->adam_v, net->n_params);
    TAKE(t->fpartial, (size_t)t->max_chunks * (9 * (size_t)F * F + F));
    TAKE(t->wflip, 9 * (size_t)F * F);
#undef TAKE
    return t;
oom:
    trainer_destroy(t);
    err_set(err, "out of memory for a trainer of %d nodes x %d filters x batch %d", nn, F, max_batch);
    return NULL;
}

void trainer_destroy(trainer_t *t)
{
    if (!t) return;
    free(t->arena);
    free(t->act);
    free(t->grad);
    free(t->grad_fresh);
    free(t->dpartial);
    free(t);
}

void trainer_reset_optimizer(trainer_t *t)
{
    memset(t->adam_m, 0, t->net->n_params * sizeof(float));
    memset(t->adam_v, 0, t->net->n_params * sizeof(float));
    t->adam_t = 0;
}

const float *trainer_activation(const trainer_t *t, int node) { return t->act[node]; }

void trainer_timing(const trainer_t *t, double ms[T_KINDS])
{
    memcpy(ms, t->ms, sizeof t->ms);
}

void trainer_timing_enable(trainer_t *t, int on)
{
    t->timing_on = on;
    memset(t->ms, 0, sizeof t->ms);
}

/* -------------------------------------------------------------- forward */

static void fwd_conv_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n;
    chunk_range(t, chunk, &n0, &n);
    int cin = node_in_channels(t->net, nd), F = nd->channels;
    const float *w = t->net->params + nd->p_off;
    t->k->conv_forward(t->act[t->cur] + (size_t)n0 * IMG_PIXELS * F,
                       t->act[nd->in[0]] + (size_t)n0 * IMG_PIXELS * cin,
                       w, w + (size_t)9 * cin * F, n, cin, F, 0);
}

static void fwd_bn_stats_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    double *part = t->dpartial + (size_t)chunk * 2 * F;
    t->k->bn_stats(part, part + F, t->act[nd->in[0]] + (size_t)n0 * IMG_PIXELS * F, n * IMG_PIXELS, F);
}

static void fwd_bn_apply_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->bn_apply(t->act[t->cur] + off, t->act[nd->in[0]] + off, t->bn_scale, t->bn_shift,
                   n * IMG_PIXELS, F, 0);
}

static void fwd_relu_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->relu_forward(t->act[t->cur] + off, t->act[nd->in[0]] + off, (size_t)n * IMG_PIXELS * F);
}

static void fwd_add_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->add_forward(t->act[t->cur] + off, t->act[nd->in[0]] + off, t->act[nd->in[1]] + off,
                      t->net->params + nd->p_off, n * IMG_PIXELS, F);
}

static void fwd_dense_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const net_t *net = t->net;
    int n0, n, last = net->n_nodes - 1;
    chunk_range(t, chunk, &n0, &n);
    int K = IMG_PIXELS * net->nodes[last].channels;
    const float *w = net->params + net->dense_off;
    t->k->dense_forward(t->logits + n0 * N_CLASSES, t->act[last] + (size_t)n0 * K, w,
                        w + (size_t)K * N_CLASSES, n, K);
    if (t->cur_y)
        softmax_xent(t->dlogits + n0 * N_CLASSES, t->losses + n0, t->logits + n0 * N_CLASSES,
                     t->cur_y + n0, n, 1.0f / (float)t->cur_N);
}

/* Batch norm in training mode: batch statistics, optionally updating the
 * running ones; or inference mode: running statistics. Sets bn_scale/shift
 * and saves mean/invstd for the backward pass. */
static void bn_prepare(trainer_t *t, int i, int training, int update_running)
{
    const net_t *net = t->net;
    const node_t *nd = &net->nodes[i];
    const int F = nd->channels;
    const float *gamma = net->params + nd->p_off, *beta = gamma + F;
    float *rmean = net->state + nd->s_off, *rvar = rmean + F;
    float *mean = t->bn_mean + (size_t)i * F, *invstd = t->bn_invstd + (size_t)i * F;
    if (training) {
        run_chunks(t, T_BN, fwd_bn_stats_chunk);
        int chunks = (t->cur_N + CHUNK_IMAGES - 1) / CHUNK_IMAGES;
        double M = (double)t->cur_N * IMG_PIXELS;
        for (int c = 0; c < F; c++) {
            double s = 0.0, ss = 0.0;
            for (int ch = 0; ch < chunks; ch++) {
                s += t->dpartial[(size_t)ch * 2 * F + c];
                ss += t->dpartial[(size_t)ch * 2 * F + F + c];
            }
            double mu = s / M, var = ss / M - mu * mu;
            if (var < 0.0) var = 0.0;
            mean[c] = (float)mu;
            invstd[c] = (float)(1.0 / sqrt(var + t->hp.bn_eps));
            if (update_running) {
                float m = t->hp.bn_momentum;
                rmean[c] = rmean[c] * m + (float)mu * (1.0f - m);
                rvar[c] = rvar[c] * m + (float)var * (1.0f - m);
            }
        }
    } else {
        for (int c = 0; c < F; c++) {
            mean[c] = rmean[c];
            invstd[c] = 1.0f / sqrtf(rvar[c] + t->hp.bn_eps);
        }
    }
    for (int c = 0; c < F; c++) {
        t->bn_scale[c] = gamma[c] * invstd[c];
        t->bn_shift[c] = beta[c] - mean[c] * t->bn_scale[c];
    }
}

static void forward(trainer_t *t, const float *x, const uint8_t *y, int N, int training,
                    int update_running)
{
    const net_t *net = t->net;
    memcpy(t->act[0], x, (size_t)N * IMG_PIXELS * sizeof(float));
    t->cur_N = N;
    t->cur_y = y;
    for (int i = 1; i < net->n_nodes; i++) {
        t->cur = i;
        switch (net->nodes[i].kind) {
        case NODE_CONV: run_chunks(t, T_CONV_FWD, fwd_conv_chunk); break;
        case NODE_BN:
            bn_prepare(t, i, training, update_running);
            run_chunks(t, T_BN, fwd_bn_apply_chunk);
            break;
        case NODE_RELU: run_chunks(t, T_RELU_ADD, fwd_relu_chunk); break;
        case NODE_ADD: run_chunks(t, T_RELU_ADD, fwd_add_chunk); break;
        case NODE_INPUT: break;
        }
    }
    run_chunks(t, T_DENSE, fwd_dense_chunk);
}

/* ------------------------------------------------------------- backward */

static void bwd_dense_data_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const net_t *net = t->net;
    int n0, n, last = net->n_nodes - 1;
    chunk_range(t, chunk, &n0, &n);
    int K = IMG_PIXELS * net->nodes[last].channels;
    t->k->dense_backward_data(t->grad[last] + (size_t)n0 * K, t->dlogits + n0 * N_CLASSES,
                              net->params + net->dense_off, n, K, 0);
}

/* Dense weight gradient: split over rows of w, each summing over all
 * images in order; task count = thread count. */
static void bwd_dense_weights_task(void *ctx, int task, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const net_t *net = t->net;
    int last = net->n_nodes - 1, T = pool_threads(t->pool);
    int K = IMG_PIXELS * net->nodes[last].channels;
    int k0 = (int)((long long)task * K / T), k1 = (int)((long long)(task + 1) * K / T);
    t->k->dense_backward_weights(t->dparams + net->dense_off, t->act[last], t->dlogits, t->cur_N, K,
                                 k0, k1);
}

static void bwd_conv_weights_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, cin = node_in_channels(t->net, nd), F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t sz = (size_t)9 * cin * F + F;
    float *part = t->fpartial + (size_t)chunk * sz;
    t->k->conv_backward_weights(part, part + (size_t)9 * cin * F,
                                t->act[nd->in[0]] + (size_t)n0 * IMG_PIXELS * cin,
                                t->grad[t->cur] + (size_t)n0 * IMG_PIXELS * F, n, cin, F);
}

static void bwd_conv_data_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, cin = node_in_channels(t->net, nd), F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    t->k->conv_forward(t->grad[nd->in[0]] + (size_t)n0 * IMG_PIXELS * cin,
                       t->grad[t->cur] + (size_t)n0 * IMG_PIXELS * F, t->wflip, NULL, n, F, cin,
                       t->cur_accumulate);
}

static void bwd_bn_stats_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    double *part = t->dpartial + (size_t)chunk * 2 * F;
    t->k->bn_backward_stats(part, part + F, t->grad[t->cur] + off, t->act[nd->in[0]] + off,
                            t->bn_mean + (size_t)t->cur * F, t->bn_invstd + (size_t)t->cur * F,
                            n * IMG_PIXELS, F);
}

static void bwd_bn_data_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->bn_backward_data(t->grad[nd->in[0]] + off, t->grad[t->cur] + off, t->act[nd->in[0]] + off,
                           t->bn_mean + (size_t)t->cur * F, t->bn_invstd + (size_t)t->cur * F,
                           t->net->params + nd->p_off, t->bn_mean_dy, t->bn_mean_dy_xhat,
                           n * IMG_PIXELS, F, t->cur_accumulate);
}

static void bwd_relu_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->relu_backward(t->grad[nd->in[0]] + off, t->grad[t->cur] + off, t->act[t->cur] + off,
                        (size_t)n * IMG_PIXELS * F, t->cur_accumulate);
}

static void bwd_add_chunk(void *ctx, int chunk, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    const node_t *nd = &t->net->nodes[t->cur];
    int n0, n, F = nd->channels;
    chunk_range(t, chunk, &n0, &n);
    size_t off = (size_t)n0 * IMG_PIXELS * F;
    t->k->add_backward(t->grad[nd->in[0]] + off, t->grad[nd->in[1]] + off,
                       t->fpartial + (size_t)chunk * F, t->grad[t->cur] + off,
                       t->act[nd->in[1]] + off, t->net->params + nd->p_off, n * IMG_PIXELS, F,
                       t->cur_accumulate, t->cur_accumulate_b);
}

/* Whether a write into node j's gradient must add to what is there, and
 * mark it written. */
static int claim_grad(trainer_t *t, int j)
{
    int acc = t->grad_fresh[j];
    t->grad_fresh[j] = 1;
    return acc;
}

static void sum_partials(float *dst, const float *parts, int chunks, size_t stride, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int ch = 0; ch < chunks; ch++) s += parts[(size_t)ch * stride + i];
        dst[i] = s;
    }
}

static void backward(trainer_t *t)
{
    const net_t *net = t->net;
    const int N = t->cur_N, chunks = (N + CHUNK_IMAGES - 1) / CHUNK_IMAGES;
    const int last = net->n_nodes - 1;
    memset(t->grad_fresh, 0, (size_t)net->n_nodes);

    double t0 = t->timing_on ? now_ms() : 0.0;
    pool_run(t->pool, pool_threads(t->pool), bwd_dense_weights_task, t);
    float *db = t->dparams + net->dense_off + (size_t)IMG_PIXELS * net->nodes[last].channels * N_CLASSES;
    for (int j = 0; j < N_CLASSES; j++) {
        float s = 0.0f;
        for (int n = 0; n < N; n++) s += t->dlogits[n * N_CLASSES + j];
        db[j] = s;
    }
    if (t->timing_on) t->ms[T_DENSE] += now_ms() - t0;
    claim_grad(t, last);
    run_chunks(t, T_DENSE, bwd_dense_data_chunk);

    for (int i = last; i >= 1; i--) {
        const node_t *nd = &net->nodes[i];
        const int F = nd->channels;
        t->cur = i;
        switch (nd->kind) {
        case NODE_CONV: {
            int cin = node_in_channels(net, nd);
            size_t sz = (size_t)9 * cin * F + F;
            run_chunks(t, T_CONV_BWD_WEIGHTS, bwd_conv_weights_chunk);
            double t1 = t->timing_on ? now_ms() : 0.0;
            sum_partials(t->dparams + nd->p_off, t->fpartial, chunks, sz, sz);
            if (t->timing_on) t->ms[T_CONV_BWD_WEIGHTS] += now_ms() - t1;
            if (nd->in[0] != 0) {
                t->k->conv_flip_weights(t->wflip, net->params + nd->p_off, cin, F);
                t->cur_accumulate = claim_grad(t, nd->in[0]);
                run_chunks(t, T_CONV_BWD_DATA, bwd_conv_data_chunk);
            }
            break;
        }
        case NODE_BN: {
            run_chunks(t, T_BN, bwd_bn_stats_chunk);
            float *dgamma = t->dparams + nd->p_off, *dbeta = dgamma + F;
            double M = (double)N * IMG_PIXELS;
            for (int c = 0; c < F; c++) {
                double s = 0.0, sx = 0.0;
                for (int ch = 0; ch < chunks; ch++) {
                    s += t->dpartial[(size_t)ch * 2 * F + c];
                    sx += t->dpartial[(size_t)ch * 2 * F + F + c];
                }
                dbeta[c] = (float)s;
                dgamma[c] = (float)sx;
                t->bn_mean_dy[c] = (float)(s / M);
                t->bn_mean_dy_xhat[c] = (float)(sx / M);
            }
            t->cur_accumulate = claim_grad(t, nd->in[0]);
            run_chunks(t, T_BN, bwd_bn_data_chunk);
            break;
        }
        case NODE_RELU:
            t->cur_accumulate = claim_grad(t, nd->in[0]);
            run_chunks(t, T_RELU_ADD, bwd_relu_chunk);
            break;
        case NODE_ADD:
            t->cur_accumulate = claim_grad(t, nd->in[0]);
            t->cur_accumulate_b = claim_grad(t, nd->in[1]);
            run_chunks(t, T_RELU_ADD, bwd_add_chunk);
            sum_partials(t->dparams + nd->p_off, t->fpartial, chunks, (size_t)F, (size_t)F);
            break;
        case NODE_INPUT: break;
        }
    }
}

/* ----------------------------------------------------------------- adam */

static void adam_task(void *ctx, int task, int thread)
{
    (void)thread;
    trainer_t *t = ctx;
    size_t n = t->net->n_params, T = (size_t)pool_threads(t->pool);
    /* Cut at multiples of 16 floats so vector kernels see aligned blocks. */
    size_t lo = (n * (size_t)task / T) & ~(size_t)15, hi = (n * (size_t)(task + 1) / T) & ~(size_t)15;
    if ((size_t)task + 1 == T) hi = n;
    double b1t = pow(t->hp.beta1, (double)t->adam_t), b2t = pow(t->hp.beta2, (double)t->adam_t);
    float lr_t = (float)(t->hp.lr * sqrt(1.0 - b2t) / (1.0 - b1t));
    t->k->adam_update(t->net->params + lo, t->dparams + lo, t->adam_m + lo, t->adam_v + lo, hi - lo,
                      lr_t, t->hp.beta1, t->hp.beta2, t->hp.eps);
}

/* -------------------------------------------------------------- public */

/* Sum of the per-image losses of the last forward, and the number of
 * correct predictions. */
static double batch_loss_sum(const trainer_t *t, const uint8_t *y, int N, int *correct)
{
    double s = 0.0;
    int ok = 0;
    for (int n = 0; n < N; n++) {
        s += t->losses[n];
        const float *z = t->logits + n * N_CLASSES;
        int best = 0;
        for (int j = 1; j < N_CLASSES; j++) if (z[j] > z[best]) best = j;
        ok += best == y[n];
    }
    if (correct) *correct = ok;
    return s;
}

float trainer_step(trainer_t *t, const float *x, const uint8_t *y, int N, int *correct)
{
    forward(t, x, y, N, 1, 1);
    backward(t);
    t->adam_t++;
    double t0 = t->timing_on ? now_ms() : 0.0;
    pool_run(t->pool, pool_threads(t->pool), adam_task, t);
    if (t->timing_on) t->ms[T_ADAM] += now_ms() - t0;
    return (float)(batch_loss_sum(t, y, N, correct) / N);
}

const float *trainer_forward(trainer_t *t, const float *x, const uint8_t *y, int N, int training,
                             float *loss)
{
    forward(t, x, y, N, training, 0);
    if (loss && y) memcpy(loss, t->losses, (size_t)N * sizeof(float));
    return t->logits;
}

const float *trainer_gradient(trainer_t *t, const float *x, const uint8_t *y, int N, float *loss,
                              float *dinput)
{
    forward(t, x, y, N, 1, 0);
    backward(t);
    *loss = (float)(batch_loss_sum(t, y, N, NULL) / N);
    if (dinput) {
        /* The engine never needs d(loss)/d(image); compute it here from the
         * first conv's output gradient for the gradient checks. */
        const node_t *c1 = &t->net->nodes[1];
        int F = c1->channels;
        t->k->conv_flip_weights(t->wflip, t->net->params + c1->p_off, 1, F);
        t->k->conv_forward(dinput, t->grad[1], t->wflip, NULL, N, F, 1, 0);
    }
    return t->dparams;
}

/* --------------------------------------------------------------- epochs */

int train_epoch(trainer_t *t, const split_t *s, rng_t *rng, epoch_stats_t *st, batch_cb cb, void *ctx)
{
    const int B = t->max_batch;
    int *order = malloc(sizeof *order * (size_t)s->n);
    float *xb = malloc(sizeof *xb * (size_t)B * IMG_PIXELS);
    uint8_t *yb = malloc((size_t)B);
    memset(st, 0, sizeof *st);
    if (!order || !xb || !yb) {
        free(order); free(xb); free(yb);
        return -1;
    }
    for (int i = 0; i < s->n; i++) order[i] = i;
    rng_shuffle(rng, order, (size_t)s->n);
    int n_batches = (s->n + B - 1) / B, stopped = 0;
    double loss_sum = 0.0;
    long correct_sum = 0;
    for (int b = 0; b < n_batches; b++) {
        int n = s->n - b * B < B ? s->n - b * B : B;
        for (int i = 0; i < n; i++) {
            int src = order[b * B + i];
            memcpy(xb + (size_t)i * IMG_PIXELS, s->x + (size_t)src * IMG_PIXELS, IMG_PIXELS * sizeof(float));
            yb[i] = s->y[src];
        }
        int correct;
        float loss = trainer_step(t, xb, yb, n, &correct);
        loss_sum += (double)loss * n;
        correct_sum += correct;
        st->images += n;
        if (cb && cb(ctx, b + 1, n_batches, st->images)) { stopped = 1; break; }
    }
    if (st->images) {
        st->loss = loss_sum / st->images;
        st->acc = (double)correct_sum / st->images;
    }
    free(order); free(xb); free(yb);
    return stopped;
}

void evaluate(trainer_t *t, const split_t *s, epoch_stats_t *st)
{
    const int B = t->max_batch;
    double loss_sum = 0.0;
    long correct = 0;
    for (int b = 0; b * B < s->n; b++) {
        int n = s->n - b * B < B ? s->n - b * B : B;
        const uint8_t *y = s->y + (size_t)b * B;
        forward(t, s->x + (size_t)b * B * IMG_PIXELS, y, n, 0, 0);
        int ok;
        loss_sum += batch_loss_sum(t, y, n, &ok);
        correct += ok;
    }
    st->images = s->n;
    st->loss = s->n ? loss_sum / s->n : 0.0;
    st->acc = s->n ? (double)correct / s->n : 0.0;
}
