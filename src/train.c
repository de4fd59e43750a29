/* train.c - training engine; see train.h.
 *
 * A step walks the node list in stages. A stage is one parallel loop over
 * the batch's chunks in which every image of a chunk goes through a run of
 * consecutive layers before the next image starts, so an image's
 * activations (at most 28*28*64 floats = 200 KB) stay in the core's L2
 * cache from one layer to the next. Stages end where a batch-wide
 * reduction is needed: the statistics of a batch norm in training (forward)
 * and its two gradient sums (backward). Reductions over images (BN
 * statistics, weight gradients, skip-scale gradients) are per-chunk partials
 * accumulated image by image in order and summed in chunk order afterwards,
 * so results are bit-identical for any thread count.
 *
 * A BN whose only consumer is the ReLU right after it is applied together
 * with that ReLU (one pass, the BN's own output is not stored; see
 * trainer_activation). */
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
    int max_batch, max_chunks, threads;

    float *arena;          /* every float buffer below points into it */
    float **act, **grad;   /* per node: (max_batch,28,28,C); act[0] is the input */
    float **part;          /* per conv node (max_chunks, 9*Cin*F + F), per add (max_chunks, F) */
    float **wflip;         /* per conv node: (3,3,F,Cin) flipped weights for backward-data */
    uint8_t *fused;        /* per node: 1 for a BN applied together with the ReLU after it */
    uint8_t *act_stale;    /* per node: act[] not materialised by the last forward (fused BN) */
    uint8_t *acc_a, *acc_b; /* per node: backward writes into grad[in[0]] / grad[in[1]] accumulate */
    float *logits, *dlogits, *losses;          /* (max_batch,10), (max_batch,10), (max_batch) */
    float *bn_mean, *bn_invstd;                /* (n_nodes, F) saved batch statistics */
    float *bn_scale, *bn_shift;                /* (n_nodes, F) folded affine of each BN */
    float *bn_mean_dy, *bn_mean_dy_xhat;       /* (F) of the BN whose data pass is next */
    float *dparams, *adam_m, *adam_v;          /* (n_params) */
    float *scr_f;          /* (threads, 9*F*F + F) per-image partials before accumulation */
    double *dpartial;      /* (max_chunks, 2F) BN partial sums */
    double *scr_d;         /* (threads, 2F) per-image BN sums before accumulation */
    long adam_t;

    /* The stage the current parallel loop works on. Forward: nodes lo..hi
     * ascending, then the statistics of BN `stats` (or the dense layer if
     * stats < 0). Backward: the dense layer's data gradient if dense, nodes
     * hi..lo descending (BN `bn_data` by its data pass), then the gradient
     * sums of BN `stats` if stats >= 0. */
    int st_lo, st_hi, st_stats, st_bn_data, st_dense;
    int cur_N;
    const uint8_t *cur_y;

    int timing_on;
    double ms[T_KINDS];    /* serial parts, wall time */
    double *tms;           /* (threads, T_KINDS) time inside parallel loops per thread */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Run `stmt` inside a parallel loop, charging its time to `kind` on this
 * thread when timing is on. */
#define TIMED(kind, stmt)                                                   \
    do {                                                                    \
        if (t->timing_on) {                                                 \
            double t0_ = now_ms();                                          \
            stmt;                                                           \
            t->tms[(size_t)thread * T_KINDS + (kind)] += now_ms() - t0_;   \
        } else {                                                            \
            stmt;                                                           \
        }                                                                   \
    } while (0)

static int n_chunks(const trainer_t *t) { return (t->cur_N + CHUNK_IMAGES - 1) / CHUNK_IMAGES; }

static void run_chunks(trainer_t *t, pool_fn fn) { pool_run(t->pool, n_chunks(t), fn, t); }

static void chunk_range(const trainer_t *t, int chunk, int *n0, int *n)
{
    *n0 = chunk * CHUNK_IMAGES;
    *n = t->cur_N - *n0 < CHUNK_IMAGES ? t->cur_N - *n0 : CHUNK_IMAGES;
}

static size_t act_size(const trainer_t *t, int node)
{
    return (size_t)IMG_PIXELS * t->net->nodes[node].channels;
}

