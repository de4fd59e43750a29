/* cluster_mpi.c - the MPI transport of cluster.h; every MPI call of
 * lemonade is in this file. Without -DLEMONADE_MPI it is a stub: one
 * process, no MPI needed.
 *
 * Protocol (tags):
 *   0 -> r  SETUP (cluster_setup_encode)       once, when the search starts
 *   r -> 0  READY (u32 job slots)              the data is loaded
 *   r -> 0  FAIL  (error text)                 loading the data failed
 *   0 -> r  TASK  (cluster_task_encode)        one per free slot of rank r
 *   r -> 0  RESULT (cluster_result_encode)     frees that slot again
 *   0 -> r  DONE  (empty)                      the search is over
 *   r -> 0  BYE   (empty)                      after its last RESULT
 *   r -> 0  ALIVE (empty)                      every second once set up
 * A rank holding networks that rank 0 has not heard from for
 * $LEMONADE_MPI_TIMEOUT seconds (default 60) is taken for dead: the
 * launcher normally ends the job when a rank dies, but not always (e.g.
 * mpirun --enable-recovery, a hung host), and rank 0 must not wait forever.
 * Rank 0 counts each rank's free slots across generations, so a worker
 * asks (READY or RESULT) once per slot and is handed the next-largest
 * network while any is left. After DONE rank 0 keeps receiving (and
 * dropping) until every worker's BYE, so that no worker is left with a
 * result nobody receives (after a stop). All sends are non-blocking and both sides
 * keep receiving while they wait, so two large messages crossing cannot
 * deadlock; waiting polls with 1 ms sleeps rather than spinning in MPI, so
 * idle ranks leave the cores to the ranks that train. */
#include "cluster.h"

#ifndef LEMONADE_MPI

int cluster_open(cluster_t **c, err_t *err) { (void)err; *c = NULL; return 0; }
int cluster_rank(const cluster_t *c) { (void)c; return 0; }
int cluster_size(const cluster_t *c) { (void)c; return 1; }
int cluster_start(cluster_t *c, const cluster_setup_t *s, err_t *err)
{
    (void)c; (void)s;
    return err_set(err, "this lemonade was built without MPI (make MPI=1)");
}
void cluster_close(cluster_t *c, int failed) { (void)c; (void)failed; }
int cluster_train(cluster_t *c, member_t **list, const int *index_of, int n, int gen, int epochs,
                  cluster_train_fn train, void *ctx, int local_jobs, volatile sig_atomic_t *stop,
                  void (*start)(void *ctx, int gen, const member_t *m, int i, int n), rank_load_t *load,
                  err_t *err)
{
    (void)c; (void)list; (void)index_of; (void)n; (void)gen; (void)epochs; (void)train; (void)ctx;
    (void)local_jobs; (void)stop; (void)start; (void)load;
    return err_set(err, "this lemonade was built without MPI (make MPI=1)");
}
int cluster_serve(cluster_t *c, int jobs, int (*ready)(void *ctx, const cluster_setup_t *s, err_t *err),
                  cluster_train_fn train, void *ctx, volatile sig_atomic_t *stop, err_t *err)
{
    (void)c; (void)jobs; (void)ready; (void)train; (void)ctx; (void)stop;
    return err_set(err, "this lemonade was built without MPI (make MPI=1)");
}

#else

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_SETUP = 1, TAG_READY, TAG_FAIL, TAG_TASK, TAG_RESULT, TAG_DONE, TAG_BYE, TAG_ALIVE };

#define ALIVE_EVERY_S 1.0
#define DEFAULT_TIMEOUT_S 60.0

#define CLOSE_WAIT_S 60  /* rank 0 waits this long for the workers' BYE */

typedef struct {
    MPI_Request req;
    uint8_t *buf;
    int to;
} sending_t;

