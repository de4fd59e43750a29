/* search.c - the LEMONADE search loop; see search.h. */
#include "search.h"
#include "cluster.h"
#include "dataset.h"
#include "fileio.h"
#include "genfile.h"
#include "kernels.h"
#include "kde.h"
#include "model_io.h"
#include "morph.h"
#include "pareto.h"
#include "plot.h"
#include "pool.h"
#include "tensor.h"
#include "train.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Labels of the random streams: (seed, generation, stream + index). */
#define STREAM_INIT   (1ULL << 40)   /* + initial network index: its weights */
#define STREAM_TRAIN  (2ULL << 40)   /* + child index: batch shuffling */
#define STREAM_MORPH  (3ULL << 40)   /* + parent index * OP_COUNT + op */
#define STREAM_SAMPLE (4ULL << 40)   /* the generation's acceptance draw */

#define CALIB_IMAGES 256

typedef struct {
    const search_opts_t *o;
    const search_events_t *ev;
    dataset_t ds;
    pthread_mutex_t lock;     /* serialises events */
    rank_load_t *load;        /* under MPI: each rank's share of the current generation */
    int n_ranks;              /* 0 when training in this process alone */
} search_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int stop_requested(const search_t *s) { return s->o->stop && *s->o->stop; }

static void member_free(member_t *m)
{
    if (!m) return;
    net_free(&m->net);
    free(m);
}

/* ------------------------------------------------------------ training */

typedef struct {
    search_t *s;
    member_t *m;
    int epoch, epochs;
    double t0;
} batch_ctx;

static int on_batch(void *ctxp, int batch, int n_batches, long images)
{
    batch_ctx *b = ctxp;
    if (stop_requested(b->s)) return 1;
    if (b->s->ev->batch && (batch % 16 == 0 || batch == n_batches)) {
        pthread_mutex_lock(&b->s->lock);
        b->s->ev->batch(b->s->ev->ctx, b->m, b->epoch, b->epochs, batch, n_batches,
                        images / (now_s() - b->t0 + 1e-9));
        pthread_mutex_unlock(&b->s->lock);
    }
    return 0;
}

/* Train m for `epochs` from its current weights with a fresh Adam. Its
 * validation loss is the lowest over the epochs and it keeps that epoch's
 * weights. A non-finite loss marks it diverged. */
static int train_member(search_t *s, member_t *m, int gen, int index, int epochs, pool_t *pool, err_t *err)
{
    const search_opts_t *o = s->o;
    hyper_t hp = hyper_default();
    hp.lr = (float)o->lr;
    trainer_t *t = trainer_create(&m->net, o->batch, pool, NULL, hp, err);
    float *best_p = malloc(m->net.n_params * sizeof(float)), *best_s = malloc((m->net.n_state + 1) * sizeof(float));
    if (!t || !best_p || !best_s) {
        trainer_destroy(t);
        free(best_p);
        free(best_s);
        return t ? err_set(err, "%s: out of memory", m->id) : SEARCH_FAILED;
    }
    rng_t rng;
    rng_seed(&rng, o->seed, (uint64_t)gen, STREAM_TRAIN + (uint64_t)index);
    /* Test hook: LEMONADE_FAULT_NAN=ID poisons member ID's output bias with
     * a NaN, so that its loss is NaN and it must come out diverged. */
    const char *fault = getenv("LEMONADE_FAULT_NAN");
    if (fault && strcmp(fault, m->id) == 0) m->net.params[m->net.n_params - 1] = NAN;
    double t_start = now_s();
    long images = 0;
    int rc = SEARCH_OK;
    m->val_loss = INFINITY;
    m->best_epoch = 0;
    for (int e = 1; e <= epochs; e++) {
        batch_ctx bc = {s, m, e, epochs, now_s()};
        epoch_stats_t tr, va;
        int r = train_epoch(t, &s->ds.train, &rng, &tr, on_batch, &bc);
        if (r < 0) { rc = err_set(err, "%s: out of memory", m->id); break; }
        if (r == 1) { rc = SEARCH_STOPPED; break; }
        images += tr.images;
        double dt = now_s() - bc.t0;
        if (!isfinite(tr.loss)) { m->diverged = 1; break; }
        evaluate(t, &s->ds.val, &va);
        if (!isfinite(va.loss)) { m->diverged = 1; break; }
        if (va.loss < m->val_loss) {
            m->val_loss = va.loss;
            m->val_acc = va.acc;
            m->best_epoch = e;
            memcpy(best_p, m->net.params, m->net.n_params * sizeof(float));
            memcpy(best_s, m->net.state, m->net.n_state * sizeof(float));
        }
        if (s->ev->epoch_done) {
            pthread_mutex_lock(&s->lock);
            s->ev->epoch_done(s->ev->ctx, m, e, epochs, tr.loss, va.loss, va.acc, dt, tr.images / dt);
            pthread_mutex_unlock(&s->lock);
        }
    }
    if (rc == SEARCH_OK) {
        m->trained = 1;
        m->epochs = epochs;
        if (m->diverged) {
            m->val_loss = NAN;
            m->val_acc = 0;
        } else {
            memcpy(m->net.params, best_p, m->net.n_params * sizeof(float));
            memcpy(m->net.state, best_s, m->net.n_state * sizeof(float));
        }
        m->seconds = now_s() - t_start;
        m->img_per_s = images / (m->seconds + 1e-9);
    }
    free(best_p);
    free(best_s);
    trainer_destroy(t);
    return rc;
}

