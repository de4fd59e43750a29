/* pool.h - a fixed thread pool that runs one parallel loop at a time.
 *
 * pool_run(p, n, fn, ctx) calls fn(ctx, task, thread) for task = 0..n-1 and
 * returns when all are done. Tasks are handed out statically: thread t runs
 * the contiguous block [t*n/T, (t+1)*n/T), the calling thread being thread
 * 0. Which thread runs a task must never change a result; callers keep
 * per-task outputs and combine them in task order. */
#ifndef LEMONADE_POOL_H
#define LEMONADE_POOL_H

#include "error.h"

typedef struct pool pool_t;
typedef void (*pool_fn)(void *ctx, int task, int thread);

/* threads >= 1; threads - 1 workers are started. */
pool_t *pool_create(int threads, err_t *err);
void pool_run(pool_t *p, int n_tasks, pool_fn fn, void *ctx);
int pool_threads(const pool_t *p);
void pool_destroy(pool_t *p);

/* Number of online CPUs (at least 1). */
int cpu_count(void);

#endif