struct cluster {
    MPI_Comm comm;
    int rank, size;
    int *free_slots;      /* rank 0: slots each rank has asked to fill */
    double *last_heard;   /* rank 0: when each rank last sent anything */
    double timeout_s;     /* rank 0: silence that means a rank is lost */
    sending_t *out;       /* sends in flight */
    int n_out, cap_out;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void nap(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

/* "MPI: what (rank r): the library's words" */
static int mpi_err(err_t *err, int code, const char *what, int peer)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error %d", code);
    return err_set(err, "MPI: %s rank %d failed: %s (a rank died or the connection was lost)", what, peer, text);
}

/* Finish the sends that are done; free their buffers. */
static int progress_sends(cluster_t *c, err_t *err)
{
    for (int i = 0; i < c->n_out;) {
        int done = 0;
        MPI_Status st;
        int rc = MPI_Test(&c->out[i].req, &done, &st);
        if (rc != MPI_SUCCESS) return mpi_err(err, rc, "sending to", c->out[i].to);
        if (done) {
            free(c->out[i].buf);
            c->out[i] = c->out[--c->n_out];
        } else {
            i++;
        }
    }
    return 0;
}

/* Send buf (taken over, freed when sent) without blocking. */
static int post(cluster_t *c, int to, int tag, uint8_t *buf, size_t len, err_t *err)
{
    if (len > (size_t)0x7fffffff) { free(buf); return err_set(err, "MPI: a %zu-byte message is too large", len); }
    if (c->n_out == c->cap_out) {
        int cap = c->cap_out ? 2 * c->cap_out : 16;
        sending_t *o = realloc(c->out, sizeof *o * (size_t)cap);
        if (!o) { free(buf); return err_set(err, "out of memory"); }
        c->out = o;
        c->cap_out = cap;
    }
    sending_t *s = &c->out[c->n_out];
    s->buf = buf;
    s->to = to;
    int rc = MPI_Isend(buf ? buf : (uint8_t *)"", (int)len, MPI_BYTE, to, tag, c->comm, &s->req);
    if (rc != MPI_SUCCESS) { free(buf); return mpi_err(err, rc, "sending to", to); }
    c->n_out++;
    return 0;
}

/* A waiting message (from `from` or any rank), received: 1 and *buf
 * (malloc'ed) when there was one, 0 when none, -1 on error. */
static int poll_recv(cluster_t *c, int from, int *src, int *tag, uint8_t **buf, size_t *len, err_t *err)
{
    if (progress_sends(c, err)) return -1;
    int flag = 0, rc, count = 0;
    MPI_Status st;
    rc = MPI_Iprobe(from, MPI_ANY_TAG, c->comm, &flag, &st);
    if (rc != MPI_SUCCESS) return mpi_err(err, rc, "waiting for", from);
    if (!flag) return 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    uint8_t *b = malloc((size_t)count + 1);
    if (!b) return err_set(err, "out of memory receiving %d bytes", count);
    /* Not MPI_Recv: a sender that dies mid-message must not hang us. */
    MPI_Request req;
    rc = MPI_Irecv(b, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, c->comm, &req);
    double t0 = now_s();
    for (int done = 0; rc == MPI_SUCCESS && !done;) {
        rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (rc == MPI_SUCCESS && !done) {
            if (now_s() - t0 > c->timeout_s) {
                free(b);  /* the request is abandoned: the caller ends the job */
                return err_set(err, "MPI: a %d-byte message from rank %d did not arrive within %.0f s: it died or "
                               "its connection was lost", count, st.MPI_SOURCE, c->timeout_s);
            }
            nap();
        }
    }
    if (rc != MPI_SUCCESS) { free(b); return mpi_err(err, rc, "receiving from", st.MPI_SOURCE); }
    *src = st.MPI_SOURCE;
    *tag = st.MPI_TAG;
    if (c->last_heard) c->last_heard[st.MPI_SOURCE] = now_s();
    *buf = b;
    *len = (size_t)count;
    return 1;
}

int cluster_open(cluster_t **out, err_t *err)
{
    *out = NULL;
    int provided = 0, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return err_set(err, "MPI: MPI_Init_thread failed (error %d)", rc);
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return err_set(err, "MPI: the library does not allow threads (MPI_THREAD_FUNNELED)");
    }
    cluster_t *c = calloc(1, sizeof *c);
    if (!c || MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
        free(c);
        MPI_Finalize();
        return err_set(err, "MPI: cannot set up the communicator");
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    c->free_slots = calloc((size_t)c->size, sizeof *c->free_slots);
    c->last_heard = calloc((size_t)c->size, sizeof *c->last_heard);
    const char *t = getenv("LEMONADE_MPI_TIMEOUT");
    c->timeout_s = t && atof(t) > 0 ? atof(t) : DEFAULT_TIMEOUT_S;
    if (!c->free_slots || !c->last_heard) {
        free(c->free_slots);
        free(c->last_heard);
        free(c);
        MPI_Finalize();
        return err_set(err, "out of memory");
    }
    *out = c;
    return 0;
}

int cluster_rank(const cluster_t *c) { return c ? c->rank : 0; }
int cluster_size(const cluster_t *c) { return c ? c->size : 1; }

int cluster_start(cluster_t *c, const cluster_setup_t *s, err_t *err)
{
    for (int r = 1; r < c->size; r++) {
        uint8_t *buf;
        size_t len;
        if (cluster_setup_encode(s, &buf, &len, err) || post(c, r, TAG_SETUP, buf, len, err)) return -1;
    }
    return 0;
}

void cluster_close(cluster_t *c, int failed)
{
    if (!c) return;
    if (failed) MPI_Abort(c->comm, 1);
    err_t ignore;
    if (c->rank == 0) {
        for (int r = 1; r < c->size; r++) post(c, r, TAG_DONE, NULL, 0, &ignore);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int byes = 0; byes < c->size - 1;) {
            int src, tag;
            uint8_t *buf;
            size_t len;
            int got = poll_recv(c, MPI_ANY_SOURCE, &src, &tag, &buf, &len, &ignore);
            if (got < 0) MPI_Abort(c->comm, 1);
            if (got > 0) {
                byes += tag == TAG_BYE;
                free(buf);
                continue;
            }
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > CLOSE_WAIT_S) MPI_Abort(c->comm, 1);  /* a worker is gone */
            nap();
        }
    }
    for (double t0 = now_s(); c->n_out && progress_sends(c, &ignore) == 0; nap())
        if (now_s() - t0 > c->timeout_s) MPI_Abort(c->comm, 1);  /* the receiver is gone */
    MPI_Comm_free(&c->comm);
    MPI_Finalize();
    free(c->out);
    free(c->free_slots);
    free(c->last_heard);
    free(c);
}