/* Train a list of members, `jobs` at a time (each job with its own pool of
 * `threads` threads), largest first so that a generation ends balanced. */
typedef struct {
    search_t *s;
    member_t **list;
    int *index_of;     /* the child index that labels each member's stream */
    int n, gen, epochs;
    atomic_int next;
    atomic_int status; /* first non-OK result wins */
    err_t err;
    pthread_mutex_t err_lock;
} train_queue_t;

static void *job_main(void *qp)
{
    train_queue_t *q = qp;
    err_t err;
    pool_t *pool = pool_create(q->s->o->threads, &err);
    for (;;) {
        int i = atomic_fetch_add(&q->next, 1);
        if (i >= q->n || atomic_load(&q->status) != SEARCH_OK || !pool) break;
        member_t *m = q->list[i];
        if (q->s->ev->child_start) {
            pthread_mutex_lock(&q->s->lock);
            q->s->ev->child_start(q->s->ev->ctx, q->gen, m, i, q->n);
            pthread_mutex_unlock(&q->s->lock);
        }
        int rc = train_member(q->s, m, q->gen, q->index_of[i], q->epochs, pool, &err);
        if (rc != SEARCH_OK) {
            int expect = SEARCH_OK;
            if (atomic_compare_exchange_strong(&q->status, &expect, rc) && rc == SEARCH_FAILED) {
                pthread_mutex_lock(&q->err_lock);
                q->err = err;
                pthread_mutex_unlock(&q->err_lock);
            }
        }
    }
    if (!pool) {
        int expect = SEARCH_OK;
        if (atomic_compare_exchange_strong(&q->status, &expect, SEARCH_FAILED)) q->err = err;
    }
    pool_destroy(pool);
    return NULL;
}

/* Indices into the members array (the qsort_r context), by forward cost,
 * largest first; ties by id. */
static int cost_desc(const void *a, const void *b, void *members)
{
    member_t *const *m = members;
    const member_t *x = m[*(const int *)a], *y = m[*(const int *)b];
    long long cx = net_macs(&x->net), cy = net_macs(&y->net);
    if (cx != cy) return cx > cy ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* cluster_train_fn: one member with a pool of its own. */
static int train_one(void *sp, member_t *m, int gen, int index, int epochs, err_t *err)
{
    search_t *s = sp;
    pool_t *pool = pool_create(s->o->threads, err);
    if (!pool) return SEARCH_FAILED;
    int rc = train_member(s, m, gen, index, epochs, pool, err);
    pool_destroy(pool);
    return rc;
}

static void on_child_start(void *sp, int gen, const member_t *m, int i, int n)
{
    search_t *s = sp;
    if (!s->ev->child_start) return;
    pthread_mutex_lock(&s->lock);
    s->ev->child_start(s->ev->ctx, gen, m, i, n);
    pthread_mutex_unlock(&s->lock);
}

static int train_all(search_t *s, member_t **members, const int *index_of, int n, int gen, int epochs, err_t *err)
{
    if (s->n_ranks) memset(s->load, 0, sizeof *s->load * (size_t)s->n_ranks);
    if (n == 0) return SEARCH_OK;
    train_queue_t q = {.s = s, .n = n, .gen = gen, .epochs = epochs};
    q.list = malloc(sizeof *q.list * (size_t)n);
    q.index_of = malloc(sizeof *q.index_of * (size_t)n);
    if (!q.list || !q.index_of) { free(q.list); free(q.index_of); return err_set(err, "out of memory"); }
    /* Largest first, each member keeping its stream index. */
    int *order = malloc(sizeof *order * (size_t)n);
    if (!order) { free(q.list); free(q.index_of); return err_set(err, "out of memory"); }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, cost_desc, members);
    for (int i = 0; i < n; i++) {
        q.list[i] = members[order[i]];
        q.index_of[i] = index_of[order[i]];
    }
    free(order);
    if (s->n_ranks) {  /* MPI: the same order, handed out over all ranks */
        int rc = cluster_train(s->o->cluster, q.list, q.index_of, n, gen, epochs, train_one, s, s->o->jobs, s->o->stop,
                               on_child_start, s->load, err);
        free(q.list);
        free(q.index_of);
        return rc;
    }
    atomic_init(&q.next, 0);
    atomic_init(&q.status, SEARCH_OK);
    pthread_mutex_init(&q.err_lock, NULL);
    int jobs = s->o->jobs < n ? s->o->jobs : n;
    pthread_t th[64];
    int started = 0;
    for (int j = 1; j < jobs && j < 64; j++)
        if (pthread_create(&th[started], NULL, job_main, &q) == 0) started++;
    job_main(&q);
    for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
    pthread_mutex_destroy(&q.err_lock);
    int rc = atomic_load(&q.status);
    if (rc == SEARCH_FAILED) *err = q.err;
    free(q.list);
    free(q.index_of);
    return rc;
}