/* Floats of node i's per-chunk partial gradient block. */
static size_t part_size(const net_t *net, int i)
{
    const node_t *nd = &net->nodes[i];
    if (nd->kind == NODE_CONV) return (size_t)9 * node_in_channels(net, nd) * nd->channels + nd->channels;
    if (nd->kind == NODE_ADD) return (size_t)nd->channels;
    return 0;
}

/* Whether BN node i can be applied together with the ReLU after it: that
 * ReLU is its only consumer. */
static int fusable_bn_relu(const net_t *net, int i)
{
    if (net->nodes[i].kind != NODE_BN || i + 1 >= net->n_nodes) return 0;
    const node_t *r = &net->nodes[i + 1];
    if (r->kind != NODE_RELU || r->in[0] != i) return 0;
    for (int j = i + 2; j < net->n_nodes; j++)
        if (net->nodes[j].in[0] == i || net->nodes[j].in[1] == i) return 0;
    return 1;
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
    t->threads = pool_threads(pool);
    t->act = calloc((size_t)nn, sizeof *t->act);
    t->grad = calloc((size_t)nn, sizeof *t->grad);
    t->part = calloc((size_t)nn, sizeof *t->part);
    t->wflip = calloc((size_t)nn, sizeof *t->wflip);
    t->fused = calloc((size_t)nn, 4);
    t->dpartial = calloc((size_t)t->max_chunks * 2 * F, sizeof(double));
    t->scr_d = calloc((size_t)t->threads * 2 * F, sizeof(double));
    t->tms = calloc((size_t)t->threads * T_KINDS, sizeof(double));
    if (!t->act || !t->grad || !t->part || !t->wflip || !t->fused || !t->dpartial || !t->scr_d || !t->tms)
        goto oom;
    t->act_stale = t->fused + nn;
    t->acc_a = t->fused + 2 * nn;
    t->acc_b = t->fused + 3 * nn;
    for (int i = 1; i < nn; i++) t->fused[i] = (uint8_t)fusable_bn_relu(net, i);

    /* Plan the arena: one pass to size it, one to hand out pointers. */
    size_t need = 0, B = (size_t)max_batch;
    need += B * IMG_PIXELS;                                    /* input */
    for (int i = 1; i < nn; i++) {
        need += 2 * B * act_size(t, i);
        need += (size_t)t->max_chunks * part_size(net, i);
        if (net->nodes[i].kind == NODE_CONV) need += 9 * (size_t)node_in_channels(net, &net->nodes[i]) * F;
    }
    need += 2 * B * N_CLASSES + B;
    need += 4 * (size_t)nn * F + 2 * (size_t)F;
    need += 3 * net->n_params;
    need += (size_t)t->threads * (9 * (size_t)F * F + F);
    t->arena = aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64);
    if (!t->arena) goto oom;
    memset(t->arena, 0, need * sizeof(float));
    float *p = t->arena;
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
    TAKE(t->act[0], B * IMG_PIXELS);
    for (int i = 1; i < nn; i++) {
        TAKE(t->act[i], B * act_size(t, i));
        TAKE(t->grad[i], B * act_size(t, i));
        if (part_size(net, i)) TAKE(t->part[i], (size_t)t->max_chunks * part_size(net, i));
        if (net->nodes[i].kind == NODE_CONV)
            TAKE(t->wflip[i], 9 * (size_t)node_in_channels(net, &net->nodes[i]) * F);
    }
    TAKE(t->logits, B * N_CLASSES);
    TAKE(t->dlogits, B * N_CLASSES);
    TAKE(t->losses, B);
    TAKE(t->bn_mean, (size_t)nn * F);
    TAKE(t->bn_invstd, (size_t)nn * F);
    TAKE(t->bn_scale, (size_t)nn * F);
    TAKE(t->bn_shift, (size_t)nn * F);
    TAKE(t->bn_mean_dy, F);
    TAKE(t->bn_mean_dy_xhat, F);
    TAKE(t->dparams, net->n_params);
    TAKE(t->adam_m, net->n_params);
    TAKE(t->adam_v, net->n_params);
    TAKE(t->scr_f, (size_t)t->threads * (9 * (size_t)F * F + F));
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
    free(t->part);
    free(t->wflip);
    free(t->fused);
    free(t->dpartial);
    free(t->scr_d);
    free(t->tms);
    free(t);
}

