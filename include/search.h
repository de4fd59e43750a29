/* search.h - the LEMONADE search (the original's Algorithm 1).
 *
 *   P = Pareto front of the initial networks Conv(F)-BN-ReLU, F in filters
 *   for each generation:
 *     every parent in P gets each of the four operators -> children
 *     KDE over the children's parameter counts; accept min(accept, #children)
 *     children with probability ~ 1/density, without replacement
 *     train the accepted children from their inherited weights
 *     P = Pareto front of P and the accepted children
 *
 * Every random choice comes from a stream derived from (seed, generation,
 * stable index), so results do not depend on thread timing, the thread or
 * job count, or on whether the run was interrupted and resumed. After each
 * generation the front's models and OUT/gen_NNN.json are on disk (written
 * atomically, models first): that is all a resume needs. */
#ifndef LEMONADE_SEARCH_H
#define LEMONADE_SEARCH_H

#include <signal.h>
#include <stdint.h>
#include "error.h"
#include "net.h"

#define SEARCH_MAX_FILTERS 16

typedef struct {
    int gens, accept, epochs, init_epochs, batch;
    int filters[SEARCH_MAX_FILTERS], n_filters;
    double lr;
    uint64_t seed;
    int train_limit, val_limit;   /* 0 = all */
    int kde_log;                  /* KDE over log10(params) instead of params */
    int threads, jobs;            /* threads per job, children trained at once */
    char data_dir[4096];
    char out_dir[4096];
    int resume;                   /* continue the run in out_dir */
    const char *command_line;     /* recorded in run.json */
    volatile sig_atomic_t *stop;  /* set by a signal handler: stop at a safe point */
    struct cluster *cluster;      /* MPI ranks to train on (cluster.h); NULL = this process alone */
} search_opts_t;

/* One rank's share of a generation's training (gen files' "timing"). */
typedef struct {
    int children;                 /* networks it trained */
    double busy_s;                /* seconds it spent training them */
} rank_load_t;

/* A network of the search with what is known of it. */
typedef struct {
    char id[32], parent[32];      /* parent "" for an initial network */
    int op;                       /* morph_op_t, -1 for an initial network */
    int born;
    net_t net;
    char lineage[1024];           /* operators from the initial network, comma-separated */
    char model[64];               /* path of its model file relative to OUT, "" if not saved */
    int trained, diverged, epochs, best_epoch;
    double val_loss, val_acc;
    double test_loss, test_acc;
    int has_test;
    double density, accept_prob;  /* as a child of its generation */
    int accepted;
    double seconds, img_per_s;    /* timing of its training */
} member_t;

/* Progress callbacks (any may be NULL), called with a lock held so they
 * never run concurrently. */
typedef struct {
    void *ctx;
    /* training of one network starts: which of how many this generation */
    void (*child_start)(void *ctx, int gen, const member_t *m, int index, int count);
    /* every few batches of an epoch */
    void (*batch)(void *ctx, const member_t *m, int epoch, int epochs, int batch, int n_batches, double img_per_s);
    void (*epoch_done)(void *ctx, const member_t *m, int epoch, int epochs, double loss, double val_loss,
                       double val_acc, double seconds, double img_per_s);
    /* a generation is complete and on disk */
    void (*generation_done)(void *ctx, int gen, const member_t *const *front, int n, double hv, double hv_prev,
                            int n_children, int n_accepted);
    /* the search finished; front with test results */
    void (*finished)(void *ctx, const member_t *const *front, int n, const char *out_dir);
} search_events_t;

enum { SEARCH_OK = 0, SEARCH_FAILED = -1, SEARCH_STOPPED = 1 };

/* Run (or resume) a search. Returns SEARCH_OK, SEARCH_STOPPED when *stop
 * was raised (the last complete generation is on disk), or SEARCH_FAILED
 * with err set. */
int search_run(const search_opts_t *o, const search_events_t *ev, err_t *err);

/* An MPI rank other than 0: train what rank 0's search_run hands out
 * (o->cluster, o->threads, o->jobs and o->stop are used; the rest comes
 * from rank 0) until it is done. Returns SEARCH_OK or SEARCH_FAILED. */
int search_worker(const search_opts_t *o, err_t *err);

#endif