/* ---------------------------------------------------------- population */

static int by_params(const void *a, const void *b)
{
    const member_t *x = *(member_t *const *)a, *y = *(member_t *const *)b;
    long long px = net_param_count(&x->net).total, py = net_param_count(&y->net).total;
    if (px != py) return px < py ? -1 : 1;
    if (x->val_loss != y->val_loss) return x->val_loss < y->val_loss ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Keep the Pareto-optimal ones of cand[0..n) in front (sorted by params);
 * the others are left in cand with front membership cleared. */
static int select_front(member_t **cand, int n, member_t **front, int *in_front)
{
    double *p = calloc((size_t)n + 1, sizeof(double)), *l = calloc((size_t)n + 1, sizeof(double));
    if (!p || !l) {
        free(p);
        free(l);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        p[i] = (double)net_param_count(&cand[i]->net).total;
        l[i] = cand[i]->diverged ? NAN : cand[i]->val_loss;
    }
    pareto_front(p, l, n, in_front);
    int k = 0;
    for (int i = 0; i < n; i++) if (in_front[i]) front[k++] = cand[i];
    qsort(front, (size_t)k, sizeof *front, by_params);
    free(p);
    free(l);
    return k;
}

static double front_hv(member_t *const *front, int n)
{
    double *p = malloc(sizeof(double) * (size_t)(n + 1)), *l = malloc(sizeof(double) * (size_t)(n + 1));
    double hv = 0;
    if (p && l) {
        for (int i = 0; i < n; i++) {
            p[i] = (double)net_param_count(&front[i]->net).total;
            l[i] = front[i]->val_loss;
        }
        hv = hypervolume(p, l, n);
    }
    free(p);
    free(l);
    return hv;
}

static int save_models(const search_t *s, member_t **front, int n, err_t *err)
{
    for (int i = 0; i < n; i++) {
        member_t *m = front[i];
        if (m->model[0]) continue;
        snprintf(m->model, sizeof m->model, "models/%s.json", m->id);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->o->out_dir, m->model);
        if (model_save(&m->net, m->id, path, err)) {
            m->model[0] = '\0';
            return -1;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- search */

static int initial_population(search_t *s, member_t ***front_out, int *n_front, double *hv, err_t *err)
{
    const search_opts_t *o = s->o;
    const int n = o->n_filters;
    double t0 = now_s();
    member_t **init = calloc((size_t)n, sizeof *init), **front = calloc((size_t)n, sizeof *front);
    int *idx = malloc(sizeof *idx * (size_t)n), *keep = malloc(sizeof *keep * (size_t)n);
    int rc = (!init || !front || !idx || !keep) ? err_set(err, "out of memory") : SEARCH_OK;
    for (int i = 0; i < n && rc == SEARCH_OK; i++) {
        member_t *m = init[i] = calloc(1, sizeof *m);
        if (!m || net_initial(&m->net, o->filters[i], err)) { rc = SEARCH_FAILED; break; }
        snprintf(m->id, sizeof m->id, "g0_c%d", i);
        m->op = -1;
        m->accepted = 1;
        m->accept_prob = 1.0 / n;
        rng_t r;
        rng_seed(&r, o->seed, 0, STREAM_INIT + (uint64_t)i);
        net_init_weights(&m->net, &r);
        idx[i] = i;
    }
    if (rc == SEARCH_OK) rc = train_all(s, init, idx, n, 0, o->init_epochs, err);
    int k = 0;
    if (rc == SEARCH_OK) {
        k = select_front(init, n, front, keep);
        *hv = front_hv(front, k);
        if (save_models(s, front, k, err) ||
            genfile_write_gen(o->out_dir, 0, (const member_t *const *)front, k, (const member_t *const *)init, n,
                              *hv, now_s() - t0, s->load, s->n_ranks, err))
            rc = SEARCH_FAILED;
        else if (k == 0)  /* gen_000.json records which diverged; nothing to search from */
            rc = err_set(err, "every initial network diverged (non-finite loss); try a lower --lr");
    }
    for (int i = 0; i < n; i++) if (init[i] && !(rc == SEARCH_OK && keep[i])) member_free(init[i]);
    free(init);
    free(idx);
    free(keep);
    if (rc != SEARCH_OK) { free(front); return rc; }
    *front_out = front;
    *n_front = k;
    return SEARCH_OK;
}

/* One generation: children, acceptance, training, new front, files. */
static int generation(search_t *s, int gen, member_t ***front_io, int *n_front_io, double *hv_io,
                      int *n_children_out, int *n_accepted_out, err_t *err)
{
    const search_opts_t *o = s->o;
    member_t **front = *front_io;
    const int n_front = *n_front_io;
    double t0 = now_s();
    int cap = n_front * OP_COUNT, n = 0, rc = SEARCH_OK;
    member_t **kids = calloc((size_t)(cap > 0 ? cap : 1), sizeof *kids);
    if (!kids) return err_set(err, "out of memory");

    const int n_calib = s->ds.train.n < CALIB_IMAGES ? s->ds.train.n : CALIB_IMAGES;
    pool_t *pool = pool_create(o->threads * o->jobs, err);
    if (!pool) { free(kids); return SEARCH_FAILED; }
    morph_calib_t calib = {s->ds.train.x, n_calib, pool};
    for (int p = 0; p < n_front && rc == SEARCH_OK; p++)
        for (int op = 0; op < OP_COUNT; op++) {
            member_t *c = calloc(1, sizeof *c);
            if (!c) { rc = err_set(err, "out of memory"); break; }
            rng_t r;
            rng_seed(&r, o->seed, (uint64_t)gen, STREAM_MORPH + (uint64_t)(p * OP_COUNT + op));
            err_t why;
            int m = morph_apply(&c->net, &front[p]->net, (morph_op_t)op, &r, &calib, &why);
            if (m != 0) {
                free(c);
                if (m < 0) { *err = why; rc = SEARCH_FAILED; break; }
                continue;  /* the operator does not apply to this parent */
            }
            snprintf(c->id, sizeof c->id, "g%d_c%d", gen, n);
            snprintf(c->parent, sizeof c->parent, "%s", front[p]->id);
            c->op = op;
            c->born = gen;
            /* lineage = parent's lineage + this operator; a very long one
             * keeps only the newest operator after "..." */
            const char *opn = morph_name((morph_op_t)op);
            size_t ll = strlen(front[p]->lineage), ol = strlen(opn);
            if (ll + ol + 2 > sizeof c->lineage) ll = 0, memcpy(c->lineage, "...", 4), ll = 3;
            else memcpy(c->lineage, front[p]->lineage, ll + 1);
            if (ll) c->lineage[ll++] = ',';
            memcpy(c->lineage + ll, opn, ol + 1);
            kids[n++] = c;
        }
    pool_destroy(pool);

    /* Acceptance: KDE over the cheap objective. */
    member_t **accepted = calloc((size_t)(n > 0 ? n : 1), sizeof *accepted);
    int *acc_index = calloc((size_t)(n > 0 ? n : 1), sizeof *acc_index);
    int n_acc = 0;
    if (rc == SEARCH_OK && n > 0) {
        double *x = malloc(sizeof(double) * (size_t)n), *d = malloc(sizeof(double) * (size_t)n),
               *pr = malloc(sizeof(double) * (size_t)n);
        int *picked = malloc(sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) {
            double pc = (double)net_param_count(&kids[i]->net).total;
            x[i] = o->kde_log ? log10(pc) : pc;
        }
        kde_density(x, n, d);
        kde_accept_probs(d, n, pr);
        rng_t r;
        rng_seed(&r, o->seed, (uint64_t)gen, STREAM_SAMPLE);
        sample_without_replacement(pr, n, o->accept, &r, picked, NULL);
        for (int i = 0; i < n; i++) {
            kids[i]->density = d[i];
            kids[i]->accept_prob = pr[i];
            kids[i]->accepted = picked[i];
            if (picked[i]) {
                acc_index[n_acc] = i;
                accepted[n_acc++] = kids[i];
            }
        }
        free(x); free(d); free(pr); free(picked);
    }
    if (rc == SEARCH_OK) rc = train_all(s, accepted, acc_index, n_acc, gen, o->epochs, err);

    /* New front from the old one and the trained children. */
    member_t **cand = NULL, **next = NULL;
    int *keep = NULL, k = 0;
    if (rc == SEARCH_OK) {
        cand = malloc(sizeof *cand * (size_t)(n_front + n_acc));
        next = malloc(sizeof *next * (size_t)(n_front + n_acc));
        keep = malloc(sizeof *keep * (size_t)(n_front + n_acc));
        memcpy(cand, front, sizeof *cand * (size_t)n_front);
        memcpy(cand + n_front, accepted, sizeof *cand * (size_t)n_acc);
        k = select_front(cand, n_front + n_acc, next, keep);
        double hv = front_hv(next, k);
        if (save_models(s, next, k, err) ||
            genfile_write_gen(o->out_dir, gen, (const member_t *const *)next, k, (const member_t *const *)kids, n, hv,
                              now_s() - t0, s->load, s->n_ranks, err)) {
            rc = SEARCH_FAILED;
        } else {
            *hv_io = hv;
        }
    }
    /* Free whatever is not in the new front (or everything new on failure). */
    for (int i = 0; i < n; i++) {
        int kept = 0;
        for (int j = 0; rc == SEARCH_OK && j < k; j++) kept |= next[j] == kids[i];
        if (!kept) member_free(kids[i]);
    }
    if (rc == SEARCH_OK) {
        for (int i = 0; i < n_front; i++) if (!keep[i]) member_free(front[i]);
        free(front);
        *front_io = next;
        *n_front_io = k;
        next = NULL;
    }
    *n_children_out = n;
    *n_accepted_out = n_acc;
    free(kids); free(accepted); free(acc_index); free(cand); free(next); free(keep);
    return rc;
}

static int evaluate_test(search_t *s, member_t **front, int n, err_t *err)
{
    pool_t *pool = pool_create(s->o->threads * s->o->jobs, err);
    if (!pool) return -1;
    for (int i = 0; i < n; i++) {
        trainer_t *t = trainer_create(&front[i]->net, s->o->batch, pool, NULL, hyper_default(), err);
        if (!t) { pool_destroy(pool); return -1; }
        epoch_stats_t st;
        evaluate(t, &s->ds.test, &st);
        front[i]->test_loss = st.loss;
        front[i]->test_acc = st.acc;
        front[i]->has_test = 1;
        trainer_destroy(t);
    }
    pool_destroy(pool);
    return 0;
}

/* front.svg and hypervolume.svg from the gen files on disk. */
static int redraw(const search_t *s, err_t *err)
{
    return plot_run(s->o->out_dir, NULL, 0, NULL, NULL, err) ? SEARCH_FAILED : SEARCH_OK;
}

int search_run(const search_opts_t *o, const search_events_t *ev, err_t *err)
{
    static const search_events_t no_events;
    search_t s = {.o = o, .ev = ev ? ev : &no_events};
    pthread_mutex_init(&s.lock, NULL);
    double t0 = now_s();
    member_t **front = NULL;
    int n_front = 0, first_gen = 1, rc = SEARCH_OK;
    double hv = 0;
    char models[4200];
    snprintf(models, sizeof models, "%s/models", o->out_dir);
    if (dataset_load(&s.ds, o->data_dir, o->train_limit, o->val_limit, 1, err)) return SEARCH_FAILED;
    if (cluster_size(o->cluster) > 1) {
        cluster_setup_t cs = {.batch = o->batch, .train_limit = o->train_limit, .val_limit = o->val_limit,
                              .lr = o->lr, .seed = o->seed};
        snprintf(cs.data_dir, sizeof cs.data_dir, "%s", o->data_dir);
        snprintf(cs.kernels, sizeof cs.kernels, "%s", kernels_best()->name);
        s.n_ranks = cluster_size(o->cluster);
        s.load = calloc((size_t)s.n_ranks, sizeof *s.load);
        if (!s.load) rc = err_set(err, "out of memory");
        else if (cluster_start(o->cluster, &cs, err)) rc = SEARCH_FAILED;
    }

    /* A resumed run that stopped before gen_000.json was written starts
     * afresh from its run.json options. run.json goes first so that a run
     * whose first write fails leaves its directory empty. */
    int last = o->resume ? genfile_last_gen(o->out_dir) : -1;
    if (rc != SEARCH_OK) {
        /* MPI failed to start the workers */
    } else if (last >= 0) {
        if (genfile_read_front(o->out_dir, last, &front, &n_front, err)) {
            rc = SEARCH_FAILED;
        } else {
            first_gen = last + 1;
            hv = front_hv(front, n_front);
        }
    } else if ((!o->resume && genfile_write_run(o, err)) || ensure_dir(models, err)) {
        rc = SEARCH_FAILED;
    } else {
        rc = initial_population(&s, &front, &n_front, &hv, err);
        if (rc == SEARCH_OK && s.ev->generation_done)
            s.ev->generation_done(s.ev->ctx, 0, (const member_t *const *)front, n_front, hv, 0, o->n_filters,
                                  o->n_filters);
    }
    if (rc == SEARCH_OK) rc = redraw(&s, err);
    for (int g = first_gen; rc == SEARCH_OK && g <= o->gens; g++) {
        double hv_prev = hv;
        int n_kids = 0, n_acc = 0;
        rc = generation(&s, g, &front, &n_front, &hv, &n_kids, &n_acc, err);
        if (rc == SEARCH_OK) rc = redraw(&s, err);
        if (rc == SEARCH_OK && s.ev->generation_done)
            s.ev->generation_done(s.ev->ctx, g, (const member_t *const *)front, n_front, hv, hv_prev, n_kids, n_acc);
    }
    if (rc == SEARCH_OK) {
        if (evaluate_test(&s, front, n_front, err) ||
            genfile_write_final(o->out_dir, o->gens, (const member_t *const *)front, n_front, now_s() - t0, err))
            rc = SEARCH_FAILED;
        else if (s.ev->finished)
            s.ev->finished(s.ev->ctx, (const member_t *const *)front, n_front, o->out_dir);
    }
    for (int i = 0; i < n_front; i++) member_free(front[i]);
    free(front);
    dataset_free(&s.ds);
    free(s.load);
    pthread_mutex_destroy(&s.lock);
    return rc;
}

/* ------------------------------------------------------------- workers */

typedef struct {
    search_t s;        /* first: the context train_one and worker_ready share */
    search_opts_t o;   /* the worker's own threads/jobs/stop + rank 0's setup */
    int loaded;
} worker_t;

static int worker_ready(void *wp, const cluster_setup_t *cs, err_t *err)
{
    worker_t *w = wp;
    w->o.batch = cs->batch;
    w->o.lr = cs->lr;
    w->o.seed = cs->seed;
    w->o.train_limit = cs->train_limit;
    w->o.val_limit = cs->val_limit;
    snprintf(w->o.data_dir, sizeof w->o.data_dir, "%s", cs->data_dir);
    /* The kernel tables agree only within rounding: all ranks use one. */
    if (strcmp(kernels_best()->name, cs->kernels) != 0)
        return err_set(err, "uses the '%s' kernels but rank 0 uses '%s', so results would differ; run every rank "
                       "with the same LEMONADE_KERNELS (e.g. mpirun -x LEMONADE_KERNELS=reference)",
                       kernels_best()->name, cs->kernels);
    if (dataset_load(&w->s.ds, w->o.data_dir, w->o.train_limit, w->o.val_limit, 0, err)) return -1;
    w->loaded = 1;
    return 0;
}

int search_worker(const search_opts_t *o, err_t *err)
{
    static const search_events_t no_events;
    worker_t *w = calloc(1, sizeof *w);
    if (!w) return err_set(err, "out of memory");
    w->o = *o;
    w->s.o = &w->o;
    w->s.ev = &no_events;
    pthread_mutex_init(&w->s.lock, NULL);
    int rc = cluster_serve(o->cluster, o->jobs, worker_ready, train_one, &w->s, o->stop, err) ? SEARCH_FAILED
                                                                                             : SEARCH_OK;
    if (w->loaded) dataset_free(&w->s.ds);
    pthread_mutex_destroy(&w->s.lock);
    free(w);
    return rc;
}
