/* cli_bench.c - `lemonade bench`: training and inference speed of fixed
 * benchmark architectures, against the measured FP32 FMA peak. */
#include "cli.h"
#include "cli_args.h"
#include "dataset.h"
#include "kernels.h"
#include "net.h"
#include "pool.h"
#include "rng.h"
#include "search.h"
#include "tensor.h"
#include "train.h"

#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define SEARCH_BENCH_ARGS "--gens 2 --accept 4 --epochs 1 --train-limit 5000"

static const char bench_help[] =
    "usage: lemonade bench [options]\n"
    "\n"
    "Time training steps (forward, backward, Adam; batch 64, random data) and\n"
    "inference of the benchmark architectures, and the machine's FP32 FMA peak.\n"
    "Per architecture: training and inference images/s (from the median step\n"
    "time), effective GFLOP/s, the fraction of the measured peak, and mean\n"
    "milliseconds per step by layer kind.\n"
    "\n"
    "options:\n"
    "  --threads N   threads (default: all cores)\n"
    "  --arch LIST   comma-separated subset of A64,B64,L64,D8,E16,F32 (default all)\n"
    "  --steps N     timed training steps per architecture (default 30)\n"
    "  --json        print one JSON object instead of the table\n"
    "  --search      also time a small search end to end, as users feel it:\n"
    "                lemonade " SEARCH_BENCH_ARGS "\n"
    "                on the full data (in a temporary directory, removed after)\n"
    "  --data DIR    Fashion-MNIST directory for --search (default as the search's)\n"
    "\n"
    "Set LEMONADE_KERNELS=reference to time the portable kernels.\n"
    "\n"
    "examples:\n"
    "  lemonade bench\n"
    "  lemonade bench --arch B64,F32 --steps 50 --threads 2\n"
    "  lemonade bench --arch E16 --search\n"
    "  lemonade bench --json | jq '.archs[] | {arch, train_img_per_s}'\n";

typedef struct { const char *name; int filters; const char *layers; } bench_arch_t;

static const bench_arch_t bench_archs[] = {
    {"A64", 64, "conv,bn,relu"},
    {"B64", 64, "conv,bn,relu,conv,bn,relu"},
    {"L64", 64, "conv,bn,relu,conv,conv,bn,relu"},
    {"D8", 8, "conv,conv,conv,bn,relu"},
    {"E16", 16, "conv,relu"},
    {"F32", 32, "conv,bn,relu,conv,bn,relu,conv,bn,relu"},
};
#define N_BENCH_ARCHS ((int)(sizeof bench_archs / sizeof bench_archs[0]))
#define BENCH_BATCH 64

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ FMA peak */

#define PEAK_ITERS 12000000L
#define PEAK_CHAINS 24

#if defined(__x86_64__)
/* FLOPs of PEAK_ITERS rounds of 24 independent 16-lane FMA chains. Each
 * chain starts from a different value so the compiler cannot merge them;
 * the sum is returned so none is dead. */