void trainer_reset_optimizer(trainer_t *t)
{
    memset(t->adam_m, 0, t->net->n_params * sizeof(float));
    memset(t->adam_v, 0, t->net->n_params * sizeof(float));
    t->adam_t = 0;
}

/* A BN fused with its ReLU does not store its output during the forward;
 * it is computed here, on request, from the same inputs with the same
 * kernel, so the caller sees exactly what an unfused forward would have
 * stored. (The trainer is not const at heart: the buffer is its own.) */
const float *trainer_activation(const trainer_t *tc, int node)
{
    trainer_t *t = (trainer_t *)tc;
    if (t->act_stale[node]) {
        const node_t *nd = &t->net->nodes[node];
        int F = nd->channels;
        t->k->bn_apply(t->act[node], t->act[nd->in[0]], t->bn_scale + (size_t)node * F,
                       t->bn_shift + (size_t)node * F, t->cur_N * IMG_PIXELS, F, 0);
        t->act_stale[node] = 0;
    }
    return t->act[node];
}

void trainer_timing(const trainer_t *t, double ms[T_KINDS])
{
    for (int k = 0; k < T_KINDS; k++) {
        double s = 0.0;
        for (int th = 0; th < t->threads; th++) s += t->tms[(size_t)th * T_KINDS + k];
        ms[k] = t->ms[k] + s / t->threads;
    }
}

void trainer_timing_enable(trainer_t *t, int on)
{
    t->timing_on = on;
    memset(t->ms, 0, sizeof t->ms);
    memset(t->tms, 0, sizeof(double) * (size_t)t->threads * T_KINDS);
}

/* Accumulate n doubles / floats of an image's partial into a chunk's. */
static void add_d(double *dst, const double *src, int n) { for (int i = 0; i < n; i++) dst[i] += src[i]; }
static void add_f(float *dst, const float *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] += src[i]; }

/* -------------------------------------------------------------- forward */

static void fwd_stage_chunk(void *ctx, int chunk, int thread)
{
    trainer_t *t = ctx;
    const net_t *net = t->net;
    const kernels_t *k = t->k;
    const int F = net->filters, last = net->n_nodes - 1;
    const size_t img = (size_t)IMG_PIXELS * F;
    int n0, n;
    chunk_range(t, chunk, &n0, &n);
    for (int im = n0; im < n0 + n; im++) {
        const size_t off = (size_t)im * img;
        for (int i = t->st_lo; i <= t->st_hi; i++) {
            const node_t *nd = &net->nodes[i];
            switch (nd->kind) {
            case NODE_CONV: {
                int cin = node_in_channels(net, nd);
                const float *w = net->params + nd->p_off;
                TIMED(T_CONV_FWD, k->conv_forward(t->act[i] + off, t->act[nd->in[0]] + (size_t)im * IMG_PIXELS * cin,
                                                  w, w + (size_t)9 * cin * F, 1, cin, F, 0));
                break;
            }
            case NODE_BN: {
                int fuse = t->fused[i];
                float *out = fuse ? t->act[i + 1] : t->act[i];
                TIMED(T_BN, k->bn_apply(out + off, t->act[nd->in[0]] + off, t->bn_scale + (size_t)i * F,
                                        t->bn_shift + (size_t)i * F, IMG_PIXELS, F, fuse));
                i += fuse;
                break;
            }
            case NODE_RELU:
                TIMED(T_RELU_ADD, k->relu_forward(t->act[i] + off, t->act[nd->in[0]] + off, img));
                break;
            case NODE_ADD:
                TIMED(T_RELU_ADD, k->add_forward(t->act[i] + off, t->act[nd->in[0]] + off, t->act[nd->in[1]] + off,
                                                 net->params + nd->p_off, IMG_PIXELS, F));
                break;
            case NODE_INPUT: break;
            }
        }
        if (t->st_stats >= 0) {
            const float *x = t->act[net->nodes[t->st_stats].in[0]] + off;
            double *part = t->dpartial + (size_t)chunk * 2 * F;
            if (im == n0) {
                TIMED(T_BN, k->bn_stats(part, part + F, x, IMG_PIXELS, F));
            } else {
                double *s = t->scr_d + (size_t)thread * 2 * F;
                TIMED(T_BN, k->bn_stats(s, s + F, x, IMG_PIXELS, F); add_d(part, s, 2 * F));
            }
        }
    }
    if (t->st_stats >= 0) return;
    /* The dense layer per chunk: the kernel shares each load of w among
     * several images. */
    const int K = IMG_PIXELS * F;
    const float *w = net->params + net->dense_off;
    TIMED(T_DENSE, k->dense_forward(t->logits + (size_t)n0 * N_CLASSES, t->act[last] + (size_t)n0 * K, w,
                                    w + (size_t)K * N_CLASSES, n, K));
    if (t->cur_y)
        TIMED(T_DENSE, softmax_xent(t->dlogits + n0 * N_CLASSES, t->losses + n0, t->logits + n0 * N_CLASSES,
                                    t->cur_y + n0, n, 1.0f / (float)t->cur_N));
}

