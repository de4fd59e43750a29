/* cluster.h - training a generation's networks on several MPI ranks.
 *
 * Rank 0 runs the search; the other ranks only train. When the search has
 * networks to train it puts them in a queue, largest first; rank 0's own
 * job threads take from it directly and every other rank asks for one
 * network per free job slot. A task carries the network (architecture
 * JSON + its inherited weights), the generation, its child index (which
 * labels its random stream) and the epochs; the result carries the trained
 * weights and the numbers the gen files record. Since a network's training
 * depends only on these and the options, the files do not depend on who
 * trained what: they equal a single-process run's once "timing" is deleted.
 *
 * Messages (all little-endian; see cluster.c):
 *   magic "LEMNMSG1", u32 kind, u32 payload bytes, payload, u32 CRC-32
 *   (zlib) of every byte before it.
 *   SETUP  payload: u32 batch, f64 lr, u64 seed, u32 train_limit,
 *          u32 val_limit, string data_dir, string kernels
 *   TASK   payload: u32 slot, u32 gen, u32 index, u32 epochs, string id,
 *          string arch JSON (model_arch_json), blob weights (weights_encode)
 *   RESULT payload: u32 slot, i32 status, string error, u32 trained,
 *          u32 diverged, u32 epochs, u32 best_epoch, f64 val_loss, val_acc,
 *          seconds, img_per_s, blob weights
 *   (string = u32 length + bytes, blob = u64 length + bytes)
 * The encoders and decoders need no MPI: they are built and tested in
 * every build. Decoders reject truncated, corrupt or trailing data.
 *
 * The transport (cluster_mpi.c) is compiled with MPI only when built with
 * `make MPI=1` (-DLEMONADE_MPI); otherwise cluster_open() says "one
 * process" and the search trains everything itself. */
#ifndef LEMONADE_CLUSTER_H
#define LEMONADE_CLUSTER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "search.h"

/* ------------------------------------------------------------ messages */

enum { CLUSTER_MSG_SETUP = 1, CLUSTER_MSG_TASK = 2, CLUSTER_MSG_RESULT = 3 };

/* What a worker rank needs from the run's options to train like rank 0. */
typedef struct {
    int batch, train_limit, val_limit;
    double lr;
    uint64_t seed;
    char data_dir[4096];
    char kernels[32];   /* rank 0's kernel table: every rank must use the same */
} cluster_setup_t;

/* A network to train: slot is its place in rank 0's queue. */
typedef struct {
    int slot, gen, index, epochs;
    char id[32];
} cluster_task_t;

/* How training went: status is SEARCH_OK, SEARCH_STOPPED or SEARCH_FAILED
 * (with error); the other fields are member_t's. */
typedef struct {
    int slot, status;
    char error[1024];
} cluster_result_t;

/* Each encoder returns 0 and a malloc'ed *buf of *len bytes, or -1 with err
 * set (out of memory). Each decoder returns 0, or -1 with err set when the
 * message is truncated, corrupt, of another kind or inconsistent. */
int cluster_setup_encode(const cluster_setup_t *s, uint8_t **buf, size_t *len, err_t *err);
int cluster_setup_decode(const uint8_t *buf, size_t len, cluster_setup_t *s, err_t *err);

/* The task for m: its architecture and current (inherited) weights. */
int cluster_task_encode(const cluster_task_t *t, const member_t *m, uint8_t **buf, size_t *len, err_t *err);
/* Fills t and builds m->net (the caller frees it with net_free); m->id
 * is set, all else zeroed. */
int cluster_task_decode(const uint8_t *buf, size_t len, cluster_task_t *t, member_t *m, err_t *err);

/* The result for m: its training numbers and trained weights (weights
 * only when r->status is SEARCH_OK). */
int cluster_result_encode(const cluster_result_t *r, const member_t *m, uint8_t **buf, size_t *len, err_t *err);
/* Read just the slot and status, to find the member the result is for. */
int cluster_result_peek(const uint8_t *buf, size_t len, cluster_result_t *r, err_t *err);
/* Fill r and, when r->status is SEARCH_OK, m's training fields and
 * weights (m->net must have the task's architecture). m is left
 * unchanged when this fails. */
int cluster_result_decode(const uint8_t *buf, size_t len, cluster_result_t *r, member_t *m, err_t *err);

/* ----------------------------------------------------------- transport */

typedef struct cluster cluster_t;

/* Trains m (gen, index, epochs as in cluster_task_t) in the calling thread,
 * with threads of its own; returns SEARCH_OK, SEARCH_STOPPED or
 * SEARCH_FAILED with err set. */
typedef int (*cluster_train_fn)(void *ctx, member_t *m, int gen, int index, int epochs, err_t *err);

/* Join the MPI job (MPI_Init_thread, MPI_THREAD_FUNNELED: only the
 * calling thread ever calls MPI). *c is NULL in a default build (no MPI);
 * with cluster_size() == 1 the caller works alone. Returns -1 with err set
 * if MPI fails to start. */
int cluster_open(cluster_t **c, err_t *err);
int cluster_rank(const cluster_t *c);   /* 0 for NULL */
int cluster_size(const cluster_t *c);   /* 1 for NULL */
/* Rank 0: send the workers their setup (once, before cluster_train). */
int cluster_start(cluster_t *c, const cluster_setup_t *s, err_t *err);
/* Leave the job. On rank 0 this first tells the workers to finish; when
 * failed is set (an error or a stop) it ends every rank (MPI_Abort) so
 * that none waits for a message that will not come. NULL is a no-op. */
void cluster_close(cluster_t *c, int failed);

/* Rank 0: train list[0..n) (ordered as they should be handed out, largest
 * first), whose streams are labelled index_of[], on all ranks. Rank 0
 * trains `local_jobs` at a time itself through `train`. load[r] (K
 * entries, zeroed by the caller) gains each rank's training seconds and
 * children. start (may be NULL) is called when a network is handed out,
 * from the calling thread or one of the local job threads. Returns SEARCH_OK, SEARCH_STOPPED (*stop raised,
 * or a worker stopped) or SEARCH_FAILED with err set (training failed, a
 * rank died or a message was lost, or a rank holding a network was silent
 * for $LEMONADE_MPI_TIMEOUT seconds, default 60). */
int cluster_train(cluster_t *c, member_t **list, const int *index_of, int n, int gen, int epochs,
                  cluster_train_fn train, void *ctx, int local_jobs, volatile sig_atomic_t *stop,
                  void (*start)(void *ctx, int gen, const member_t *m, int i, int n), rank_load_t *load,
                  err_t *err);

/* Ranks > 0: receive the setup, then call ready(ctx, setup) (load the
 * data; returns 0 or -1 with err set), then train what rank 0 sends, `jobs`
 * at a time, until rank 0 says done. *stop is raised to cancel training
 * when rank 0 is gone. Returns 0 when done, -1 with err set on failure. */
int cluster_serve(cluster_t *c, int jobs, int (*ready)(void *ctx, const cluster_setup_t *s, err_t *err),
                  cluster_train_fn train, void *ctx, volatile sig_atomic_t *stop, err_t *err);

#endif