/* ------------------------------------------------------------- rank 0 */

typedef struct {
    member_t **list;
    const int *index_of;
    int n, gen, epochs;
    cluster_train_fn train;
    void *ctx;
    void (*start)(void *ctx, int gen, const member_t *m, int i, int n);
    volatile sig_atomic_t *stop;
    rank_load_t *load;
    pthread_mutex_t lock;  /* guards the fields below */
    int next, done, status, local_active;
    err_t err;
} queue_t;

static void queue_fail(queue_t *q, int status, const err_t *err)
{
    if (q->status == SEARCH_OK) {
        q->status = status;
        if (status == SEARCH_FAILED && err) q->err = *err;
    }
}

/* Next network to hand out, or -1. */
static int queue_take(queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    if (q->stop && *q->stop) queue_fail(q, SEARCH_STOPPED, NULL);
    int i = q->status == SEARCH_OK && q->next < q->n ? q->next++ : -1;
    pthread_mutex_unlock(&q->lock);
    if (i >= 0 && q->start) q->start(q->ctx, q->gen, q->list[i], i, q->n);
    return i;
}

static void *local_job(void *qp)
{
    queue_t *q = qp;
    for (int i; (i = queue_take(q)) >= 0;) {
        err_t err;
        int rc = q->train(q->ctx, q->list[i], q->gen, q->index_of[i], q->epochs, &err);
        pthread_mutex_lock(&q->lock);
        if (rc == SEARCH_OK) {
            q->done++;
            q->load[0].children++;
            q->load[0].busy_s += q->list[i]->seconds;
        } else {
            queue_fail(q, rc, &err);
        }
        pthread_mutex_unlock(&q->lock);
    }
    pthread_mutex_lock(&q->lock);
    q->local_active--;
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* A message to rank 0 outside the queue's TASK/RESULT exchange. */
static void rank0_message(cluster_t *c, queue_t *q, int src, int tag, const uint8_t *buf, size_t len)
{
    if (tag == TAG_ALIVE) {
        return;
    } else if (tag == TAG_READY && len == 4) {
        uint32_t slots;
        memcpy(&slots, buf, 4);
        c->free_slots[src] += slots > 0 && slots < 1024 ? (int)slots : 1;
    } else {
        err_t e;
        if (tag == TAG_FAIL) err_set(&e, "rank %d: %.*s", src, (int)(len < 900 ? len : 900), (const char *)buf);
        else err_set(&e, "rank %d sent an unexpected message (tag %d, %zu bytes)", src, tag, len);
        pthread_mutex_lock(&q->lock);
        queue_fail(q, SEARCH_FAILED, &e);
        pthread_mutex_unlock(&q->lock);
    }
}

int cluster_train(cluster_t *c, member_t **list, const int *index_of, int n, int gen, int epochs,
                  cluster_train_fn train, void *ctx, int local_jobs, volatile sig_atomic_t *stop,
                  void (*start)(void *ctx, int gen, const member_t *m, int i, int n), rank_load_t *load,
                  err_t *err)
{
    queue_t q = {.list = list, .index_of = index_of, .n = n, .gen = gen, .epochs = epochs, .train = train,
                 .ctx = ctx, .start = start, .stop = stop, .load = load, .status = SEARCH_OK};
    int *owner = malloc(sizeof *owner * (size_t)(n > 0 ? n : 1));
    if (!owner) return err_set(err, "out of memory");
    for (int i = 0; i < n; i++) owner[i] = -1;
    pthread_mutex_init(&q.lock, NULL);
    pthread_t th[64];
    int started = 0;
    for (int j = 0; j < local_jobs && j < 64 && j < n; j++) {
        q.local_active++;
        if (pthread_create(&th[started], NULL, local_job, &q) == 0) started++;
        else q.local_active--;
    }
    int in_flight = 0, mpi_failed = 0, turn = 1;
    err_t e;
    /* Messages may have waited while rank 0 did other work: start afresh. */
    for (int r = 0; r < c->size; r++) c->last_heard[r] = now_s();
    double next_check = now_s() + 1;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        if (stop && *stop) queue_fail(&q, SEARCH_STOPPED, NULL);
        int status = q.status, done = q.done, active = q.local_active;
        pthread_mutex_unlock(&q.lock);
        if (done == n) break;
        /* On a stop or an error, in-flight networks of other ranks are not
         * waited for: their results would be dropped anyway. */
        if (status != SEARCH_OK && active == 0) break;
        if (status != SEARCH_OK && mpi_failed) { nap(); continue; }
        /* Hand out networks to the ranks with free slots, in turn. */
        for (int tries = 0; status == SEARCH_OK && tries < c->size; tries++, turn = turn % (c->size - 1) + 1) {
            if (!c->free_slots[turn]) continue;
            int i = queue_take(&q);
            if (i < 0) break;
            cluster_task_t t = {.slot = i, .gen = gen, .index = index_of[i], .epochs = epochs};
            uint8_t *buf;
            size_t len;
            if (cluster_task_encode(&t, list[i], &buf, &len, &e) || post(c, turn, TAG_TASK, buf, len, &e)) {
                pthread_mutex_lock(&q.lock);
                queue_fail(&q, SEARCH_FAILED, &e);
                pthread_mutex_unlock(&q.lock);
                mpi_failed = 1;
                break;
            }
            owner[i] = turn;
            c->free_slots[turn]--;
            in_flight++;
            tries = -1;  /* keep going round while anyone has room */
        }
        int src, tag;
        uint8_t *buf;
        size_t len;
        int got = poll_recv(c, MPI_ANY_SOURCE, &src, &tag, &buf, &len, &e);
        if (got < 0) {
            pthread_mutex_lock(&q.lock);
            queue_fail(&q, SEARCH_FAILED, &e);
            pthread_mutex_unlock(&q.lock);
            mpi_failed = 1;
            continue;
        }
        if (got == 0 && now_s() > next_check) {
            next_check = now_s() + 1;
            for (int i = 0; i < n && !mpi_failed; i++)
                if (owner[i] > 0 && now_s() - c->last_heard[owner[i]] > c->timeout_s) {
                    err_set(&e, "MPI: rank %d, training %s, has not been heard from for %.0f s: it died or its "
                            "connection was lost", owner[i], list[i]->id, now_s() - c->last_heard[owner[i]]);
                    pthread_mutex_lock(&q.lock);
                    queue_fail(&q, SEARCH_FAILED, &e);
                    pthread_mutex_unlock(&q.lock);
                    mpi_failed = 1;
                }
        }
        if (got == 0) { nap(); continue; }
        if (tag != TAG_RESULT) {
            rank0_message(c, &q, src, tag, buf, len);
            free(buf);
            continue;
        }
        cluster_result_t r;
        int rc = cluster_result_peek(buf, len, &r, &e);
        if (rc == 0 && (r.slot >= n || owner[r.slot] != src))
            rc = err_set(&e, "rank %d returned network %d, which it was not given", src, r.slot);
        if (rc == 0) rc = cluster_result_decode(buf, len, &r, list[r.slot], &e);
        free(buf);
        pthread_mutex_lock(&q.lock);
        if (rc) {
            char msg[sizeof e.msg];
            snprintf(msg, sizeof msg, "%s", e.msg);
            err_set(&e, "result from rank %d: %s", src, msg);
            queue_fail(&q, SEARCH_FAILED, &e);
        } else {
            owner[r.slot] = -1;
            in_flight--;
            c->free_slots[src]++;
            if (r.status == SEARCH_OK) {
                q.done++;
                load[src].children++;
                load[src].busy_s += list[r.slot]->seconds;
            } else {
                err_set(&e, "rank %d: %s", src, r.error);
                queue_fail(&q, r.status, &e);
            }
        }
        pthread_mutex_unlock(&q.lock);
    }
    for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
    pthread_mutex_destroy(&q.lock);
    free(owner);
    if (q.status == SEARCH_FAILED) *err = q.err;
    return q.status;
}