/* Batch norm i's affine map. Training: from the batch statistics summed in
 * dpartial (and optionally updating the running ones); inference: from the
 * running statistics. Saves mean/invstd for the backward pass. */
static void bn_finish(trainer_t *t, int i, int training, int update_running)
{
    const net_t *net = t->net;
    const node_t *nd = &net->nodes[i];
    const int F = nd->channels;
    const float *gamma = net->params + nd->p_off, *beta = gamma + F;
    float *rmean = net->state + nd->s_off, *rvar = rmean + F;
    float *mean = t->bn_mean + (size_t)i * F, *invstd = t->bn_invstd + (size_t)i * F;
    if (training) {
        int chunks = n_chunks(t);
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
    float *scale = t->bn_scale + (size_t)i * F, *shift = t->bn_shift + (size_t)i * F;
    for (int c = 0; c < F; c++) {
        scale[c] = gamma[c] * invstd[c];
        shift[c] = beta[c] - mean[c] * scale[c];
    }
}

static void forward(trainer_t *t, const float *x, const uint8_t *y, int N, int training,
                    int update_running)
{
    const net_t *net = t->net;
    const int nn = net->n_nodes;
    memcpy(t->act[0], x, (size_t)N * IMG_PIXELS * sizeof(float));
    t->cur_N = N;
    t->cur_y = y;
    for (int i = 1; i < nn; i++) {
        t->act_stale[i] = t->fused[i];
        if (!training && net->nodes[i].kind == NODE_BN) bn_finish(t, i, 0, 0);
    }
    /* Stages: up to (not including) the next BN whose batch statistics are
     * still unknown; that BN starts the next stage. */
    int lo = 1;
    for (;;) {
        int stats = -1;
        if (training)
            for (int j = lo; j < nn; j++)
                if (net->nodes[j].kind == NODE_BN && !(j == lo && lo > 1)) { stats = j; break; }
        t->st_lo = lo;
        t->st_hi = stats >= 0 ? stats - 1 : nn - 1;
        t->st_stats = stats;
        run_chunks(t, fwd_stage_chunk);
        if (stats < 0) break;
        double t0 = t->timing_on ? now_ms() : 0.0;
        bn_finish(t, stats, 1, update_running);
        if (t->timing_on) t->ms[T_BN] += now_ms() - t0;
        lo = stats;
    }
}

/* ------------------------------------------------------------- backward */

/* Dense weight gradient: split over rows of w, each summing over all
 * images in order; task count = thread count. */
static void bwd_dense_weights_task(void *ctx, int task, int thread)
{
    trainer_t *t = ctx;
    const net_t *net = t->net;
    int last = net->n_nodes - 1, T = pool_threads(t->pool);
    int K = IMG_PIXELS * net->nodes[last].channels;
    int k0 = (int)((long long)task * K / T), k1 = (int)((long long)(task + 1) * K / T);
    TIMED(T_DENSE, t->k->dense_backward_weights(t->dparams + net->dense_off, t->act[last], t->dlogits,
                                                t->cur_N, K, k0, k1));
}

static void bwd_stage_chunk(void *ctx, int chunk, int thread)
{
    trainer_t *t = ctx;
    const net_t *net = t->net;
    const kernels_t *k = t->k;
    const int F = net->filters, last = net->n_nodes - 1;
    const size_t img = (size_t)IMG_PIXELS * F;
    int n0, n;
    chunk_range(t, chunk, &n0, &n);
    if (t->st_dense)   /* per chunk: the kernel reuses each column of w for all images */
        TIMED(T_DENSE, k->dense_backward_data(t->grad[last] + (size_t)n0 * img, t->dlogits + (size_t)n0 * N_CLASSES,
                                              net->params + net->dense_off, n, (int)img, 0));
    for (int im = n0; im < n0 + n; im++) {
        const size_t off = (size_t)im * img;
        const int first = im == n0;
        for (int i = t->st_hi; i >= t->st_lo; i--) {
            const node_t *nd = &net->nodes[i];
            switch (nd->kind) {
            case NODE_CONV: {
                int cin = node_in_channels(net, nd);
                size_t psz = part_size(net, i);
                const float *in = t->act[nd->in[0]] + (size_t)im * IMG_PIXELS * cin;
                float *part = t->part[i] + (size_t)chunk * psz;
                if (first) {
                    TIMED(T_CONV_BWD_WEIGHTS, k->conv_backward_weights(part, part + psz - F, in, t->grad[i] + off,
                                                                       1, cin, F));
                } else {
                    float *s = t->scr_f + (size_t)thread * (9 * (size_t)F * F + F);
                    TIMED(T_CONV_BWD_WEIGHTS, k->conv_backward_weights(s, s + psz - F, in, t->grad[i] + off, 1, cin, F);
                          add_f(part, s, psz));
                }
                if (nd->in[0] != 0)
                    TIMED(T_CONV_BWD_DATA, k->conv_forward(t->grad[nd->in[0]] + (size_t)im * IMG_PIXELS * cin,
                                                           t->grad[i] + off, t->wflip[i], NULL, 1, F, cin,
                                                           t->acc_a[i]));
                break;
            }
            case NODE_BN:
                /* Only the stage's first node can be a BN here (its data pass). */
                TIMED(T_BN, k->bn_backward_data(t->grad[nd->in[0]] + off, t->grad[i] + off, t->act[nd->in[0]] + off,
                                                t->bn_mean + (size_t)i * F, t->bn_invstd + (size_t)i * F,
                                                net->params + nd->p_off, t->bn_mean_dy, t->bn_mean_dy_xhat,
                                                IMG_PIXELS, F, t->acc_a[i]));
                break;
            case NODE_RELU:
                /* A ReLU fused with the BN before it, whose sums end this
                 * stage: done together with those sums below. */
                if (t->st_stats >= 0 && i == t->st_stats + 1 && t->fused[t->st_stats]) break;
                TIMED(T_RELU_ADD, k->relu_backward(t->grad[nd->in[0]] + off, t->grad[i] + off, t->act[i] + off, img,
                                                   t->acc_a[i]));
                break;
            case NODE_ADD: {
                float *part = t->part[i] + (size_t)chunk * F;
                float *ds = first ? part : t->scr_f + (size_t)thread * (9 * (size_t)F * F + F);
                TIMED(T_RELU_ADD, k->add_backward(t->grad[nd->in[0]] + off, t->grad[nd->in[1]] + off, ds,
                                                  t->grad[i] + off, t->act[nd->in[1]] + off, net->params + nd->p_off,
                                                  IMG_PIXELS, F, t->acc_a[i], t->acc_b[i]);
                      if (!first) add_f(part, ds, (size_t)F));
                break;
            }
            case NODE_INPUT: break;
            }
        }
        if (t->st_stats >= 0) {
            const int b = t->st_stats;
            const node_t *nd = &net->nodes[b];
            double *part = t->dpartial + (size_t)chunk * 2 * F;
            double *s = first ? part : t->scr_d + (size_t)thread * 2 * F;
            if (t->fused[b])
                TIMED(T_BN, k->relu_bn_backward_stats(t->grad[b] + off, s, s + F, t->grad[b + 1] + off,
                                                      t->act[b + 1] + off, t->act[nd->in[0]] + off,
                                                      t->bn_mean + (size_t)b * F, t->bn_invstd + (size_t)b * F,
                                                      IMG_PIXELS, F);
                      if (!first) add_d(part, s, 2 * F));
            else
                TIMED(T_BN, k->bn_backward_stats(s, s + F, t->grad[b] + off, t->act[nd->in[0]] + off,
                                                 t->bn_mean + (size_t)b * F, t->bn_invstd + (size_t)b * F,
                                                 IMG_PIXELS, F);
                      if (!first) add_d(part, s, 2 * F));
        }
    }
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
    const int N = t->cur_N, chunks = n_chunks(t);
    const int last = net->n_nodes - 1;

    /* Which gradient writes add to an earlier one: the first write into a
     * node's gradient (in the order nodes are processed) overwrites. */
    uint8_t seen[NET_MAX_NODES];
    memset(seen, 0, (size_t)net->n_nodes);
    seen[last] = 1;
    for (int i = last; i >= 1; i--) {
        const node_t *nd = &net->nodes[i];
        int a = nd->in[0];
        t->acc_a[i] = t->acc_b[i] = 0;
        if (nd->kind == NODE_CONV && a == 0) continue;
        t->acc_a[i] = seen[a];
        seen[a] = 1;
        if (nd->kind == NODE_ADD) {
            t->acc_b[i] = seen[nd->in[1]];
            seen[nd->in[1]] = 1;
        }
    }

    pool_run(t->pool, pool_threads(t->pool), bwd_dense_weights_task, t);   /* timed inside */
    double t0 = t->timing_on ? now_ms() : 0.0;
    float *db = t->dparams + net->dense_off + (size_t)IMG_PIXELS * net->nodes[last].channels * N_CLASSES;
    for (int j = 0; j < N_CLASSES; j++) {
        float s = 0.0f;
        for (int n = 0; n < N; n++) s += t->dlogits[n * N_CLASSES + j];
        db[j] = s;
    }
    if (t->timing_on) t->ms[T_DENSE] += now_ms() - t0;
    t0 = t->timing_on ? now_ms() : 0.0;
    for (int i = 1; i <= last; i++)
        if (net->nodes[i].kind == NODE_CONV && net->nodes[i].in[0] != 0)
            t->k->conv_flip_weights(t->wflip[i], net->params + net->nodes[i].p_off,
                                    node_in_channels(net, &net->nodes[i]), net->nodes[i].channels);
    if (t->timing_on) t->ms[T_CONV_BWD_DATA] += now_ms() - t0;

    /* Stages, top down: [BN data pass,] nodes ..., [the next BN's sums]. */
    int hi = last, bn_data = -1, dense = 1;
    for (;;) {
        int stats = -1;
        for (int j = hi; j >= 1; j--)
            if (net->nodes[j].kind == NODE_BN && j != bn_data) { stats = j; break; }
        t->st_hi = hi;
        t->st_lo = stats >= 0 ? stats + 1 : 1;
        t->st_stats = stats;
        t->st_bn_data = bn_data;
        t->st_dense = dense;
        run_chunks(t, bwd_stage_chunk);
        double t1 = t->timing_on ? now_ms() : 0.0;
        for (int i = t->st_lo; i <= hi; i++) {
            const node_t *nd = &net->nodes[i];
            size_t psz = part_size(net, i);
            if (nd->kind == NODE_CONV || nd->kind == NODE_ADD)
                sum_partials(t->dparams + nd->p_off, t->part[i], chunks, psz, psz);
        }
        if (t->timing_on) t->ms[T_CONV_BWD_WEIGHTS] += now_ms() - t1;
        if (stats < 0) break;
        t1 = t->timing_on ? now_ms() : 0.0;
        const int F = net->nodes[stats].channels;
        float *dgamma = t->dparams + net->nodes[stats].p_off, *dbeta = dgamma + F;
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
        if (t->timing_on) t->ms[T_BN] += now_ms() - t1;
        hi = bn_data = stats;
        dense = 0;
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
        t->k->conv_flip_weights(t->wflip[1], t->net->params + c1->p_off, 1, F);
        t->k->conv_forward(dinput, t->grad[1], t->wflip[1], NULL, N, F, 1, 0);
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
