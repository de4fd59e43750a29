/* pool.c - see pool.h. Workers spin briefly between loops (a training step
 * runs dozens of short loops back to back) and then sleep on a condition
 * variable so an idle pool costs nothing. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ROUNDS 20000

struct pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_uint_fast64_t generation;  /* bumped once per pool_run */
    atomic_int pending;               /* workers still busy with this run */
    atomic_int quit;
    pool_fn fn;
    void *ctx;
    int n_tasks;
};

typedef struct { pool_t *pool; int id; } worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void run_share(pool_t *p, int t)
{
    int T = p->n_threads, n = p->n_tasks;
    int lo = (int)((long long)t * n / T), hi = (int)((long long)(t + 1) * n / T);
    for (int i = lo; i < hi; i++) p->fn(p->ctx, i, t);
}

static void *worker_main(void *argp)
{
    worker_arg *arg = argp;
    pool_t *p = arg->pool;
    int id = arg->id;
    free(arg);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
               !atomic_load(&p->quit) && spins < SPIN_ROUNDS) {
            cpu_relax();
            spins++;
        }
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        run_share(p, id);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

pool_t *pool_create(int threads, err_t *err)
{
    if (threads < 1) threads = 1;
    pool_t *p = calloc(1, sizeof *p);
    if (!p) { err_set(err, "out of memory"); return NULL; }
    p->n_threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) { free(p); err_set(err, "out of memory"); return NULL; }
    for (int t = 1; t < threads; t++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) *a = (worker_arg){.pool = p, .id = t};
        if (!a || pthread_create(&p->threads[t], NULL, worker_main, a)) {
            free(a);
            p->n_threads = t;  /* destroy only the ones that started */
            pool_destroy(p);
            err_set(err, "cannot start thread %d of %d", t + 1, threads);
            return NULL;
        }
    }
    return p;
}

void pool_run(pool_t *p, int n_tasks, pool_fn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    if (p->n_threads == 1) {
        for (int i = 0; i < n_tasks; i++) fn(ctx, i, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->pending, p->n_threads - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 && spins < SPIN_ROUNDS) {
        cpu_relax();
        spins++;
    }
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

int pool_threads(const pool_t *p) { return p->n_threads; }

void pool_destroy(pool_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->n_threads; t++) pthread_join(p->threads[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