/* ------------------------------------------------------------ workers */

enum { SLOT_FREE, SLOT_RUNNING, SLOT_FINISHED };

typedef struct {
    atomic_int state;
    pthread_t th;
    cluster_task_t task;
    member_t m;
    cluster_train_fn train;
    void *ctx;
    int rc;
    err_t err;
} slot_t;

static void *slot_main(void *sp)
{
    slot_t *s = sp;
    s->rc = s->train(s->ctx, &s->m, s->task.gen, s->task.index, s->task.epochs, &s->err);
    atomic_store(&s->state, SLOT_FINISHED);
    return NULL;
}

/* Join a finished slot and post its result. */
static int slot_report(cluster_t *c, slot_t *s, err_t *err)
{
    pthread_join(s->th, NULL);
    cluster_result_t r = {.slot = s->task.slot, .status = s->rc};
    if (s->rc == SEARCH_FAILED) snprintf(r.error, sizeof r.error, "%s", s->err.msg);
    uint8_t *buf;
    size_t len;
    int rc = cluster_result_encode(&r, &s->m, &buf, &len, err);
    net_free(&s->m.net);
    atomic_store(&s->state, SLOT_FREE);
    return rc ? -1 : post(c, 0, TAG_RESULT, buf, len, err);
}

int cluster_serve(cluster_t *c, int jobs, int (*ready)(void *ctx, const cluster_setup_t *s, err_t *err),
                  cluster_train_fn train, void *ctx, volatile sig_atomic_t *stop, err_t *err)
{
    int src, tag, rc = 0;
    uint8_t *buf;
    size_t len;
    /* The setup, or done before any (rank 0 failed early). */
    for (;;) {
        int got = poll_recv(c, 0, &src, &tag, &buf, &len, err);
        if (got < 0) return -1;
        if (got == 0) { nap(); continue; }
        break;
    }
    if (tag == TAG_DONE) { free(buf); return post(c, 0, TAG_BYE, NULL, 0, err); }
    cluster_setup_t setup;
    if (tag != TAG_SETUP) rc = err_set(err, "rank %d: expected the setup from rank 0, got tag %d", c->rank, tag);
    else rc = cluster_setup_decode(buf, len, &setup, err);
    free(buf);
    if (rc == 0 && ready(ctx, &setup, err)) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rc = err_set(err, "rank %d: %s", c->rank, msg);
    }
    if (rc) {
        size_t n = strlen(err->msg);
        uint8_t *msg = malloc(n + 1);
        if (msg) { memcpy(msg, err->msg, n + 1); post(c, 0, TAG_FAIL, msg, n, err); }
        return -1;
    }
    if (jobs < 1) jobs = 1;
    slot_t *slots = calloc((size_t)jobs, sizeof *slots);
    uint8_t *hello = malloc(4);
    if (!slots || !hello) { free(slots); free(hello); return err_set(err, "out of memory"); }
    uint32_t nj = (uint32_t)jobs;
    memcpy(hello, &nj, 4);
    if (post(c, 0, TAG_READY, hello, 4, err)) { free(slots); return -1; }
    int done = 0;
    double last_alive = now_s();
    while (!done && rc == 0) {
        if (now_s() - last_alive >= ALIVE_EVERY_S) {
            last_alive = now_s();
            if (post(c, 0, TAG_ALIVE, NULL, 0, err)) { rc = -1; break; }
        }
        for (int j = 0; j < jobs && rc == 0; j++)
            if (atomic_load(&slots[j].state) == SLOT_FINISHED) rc = slot_report(c, &slots[j], err);
        if (rc) break;
        int got = poll_recv(c, 0, &src, &tag, &buf, &len, err);
        if (got < 0) { rc = -1; break; }
        if (got == 0) { nap(); continue; }
        if (tag == TAG_DONE) {
            done = 1;
        } else if (tag == TAG_TASK) {
            int j = 0;
            while (j < jobs && atomic_load(&slots[j].state) != SLOT_FREE) j++;
            if (j == jobs) rc = err_set(err, "rank %d: rank 0 sent a network while every job slot was busy", c->rank);
            else if (cluster_task_decode(buf, len, &slots[j].task, &slots[j].m, err)) rc = -1;
            else {
                slots[j].train = train;
                slots[j].ctx = ctx;
                atomic_store(&slots[j].state, SLOT_RUNNING);
                if (pthread_create(&slots[j].th, NULL, slot_main, &slots[j])) {
                    atomic_store(&slots[j].state, SLOT_FREE);
                    net_free(&slots[j].m.net);
                    rc = err_set(err, "rank %d: cannot start a thread", c->rank);
                }
            }
        } else {
            rc = err_set(err, "rank %d: unexpected message from rank 0 (tag %d)", c->rank, tag);
        }
        free(buf);
    }
    /* Done (or failed) with networks still training: cancel them. */
    int busy = 0;
    for (int j = 0; j < jobs; j++) busy |= atomic_load(&slots[j].state) != SLOT_FREE;
    if (busy && stop) *stop = SIGTERM;
    for (int j = 0; j < jobs; j++)
        if (atomic_load(&slots[j].state) != SLOT_FREE) {
            pthread_join(slots[j].th, NULL);
            net_free(&slots[j].m.net);
        }
    free(slots);
    if (rc == 0) rc = post(c, 0, TAG_BYE, NULL, 0, err);
    return rc;
}

#endif