__attribute__((target("avx512f,fma"))) static float fma_loop_avx512(long iters)
{
    __m512 acc[PEAK_CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_set1_ps(1.0f + 0.01f * (float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < PEAK_CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

/* A portable stand-in where AVX-512 is missing: 8-wide scalar chains the
 * compiler may vectorise; it only gives the fraction a meaning. */
static float fma_loop_scalar(long iters)
{
    float acc[PEAK_CHAINS * 8];
    for (int i = 0; i < PEAK_CHAINS * 8; i++) acc[i] = 1.0f + 0.001f * (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < PEAK_CHAINS * 8; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int i = 0; i < PEAK_CHAINS * 8; i++) s += acc[i];
    return s;
}

typedef struct { int avx512; float sink[64]; } peak_ctx_t;

static void peak_task(void *ctx, int task, int thread)
{
    (void)thread;
    peak_ctx_t *p = ctx;
#if defined(__x86_64__)
    if (p->avx512) { p->sink[task % 64] = fma_loop_avx512(PEAK_ITERS); return; }
#endif
    p->sink[task % 64] = fma_loop_scalar(PEAK_ITERS / 2);
}

/* Measured FP32 GFLOP/s of all the pool's threads together (best of 5). */
static double measure_peak(pool_t *pool, int avx512)
{
    peak_ctx_t ctx = {.avx512 = avx512};
    int T = pool_threads(pool);
    double flops = avx512 ? 2.0 * 16 * PEAK_CHAINS * PEAK_ITERS : 2.0 * 8 * PEAK_CHAINS * (PEAK_ITERS / 2);
    double best = 0.0;
    for (int r = 0; r < 5; r++) {
        double t0 = seconds_now();
        pool_run(pool, T, peak_task, &ctx);
        double g = flops * T / (seconds_now() - t0) / 1e9;
        if (g > best) best = g;
    }
    return best;
}

/* ------------------------------------------------------- architectures */

typedef struct {
    const char *name;
    double train_ips, infer_ips, gflops, peak_fraction;
    double ms[T_KINDS];       /* per training step */
    double kind_gflops[3];    /* conv fwd, bwd-data, wgrad */
} arch_result_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Multiply-accumulates per image of a training step, per conv kind and total. */
static void train_macs(const net_t *net, double conv[3], double *total)
{
    const double P = IMG_PIXELS, F = net->filters;
    conv[0] = conv[1] = conv[2] = 0.0;
    double other = 0.0;
    for (int i = 1; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        if (nd->kind != NODE_CONV) continue;
        double m = P * 9 * node_in_channels(net, nd) * F;
        conv[0] += m;
        if (nd->in[0] != 0) conv[1] += m;
        conv[2] += m;
    }
    other = 3.0 * P * F * N_CLASSES;
    *total = conv[0] + conv[1] + conv[2] + other;
}

static int bench_one(arch_result_t *res, const bench_arch_t *a, pool_t *pool, int steps,
                     double peak, err_t *err)
{
    net_t net;
    if (net_from_arch(&net, a->filters, a->layers, err)) return -1;
    rng_t rng;
    rng_seed(&rng, 1, 0, 0);
    net_init_weights(&net, &rng);
    trainer_t *t = trainer_create(&net, BENCH_BATCH, pool, NULL, hyper_default(), err);
    float *x = malloc(sizeof(float) * BENCH_BATCH * IMG_PIXELS);
    uint8_t *y = malloc(BENCH_BATCH);
    if (!t || !x || !y) {
        if (t) err_set(err, "out of memory");
        trainer_destroy(t);
        free(x); free(y);
        net_free(&net);
        return -1;
    }
    for (int i = 0; i < BENCH_BATCH * IMG_PIXELS; i++) x[i] = (float)rng_uniform(&rng);
    for (int i = 0; i < BENCH_BATCH; i++) y[i] = (uint8_t)rng_below(&rng, N_CLASSES);

    memset(res, 0, sizeof *res);
    res->name = a->name;
    /* Each step is timed on its own and the median kept: on a shared
     * machine a step that another process delayed does not move it. */
    double *dt = malloc(sizeof(double) * (size_t)steps * 2);
    if (!dt) {
        err_set(err, "out of memory");
        trainer_destroy(t);
        free(x); free(y);
        net_free(&net);
        return -1;
    }
    for (int s = 0; s < 3; s++) trainer_step(t, x, y, BENCH_BATCH, NULL);   /* warm-up */
    trainer_timing_enable(t, 1);
    for (int s = 0; s < steps; s++) {
        double t0 = seconds_now();
        trainer_step(t, x, y, BENCH_BATCH, NULL);
        dt[s] = seconds_now() - t0;
    }
    trainer_timing(t, res->ms);
    trainer_timing_enable(t, 0);
    for (int k = 0; k < T_KINDS; k++) res->ms[k] /= steps;
    res->train_ips = BENCH_BATCH / median(dt, steps);

    int isteps = steps * 2;
    trainer_forward(t, x, y, BENCH_BATCH, 0, NULL);
    for (int s = 0; s < isteps; s++) {
        double t0 = seconds_now();
        trainer_forward(t, x, y, BENCH_BATCH, 0, NULL);
        dt[s] = seconds_now() - t0;
    }
    res->infer_ips = BENCH_BATCH / median(dt, isteps);
    free(dt);

    double conv[3], total;
    train_macs(&net, conv, &total);
    res->gflops = 2.0 * total * res->train_ips / 1e9;
    res->peak_fraction = peak > 0 ? res->gflops / peak : 0.0;
    for (int k = 0; k < 3; k++)
        res->kind_gflops[k] = res->ms[k] > 0 ? 2.0 * conv[k] * BENCH_BATCH / (res->ms[k] * 1e-3) / 1e9 : 0.0;

    trainer_destroy(t);
    free(x); free(y);
    net_free(&net);
    return 0;
}

/* ------------------------------------------------------ conv kernels */

/* Single-thread GFLOP/s of the conv kernels at F -> F channels, as the
 * engine calls them (forward and backward-data on a chunk of 8 images,
 * backward-data accumulating; weight gradient one image at a time); best
 * of 5 repetitions, so a busy machine disturbs it less. */
typedef struct { int F; double fwd, bwd_data, wgrad; } kernel_result_t;

static const int kernel_Fs[] = {16, 32, 64};
#define N_KERNEL_FS 3

static int bench_kernels(kernel_result_t *res, const kernels_t *k, err_t *err)
{
    const int N = CHUNK_IMAGES, Fmax = 64;
    size_t na = (size_t)N * IMG_PIXELS * Fmax, nw = 9 * (size_t)Fmax * Fmax;
    float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * na);
    float *w = malloc(sizeof(float) * (nw + Fmax)), *wt = malloc(sizeof(float) * nw);
    if (!a || !b || !w || !wt) {
        free(a); free(b); free(w); free(wt);
        return err_set(err, "out of memory");
    }
    rng_t r;
    rng_seed(&r, 5, 0, 0);
    for (size_t i = 0; i < na; i++) { a[i] = (float)rng_uniform(&r) - 0.5f; b[i] = (float)rng_uniform(&r) - 0.5f; }
    for (size_t i = 0; i < nw + Fmax; i++) w[i] = (float)rng_uniform(&r) - 0.5f;
    for (int f = 0; f < N_KERNEL_FS; f++) {
        int F = kernel_Fs[f];
        double flops = 2.0 * N * IMG_PIXELS * 9.0 * F * F, best[3] = {1e30, 1e30, 1e30};
        k->conv_flip_weights(wt, w, F, F);
        for (int rep = 0; rep < 5; rep++) {
            double t0 = seconds_now();
            k->conv_forward(b, a, w, w + nw, N, F, F, 0);
            double t1 = seconds_now();
            k->conv_forward(a, b, wt, NULL, N, F, F, 1);
            double t2 = seconds_now();
            for (int n = 0; n < N; n++)
                k->conv_backward_weights(wt, w + nw, a + (size_t)n * IMG_PIXELS * F, b + (size_t)n * IMG_PIXELS * F,
                                         1, F, F);
            double t3 = seconds_now();
            k->conv_flip_weights(wt, w, F, F);
            const double d[3] = {t1 - t0, t2 - t1, t3 - t2};
            for (int j = 0; j < 3; j++) if (d[j] < best[j]) best[j] = d[j];
            /* keep values bounded: a is overwritten by accumulation */
            for (size_t i = 0; i < (size_t)N * IMG_PIXELS * F; i++) a[i] = a[i] > 1.0f ? 0.5f : a[i] < -1.0f ? -0.5f : a[i];
        }
        res[f].F = F;
        res[f].fwd = flops / best[0] / 1e9;
        res[f].bwd_data = flops / best[1] / 1e9;
        res[f].wgrad = flops / best[2] / 1e9;
    }
    free(a); free(b); free(w); free(wt);
    return 0;
}

/* --------------------------------------------------------------- output */

static void print_table(const arch_result_t *r, int n, double peak, int threads, const char *kname,
                        const kernel_result_t *kr, double peak1)
{
    printf("kernels: %s   threads: %d   measured FMA peak: %.1f GFLOP/s (%.1f per thread)\n\n",
           kname, threads, peak, peak / threads);
    printf("%-5s %9s %9s %8s %6s |", "arch", "train/s", "infer/s", "GFLOP/s", "peak");
    for (int k = 0; k < T_KINDS; k++) printf(" %9s", timing_kind_names[k]);
    printf(" | conv fwd/bwd-data/wgrad %% of peak\n");
    for (int i = 0; i < n; i++) {
        printf("%-5s %9.0f %9.0f %8.1f %5.1f%% |", r[i].name, r[i].train_ips, r[i].infer_ips,
               r[i].gflops, 100.0 * r[i].peak_fraction);
        for (int k = 0; k < T_KINDS; k++) printf(" %9.2f", r[i].ms[k]);
        printf(" |");
        for (int k = 0; k < 3; k++) {
            if (r[i].kind_gflops[k] > 0) printf(" %4.0f%%", 100.0 * r[i].kind_gflops[k] / peak);
            else printf("    -");
        }
        printf("\n");
    }
    printf("\n(ms per training step of %d images, by layer kind)\n", BENCH_BATCH);
    printf("\nconv kernels, one thread, F -> F channels, GFLOP/s (%% of one thread's peak %.1f):\n", peak1);
    for (int f = 0; f < N_KERNEL_FS; f++)
        printf("  F=%-3d forward %6.1f (%3.0f%%)   backward-data %6.1f (%3.0f%%)   weight-grad %6.1f (%3.0f%%)\n",
               kr[f].F, kr[f].fwd, 100 * kr[f].fwd / peak1, kr[f].bwd_data, 100 * kr[f].bwd_data / peak1,
               kr[f].wgrad, 100 * kr[f].wgrad / peak1);
}

static void print_json(const arch_result_t *r, int n, double peak, int threads, const char *kname,
                       const kernel_result_t *kr, double peak1, double search_s)
{
    cJSON *o = cJSON_CreateObject();
    if (search_s >= 0) cJSON_AddNumberToObject(o, "search_seconds", search_s);
    cJSON_AddNumberToObject(o, "peak_gflops", peak);
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddStringToObject(o, "kernel", kname);
    cJSON *arr = cJSON_AddArrayToObject(o, "archs");
    for (int i = 0; i < n; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arch", r[i].name);
        cJSON_AddNumberToObject(a, "train_img_per_s", r[i].train_ips);
        cJSON_AddNumberToObject(a, "infer_img_per_s", r[i].infer_ips);
        cJSON_AddNumberToObject(a, "gflops", r[i].gflops);
        cJSON_AddNumberToObject(a, "peak_fraction", r[i].peak_fraction);
        cJSON *b = cJSON_AddObjectToObject(a, "breakdown_ms");
        for (int k = 0; k < T_KINDS; k++) cJSON_AddNumberToObject(b, timing_kind_names[k], r[i].ms[k]);
        cJSON *f = cJSON_AddObjectToObject(a, "conv_peak_fraction");
        for (int k = 0; k < 3; k++)
            if (r[i].kind_gflops[k] > 0)
                cJSON_AddNumberToObject(f, timing_kind_names[k], r[i].kind_gflops[k] / peak);
        cJSON_AddItemToArray(arr, a);
    }
    cJSON *kk = cJSON_AddArrayToObject(o, "conv_kernels_one_thread");
    for (int f = 0; f < N_KERNEL_FS; f++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "filters", kr[f].F);
        cJSON_AddNumberToObject(e, "fwd_gflops", kr[f].fwd);
        cJSON_AddNumberToObject(e, "bwd_data_gflops", kr[f].bwd_data);
        cJSON_AddNumberToObject(e, "wgrad_gflops", kr[f].wgrad);
        cJSON_AddNumberToObject(e, "fwd_peak_fraction", kr[f].fwd / peak1);
        cJSON_AddNumberToObject(e, "bwd_data_peak_fraction", kr[f].bwd_data / peak1);
        cJSON_AddNumberToObject(e, "wgrad_peak_fraction", kr[f].wgrad / peak1);
        cJSON_AddItemToArray(kk, e);
    }
    cJSON_AddNumberToObject(o, "peak_gflops_one_thread", peak1);
    char *s = cJSON_Print(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
}

/* ------------------------------------------------------ end-to-end search */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* Wall time of SEARCH_BENCH_ARGS with default filters, run in a fresh
 * temporary directory that is removed afterwards. */
static int bench_search(double *seconds, const char *data_dir, int threads, err_t *err)
{
    search_opts_t o;
    memset(&o, 0, sizeof o);
    o.gens = 2; o.accept = 4; o.epochs = 1; o.init_epochs = 1; o.batch = 64; o.lr = 1e-3; o.seed = 1;
    o.train_limit = 5000;
    const int filters[] = {4, 8, 16, 32, 64};
    memcpy(o.filters, filters, sizeof filters);
    o.n_filters = 5;
    o.jobs = threads;
    o.threads = 1;
    o.command_line = "lemonade bench --search";
    snprintf(o.data_dir, sizeof o.data_dir, "%s", data_dir);
    snprintf(o.out_dir, sizeof o.out_dir, "/tmp/lemonade-bench-XXXXXX");
    if (!mkdtemp(o.out_dir)) return err_set(err, "cannot create a temporary directory in /tmp");
    double t0 = seconds_now();
    int rc = search_run(&o, NULL, err);
    *seconds = seconds_now() - t0;
    nftw(o.out_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc == SEARCH_OK ? 0 : -1;
}

/* ------------------------------------------------------------- command */

int cmd_bench(int argc, char **argv, int first)
{
    int threads = 0, steps = 30, json = 0, help = 0, search = 0;
    const char *archs = NULL, *data = NULL;
    opt_t opts[] = {
        {"threads", OPT_INT, &threads, 1, 1024, 0},
        {"arch", OPT_STRING, &archs, 0, 0, 0},
        {"steps", OPT_INT, &steps, 1, 1000000, 0},
        {"json", OPT_FLAG, &json, 0, 0, 0},
        {"search", OPT_FLAG, &search, 0, 0, 0},
        {"data", OPT_STRING, &data, 0, 0, 0},
        {"help", OPT_FLAG, &help, 0, 0, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    err_t err;
    if (cli_parse(argc, argv, first, opts, NULL, 0, NULL, &err)) return usage_error("bench", &err);
    if (help) { fputs(bench_help, stdout); return 0; }

    /* Which architectures, in the order given. */
    int pick[N_BENCH_ARCHS], n_pick = 0;
    if (!archs) {
        for (int i = 0; i < N_BENCH_ARCHS; i++) pick[n_pick++] = i;
    } else {
        char buf[256];
        if (strlen(archs) >= sizeof buf || !*archs) {
            err_set(&err, "--arch: expected a list of A64,B64,L64,D8,E16,F32");
            return usage_error("bench", &err);
        }
        strcpy(buf, archs);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int found = -1;
            for (int i = 0; i < N_BENCH_ARCHS; i++)
                if (strcmp(tok, bench_archs[i].name) == 0) found = i;
            if (found < 0) {
                err_set(&err, "--arch: unknown architecture '%s' (known: A64,B64,L64,D8,E16,F32)", tok);
                return usage_error("bench", &err);
            }
            if (n_pick == N_BENCH_ARCHS) {
                err_set(&err, "--arch: too many architectures");
                return usage_error("bench", &err);
            }
            pick[n_pick++] = found;
        }
        if (n_pick == 0) {
            err_set(&err, "--arch: expected a list of A64,B64,L64,D8,E16,F32");
            return usage_error("bench", &err);
        }
    }

    char data_dir[4096];
    if (search && dataset_find_dir(data, data_dir, sizeof data_dir, &err)) return run_error("bench", &err);
    pool_t *pool = pool_create(threads ? threads : cpu_count(), &err);
    if (!pool) return run_error("bench", &err);
    const kernels_t *k = kernels_best();
    int avx = kernels_by_name("avx512") != NULL;
    double peak = measure_peak(pool, avx);
    pool_t *one = pool_create(1, &err);
    if (!one) { pool_destroy(pool); return run_error("bench", &err); }
    double peak1 = measure_peak(one, avx);
    pool_destroy(one);
    kernel_result_t kr[N_KERNEL_FS];
    if (bench_kernels(kr, k, &err)) { pool_destroy(pool); return run_error("bench", &err); }
    arch_result_t res[N_BENCH_ARCHS];
    for (int i = 0; i < n_pick; i++) {
        if (bench_one(&res[i], &bench_archs[pick[i]], pool, steps, peak, &err)) {
            pool_destroy(pool);
            return run_error("bench", &err);
        }
        if (!json) fprintf(stderr, "%s: %.0f img/s\n", res[i].name, res[i].train_ips);
    }
    double search_s = -1;
    if (search && bench_search(&search_s, data_dir, pool_threads(pool), &err)) {
        pool_destroy(pool);
        return run_error("bench", &err);
    }
    if (json) print_json(res, n_pick, peak, pool_threads(pool), k->name, kr, peak1, search_s);
    else print_table(res, n_pick, peak, pool_threads(pool), k->name, kr, peak1);
    if (search && !json) printf("end to end: lemonade %s (full data, %d jobs): %.2f s\n", SEARCH_BENCH_ARGS,
                                pool_threads(pool), search_s);
    pool_destroy(pool);
    return 0;
}
