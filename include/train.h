/* train.h - the training engine: forward, backward and Adam over a net_t.
 *
 * A trainer owns every buffer a network needs to train on batches of up to
 * max_batch images: activations and their gradients per node, the
 * parameter gradients, Adam's moments and the per-chunk partial sums. All of
 * it is sized once in trainer_init (one arena), so a training step allocates
 * nothing. The net's params/state are updated in place.
 *
 * A batch is cut into chunks of CHUNK_IMAGES images that the pool's threads
 * process; reductions over images are summed per chunk and then in chunk
 * order, so results are bit-identical for any thread count. */
#ifndef LEMONADE_TRAIN_H
#define LEMONADE_TRAIN_H

#include <stdint.h>
#include "dataset.h"
#include "error.h"
#include "kernels.h"
#include "net.h"
#include "pool.h"
#include "rng.h"

typedef struct {
    float lr;         /* Adam learning rate (Keras default 1e-3) */
    float beta1, beta2, eps;
    float bn_momentum, bn_eps;
} hyper_t;

/* Keras defaults: Adam(1e-3, 0.9, 0.999, 1e-7), BN momentum 0.99, eps 1e-3. */
hyper_t hyper_default(void);

/* Time spent per layer kind, accumulated over steps when timing is on. */
enum { T_CONV_FWD, T_CONV_BWD_DATA, T_CONV_BWD_WEIGHTS, T_BN, T_RELU_ADD, T_DENSE, T_ADAM, T_KINDS };
extern const char *const timing_kind_names[T_KINDS];

typedef struct trainer trainer_t;

/* pool may be shared by several trainers used one at a time; kernels NULL
 * means kernels_best(). */
trainer_t *trainer_create(net_t *net, int max_batch, pool_t *pool, const kernels_t *k,
                          hyper_t hp, err_t *err);
void trainer_destroy(trainer_t *t);

/* Reset Adam's moments and step count (a fresh optimiser). */
void trainer_reset_optimizer(trainer_t *t);

/* One training step on N <= max_batch images x (N,784) with labels y:
 * forward in training mode, backward, Adam update. Returns the batch's mean
 * loss; *correct gets the number of correct predictions. */
float trainer_step(trainer_t *t, const float *x, const uint8_t *y, int N, int *correct);

/* Forward only. training=0 uses BN running statistics (inference);
 * training=1 uses batch statistics without updating anything. Writes
 * logits (N,10) if logits != NULL, per-image losses if loss != NULL (needs
 * y). Returns a pointer to the trainer's logits buffer. */
const float *trainer_forward(trainer_t *t, const float *x, const uint8_t *y, int N, int training,
                             float *loss);

/* Gradient of the mean loss over a batch w.r.t. the params (training-mode
 * forward, no update and no BN running-stat update); for gradient checks.
 * Returns the gradient buffer (n_params floats) and the loss in *loss. If
 * dinput is not NULL it receives d(loss)/d(input) (N,784). */
const float *trainer_gradient(trainer_t *t, const float *x, const uint8_t *y, int N, float *loss,
                              float *dinput);

/* Activations of node i for the last forward (N,28,28,C). */
const float *trainer_activation(const trainer_t *t, int node);

/* Per-kind timing (milliseconds, summed since the last reset). */
void trainer_timing(const trainer_t *t, double ms[T_KINDS]);
void trainer_timing_enable(trainer_t *t, int on);

/* ---- epochs ---- */

typedef struct {
    double loss, acc;   /* means over the images seen */
    long images;
} epoch_stats_t;

/* Called after every batch; return non-zero to stop the epoch early. */
typedef int (*batch_cb)(void *ctx, int batch, int n_batches, long images);

/* One epoch over split in a shuffled order drawn from rng, in batches of
 * max_batch. Returns 0, or 1 if the callback stopped it (stats then cover
 * the batches done). */
int train_epoch(trainer_t *t, const split_t *s, rng_t *rng, epoch_stats_t *st, batch_cb cb, void *ctx);

/* Inference-mode loss and accuracy over a whole split. */
void evaluate(trainer_t *t, const split_t *s, epoch_stats_t *st);

#endif
